-- Idempotency keys of the web form's writes (a submission, a follow-up).
-- A client that did not get the answer to a write retries it with the same
-- `Idempotency-Key` header and gets the first answer back instead of a second
-- ticket or message. The key itself is never stored: `scope_hash` is the
-- sha256 of the key together with what it is scoped to (the submitted email,
-- or the ticket of a follow-up), so a key reused by someone else finds
-- nothing. `request_hash` is the sha256 of the request's content: the same
-- key with another content is refused. A submission's access key is stored
-- sealed with a pad only the key's holder can derive, so the retry can show
-- the same access key while the database alone cannot.

create table idempotency_keys (
    scope_hash         bytea primary key check (octet_length(scope_hash) = 32),
    request_hash       bytea not null check (octet_length(request_hash) = 32),
    -- The ticket the first request created or wrote into. Checked at commit:
    -- the key is claimed before the ticket of its batch is written.
    ticket_id          uuid not null references tickets (id) on delete cascade
                       deferrable initially deferred,
    -- A submission's access key, sealed (32 bytes); null for a follow-up.
    sealed_access_key  bytea check (octet_length(sealed_access_key) = 32),
    -- A follow-up's message; null for a submission.
    message_id         uuid,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);

create index idx_idempotency_keys_ticket on idempotency_keys (ticket_id);
