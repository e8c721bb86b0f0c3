//! Rates computed from the CRM for gauges and alerts.
//!
//! They are read every 30 s by every gateway and worker replica, so each
//! reads a bounded number of rows, whatever the traffic: the newest
//! [`RATE_SAMPLE`] tickets or turns of the window. Counting every ticket of
//! the last hour instead (eight counts, one per channel and outcome) took
//! 85 ms of three processes per count once 850,000 tickets had come in
//! within the hour, and stalled a loaded 2-core machine for a second every
//! evaluation.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// Most tickets (or agent turns) a rate reads: the newest of its window.
pub const RATE_SAMPLE: i64 = 5_000;

/// One source channel's share of recent tickets that went to a human.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ChannelOutcomes {
    /// The source channel.
    pub channel: String,
    /// Tickets read.
    pub tickets: i64,
    /// Of them, escalated (now or before).
    pub escalated: i64,
}

impl ChannelOutcomes {
    /// escalated / tickets (0 without tickets).
    pub fn escalation_rate(&self) -> f64 {
        if self.tickets == 0 {
            0.0
        } else {
            self.escalated as f64 / self.tickets as f64
        }
    }
}

/// The smallest UUIDv7 of `at`'s millisecond: ticket ids are UUIDv7
/// ([`fte_domain::TicketId::new`]), so `id >= floor` is a range of the
/// primary key that starts at `at`.
fn uuid_v7_floor(at: DateTime<Utc>) -> Uuid {
    let millis = u128::try_from(at.timestamp_millis()).unwrap_or(0);
    Uuid::from_u128(millis << 80)
}

/// Per source channel, the newest tickets opened since `since` (at most
/// `sample` of them over all channels) and how many of those were
/// escalated; channels without tickets are absent. One backward range scan
/// of the primary key.
pub async fn recent_escalations(
    pool: &PgPool,
    since: DateTime<Utc>,
    sample: i64,
) -> Result<Vec<ChannelOutcomes>, StoreError> {
    Ok(sqlx::query_as(
        "select source_channel as channel, count(*) as tickets,
                count(*) filter (where status = 'escalated' or escalated_at is not null)
                    as escalated
         from (select source_channel, status, escalated_at from tickets
               where id >= $1 and created_at >= $2
               order by id desc
               limit $3) recent
         group by source_channel
         order by source_channel",
    )
    .bind(uuid_v7_floor(since))
    .bind(since)
    .bind(sample)
    .fetch_all(pool)
    .await?)
}

/// Per channel, the P95 agent turn latency (ms) of the newest turns
/// recorded since `since`, at most `sample` of them; channels without
/// turns are absent.
pub async fn recent_turn_latency_p95(
    pool: &PgPool,
    since: DateTime<Utc>,
    sample: i64,
) -> Result<Vec<(String, f64)>, StoreError> {
    Ok(sqlx::query_as(
        "select channel, percentile_cont(0.95) within group (order by value)
         from (select channel, metric_value::float8 as value from agent_metrics
               where metric_name = 'response_latency_ms' and recorded_at >= $1
                 and channel is not null
               order by recorded_at desc
               limit $2) recent
         group by channel
         order by channel",
    )
    .bind(since)
    .bind(sample)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_sorts_before_every_uuid_v7_of_its_millisecond_and_after_older_ones() {
        let now = Utc::now();
        let id = Uuid::now_v7();
        let floor = uuid_v7_floor(now - chrono::Duration::milliseconds(1));
        assert!(floor <= id);
        assert!(uuid_v7_floor(now + chrono::Duration::seconds(1)) > id);
    }
}
