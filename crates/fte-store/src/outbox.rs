//! The reply outbox (and, re-exported from [`crate::event_outbox`], the
//! event outbox).
//!
//! Replies are committed here in the same transaction as the agent's
//! result; sender loops claim due rows with `for update skip locked`, so
//! several workers never claim the same row. A row whose sender died while
//! `sending` is reclaimed after a lease, marked as an unknown outcome: the
//! provider must be asked before anything is sent again.
//!
//! Every claim carries a fresh fencing token. A sender renews its claim
//! ([`renew_claim`]) right before each provider call and changes the row
//! ([`mark_sent`], [`reschedule`], [`mark_failed`]) only with its token: a
//! sender whose batch outlived the lease finds the row claimed by another
//! and leaves it alone, so one reply is never delivered twice.

pub use crate::event_outbox::{
    PendingEvent, QueuedEvent, claim_due_events, delete_published, enqueue_event, enqueue_events,
    queue_event, record_event_failure,
};

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
    /// This claim's fencing token.
    pub claim_token: Uuid,
    /// When the reply was committed.
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` due replies of `channel`: pending or unknown rows
/// whose `next_attempt_at` has come, and `sending` rows older than
/// `lease_secs` (their sender died mid-send; their outcome is unknown).
/// Claimed rows move to `sending` with one more attempt counted and a new
/// fencing token. The claimed replies come oldest first.
pub async fn claim_due(
    executor: impl PgExecutor<'_>,
    channel: &str,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<ClaimedReply>, StoreError> {
    let mut rows: Vec<ClaimedReply> = sqlx::query_as(
        "with due as (
             select id, status from reply_outbox
             where channel = $1
               and ((status in ('pending', 'unknown') and next_attempt_at <= now())
                    or (status = 'sending' and updated_at < now() - make_interval(secs => $3)))
             order by next_attempt_at
             limit $2
             for update skip locked
         )
         update reply_outbox r set status = 'sending', attempts = r.attempts + 1,
             claim_token = gen_random_uuid(), updated_at = now()
         from due where r.id = due.id
         returning r.id, r.message_id, r.conversation_id, r.ticket_id, r.channel, r.payload,
                   r.attempts, due.status <> 'pending' as outcome_unknown, r.claim_token,
                   r.created_at",
    )
    .bind(channel)
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(executor)
    .await?;
    // `update … returning` keeps no order: oldest first, as committed.
    rows.sort_by_key(|reply| (reply.created_at, reply.id));
    Ok(rows)
}

/// Renews the claim `token` on reply `id` (its lease starts again); `false`
/// when the claim is no longer current (the lease ran out and another
/// sender claimed the reply): then nothing may be sent.
pub async fn renew_claim(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    token: Uuid,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update reply_outbox set updated_at = now()
         where id = $1 and claim_token = $2 and status = 'sending'",
    )
    .bind(id)
    .bind(token)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks a reply as delivered with the provider's ids (comma-separated);
/// `false` (nothing written) unless `token` is the current claim.
pub async fn mark_sent(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    token: Uuid,
    provider_message_ids: &[String],
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update reply_outbox set status = 'sent', provider_message_id = $3, sent_at = now(),
             last_error = null, claim_token = null, updated_at = now()
         where id = $1 and claim_token = $2 and status = 'sending'",
    )
    .bind(id)
    .bind(token)
    .bind(provider_message_ids.join(","))
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts a reply back as `pending` or `unknown`, due at `next_attempt_at`;
/// `false` (nothing written) unless `token` is the current claim.
/// `refund_attempt` uncounts the attempt (nothing reached the provider,
/// e.g. an open circuit).
pub async fn reschedule(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    token: Uuid,
    status: &str,
    next_attempt_at: DateTime<Utc>,
    error: &str,
    refund_attempt: bool,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update reply_outbox set status = $3, next_attempt_at = $4, last_error = $5,
             attempts = case when $6 then greatest(attempts - 1, 0) else attempts end,
             claim_token = null, updated_at = now()
         where id = $1 and claim_token = $2 and status = 'sending'",
    )
    .bind(id)
    .bind(token)
    .bind(status)
    .bind(next_attempt_at)
    .bind(error)
    .bind(refund_attempt)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives up on a reply; `false` (nothing written) unless `token` is the
/// current claim.
pub async fn mark_failed(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    token: Uuid,
    error: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update reply_outbox set status = 'failed', last_error = $3, claim_token = null,
             updated_at = now()
         where id = $1 and claim_token = $2 and status = 'sending'",
    )
    .bind(id)
    .bind(token)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Settles a reply that will not be sent (the email cap for an address
/// that never proved itself): the row becomes `suppressed` with `reason`
/// and its message's delivery status `suppressed` — only while `token` is
/// still the row's claim; `false` when another sender holds it now.
pub async fn mark_suppressed(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    token: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let settled: Option<Uuid> = sqlx::query_scalar(
        "with row as (
             update reply_outbox set status = 'suppressed', last_error = $3, claim_token = null,
                 updated_at = now()
             where id = $1 and claim_token = $2 and status = 'sending'
             returning message_id
         )
         update messages set delivery_status = 'suppressed', updated_at = now()
         where id = (select message_id from row)
         returning id",
    )
    .bind(id)
    .bind(token)
    .bind(reason)
    .fetch_optional(executor)
    .await?;
    Ok(settled.is_some())
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
