//! `gmail_sync_state`: per support mailbox, the last Gmail history id we
//! synced to and when the push watch expires.
//!
//! A sync reads the stored id ([`history_id`]), asks Gmail holding no
//! transaction, then in one short transaction locks the row
//! ([`lock_history_id`]), queues the messages it found and stores the newer
//! of its id and the stored one: the stored id only moves with the
//! messages it covers, and a sync that overlapped another queues some
//! messages twice, which the worker's step deduplicates by Gmail id.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::StoreError;

/// The history id that marks a row created by [`lock_history_id`] for a
/// mailbox that was never synced: Gmail's ids start well above zero.
pub const NEVER_SYNCED: u64 = 0;

/// The history id `mailbox` is synced to ([`NEVER_SYNCED`] without a row).
pub async fn history_id(executor: impl PgExecutor<'_>, mailbox: &str) -> Result<u64, StoreError> {
    let stored: Option<i64> =
        sqlx::query_scalar("select history_id from gmail_sync_state where mailbox = $1")
            .bind(mailbox)
            .fetch_optional(executor)
            .await?;
    Ok(stored
        .and_then(|id| u64::try_from(id).ok())
        .unwrap_or(NEVER_SYNCED))
}

/// Locks the row of `mailbox` (creating it as [`NEVER_SYNCED`] when absent)
/// until the caller's transaction ends, and returns its history id.
/// Concurrent callers wait for the holder's commit and then see its id.
pub async fn lock_history_id(conn: &mut PgConnection, mailbox: &str) -> Result<u64, StoreError> {
    sqlx::query(
        "insert into gmail_sync_state (mailbox, history_id) values ($1, 0)
         on conflict (mailbox) do nothing",
    )
    .bind(mailbox)
    .execute(&mut *conn)
    .await?;
    let history_id: i64 =
        sqlx::query_scalar("select history_id from gmail_sync_state where mailbox = $1 for update")
            .bind(mailbox)
            .fetch_one(&mut *conn)
            .await?;
    Ok(u64::try_from(history_id).unwrap_or(NEVER_SYNCED))
}

/// Stores the history id `mailbox` is synced to.
pub async fn store_history_id(
    executor: impl PgExecutor<'_>,
    mailbox: &str,
    history_id: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into gmail_sync_state (mailbox, history_id) values ($1, $2)
         on conflict (mailbox) do update set history_id = excluded.history_id, updated_at = now()",
    )
    .bind(mailbox)
    .bind(as_bigint(history_id))
    .execute(executor)
    .await?;
    Ok(())
}

/// Records a (re)started watch: its expiry always, and its history id only
/// when the mailbox has no row yet (or was never synced) — an existing id
/// marks messages not yet synced, which a newer id would skip. Returns
/// whether the history id was seeded.
pub async fn record_watch(
    executor: impl PgExecutor<'_>,
    mailbox: &str,
    history_id: u64,
    expires_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let seeded: bool = sqlx::query_scalar(
        "insert into gmail_sync_state (mailbox, history_id, watch_expires_at) values ($1, $2, $3)
         on conflict (mailbox) do update set
             history_id = case when gmail_sync_state.history_id = 0
                               then excluded.history_id else gmail_sync_state.history_id end,
             watch_expires_at = coalesce(excluded.watch_expires_at, gmail_sync_state.watch_expires_at),
             updated_at = now()
         returning history_id = $2",
    )
    .bind(mailbox)
    .bind(as_bigint(history_id))
    .bind(expires_at)
    .fetch_one(executor)
    .await?;
    Ok(seeded)
}

/// Queues a synced email's event in `event_outbox`, stamped with the clock
/// rather than the transaction's start: the relay publishes in
/// `created_at` order, and one sync may queue several emails of one
/// customer that must reach the worker in mailbox order.
pub async fn enqueue_synced_event(
    executor: impl PgExecutor<'_>,
    topic: &str,
    key: &str,
    payload: &serde_json::Value,
) -> Result<uuid::Uuid, StoreError> {
    let id = sqlx::query_scalar(
        "insert into event_outbox (topic, message_key, payload, created_at, updated_at)
         values ($1, $2, $3, clock_timestamp(), clock_timestamp()) returning id",
    )
    .bind(topic)
    .bind(key)
    .bind(payload)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// Which of the Gmail message `ids` are already stored as inbound email
/// (the bounded full sync fetches only the others).
pub async fn known_message_ids(
    executor: impl PgExecutor<'_>,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "select channel_message_id from messages
         where channel = 'email' and direction = 'inbound' and channel_message_id = any($1)",
    )
    .bind(ids)
    .fetch_all(executor)
    .await?)
}

/// A mailbox's sync state, for operators and tests.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncState {
    /// The last history id synced to ([`NEVER_SYNCED`] before the first sync).
    pub history_id: i64,
    /// When the push watch expires, if known.
    pub watch_expires_at: Option<DateTime<Utc>>,
}

/// The state of `mailbox`, if it has a row.
pub async fn state(
    executor: impl PgExecutor<'_>,
    mailbox: &str,
) -> Result<Option<SyncState>, StoreError> {
    let row = sqlx::query_as(
        "select history_id, watch_expires_at from gmail_sync_state where mailbox = $1",
    )
    .bind(mailbox)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

fn as_bigint(history_id: u64) -> i64 {
    i64::try_from(history_id).unwrap_or(i64::MAX)
}
