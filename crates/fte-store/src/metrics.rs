//! The plan's metric levels, from the rows the metrics collector writes and
//! the CRM tables.
//!
//! `agent_metrics` holds one row per figure of each `agent.turn` event; the
//! event id makes a redelivered event a no-op ([`record_turn`]). The
//! aggregates are computed by SQL over a window, for each channel and
//! overall ([`OVERALL`]): channel level ([`channel_level`]), agent level
//! ([`agent_level`]), business level ([`business_level`]). The system level
//! keeps what processes report: consumer lag as the worker last measured it
//! ([`store_consumer_lag`], [`consumer_lag`]) and process starts
//! ([`record_process_start`], [`process_starts_since`]).

use chrono::{DateTime, Utc};
use fte_domain::{Channel, TokenUsage};
use fte_runtime::alerts::{AlertInputs, ChannelFigure, GroupLag};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// The label of the row that aggregates every channel.
pub const OVERALL: &str = "overall";

/// The largest value `agent_metrics.metric_value` (numeric(14, 4)) holds.
const MAX_METRIC_VALUE: f64 = 9_999_999_999.0;

/// `agent_metrics.metric_name` of each figure of a turn.
pub mod names {
    /// The agent's turn latency in milliseconds.
    pub const RESPONSE_LATENCY_MS: &str = "response_latency_ms";
    /// Chat tokens spent (prompt + completion).
    pub const TOKENS_USED: &str = "tokens_used";
    /// Chat prompt (input) tokens.
    pub const PROMPT_TOKENS: &str = "prompt_tokens";
    /// Chat completion (output) tokens.
    pub const COMPLETION_TOKENS: &str = "completion_tokens";
    /// Tokens billed by a remote embedder.
    pub const EMBEDDING_TOKENS: &str = "embedding_tokens";
    /// What the turn's tokens cost when they were spent, in micro-dollars
    /// (the column keeps four decimals: a dollar amount would round a
    /// typical turn to nothing).
    pub const MODEL_COST_MICRO_USD: &str = "model_cost_micro_usd";
    /// Sentiment of the customer's message on -1..1.
    pub const SENTIMENT: &str = "sentiment";
    /// Tool calls made.
    pub const TOOL_CALLS: &str = "tool_calls";
    /// Knowledge base searches run.
    pub const KB_SEARCHES: &str = "kb_searches";
    /// Searches whose best result was above the relevance threshold.
    pub const KB_HITS: &str = "kb_hits";
    /// Tool calls that failed (bad arguments, unknown tool).
    pub const FAILED_TOOL_CALLS: &str = "failed_tool_calls";
    /// 1 when the turn escalated, else 0.
    pub const ESCALATED: &str = "escalated";
}

/// One agent turn, as the `agent.turn` event carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct TurnRecord<'a> {
    /// The event's id: a second record of the same id is ignored.
    pub event_id: Uuid,
    /// When the turn happened.
    pub occurred_at: DateTime<Utc>,
    /// `email`, `whatsapp` or `web_form`.
    pub channel: &'a str,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Turn latency in milliseconds.
    pub latency_ms: u32,
    /// Chat tokens spent (prompt + completion).
    pub tokens_used: u32,
    /// Billed tokens by kind (all 0 for events written before the split).
    pub usage: TokenUsage,
    /// What they cost when spent, in micro-dollars.
    pub cost_micro_usd: f64,
    /// Tool calls made.
    pub tool_calls: u32,
    /// Knowledge base searches run.
    pub kb_searches: u32,
    /// Searches with a result above the threshold.
    pub kb_hits: u32,
    /// Failed tool calls.
    pub failed_tool_calls: u32,
    /// Whether the turn escalated.
    pub escalated: bool,
    /// Sentiment on -1..1.
    pub sentiment: f64,
}

