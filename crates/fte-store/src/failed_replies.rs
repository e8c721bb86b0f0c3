//! Replies that exhausted their retries (`reply_outbox.status = 'failed'`),
//! for operators: [`failed`] lists them without bodies or addresses, and
//! [`retry`] puts one back for the sender loop with its attempts reset.
//!
//! A reply whose last attempt ended with an unknown outcome (the provider
//! may have received it) goes back as `unknown`, not `pending`: the sender
//! then asks the provider before sending anything, so re-driving it can
//! never deliver it twice. Its message's delivery status returns to
//! `pending` with it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::StoreError;

/// A failed reply, content-free.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FailedReply {
    /// Outbox row id.
    pub id: Uuid,
    /// The channel.
    pub channel: String,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket, if any.
    pub ticket_id: Option<Uuid>,
    /// Attempts made.
    pub attempts: i32,
    /// `permanent`, `transient`, `unknown` or `undecodable`.
    pub last_error_kind: String,
    /// The provider's status and error code (never personal data).
    pub last_error: Option<String>,
    /// When it was given up on.
    pub failed_at: DateTime<Utc>,
}

/// The failed replies, most recently failed first, at most `limit`.
pub async fn failed<'e, E>(executor: E, limit: i64) -> Result<Vec<FailedReply>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    // The kind of the stored `last_error`: the sender stores a
    // `SendError`'s text, or a permanent refusal's reason as is.
    let rows = sqlx::query_as::<_, FailedReply>(
        "select id, channel, conversation_id, ticket_id, attempts,
                case
                    when last_error like 'transient provider failure:%' then 'transient'
                    when last_error like 'channel degraded:%' then 'transient'
                    when last_error like 'outcome unknown:%' then 'unknown'
                    when last_error = 'undecodable payload' then 'undecodable'
                    else 'permanent'
                end as last_error_kind,
                last_error, updated_at as failed_at
         from reply_outbox where status = 'failed'
         order by updated_at desc, id limit $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// What [`retry`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retried {
    /// Back for the sender, as `pending` or (after an unknown outcome)
    /// `unknown`, due now with its attempts reset.
    Requeued {
        /// The status it went back to.
        status: String,
    },
    /// It is not failed (its current status).
    NotFailed(String),
    /// No reply has this id.
    NotFound,
}

/// Puts failed reply `id` back for the sender (see the module docs).
pub async fn retry(tx: &mut sqlx::PgConnection, id: Uuid) -> Result<Retried, StoreError> {
    let requeued: Option<(String, Uuid)> = sqlx::query_as(
        "update reply_outbox set
             status = case when last_error like 'outcome unknown:%' then 'unknown'
                           else 'pending' end,
             attempts = 0, next_attempt_at = now(), claim_token = null, updated_at = now()
         where id = $1 and status = 'failed'
         returning status, message_id",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((status, message_id)) = requeued {
        sqlx::query(
            "update messages set delivery_status = 'pending', updated_at = now()
             where id = $1 and delivery_status = 'failed'",
        )
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        return Ok(Retried::Requeued { status });
    }
    let status: Option<String> =
        sqlx::query_scalar("select status from reply_outbox where id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(status.map_or(Retried::NotFound, Retried::NotFailed))
}

/// The ids of every failed reply, oldest failure first (for retrying them
/// all).
pub async fn failed_ids<'e, E>(executor: E) -> Result<Vec<Uuid>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let ids = sqlx::query_scalar(
        "select id from reply_outbox where status = 'failed' order by updated_at, id",
    )
    .fetch_all(executor)
    .await?;
    Ok(ids)
}
