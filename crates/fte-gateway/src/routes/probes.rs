//! `/live`, `/ready`, `/health` and `/metrics`.
//!
//! Liveness checks nothing outside the process, so an outage of PostgreSQL
//! or Kafka takes pods out of rotation (`/ready`) instead of restarting them
//! all at once; `/health` stays the rich status for people.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{AppState, health};

/// `GET /health`: 200 with every dependency's state, or 503 naming the one
/// that is down. Kafka away for no longer than
/// `HEALTH_KAFKA_OUTAGE_GRACE_SECS` is 200 `degraded`: the gateway keeps
/// accepting through its event outbox.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Every dependency answers; `channels` gives each channel as `active` (its provider), `fake` (an in-process provider fake, local run), `recording` (no provider credentials: replies are recorded, not sent) or `degraded` (PostgreSQL or Kafka down)"),
              (status = 503, description = "A dependency is down (Kafka: for longer than HEALTH_KAFKA_OUTAGE_GRACE_SECS)")))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let report = health::report(&state).await;
    let status = if report.is_serving() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// `GET /live`: 200 while the process serves requests. Checks no
/// dependency: the orchestrator restarts a process only when it is stuck.
#[utoipa::path(get, path = "/live", tag = "operations",
    responses((status = 200, description = "The process answers")))]
pub async fn live() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "alive" }))
}

/// `GET /ready`: 200 when this instance can accept traffic (PostgreSQL and
/// Kafka answer and no readiness condition holds), else 503 naming what is
/// wrong, so the load balancer routes around it.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "Ready for traffic"),
              (status = 503, description = "Not ready: `checks` and `not_ready` say why")))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let report = health::report(&state).await;
    let held = state.readiness.held();
    if report.is_serving() && held.is_empty() {
        (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "status": "not_ready",
                "checks": report.checks,
                "not_ready": held,
            })),
        )
    }
}

/// `GET /metrics`: the Prometheus text exposition, for scrapers that reach
/// the pod directly. Behind the trusted proxy (`TRUST_PROXY=true`) a request
/// that came through it (it carries `X-Forwarded-For`) answers 404: the
/// Ingress never routes `/metrics`, and this keeps it private even if a route
/// is added by mistake.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
              (status = 404, description = "Asked through the public proxy")))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.api.trust_proxy && headers.contains_key("x-forwarded-for") {
        return crate::ApiError::NotFound("No such endpoint; see /docs.".into()).into_response();
    }
    fte_store::record_pool_metrics(&state.pool);
    (
        [(header::CONTENT_TYPE, fte_runtime::metrics::CONTENT_TYPE)],
        fte_runtime::metrics::global().encode(),
    )
        .into_response()
}