/// Writes the turn's figures, one `agent_metrics` row each. Returns `false`
/// when the event was already recorded (nothing is written then).
pub async fn record_turn(
    executor: impl PgExecutor<'_>,
    turn: &TurnRecord<'_>,
) -> Result<bool, StoreError> {
    let figures: [(&str, f64); 12] = [
        (names::RESPONSE_LATENCY_MS, f64::from(turn.latency_ms)),
        (names::TOKENS_USED, f64::from(turn.tokens_used)),
        (names::PROMPT_TOKENS, f64::from(turn.usage.prompt)),
        (names::COMPLETION_TOKENS, f64::from(turn.usage.completion)),
        (names::EMBEDDING_TOKENS, f64::from(turn.usage.embedding)),
        (
            names::MODEL_COST_MICRO_USD,
            // Inside numeric(14, 4); a cost is never negative.
            if turn.cost_micro_usd.is_finite() {
                turn.cost_micro_usd.clamp(0.0, MAX_METRIC_VALUE)
            } else {
                0.0
            },
        ),
        (names::SENTIMENT, turn.sentiment.clamp(-1.0, 1.0)),
        (names::TOOL_CALLS, f64::from(turn.tool_calls)),
        (names::KB_SEARCHES, f64::from(turn.kb_searches)),
        (names::KB_HITS, f64::from(turn.kb_hits)),
        (names::FAILED_TOOL_CALLS, f64::from(turn.failed_tool_calls)),
        (names::ESCALATED, if turn.escalated { 1.0 } else { 0.0 }),
    ];
    let (metric_names, values): (Vec<&str>, Vec<f64>) = figures.into_iter().unzip();
    let dimensions = serde_json::json!({
        "conversation_id": turn.conversation_id,
        "ticket_id": turn.ticket_id,
    });
    let inserted = sqlx::query(
        "insert into agent_metrics
             (event_id, metric_name, metric_value, channel, dimensions, recorded_at)
         select $1, f.name, f.value::numeric, $2, $3, $4
         from unnest($5::text[], $6::float8[]) as f(name, value)
         on conflict (event_id, metric_name) where event_id is not null do nothing",
    )
    .bind(turn.event_id)
    .bind(turn.channel)
    .bind(dimensions)
    .bind(turn.occurred_at)
    .bind(metric_names)
    .bind(values)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// The labels of the per-channel rows, then [`OVERALL`].
fn channel_labels() -> Vec<&'static str> {
    Channel::ALL
        .iter()
        .map(|c| c.as_str())
        .chain([OVERALL])
        .collect()
}

/// Channel level over a window, for one channel or [`OVERALL`].
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ChannelLevel {
    /// The channel, or [`OVERALL`].
    pub channel: String,
    /// Conversations started in the window.
    pub total_conversations: i64,
    /// Tickets opened in the window.
    pub tickets: i64,
    /// Of those, tickets handed to a person.
    pub escalated_tickets: i64,
    /// Mean agent turn latency, when any turn was recorded.
    pub avg_latency_ms: Option<f64>,
    /// 95th percentile of the agent turn latency (continuous), when any.
    pub p95_latency_ms: Option<f64>,
    /// Mean sentiment of the turns, when any.
    pub avg_sentiment: Option<f64>,
}

impl ChannelLevel {
    /// escalated_tickets / tickets; 0 without tickets.
    pub fn escalation_rate(&self) -> f64 {
        ratio(self.escalated_tickets as f64, self.tickets as f64).unwrap_or(0.0)
    }
}

