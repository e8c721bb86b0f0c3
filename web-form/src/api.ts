import type { SubmitPayload } from './validation';

export type TicketStatus = 'open' | 'processing' | 'resolved' | 'escalated';
export type MessageRole = 'customer' | 'agent' | 'system';
export type MessageChannel = 'web_form' | 'email' | 'whatsapp';

export interface SubmitResponse {
  ticket_id: string;
  message: string;
  estimated_response_time: string;
}

export interface TicketMessage {
  role: MessageRole;
  channel: MessageChannel;
  content: string;
  /** RFC 3339 timestamp. */
  created_at: string;
}

export interface Ticket {
  ticket_id: string;
  status: TicketStatus;
  messages: TicketMessage[];
  created_at: string;
  last_updated: string;
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
  submit(payload: SubmitPayload, signal?: AbortSignal): Promise<SubmitResponse>;
  getTicket(ticketId: string, signal?: AbortSignal): Promise<Ticket>;
}

/** A client for the gateway's two support endpoints. Throws ApiError on any failure. */
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
      throw new ApiError(0, 'network_error', NETWORK_ERROR_MESSAGE);
    }
  }

  return {
    async submit(payload, signal) {
      const response = await request('/support/submit', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
        signal,
      });
      if (!response.ok) throw await toApiError(response);
      const body = await readJson(response);
      if (!isRecord(body) || typeof body.ticket_id !== 'string') {
        throw new ApiError(response.status, 'invalid_response', fallbackMessage(500));
      }
      return {
        ticket_id: body.ticket_id,
        message: typeof body.message === 'string' ? body.message : '',
        estimated_response_time:
          typeof body.estimated_response_time === 'string' ? body.estimated_response_time : '',
      };
    },

    async getTicket(ticketId, signal) {
      const response = await request(`/support/ticket/${encodeURIComponent(ticketId)}`, {
        method: 'GET',
        signal,
      });
      if (!response.ok) throw await toApiError(response);
      const body = await readJson(response);
      if (!isRecord(body) || typeof body.status !== 'string' || !Array.isArray(body.messages)) {
        throw new ApiError(response.status, 'invalid_response', fallbackMessage(500));
      }
      return body as unknown as Ticket;
    },
  };
}
