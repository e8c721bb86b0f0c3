import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import type { Messages } from './i18n';
import { extractTicketLink } from './ticketId';
import type { TicketLink } from './ticketId';

export interface LookupFormProps {
  messages: Messages;
  onLookup: (link: TicketLink) => void;
  onBack: () => void;
}

export function LookupForm({ messages: t, onLookup, onBack }: LookupFormProps) {
  const uid = useId();
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement | null>(null);
  const [focusTick, setFocusTick] = useState(0);

  // The user chose this mode, so the ticket field receives focus.
  useEffect(() => {
    inputRef.current?.focus();
  }, [focusTick]);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const link = extractTicketLink(value);
    if (!link) {
      setError(value.trim() === '' ? t.lookup.empty : t.lookup.invalid);
      setFocusTick((n) => n + 1);
      return;
    }
    setError(null);
    onLookup(link);
  }

  const describedBy = [`${uid}-hint`, error ? `${uid}-error` : null].filter(Boolean).join(' ');

  return (
    <form className="fte-sf-form" noValidate onSubmit={onSubmit} aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="fte-sf-title">
        {t.lookup.title}
      </h2>
      <div className="fte-sf-field">
        <label className="fte-sf-label" htmlFor={`${uid}-ticket`}>
          {t.lookup.label}
        </label>
        <input
          ref={inputRef}
          id={`${uid}-ticket`}
          name="ticket_id"
          className="fte-sf-input fte-sf-input--mono"
          type="text"
          autoComplete="off"
          spellCheck={false}
          required
          aria-required="true"
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            if (error && extractTicketLink(e.target.value)) setError(null);
          }}
        />
        <p id={`${uid}-hint`} className="fte-sf-hint">
          {t.lookup.hint}
        </p>
        <div role="alert">
          {error && (
            <p id={`${uid}-error`} className="fte-sf-field-error">
              {error}
            </p>
          )}
        </div>
      </div>
      <div className="fte-sf-actions">
        <button className="fte-sf-button fte-sf-button--primary" type="submit">
          {t.lookup.submit}
        </button>
        <button className="fte-sf-button fte-sf-button--link" type="button" onClick={onBack}>
          {t.lookup.back}
        </button>
      </div>
    </form>
  );
}
