//! `GET /metrics/summary` (staff): the agent, system and business levels
//! over a window, with the channel level and the model cost
//! ([`crate::routes::cost`]) beside them; and the gateway's
//! [`Monitor`], which evaluates the plan's alert thresholds every
//! `ALERT_INTERVAL_SECS` (what `/health` reports as `degraded`) and samples
//! the request counters for the 4xx / 5xx rates.
//!
//! Where the system level comes from, honestly:
//! - consumer lag: what the worker's metrics collector last measured
//!   against the broker and stored (`consumer_lag`), with `measured_at`;
//!   the gateway links no Kafka consumer of its own;
//! - pool utilisation: this gateway process's sqlx pool;
//! - 4xx / 5xx per minute: this process's `fte_http_requests_total`, over
//!   the window or since the process started when that is shorter
//!   (`measured_over_secs` says which);
//! - process starts: the rows each `fte-api` and `fte-worker` start writes
//!   (`process_starts`); starts beyond a deployment's replicas are restarts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use fte_runtime::alerts::ActiveAlert;
use fte_store::metrics::{self as store_metrics, AgentTotals, ChannelLevel};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{StaffAuth, Target};
use crate::error::{ErrorBody, FieldError};
use crate::{ApiError, AppState};

mod monitor;
mod window;

pub use monitor::{HttpErrorRates, Monitor, evaluate_alerts, run_monitor};
pub use window::Window;

/// `?window=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// `1h`, `24h` (default) or `7d`.
    #[param(value_type = Option<String>, pattern = "^(1h|24h|7d)$")]
    pub window: Option<String>,
}

/// One channel's (or every channel's) channel level over the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelLevelBody {
    /// Conversations started.
    pub total_conversations: i64,
    /// Tickets opened.
    pub tickets: i64,
    /// Of those, handed to a person.
    pub escalated_tickets: i64,
    /// escalated_tickets / tickets (0 without tickets).
    pub escalation_rate: f64,
    /// Mean agent turn latency, when any turn was recorded.
    pub avg_latency_ms: Option<f64>,
    /// P95 agent turn latency, when any turn was recorded.
    pub p95_latency_ms: Option<f64>,
    /// Mean sentiment of the turns, when any.
    pub avg_sentiment: Option<f64>,
}

impl From<&ChannelLevel> for ChannelLevelBody {
    fn from(level: &ChannelLevel) -> Self {
        Self {
            total_conversations: level.total_conversations,
            tickets: level.tickets,
            escalated_tickets: level.escalated_tickets,
            escalation_rate: level.escalation_rate(),
            avg_latency_ms: level.avg_latency_ms,
            p95_latency_ms: level.p95_latency_ms,
            avg_sentiment: level.avg_sentiment,
        }
    }
}

/// The agent level for one channel or overall; ratios are absent without
/// a denominator.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentLevel {
    /// Agent turns recorded.
    pub turns: i64,
    /// Distinct conversations of those turns.
    pub conversations: i64,
    /// Tool calls per conversation.
    pub tool_usage_frequency: Option<f64>,
    /// Searches with a result above the relevance threshold / all searches.
    pub knowledge_base_hit_rate: Option<f64>,
    /// Model tokens per conversation.
    pub token_usage_per_conversation: Option<f64>,
    /// Failed tool calls / tool calls.
    pub error_rate: Option<f64>,
}

impl From<&AgentTotals> for AgentLevel {
    fn from(totals: &AgentTotals) -> Self {
        Self {
            turns: totals.turns,
            conversations: totals.conversations,
            tool_usage_frequency: totals.tool_usage_frequency(),
            knowledge_base_hit_rate: totals.knowledge_base_hit_rate(),
            token_usage_per_conversation: totals.token_usage_per_conversation(),
            error_rate: totals.error_rate(),
        }
    }
}

/// One partition's lag as the worker last measured it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartitionLag {
    /// The consumer group.
    pub group: String,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Messages not yet consumed.
    pub lag: i64,
    /// When the worker measured it.
    pub measured_at: DateTime<Utc>,
}

/// This gateway process's PostgreSQL pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolFigures {
    /// Open connections.
    pub size: u32,
    /// Of those, idle.
    pub idle: u32,
    /// The pool's maximum.
    pub max_connections: u32,
    /// (size - idle) / max_connections.
    pub utilisation: f64,
}

/// The system level.
#[derive(Debug, Serialize, ToSchema)]
pub struct SystemLevel {
    /// Lag per group and partition, as stored by the worker's metrics
    /// collector; partitions not measured within the window are absent.
    pub consumer_lag: Vec<PartitionLag>,
    /// The gateway's pool.
    pub db_pool: PoolFigures,
    /// The gateway's 4xx / 5xx per minute.
    pub http: HttpErrorRates,
    /// Process starts in the window, by process (`api`, `worker`).
    pub process_starts: BTreeMap<String, i64>,
}

