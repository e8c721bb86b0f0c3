import { useCallback, useEffect, useInsertionEffect, useMemo, useState } from 'react';
import { createSupportApi } from './api';
import type { ChallengeConfig, FetchLike, SubmitResponse } from './api';
import { ContactForm } from './ContactForm';
import { messagesFor, resolveLocale } from './i18n';
import { LookupForm } from './LookupForm';
import { StatusView } from './StatusView';
import { ensureStyles } from './styles';
import { rememberKey, rememberedKey, ticketHash, ticketLinkFromHash } from './ticketId';
import type { TicketLink } from './ticketId';
import { EMPTY_VALUES } from './validation';
import type { FormValues } from './validation';

export type Theme = 'auto' | 'light' | 'dark';

export interface SupportFormProps {
  /** Base URL of the support gateway, for example "https://support-api.example". */
  apiBase: string;
  /** Open the status view for this ticket instead of the contact form. */
  initialTicketId?: string;
  /** The key that opens `initialTicketId`'s thread. */
  initialAccessKey?: string;
  /** Read `#ticket=<id>&key=<key>` from the page URL (on load and when it changes). Default true. */
  readHash?: boolean;
  /** Write `#ticket=<id>&key=<key>` into the page URL (history.replaceState) when a ticket opens. Default true. */
  syncHash?: boolean;
  /** Language of the form: en, es, pt, de or fr (a BCP 47 tag such as "pt-BR" works too). Default: the browser's. */
  locale?: string;
  /** `auto` (default) follows the reader's light or dark setting; `light` or `dark` fixes it. */
  theme?: Theme;
  /** The embedding site's identity-verification token for `email` (HMAC-SHA256, hex; see the README). */
  identityToken?: string;
  /** The signed-in customer's email: fills the field (read-only when `identityToken` is set). */
  email?: string;
  /** The signed-in customer's name: fills the field. */
  name?: string;
  /** Add the form's stylesheet to the document. Default true. */
  injectStyles?: boolean;
  /** Nonce for the injected <style> and challenge <script> elements (Content-Security-Policy). */
  nonce?: string;
  /** Extra class name on the root element. */
  className?: string;
  /** Called after the gateway accepted a request. */
  onSubmitted?: (response: SubmitResponse) => void;
  /** Replaces window.fetch (tests, custom transports). */
  fetch?: FetchLike;
}

type View =
  | { mode: 'form' }
  | { mode: 'lookup' }
  | { mode: 'status'; link: TicketLink; submission?: SubmitResponse; focus: boolean };

function currentHash(): string {
  return typeof window === 'undefined' ? '' : window.location.hash;
}

/** The link with the key this browser remembers when it has none. */
function withRememberedKey(link: TicketLink): TicketLink {
  return link.accessKey ? link : { ...link, accessKey: rememberedKey(link.ticketId) };
}

function initialView(props: SupportFormProps, readHash: boolean): View {
  if (props.initialTicketId) {
    const link = withRememberedKey({ ticketId: props.initialTicketId, accessKey: props.initialAccessKey ?? null });
    return { mode: 'status', link, focus: false };
  }
  const fromHash = readHash ? ticketLinkFromHash(currentHash()) : null;
  return fromHash ? { mode: 'status', link: withRememberedKey(fromHash), focus: false } : { mode: 'form' };
}

function writeHash(link: TicketLink | null) {
  if (typeof window === 'undefined' || !window.history?.replaceState) return;
  const { pathname, search, hash } = window.location;
  if (link) {
    const wanted = ticketHash(link);
    if (hash === wanted) return;
    window.history.replaceState(window.history.state, '', `${pathname}${search}${wanted}`);
  } else if (ticketLinkFromHash(hash)) {
    window.history.replaceState(window.history.state, '', `${pathname}${search}`);
  }
}

function initialValues(email?: string, name?: string): FormValues {
  return { ...EMPTY_VALUES, email: email ?? '', name: name ?? '' };
}

