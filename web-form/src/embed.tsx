import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { Root } from 'react-dom/client';
import { SupportForm } from './SupportForm';
import type { SupportFormProps } from './SupportForm';

/**
 * Entry point of the embeddable script (dist/fte-support-form.js).
 *
 *   <script src="https://support-api.example/widget/fte-support-form.js"
 *           data-api-base="https://support-api.example"></script>
 *   <div id="fte-support-form"></div>
 *
 * Data attributes on the script tag: data-api-base (default: the script's own origin),
 * data-target (CSS selector, default "#fte-support-form"), data-sync-hash ("false" keeps the
 * page URL unchanged), data-auto-mount ("false" to mount by hand with FteSupportForm.mount),
 * data-locale (en, es, pt, de or fr; default: the browser's), data-theme (auto, light or dark),
 * and for a signed-in customer data-email, data-name and data-identity-token (see the README).
 */

const DEFAULT_TARGET = '#fte-support-form';
const MOUNTED_ATTRIBUTE = 'data-fte-support-form-mounted';

// Read while the script runs: document.currentScript is null afterwards.
const script: HTMLScriptElement | null =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>('script[src*="fte-support-form"]');

function theme(value: string | undefined): SupportFormProps['theme'] {
  return value === 'light' || value === 'dark' ? value : 'auto';
}

/** The props the script tag's data attributes set. */
function scriptProps(): Partial<SupportFormProps> {
  const data = script?.dataset ?? {};
  const props: Partial<SupportFormProps> = {
    apiBase: defaultApiBase(),
    nonce: script?.nonce || undefined,
    syncHash: data.syncHash !== 'false',
    theme: theme(data.theme),
  };
  if (data.locale) props.locale = data.locale;
  if (data.identityToken) props.identityToken = data.identityToken;
  if (data.email) props.email = data.email;
  if (data.name) props.name = data.name;
  return props;
}

function defaultApiBase(): string {
  const attribute = script?.dataset.apiBase?.trim();
  if (attribute) return attribute;
  if (script?.src) return new URL(script.src, window.location.href).origin;
  return window.location.origin;
}

export type MountOptions = Partial<SupportFormProps>;

export interface MountedForm {
  unmount(): void;
}

/** Renders the form into an element (or the first element matching a selector). */
export function mount(target: Element | string = DEFAULT_TARGET, options: MountOptions = {}): MountedForm {
  const element = typeof target === 'string' ? document.querySelector(target) : target;
  if (!element) throw new Error(`fte-support-form: no element matches ${String(target)}`);
  const root: Root = createRoot(element);
  element.setAttribute(MOUNTED_ATTRIBUTE, '');
  const props = { ...scriptProps(), ...options } as SupportFormProps;
  root.render(
    <StrictMode>
      <SupportForm {...props} />
    </StrictMode>,
  );
  return {
    unmount() {
      root.unmount();
      element.removeAttribute(MOUNTED_ATTRIBUTE);
    },
  };
}

function autoMount() {
  const selector = script?.dataset.target?.trim() || DEFAULT_TARGET;
  const element = document.querySelector(selector);
  if (!element) {
    console.warn(`fte-support-form: add <div id="fte-support-form"></div> to the page (looked for ${selector}).`);
    return;
  }
  if (element.hasAttribute(MOUNTED_ATTRIBUTE)) return;
  mount(element);
}

if (script?.dataset.autoMount !== 'false') {
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', autoMount, { once: true });
  } else {
    autoMount();
  }
}
