//! `/health`, `/ready` and `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::{AppState, health};

/// `GET /health`: 200 with every dependency's state, or 503 naming the one
/// that is down.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Every dependency answers; `channels` gives each channel as `active` (its provider), `fake` (an in-process provider fake, local run), `recording` (no provider credentials: replies are recorded, not sent) or `degraded` (PostgreSQL or Kafka down)"),
              (status = 503, description = "A dependency is down")))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let report = health::report(&state).await;
    let status = if report.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// `GET /ready`: 200 when this instance can accept traffic (PostgreSQL and
/// Kafka answer), else 503 so the load balancer routes around it.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "Ready for traffic"),
              (status = 503, description = "Not ready")))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let report = health::report(&state).await;
    if report.is_healthy() {
        (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not_ready", "checks": report.checks })),
        )
    }
}

/// `GET /metrics`: the Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    fte_store::record_pool_metrics(&state.pool);
    (
        [(header::CONTENT_TYPE, fte_runtime::metrics::CONTENT_TYPE)],
        fte_runtime::metrics::global().encode(),
    )
}
