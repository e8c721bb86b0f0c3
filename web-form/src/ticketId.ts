const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * Finds a ticket ID in what the user pasted: the bare ID, or a line such as
 * "Ticket: 3f2c…" copied from one of our emails. Returns it in lower case.
 */
export function extractTicketId(input: string): string | null {
  const match = UUID_PATTERN.exec(input);
  return match ? match[0].toLowerCase() : null;
}

/** The ticket ID in a URL hash such as `#ticket=<id>`, if any. */
export function ticketIdFromHash(hash: string): string | null {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!raw) return null;
  const params = new URLSearchParams(raw);
  const value = params.get('ticket');
  if (!value) return null;
  return extractTicketId(value);
}
