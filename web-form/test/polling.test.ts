import { describe, expect, it } from 'vitest';
import {
  POLL_ESCALATED_MS,
  POLL_INITIAL_MS,
  POLL_MAX_MS,
  nextErrorDelay,
  nextPollDelay,
} from '../src/polling';
import { extractTicketId, ticketIdFromHash } from '../src/ticketId';
import { normalizeApiBase, parseRetryAfter } from '../src/api';

const ID = '0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90';

describe('nextPollDelay', () => {
  it('starts at 3 s', () => {
    expect(POLL_INITIAL_MS).toBe(3000);
    expect(nextPollDelay(null, 'received', true)).toBe(3000);
  });

  it('backs off to 10 s while nothing changes', () => {
    const seen: number[] = [];
    let delay: number | null = nextPollDelay(null, 'in_progress', true);
    for (let i = 0; i < 6; i++) {
      seen.push(delay!);
      delay = nextPollDelay(delay, 'in_progress', false);
    }
    expect(seen).toEqual([3000, 4500, 6750, 10000, 10000, 10000]);
    expect(POLL_MAX_MS).toBe(10000);
  });

  it('goes back to 3 s when something changed', () => {
    expect(nextPollDelay(10000, 'answered', true)).toBe(3000);
  });

  it('stops when resolved and slows down while our team has it', () => {
    expect(nextPollDelay(3000, 'resolved', true)).toBeNull();
    expect(nextPollDelay(3000, 'with_team', true)).toBe(POLL_ESCALATED_MS);
    expect(POLL_ESCALATED_MS).toBeGreaterThan(POLL_MAX_MS);
  });

  it('backs off after errors', () => {
    expect(nextErrorDelay(null)).toBe(3000);
    expect(nextErrorDelay(9000)).toBe(10000);
  });
});

describe('ticket IDs', () => {
  it('finds the ID in pasted text', () => {
    expect(extractTicketId(ID)).toBe(ID);
    expect(extractTicketId(`  Ticket: ${ID.toUpperCase()} `)).toBe(ID);
    expect(extractTicketId('12345')).toBeNull();
  });

  it('reads #ticket=<id>', () => {
    expect(ticketIdFromHash(`#ticket=${ID}`)).toBe(ID);
    expect(ticketIdFromHash(`#ticket=${ID}&x=1`)).toBe(ID);
    expect(ticketIdFromHash('#ticket=nope')).toBeNull();
    expect(ticketIdFromHash('#contact')).toBeNull();
    expect(ticketIdFromHash('')).toBeNull();
  });
});

describe('api helpers', () => {
  it('normalises the base URL', () => {
    expect(normalizeApiBase('https://support-api.example/')).toBe('https://support-api.example');
    expect(normalizeApiBase('https://support-api.example/api//')).toBe('https://support-api.example/api');
  });

  it('parses Retry-After', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
  });
});