/** The Orbitask support form: contact form, ticket lookup and the ticket's conversation. */
export function SupportForm(props: SupportFormProps) {
  const {
    apiBase,
    readHash = true,
    syncHash = true,
    locale,
    theme = 'auto',
    identityToken,
    email,
    name,
    injectStyles = true,
    nonce,
    className,
    onSubmitted,
    fetch: fetchImpl,
  } = props;
  useInsertionEffect(() => {
    if (injectStyles) ensureStyles(document, nonce);
  }, [injectStyles, nonce]);

  const api = useMemo(() => createSupportApi(apiBase, fetchImpl), [apiBase, fetchImpl]);
  const { language, dateLocale } = useMemo(() => resolveLocale(locale), [locale]);
  const messages = messagesFor(language);
  const [view, setView] = useState<View>(() => initialView(props, readHash));
  // Kept here so switching views never loses what the user typed.
  const [values, setValues] = useState<FormValues>(() => initialValues(email, name));
  const [challenge, setChallenge] = useState<ChallengeConfig | null>(null);
  const [configNonce, setConfigNonce] = useState(0);

  // The gateway says whether a bot challenge is required. Without an answer the form works
  // without one; a refused submission asks again.
  const onForm = view.mode === 'form';
  useEffect(() => {
    if (!onForm) return;
    const controller = new AbortController();
    api.getConfig(controller.signal).then(
      (config) => {
        if (!controller.signal.aborted) setChallenge(config.challenge);
      },
      () => {},
    );
    return () => controller.abort();
  }, [api, onForm, configNonce]);

  useEffect(() => {
    if (!readHash) return;
    const onHashChange = () => {
      const link = ticketLinkFromHash(window.location.hash);
      if (!link) return;
      setView((prev) =>
        prev.mode === 'status' && prev.link.ticketId === link.ticketId && prev.link.accessKey === link.accessKey
          ? prev
          : { mode: 'status', link: withRememberedKey(link), focus: true },
      );
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [readHash]);

  const statusLink = view.mode === 'status' ? view.link : null;
  const hashTicket = statusLink?.ticketId ?? null;
  const hashKey = statusLink?.accessKey ?? null;
  useEffect(() => {
    if (syncHash) writeHash(hashTicket ? { ticketId: hashTicket, accessKey: hashKey } : null);
  }, [syncHash, hashTicket, hashKey]);

  const openForm = useCallback(() => setView({ mode: 'form' }), []);

  let content;
  if (view.mode === 'status') {
    content = (
      <StatusView
        key={`${view.link.ticketId}|${view.link.accessKey ?? ''}`}
        api={api}
        messages={messages}
        language={language}
        dateLocale={dateLocale}
        ticketId={view.link.ticketId}
        accessKey={view.link.accessKey}
        submission={view.submission}
        focusOnOpen={view.focus}
        onNewRequest={openForm}
        onCheckAnother={() => setView({ mode: 'lookup' })}
      />
    );
  } else if (view.mode === 'lookup') {
    content = (
      <LookupForm
        messages={messages}
        onLookup={(link) => setView({ mode: 'status', link: withRememberedKey(link), focus: true })}
        onBack={openForm}
      />
    );
  } else {
    content = (
      <ContactForm
        api={api}
        messages={messages}
        language={language}
        theme={theme}
        nonce={nonce}
        values={values}
        onValuesChange={setValues}
        challenge={challenge}
        onChallengeRefused={() => setConfigNonce((n) => n + 1)}
        identityToken={identityToken}
        lockedEmail={identityToken ? email : undefined}
        onSubmitted={(response) => {
          const link = { ticketId: response.ticket_id, accessKey: response.access_key || null };
          rememberKey(link);
          setValues(initialValues(email, name));
          setView({ mode: 'status', link, submission: response, focus: true });
          onSubmitted?.(response);
        }}
        onCheckTicket={() => setView({ mode: 'lookup' })}
      />
    );
  }

  return (
    <div
      className={className ? `fte-sf ${className}` : 'fte-sf'}
      data-view={view.mode}
      data-theme={theme}
      lang={language}
    >
      {content}
    </div>
  );
}
