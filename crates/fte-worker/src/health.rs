//! `/health`, `/ready` and `/metrics` of the worker process.
//!
//! `/health` and `/ready` answer 200 while PostgreSQL and Kafka answer and
//! 503 otherwise, with each dependency's state and each channel's breaker
//! state (a degraded channel does not make the worker unhealthy: its
//! replies wait in the outbox); a channel whose replies a recording sender
//! keeps (no provider credentials) shows as `recording`, not `active`.
//! While an in-process alert holds the status is `degraded` (still 200)
//! and `alerts` lists each with its reason and since when. `/ready` also
//! answers 503 while a partition of this worker is stuck (it holds messages
//! and has not moved for `WORKER_STUCK_PARTITION_SECS`), naming each one.
//! `/metrics` is the Prometheus registry.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use fte_bus::KafkaPublisher;
use fte_channels::{GuardedSender, ReplySender};
use fte_runtime::alerts::AlertBook;
use fte_store::PgPool;
use serde_json::json;

use crate::stall::LaneWatch;

/// What the probes look at.
#[derive(Clone)]
pub struct HealthState {
    /// The CRM database.
    pub pool: PgPool,
    /// The Kafka producer (its metadata request is the Kafka check).
    pub publisher: KafkaPublisher,
    /// Each channel's guarded sender, for its breaker state.
    pub senders: Vec<Arc<GuardedSender>>,
    /// The in-process alerts that hold (`degraded` while any does).
    pub alerts: Arc<AlertBook>,
    /// The consumer's lanes (`/ready` is 503 while one is stuck).
    pub lanes: Option<Arc<LaneWatch>>,
}

/// The probe routes.
pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Checks every dependency: 200 when PostgreSQL and Kafka answer, else 503.
pub async fn report(state: &HealthState) -> (StatusCode, serde_json::Value) {
    let timeout = Duration::from_secs(2);
    let (postgres, kafka) = tokio::join!(
        fte_store::ping(&state.pool, timeout),
        state.publisher.check(timeout)
    );
    let mut channels = serde_json::Map::new();
    for sender in &state.senders {
        let state = match sender.state() {
            fte_channels::ChannelState::Active if sender.records_only() => "recording",
            state => state.as_str(),
        };
        channels.insert(sender.channel().as_str().to_owned(), json!(state));
    }
    let healthy = postgres.is_ok() && kafka.is_ok();
    let alerts = state.alerts.active();
    let body = json!({
        "status": match (healthy, alerts.is_empty()) {
            (false, _) => "unavailable",
            (true, true) => "ok",
            // Still serving: an alert is for people, not the orchestrator.
            (true, false) => "degraded",
        },
        "postgres": if postgres.is_ok() { "up" } else { "down" },
        "kafka": if kafka.is_ok() { "up" } else { "down" },
        "channels": channels,
        "alerts": alerts,
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

async fn health(State(state): State<HealthState>) -> impl IntoResponse {
    let (status, body) = report(&state).await;
    (status, Json(body))
}

/// `/health`, and 503 while a partition is stuck: a worker that holds
/// messages it does not process is not ready.
pub async fn readiness(state: &HealthState) -> (StatusCode, serde_json::Value) {
    let (mut status, mut body) = report(state).await;
    let stuck = state
        .lanes
        .as_ref()
        .map(|lanes| lanes.stuck())
        .unwrap_or_default();
    if !stuck.is_empty() {
        status = StatusCode::SERVICE_UNAVAILABLE;
        body["status"] = json!("stuck");
        body["stuck_partitions"] = stuck
            .iter()
            .map(|s| {
                json!({
                    "partition": s.partition,
                    "pending": s.pending,
                    "still_secs": s.still_for.as_secs(),
                })
            })
            .collect();
    }
    (status, body)
}

async fn ready(State(state): State<HealthState>) -> impl IntoResponse {
    let (status, body) = readiness(&state).await;
    (status, Json(body))
}

async fn metrics(State(state): State<HealthState>) -> impl IntoResponse {
    fte_store::record_pool_metrics(&state.pool);
    (
        [(header::CONTENT_TYPE, fte_runtime::metrics::CONTENT_TYPE)],
        fte_runtime::metrics::global().encode(),
    )
}
