import { useEffect, useId, useRef, useState } from 'react';
import type { ChangeEvent, FormEvent } from 'react';
import { ApiError, IdempotencyKeys } from './api';
import type { ChallengeConfig, SubmitResponse, SupportApi } from './api';
import { Challenge } from './Challenge';
import type { Messages } from './i18n';
import { CATEGORIES, FIELD_ORDER, MESSAGE_MAX, PRIORITIES, fieldIssue, findIssues, toPayload, trimmedLength } from './validation';
import type { FieldName, FormValues } from './validation';

/** A field's error: what the rules found (worded in the reader's language) or the server's text. */
type FieldError = { source: 'rule' } | { source: 'server'; text: string };

type FormAlert =
  /** The summary of the fields still in error; it follows the fields as they are fixed. */
  | { kind: 'fields'; title?: string; details: string[] }
  | { kind: 'message'; title: string; details: string[] };

export interface ContactFormProps {
  api: SupportApi;
  messages: Messages;
  language: string;
  theme: 'auto' | 'light' | 'dark';
  nonce?: string;
  values: FormValues;
  onValuesChange: (values: FormValues) => void;
  onSubmitted: (response: SubmitResponse) => void;
  onCheckTicket: () => void;
  /** The challenge the gateway requires, if any. */
  challenge: ChallengeConfig | null;
  /** Asks for the gateway's configuration again (after a refused challenge). */
  onChallengeRefused: () => void;
  /** The embedding site's identity-verification token for the email below. */
  identityToken?: string;
  /** The email the token was computed for; the field is then read-only. */
  lockedEmail?: string;
}

