//! Group commit of web form submissions.
//!
//! A submission is answered only once its rows and its outbox events are
//! committed. Committing each one alone costs a WAL flush and about ten
//! round trips per request, which caps the gateway near PostgreSQL's
//! commit rate. Here concurrent submissions queue for a few committer
//! tasks; each committer takes whatever is waiting (up to [`MAX_BATCH`]),
//! writes the whole batch with a fixed number of statements, commits once
//! and then answers every request of the batch. Nobody waits for a batch to
//! fill: an idle gateway commits a lone submission at once, and batches grow
//! only while a commit is already in flight. The promise is unchanged: no
//! request is answered before its own data is durable.
//!
//! When a batch fails for a reason other than an unreachable database, its
//! submissions are retried one transaction each, so one bad row cannot
//! fail its neighbours.

use std::sync::Arc;

use chrono::Utc;
use fte_bus::{KafkaPublisher, topics};
use fte_domain::events::InboundSender;
use fte_domain::{Channel, EventEnvelope, InboundMessage, TicketId};
use fte_store::tickets::{self, CreatedWebTicket, NewWebTicket};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::outbox::{self, Enqueued};
use crate::routes::form::ValidSubmission;

/// Most submissions committed together.
pub const MAX_BATCH: usize = 64;
/// Committer tasks: one batch can be written while another commits.
pub const COMMITTERS: usize = 4;
/// Submissions that may wait for a committer before callers queue in axum.
const QUEUE: usize = 4 * MAX_BATCH;

/// Why a submission was not accepted; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The database could not be reached or failed in a way a retry may
    /// fix (the cause is logged where it happened): the client may retry.
    #[error("the database did not accept the submission")]
    Unavailable,
    /// The database refused this submission's values; a retry fails alike.
    #[error("the database refused the submission's values")]
    Refused,
    /// The committers are gone (the process is shutting down).
    #[error("the gateway is shutting down")]
    Closed,
}

struct Job {
    ticket_id: TicketId,
    submission: ValidSubmission,
    reply: oneshot::Sender<Result<TicketId, SubmitError>>,
}

/// Queues submissions for the committer tasks. Cheap to clone.
#[derive(Clone)]
pub struct Submitter {
    jobs: mpsc::Sender<Job>,
}

impl Submitter {
    /// Starts the committer tasks (they stop when the last clone is dropped).
    pub fn start(pool: PgPool, publisher: KafkaPublisher) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..COMMITTERS {
            tokio::spawn(committer(
                Arc::clone(&queue),
                pool.clone(),
                publisher.clone(),
            ));
        }
        Self { jobs }
    }

    /// Stores the submission under a new ticket id and returns the id once
    /// it is committed together with its outbox events.
    pub async fn submit(&self, submission: ValidSubmission) -> Result<TicketId, SubmitError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            ticket_id: TicketId::new(),
            submission,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| SubmitError::Closed)?;
        answer.await.map_err(|_| SubmitError::Closed)?
    }
}

async fn committer(
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    pool: PgPool,
    publisher: KafkaPublisher,
) {
    loop {
        let batch = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        fte_runtime::metrics::global()
            .submit_batch_size
            .with_label_values(&[] as &[&str])
            .observe(batch.len() as f64);
        match commit(&pool, &batch).await {
            Ok(committed) => answer(&pool, &publisher, batch, committed),
            Err(error) if batch.len() > 1 && !error.is_unavailable() => {
                tracing::warn!(%error, size = batch.len(), "batch commit failed; committing one by one");
                for job in batch {
                    let single = std::slice::from_ref(&job);
                    match commit(&pool, single).await {
                        Ok(committed) => answer(&pool, &publisher, vec![job], committed),
                        Err(error) => fail(vec![job], &error),
                    }
                }
            }
            Err(error) => fail(batch, &error),
        }
    }
}

