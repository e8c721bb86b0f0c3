import { useEffect, useInsertionEffect, useMemo, useState } from 'react';
import { createSupportApi } from './api';
import type { FetchLike, SubmitResponse } from './api';
import { ContactForm } from './ContactForm';
import { LookupForm } from './LookupForm';
import { StatusView } from './StatusView';
import { ensureStyles } from './styles';
import { ticketIdFromHash } from './ticketId';
import { EMPTY_VALUES } from './validation';
import type { FormValues } from './validation';

export interface SupportFormProps {
  /** Base URL of the support gateway, for example "https://support-api.example". */
  apiBase: string;
  /** Open the status view for this ticket instead of the contact form. */
  initialTicketId?: string;
  /** Read `#ticket=<id>` from the page URL (on load and when it changes). Default true. */
  readHash?: boolean;
  /** Write `#ticket=<id>` into the page URL (history.replaceState) when a ticket opens. Default true. */
  syncHash?: boolean;
  /** Add the form's stylesheet to the document. Default true. */
  injectStyles?: boolean;
  /** Nonce for the injected <style> element, for pages with a Content-Security-Policy. */
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
  | { mode: 'status'; ticketId: string; submission?: SubmitResponse; focus: boolean };

function currentHash(): string {
  return typeof window === 'undefined' ? '' : window.location.hash;
}

function initialView(initialTicketId: string | undefined, readHash: boolean): View {
  const fromHash = readHash ? ticketIdFromHash(currentHash()) : null;
  const ticketId = initialTicketId || fromHash;
  return ticketId ? { mode: 'status', ticketId, focus: false } : { mode: 'form' };
}

function writeHash(ticketId: string | null) {
  if (typeof window === 'undefined' || !window.history?.replaceState) return;
  const { pathname, search, hash } = window.location;
  if (ticketId) {
    if (ticketIdFromHash(hash) === ticketId) return;
    window.history.replaceState(window.history.state, '', `${pathname}${search}#ticket=${ticketId}`);
  } else if (ticketIdFromHash(hash)) {
    window.history.replaceState(window.history.state, '', `${pathname}${search}`);
  }
}

/** The Orbitask support form: contact form, ticket lookup and ticket status view. */
export function SupportForm({
  apiBase,
  initialTicketId,
  readHash = true,
  syncHash = true,
  injectStyles = true,
  nonce,
  className,
  onSubmitted,
  fetch: fetchImpl,
}: SupportFormProps) {
  useInsertionEffect(() => {
    if (injectStyles) ensureStyles(document, nonce);
  }, [injectStyles, nonce]);

  const api = useMemo(() => createSupportApi(apiBase, fetchImpl), [apiBase, fetchImpl]);
  const [view, setView] = useState<View>(() => initialView(initialTicketId, readHash));
  // Kept here so switching views never loses what the user typed.
  const [values, setValues] = useState<FormValues>(EMPTY_VALUES);

  useEffect(() => {
    if (!readHash) return;
    const onHashChange = () => {
      const ticketId = ticketIdFromHash(window.location.hash);
      if (!ticketId) return;
      setView((prev) =>
        prev.mode === 'status' && prev.ticketId === ticketId ? prev : { mode: 'status', ticketId, focus: true },
      );
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [readHash]);

  const statusTicketId = view.mode === 'status' ? view.ticketId : null;
  useEffect(() => {
    if (syncHash) writeHash(statusTicketId);
  }, [syncHash, statusTicketId]);

  let content;
  if (view.mode === 'status') {
    content = (
      <StatusView
        key={view.ticketId}
        api={api}
        ticketId={view.ticketId}
        submission={view.submission}
        focusOnOpen={view.focus}
        onNewRequest={() => setView({ mode: 'form' })}
        onCheckAnother={() => setView({ mode: 'lookup' })}
      />
    );
  } else if (view.mode === 'lookup') {
    content = (
      <LookupForm
        onLookup={(ticketId) => setView({ mode: 'status', ticketId, focus: true })}
        onBack={() => setView({ mode: 'form' })}
      />
    );
  } else {
    content = (
      <ContactForm
        api={api}
        values={values}
        onValuesChange={setValues}
        onSubmitted={(response) => {
          setValues(EMPTY_VALUES);
          setView({ mode: 'status', ticketId: response.ticket_id, submission: response, focus: true });
          onSubmitted?.(response);
        }}
        onCheckTicket={() => setView({ mode: 'lookup' })}
      />
    );
  }

  return (
    <div className={className ? `fte-sf ${className}` : 'fte-sf'} data-view={view.mode}>
      {content}
    </div>
  );
}
