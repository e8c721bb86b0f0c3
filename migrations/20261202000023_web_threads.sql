-- The web form's conversation view: each web ticket gets an access key that
-- only its submitter holds (we keep its sha256 only) and the sender as the
-- form named it, replayed on every follow-up message so the worker addresses
-- the follow-up exactly as the submission. Web form messages carry their
-- ticket, so a ticket's thread never shows what another ticket or another
-- channel added to a shared conversation.

create table web_ticket_access (
    ticket_id        uuid primary key references tickets (id) on delete cascade,
    access_key_hash  bytea not null check (octet_length(access_key_hash) = 32),
    -- The inbound event's sender object (email, name, phone and any
    -- verification flags), as the submission carried it.
    sender           jsonb not null,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);

alter table messages add column ticket_id uuid references tickets (id) on delete set null;
create index idx_messages_ticket on messages (ticket_id, created_at) where ticket_id is not null;
-- Replies are tied to their ticket through the reply outbox.
create index idx_reply_outbox_ticket on reply_outbox (ticket_id) where ticket_id is not null;
-- The response estimate reads the last half hour of web tickets.
create index idx_tickets_web_created on tickets (created_at) where source_channel = 'web_form';

-- Existing web form submissions: the first message's channel id is its ticket id.
update messages m set ticket_id = t.id
from tickets t
where m.channel = 'web_form' and m.direction = 'inbound'
  and m.channel_message_id = t.id::text;
