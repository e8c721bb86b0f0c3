import { useEffect, useRef, useState } from 'react';
import type { ChallengeConfig } from './api';
import type { Messages } from './i18n';

/**
 * The bot challenge the gateway asks for (`GET /support/config`): Cloudflare Turnstile or
 * hCaptcha, rendered explicitly into our own element. Both providers' scripts define the same
 * small API (`render`, `reset`, `remove`) on `window.turnstile` / `window.hcaptcha`. The
 * script is loaded once per page, with the form's CSP nonce; the host page must allow the
 * provider's origin in `script-src` and `frame-src`.
 */

interface ProviderApi {
  render(element: HTMLElement, options: Record<string, unknown>): string | number;
  reset(id?: string | number): void;
  remove?(id: string | number): void;
}

type ProviderWindow = Window & { turnstile?: ProviderApi; hcaptcha?: ProviderApi };

const loading = new Map<string, Promise<ProviderApi>>();

function providerApi(config: ChallengeConfig): ProviderApi | undefined {
  const w = window as ProviderWindow;
  return config.provider === 'turnstile' ? w.turnstile : w.hcaptcha;
}

/** Loads the provider's script once and resolves to its API. */
export function loadChallenge(config: ChallengeConfig, nonce?: string): Promise<ProviderApi> {
  const ready = providerApi(config);
  if (ready) return Promise.resolve(ready);
  let pending = loading.get(config.script_url);
  if (!pending) {
    pending = new Promise<ProviderApi>((resolve, reject) => {
      const script = document.createElement('script');
      script.src = config.script_url;
      script.async = true;
      if (nonce) script.nonce = nonce;
      script.addEventListener('load', () => {
        const api = providerApi(config);
        if (api) resolve(api);
        else reject(new Error('the challenge script defined no API'));
      });
      script.addEventListener('error', () => reject(new Error('the challenge script did not load')));
      document.head.appendChild(script);
    });
    pending.catch(() => loading.delete(config.script_url));
    loading.set(config.script_url, pending);
  }
  return pending;
}

export interface ChallengeProps {
  config: ChallengeConfig;
  messages: Messages;
  language: string;
  /** `dark` or `light` when the form has a fixed theme, else the provider follows the page. */
  theme: 'auto' | 'light' | 'dark';
  nonce?: string;
  /** Called with the token once solved, and with null when it expires or fails. */
  onToken: (token: string | null) => void;
  /** Changing it resets the challenge (after a refused or spent token). */
  resetCount: number;
  /** Shown under the challenge (the form asks to complete it). */
  errorId?: string;
  error?: string;
}

export function Challenge({ config, messages, language, theme, nonce, onToken, resetCount, errorId, error }: ChallengeProps) {
  const slot = useRef<HTMLDivElement | null>(null);
  const widget = useRef<{ api: ProviderApi; id: string | number } | null>(null);
  const tokenRef = useRef(onToken);
  tokenRef.current = onToken;
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  useEffect(() => {
    let cancelled = false;
    setState('loading');
    loadChallenge(config, nonce).then(
      (api) => {
        if (cancelled || !slot.current) return;
        const options: Record<string, unknown> = {
          sitekey: config.site_key,
          theme: theme === 'auto' ? 'auto' : theme,
          callback: (token: string) => tokenRef.current(token),
          'expired-callback': () => tokenRef.current(null),
          'error-callback': () => {
            tokenRef.current(null);
            setState('failed');
          },
        };
        if (config.provider === 'turnstile') options.language = language;
        else options.hl = language;
        widget.current = { api, id: api.render(slot.current, options) };
        setState('ready');
      },
      () => {
        if (!cancelled) setState('failed');
      },
    );
    return () => {
      cancelled = true;
      const current = widget.current;
      widget.current = null;
      if (current) current.api.remove?.(current.id);
    };
  }, [config, nonce, theme, language]);

  useEffect(() => {
    if (resetCount === 0 || !widget.current) return;
    widget.current.api.reset(widget.current.id);
    tokenRef.current(null);
  }, [resetCount]);

  return (
    <div className="fte-sf-field fte-sf-field--wide fte-sf-challenge" role="group" aria-label={messages.challenge.label}>
      <div ref={slot} className="fte-sf-challenge-slot" data-provider={config.provider} />
      {state === 'loading' && <p className="fte-sf-hint">{messages.challenge.loading}</p>}
      {state === 'failed' && <p className="fte-sf-field-error">{messages.challenge.failed}</p>}
      {error && (
        <p id={errorId} className="fte-sf-field-error">
          {error}
        </p>
      )}
    </div>
  );
}