/// Channel level since `since`: one row per channel in [`Channel::ALL`]
/// order (zeros without traffic), then the [`OVERALL`] row.
pub async fn channel_level(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<ChannelLevel>, StoreError> {
    // Turn figures in one pass with grouping sets (per channel and overall).
    Ok(sqlx::query_as(
        "with turns as (
             select case when grouping(m.channel) = 1 then 'overall' else m.channel end as channel,
                    (avg(m.metric_value) filter (where m.metric_name = 'response_latency_ms'))::float8
                        as avg_latency_ms,
                    percentile_cont(0.95) within group (order by m.metric_value::float8)
                        filter (where m.metric_name = 'response_latency_ms') as p95_latency_ms,
                    (avg(m.metric_value) filter (where m.metric_name = 'sentiment'))::float8
                        as avg_sentiment
             from agent_metrics m
             where m.recorded_at >= $2 and m.channel is not null
               and m.metric_name in ('response_latency_ms', 'sentiment')
             group by grouping sets ((m.channel), ())
         )
         select c.channel,
                (select count(*) from conversations v
                 where v.started_at >= $2
                   and (c.channel = 'overall' or v.initial_channel = c.channel))
                    as total_conversations,
                (select count(*) from tickets t
                 where t.created_at >= $2
                   and (c.channel = 'overall' or t.source_channel = c.channel)) as tickets,
                (select count(*) from tickets t
                 where t.created_at >= $2
                   and (t.status = 'escalated' or t.escalated_at is not null)
                   and (c.channel = 'overall' or t.source_channel = c.channel))
                    as escalated_tickets,
                t.avg_latency_ms, t.p95_latency_ms, t.avg_sentiment
         from unnest($1::text[]) with ordinality as c(channel, position)
         left join turns t on t.channel = c.channel
         order by c.position",
    )
    .bind(channel_labels())
    .bind(since)
    .fetch_all(pool)
    .await?)
}

/// The sums behind the agent level, for one channel or [`OVERALL`].
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct AgentTotals {
    /// The channel, or [`OVERALL`].
    pub channel: String,
    /// Agent turns recorded.
    pub turns: i64,
    /// Distinct conversations those turns belong to.
    pub conversations: i64,
    /// Tool calls made.
    pub tool_calls: f64,
    /// Knowledge base searches.
    pub kb_searches: f64,
    /// Searches with a result above the threshold.
    pub kb_hits: f64,
    /// Failed tool calls.
    pub failed_tool_calls: f64,
    /// Model tokens.
    pub tokens_used: f64,
}

impl AgentTotals {
    /// Tool calls per conversation, when any conversation had a turn.
    pub fn tool_usage_frequency(&self) -> Option<f64> {
        ratio(self.tool_calls, self.conversations as f64)
    }

    /// Searches with a result above the threshold / all searches.
    pub fn knowledge_base_hit_rate(&self) -> Option<f64> {
        ratio(self.kb_hits, self.kb_searches)
    }

    /// Tokens per conversation.
    pub fn token_usage_per_conversation(&self) -> Option<f64> {
        ratio(self.tokens_used, self.conversations as f64)
    }

    /// Failed tool calls / tool calls.
    pub fn error_rate(&self) -> Option<f64> {
        ratio(self.failed_tool_calls, self.tool_calls)
    }
}

/// Agent level since `since`: per channel in [`Channel::ALL`] order (zeros
/// without turns), then [`OVERALL`]. One pass over the window's rows with
/// grouping sets; distinct conversations are counted on one row per turn.
pub async fn agent_level(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<AgentTotals>, StoreError> {
    let rows: Vec<AgentTotals> = sqlx::query_as(
        "select case when grouping(m.channel) = 1 then 'overall' else m.channel end as channel,
                count(*) filter (where m.metric_name = 'tool_calls') as turns,
                count(distinct m.dimensions ->> 'conversation_id')
                    filter (where m.metric_name = 'tool_calls') as conversations,
                coalesce(sum(m.metric_value) filter (where m.metric_name = 'tool_calls'), 0)::float8
                    as tool_calls,
                coalesce(sum(m.metric_value) filter (where m.metric_name = 'kb_searches'), 0)::float8
                    as kb_searches,
                coalesce(sum(m.metric_value) filter (where m.metric_name = 'kb_hits'), 0)::float8
                    as kb_hits,
                coalesce(sum(m.metric_value) filter (where m.metric_name = 'failed_tool_calls'), 0)::float8
                    as failed_tool_calls,
                coalesce(sum(m.metric_value) filter (where m.metric_name = 'tokens_used'), 0)::float8
                    as tokens_used
         from agent_metrics m
         where m.recorded_at >= $1 and m.event_id is not null and m.channel is not null
         group by grouping sets ((m.channel), ())",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(channel_labels()
        .into_iter()
        .map(|label| {
            rows.iter()
                .find(|row| row.channel == label)
                .cloned()
                .unwrap_or_else(|| AgentTotals {
                    channel: label.to_owned(),
                    turns: 0,
                    conversations: 0,
                    tool_calls: 0.0,
                    kb_searches: 0.0,
                    kb_hits: 0.0,
                    failed_tool_calls: 0.0,
                    tokens_used: 0.0,
                })
        })
        .collect())
}

/// Mean sentiment of one time bucket.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SentimentPoint {
    /// The bucket's start.
    pub bucket_start: DateTime<Utc>,
    /// Mean sentiment of the turns in it.
    pub avg_sentiment: f64,
    /// Turns in it.
    pub turns: i64,
}

