import { useEffect, useId, useRef, useState } from 'react';
import type { ChangeEvent, FormEvent } from 'react';
import { ApiError } from './api';
import type { SubmitResponse, SupportApi } from './api';
import {
  CATEGORIES,
  CATEGORY_LABELS,
  FIELD_ORDER,
  MESSAGE_MAX,
  PRIORITIES,
  PRIORITY_LABELS,
  toPayload,
  trimmedLength,
  validateField,
  validateForm,
} from './validation';
import type { FieldErrors, FieldName, FormValues } from './validation';

export const FIELD_LABELS: Record<FieldName, string> = {
  name: 'Name',
  email: 'Email',
  phone: 'Phone',
  subject: 'Subject',
  category: 'Category',
  priority: 'Priority',
  message: 'Message',
};

interface FormAlert {
  title: string;
  details: string[];
}

export interface ContactFormProps {
  api: SupportApi;
  values: FormValues;
  onValuesChange: (values: FormValues) => void;
  onSubmitted: (response: SubmitResponse) => void;
  onCheckTicket: () => void;
}

type FieldElement = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function isFieldName(value: string): value is FieldName {
  return (FIELD_ORDER as readonly string[]).includes(value);
}

function describeRetry(seconds: number | undefined): string | null {
  if (seconds === undefined || seconds <= 0) return null;
  if (seconds < 90) return `You can try again in ${seconds} seconds.`;
  return `You can try again in about ${Math.ceil(seconds / 60)} minutes.`;
}

function listFields(fields: FieldName[]): string {
  return fields.map((f) => FIELD_LABELS[f]).join(', ');
}

