import type { MessageChannel, MessageRole, TicketStatus } from './api';

export const STATUS_LABELS: Record<TicketStatus, string> = {
  open: 'Open',
  processing: 'Processing',
  resolved: 'Resolved',
  escalated: 'Escalated to our team',
};

export const ROLE_LABELS: Record<MessageRole, string> = {
  customer: 'You',
  agent: 'Orbitask Support',
  system: 'Update',
};

export const CHANNEL_LABELS: Record<MessageChannel, string> = {
  web_form: 'web form',
  email: 'email',
  whatsapp: 'WhatsApp',
};

export function statusLabel(status: string): string {
  return (STATUS_LABELS as Record<string, string>)[status] ?? status;
}

export function roleLabel(role: string): string {
  return (ROLE_LABELS as Record<string, string>)[role] ?? role;
}

export function channelLabel(channel: string): string {
  return (CHANNEL_LABELS as Record<string, string>)[channel] ?? channel;
}

/** A timestamp in the reader's locale and time zone; the raw text if it cannot be read. */
export function formatTimestamp(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  } catch {
    return date.toLocaleString();
  }
}
