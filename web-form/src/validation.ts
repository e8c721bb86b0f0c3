/**
 * Validation rules for the support form.
 *
 * These rules mirror the gateway's validation of `POST /support/submit` exactly, so a
 * request that passes here is not rejected by the server for its content, and the other
 * way round. Two details matter for that:
 *
 * - "Trimmed" removes Unicode White_Space from both ends (the set Rust's `str::trim`
 *   uses), not JavaScript's `String.prototype.trim` set (which also strips U+FEFF and
 *   keeps U+0085).
 * - Lengths are counted in Unicode scalar values (code points, like Rust's
 *   `chars().count()`), not UTF-16 code units, so an emoji counts as one character.
 *
 * A rule finds a `FieldIssue` (what is wrong, in no language); the form words it in the
 * reader's language (i18n.ts), and `validateField`/`validateForm` word it in English exactly
 * as the gateway does.
 */

import { en } from './locales/en';

export const NAME_MIN = 2;
export const NAME_MAX = 100;
export const EMAIL_MAX = 254;
export const SUBJECT_MIN = 5;
export const SUBJECT_MAX = 200;
export const MESSAGE_MIN = 10;
export const MESSAGE_MAX = 5000;

/** Phone number after removing spaces, dashes, dots and parentheses (E.164). */
export const PHONE_PATTERN = /^\+[1-9][0-9]{6,14}$/;
/** Characters removed from a phone number before it is matched against PHONE_PATTERN. */
export const PHONE_SEPARATORS = /[ \-.()]/g;

export const CATEGORIES = ['general', 'technical', 'billing', 'feedback', 'bug_report'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_LABELS: Record<Category, string> = {
  general: 'General question',
  technical: 'Technical support',
  billing: 'Billing',
  feedback: 'Feedback',
  bug_report: 'Bug report',
};

export const PRIORITIES = ['low', 'medium', 'high'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const DEFAULT_PRIORITY: Priority = 'medium';

export const PRIORITY_LABELS: Record<Priority, string> = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
};

/** What the user typed, exactly as typed. */
export interface FormValues {
  name: string;
  email: string;
  subject: string;
  /** Empty string until the user chooses one. */
  category: Category | '';
  message: string;
  priority: Priority;
  phone: string;
  /** Honeypot: people leave it empty. */
  website: string;
}

/** The fields a user can see and correct. */
export type FieldName = 'name' | 'email' | 'phone' | 'category' | 'subject' | 'message' | 'priority';

/** Order of the fields on screen; the first invalid one receives focus. */
export const FIELD_ORDER: readonly FieldName[] = [
  'name',
  'email',
  'phone',
  'category',
  'subject',
  'message',
  'priority',
];

export type FieldErrors = Partial<Record<FieldName, string>>;

export const EMPTY_VALUES: FormValues = {
  name: '',
  email: '',
  subject: '',
  category: '',
  message: '',
  priority: DEFAULT_PRIORITY,
  phone: '',
  website: '',
};

// Unicode White_Space, as used by Rust's `str::trim` and `char::is_whitespace`.
const WS = '\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const TRIM_PATTERN = new RegExp(`^[${WS}]+|[${WS}]+$`, 'g');
const WHITESPACE_PATTERN = new RegExp(`[${WS}]`);

/** Removes Unicode White_Space from both ends (same set as the server). */
export function trimValue(value: string): string {
  return value.replace(TRIM_PATTERN, '');
}

/** Number of characters (Unicode code points), as the server counts them. */
export function charCount(value: string): number {
  return Array.from(value).length;
}

/** Length of the trimmed value, which is what every length rule checks. */
export function trimmedLength(value: string): number {
  return charCount(trimValue(value));
}

/** What is wrong with a field, independent of the language it is told in (see i18n.ts). */
export type FieldIssue =
  | { kind: 'required' }
  | { kind: 'too_short'; min: number }
  | { kind: 'too_long'; max: number }
  | { kind: 'invalid' };

function lengthIssue(value: string, min: number, max: number): FieldIssue | undefined {
  const length = trimmedLength(value);
  if (length === 0) return { kind: 'required' };
  if (length < min) return { kind: 'too_short', min };
  if (length > max) return { kind: 'too_long', max };
  return undefined;
}

/** True when the address passes the server's rule. */
export function isValidEmail(value: string): boolean {
  const email = trimValue(value);
  if (email.length === 0 || charCount(email) > EMAIL_MAX) return false;
  if (WHITESPACE_PATTERN.test(email)) return false;
  const parts = email.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts;
  return local.length > 0 && domain.includes('.');
}

export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}

export function isPriority(value: string): value is Priority {
  return (PRIORITIES as readonly string[]).includes(value);
}

