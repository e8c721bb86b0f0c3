//! Events the worker emits, and their relay to Kafka.
//!
//! Every event is written to `event_outbox` in the transaction that commits
//! the rows it describes, then published by [`relay_pending`]: right after
//! the commit, and periodically by the binary for whatever a broker outage
//! left behind (and for events queued for later, such as a deferred
//! follow-up). Events are claimed with a lease and published holding no
//! transaction, so a slow broker never holds a connection or a lock. A
//! commit therefore never loses its events; a crash between publish and
//! mark may publish one twice, which consumers tolerate (each envelope
//! carries a unique `event_id`).

use std::time::Duration;

use async_trait::async_trait;
use fte_bus::KafkaPublisher;
use fte_store::{PgPool, StoreError, outbox};

/// Where events go. Kafka in production; tests record them.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Publishes one payload under `key` with `headers`; returns once the
    /// broker has it.
    async fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<(), String>;
}

#[async_trait]
impl EventSink for KafkaPublisher {
    async fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<(), String> {
        KafkaPublisher::publish(self, topic, key, payload, headers)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// How long a step waits for the inline relay after its commit; a slower
/// broker leaves the events to the periodic relay instead of stalling the
/// partition.
pub const INLINE_RELAY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// [`relay_pending`] bounded by [`INLINE_RELAY_TIMEOUT`]; failures are
/// logged, never returned (the events stay in the outbox).
pub async fn relay_soon(pool: &PgPool, sink: &dyn EventSink) {
    match tokio::time::timeout(INLINE_RELAY_TIMEOUT, relay_pending(pool, sink, 100)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::warn!(%error, "events stay in the outbox for the relay"),
        Err(_) => tracing::warn!("broker slow; events stay in the outbox for the relay"),
    }
}

/// How long a relay's claim on an event keeps other relays away.
pub const RELAY_LEASE: Duration = Duration::from_secs(60);

/// Publishes up to `limit` due events, oldest first; returns how many were
/// published. Stops at the first failure (the broker is likely down; the
/// rest wait for their lease to end and the next round).
pub async fn relay_pending(
    pool: &PgPool,
    sink: &dyn EventSink,
    limit: i64,
) -> Result<usize, StoreError> {
    let events = outbox::claim_due_events(pool, limit, Duration::ZERO, RELAY_LEASE).await?;
    // Published in order (one partition key's events keep their order), and
    // forgotten with one statement at the end; a crash before it publishes
    // them again later, which consumers deduplicate.
    let mut published = Vec::with_capacity(events.len());
    let mut failed = None;
    'events: for event in events {
        let payload = serde_json::to_vec(&event.payload).unwrap_or_default();
        for topic in event.topics() {
            if let Err(error) = sink
                .publish(topic, &event.message_key, &payload, &event.header_pairs())
                .await
            {
                tracing::warn!(event.id = %event.id, topic, %error, "event not published; will retry");
                failed = Some((event.id, error));
                break 'events;
            }
        }
        published.push(event.id);
    }
    // What was published is forgotten first, so a failure to record the
    // failed one does not republish the others.
    outbox::delete_published(pool, &published).await?;
    if let Some((id, error)) = failed {
        outbox::record_event_failure(pool, id, &error).await?;
    }
    let published = published.len();
    Ok(published)
}
