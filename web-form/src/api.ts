import type { SubmitPayload } from './validation';

/** The plan's ticket states. */
export type TicketStatus = 'open' | 'processing' | 'resolved' | 'escalated';
/** What the customer is told (the gateway maps the plan's states to these, in one place). */
export type CustomerStatus = 'received' | 'in_progress' | 'answered' | 'with_team' | 'resolved';
export type MessageRole = 'customer' | 'agent' | 'system';
export type MessageChannel = 'web_form' | 'email' | 'whatsapp';

/** When an answer can be expected: from the bot (current queue) or a person (their promise). */
export interface Estimate {
  kind: 'bot' | 'team' | 'unknown';
  within_secs: number | null;
  /** RFC 3339, for a person's promise. */
  by: string | null;
  /** The same in English words. */
  text: string;
}

export interface SubmitResponse {
  ticket_id: string;
  /** Opens the ticket's thread; the gateway shows it this once. */
  access_key: string;
  message: string;
  estimated_response_time: string;
  estimate?: Estimate;
}

export interface TicketMessage {
  id?: string;
  role: MessageRole;
  channel: MessageChannel;
  content: string;
  /** RFC 3339 timestamp. */
  created_at: string;
}

export interface Ticket {
  ticket_id: string;
  status: TicketStatus;
  customer_status: CustomerStatus;
  status_label: string;
  /** `thread` when the access key was sent (messages included), else `status`. */
  access: 'thread' | 'status';
  can_reply: boolean;
  estimate: Estimate | null;
  messages: TicketMessage[];
  created_at: string;
  last_updated: string;
}

export interface ChallengeConfig {
  provider: 'turnstile' | 'hcaptcha';
  site_key: string;
  script_url: string;
}

export interface WidgetConfig {
  /** The bot challenge to solve before submitting, or null. */
  challenge: ChallengeConfig | null;
}

export interface FollowUpAccepted {
  ticket_id: string;
  message_id: string;
}

export interface ApiFieldError {
  field: string;
  message: string;
}

/** An error answer from the gateway, or a failure to reach it (status 0). */
export class ApiError extends Error {
  readonly status: number;
  /** The server's error code (`validation_failed`, `rate_limited`, …) or `network_error`. */
  readonly code: string;
  readonly fields: ApiFieldError[];
  /** Seconds from the Retry-After header, when the server sent one. */
  readonly retryAfterSeconds?: number;

  constructor(
    status: number,
    code: string,
    message: string,
    fields: ApiFieldError[] = [],
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export const NETWORK_ERROR_MESSAGE =
  'We could not reach Orbitask Support. Check your connection and try again.';

/** The header that carries a ticket's access key. */
export const ACCESS_KEY_HEADER = 'X-Ticket-Access-Key';

/** The header that makes a write safe to retry: the gateway answers a retry with the first result. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** A fresh idempotency key (a random UUID): one per submission, reused on its retries. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Keeps one idempotency key per request content: the same content (a retry after a failure)
 * gets the same key, changed content a new one, and a success forgets it.
 */
export class IdempotencyKeys {
  private current: { content: string; key: string } | null = null;

  /** The key for a request with this content. */
  keyFor(content: string): string {
    if (this.current?.content !== content) this.current = { content, key: newIdempotencyKey() };
    return this.current.key;
  }

  /** The request succeeded: its key is done. */
  done(): void {
    this.current = null;
  }
}

const diagnosed = new Set<string>();

/**
 * After a failed request to another origin: when the gateway answers an opaque (no-cors)
 * request, it is reachable and refused this page's origin, which a browser does not let the
 * page read. Tell the integrator which setting to change, once per gateway.
 */
async function reportRefusedOrigin(base: string, doFetch: FetchLike): Promise<void> {
  if (typeof window === 'undefined' || !window.location) return;
  let target: string;
  try {
    target = new URL(base, window.location.href).origin;
  } catch {
    return;
  }
  const page = window.location.origin;
  if (target === page || diagnosed.has(target)) return;
  diagnosed.add(target);
  try {
    await doFetch(`${base}/support/config`, { mode: 'no-cors', credentials: 'omit' });
  } catch {
    return; // Really unreachable: nothing to say beyond the form's own message.
  }
  console.error(
    `fte-support-form: the support gateway at ${target} is reachable but refused this page's origin ` +
      `(${page}). Add ${page} to CORS_ALLOWED_ORIGINS on the gateway (a comma-separated list of origins).`,
  );
}

/** Removes trailing slashes so paths can be appended. */
export function normalizeApiBase(apiBase: string): string {
  return apiBase.trim().replace(/\/+$/, '');
}

/** Parses a Retry-After header (seconds or an HTTP date) into whole seconds. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function fallbackMessage(status: number): string {
  if (status === 429) return 'We have received many requests from you. Please wait a moment and try again.';
  if (status === 413) return 'Your message is too large to send. Please shorten it and try again.';
  if (status === 404) return 'We could not find that.';
  if (status >= 500) return 'Our support service is not available right now. Please try again in a few minutes.';
  return 'Something went wrong while sending. Please try again.';
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function toApiError(response: Response): Promise<ApiError> {
  const body = await readJson(response);
  const record = isRecord(body) ? body : {};
  const code = typeof record.error === 'string' ? record.error : `http_${response.status}`;
  const message =
    typeof record.message === 'string' && record.message.trim() !== ''
      ? record.message
      : fallbackMessage(response.status);
  const fields: ApiFieldError[] = Array.isArray(record.fields)
    ? record.fields
        .filter(isRecord)
        .filter((f) => typeof f.field === 'string' && typeof f.message === 'string')
        .map((f) => ({ field: f.field as string, message: f.message as string }))
    : [];
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  return new ApiError(response.status, code, message, fields, retryAfter);
}

export interface SupportApi {
  /** Sends a request; with `idempotencyKey`, a retry answers the first ticket instead of a second one. */
  submit(payload: SubmitPayload, signal?: AbortSignal, idempotencyKey?: string): Promise<SubmitResponse>;
  /** The ticket; with its access key, its thread too. */
  getTicket(ticketId: string, accessKey?: string | null, signal?: AbortSignal): Promise<Ticket>;
  /** Writes the customer's follow-up into the ticket's thread. */
  postMessage(
    ticketId: string,
    accessKey: string,
    message: string,
    signal?: AbortSignal,
    idempotencyKey?: string,
  ): Promise<FollowUpAccepted>;
  /** What the gateway requires of the form (a bot challenge). */
  getConfig(signal?: AbortSignal): Promise<WidgetConfig>;
}

function isEstimate(value: unknown): value is Estimate {
  return isRecord(value) && typeof value.kind === 'string' && typeof value.text === 'string';
}

/** A client for the gateway's support endpoints. Throws ApiError on any failure. */
export function createSupportApi(apiBase: string, fetchImpl?: FetchLike): SupportApi {
  const base = normalizeApiBase(apiBase);
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => fetch(input, init));

