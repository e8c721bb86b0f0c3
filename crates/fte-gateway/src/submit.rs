//! Group commit of web form submissions.
//!
//! A submission is answered only once its ticket and its access row (which
//! hold the whole submission) are committed, with the batch's row of
//! tickets still to publish ([`fte_store::web_submissions`]); the worker
//! resolves the customer and stores the message when it takes the event
//! ([`fte_store::tickets`]). Committing
//! each submission alone costs a WAL flush and several round trips per
//! request, which caps the gateway near PostgreSQL's commit rate. Here
//! concurrent submissions queue for a few committer tasks; each committer
//! takes whatever is waiting (up to [`MAX_BATCH`]), writes the whole batch
//! with a fixed number of statements, commits once and then answers every
//! request of the batch. Nobody waits for a batch to fill: an idle gateway
//! commits a lone submission at once, and batches grow only while a commit
//! is already in flight. The promise is unchanged: no request is answered
//! before its own data is durable.
//!
//! When a batch fails for a reason other than an unreachable database, its
//! submissions are retried one transaction each, so one bad row cannot
//! fail its neighbours.
//!
//! A submission with an idempotency key claims it in the batch's
//! transaction before its ticket is written ([`fte_store::idempotency`]):
//! a key already held — by an earlier submission, a concurrent batch (whose
//! commit the claim waits for) or an earlier job of the same batch — makes
//! the submission a replay of that one, and nothing new is written for it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use fte_bus::KafkaPublisher;
use fte_domain::events::InboundSender;
use fte_domain::{EventEnvelope, InboundMessage, MessageId, TicketId};
use fte_store::idempotency::{self, NewClaim, StoredClaim};
use fte_store::tickets::{self, NewWebTicket};
use fte_store::web_submissions;
use fte_store::web_threads::{self, NewWebAccess};
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use crate::outbox::{self, PublishedBatches, WebBatch, WebSubmission};
use crate::routes::form::ValidSubmission;

/// Most submissions committed together.
pub const MAX_BATCH: usize = 64;
/// How long a submission waits for PostgreSQL to come back before it is
/// answered 503: a restart or failover of a few hundred milliseconds.
const BEGIN_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);
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

/// How a submission was accepted.
#[derive(Debug)]
pub enum Accepted {
    /// Stored now, under this ticket id.
    Created(TicketId),
    /// An earlier submission with the same idempotency key (and scope) is
    /// stored; this is what it stored.
    Replayed(StoredClaim),
}

/// A submission's claim on its idempotency key
/// ([`SubmitKey`](crate::idempotency::SubmitKey)).
#[derive(Clone, Debug)]
pub struct KeyClaim {
    /// The key bound to the submitted email.
    pub scope_hash: [u8; 32],
    /// The submission's content.
    pub request_hash: [u8; 32],
    /// The access key handed out with this submission, sealed.
    pub sealed_access_key: [u8; 32],
}

struct Job {
    ticket_id: TicketId,
    submission: ValidSubmission,
    access_key_hash: [u8; 32],
    claim: Option<KeyClaim>,
    reply: oneshot::Sender<Result<Accepted, SubmitError>>,
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
        let published = PublishedBatches::default();
        for _ in 0..COMMITTERS {
            tokio::spawn(committer(
                Arc::clone(&queue),
                pool.clone(),
                Publishing {
                    publisher: publisher.clone(),
                    published: published.clone(),
                },
            ));
        }
        tokio::spawn(outbox::forget_published(pool, published));
        Self { jobs }
    }

    /// Stores the submission under a new ticket id, with the digest of its
    /// access key, and returns the id once it is committed together with
    /// its outbox events; or, when `claim`'s key is already held, what the
    /// submission holding it stored.
    pub async fn submit(
        &self,
        submission: ValidSubmission,
        access_key_hash: [u8; 32],
        claim: Option<KeyClaim>,
    ) -> Result<Accepted, SubmitError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            ticket_id: TicketId::new(),
            submission,
            access_key_hash,
            claim,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| SubmitError::Closed)?;
        answer.await.map_err(|_| SubmitError::Closed)?
    }
}

/// Where a committed batch's events go: the broker, then the batches to
/// forget once published.
#[derive(Clone)]
struct Publishing {
    publisher: KafkaPublisher,
    published: PublishedBatches,
}

async fn committer(queue: Arc<Mutex<mpsc::Receiver<Job>>>, pool: PgPool, publishing: Publishing) {
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
            Ok(committed) => answer(&pool, &publishing, batch, committed),
            Err(error) if batch.len() > 1 && !error.is_unavailable() => {
                tracing::warn!(%error, size = batch.len(), "batch commit failed; committing one by one");
                for job in batch {
                    let single = std::slice::from_ref(&job);
                    match commit(&pool, single).await {
                        Ok(committed) => answer(&pool, &publishing, vec![job], committed),
                        Err(error) => fail(vec![job], &error),
                    }
                }
            }
            Err(error) => fail(batch, &error),
        }
    }
}

/// The batch's events, committed and ready to publish, and the jobs that
/// replay an earlier submission (by index in the batch; `None` when the
/// key's holder vanished meanwhile, a case for the client to retry).
struct Committed {
    events: WebBatch,
    replays: HashMap<usize, Option<StoredClaim>>,
}

