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

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use fte_runtime::alerts::{self, ActiveAlert, AlertBook, Transition};
use fte_runtime::settings::AlertSettings;
use fte_store::metrics::{self as store_metrics, AgentTotals, ChannelLevel};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{StaffAuth, Target};
use crate::error::{ErrorBody, FieldError};
use crate::{ApiError, AppState};

/// The longest window a summary covers: request samples older than this are dropped.
const LONGEST_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// A summary window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last hour (sentiment in 5-minute buckets).
    Hour,
    /// The last 24 hours (hourly buckets).
    Day,
    /// The last 7 days (daily buckets).
    Week,
}

impl Window {
    /// `1h`, `24h` or `7d`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1h" => Some(Self::Hour),
            "24h" => Some(Self::Day),
            "7d" => Some(Self::Week),
            _ => None,
        }
    }

    /// The window as written in the query.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// Its length.
    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Self::Hour => 3600,
            Self::Day => 24 * 3600,
            Self::Week => 7 * 24 * 3600,
        })
    }

    /// The sentiment trend's bucket, in seconds.
    pub fn bucket_secs(self) -> u32 {
        match self {
            Self::Hour => 300,
            Self::Day => 3600,
            Self::Week => 24 * 3600,
        }
    }
}

#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    client_errors: u64,
    server_errors: u64,
}

/// The gateway's alert book and request-error samples.
pub struct Monitor {
    /// The thresholds (`ALERT_*`).
    pub settings: AlertSettings,
    /// The alerts that hold.
    pub alerts: AlertBook,
    samples: Mutex<VecDeque<Sample>>,
}

impl Monitor {
    /// A monitor with nothing holding; the first request sample is taken now.
    pub fn new(settings: AlertSettings) -> Self {
        let monitor = Self {
            settings,
            alerts: AlertBook::for_process("api"),
            samples: Mutex::new(VecDeque::new()),
        };
        monitor.sample_requests();
        monitor
    }

    fn now_sample() -> Sample {
        let (client_errors, server_errors) = fte_runtime::metrics::global().http_error_totals();
        Sample {
            at: Instant::now(),
            client_errors,
            server_errors,
        }
    }

    /// Records the request counters now, keeping a week of samples (the longest window).
    pub fn sample_requests(&self) {
        let sample = Self::now_sample();
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.push_back(sample);
        // Keep one sample at or before the longest window's start.
        while samples.len() > 2
            && samples
                .get(1)
                .is_some_and(|s| sample.at.duration_since(s.at) >= LONGEST_WINDOW)
        {
            samples.pop_front();
        }
    }

    /// 4xx and 5xx responses per minute over `window`, or since the first
    /// sample when the process is younger than the window.
    pub fn error_rates(&self, window: Duration) -> HttpErrorRates {
        let now = Self::now_sample();
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let baseline = samples
            .iter()
            .rev()
            .find(|s| now.at.duration_since(s.at) >= window)
            .or(samples.front())
            .copied()
            .unwrap_or(now);
        let span = now.at.duration_since(baseline.at);
        let minutes = span.as_secs_f64().max(1.0) / 60.0;
        let per_minute = |now: u64, then: u64| now.saturating_sub(then) as f64 / minutes;
        HttpErrorRates {
            client_errors_per_minute: per_minute(now.client_errors, baseline.client_errors),
            server_errors_per_minute: per_minute(now.server_errors, baseline.server_errors),
            measured_over_secs: span.as_secs(),
        }
    }
}

/// Evaluates the alert thresholds once on the last hour, the stored lag and
/// this process's pool, and records the result (logging each transition).
pub async fn evaluate_alerts(state: &AppState) -> Result<Vec<Transition>, fte_store::StoreError> {
    let inputs = store_metrics::alert_inputs(&state.pool).await?;
    let firing = alerts::evaluate(&state.monitor.settings, &inputs);
    Ok(state.monitor.alerts.update(Utc::now(), firing))
}

/// Samples the request counters and evaluates the alerts every
/// `ALERT_INTERVAL_SECS` until `stop`. A failed evaluation (database down)
/// keeps the previous state; `/health` reports the database itself.
pub async fn run_monitor(state: AppState, stop: CancellationToken) {
    let interval = Duration::from_secs(state.monitor.settings.interval_secs.max(1));
    loop {
        state.monitor.sample_requests();
        if let Err(error) = evaluate_alerts(&state).await {
            tracing::warn!(%error, "alert evaluation failed");
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

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

/// This gateway process's error responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct HttpErrorRates {
    /// 4xx responses per minute.
    pub client_errors_per_minute: f64,
    /// 5xx responses per minute.
    pub server_errors_per_minute: f64,
    /// The span the rates are over: the window, or less when the process is younger.
    pub measured_over_secs: u64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_windows_parse() {
        for (text, window) in [
            ("1h", Window::Hour),
            ("24h", Window::Day),
            ("7d", Window::Week),
        ] {
            assert_eq!(Window::parse(text), Some(window));
            assert_eq!(window.as_str(), text);
        }
        for text in ["", "2h", "1d", "7D", "24 h"] {
            assert_eq!(Window::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn error_rates_count_only_what_happened_after_the_baseline() {
        let monitor = Monitor::new(AlertSettings::default());
        let m = fte_runtime::metrics::global();
        m.http_requests
            .with_label_values(&["/t", "GET", "503"])
            .inc_by(3);
        m.http_requests
            .with_label_values(&["/t", "GET", "404"])
            .inc_by(2);
        m.http_requests
            .with_label_values(&["/t", "GET", "200"])
            .inc_by(50);
        let rates = monitor.error_rates(Duration::from_secs(3600));
        // The process is younger than the hour: the span is clamped to at
        // least a second, so 3 errors read as at most 180 a minute.
        assert!(rates.measured_over_secs < 5, "{rates:?}");
        assert!(
            rates.server_errors_per_minute >= 3.0 * 60.0 / 5.0,
            "{rates:?}"
        );
        assert!(rates.client_errors_per_minute > 0.0, "{rates:?}");
    }
}