  async function request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(`${base}${path}`, {
        ...init,
        credentials: 'omit',
        headers: { Accept: 'application/json', ...(init.headers ?? {}) },
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      void reportRefusedOrigin(base, doFetch);
      throw new ApiError(0, 'network_error', NETWORK_ERROR_MESSAGE);
    }
  }

  async function readOk(response: Response): Promise<Record<string, unknown>> {
    if (!response.ok) throw await toApiError(response);
    const body = await readJson(response);
    if (!isRecord(body)) throw new ApiError(response.status, 'invalid_response', fallbackMessage(500));
    return body;
  }

  function keyHeader(accessKey?: string | null): Record<string, string> {
    return accessKey ? { [ACCESS_KEY_HEADER]: accessKey } : {};
  }

  function idempotencyHeader(key?: string): Record<string, string> {
    return key ? { [IDEMPOTENCY_KEY_HEADER]: key } : {};
  }

  return {
    async submit(payload, signal, idempotencyKey) {
      const response = await request('/support/submit', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...idempotencyHeader(idempotencyKey) },
        body: JSON.stringify(payload),
        signal,
      });
      const body = await readOk(response);
      if (typeof body.ticket_id !== 'string') {
        throw new ApiError(response.status, 'invalid_response', fallbackMessage(500));
      }
      return {
        ticket_id: body.ticket_id,
        access_key: typeof body.access_key === 'string' ? body.access_key : '',
        message: typeof body.message === 'string' ? body.message : '',
        estimated_response_time:
          typeof body.estimated_response_time === 'string' ? body.estimated_response_time : '',
        estimate: isEstimate(body.estimate) ? body.estimate : undefined,
      };
    },

    async getTicket(ticketId, accessKey, signal) {
      const response = await request(`/support/ticket/${encodeURIComponent(ticketId)}`, {
        method: 'GET',
        headers: keyHeader(accessKey),
        signal,
      });
      const body = await readOk(response);
      if (
        typeof body.status !== 'string' ||
        typeof body.customer_status !== 'string' ||
        !Array.isArray(body.messages)
      ) {
        throw new ApiError(response.status, 'invalid_response', fallbackMessage(500));
      }
      return body as unknown as Ticket;
    },

    async postMessage(ticketId, accessKey, message, signal, idempotencyKey) {
      const response = await request(`/support/ticket/${encodeURIComponent(ticketId)}/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...keyHeader(accessKey), ...idempotencyHeader(idempotencyKey) },
        body: JSON.stringify({ message }),
        signal,
      });
      const body = await readOk(response);
      return {
        ticket_id: typeof body.ticket_id === 'string' ? body.ticket_id : ticketId,
        message_id: typeof body.message_id === 'string' ? body.message_id : '',
      };
    },

    async getConfig(signal) {
      const response = await request('/support/config', { method: 'GET', signal });
      const body = await readOk(response);
      const challenge = body.challenge;
      if (
        isRecord(challenge) &&
        (challenge.provider === 'turnstile' || challenge.provider === 'hcaptcha') &&
        typeof challenge.site_key === 'string' &&
        typeof challenge.script_url === 'string'
      ) {
        return {
          challenge: {
            provider: challenge.provider,
            site_key: challenge.site_key,
            script_url: challenge.script_url,
          },
        };
      }
      return { challenge: null };
    },
  };
}