async fn commit(pool: &PgPool, batch: &[Job]) -> Result<Committed, fte_store::StoreError> {
    // Nothing is written until the transaction has begun, so a database
    // restart at this point is waited out (within BEGIN_BUDGET).
    let mut tx = fte_store::ride_through(BEGIN_BUDGET, || async {
        pool.begin().await.map_err(fte_store::StoreError::Database)
    })
    .await?;
    let replays = claim_keys(&mut tx, batch).await?;
    let fresh: Vec<&Job> = batch
        .iter()
        .enumerate()
        .filter(|(index, _)| !replays.contains_key(index))
        .map(|(_, job)| job)
        .collect();
    let rows: Vec<NewWebTicket<'_>> = fresh
        .iter()
        .map(|job| NewWebTicket {
            ticket_id: job.ticket_id,
            subject: &job.submission.subject,
            category: job.submission.category,
            priority: job.submission.priority,
        })
        .collect();
    tickets::open_web_tickets(&mut tx, &rows).await?;
    let message_ids: Vec<MessageId> = fresh.iter().map(|_| MessageId::new()).collect();
    let envelopes: Vec<EventEnvelope<InboundMessage>> = fresh
        .iter()
        .zip(&message_ids)
        .map(|(job, message_id)| inbound_event(&job.submission, job.ticket_id, *message_id))
        .collect();
    let access: Vec<NewWebAccess<'_>> = fresh
        .iter()
        .zip(&envelopes)
        .zip(&message_ids)
        .map(|((job, envelope), message_id)| NewWebAccess {
            ticket_id: job.ticket_id.as_uuid(),
            access_key_hash: job.access_key_hash,
            sender: serde_json::to_value(&envelope.payload.sender).unwrap_or_default(),
            message_id: message_id.as_uuid(),
            message: &job.submission.message,
        })
        .collect();
    web_threads::insert_access(&mut tx, &access).await?;
    let ticket_ids: Vec<Uuid> = fresh.iter().map(|job| job.ticket_id.as_uuid()).collect();
    let events = WebBatch {
        id: Uuid::now_v7(),
        events: outbox::encode_web_events(&envelopes)
            .map_err(|error| sqlx::Error::Encode(Box::new(error)))?,
    };
    web_submissions::record_batch(&mut tx, events.id, &ticket_ids).await?;
    tx.commit().await?;
    Ok(Committed { events, replays })
}

/// Claims the batch's idempotency keys; returns the jobs whose key another
/// submission holds, with what that one stored.
async fn claim_keys(
    tx: &mut sqlx::PgConnection,
    batch: &[Job],
) -> Result<HashMap<usize, Option<StoredClaim>>, fte_store::StoreError> {
    // The first job of the batch with a key claims it; later ones replay it.
    let mut first_with: HashMap<[u8; 32], usize> = HashMap::new();
    let mut claims = Vec::new();
    for (index, job) in batch.iter().enumerate() {
        let Some(claim) = &job.claim else { continue };
        if first_with.contains_key(&claim.scope_hash) {
            continue;
        }
        first_with.insert(claim.scope_hash, index);
        claims.push(NewClaim {
            scope_hash: claim.scope_hash,
            request_hash: claim.request_hash,
            ticket_id: job.ticket_id.as_uuid(),
            sealed_access_key: Some(claim.sealed_access_key),
            message_id: None,
        });
    }
    if claims.is_empty() {
        return Ok(HashMap::new());
    }
    let held: HashSet<[u8; 32]> = idempotency::claim(tx, &claims).await?.into_iter().collect();
    let mut replays = HashMap::new();
    for (index, job) in batch.iter().enumerate() {
        let Some(claim) = &job.claim else { continue };
        let ours = held.contains(&claim.scope_hash) && first_with[&claim.scope_hash] == index;
        if !ours {
            let stored = idempotency::find(&mut *tx, &claim.scope_hash).await?;
            replays.insert(index, stored);
        }
    }
    Ok(replays)
}

/// Answers every request of a committed batch, then publishes its events
/// in the background (the relay covers a failed or interrupted publish).
fn answer(pool: &PgPool, publishing: &Publishing, batch: Vec<Job>, mut committed: Committed) {
    for (index, job) in batch.into_iter().enumerate() {
        let accepted = match committed.replays.remove(&index) {
            None => Ok(Accepted::Created(job.ticket_id)),
            Some(Some(stored)) => Ok(Accepted::Replayed(stored)),
            Some(None) => Err(SubmitError::Unavailable),
        };
        // A caller that went away still has its ticket; nothing to undo.
        let _ = job.reply.send(accepted);
    }
    let (pool, publishing) = (pool.clone(), publishing.clone());
    tokio::spawn(async move {
        if !committed.events.events.is_empty() {
            outbox::publish_web_batch(
                &pool,
                &publishing.publisher,
                &committed.events,
                &publishing.published,
            )
            .await;
        }
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

/// The `ticket.inbound` event of a submission being stored.
fn inbound_event(
    submission: &ValidSubmission,
    ticket_id: TicketId,
    message_id: MessageId,
) -> EventEnvelope<InboundMessage> {
    outbox::web_inbound_event(WebSubmission {
        ticket_id,
        message_id,
        sender: InboundSender {
            email: Some(submission.email.as_str().to_owned()),
            phone: submission.phone.clone(),
            name: Some(submission.name.clone()),
            email_verified: submission.email_verified,
            phone_verified: false,
        },
        subject: Some(submission.subject.clone()),
        content: submission.message.clone(),
        category: Some(submission.category.as_str()),
        priority: submission.priority.as_str(),
        received_at: Utc::now(),
    })
}