/// The batch's events, committed and ready to publish.
struct Committed {
    events: Vec<(Vec<Enqueued>, String, Vec<u8>)>,
}

async fn commit(pool: &PgPool, batch: &[Job]) -> Result<Committed, fte_store::StoreError> {
    let mut tx = pool.begin().await?;
    let rows: Vec<NewWebTicket<'_>> = batch
        .iter()
        .map(|job| NewWebTicket {
            ticket_id: job.ticket_id,
            email: &job.submission.email,
            name: &job.submission.name,
            phone: job.submission.parsed_phone.as_ref(),
            subject: &job.submission.subject,
            message: &job.submission.message,
            category: job.submission.category,
            priority: job.submission.priority,
        })
        .collect();
    let created = tickets::create_web_tickets(&mut tx, &rows).await?;
    let encoded: Vec<(String, serde_json::Value)> = batch
        .iter()
        .zip(&created)
        .map(|(job, created)| {
            let envelope = inbound_event(&job.submission, created);
            let key = envelope.payload.partition_key();
            let value = serde_json::to_value(&envelope).unwrap_or_default();
            (key, value)
        })
        .collect();
    const TOPICS: [&str; 2] = [topics::TICKETS_INCOMING, topics::WEB_INBOUND];
    let rows: Vec<(&str, &str, &serde_json::Value)> = encoded
        .iter()
        .flat_map(|(key, value)| TOPICS.map(|topic| (topic, key.as_str(), value)))
        .collect();
    let ids = fte_store::outbox::enqueue_events(&mut *tx, &rows).await?;
    tx.commit().await?;
    let events = encoded
        .into_iter()
        .zip(ids.chunks(TOPICS.len()))
        .map(|((key, value), ids)| {
            let enqueued = ids
                .iter()
                .zip(TOPICS)
                .map(|(id, topic)| Enqueued { id: *id, topic })
                .collect();
            (
                enqueued,
                key,
                serde_json::to_vec(&value).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Committed { events })
}

/// Answers every request of a committed batch, then publishes its events
/// in the background (the relay covers a failed or interrupted publish).
fn answer(pool: &PgPool, publisher: &KafkaPublisher, batch: Vec<Job>, committed: Committed) {
    for job in batch {
        // A caller that went away still has its ticket; nothing to undo.
        let _ = job.reply.send(Ok(job.ticket_id));
    }
    let (pool, publisher) = (pool.clone(), publisher.clone());
    tokio::spawn(async move {
        outbox::publish_committed_batch(&pool, &publisher, &committed.events).await;
    });
}

fn fail(batch: Vec<Job>, error: &fte_store::StoreError) {
    tracing::warn!(
        error.kind = error.failure_kind().as_str(),
        reason = %error.reason(),
        size = batch.len(),
        "web form submissions could not be stored"
    );
    for job in batch {
        let refused = if error.is_transient() {
            SubmitError::Unavailable
        } else {
            SubmitError::Refused
        };
        let _ = job.reply.send(Err(refused));
    }
}

/// The `ticket.inbound` event of a stored submission.
fn inbound_event(
    submission: &ValidSubmission,
    created: &CreatedWebTicket,
) -> EventEnvelope<InboundMessage> {
    let now = Utc::now();
    EventEnvelope::new(
        "ticket.inbound",
        now,
        InboundMessage {
            channel: Channel::WebForm,
            channel_message_id: created.ticket_id.to_string(),
            sender: InboundSender {
                email: Some(submission.email.as_str().to_owned()),
                phone: submission.phone.clone(),
                name: Some(submission.name.clone()),
            },
            subject: Some(submission.subject.clone()),
            content: submission.message.clone(),
            received_at: now,
            ticket_id: Some(created.ticket_id),
            metadata: json!({
                "customer_id": created.customer_id,
                "conversation_id": created.conversation_id,
                "message_id": created.message_id,
                "category": submission.category.as_str(),
                "priority": submission.priority.as_str(),
            }),
        },
    )
}
