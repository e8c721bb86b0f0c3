-- The CRM: customers and their identifiers, conversations, messages, tickets,
-- escalations. Every enumerated column has a CHECK constraint whose values
-- match the types in fte-domain.


create table customers (
    id          uuid primary key default gen_random_uuid(),
    -- Normalised (trimmed, lower-cased) primary email, when known.
    email       varchar(255) unique,
    -- E.164 primary phone, when known.
    phone       varchar(50),
    name        varchar(255),
    -- The customer's plan tier drives the promised human response time.
    plan        varchar(20) check (plan in ('free', 'team', 'business', 'enterprise')),
    metadata    jsonb not null default '{}',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index idx_customers_email on customers (email);
create index idx_customers_phone on customers (phone);

-- Every way we know a customer. (identifier_type, identifier_value) is unique,
-- so one email or one phone can never belong to two customers.
create table customer_identifiers (
    id                uuid primary key default gen_random_uuid(),
    customer_id       uuid not null references customers (id) on delete cascade,
    identifier_type   varchar(50) not null check (identifier_type in ('email', 'phone', 'whatsapp')),
    identifier_value  varchar(255) not null,
    verified          boolean not null default false,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    unique (identifier_type, identifier_value)
);
create index idx_customer_identifiers_value on customer_identifiers (identifier_value);
create index idx_customer_identifiers_customer on customer_identifiers (customer_id);

create table conversations (
    id                uuid primary key default gen_random_uuid(),
    customer_id       uuid not null references customers (id) on delete cascade,
    initial_channel   varchar(50) not null check (initial_channel in ('email', 'whatsapp', 'web_form')),
    -- The channel of the latest inbound message: replies go here.
    current_channel   varchar(50) not null check (current_channel in ('email', 'whatsapp', 'web_form')),
    started_at        timestamptz not null default now(),
    -- Drives the 24-hour continuation rule.
    last_message_at   timestamptz not null default now(),
    ended_at          timestamptz,
    status            varchar(50) not null default 'active'
                      check (status in ('active', 'escalated', 'resolved')),
    sentiment_score   numeric(3, 2) check (sentiment_score between -1 and 1),
    resolution_type   varchar(50) check (resolution_type in ('bot', 'human', 'customer', 'expired')),
    escalated_to      varchar(255),
    metadata          jsonb not null default '{}',
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
create index idx_conversations_customer on conversations (customer_id);
create index idx_conversations_status on conversations (status);
create index idx_conversations_channel on conversations (initial_channel);
-- The worker's hot lookup: a customer's open conversation, newest first.
create index idx_conversations_customer_open on conversations (customer_id, last_message_at desc)
    where status <> 'resolved';

-- Each time a conversation moves from one channel to another.
create table conversation_channel_switches (
    id               uuid primary key default gen_random_uuid(),
    conversation_id  uuid not null references conversations (id) on delete cascade,
    from_channel     varchar(50) not null check (from_channel in ('email', 'whatsapp', 'web_form')),
    to_channel       varchar(50) not null check (to_channel in ('email', 'whatsapp', 'web_form')),
    created_at       timestamptz not null default now(),
    check (from_channel <> to_channel)
);
create index idx_channel_switches_conversation on conversation_channel_switches (conversation_id);

create table messages (
    id                  uuid primary key default gen_random_uuid(),
    conversation_id     uuid not null references conversations (id) on delete cascade,
    channel             varchar(50) not null check (channel in ('email', 'whatsapp', 'web_form')),
    direction           varchar(20) not null check (direction in ('inbound', 'outbound')),
    role                varchar(20) not null check (role in ('customer', 'agent', 'system')),
    content             text not null,
    tokens_used         integer check (tokens_used >= 0),
    latency_ms          integer check (latency_ms >= 0),
    tool_calls          jsonb not null default '[]',
    -- The channel's own id: Gmail message id, Twilio MessageSid, web submission id.
    channel_message_id  varchar(255),
    delivery_status     varchar(50) not null default 'pending'
                        check (delivery_status in ('pending', 'queued', 'sent', 'delivered', 'read', 'failed', 'undelivered', 'received')),
    sentiment           numeric(3, 2) check (sentiment between -1 and 1),
    -- Staff member who wrote an agent message by hand, if any.
    author              varchar(255),
    metadata            jsonb not null default '{}',
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
create index idx_messages_conversation on messages (conversation_id, created_at);
create index idx_messages_channel on messages (channel);
-- Idempotency: a redelivered inbound message (or a re-sent reply) is a no-op.
create unique index uq_messages_channel_message_id on messages (channel, direction, channel_message_id)
    where channel_message_id is not null;

create table tickets (
    id                uuid primary key default gen_random_uuid(),
    conversation_id   uuid references conversations (id) on delete cascade,
    customer_id       uuid references customers (id) on delete cascade,
    source_channel    varchar(50) not null check (source_channel in ('email', 'whatsapp', 'web_form')),
    subject           varchar(500),
    category          varchar(100) check (category in ('general', 'technical', 'billing', 'feedback', 'bug_report')),
    priority          varchar(20) not null default 'medium' check (priority in ('low', 'medium', 'high')),
    status            varchar(50) not null default 'open'
                      check (status in ('open', 'processing', 'resolved', 'escalated')),
    resolution_notes  text,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    resolved_at       timestamptz,
    escalated_at      timestamptz
);
create index idx_tickets_status on tickets (status);
create index idx_tickets_channel on tickets (source_channel);
create index idx_tickets_conversation on tickets (conversation_id);
create index idx_tickets_customer on tickets (customer_id);

create table escalations (
    id                     uuid primary key default gen_random_uuid(),
    ticket_id              uuid not null references tickets (id) on delete cascade,
    conversation_id        uuid not null references conversations (id) on delete cascade,
    customer_id            uuid not null references customers (id) on delete cascade,
    channel                varchar(50) not null check (channel in ('email', 'whatsapp', 'web_form')),
    reason                 varchar(50) not null
                           check (reason in ('pricing', 'refund', 'legal', 'anger', 'human_request', 'search_failed', 'account_security')),
    status                 varchar(20) not null default 'pending'
                           check (status in ('pending', 'assigned', 'resolved')),
    assigned_to            varchar(255),
    -- Summary, customer, channel and reason for the staff view and the event.
    full_context           jsonb not null default '{}',
    expected_response_by   timestamptz,
    resolution_notes       text,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    assigned_at            timestamptz,
    resolved_at            timestamptz
);
-- One escalation per ticket.
create unique index uq_escalations_ticket on escalations (ticket_id);
create index idx_escalations_status_created on escalations (status, created_at);