/** The phone number without separators, as matched against PHONE_PATTERN. */
export function normalizePhone(value: string): string {
  return trimValue(value).replace(PHONE_SEPARATORS, '');
}

/** True when no phone number was given (the field is optional). */
export function isPhoneEmpty(value: string): boolean {
  return trimValue(value).length === 0;
}

const CHECKS: Record<FieldName, (values: FormValues) => FieldIssue | undefined> = {
  name: (v) => lengthIssue(v.name, NAME_MIN, NAME_MAX),
  email: (v) => {
    const email = trimValue(v.email);
    if (email.length === 0) return { kind: 'required' };
    if (charCount(email) > EMAIL_MAX) return { kind: 'too_long', max: EMAIL_MAX };
    return isValidEmail(email) ? undefined : { kind: 'invalid' };
  },
  phone: (v) =>
    isPhoneEmpty(v.phone) || PHONE_PATTERN.test(normalizePhone(v.phone)) ? undefined : { kind: 'invalid' },
  category: (v) => (isCategory(v.category) ? undefined : { kind: 'required' }),
  subject: (v) => lengthIssue(v.subject, SUBJECT_MIN, SUBJECT_MAX),
  message: (v) => lengthIssue(v.message, MESSAGE_MIN, MESSAGE_MAX),
  priority: (v) => (isPriority(v.priority) ? undefined : { kind: 'invalid' }),
};

/** What is wrong with one field, if anything. */
export function fieldIssue(field: FieldName, values: FormValues): FieldIssue | undefined {
  return CHECKS[field](values);
}

/** Every field's issue at once; an empty object means the form can be sent. */
export function findIssues(values: FormValues): Partial<Record<FieldName, FieldIssue>> {
  const issues: Partial<Record<FieldName, FieldIssue>> = {};
  for (const field of FIELD_ORDER) {
    const issue = fieldIssue(field, values);
    if (issue) issues[field] = issue;
  }
  return issues;
}

/** The issue in English, worded exactly as the gateway words it. */
export function describeIssueInEnglish(field: FieldName, issue: FieldIssue): string {
  return en.issue(field, issue);
}

function english(field: FieldName, values: FormValues): string | undefined {
  const issue = fieldIssue(field, values);
  return issue && describeIssueInEnglish(field, issue);
}

const ONLY = (field: FieldName, value: string): FormValues => ({ ...EMPTY_VALUES, [field]: value }) as FormValues;

export function validateName(value: string): string | undefined {
  return english('name', ONLY('name', value));
}

export function validateEmail(value: string): string | undefined {
  return english('email', ONLY('email', value));
}

export function validateSubject(value: string): string | undefined {
  return english('subject', ONLY('subject', value));
}

export function validateMessage(value: string): string | undefined {
  return english('message', ONLY('message', value));
}

export function validateCategory(value: string): string | undefined {
  return english('category', ONLY('category', value));
}

export function validatePriority(value: string): string | undefined {
  return english('priority', ONLY('priority', value));
}

export function validatePhone(value: string): string | undefined {
  return english('phone', ONLY('phone', value));
}

/** One field's error in English (the gateway's wording). */
export function validateField(field: FieldName, values: FormValues): string | undefined {
  return english(field, values);
}

/** Every rule at once, in English; an empty object means the form can be sent. */
export function validateForm(values: FormValues): FieldErrors {
  const errors: FieldErrors = {};
  for (const [field, issue] of Object.entries(findIssues(values)) as [FieldName, FieldIssue][]) {
    errors[field] = describeIssueInEnglish(field, issue);
  }
  return errors;
}

/** The request body for `POST /support/submit`: only the fields the server accepts. */
export interface SubmitPayload {
  name: string;
  email: string;
  subject: string;
  category: Category;
  message: string;
  priority: Priority;
  phone?: string;
  website: string;
  /** The embedding site's identity-verification token for `email` (see the README). */
  identity_token?: string;
  /** The solved bot challenge's token, when the gateway requires one. */
  challenge_token?: string;
}

/**
 * Builds the request body. Text fields are sent trimmed; the phone number is sent as
 * typed (trimmed) and left out when empty; the honeypot is always sent exactly as typed.
 * Call only after validateForm returned no errors.
 */
export function toPayload(values: FormValues): SubmitPayload {
  if (!isCategory(values.category)) throw new Error('category must be chosen before sending');
  const payload: SubmitPayload = {
    name: trimValue(values.name),
    email: trimValue(values.email),
    subject: trimValue(values.subject),
    category: values.category,
    message: trimValue(values.message),
    priority: values.priority,
    website: values.website,
  };
  if (!isPhoneEmpty(values.phone)) payload.phone = trimValue(values.phone);
  return payload;
}
