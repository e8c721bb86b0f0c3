//! Which dead letters were replayed (`dlq_replays`). The dead letters
//! themselves stay in the `fte.dlq` topic; a row here says one was put back
//! on its origin topic, by whom and when, so the same dead letter is never
//! replayed twice: [`claim_replay`] inserts the row, and a second claim
//! finds it and returns the first replay instead.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::StoreError;

/// A recorded replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Replay {
    /// `<partition>-<offset>` in `fte.dlq`.
    pub dead_letter_id: String,
    /// When the message was dead-lettered.
    pub dead_lettered_at: DateTime<Utc>,
    /// Where it was replayed to.
    pub origin_topic: String,
    /// Who replayed it.
    pub replayed_by: String,
    /// When.
    pub replayed_at: DateTime<Utc>,
}

/// What [`claim_replay`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The row is written (commit it only once the replay was published).
    Claimed,
    /// The dead letter was replayed before.
    AlreadyReplayed(Replay),
}

/// Records that `staff` replays dead letter `id` (dead-lettered at `at`)
/// onto `origin_topic`, unless it was replayed before. Run it in the
/// transaction that commits after the publish, so a failed publish leaves
/// no row behind.
pub async fn claim_replay(
    tx: &mut sqlx::PgConnection,
    id: &str,
    at: DateTime<Utc>,
    origin_topic: &str,
    staff: &str,
) -> Result<Claim, StoreError> {
    let inserted = sqlx::query(
        "insert into dlq_replays (dead_letter_id, dead_lettered_at, origin_topic, replayed_by)
         values ($1, $2, $3, $4)
         on conflict (dead_letter_id, dead_lettered_at) do nothing",
    )
    .bind(id)
    .bind(at)
    .bind(origin_topic)
    .bind(staff)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    let earlier = sqlx::query_as::<_, Replay>(
        "select dead_letter_id, dead_lettered_at, origin_topic, replayed_by, replayed_at
         from dlq_replays where dead_letter_id = $1 and dead_lettered_at = $2",
    )
    .bind(id)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Claim::AlreadyReplayed(earlier))
}

/// The replays of the dead letters `ids` (any dead-letter time), for
/// showing which of a listing were replayed.
pub async fn replays_of<'e, E>(executor: E, ids: &[String]) -> Result<Vec<Replay>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let rows = sqlx::query_as::<_, Replay>(
        "select dead_letter_id, dead_lettered_at, origin_topic, replayed_by, replayed_at
         from dlq_replays where dead_letter_id = any($1)",
    )
    .bind(ids)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}
