import { useEffect, useId, useRef, useState } from 'react';
import { ApiError } from './api';
import type { SubmitResponse, SupportApi, Ticket } from './api';
import { CopyButton } from './CopyButton';
import { describeEstimate, formatTimestamp } from './i18n';
import type { Messages } from './i18n';
import { Markdown } from './markdown';
import { NOT_FOUND_GRACE_MS, nextErrorDelay, nextPollDelay } from './polling';
import { ReplyBox } from './ReplyBox';

export interface StatusViewProps {
  api: SupportApi;
  messages: Messages;
  language: string;
  dateLocale: string;
  ticketId: string;
  /** Opens the thread; without it the view shows the status only. */
  accessKey: string | null;
  /** Present right after a successful submission: shows the confirmation panel. */
  submission?: SubmitResponse;
  /** Move focus to the view's heading when it opens (only for views the user asked for). */
  focusOnOpen: boolean;
  onNewRequest: () => void;
  onCheckAnother: () => void;
}

export function StatusView({
  api,
  messages: t,
  language,
  dateLocale,
  ticketId,
  accessKey,
  submission,
  focusOnOpen,
  onNewRequest,
  onCheckAnother,
}: StatusViewProps) {
  const uid = useId();
  const headingRef = useRef<HTMLHeadingElement | null>(null);
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [refreshError, setRefreshError] = useState<string | null>(null);
  const [failure, setFailure] = useState<'not_found' | 'access_denied' | null>(null);
  const [refreshNonce, setRefreshNonce] = useState(0);

  // The parent renders one StatusView per ticket (keyed by its ID), so this runs once per ticket.
  const focusOnOpenRef = useRef(focusOnOpen);
  useEffect(() => {
    if (focusOnOpenRef.current) headingRef.current?.focus();
  }, []);

  // Poll the ticket: every 3 s, backing off to 10 s while nothing changes, 30 s while our team
  // has it, and not at all once resolved. "Check for updates" and a sent reply restart the cycle.
  useEffect(() => {
    const controller = new AbortController();
    const startedAt = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay: number | null = null;
    let lastKey = '';

    async function tick() {
      try {
        const next = await api.getTicket(ticketId, accessKey, controller.signal);
        if (controller.signal.aborted) return;
        const key = `${next.customer_status}|${next.messages.length}|${next.last_updated}`;
        const changed = key !== lastKey;
        lastKey = key;
        setTicket(next);
        setRefreshError(null);
        setFailure(null);
        delay = nextPollDelay(delay, next.customer_status, changed);
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) {
          // A ticket that was just created may take a moment to become visible.
          if (submission && Date.now() - startedAt < NOT_FOUND_GRACE_MS) {
            delay = nextErrorDelay(delay);
          } else {
            setFailure('not_found');
            return;
          }
        } else if (error instanceof ApiError && error.status === 403) {
          setFailure('access_denied');
          return;
        } else {
          const detail = error instanceof ApiError && error.status !== 0 && language === 'en' ? error.message : undefined;
          setRefreshError(t.status.refreshFailed(detail));
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
  }, [api, ticketId, accessKey, submission, refreshNonce, t, language]);

  const status = ticket?.customer_status;
  const estimate = submission?.estimate;
  const note = status ? t.status.notes[status] : undefined;

  return (
    <div className="fte-sf-status-view">
      {submission && (
        <section className="fte-sf-success" aria-labelledby={`${uid}-success`}>
          <h2 id={`${uid}-success`} className="fte-sf-title" ref={headingRef} tabIndex={-1}>
            {t.status.thanks}
          </h2>
          <p>{language === 'en' && submission.message ? submission.message : t.status.confirmation}</p>
          <dl className="fte-sf-facts">
            <div className="fte-sf-fact">
              <dt>{t.status.ticketId}</dt>
              <dd>
                <code className="fte-sf-ticket-id" data-testid="ticket-id">
                  {submission.ticket_id}
                </code>{' '}
                <CopyButton text={submission.ticket_id} messages={t} />
              </dd>
            </div>
            {(estimate || submission.estimated_response_time) && (
              <div className="fte-sf-fact">
                <dt>{t.status.estimateLabel}</dt>
                <dd data-testid="estimate">
                  {estimate ? describeEstimate(estimate, t, dateLocale) : submission.estimated_response_time}
                </dd>
              </div>
            )}
          </dl>
          <p className="fte-sf-hint">{t.status.keepLink}</p>
        </section>
      )}

      <section className="fte-sf-ticket" aria-labelledby={`${uid}-ticket`}>
        {submission ? (
          <h3 id={`${uid}-ticket`} className="fte-sf-subtitle">
            {t.status.yourConversation}
          </h3>
        ) : (
          <h2 id={`${uid}-ticket`} className="fte-sf-title" ref={headingRef} tabIndex={-1}>
            {t.status.yourTicket}
          </h2>
        )}

        {!submission && (
          <p className="fte-sf-ticket-line">
            {t.status.ticketId} <code className="fte-sf-ticket-id" data-testid="ticket-id">{ticketId}</code>{' '}
            <CopyButton text={ticketId} messages={t} />
          </p>
        )}

        {failure ? (
          <div className="fte-sf-alert fte-sf-alert--error" role="alert">
            <p className="fte-sf-alert-title">{failure === 'not_found' ? t.status.notFound : t.status.accessDenied}</p>
            {failure === 'not_found' && <p className="fte-sf-alert-detail">{t.status.notFoundDetail}</p>}
          </div>
        ) : (
          <>
            <div className="fte-sf-status-line" role="status">
              {status ? (
                <>
                  <span className="fte-sf-status-caption">{t.status.caption}</span>{' '}
                  <span className={`fte-sf-badge fte-sf-badge--${status}`} data-status={status}>
                    {t.status.labels[status]}
                  </span>
                </>
              ) : (
                <span className="fte-sf-muted">{t.status.loading}</span>
              )}
            </div>
            {note && <p className="fte-sf-note">{note}</p>}
            {ticket?.estimate && (!submission || ticket.estimate.kind !== 'bot') && (
              <p className="fte-sf-note" data-testid="status-estimate">
                {describeEstimate(ticket.estimate, t, dateLocale)}
              </p>
            )}
            {ticket?.access === 'status' && <p className="fte-sf-note">{t.status.statusOnly}</p>}

            {refreshError && (
              <div className="fte-sf-alert fte-sf-alert--warning" role="alert">
                <p className="fte-sf-alert-title">{refreshError}</p>
              </div>
            )}

            <div role="log" aria-live="polite" aria-label={t.status.conversation}>
              <ol className="fte-sf-conversation">
                {ticket?.messages.map((m, index) => (
                  <li key={m.id ?? `${m.created_at}-${index}`} className={`fte-sf-message fte-sf-message--${m.role}`} data-role={m.role}>
                    <p className="fte-sf-message-meta">
                      <span className="fte-sf-message-role">{t.status.roles[m.role] ?? m.role}</span>
                      <span aria-hidden="true"> · </span>
                      <time dateTime={m.created_at}>{formatTimestamp(m.created_at, dateLocale)}</time>
                    </p>
                    <div className={m.role === 'customer' ? 'fte-sf-message-body fte-sf-message-body--plain' : 'fte-sf-message-body'}>
                      {m.role === 'customer' ? m.content : <Markdown text={m.content} />}
                    </div>
                  </li>
                ))}
              </ol>
            </div>
            {ticket && (
              <p className="fte-sf-muted fte-sf-updated">
                {t.status.lastUpdated} <time dateTime={ticket.last_updated}>{formatTimestamp(ticket.last_updated, dateLocale)}</time>
              </p>
            )}
            {ticket?.can_reply && accessKey && (
              <ReplyBox
                api={api}
                messages={t}
                language={language}
                ticketId={ticketId}
                accessKey={accessKey}
                onSent={() => setRefreshNonce((n) => n + 1)}
              />
            )}
          </>
        )}
      </section>

      <div className="fte-sf-actions">
        {!failure && (
          <button
            type="button"
            className="fte-sf-button"
            onClick={() => {
              setRefreshError(null);
              setRefreshNonce((n) => n + 1);
            }}
          >
            {t.status.checkUpdates}
          </button>
        )}
        <button type="button" className="fte-sf-button fte-sf-button--link" onClick={onNewRequest}>
          {t.status.newRequest}
        </button>
        <button type="button" className="fte-sf-button fte-sf-button--link" onClick={onCheckAnother}>
          {t.status.checkAnother}
        </button>
      </div>
    </div>
  );
}
