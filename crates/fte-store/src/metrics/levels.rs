//! The plan's channel, agent and business levels: aggregates computed by
//! SQL over a window, for each channel and [`OVERALL`].

use chrono::{DateTime, Utc};
use fte_domain::Channel;
use sqlx::PgPool;

use super::turns::OVERALL;
use crate::StoreError;

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

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}
