//! Dependency checks behind `/health` and `/ready`. Both query PostgreSQL and
//! ask Kafka for metadata on every call, with short timeouts, so a stopped
//! database shows up at once and recovery needs no restart. `/health` also
//! lists the in-process alerts that hold (status `degraded`, still 200).
//!
//! Kafka being away is not an outage of the gateway while it is short:
//! every write commits to PostgreSQL with its events in the event outbox,
//! and the relay publishes them when the broker is back. So for
//! `HEALTH_KAFKA_OUTAGE_GRACE_SECS` from the first failed Kafka check the
//! gateway reports `degraded` (200, still ready, `kafka_outage_secs` says
//! for how long); only a longer outage makes it `unhealthy` (503) and
//! takes it out of rotation. PostgreSQL down is an outage at once: nothing
//! can be accepted without it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fte_domain::Channel;
use fte_runtime::alerts::ActiveAlert;
use serde::Serialize;

use crate::AppState;

/// How long each dependency check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

/// The state of one dependency.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DependencyCheck {
    /// `ok` or `error`.
    pub status: &'static str,
    /// How long the check took.
    pub latency_ms: u64,
    /// A short reason when it failed (never a connection string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `/health` body.
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    /// `healthy` when every dependency answers and no alert holds,
    /// `degraded` when an alert holds or Kafka has been away for no longer
    /// than the grace period (still 200 and ready: alerts are for people,
    /// and the outbox holds what arrives meanwhile), else `unhealthy`.
    pub status: &'static str,
    /// When the report was made.
    pub timestamp: DateTime<Utc>,
    /// The build's version.
    pub version: &'static str,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// Each channel's state: `active` (its provider), `fake` (an in-process
    /// provider fake, local run), `recording` (no provider credentials: the
    /// worker records replies instead of sending them), `disabled` (not in
    /// `CHANNELS_ENABLED`), or `degraded` while PostgreSQL or Kafka is down.
    pub channels: serde_json::Map<String, serde_json::Value>,
    /// PostgreSQL and Kafka.
    pub checks: Checks,
    /// The in-process alerts that hold: name, scope, reason and since when.
    pub alerts: Vec<ActiveAlert>,
    /// How long Kafka has been away, while it is (whole seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_outage_secs: Option<u64>,
    /// Whether this instance accepts traffic: PostgreSQL answers, and Kafka
    /// does or has been away for no longer than the grace period.
    #[serde(skip)]
    serving: bool,
}

/// When the current Kafka outage was first seen by a check.
#[derive(Debug, Default)]
pub struct KafkaOutage {
    since: Mutex<Option<Instant>>,
}

impl KafkaOutage {
    /// Records one check of Kafka; returns how long the outage has lasted
    /// (`None` while Kafka answers).
    pub fn observe(&self, kafka_up: bool) -> Option<Duration> {
        let mut since = self.since.lock().unwrap_or_else(|p| p.into_inner());
        if kafka_up {
            if let Some(started) = since.take() {
                tracing::info!(
                    duration_ms = started.elapsed().as_millis() as u64,
                    "kafka is back"
                );
            }
            return None;
        }
        let started = *since.get_or_insert_with(|| {
            tracing::warn!("kafka is away; accepting through the event outbox");
            Instant::now()
        });
        Some(started.elapsed())
    }
}

/// The dependency checks.
#[derive(Clone, Debug, Serialize)]
pub struct Checks {
    /// PostgreSQL.
    pub postgres: DependencyCheck,
    /// Kafka.
    pub kafka: DependencyCheck,
}

impl HealthReport {
    /// Whether this instance accepts traffic (`/health` 200, `/ready` 200
    /// unless a readiness condition holds): every dependency is up, or only
    /// Kafka is away and not for longer than the grace period.
    pub fn is_serving(&self) -> bool {
        self.serving
    }
}

async fn timed<F, E>(check: F) -> DependencyCheck
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let result = check.await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(()) => DependencyCheck {
            status: "ok",
            latency_ms,
            error: None,
        },
        Err(error) => DependencyCheck {
            status: "error",
            latency_ms,
            error: Some(error.to_string()),
        },
    }
}

/// Runs both checks concurrently.
pub async fn report(state: &AppState) -> HealthReport {
    let (postgres, kafka) = tokio::join!(
        timed(fte_store::ping(&state.pool, CHECK_TIMEOUT)),
        timed(state.publisher.check(CHECK_TIMEOUT)),
    );
    fte_store::record_pool_metrics(&state.pool);
    let postgres_up = postgres.status == "ok";
    let kafka_outage = state.kafka_outage.observe(kafka.status == "ok");
    let grace = Duration::from_secs(state.api.kafka_outage_grace_secs);
    let kafka_tolerable = kafka_outage.is_none_or(|outage| outage < grace);
    let mut channels = serde_json::Map::new();
    for channel in Channel::ALL {
        // The gateway accepts every channel's inbound traffic while its
        // dependencies are up; provider-side states come from the worker.
        let accepting = postgres_up && kafka_outage.is_none();
        let state = match (accepting, state.delivery.of(channel)) {
            (_, crate::local::Delivery::Disabled) => "disabled",
            (false, _) => "degraded",
            (true, crate::local::Delivery::Provider) => "active",
            (true, crate::local::Delivery::Fake) => "fake",
            (true, crate::local::Delivery::Recording) => "recording",
        };
        channels.insert(
            channel.as_str().to_owned(),
            serde_json::Value::String(state.to_owned()),
        );
    }
    let checks = Checks { postgres, kafka };
    let serving = postgres_up && kafka_tolerable;
    let alerts = state.monitor.alerts.active();
    HealthReport {
        status: match (serving, kafka_outage.is_none() && alerts.is_empty()) {
            (false, _) => "unhealthy",
            (true, true) => "healthy",
            (true, false) => "degraded",
        },
        timestamp: Utc::now(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        channels,
        checks,
        alerts,
        kafka_outage_secs: kafka_outage.map(|outage| outage.as_secs()),
        serving,
    }
}
