-- Dead letters replayed by an operator (`fte dlq replay`, `POST /dlq/replay`).
-- A dead letter lives in the `fte.dlq` topic, which stays the source of truth;
-- this table only remembers which ones were put back on their origin topic, so
-- a dead letter is replayed once. Its id (`<partition>-<offset>` in `fte.dlq`)
-- is unique only for the topic's lifetime, so the dead-letter time is part of
-- the key: a recreated topic's `0-0` is another dead letter.

create table dlq_replays (
    dead_letter_id    varchar(40) not null,
    dead_lettered_at  timestamptz not null,
    origin_topic      varchar(255) not null,
    replayed_by       varchar(255) not null,
    replayed_at       timestamptz not null default now(),
    primary key (dead_letter_id, dead_lettered_at)
);
