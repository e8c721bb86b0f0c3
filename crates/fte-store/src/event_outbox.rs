//! The event outbox: events (inbound messages, escalations, metrics,
//! deliveries, dead letters) are committed in `event_outbox` next to the
//! rows they describe and published afterwards, so a broker hiccup after a
//! commit never loses one.
//!
//! A relay claims due events with a lease ([`claim_due_events`]: one
//! statement moves their `available_at` forward), publishes them holding
//! no transaction and no lock, then deletes the published ones
//! ([`delete_published`]) and records a failure on the first that failed.
//! One row may announce its event on several topics (`also_topics`, after
//! `topic`); it counts as published once every topic took it.
//! The table therefore holds only events still to publish. Two
//! relays never publish one event at the same time while the lease holds;
//! a relay that dies mid-round leaves its events to the next one once the
//! lease ends. An event queued with a later `available_at` waits until then.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// An event to queue with options.
#[derive(Clone, Debug)]
pub struct QueuedEvent<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Message key.
    pub key: &'a str,
    /// JSON payload.
    pub payload: &'a serde_json::Value,
    /// Kafka headers (content-free values only).
    pub headers: &'a [(&'a str, &'a str)],
    /// Not published before this time (`None`: at once).
    pub available_at: Option<DateTime<Utc>>,
}

/// Queues an event for publication; returns its id.
pub async fn enqueue_event(
    executor: impl PgExecutor<'_>,
    topic: &str,
    key: &str,
    payload: &serde_json::Value,
) -> Result<Uuid, StoreError> {
    queue_event(
        executor,
        &QueuedEvent {
            topic,
            key,
            payload,
            headers: &[],
            available_at: None,
        },
    )
    .await
}

/// Queues an event with headers and an optional earliest publication time;
/// returns its id.
pub async fn queue_event(
    executor: impl PgExecutor<'_>,
    event: &QueuedEvent<'_>,
) -> Result<Uuid, StoreError> {
    let headers: serde_json::Map<String, serde_json::Value> = event
        .headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
        .collect();
    let id = sqlx::query_scalar(
        "insert into event_outbox (topic, message_key, payload, headers, available_at)
         values ($1, $2, $3, $4, coalesce($5, now())) returning id",
    )
    .bind(event.topic)
    .bind(event.key)
    .bind(event.payload)
    .bind(serde_json::Value::Object(headers))
    .bind(event.available_at)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// Queues many events in one statement, each to be published on `topic`
/// and on every topic of `also_topics` (one row per event); returns
/// their ids in input order. Each event is `(key, payload)`, the payload
/// encoded JSON (PostgreSQL parses it into the `jsonb` column, so a caller
/// that publishes the same bytes encodes it once).
pub async fn enqueue_events(
    executor: impl PgExecutor<'_>,
    topic: &str,
    also_topics: &[&str],
    events: &[(&str, &str)],
) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::new_v4()).collect();
    let keys: Vec<&str> = events.iter().map(|e| e.0).collect();
    let payloads: Vec<&str> = events.iter().map(|e| e.1).collect();
    sqlx::query(
        "insert into event_outbox (id, topic, also_topics, message_key, payload)
         select e.id, $2, $3, e.message_key, e.payload::jsonb
         from unnest($1::uuid[], $4::text[], $5::text[]) as e(id, message_key, payload)",
    )
    .bind(&ids)
    .bind(topic)
    .bind(also_topics)
    .bind(&keys)
    .bind(&payloads)
    .execute(executor)
    .await?;
    Ok(ids)
}

/// An event waiting to be published.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingEvent {
    /// Id.
    pub id: Uuid,
    /// Topic.
    pub topic: String,
    /// Further topics the same event goes to, after `topic`.
    pub also_topics: Vec<String>,
    /// Message key.
    pub message_key: String,
    /// JSON payload.
    pub payload: serde_json::Value,
    /// Kafka headers, name to value.
    pub headers: serde_json::Value,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

impl PendingEvent {
    /// Every topic the event goes to, in publication order.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.topic.as_str()).chain(self.also_topics.iter().map(String::as_str))
    }

    /// The headers as name-value pairs.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Claims up to `limit` due unpublished events, oldest first, for `lease`:
/// those whose `available_at` has come and that are older than `grace`
/// unless an attempt already failed (the gateway leaves fresh events to the
/// request publishing them). One statement: no lock outlives it.
pub async fn claim_due_events(
    executor: impl PgExecutor<'_>,
    limit: i64,
    grace: Duration,
    lease: Duration,
) -> Result<Vec<PendingEvent>, StoreError> {
    let mut rows: Vec<PendingEvent> = sqlx::query_as(
        "with due as (
             select id from event_outbox
             where available_at <= now()
               and (attempts > 0 or created_at <= now() - make_interval(secs => $2))
             order by created_at, id
             limit $1
             for update skip locked
         )
         update event_outbox e set available_at = now() + make_interval(secs => $3),
             updated_at = now()
         from due where e.id = due.id
         returning e.id, e.topic, e.also_topics, e.message_key, e.payload, e.headers,
                   e.created_at",
    )
    .bind(limit)
    .bind(grace.as_secs_f64())
    .bind(lease.as_secs_f64())
    .fetch_all(executor)
    .await?;
    rows.sort_by_key(|event| (event.created_at, event.id));
    Ok(rows)
}

/// Forgets published events, in one statement (one per publish batch).
pub async fn delete_published(
    executor: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("delete from event_outbox where id = any($1)")
        .bind(ids)
        .execute(executor)
        .await?;
    Ok(())
}

/// Records a failed publication attempt; the event is due again at once
/// (its lease, if any, ends), and the relay's next round retries it.
pub async fn record_event_failure(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update event_outbox set attempts = attempts + 1, last_error = $2,
             available_at = least(available_at, now()), updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}
