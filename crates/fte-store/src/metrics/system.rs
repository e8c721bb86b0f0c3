//! The system level: what processes report (consumer lag as the worker
//! last measured it, process starts) and the inputs of the in-process
//! alerts.

use chrono::{DateTime, Utc};
use fte_runtime::alerts::{AlertInputs, ChannelFigure, GroupLag};
use sqlx::PgPool;

use fte_domain::Channel;

use crate::{StoreError, rates};

/// One partition's consumer lag as last measured.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct LagRow {
    /// The consumer group.
    pub group_id: String,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// High watermark minus the group's committed offset.
    pub lag: i64,
    /// When it was measured.
    pub measured_at: DateTime<Utc>,
}

/// Stores the lag `group` has on each partition of `topic`.
pub async fn store_consumer_lag(
    pool: &PgPool,
    group: &str,
    topic: &str,
    lags: &[(i32, i64)],
) -> Result<(), StoreError> {
    let (partitions, values): (Vec<i32>, Vec<i64>) = lags.iter().copied().unzip();
    sqlx::query(
        "insert into consumer_lag (group_id, topic, partition, lag, measured_at)
         select $1, $2, l.partition, greatest(l.lag, 0), now()
         from unnest($3::int[], $4::int8[]) as l(partition, lag)
         on conflict (group_id, topic, partition)
         do update set lag = excluded.lag, measured_at = excluded.measured_at",
    )
    .bind(group)
    .bind(topic)
    .bind(partitions)
    .bind(values)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every partition's lag measured since `since`, by group, topic and partition.
pub async fn consumer_lag(pool: &PgPool, since: DateTime<Utc>) -> Result<Vec<LagRow>, StoreError> {
    Ok(sqlx::query_as(
        "select group_id, topic, partition, lag, measured_at from consumer_lag
         where measured_at >= $1
         order by group_id, topic, partition",
    )
    .bind(since)
    .fetch_all(pool)
    .await?)
}

/// Records that a process (`api` or `worker`) started.
pub async fn record_process_start(pool: &PgPool, process: &str) -> Result<(), StoreError> {
    sqlx::query("insert into process_starts (process) values ($1)")
        .bind(process)
        .execute(pool)
        .await?;
    Ok(())
}

/// Process starts since `since`, per process (`api`, `worker`; absent when none).
pub async fn process_starts_since(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "select process, count(*) from process_starts where started_at >= $1
         group by process order by process",
    )
    .bind(since)
    .fetch_all(pool)
    .await?)
}

/// How long a stored lag measurement counts for the alerts (the worker
/// measures every 15 s; an older figure means no worker is measuring).
pub const LAG_FRESHNESS: std::time::Duration = std::time::Duration::from_secs(120);

/// What the in-process alerts are evaluated on: each channel's escalation
/// rate and P95 latency over the last hour (from its newest
/// [`RATE_SAMPLE`](crate::rates::RATE_SAMPLE) tickets and turns), each
/// group's fresh lag summed per topic, and this process's pool utilisation.
pub async fn alert_inputs(pool: &PgPool) -> Result<AlertInputs, StoreError> {
    let now = Utc::now();
    let hour_ago = now - chrono::Duration::hours(1);
    let outcomes = rates::recent_escalations(pool, hour_ago, rates::RATE_SAMPLE).await?;
    let latencies = rates::recent_turn_latency_p95(pool, hour_ago, rates::RATE_SAMPLE).await?;
    let channels = Channel::ALL
        .iter()
        .map(|channel| {
            let outcome = outcomes.iter().find(|o| o.channel == channel.as_str());
            ChannelFigure {
                channel: channel.as_str().to_owned(),
                tickets: outcome.map_or(0, |o| o.tickets),
                escalation_rate: outcome.map_or(0.0, rates::ChannelOutcomes::escalation_rate),
                p95_latency_ms: latencies
                    .iter()
                    .find(|(name, _)| name == channel.as_str())
                    .map(|(_, p95)| *p95),
            }
        })
        .collect();
    let fresh_since = now - chrono::Duration::from_std(LAG_FRESHNESS).unwrap_or_default();
    let mut lags: Vec<GroupLag> = Vec::new();
    for row in consumer_lag(pool, fresh_since).await? {
        match lags
            .iter_mut()
            .find(|l| l.group == row.group_id && l.topic == row.topic)
        {
            Some(total) => total.lag += row.lag,
            None => lags.push(GroupLag {
                group: row.group_id,
                topic: row.topic,
                lag: row.lag,
            }),
        }
    }
    Ok(AlertInputs {
        channels,
        lags,
        pool_utilisation: Some(crate::record_pool_metrics(pool)),
    })
}
