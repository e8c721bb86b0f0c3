//! Web form submissions whose events are not on the broker yet.
//!
//! The gateway's group commit stores each submission as its ticket and its
//! access row ([`crate::tickets`], [`crate::web_threads`]), which hold all
//! of it, and records the batch's tickets in one `web_submit_batches` row.
//! The gateway publishes the batch's events from memory right after the
//! commit and then forgets the row. A row still there after a grace period
//! (a failed publish, or a gateway that stopped before publishing) is
//! claimed by a relay, which rebuilds the events from the stored tickets
//! ([`unpublished_submissions`]) and publishes them again: at-least-once,
//! and the worker deduplicates by ticket.
//!
//! One row per batch instead of one event_outbox row per submission (a copy
//! of the whole message, inserted and deleted within milliseconds) took the
//! submit path's PostgreSQL CPU from 84–96 to 52–54 µs per submission
//! (`loadtest/bench-gateway.sh`, both builds alternating in one sitting).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// Records, in the batch's transaction, that the events of `ticket_ids`
/// are still to be published.
pub async fn record_batch(
    conn: &mut PgConnection,
    batch_id: Uuid,
    ticket_ids: &[Uuid],
) -> Result<(), StoreError> {
    if ticket_ids.is_empty() {
        return Ok(());
    }
    sqlx::query("insert into web_submit_batches (id, ticket_ids) values ($1, $2)")
        .bind(batch_id)
        .bind(ticket_ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forgets batches whose events are all published, in one statement.
pub async fn forget_batches(
    executor: impl PgExecutor<'_>,
    batch_ids: &[Uuid],
) -> Result<(), StoreError> {
    if batch_ids.is_empty() {
        return Ok(());
    }
    sqlx::query("delete from web_submit_batches where id = any($1)")
        .bind(batch_ids)
        .execute(executor)
        .await?;
    Ok(())
}

/// Records a failed publish of a batch: it is due for the relay at once.
pub async fn record_batch_failure(
    executor: impl PgExecutor<'_>,
    batch_id: Uuid,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update web_submit_batches set attempts = attempts + 1, last_error = $2,
             available_at = least(available_at, now()), updated_at = now()
         where id = $1",
    )
    .bind(batch_id)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}

/// A batch whose events are still to be published.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingBatch {
    /// Id.
    pub id: Uuid,
    /// Its tickets, in submission order.
    pub ticket_ids: Vec<Uuid>,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` due batches, oldest first, for `lease`: those older
/// than `grace` (the gateway that committed a batch publishes it itself
/// meanwhile) or with a failed publish. One statement: no lock outlives it.
pub async fn claim_due_batches(
    executor: impl PgExecutor<'_>,
    limit: i64,
    grace: Duration,
    lease: Duration,
) -> Result<Vec<PendingBatch>, StoreError> {
    let mut rows: Vec<PendingBatch> = sqlx::query_as(
        "with due as (
             select id from web_submit_batches
             where available_at <= now()
               and (attempts > 0 or created_at <= now() - make_interval(secs => $2))
             order by created_at, id
             limit $1
             for update skip locked
         )
         update web_submit_batches b set available_at = now() + make_interval(secs => $3),
             updated_at = now()
         from due where b.id = due.id
         returning b.id, b.ticket_ids, b.created_at",
    )
    .bind(limit)
    .bind(grace.as_secs_f64())
    .bind(lease.as_secs_f64())
    .fetch_all(executor)
    .await?;
    rows.sort_by_key(|batch| (batch.created_at, batch.id));
    Ok(rows)
}

/// A stored submission, as its event carries it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UnpublishedSubmission {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its subject.
    pub subject: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// Its priority.
    pub priority: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// The event's sender object, as submitted.
    pub sender: serde_json::Value,
    /// The id the worker stores the message with.
    pub message_id: Uuid,
    /// The message.
    pub message: String,
}

/// The stored submissions of `ticket_ids`, in that order. A ticket that is
/// gone (erased) or whose message the worker has stored already is left
/// out: its event has nothing left to do.
pub async fn unpublished_submissions(
    executor: impl PgExecutor<'_>,
    ticket_ids: &[Uuid],
) -> Result<Vec<UnpublishedSubmission>, StoreError> {
    Ok(sqlx::query_as(
        "select t.id as ticket_id, t.subject, t.category, t.priority, t.created_at,
                a.sender, a.first_message_id as message_id, a.first_message as message
         from unnest($1::uuid[]) with ordinality as b(ticket_id, position)
         join tickets t on t.id = b.ticket_id
         join web_ticket_access a on a.ticket_id = t.id
         where a.first_message is not null and a.first_message_id is not null
         order by b.position",
    )
    .bind(ticket_ids)
    .fetch_all(executor)
    .await?)
}
