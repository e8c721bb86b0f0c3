-- The web form's group commit no longer writes one event_outbox row per
-- submission (each a copy of the whole message, inserted and deleted within
-- milliseconds: about 40 µs of PostgreSQL CPU per submission and the
-- table's bloat). A batch records which of its tickets still have to be
-- published, in one row listing them, deleted once every event of the batch
-- is on the broker. A relay that finds a row past its grace (a failed
-- publish, or a gateway that stopped before publishing) rebuilds the events
-- from the tickets and their access rows, which hold the whole submission.
create table web_submit_batches (
    id           uuid primary key,
    ticket_ids   uuid[] not null,
    created_at   timestamptz not null default now(),
    available_at timestamptz not null default now(),
    attempts     integer not null default 0,
    last_error   text,
    updated_at   timestamptz not null default now()
);
