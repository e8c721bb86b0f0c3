//! The reply outbox and the event outbox.
//!
//! Replies are committed here in the same transaction as the agent's
//! result; sender loops claim due rows with `for update skip locked`, so
//! several workers never claim the same row. A row whose sender died while
//! `sending` is reclaimed after a lease, marked as an unknown outcome: the
//! provider must be asked before anything is sent again.
//!
//! Events (escalations, metrics, deliveries) are committed in
//! `event_outbox` next to the rows they describe and published afterwards,
//! so a broker hiccup after a commit never loses one.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// A reply to enqueue.
#[derive(Clone, Debug)]
pub struct NewReply<'a> {
    /// The outbound message row this reply delivers.
    pub message_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket, if any.
    pub ticket_id: Option<Uuid>,
    /// The channel spelling.
    pub channel: &'a str,
    /// What the sender needs (recipient, parts, thread).
    pub payload: serde_json::Value,
}

/// Enqueues a reply, due now; returns the outbox row id.
pub async fn enqueue_reply(
    executor: impl PgExecutor<'_>,
    reply: &NewReply<'_>,
) -> Result<Uuid, StoreError> {
    let id = sqlx::query_scalar(
        "insert into reply_outbox (message_id, conversation_id, ticket_id, channel, payload)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(reply.message_id)
    .bind(reply.conversation_id)
    .bind(reply.ticket_id)
    .bind(reply.channel)
    .bind(&reply.payload)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// A reply claimed for sending.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedReply {
    /// Outbox row id.
    pub id: Uuid,
    /// The outbound message row.
    pub message_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket, if any.
    pub ticket_id: Option<Uuid>,
    /// The channel spelling.
    pub channel: String,
    /// The stored payload.
    pub payload: serde_json::Value,
    /// Attempts including this one.
    pub attempts: i32,
    /// Whether an earlier attempt's outcome is unknown (reconcile first).
    pub outcome_unknown: bool,
    /// When the reply was committed.
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` due replies of `channel`: pending or unknown rows
/// whose `next_attempt_at` has come, and `sending` rows older than
/// `lease_secs` (their sender died mid-send; their outcome is unknown).
/// Claimed rows move to `sending` with one more attempt counted.
pub async fn claim_due(
    executor: impl PgExecutor<'_>,
    channel: &str,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<ClaimedReply>, StoreError> {
    let rows = sqlx::query_as(
        "with due as (
             select id, status from reply_outbox
             where channel = $1
               and ((status in ('pending', 'unknown') and next_attempt_at <= now())
                    or (status = 'sending' and updated_at < now() - make_interval(secs => $3)))
             order by next_attempt_at
             limit $2
             for update skip locked
         )
         update reply_outbox r set status = 'sending', attempts = r.attempts + 1, updated_at = now()
         from due where r.id = due.id
         returning r.id, r.message_id, r.conversation_id, r.ticket_id, r.channel, r.payload,
                   r.attempts, due.status <> 'pending' as outcome_unknown, r.created_at",
    )
    .bind(channel)
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// Marks a reply as delivered with the provider's ids (comma-separated).
pub async fn mark_sent(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    provider_message_ids: &[String],
) -> Result<(), StoreError> {
    sqlx::query(
        "update reply_outbox set status = 'sent', provider_message_id = $2, sent_at = now(),
             last_error = null, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(provider_message_ids.join(","))
    .execute(executor)
    .await?;
    Ok(())
}

/// Puts a reply back as `pending` or `unknown`, due at `next_attempt_at`.
/// `refund_attempt` uncounts the attempt (nothing reached the provider,
/// e.g. an open circuit).
pub async fn reschedule(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    next_attempt_at: DateTime<Utc>,
    error: &str,
    refund_attempt: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "update reply_outbox set status = $2, next_attempt_at = $3, last_error = $4,
             attempts = case when $5 then greatest(attempts - 1, 0) else attempts end,
             updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(next_attempt_at)
    .bind(error)
    .bind(refund_attempt)
    .execute(executor)
    .await?;
    Ok(())
}

/// Gives up on a reply.
pub async fn mark_failed(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update reply_outbox set status = 'failed', last_error = $2, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}

/// Settles a reply that will not be sent (the email cap for an address
/// that never proved itself): the row becomes `suppressed` with `reason`,
/// and its message's delivery status `suppressed`.
pub async fn mark_suppressed(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "with row as (
             update reply_outbox set status = 'suppressed', last_error = $2, updated_at = now()
             where id = $1 returning message_id
         )
         update messages set delivery_status = 'suppressed', updated_at = now()
         where id = (select message_id from row)",
    )
    .bind(id)
    .bind(reason)
    .execute(executor)
    .await?;
    Ok(())
}

/// A reply's state, for health reports and tests.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReplyState {
    /// Outbox row id.
    pub id: Uuid,
    /// The channel spelling.
    pub channel: String,
    /// Status.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The provider's ids, once sent.
    pub provider_message_id: Option<String>,
    /// The stored payload.
    pub payload: serde_json::Value,
}

/// Every reply of a conversation, oldest first.
pub async fn replies_of_conversation(
    executor: impl PgExecutor<'_>,
    conversation_id: Uuid,
) -> Result<Vec<ReplyState>, StoreError> {
    let rows = sqlx::query_as(
        "select id, channel, status, attempts, provider_message_id, payload from reply_outbox
         where conversation_id = $1 order by created_at, id",
    )
    .bind(conversation_id)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// Queues an event for publication; returns its id.
pub async fn enqueue_event(
    executor: impl PgExecutor<'_>,
    topic: &str,
    key: &str,
    payload: &serde_json::Value,
) -> Result<Uuid, StoreError> {
    let id = sqlx::query_scalar(
        "insert into event_outbox (topic, message_key, payload) values ($1, $2, $3) returning id",
    )
    .bind(topic)
    .bind(key)
    .bind(payload)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// [`enqueue_event`] for many events in one statement; returns their ids in
/// input order. Each item is `(topic, key, payload)`.
pub async fn enqueue_events(
    executor: impl PgExecutor<'_>,
    events: &[(&str, &str, &serde_json::Value)],
) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::new_v4()).collect();
    let topics: Vec<&str> = events.iter().map(|e| e.0).collect();
    let keys: Vec<&str> = events.iter().map(|e| e.1).collect();
    let payloads: Vec<&serde_json::Value> = events.iter().map(|e| e.2).collect();
    sqlx::query(
        "insert into event_outbox (id, topic, message_key, payload)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[])",
    )
    .bind(&ids)
    .bind(&topics)
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
    /// Message key.
    pub message_key: String,
    /// JSON payload.
    pub payload: serde_json::Value,
}

/// Up to `limit` unpublished events, oldest first, locked so that two
/// relays never publish the same one at the same time.
pub async fn claim_unpublished_events(
    executor: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<PendingEvent>, StoreError> {
    let rows = sqlx::query_as(
        "select id, topic, message_key, payload from event_outbox
         where published_at is null order by created_at, id limit $1
         for update skip locked",
    )
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// Marks an event published.
pub async fn mark_event_published(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("update event_outbox set published_at = now(), updated_at = now() where id = $1")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Marks several events published in one statement (one commit for all the
/// events of a request).
pub async fn mark_events_published(
    executor: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "update event_outbox set published_at = now(), updated_at = now() where id = any($1)",
    )
    .bind(ids)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records a failed publication attempt.
pub async fn record_event_failure(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update event_outbox set attempts = attempts + 1, last_error = $2, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}
