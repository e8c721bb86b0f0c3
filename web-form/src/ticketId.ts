const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** An access key as the gateway makes them: base64url. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** A ticket and, when known, the key that opens its thread. */
export interface TicketLink {
  ticketId: string;
  accessKey: string | null;
}

/**
 * Finds a ticket ID in what the user pasted: the bare ID, or a line such as
 * "Ticket: 3f2c…" copied from one of our emails. Returns it in lower case.
 */
export function extractTicketId(input: string): string | null {
  const match = UUID_PATTERN.exec(input);
  return match ? match[0].toLowerCase() : null;
}

function keyFrom(params: URLSearchParams): string | null {
  const key = params.get('key') ?? params.get('access_key');
  return key && KEY_PATTERN.test(key) ? key : null;
}

/**
 * A ticket link from what the user pasted: a whole link (`…#ticket=<id>&key=<key>`, or
 * `?access_key=` for the gateway's own links) or just an ID (no key).
 */
export function extractTicketLink(input: string): TicketLink | null {
  const ticketId = extractTicketId(input);
  if (!ticketId) return null;
  const trimmed = input.trim();
  const hashAt = trimmed.indexOf('#');
  const queryAt = trimmed.indexOf('?');
  const parts = [hashAt >= 0 ? trimmed.slice(hashAt + 1) : '', queryAt >= 0 ? trimmed.slice(queryAt + 1).split('#')[0] : ''];
  for (const part of parts) {
    const key = keyFrom(new URLSearchParams(part));
    if (key) return { ticketId, accessKey: key };
  }
  return { ticketId, accessKey: null };
}

/** The ticket (and key) in a URL hash such as `#ticket=<id>&key=<key>`, if any. */
export function ticketLinkFromHash(hash: string): TicketLink | null {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!raw) return null;
  const params = new URLSearchParams(raw);
  const value = params.get('ticket');
  const ticketId = value ? extractTicketId(value) : null;
  if (!ticketId) return null;
  return { ticketId, accessKey: keyFrom(params) };
}

/** The ticket ID in a URL hash such as `#ticket=<id>`, if any. */
export function ticketIdFromHash(hash: string): string | null {
  return ticketLinkFromHash(hash)?.ticketId ?? null;
}

/** The hash that reopens a ticket: `#ticket=<id>` and, when known, `&key=<key>`. */
export function ticketHash(link: TicketLink): string {
  return link.accessKey ? `#ticket=${link.ticketId}&key=${link.accessKey}` : `#ticket=${link.ticketId}`;
}

const STORAGE_KEY = 'fte-sf-ticket-keys';
const REMEMBERED = 20;

function storage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null; // Storage blocked (a sandboxed frame, strict privacy settings).
  }
}

function remembered(): [string, string][] {
  try {
    const parsed: unknown = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(parsed)
      ? parsed.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string')
      : [];
  } catch {
    return [];
  }
}

/** Remembers the key of a ticket sent from this browser (the last 20). */
export function rememberKey(link: TicketLink): void {
  if (!link.accessKey) return;
  const entries = remembered().filter(([id]) => id !== link.ticketId);
  entries.unshift([link.ticketId, link.accessKey]);
  try {
    storage()?.setItem(STORAGE_KEY, JSON.stringify(entries.slice(0, REMEMBERED)));
  } catch {
    // Full or blocked: the link in the page URL still holds the key.
  }
}

/** The remembered key of a ticket sent from this browser, if any. */
export function rememberedKey(ticketId: string): string | null {
  return remembered().find(([id]) => id === ticketId)?.[1] ?? null;
}