/// Mean sentiment of one bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentPoint {
    /// The bucket's start.
    pub bucket_start: DateTime<Utc>,
    /// Mean sentiment of its turns.
    pub avg_sentiment: f64,
    /// Turns in it.
    pub turns: i64,
}

/// The business level.
#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessLevelBody {
    /// Tickets opened.
    pub tickets: i64,
    /// Tickets resolved.
    pub resolved_tickets: i64,
    /// Of those, resolved without ever being escalated.
    pub resolved_without_human: i64,
    /// resolved_without_human / resolved_tickets.
    pub resolved_without_human_rate: Option<f64>,
    /// Customers who wrote in.
    pub active_customers: i64,
    /// Of those, customers who wrote on more than one channel, resolved to one id.
    pub cross_channel_customers: i64,
    /// cross_channel_customers / active_customers.
    pub cross_channel_identification_rate: Option<f64>,
    /// Mean sentiment per bucket (5 min for 1h, 1 h for 24h, 1 day for 7d), oldest first.
    pub sentiment_trend: Vec<SentimentPoint>,
}

/// `GET /metrics/summary`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsSummary {
    /// `1h`, `24h` or `7d`.
    pub window: &'static str,
    /// The window's start.
    pub since: DateTime<Utc>,
    /// When the summary was made.
    pub until: DateTime<Utc>,
    /// Channel level per channel and `overall`.
    pub channels: BTreeMap<String, ChannelLevelBody>,
    /// Agent level per channel and `overall`.
    pub agent: BTreeMap<String, AgentLevel>,
    /// System level.
    pub system: SystemLevel,
    /// Business level.
    pub business: BusinessLevelBody,
    /// Model tokens and their cost per channel and `overall` ([`crate::routes::cost`]).
    pub cost: BTreeMap<String, crate::routes::cost::CostLevel>,
    /// The gateway's alerts that hold now.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<ActiveAlert>,
}

/// The agent, system and business levels (and the channel level) over a window.
#[utoipa::path(
    get,
    path = "/metrics/summary",
    tag = "staff",
    security(("staff_key" = [])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "Every metric level over the window", body = MetricsSummary),
        (status = 400, description = "A query parameter given twice (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 422, description = "A window other than 1h, 24h or 7d", body = ErrorBody),
    )
)]
pub async fn summary(
    staff: StaffAuth,
    State(state): State<AppState>,
    crate::error::AppQuery(query): crate::error::AppQuery<SummaryQuery>,
) -> Result<Json<MetricsSummary>, ApiError> {
    let window = match query.window.as_deref() {
        None => Window::Day,
        Some(text) => Window::parse(text).ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "window",
                "window must be one of 1h, 24h or 7d",
            )])
        })?,
    };
    let pool = &state.pool;
    staff
        .audit(
            pool,
            "metrics.summary.read",
            Target::one("metrics", window.as_str()),
        )
        .await?;
    let until = Utc::now();
    let since = until - chrono::Duration::from_std(window.duration()).unwrap_or_default();
    let channels = store_metrics::channel_level(pool, since).await?;
    let agent = store_metrics::agent_level(pool, since).await?;
    let business = store_metrics::business_level(pool, since, window.bucket_secs()).await?;
    let lag = store_metrics::consumer_lag(pool, since).await?;
    let starts = store_metrics::process_starts_since(pool, since).await?;
    let cost = crate::routes::cost::cost_section(pool, since).await?;

    let utilisation = fte_store::record_pool_metrics(pool);
    let system = SystemLevel {
        consumer_lag: lag
            .into_iter()
            .map(|row| PartitionLag {
                group: row.group_id,
                topic: row.topic,
                partition: row.partition,
                lag: row.lag,
                measured_at: row.measured_at,
            })
            .collect(),
        db_pool: PoolFigures {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max_connections: pool.options().get_max_connections(),
            utilisation,
        },
        http: state.monitor.error_rates(window.duration()),
        process_starts: starts.into_iter().collect(),
    };
    Ok(Json(MetricsSummary {
        window: window.as_str(),
        since,
        until,
        channels: channels
            .iter()
            .map(|level| (level.channel.clone(), level.into()))
            .collect(),
        agent: agent
            .iter()
            .map(|totals| (totals.channel.clone(), totals.into()))
            .collect(),
        system,
        business: BusinessLevelBody {
            resolved_without_human_rate: business.resolved_without_human_rate(),
            cross_channel_identification_rate: business.cross_channel_identification_rate(),
            tickets: business.tickets,
            resolved_tickets: business.resolved_tickets,
            resolved_without_human: business.resolved_without_human,
            active_customers: business.active_customers,
            cross_channel_customers: business.cross_channel_customers,
            sentiment_trend: business
                .sentiment_trend
                .into_iter()
                .map(|point| SentimentPoint {
                    bucket_start: point.bucket_start,
                    avg_sentiment: point.avg_sentiment,
                    turns: point.turns,
                })
                .collect(),
        },
        cost,
        alerts: state.monitor.alerts.active(),
    }))
}
