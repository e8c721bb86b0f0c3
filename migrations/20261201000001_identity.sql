-- Identity: how far each link between an identifier and a customer is
-- proven, staff merges of customers, which link each inbound message came
-- through, and the emails sent to each address (for the cap on addresses
-- that never proved themselves). docs/identity.md explains the rules.

-- The trust of a link. `verified` (from the CRM schema) means: the channel
-- proved the sender owns the identifier AND the link to this customer is
-- proven. Nothing wrote `verified = true` before this migration, so every
-- existing link stays claimed; `trust_source` records that it predates
-- trust levels ('legacy').
alter table customer_identifiers
    add column trust_source varchar(30) not null default 'legacy'
        check (trust_source in ('legacy', 'claim', 'gmail_authenticated', 'twilio_signature',
                                'web_identity_token', 'staff')),
    -- The message (channel message id) or staff member behind the current trust.
    add column trust_reference varchar(255),
    add column trust_changed_at timestamptz not null default now(),
    -- The customer was created by this identifier: a later proof of the
    -- identifier proves the link.
    add column founding boolean not null default false,
    -- Claimed in a message where another identifier of this customer was
    -- proven and verified: a later proof of this identifier proves the link.
    add column vouched boolean not null default false,
    -- The message that created the link proved the sender owns the
    -- identifier (the link to this customer may still be a claim).
    add column identifier_proven boolean not null default false;

-- A customer's first identifier founded it. Links written in one
-- transaction share created_at; the worker linked the email first.
update customer_identifiers i set founding = true
where i.id = (select j.id from customer_identifiers j
              where j.customer_id = i.customer_id
              order by j.created_at, j.identifier_type, j.id
              limit 1);

-- Merged customers stay as tombstones pointing at the survivor, so an old
-- id (in an event, a bookmark) still finds the customer.
alter table customers
    add column merged_into uuid references customers (id),
    -- Whether name, email and phone were last written by a verified message
    -- (a claim never overwrites or adds to them then).
    add column profile_verified boolean not null default false,
    add constraint customers_not_merged_into_self check (merged_into <> id);
create index idx_customers_merged_into on customers (merged_into) where merged_into is not null;

create table customer_merges (
    id                   uuid primary key default gen_random_uuid(),
    -- The customer absorbed (now a tombstone).
    source_customer_id   uuid not null references customers (id) on delete cascade,
    -- The survivor.
    target_customer_id   uuid not null references customers (id) on delete cascade,
    merged_by            varchar(255),
    identifiers_moved    integer not null check (identifiers_moved >= 0),
    conversations_moved  integer not null check (conversations_moved >= 0),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    check (source_customer_id <> target_customer_id)
);
create unique index uq_customer_merges_source on customer_merges (source_customer_id);
create index idx_customer_merges_target on customer_merges (target_customer_id);

-- Every change of a link: linked, upgraded, displaced (a proven sender took
-- an identifier back from an unproven claim), unlinked (staff), merged.
create table identifier_events (
    id                uuid primary key default gen_random_uuid(),
    customer_id       uuid not null references customers (id) on delete cascade,
    identifier_type   varchar(50) not null check (identifier_type in ('email', 'phone', 'whatsapp')),
    identifier_value  varchar(255) not null,
    action            varchar(20) not null
                      check (action in ('linked', 'upgraded', 'displaced', 'unlinked', 'merged')),
    trust             varchar(20) not null check (trust in ('claimed', 'verified')),
    trust_source      varchar(30) not null
                      check (trust_source in ('legacy', 'claim', 'gmail_authenticated', 'twilio_signature',
                                              'web_identity_token', 'staff')),
    -- The channel message id, or the staff member.
    reference         varchar(255),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
create index idx_identifier_events_customer on identifier_events (customer_id, created_at);

-- The link an inbound message came through and its trust at that moment,
-- so rate limits can be keyed on what a claim can trigger.
alter table messages
    add column sender_identifier_id uuid references customer_identifiers (id) on delete set null,
    add column sender_trust varchar(20) check (sender_trust in ('claimed', 'verified'));
create index idx_messages_sender_recent on messages (sender_identifier_id, created_at)
    where direction = 'inbound' and sender_identifier_id is not null;

-- A reply whose email was not sent because its address is over the daily
-- cap for addresses that never proved themselves.
alter table reply_outbox drop constraint reply_outbox_status_check;
alter table reply_outbox add constraint reply_outbox_status_check
    check (status in ('pending', 'sending', 'sent', 'failed', 'unknown', 'suppressed'));
alter table messages drop constraint messages_delivery_status_check;
alter table messages add constraint messages_delivery_status_check
    check (delivery_status in ('pending', 'queued', 'sent', 'delivered', 'read', 'failed',
                               'undelivered', 'received', 'suppressed'));

-- One row per reply sent (or about to be sent) by email, keyed by its
-- outbox row, with the sha256 of the normalised address: the daily cap
-- counts these without storing the address again.
create table email_sends (
    outbox_id       uuid primary key references reply_outbox (id) on delete cascade,
    recipient_hash  char(64) not null,
    created_at      timestamptz not null default now()
);
create index idx_email_sends_recipient on email_sends (recipient_hash, created_at);
