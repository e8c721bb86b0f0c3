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
/// inbound topic (one outbox row), keyed by the customer's identity, in the
/// caller's transaction; after the commit, [`publish_committed_batch`]
/// publishes it (and the relay, if that fails).
pub async fn enqueue_inbound(
    conn: &mut sqlx::PgConnection,
    envelope: &EventEnvelope<InboundMessage>,
) -> Result<CommittedEvents, fte_store::StoreError> {
    let payload = serde_json::to_string(envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let key = envelope.payload.partition_key();
    let topics = vec![
        topics::TICKETS_INCOMING,
        topics::inbound(envelope.payload.channel),
    ];
    let ids = events::enqueue_events(
        &mut *conn,
        topics[0],
        &topics[1..],
        &[(key.as_str(), payload.as_str())],
    )
    .await?;
    let enqueued = ids
        .into_iter()
        .map(|id| Enqueued {
            id,
            topics: topics.clone(),
        })
        .collect();
    Ok((enqueued, key, payload.into_bytes()))
}

/// An event committed to the outbox, to publish now.
#[derive(Clone, Debug)]
pub struct Enqueued {
    /// Outbox row.
    pub id: Uuid,
    /// Every topic it goes to, in order.
    pub topics: Vec<&'static str>,
}

/// Events of one submission, committed to the outbox: their rows, the
/// partition key and the encoded payload.
pub type CommittedEvents = (Vec<Enqueued>, String, Vec<u8>);

/// Where a web form message is announced.
pub const WEB_INBOUND_TOPICS: [&str; 2] = [topics::TICKETS_INCOMING, topics::WEB_INBOUND];

/// Commits web form messages' events to the outbox in the caller's
/// transaction (one row each, for every topic of [`WEB_INBOUND_TOPICS`],
/// keyed by the customer's identity); returns them ready for
/// [`publish_committed_batch`] once the transaction committed.
pub async fn enqueue_web_inbound(
    conn: &mut sqlx::PgConnection,
    envelopes: &[EventEnvelope<InboundMessage>],
) -> Result<Vec<CommittedEvents>, fte_store::StoreError> {
    // Encoded once: the same text is stored (PostgreSQL parses it into the
    // jsonb column) and published.
    let encoded: Vec<(String, String)> = envelopes
        .iter()
        .map(|envelope| {
            let payload =
                serde_json::to_string(envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            Ok((envelope.payload.partition_key(), payload))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let rows: Vec<(&str, &str)> = encoded
        .iter()
        .map(|(key, payload)| (key.as_str(), payload.as_str()))
        .collect();
    let ids = events::enqueue_events(
        &mut *conn,
        WEB_INBOUND_TOPICS[0],
        &WEB_INBOUND_TOPICS[1..],
        &rows,
    )
    .await?;
    Ok(encoded
        .into_iter()
        .zip(ids)
        .map(|((key, payload), id)| {
            (
                vec![Enqueued {
                    id,
                    topics: WEB_INBOUND_TOPICS.to_vec(),
                }],
                key,
                payload.into_bytes(),
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
    // An event counts as published once every one of its topics took it.
    let attempts = committed.iter().flat_map(|(events, key, payload)| {
        events.iter().map(move |event| async move {
            let results = futures::future::join_all(
                event
                    .topics
                    .iter()
                    .map(|topic| publisher.publish(topic, key, payload, &[])),
            )
            .await;
            let failed = event
                .topics
                .iter()
                .zip(results)
                .find_map(|(topic, result)| result.err().map(|error| (*topic, error)));
            (event, failed)
        })
    });
    let mut published = Vec::new();
    for (event, failed) in futures::future::join_all(attempts).await {
        match failed {
            None => published.push(event.id),
            Some((topic, error)) => {
                tracing::warn!(
                    outbox.id = %event.id,
                    topic,
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
            &[(
                vec![Enqueued {
                    id,
                    topics: vec![topic],
                }],
                key,
                payload,
            )],
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
    'events: for event in &due {
        let payload =
            serde_json::to_vec(&event.payload).context("Failed to encode an outbox event")?;
        for topic in event.topics() {
            if let Err(error) = publisher
                .publish(topic, &event.message_key, &payload, &event.header_pairs())
                .await
            {
                tracing::warn!(outbox.id = %event.id, topic, error = %error, "relay publish failed");
                failed = Some(event.id);
                // The broker is likely down: the rest wait for their lease
                // to end and the next tick.
                break 'events;
            }
        }
        published.push(event.id);
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
