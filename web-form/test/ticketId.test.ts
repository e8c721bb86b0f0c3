import { describe, expect, it } from 'vitest';
import { extractTicketId, extractTicketLink, rememberKey, rememberedKey, ticketHash, ticketLinkFromHash } from '../src/ticketId';

const ID = '0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90';
const KEY = 'Abc_def-0123456789abcdefghijklmnopqrstuvwx';

describe('ticket links', () => {
  it('finds the ticket and its key in a pasted link, an ID or an email line', () => {
    expect(extractTicketLink(`https://help.example/support#ticket=${ID}&key=${KEY}`)).toEqual({ ticketId: ID, accessKey: KEY });
    expect(extractTicketLink(`https://api.example/support/ticket/${ID}?access_key=${KEY}`)).toEqual({ ticketId: ID, accessKey: KEY });
    expect(extractTicketLink(`Ticket: ${ID.toUpperCase()}`)).toEqual({ ticketId: ID, accessKey: null });
    expect(extractTicketLink(`#ticket=${ID}&key=<script>`)).toEqual({ ticketId: ID, accessKey: null });
    expect(extractTicketLink('nothing here')).toBeNull();
    expect(extractTicketId(ID)).toBe(ID);
  });

  it('round-trips through the page hash', () => {
    const link = { ticketId: ID, accessKey: KEY };
    expect(ticketHash(link)).toBe(`#ticket=${ID}&key=${KEY}`);
    expect(ticketLinkFromHash(ticketHash(link))).toEqual(link);
    expect(ticketLinkFromHash(`#ticket=${ID}`)).toEqual({ ticketId: ID, accessKey: null });
    expect(ticketLinkFromHash('#other=1')).toBeNull();
  });

  it('remembers the last keys of tickets sent from this browser', () => {
    rememberKey({ ticketId: ID, accessKey: KEY });
    for (let i = 0; i < 25; i += 1) {
      rememberKey({ ticketId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, accessKey: KEY });
    }
    expect(rememberedKey('00000000-0000-4000-8000-000000000024')).toBe(KEY);
    expect(rememberedKey(ID)).toBeNull();
  });
});
