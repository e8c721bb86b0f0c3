//! Publishing events through the event outbox.
//!
//! The web form and the WhatsApp webhook commit their rows and their events
//! together (`event_outbox`), then publish at once, holding no transaction. When that publish fails (or the process dies
//! between commit and publish), the [`relay`] publishes the committed event
//! later, so an accepted submission always reaches Kafka. Delivery is
//! at-least-once: the worker deduplicates on the channel message id.

use std::time::Duration;

use anyhow::Context;
use fte_bus::{KafkaPublisher, topics};
use fte_domain::{EventEnvelope, InboundMessage};
use fte_store::outbox as events;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How often the relay looks for unpublished events.
pub const RELAY_INTERVAL: Duration = Duration::from_secs(1);
/// Events younger than this with no failed attempt are left to the request
/// that created them (it is publishing them right now).
pub const RELAY_GRACE: Duration = Duration::from_secs(30);
/// Events claimed per relay round.
const RELAY_BATCH: i64 = 100;
/// How long a relay's claim on an event keeps other relays away.
pub const RELAY_LEASE: Duration = Duration::from_secs(60);

/// Queues an inbound message for `fte.tickets.incoming` and its channel's
/// inbound topic, keyed by the customer's identity, in the caller's
/// transaction; after the commit, [`publish_committed_batch`] publishes
/// them (and the relay, if that fails).
pub async fn enqueue_inbound(
    conn: &mut sqlx::PgConnection,
    envelope: &EventEnvelope<InboundMessage>,
) -> Result<CommittedEvents, fte_store::StoreError> {
    let value = serde_json::to_value(envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let key = envelope.payload.partition_key();
    let topics = [
        topics::TICKETS_INCOMING,
        topics::inbound(envelope.payload.channel),
    ];
    let rows: Vec<(&str, &str, &serde_json::Value)> = topics
        .iter()
        .map(|topic| (*topic, key.as_str(), &value))
        .collect();
    let ids = events::enqueue_events(&mut *conn, &rows).await?;
    let enqueued = ids
        .into_iter()
        .zip(topics)
        .map(|(id, topic)| Enqueued { id, topic })
        .collect();
    let payload = serde_json::to_vec(&value).unwrap_or_default();
    Ok((enqueued, key, payload))
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

/// Where a web form message is announced.
pub const WEB_INBOUND_TOPICS: [&str; 2] = [topics::TICKETS_INCOMING, topics::WEB_INBOUND];

/// Commits web form messages' events to the outbox in the caller's
/// transaction (one row per topic of [`WEB_INBOUND_TOPICS`], keyed by the
/// customer's identity); returns them ready for
/// [`publish_committed_batch`] once the transaction committed.
pub async fn enqueue_web_inbound(
    conn: &mut sqlx::PgConnection,
    envelopes: &[EventEnvelope<InboundMessage>],
) -> Result<Vec<CommittedEvents>, fte_store::StoreError> {
    let encoded: Vec<(String, serde_json::Value)> = envelopes
        .iter()
        .map(|envelope| {
            let value = serde_json::to_value(envelope).unwrap_or_default();
            (envelope.payload.partition_key(), value)
        })
        .collect();
    let rows: Vec<(&str, &str, &serde_json::Value)> = encoded
        .iter()
        .flat_map(|(key, value)| WEB_INBOUND_TOPICS.map(|topic| (topic, key.as_str(), value)))
        .collect();
    let ids = events::enqueue_events(&mut *conn, &rows).await?;
    Ok(encoded
        .into_iter()
        .zip(ids.chunks(WEB_INBOUND_TOPICS.len()))
        .map(|((key, value), ids)| {
            let enqueued = ids
                .iter()
                .zip(WEB_INBOUND_TOPICS)
                .map(|(id, topic)| Enqueued { id: *id, topic })
                .collect();
            (
                enqueued,
                key,
                serde_json::to_vec(&value).unwrap_or_default(),
            )
        })
        .collect())
}

/// Publishes events that were just committed to the outbox (all at once)
/// and deletes the published ones with one statement. A failure is recorded
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
    if let Err(error) = events::delete_published(pool, &published).await {
        // Harmless: the relay republishes (at-least-once) and consumers dedupe.
        tracing::warn!(%error, "failed to delete published outbox events");
    }
}

/// Commits `tx` together with `event` for `topic` (keyed by `key`), then
/// publishes the event in the background: a failed publish, or no publisher
/// in this process, is left to the outbox relay, so the change and its event
/// are never apart.
pub async fn commit_with_event<T: serde::Serialize>(
    pool: &PgPool,
    publisher: Option<&KafkaPublisher>,
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
    let Some(publisher) = publisher else {
        return Ok(());
    };
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

/// Publishes due outbox events once; returns how many were published.
/// Events are claimed for [`RELAY_LEASE`] in one statement and published
/// holding no transaction, so a slow or absent broker never holds a
/// database connection or lock; two relays never publish the same event at
/// the same time while the lease holds.
pub async fn relay_once(pool: &PgPool, publisher: &KafkaPublisher) -> anyhow::Result<usize> {
    let due = events::claim_due_events(pool, RELAY_BATCH, RELAY_GRACE, RELAY_LEASE)
        .await
        .context("Failed to claim outbox events")?;
    // In order (one key's events keep their order); forgotten with one
    // statement at the end. A crash before it publishes them again later,
    // which consumers deduplicate.
    let mut published = Vec::with_capacity(due.len());
    let mut failed = None;
    for event in &due {
        let payload =
            serde_json::to_vec(&event.payload).context("Failed to encode an outbox event")?;
        match publisher
            .publish(
                &event.topic,
                &event.message_key,
                &payload,
                &event.header_pairs(),
            )
            .await
        {
            Ok(_) => published.push(event.id),
            Err(error) => {
                tracing::warn!(outbox.id = %event.id, topic = %event.topic, error = %error, "relay publish failed");
                failed = Some(event.id);
                // The broker is likely down: the rest wait for their lease
                // to end and the next tick.
                break;
            }
        }
    }
    // What was published is forgotten first, so a failure to record the
    // failed one does not republish the others.
    events::delete_published(pool, &published)
        .await
        .context("Failed to delete published outbox events")?;
    if let Some(id) = failed {
        events::record_event_failure(pool, id, "publish_failed")
            .await
            .context("Failed to record an outbox publish failure")?;
    }
    let published = published.len();
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
