import { useEffect, useId, useRef, useState } from 'react';
import { ApiError } from './api';
import type { SubmitResponse, SupportApi, Ticket } from './api';
import { channelLabel, formatTimestamp, roleLabel, statusLabel } from './labels';
import { NOT_FOUND_GRACE_MS, nextErrorDelay, nextPollDelay } from './polling';

export interface StatusViewProps {
  api: SupportApi;
  ticketId: string;
  /** Present right after a successful submission: shows the confirmation panel. */
  submission?: SubmitResponse;
  /** Move focus to the view's heading when it opens (only for views the user asked for). */
  focusOnOpen: boolean;
  onNewRequest: () => void;
  onCheckAnother: () => void;
}

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection-based copy below.
  }
  try {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.left = '-10000px';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  } catch {
    return false;
  }
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 4000);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <>
      <button
        type="button"
        className="fte-sf-button fte-sf-button--small"
        onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}
        aria-label={label}
      >
        Copy
      </button>
      <span className="fte-sf-copy-status" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select the ID and copy it.' : ''}
      </span>
    </>
  );
}

export function StatusView({ api, ticketId, submission, focusOnOpen, onNewRequest, onCheckAnother }: StatusViewProps) {
  const uid = useId();
  const headingRef = useRef<HTMLHeadingElement | null>(null);
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [refreshError, setRefreshError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [refreshNonce, setRefreshNonce] = useState(0);

  // The parent renders one StatusView per ticket (keyed by its ID), so this runs once per ticket.
  const focusOnOpenRef = useRef(focusOnOpen);
  useEffect(() => {
    if (focusOnOpenRef.current) headingRef.current?.focus();
  }, []);

  // Poll the ticket: every 3 s, backing off to 10 s while nothing changes, 30 s while
  // escalated, and not at all once resolved. "Check for updates" restarts the cycle.
  useEffect(() => {
    const controller = new AbortController();
    const startedAt = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay: number | null = null;
    let lastKey = '';

    async function tick() {
      try {
        const next = await api.getTicket(ticketId, controller.signal);
        if (controller.signal.aborted) return;
        const key = `${next.status}|${next.messages.length}|${next.last_updated}`;
        const changed = key !== lastKey;
        lastKey = key;
        setTicket(next);
        setRefreshError(null);
        setNotFound(false);
        delay = nextPollDelay(delay, next.status, changed);
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) {
          // A ticket that was just created may take a moment to become visible.
          if (submission && Date.now() - startedAt < NOT_FOUND_GRACE_MS) {
            delay = nextErrorDelay(delay);
          } else {
            setNotFound(true);
            return;
          }
        } else {
          setRefreshError(
            error instanceof ApiError && error.status !== 0
              ? `We could not refresh this ticket: ${error.message} We will try again shortly.`
              : 'We could not refresh this ticket. We will try again shortly.',
          );
          delay = nextErrorDelay(delay);
        }
      }
      if (delay !== null && !controller.signal.aborted) timer = setTimeout(tick, delay);
    }

    void tick();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, ticketId, submission, refreshNonce]);

  const status = ticket?.status;
  const hasAgentReply = ticket?.messages.some((m) => m.role === 'agent') ?? false;

  return (
    <div className="fte-sf-status-view">
      {submission && (
        <section className="fte-sf-success" aria-labelledby={`${uid}-success`}>
          <h2 id={`${uid}-success`} className="fte-sf-title" ref={headingRef} tabIndex={-1}>
            Thank you. We have received your request.
          </h2>
          {submission.message && <p>{submission.message}</p>}
          <dl className="fte-sf-facts">
            <div className="fte-sf-fact">
              <dt>Ticket ID</dt>
              <dd>
                <code className="fte-sf-ticket-id" data-testid="ticket-id">
                  {submission.ticket_id}
                </code>{' '}
                <CopyButton text={submission.ticket_id} label="Copy ticket ID" />
              </dd>
            </div>
            {submission.estimated_response_time && (
              <div className="fte-sf-fact">
                <dt>Estimated response time</dt>
                <dd>{submission.estimated_response_time}</dd>
              </div>
            )}
          </dl>
          <p className="fte-sf-hint">Keep the ticket ID. You can use it to check this request later.</p>
        </section>
      )}

      <section className="fte-sf-ticket" aria-labelledby={`${uid}-ticket`}>
        {submission ? (
          <h3 id={`${uid}-ticket`} className="fte-sf-subtitle">
            Your conversation
          </h3>
        ) : (
          <h2 id={`${uid}-ticket`} className="fte-sf-title" ref={headingRef} tabIndex={-1}>
            Your ticket
          </h2>
        )}

        {!submission && (
          <p className="fte-sf-ticket-line">
            Ticket ID <code className="fte-sf-ticket-id" data-testid="ticket-id">{ticketId}</code>{' '}
            <CopyButton text={ticketId} label="Copy ticket ID" />
          </p>
        )}

        {notFound ? (
          <div className="fte-sf-alert fte-sf-alert--error" role="alert">
            <p className="fte-sf-alert-title">We could not find a ticket with this ID.</p>
            <p className="fte-sf-alert-detail">Check the ID in your confirmation and try again.</p>
          </div>
        ) : (
          <>
            <div className="fte-sf-status-line" role="status">
              {status ? (
                <>
                  <span className="fte-sf-status-caption">Status</span>{' '}
                  <span className={`fte-sf-badge fte-sf-badge--${status}`} data-status={status}>
                    {statusLabel(status)}
                  </span>
                </>
              ) : (
                <span className="fte-sf-muted">Loading the ticket…</span>
              )}
            </div>
            {ticket && status === 'escalated' && (
              <p className="fte-sf-note">
                A member of our team is looking at your request. We will reply here and by email.
              </p>
            )}
            {ticket && status === 'resolved' && (
              <p className="fte-sf-note">
                This ticket is resolved. If you need more help, send a new request.
              </p>
            )}
            {ticket && !hasAgentReply && (status === 'open' || status === 'processing') && (
              <p className="fte-sf-note">We are preparing a reply. This page updates by itself.</p>
            )}

            {refreshError && (
              <div className="fte-sf-alert fte-sf-alert--warning" role="alert">
                <p className="fte-sf-alert-title">{refreshError}</p>
              </div>
            )}

            <ol className="fte-sf-conversation" role="log" aria-live="polite" aria-label="Conversation">
              {ticket?.messages.map((m, index) => (
                <li
                  key={`${m.created_at}-${index}`}
                  className={`fte-sf-message fte-sf-message--${m.role}`}
                  data-role={m.role}
                >
                  <p className="fte-sf-message-meta">
                    <span className="fte-sf-message-role">{roleLabel(m.role)}</span>
                    <span className="fte-sf-message-channel"> via {channelLabel(m.channel)}</span>
                    <span aria-hidden="true"> · </span>
                    <time dateTime={m.created_at}>{formatTimestamp(m.created_at)}</time>
                  </p>
                  <div className="fte-sf-message-body">{m.content}</div>
                </li>
              ))}
            </ol>
            {ticket && (
              <p className="fte-sf-muted fte-sf-updated">
                Last updated <time dateTime={ticket.last_updated}>{formatTimestamp(ticket.last_updated)}</time>
              </p>
            )}
          </>
        )}
      </section>

      <div className="fte-sf-actions">
        {!notFound && (
          <button
            type="button"
            className="fte-sf-button"
            onClick={() => {
              setRefreshError(null);
              setRefreshNonce((n) => n + 1);
            }}
          >
            Check for updates
          </button>
        )}
        <button type="button" className="fte-sf-button fte-sf-button--link" onClick={onNewRequest}>
          Send a new request
        </button>
        <button type="button" className="fte-sf-button fte-sf-button--link" onClick={onCheckAnother}>
          Check another ticket
        </button>
      </div>
    </div>
  );
}
