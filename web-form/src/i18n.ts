/**
 * The form's texts in the languages the support agent understands (English, Spanish,
 * Portuguese, German and French), and dates in the same locale.
 *
 * The language is the host's choice when it names one (the `locale` prop or the script's
 * `data-locale`), else the reader's first browser language that the form has, else English.
 * Dates follow the chosen language, in the regional variant the reader asked for when there
 * is one (a `pt-BR` browser gets Portuguese texts and Brazilian dates).
 */

import type { CustomerStatus, Estimate } from './api';
import type { Category, FieldName, Priority } from './validation';
import type { FieldIssue } from './validation';
import { en } from './locales/en';
import { es } from './locales/es';
import { pt } from './locales/pt';
import { de } from './locales/de';
import { fr } from './locales/fr';

export const SUPPORTED_LANGUAGES = ['en', 'es', 'pt', 'de', 'fr'] as const;
export type Language = (typeof SUPPORTED_LANGUAGES)[number];

/** Every text the form shows. Functions take what varies. */
export interface Messages {
  formTitle: string;
  formIntro: string;
  fieldLabels: Record<FieldName, string>;
  optional: string;
  chooseCategory: string;
  categories: Record<Category, string>;
  priorities: Record<Priority, string>;
  phoneHint: string;
  emailFromAccount: string;
  characters: string;
  send: string;
  sending: string;
  checkExisting: string;
  checkFields: (count: number, fields: string) => string;
  retryIn: (seconds: number) => string;
  issue: (field: FieldName, issue: FieldIssue) => string;
  errors: {
    network: string;
    rateLimited: string;
    tooLarge: string;
    unavailable: string;
    challengeFailed: string;
    generic: string;
  };
  challenge: {
    label: string;
    loading: string;
    failed: string;
    required: string;
  };
  lookup: {
    title: string;
    label: string;
    hint: string;
    empty: string;
    invalid: string;
    submit: string;
    back: string;
  };
  status: {
    thanks: string;
    confirmation: string;
    ticketId: string;
    copy: string;
    copyTicketId: string;
    copied: string;
    copyFailed: string;
    estimateLabel: string;
    keepLink: string;
    yourConversation: string;
    yourTicket: string;
    notFound: string;
    notFoundDetail: string;
    accessDenied: string;
    statusOnly: string;
    caption: string;
    labels: Record<CustomerStatus, string>;
    notes: Partial<Record<CustomerStatus, string>>;
    refreshFailed: (detail?: string) => string;
    loading: string;
    conversation: string;
    roles: { customer: string; agent: string; system: string };
    lastUpdated: string;
    checkUpdates: string;
    newRequest: string;
    checkAnother: string;
  };
  estimate: {
    withinMinutes: (minutes: number) => string;
    withinHours: (hours: number) => string;
    teamBy: (time: string) => string;
    unknown: string;
  };
  reply: {
    label: string;
    hint: string;
    send: string;
    sending: string;
    sent: string;
    resolved: string;
  };
}

const CATALOG: Record<Language, Messages> = { en, es, pt, de, fr };

export interface ResolvedLocale {
  /** The language of the texts. */
  language: Language;
  /** The BCP 47 tag dates are formatted with (same language, the reader's region if known). */
  dateLocale: string;
}

function primary(tag: string): string {
  return tag.trim().toLowerCase().split(/[-_]/)[0];
}

function isLanguage(value: string): value is Language {
  return (SUPPORTED_LANGUAGES as readonly string[]).includes(value);
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  if (navigator.languages && navigator.languages.length > 0) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

/**
 * The language and date locale: `preferred` (the host's choice) when the form has it, else
 * the first of `languages` (the browser's) that it has, else English.
 */
export function resolveLocale(
  preferred?: string | null,
  languages: readonly string[] = browserLanguages(),
): ResolvedLocale {
  const candidates = [preferred, ...languages].filter((tag): tag is string => !!tag && !!tag.trim());
  for (const tag of candidates) {
    const language = primary(tag);
    if (isLanguage(language)) {
      return { language, dateLocale: validDateLocale(tag.trim().replace('_', '-'), language) };
    }
  }
  return { language: 'en', dateLocale: 'en' };
}

function validDateLocale(tag: string, fallback: string): string {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0 ? tag : fallback;
  } catch {
    return fallback;
  }
}

/** The texts of `language`. */
export function messagesFor(language: Language): Messages {
  return CATALOG[language];
}

/** A timestamp in `locale` and the reader's time zone; the raw text if it cannot be read. */
export function formatTimestamp(value: string, locale: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  } catch {
    return date.toLocaleString();
  }
}

/** An estimate in words of `messages`, with times in `locale`. */
export function describeEstimate(estimate: Estimate, messages: Messages, locale: string): string {
  if (estimate.kind === 'team' && estimate.by) {
    return messages.estimate.teamBy(formatTimestamp(estimate.by, locale));
  }
  if (estimate.kind === 'unknown' || estimate.within_secs == null) return messages.estimate.unknown;
  const minutes = Math.max(1, Math.ceil(estimate.within_secs / 60));
  if (minutes > 90) return messages.estimate.withinHours(Math.ceil(minutes / 60));
  return messages.estimate.withinMinutes(minutes);
}
