//! Publishing events through the event outbox.
//!
//! The WhatsApp webhook and a follow-up into a web ticket commit their rows
//! and their events together (`event_outbox`), then publish at once,
//! holding no transaction. A new web form submission's event is not copied
//! into the outbox: its ticket and access row hold the whole submission,
//! and the group commit records the batch's tickets in one row
//! ([`fte_store::web_submissions`]), forgotten once the events built in
//! memory are published ([`publish_web_batch`]). When a publish fails (or
//! the process dies between commit and publish), the [`relay`] publishes
//! the committed event later, rebuilding a web submission's from its rows,
//! so an accepted message always reaches Kafka. Delivery is at-least-once:
//! the worker deduplicates on the channel message id.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use fte_bus::{KafkaPublisher, topics};
use fte_domain::events::InboundSender;
use fte_domain::{Channel, EventEnvelope, InboundMessage, MessageId, TicketId};
use fte_store::outbox as events;
use fte_store::web_submissions;
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
/// Web submit batches claimed per relay round (each up to
/// [`crate::submit::MAX_BATCH`] events).
const RELAY_WEB_BATCHES: i64 = 10;
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

/// A web form submission as its `ticket.inbound` event carries it; the
/// worker stores the message under `message_id`, the id its thread already
/// shows.
pub struct WebSubmission<'a> {
    /// The ticket it opened.
    pub ticket_id: TicketId,
    /// The id of its message.
    pub message_id: MessageId,
    /// Who sent it.
    pub sender: InboundSender,
    /// The subject.
    pub subject: Option<String>,
    /// The message.
    pub content: String,
    /// The category chosen.
    pub category: Option<&'a str>,
    /// The priority chosen.
    pub priority: &'a str,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
}

/// The `ticket.inbound` event of a web form submission: built by the
/// gateway as it commits it, and again from the stored rows by the relay.
pub fn web_inbound_event(submission: WebSubmission<'_>) -> EventEnvelope<InboundMessage> {
    EventEnvelope::new(
        "ticket.inbound",
        submission.received_at,
        InboundMessage {
            channel: Channel::WebForm,
            channel_message_id: submission.ticket_id.to_string(),
            sender: submission.sender,
            subject: submission.subject,
            content: submission.content,
            received_at: submission.received_at,
            ticket_id: Some(submission.ticket_id),
            metadata: serde_json::json!({
                "message_id": submission.message_id,
                "category": submission.category,
                "priority": submission.priority,
            }),
        },
    )
}

/// A committed batch of web form submissions and their events (partition
/// key, encoded payload), to publish on every topic of
/// [`WEB_INBOUND_TOPICS`].
pub struct WebBatch {
    /// Its `web_submit_batches` row.
    pub id: Uuid,
    /// Its events, in submission order.
    pub events: Vec<(String, Vec<u8>)>,
}

/// Encodes web form events for a [`WebBatch`].
pub fn encode_web_events(
    envelopes: &[EventEnvelope<InboundMessage>],
) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
    envelopes
        .iter()
        .map(|envelope| {
            Ok((
                envelope.payload.partition_key(),
                serde_json::to_vec(envelope)?,
            ))
        })
        .collect()
}

/// Publishes the events of `batch` on every topic, in order per key, and
/// whether every one went out.
async fn publish_web_events(publisher: &KafkaPublisher, batch: &WebBatch) -> bool {
    let attempts = batch.events.iter().map(|(key, payload)| async move {
        for topic in WEB_INBOUND_TOPICS {
            if let Err(error) = publisher.publish(topic, key, payload, &[]).await {
                tracing::warn!(web_batch.id = %batch.id, topic, error = %error, "publish failed; the outbox relay will retry");
                return false;
            }
        }
        true
    });
    futures::future::join_all(attempts)
        .await
        .into_iter()
        .all(|published| published)
}

/// How often published web submit batches are forgotten, together.
pub const FORGET_INTERVAL: Duration = Duration::from_millis(50);

/// Web submit batches published and not yet forgotten: forgetting each in
/// its own transaction cost a commit per batch; [`forget_published`]
/// forgets them together every [`FORGET_INTERVAL`]. A batch whose row
/// outlives its process (a crash in between) is published again by the
/// relay, which the worker deduplicates.
#[derive(Clone, Default)]
pub struct PublishedBatches(std::sync::Arc<std::sync::Mutex<Vec<Uuid>>>);

