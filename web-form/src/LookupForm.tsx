import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { extractTicketId } from './ticketId';

export interface LookupFormProps {
  onLookup: (ticketId: string) => void;
  onBack: () => void;
}

export function LookupForm({ onLookup, onBack }: LookupFormProps) {
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
    const ticketId = extractTicketId(value);
    if (!ticketId) {
      setError(
        value.trim() === ''
          ? 'Enter your ticket ID.'
          : 'Enter the ticket ID from your confirmation. It looks like 0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90.',
      );
      setFocusTick((n) => n + 1);
      return;
    }
    setError(null);
    onLookup(ticketId);
  }

  const describedBy = [`${uid}-hint`, error ? `${uid}-error` : null].filter(Boolean).join(' ');

  return (
    <form className="fte-sf-form" noValidate onSubmit={onSubmit} aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="fte-sf-title">
        Check an existing ticket
      </h2>
      <div className="fte-sf-field">
        <label className="fte-sf-label" htmlFor={`${uid}-ticket`}>
          Ticket ID
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
            if (error && extractTicketId(e.target.value)) setError(null);
          }}
        />
        <p id={`${uid}-hint`} className="fte-sf-hint">
          You find it in your confirmation and at the end of our emails, after "Ticket:".
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
          Check status
        </button>
        <button className="fte-sf-button fte-sf-button--link" type="button" onClick={onBack}>
          Back to the contact form
        </button>
      </div>
    </form>
  );
}
