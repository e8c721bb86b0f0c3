import type { CustomerStatus } from './api';

/** First refresh interval of the status view. */
export const POLL_INITIAL_MS = 3_000;
/** The interval grows by this factor after each refresh that brought nothing new… */
export const POLL_BACKOFF_FACTOR = 1.5;
/** …up to this ceiling. */
export const POLL_MAX_MS = 10_000;
/** A ticket with our team waits for a person, so it is checked less often. */
export const POLL_ESCALATED_MS = 30_000;
/** Right after submitting, a 404 is retried for this long before it is shown. */
export const NOT_FOUND_GRACE_MS = 15_000;

/**
 * The wait before the next refresh, or null to stop polling.
 * `changed` is true when the last refresh brought a new message or a new status.
 */
export function nextPollDelay(
  previousDelay: number | null,
  status: CustomerStatus | null,
  changed: boolean,
): number | null {
  if (status === 'resolved') return null;
  if (status === 'with_team') return POLL_ESCALATED_MS;
  if (previousDelay === null || changed) return POLL_INITIAL_MS;
  return Math.min(POLL_MAX_MS, Math.round(previousDelay * POLL_BACKOFF_FACTOR));
}

/** The wait after a failed refresh (network or server error): back off up to the ceiling. */
export function nextErrorDelay(previousDelay: number | null): number {
  if (previousDelay === null) return POLL_INITIAL_MS;
  return Math.min(POLL_MAX_MS, Math.round(previousDelay * POLL_BACKOFF_FACTOR));
}
