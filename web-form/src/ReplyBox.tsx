import { useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, IdempotencyKeys } from './api';
import type { SupportApi } from './api';
import type { Messages } from './i18n';
import { MESSAGE_MAX, charCount, trimValue } from './validation';

export interface ReplyBoxProps {
  api: SupportApi;
  messages: Messages;
  language: string;
  ticketId: string;
  accessKey: string;
  /** Called once the gateway stored the reply (the view refreshes the thread). */
  onSent: () => void;
}

/** The customer's reply in the ticket's thread. */
export function ReplyBox({ api, messages: t, language, ticketId, accessKey, onSent }: ReplyBoxProps) {
  const uid = useId();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const fieldRef = useRef<HTMLTextAreaElement | null>(null);
  // The same reply retried after a failure keeps its key, so it is stored once.
  const replyKeys = useRef(new IdempotencyKeys());

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (sending) return;
    const message = trimValue(text);
    const length = charCount(message);
    if (length === 0 || length > MESSAGE_MAX) {
      setError(
        length === 0
          ? t.issue('message', { kind: 'required' })
          : t.issue('message', { kind: 'too_long', max: MESSAGE_MAX }),
      );
      fieldRef.current?.focus();
      return;
    }
    setError(null);
    setNotice(null);
    setSending(true);
    try {
      await api.postMessage(ticketId, accessKey, message, undefined, replyKeys.current.keyFor(message));
      replyKeys.current.done();
      setText('');
      setNotice(t.reply.sent);
      onSent();
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'ticket_resolved') setError(t.reply.resolved);
      else if (failure instanceof ApiError && failure.status === 0) setError(t.errors.network);
      else if (failure instanceof ApiError && failure.status === 429) setError(t.errors.rateLimited);
      else if (failure instanceof ApiError && language === 'en') setError(failure.message);
      else setError(t.errors.generic);
      fieldRef.current?.focus();
    } finally {
      setSending(false);
    }
  }

  const describedBy = [`${uid}-hint`, error ? `${uid}-error` : null].filter(Boolean).join(' ');
  return (
    <form className="fte-sf-reply" noValidate onSubmit={onSubmit} aria-busy={sending || undefined}>
      <div className="fte-sf-field">
        <label className="fte-sf-label" htmlFor={`${uid}-reply`}>
          {t.reply.label}
        </label>
        <textarea
          ref={fieldRef}
          id={`${uid}-reply`}
          name="reply"
          className="fte-sf-textarea fte-sf-textarea--reply"
          rows={3}
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          onChange={(e) => {
            setText(e.target.value);
            if (error) setError(null);
          }}
        />
        <p id={`${uid}-hint`} className="fte-sf-hint">
          {t.reply.hint}
        </p>
        {error && (
          <p id={`${uid}-error`} className="fte-sf-field-error" role="alert">
            {error}
          </p>
        )}
        <p className="fte-sf-copy-status" role="status">
          {notice ?? ''}
        </p>
      </div>
      <div className="fte-sf-actions">
        <button className="fte-sf-button fte-sf-button--primary" type="submit" disabled={sending}>
          {sending ? (
            <>
              <span className="fte-sf-spinner" aria-hidden="true" />
              {t.reply.sending}
            </>
          ) : (
            t.reply.send
          )}
        </button>
      </div>
    </form>
  );
}