export function ContactForm({ api, values, onValuesChange, onSubmitted, onCheckTicket }: ContactFormProps) {
  const uid = useId();
  const id = (part: string) => `${uid}-${part}`;
  const [errors, setErrors] = useState<FieldErrors>({});
  const [touched, setTouched] = useState<Partial<Record<FieldName, boolean>>>({});
  const [alert, setAlert] = useState<FormAlert | null>(null);
  const [sending, setSending] = useState(false);
  const [focusRequest, setFocusRequest] = useState<{ target: FieldName | 'alert'; n: number } | null>(null);
  const fieldRefs = useRef<Partial<Record<FieldName, FieldElement | null>>>({});
  const alertRef = useRef<HTMLDivElement | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  // True between pressing and releasing a button in the actions row (see onBlur).
  const actionPressRef = useRef(false);

  useEffect(() => () => abortRef.current?.abort(), []);

  // Focus moves after the render that shows the errors, so the field's description is current.
  useEffect(() => {
    if (!focusRequest) return;
    const element = focusRequest.target === 'alert' ? alertRef.current : fieldRefs.current[focusRequest.target];
    element?.focus();
  }, [focusRequest]);

  function setField(field: keyof FormValues, value: string) {
    const next = { ...values, [field]: value } as FormValues;
    onValuesChange(next);
    if (isFieldName(field) && errors[field]) {
      // Once a field shows an error, it is checked again on every change so the error clears as soon as it is fixed.
      setErrors((prev) => ({ ...prev, [field]: validateField(field, next) }));
    }
  }

  function onChange(event: ChangeEvent<FieldElement>) {
    setField(event.target.name as keyof FormValues, event.target.value);
  }

  function onBlur(field: FieldName) {
    // Pressing "Send request" blurs the field first. Showing its error then would push the
    // button down before the press is released, and the click would be lost. Submit checks
    // every field anyway.
    if (actionPressRef.current) return;
    const wasTouched = touched[field];
    setTouched((prev) => ({ ...prev, [field]: true }));
    // Passing through an empty field the first time is not an error yet.
    if (!wasTouched && values[field].trim() === '') return;
    setErrors((prev) => ({ ...prev, [field]: validateField(field, values) }));
  }

  function onActionPress() {
    if (actionPressRef.current) return;
    actionPressRef.current = true;
    const release = () => {
      window.removeEventListener('pointerup', release, true);
      window.removeEventListener('mouseup', release, true);
      window.removeEventListener('pointercancel', release, true);
      // After this press's click event has been handled.
      setTimeout(() => {
        actionPressRef.current = false;
      }, 0);
    };
    window.addEventListener('pointerup', release, true);
    window.addEventListener('mouseup', release, true);
    window.addEventListener('pointercancel', release, true);
  }

  function requestFocus(target: FieldName | 'alert') {
    setFocusRequest((prev) => ({ target, n: (prev?.n ?? 0) + 1 }));
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (sending) return;

    const found = validateForm(values);
    const invalid = FIELD_ORDER.filter((f) => found[f]);
    setTouched(Object.fromEntries(FIELD_ORDER.map((f) => [f, true])));
    setErrors(found);
    if (invalid.length > 0) {
      setAlert({
        title:
          invalid.length === 1
            ? `Please check 1 field: ${listFields(invalid)}.`
            : `Please check ${invalid.length} fields: ${listFields(invalid)}.`,
        details: [],
      });
      requestFocus(invalid[0]);
      return;
    }

    setAlert(null);
    setSending(true);
    const controller = new AbortController();
    abortRef.current = controller;
    try {
      const response = await api.submit(toPayload(values), controller.signal);
      if (controller.signal.aborted) return;
      onSubmitted(response);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status === 422) {
        const mapped: FieldErrors = {};
        const other: string[] = [];
        for (const { field, message } of error.fields) {
          if (isFieldName(field)) {
            const text = message.charAt(0).toUpperCase() + message.slice(1);
            mapped[field] = mapped[field] ? `${mapped[field]} ${text}` : text;
          } else {
            other.push(`${field}: ${message}`);
          }
        }
        setErrors(mapped);
        setAlert({ title: error.message, details: other });
        const first = FIELD_ORDER.find((f) => mapped[f]);
        requestFocus(first ?? 'alert');
      } else if (error instanceof ApiError) {
        const retry = describeRetry(error.retryAfterSeconds);
        setAlert({ title: error.message, details: retry ? [retry] : [] });
        requestFocus('alert');
      } else {
        setAlert({ title: 'Something went wrong while sending. Please try again.', details: [] });
        requestFocus('alert');
      }
    } finally {
      if (!controller.signal.aborted) setSending(false);
    }
  }

  /** Props shared by every visible field: label wiring, error state and descriptions. */
  function fieldProps(field: FieldName, hint?: boolean, extra?: string) {
    const describedBy = [hint ? id(`${field}-hint`) : null, extra ?? null, errors[field] ? id(`${field}-error`) : null]
      .filter(Boolean)
      .join(' ');
    return {
      id: id(field),
      name: field,
      value: values[field],
      onChange,
      onBlur: () => onBlur(field),
      'aria-invalid': errors[field] ? (true as const) : undefined,
      'aria-describedby': describedBy || undefined,
      ref: (el: FieldElement | null) => {
        fieldRefs.current[field] = el;
      },
    };
  }

  function fieldError(field: FieldName) {
    if (!errors[field]) return null;
    return (
      <p id={id(`${field}-error`)} className="fte-sf-field-error">
        {errors[field]}
      </p>
    );
  }

  const messageLength = trimmedLength(values.message);
  const messageOver = messageLength > MESSAGE_MAX;

  return (
    <form
      className="fte-sf-form"
      noValidate
      onSubmit={onSubmit}
      aria-labelledby={id('title')}
      aria-busy={sending || undefined}
    >
      <h2 id={id('title')} className="fte-sf-title">
        Contact Orbitask Support
      </h2>
      <p className="fte-sf-intro">
        Tell us what you need and we will reply here and by email. All fields are required unless marked
        optional.
      </p>

      <div
        ref={alertRef}
        className={alert ? 'fte-sf-alert fte-sf-alert--error' : 'fte-sf-alert-slot'}
        role="alert"
        tabIndex={-1}
      >
        {alert && (
          <>
            <p className="fte-sf-alert-title">{alert.title}</p>
            {alert.details.map((d) => (
              <p key={d} className="fte-sf-alert-detail">
                {d}
              </p>
            ))}
          </>
        )}
      </div>

      <div className="fte-sf-grid">
        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('name')}>
            {FIELD_LABELS.name}
          </label>
          <input
            className="fte-sf-input"
            type="text"
            autoComplete="name"
            required
            aria-required="true"
            {...fieldProps('name')}
          />
          {fieldError('name')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('email')}>
            {FIELD_LABELS.email}
          </label>
          <input
            className="fte-sf-input"
            type="email"
            inputMode="email"
            autoComplete="email"
            spellCheck={false}
            required
            aria-required="true"
            {...fieldProps('email')}
          />
          {fieldError('email')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('phone')}>
            {FIELD_LABELS.phone} <span className="fte-sf-optional">(optional)</span>
          </label>
          <input className="fte-sf-input" type="tel" autoComplete="tel" {...fieldProps('phone', true)} />
          <p id={id('phone-hint')} className="fte-sf-hint">
            Include the country code, for example +34 612 345 678.
          </p>
          {fieldError('phone')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('category')}>
            {FIELD_LABELS.category}
          </label>
          <select className="fte-sf-select" required aria-required="true" {...fieldProps('category')}>
            <option value="">Choose a category</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {CATEGORY_LABELS[c]}
              </option>
            ))}
          </select>
          {fieldError('category')}
        </div>

        <div className="fte-sf-field fte-sf-field--wide">
          <label className="fte-sf-label" htmlFor={id('subject')}>
            {FIELD_LABELS.subject}
          </label>
          <input className="fte-sf-input" type="text" required aria-required="true" {...fieldProps('subject')} />
          {fieldError('subject')}
        </div>

        <div className="fte-sf-field fte-sf-field--wide">
          <label className="fte-sf-label" htmlFor={id('message')}>
            {FIELD_LABELS.message}
          </label>
          <textarea
            className="fte-sf-textarea"
            rows={7}
            required
            aria-required="true"
            {...fieldProps('message', false, id('message-counter'))}
          />
          <p
            id={id('message-counter')}
            className={messageOver ? 'fte-sf-counter fte-sf-counter--over' : 'fte-sf-counter'}
          >
            {messageLength} / {MESSAGE_MAX}
            <span className="fte-sf-visually-hidden"> characters</span>
          </p>
          {fieldError('message')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('priority')}>
            {FIELD_LABELS.priority} <span className="fte-sf-optional">(optional)</span>
          </label>
          <select className="fte-sf-select" {...fieldProps('priority')}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {PRIORITY_LABELS[p]}
              </option>
            ))}
          </select>
          {fieldError('priority')}
        </div>
      </div>

      {/* Honeypot: hidden from people and assistive technology; automated senders fill it in. */}
      <div className="fte-sf-hp" aria-hidden="true">
        <label htmlFor={id('website')}>Website</label>
        <input
          id={id('website')}
          type="text"
          name="website"
          tabIndex={-1}
          autoComplete="off"
          value={values.website}
          onChange={onChange}
        />
      </div>

      <div className="fte-sf-actions" onPointerDown={onActionPress} onMouseDown={onActionPress}>
        <button className="fte-sf-button fte-sf-button--primary" type="submit" disabled={sending}>
          {sending ? (
            <>
              <span className="fte-sf-spinner" aria-hidden="true" />
              Sending…
            </>
          ) : (
            'Send request'
          )}
        </button>
        <button className="fte-sf-button fte-sf-button--link" type="button" onClick={onCheckTicket}>
          Check an existing ticket
        </button>
      </div>
    </form>
  );
}