impl PublishedBatches {
    fn push(&self, id: Uuid) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(id);
    }

    fn take(&self) -> Vec<Uuid> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Forgets the batches in `published` every [`FORGET_INTERVAL`]; returns
/// after forgetting the last ones once no one else holds `published`.
pub async fn forget_published(pool: PgPool, published: PublishedBatches) {
    loop {
        tokio::time::sleep(FORGET_INTERVAL).await;
        let last = std::sync::Arc::strong_count(&published.0) == 1;
        let ids = published.take();
        if let Err(error) = web_submissions::forget_batches(&pool, &ids).await {
            // Harmless: the relay republishes them (at-least-once).
            tracing::warn!(%error, count = ids.len(), "failed to forget published web submit batches");
        }
        if last {
            return;
        }
    }
}

/// Publishes a just-committed batch of web form submissions and hands it to
/// [`forget_published`]; a failed publish is recorded on its row instead,
/// and the relay publishes the whole batch again. Not an error for the
/// caller, whose data is durable.
pub async fn publish_web_batch(
    pool: &PgPool,
    publisher: &KafkaPublisher,
    batch: &WebBatch,
    published: &PublishedBatches,
) {
    if publish_web_events(publisher, batch).await {
        published.push(batch.id);
        return;
    }
    if let Err(error) =
        web_submissions::record_batch_failure(pool, batch.id, "publish_failed").await
    {
        // Harmless: the row stays due for the relay after its grace.
        tracing::warn!(%error, web_batch.id = %batch.id, "failed to record a web submit batch's failure");
    }
}

/// Publishes the web submit batches left past their grace once, rebuilding
/// each submission's event from its ticket and access row; returns how many
/// batches were published. A submission the worker has stored already, or
/// that was erased, is left out.
pub async fn relay_web_batches_once(
    pool: &PgPool,
    publisher: &KafkaPublisher,
) -> anyhow::Result<usize> {
    let due = web_submissions::claim_due_batches(pool, RELAY_WEB_BATCHES, RELAY_GRACE, RELAY_LEASE)
        .await
        .context("Failed to claim web submit batches")?;
    let mut published = 0;
    for pending in due {
        let stored = web_submissions::unpublished_submissions(pool, &pending.ticket_ids)
            .await
            .context("Failed to read a web submit batch's submissions")?;
        let envelopes: Vec<EventEnvelope<InboundMessage>> = stored
            .into_iter()
            .map(|row| {
                let sender = serde_json::from_value(row.sender).unwrap_or_else(|error| {
                    // Written by this gateway from the same type: the
                    // message still goes out, from an unknown sender. Only
                    // the kind of error is logged: its text may quote the
                    // stored value (an address, a name).
                    tracing::warn!(error.kind = ?error.classify(), "a stored web sender did not decode");
                    InboundSender::default()
                });
                web_inbound_event(WebSubmission {
                    ticket_id: TicketId(row.ticket_id),
                    message_id: MessageId(row.message_id),
                    sender,
                    subject: row.subject,
                    content: row.message,
                    category: row.category.as_deref(),
                    priority: &row.priority,
                    received_at: row.created_at,
                })
            })
            .collect();
        let batch = WebBatch {
            id: pending.id,
            events: encode_web_events(&envelopes).context("Failed to encode web events")?,
        };
        if !publish_web_events(publisher, &batch).await {
            web_submissions::record_batch_failure(pool, batch.id, "publish_failed")
                .await
                .context("Failed to record a web submit batch's failure")?;
            // The broker is likely down: the rest wait for the next tick.
            break;
        }
        web_submissions::forget_batches(pool, &[batch.id])
            .await
            .context("Failed to forget a published web submit batch")?;
        published += 1;
    }
    if published > 0 {
        tracing::info!(
            count = published,
            "outbox relay published web submit batches"
        );
    }
    Ok(published)
}

/// Runs [`relay_once`] and [`relay_web_batches_once`] every
/// [`RELAY_INTERVAL`] until `shutdown`.
pub async fn relay(pool: PgPool, publisher: KafkaPublisher, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RELAY_INTERVAL) => {}
        }
        if let Err(error) = relay_once(&pool, &publisher).await {
            tracing::warn!(error = format!("{error:#}"), "outbox relay pass failed");
        }
        if let Err(error) = relay_web_batches_once(&pool, &publisher).await {
            tracing::warn!(error = format!("{error:#}"), "web submit relay pass failed");
        }
    }
}
