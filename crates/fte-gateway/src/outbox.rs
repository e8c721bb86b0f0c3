//! Publishing events, directly or through the event outbox.
//!
//! The web form commits its rows and its events together (`event_outbox`),
//! then publishes at once. When that publish fails (or the process dies
//! between commit and publish), the [`relay`] publishes the committed event
//! later, so an accepted submission always reaches Kafka. Delivery is
//! at-least-once: the worker deduplicates on the channel message id.

use std::time::Duration;

use anyhow::Context;
use fte_bus::{BusError, KafkaPublisher, topics};
use fte_domain::{EventEnvelope, InboundMessage};
use fte_store::{outbox as events, tickets};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How often the relay looks for unpublished events.
pub const RELAY_INTERVAL: Duration = Duration::from_secs(1);
/// Events younger than this with no failed attempt are left to the request
/// that created them (it is publishing them right now).
pub const RELAY_GRACE: Duration = Duration::from_secs(30);
/// Events published per relay transaction.
const RELAY_BATCH: i64 = 100;

/// Publishes an inbound message to `fte.tickets.incoming` and to its
/// channel's inbound topic, keyed by the customer's identity; returns once
/// the broker acknowledged both.
pub async fn publish_inbound(
    publisher: &KafkaPublisher,
    envelope: &EventEnvelope<InboundMessage>,
) -> Result<(), BusError> {
    let payload = serde_json::to_vec(envelope).map_err(|e| BusError::Encode(e.to_string()))?;
    let key = envelope.payload.partition_key();
    let channel_topic = topics::inbound(envelope.payload.channel);
    tokio::try_join!(
        publisher.publish(topics::TICKETS_INCOMING, &key, &payload, &[]),
        publisher.publish(channel_topic, &key, &payload, &[]),
    )?;
    Ok(())
}

/// An event committed to the outbox, to publish now.
#[derive(Clone, Debug)]
pub struct Enqueued {
    /// Outbox row.
    pub id: Uuid,
    /// Topic.
    pub topic: &'static str,
}

/// Events of one submission, committed to the outbox: their rows, the
/// partition key and the encoded payload.
pub type CommittedEvents = (Vec<Enqueued>, String, Vec<u8>);

/// Publishes events that were just committed to the outbox (all at once)
/// and marks the published ones with one statement. A failure is recorded
/// on its row (the relay then retries it) and logged; it is not an error
/// for the caller, whose data is durable.
pub async fn publish_committed_batch(
    pool: &PgPool,
    publisher: &KafkaPublisher,
    committed: &[CommittedEvents],
) {
    let attempts = committed.iter().flat_map(|(events, key, payload)| {
        events.iter().map(move |event| async move {
            (
                event,
                publisher.publish(event.topic, key, payload, &[]).await,
            )
        })
    });
    let mut published = Vec::new();
    for (event, result) in futures::future::join_all(attempts).await {
        match result {
            Ok(_) => published.push(event.id),
            Err(error) => {
                tracing::warn!(
                    outbox.id = %event.id,
                    topic = event.topic,
                    error = %error,
                    "publish failed; the outbox relay will retry"
                );
                if let Err(error) =
                    events::record_event_failure(pool, event.id, "publish_failed").await
                {
                    tracing::warn!(%error, "failed to record an outbox publish failure");
                }
            }
        }
    }
    if published.is_empty() {
        return;
    }
    if let Err(error) = events::mark_events_published(pool, &published).await {
        // Harmless: the relay republishes (at-least-once) and consumers dedupe.
        tracing::warn!(%error, "failed to mark outbox events published");
    }
}

/// Commits `tx` together with `event` for `topic` (keyed by `key`), then
/// publishes the event in the background: a failed publish is left to the
/// outbox relay, so the change and its event are never apart.
pub async fn commit_with_event<T: serde::Serialize>(
    pool: &PgPool,
    publisher: &KafkaPublisher,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    topic: &'static str,
    key: String,
    event: &EventEnvelope<T>,
) -> anyhow::Result<()> {
    let value = serde_json::to_value(event).context("Failed to encode an event")?;
    let id = events::enqueue_event(&mut *tx, topic, &key, &value)
        .await
        .context("Failed to enqueue an event")?;
    tx.commit()
        .await
        .with_context(|| format!("Failed to commit {}", event.event_type))?;
    let payload = serde_json::to_vec(&value).context("Failed to encode an event")?;
    let (pool, publisher) = (pool.clone(), publisher.clone());
    tokio::spawn(async move {
        publish_committed_batch(
            &pool,
            &publisher,
            &[(vec![Enqueued { id, topic }], key, payload)],
        )
        .await;
    });
    Ok(())
}

/// Publishes due outbox events once; returns how many were published. Rows
/// stay locked (`for update skip locked`) while they are published, so two
/// relays never publish the same row at the same time.
pub async fn relay_once(pool: &PgPool, publisher: &KafkaPublisher) -> anyhow::Result<usize> {
    let mut tx = pool
        .begin()
        .await
        .context("Failed to begin the relay transaction")?;
    let due = tickets::claim_pending_events(&mut tx, RELAY_BATCH, RELAY_GRACE)
        .await
        .context("Failed to claim outbox events")?;
    let mut published = 0;
    for event in &due {
        let payload =
            serde_json::to_vec(&event.payload).context("Failed to encode an outbox event")?;
        match publisher
            .publish(&event.topic, &event.message_key, &payload, &[])
            .await
        {
            Ok(_) => {
                events::mark_event_published(&mut *tx, event.id)
                    .await
                    .context("Failed to mark an outbox event published")?;
                published += 1;
            }
            Err(error) => {
                tracing::warn!(outbox.id = %event.id, topic = %event.topic, error = %error, "relay publish failed");
                events::record_event_failure(&mut *tx, event.id, "publish_failed")
                    .await
                    .context("Failed to record an outbox publish failure")?;
                // The broker is likely down: try again on the next tick.
                break;
            }
        }
    }
    tx.commit()
        .await
        .context("Failed to commit the relay transaction")?;
    if published > 0 {
        tracing::info!(count = published, "outbox relay published events");
    }
    Ok(published)
}

/// Runs [`relay_once`] every [`RELAY_INTERVAL`] until `shutdown`.
pub async fn relay(pool: PgPool, publisher: KafkaPublisher, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RELAY_INTERVAL) => {}
        }
        if let Err(error) = relay_once(&pool, &publisher).await {
            tracing::warn!(error = format!("{error:#}"), "outbox relay pass failed");
        }
    }
}