/// The business level over a window.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessLevel {
    /// Tickets opened in the window.
    pub tickets: i64,
    /// Tickets resolved in the window.
    pub resolved_tickets: i64,
    /// Of those, resolved without ever being escalated to a person.
    pub resolved_without_human: i64,
    /// Customers who wrote in during the window.
    pub active_customers: i64,
    /// Of those, customers who wrote on more than one channel (and were
    /// resolved to one customer id).
    pub cross_channel_customers: i64,
    /// Mean sentiment per bucket, oldest first (buckets without turns are absent).
    pub sentiment_trend: Vec<SentimentPoint>,
}

impl BusinessLevel {
    /// resolved_without_human / resolved_tickets.
    pub fn resolved_without_human_rate(&self) -> Option<f64> {
        ratio(
            self.resolved_without_human as f64,
            self.resolved_tickets as f64,
        )
    }

    /// cross_channel_customers / active_customers.
    pub fn cross_channel_identification_rate(&self) -> Option<f64> {
        ratio(
            self.cross_channel_customers as f64,
            self.active_customers as f64,
        )
    }
}

/// Business level since `since`, the sentiment trend in buckets of
/// `bucket_secs` seconds aligned on `since`.
pub async fn business_level(
    pool: &PgPool,
    since: DateTime<Utc>,
    bucket_secs: u32,
) -> Result<BusinessLevel, StoreError> {
    let (tickets, resolved_tickets, resolved_without_human): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from tickets where created_at >= $1),
                (select count(*) from tickets where status = 'resolved' and resolved_at >= $1),
                (select count(*) from tickets
                 where status = 'resolved' and resolved_at >= $1 and escalated_at is null)",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    let (active_customers, cross_channel_customers): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where s.channels > 1)
         from (select v.customer_id, count(distinct m.channel) as channels
               from messages m join conversations v on v.id = m.conversation_id
               where m.direction = 'inbound' and m.created_at >= $1
               group by v.customer_id) s",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    let sentiment_trend = sqlx::query_as(
        "select date_bin(make_interval(secs => $2), m.recorded_at, $1) as bucket_start,
                avg(m.metric_value)::float8 as avg_sentiment,
                count(*) as turns
         from agent_metrics m
         where m.metric_name = 'sentiment' and m.recorded_at >= $1
         group by 1
         order by 1",
    )
    .bind(since)
    .bind(f64::from(bucket_secs.max(1)))
    .fetch_all(pool)
    .await?;
    Ok(BusinessLevel {
        tickets,
        resolved_tickets,
        resolved_without_human,
        active_customers,
        cross_channel_customers,
        sentiment_trend,
    })
}

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
/// rate and P95 latency over the last hour, each group's fresh lag summed
/// per topic, and this process's pool utilisation.
pub async fn alert_inputs(pool: &PgPool) -> Result<AlertInputs, StoreError> {
    let now = Utc::now();
    let channels = channel_level(pool, now - chrono::Duration::hours(1))
        .await?
        .into_iter()
        .filter(|level| level.channel != OVERALL)
        .map(|level| ChannelFigure {
            escalation_rate: level.escalation_rate(),
            tickets: level.tickets,
            p95_latency_ms: level.p95_latency_ms,
            channel: level.channel,
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

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}
