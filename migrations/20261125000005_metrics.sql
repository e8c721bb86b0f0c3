-- The metrics collector (consumer group fte-metrics-collector) owns
-- agent_metrics: each row comes from one fte.metrics event, and the event's id
-- makes a redelivered event a no-op.
alter table agent_metrics add column event_id uuid;
create unique index uq_agent_metrics_event_metric on agent_metrics (event_id, metric_name)
    where event_id is not null;

-- Consumer lag as the worker last measured it, per group and partition, so the
-- gateway's /metrics/summary and its alerts read the same figure without a
-- Kafka client of their own.
create table consumer_lag (
    group_id     varchar(255) not null,
    topic        varchar(255) not null,
    partition    integer not null check (partition >= 0),
    lag          bigint not null check (lag >= 0),
    measured_at  timestamptz not null default now(),
    primary key (group_id, topic, partition)
);

-- One row per process start; starts beyond a deployment's replicas within a
-- window are restarts.
create table process_starts (
    id          uuid primary key default gen_random_uuid(),
    process     varchar(20) not null check (process in ('api', 'worker')),
    started_at  timestamptz not null default now()
);
create index idx_process_starts_time on process_starts (started_at);
