-- What correctness and operations need beside the CRM: channel settings,
-- metrics, the reply outbox, the event outbox, webhook receipts and the
-- per-mailbox Gmail sync state.

create table channel_configs (
    id                   uuid primary key default gen_random_uuid(),
    channel              varchar(50) not null unique check (channel in ('email', 'whatsapp', 'web_form')),
    enabled              boolean not null default true,
    config               jsonb not null default '{}',
    response_template    text,
    max_response_length  integer check (max_response_length > 0),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now()
);
-- Limits from the brand voice: words for email and web, characters for WhatsApp.
insert into channel_configs (channel, config, max_response_length) values
    ('email', '{"unit": "words"}', 500),
    ('whatsapp', '{"unit": "characters"}', 300),
    ('web_form', '{"unit": "words"}', 300);

create table agent_metrics (
    id            uuid primary key default gen_random_uuid(),
    metric_name   varchar(100) not null,
    metric_value  numeric(14, 4) not null,
    channel       varchar(50) check (channel in ('email', 'whatsapp', 'web_form')),
    dimensions    jsonb not null default '{}',
    recorded_at   timestamptz not null default now(),
    created_at    timestamptz not null default now()
);
create index idx_agent_metrics_name_time on agent_metrics (metric_name, recorded_at);
create index idx_agent_metrics_channel_time on agent_metrics (channel, recorded_at);

-- Replies commit here together with the agent's result; a sender loop claims
-- due rows with `for update skip locked` and delivers them.
create table reply_outbox (
    id                   uuid primary key default gen_random_uuid(),
    message_id           uuid not null unique references messages (id) on delete cascade,
    conversation_id      uuid not null references conversations (id) on delete cascade,
    ticket_id            uuid references tickets (id) on delete set null,
    channel              varchar(50) not null check (channel in ('email', 'whatsapp', 'web_form')),
    -- Everything the sender needs: recipient, thread headers, parts.
    payload              jsonb not null,
    status               varchar(20) not null default 'pending'
                         check (status in ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts             integer not null default 0 check (attempts >= 0),
    next_attempt_at      timestamptz not null default now(),
    last_error           text,
    provider_message_id  varchar(255),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    sent_at              timestamptz
);
create index idx_reply_outbox_due on reply_outbox (channel, next_attempt_at)
    where status in ('pending', 'unknown');

-- Events committed in the same transaction as the rows they describe, for a
-- relay to publish when the broker could not take them at once.
create table event_outbox (
    id            uuid primary key default gen_random_uuid(),
    topic         varchar(255) not null,
    message_key   varchar(255) not null,
    payload       jsonb not null,
    attempts      integer not null default 0,
    last_error    text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    published_at  timestamptz
);
create index idx_event_outbox_unpublished on event_outbox (created_at) where published_at is null;

-- Webhook receipts, unique on the provider's id: a retried webhook is
-- acknowledged without being published twice.
create table inbound_receipts (
    id                  uuid primary key default gen_random_uuid(),
    channel             varchar(50) not null check (channel in ('email', 'whatsapp', 'web_form')),
    channel_message_id  varchar(255) not null,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    unique (channel, channel_message_id)
);

-- Gmail: the last historyId we processed per mailbox (never the one in the
-- push notification) and when the watch expires.
create table gmail_sync_state (
    mailbox           varchar(255) primary key,
    history_id        bigint not null check (history_id >= 0),
    watch_expires_at  timestamptz,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