type FieldElement = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function isFieldName(value: string): value is FieldName {
  return (FIELD_ORDER as readonly string[]).includes(value);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function ContactForm({
  api,
  messages: t,
  language,
  theme,
  nonce,
  values,
  onValuesChange,
  onSubmitted,
  onCheckTicket,
  challenge,
  onChallengeRefused,
  identityToken,
  lockedEmail,
}: ContactFormProps) {
  const uid = useId();
  const id = (part: string) => `${uid}-${part}`;
  const [errors, setErrors] = useState<Partial<Record<FieldName, FieldError>>>({});
  const [touched, setTouched] = useState<Partial<Record<FieldName, boolean>>>({});
  const [alert, setAlert] = useState<FormAlert | null>(null);
  const [sending, setSending] = useState(false);
  const [challengeToken, setChallengeToken] = useState<string | null>(null);
  const [challengeError, setChallengeError] = useState(false);
  const [challengeResets, setChallengeResets] = useState(0);
  const [focusRequest, setFocusRequest] = useState<{ target: FieldName | 'alert'; n: number } | null>(null);
  const fieldRefs = useRef<Partial<Record<FieldName, FieldElement | null>>>({});
  const alertRef = useRef<HTMLDivElement | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  const submitKeys = useRef(new IdempotencyKeys());
  // True between pressing and releasing a button in the actions row (see onBlur).
  const actionPressRef = useRef(false);

  useEffect(() => () => abortRef.current?.abort(), []);

  // Focus moves after the render that shows the errors, so the field's description is current.
  useEffect(() => {
    if (!focusRequest) return;
    const element = focusRequest.target === 'alert' ? alertRef.current : fieldRefs.current[focusRequest.target];
    element?.focus();
  }, [focusRequest]);

  function errorText(field: FieldName): string | undefined {
    const error = errors[field];
    if (!error) return undefined;
    if (error.source === 'server') return error.text;
    const issue = fieldIssue(field, values);
    return issue ? t.issue(field, issue) : undefined;
  }

  function ruleError(field: FieldName, next: FormValues): FieldError | undefined {
    return fieldIssue(field, next) ? { source: 'rule' } : undefined;
  }

  function setField(field: keyof FormValues, value: string) {
    const next = { ...values, [field]: value } as FormValues;
    onValuesChange(next);
    if (isFieldName(field) && errors[field]) {
      // Once a field shows an error, it is checked again on every change so the error clears as soon as it is fixed.
      setErrors((prev) => ({ ...prev, [field]: ruleError(field, next) }));
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
    setErrors((prev) => ({ ...prev, [field]: ruleError(field, values) }));
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

  function failedAlert(error: unknown): FormAlert {
    if (!(error instanceof ApiError)) return { kind: 'message', title: t.errors.generic, details: [] };
    const retry = error.retryAfterSeconds && error.retryAfterSeconds > 0 ? t.retryIn(error.retryAfterSeconds) : null;
    const known: Record<string, string> = {
      network_error: t.errors.network,
      rate_limited: t.errors.rateLimited,
      payload_too_large: t.errors.tooLarge,
      unavailable: t.errors.unavailable,
      challenge_failed: t.errors.challengeFailed,
    };
    // Our own wording in the reader's language for what we know; the server's text otherwise.
    const title = language === 'en' ? error.message : (known[error.code] ?? error.message);
    return { kind: 'message', title, details: retry ? [retry] : [] };
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (sending) return;

    const issues = findIssues(values);
    const invalid = FIELD_ORDER.filter((f) => issues[f]);
    setTouched(Object.fromEntries(FIELD_ORDER.map((f) => [f, true])));
    setErrors(Object.fromEntries(invalid.map((f) => [f, { source: 'rule' }])));
    const needsChallenge = challenge !== null && !challengeToken;
    setChallengeError(needsChallenge);
    if (invalid.length > 0) {
      setAlert({ kind: 'fields', details: [] });
      requestFocus(invalid[0]);
      return;
    }
    if (needsChallenge) {
      setAlert({ kind: 'message', title: t.challenge.required, details: [] });
      requestFocus('alert');
      return;
    }

    setAlert(null);
    setSending(true);
    const controller = new AbortController();
    abortRef.current = controller;
    try {
      const payload = toPayload(values);
      if (identityToken) payload.identity_token = identityToken;
      // One key per submission: a retry of the same content reuses it (the gateway then answers
      // the first ticket if the first try was stored after all); the challenge token may change.
      const idempotencyKey = submitKeys.current.keyFor(JSON.stringify(payload));
      if (challengeToken) payload.challenge_token = challengeToken;
      const response = await api.submit(payload, controller.signal, idempotencyKey);
      if (controller.signal.aborted) return;
      submitKeys.current.done();
      onSubmitted(response);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (challenge || (error instanceof ApiError && error.code === 'challenge_failed')) {
        // A token is good for one verification: take a fresh one for the next try.
        setChallengeResets((n) => n + 1);
        setChallengeToken(null);
        if (!challenge) onChallengeRefused();
      }
      if (error instanceof ApiError && error.status === 422) {
        const mapped: Partial<Record<FieldName, FieldError>> = {};
        const other: string[] = [];
        for (const { field, message } of error.fields) {
          if (isFieldName(field)) {
            // Our rule's wording when our rule sees the problem too; the server's otherwise.
            mapped[field] = fieldIssue(field, values)
              ? { source: 'rule' }
              : { source: 'server', text: capitalize(message) };
          } else {
            other.push(`${field}: ${message}`);
          }
        }
        setErrors(mapped);
        setAlert({ kind: 'fields', title: language === 'en' ? error.message : undefined, details: other });
        const first = FIELD_ORDER.find((f) => mapped[f]);
        requestFocus(first ?? 'alert');
      } else {
        setAlert(failedAlert(error));
        requestFocus('alert');
      }
    } finally {
      if (!controller.signal.aborted) setSending(false);
    }
  }

  /** Props shared by every visible field: label wiring, error state and descriptions. */
  function fieldProps(field: FieldName, hint?: boolean, extra?: string) {
    const hasError = !!errorText(field);
    // A hint that the error repeats is left out while the error shows.
    const describedBy = [hint && !hasError ? id(`${field}-hint`) : null, extra ?? null, hasError ? id(`${field}-error`) : null]
      .filter(Boolean)
      .join(' ');
    return {
      id: id(field),
      name: field,
      value: values[field],
      onChange,
      onBlur: () => onBlur(field),
      'aria-invalid': hasError ? (true as const) : undefined,
      'aria-describedby': describedBy || undefined,
      ref: (el: FieldElement | null) => {
        fieldRefs.current[field] = el;
      },
    };
  }

  function fieldError(field: FieldName) {
    const text = errorText(field);
    if (!text) return null;
    return (
      <p id={id(`${field}-error`)} className="fte-sf-field-error">
        {text}
      </p>
    );
  }

  const inError = FIELD_ORDER.filter((f) => errorText(f));
  const fieldList = inError.map((f) => t.fieldLabels[f]).join(', ');
  const alertTitle =
    alert?.kind === 'fields'
      ? inError.length > 0
        ? (alert.title ?? t.checkFields(inError.length, fieldList))
        : null
      : (alert?.title ?? null);
  const showAlert = alert !== null && (alertTitle !== null || alert.details.length > 0);
  const messageLength = trimmedLength(values.message);
  const messageOver = messageLength > MESSAGE_MAX;

  return (
    <form className="fte-sf-form" noValidate onSubmit={onSubmit} aria-labelledby={id('title')} aria-busy={sending || undefined}>
      <h2 id={id('title')} className="fte-sf-title">
        {t.formTitle}
      </h2>
      <p className="fte-sf-intro">{t.formIntro}</p>

      <div ref={alertRef} className={showAlert ? 'fte-sf-alert fte-sf-alert--error' : 'fte-sf-alert-slot'} role="alert" tabIndex={-1}>
        {showAlert && (
          <>
            {alertTitle && <p className="fte-sf-alert-title">{alertTitle}</p>}
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
            {t.fieldLabels.name}
          </label>
          <input className="fte-sf-input" type="text" autoComplete="name" required aria-required="true" {...fieldProps('name')} />
          {fieldError('name')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('email')}>
            {t.fieldLabels.email}
          </label>
          <input
            className="fte-sf-input"
            type="email"
            inputMode="email"
            autoComplete="email"
            spellCheck={false}
            required
            aria-required="true"
            readOnly={!!lockedEmail}
            {...fieldProps('email', !!lockedEmail)}
          />
          {lockedEmail && (
            <p id={id('email-hint')} className="fte-sf-hint">
              {t.emailFromAccount}
            </p>
          )}
          {fieldError('email')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('phone')}>
            {t.fieldLabels.phone} <span className="fte-sf-optional">{t.optional}</span>
          </label>
          <input className="fte-sf-input" type="tel" autoComplete="tel" {...fieldProps('phone', true)} />
          {!errorText('phone') && (
            <p id={id('phone-hint')} className="fte-sf-hint">
              {t.phoneHint}
            </p>
          )}
          {fieldError('phone')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('category')}>
            {t.fieldLabels.category}
          </label>
          <select className="fte-sf-select" required aria-required="true" {...fieldProps('category')}>
            <option value="">{t.chooseCategory}</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t.categories[c]}
              </option>
            ))}
          </select>
          {fieldError('category')}
        </div>

        <div className="fte-sf-field fte-sf-field--wide">
          <label className="fte-sf-label" htmlFor={id('subject')}>
            {t.fieldLabels.subject}
          </label>
          <input className="fte-sf-input" type="text" required aria-required="true" {...fieldProps('subject')} />
          {fieldError('subject')}
        </div>

        <div className="fte-sf-field fte-sf-field--wide">
          <label className="fte-sf-label" htmlFor={id('message')}>
            {t.fieldLabels.message}
          </label>
          <textarea
            className="fte-sf-textarea"
            rows={7}
            required
            aria-required="true"
            {...fieldProps('message', false, id('message-counter'))}
          />
          <p id={id('message-counter')} className={messageOver ? 'fte-sf-counter fte-sf-counter--over' : 'fte-sf-counter'}>
            {messageLength} / {MESSAGE_MAX}
            <span className="fte-sf-visually-hidden"> {t.characters}</span>
          </p>
          {fieldError('message')}
        </div>

        <div className="fte-sf-field">
          <label className="fte-sf-label" htmlFor={id('priority')}>
            {t.fieldLabels.priority} <span className="fte-sf-optional">{t.optional}</span>
          </label>
          <select className="fte-sf-select" {...fieldProps('priority')}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {t.priorities[p]}
              </option>
            ))}
          </select>
          {fieldError('priority')}
        </div>

        {challenge && (
          <Challenge
            config={challenge}
            messages={t}
            language={language}
            theme={theme}
            nonce={nonce}
            resetCount={challengeResets}
            onToken={(token) => {
              setChallengeToken(token);
              if (token) setChallengeError(false);
            }}
            errorId={id('challenge-error')}
            error={challengeError ? t.challenge.required : undefined}
          />
        )}
      </div>

      {/* Honeypot: hidden from people and assistive technology; automated senders fill it in. */}
      <div className="fte-sf-hp" aria-hidden="true">
        <label htmlFor={id('website')}>Website</label>
        <input id={id('website')} type="text" name="website" tabIndex={-1} autoComplete="off" value={values.website} onChange={onChange} />
      </div>

      <div className="fte-sf-actions" onPointerDown={onActionPress} onMouseDown={onActionPress}>
        <button className="fte-sf-button fte-sf-button--primary" type="submit" disabled={sending}>
          {sending ? (
            <>
              <span className="fte-sf-spinner" aria-hidden="true" />
              {t.sending}
            </>
          ) : (
            t.send
          )}
        </button>
        <button className="fte-sf-button fte-sf-button--link" type="button" onClick={onCheckTicket}>
          {t.checkExisting}
        </button>
      </div>
    </form>
  );
}
