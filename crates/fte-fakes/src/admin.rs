//! The `fte-fakes` binary's control plane, on its own port so it stays up
//! while a provider fake is down: `POST /twilio/down {"seconds": N}` takes
//! the fake Twilio down (connections refused) and brings it back on the same
//! port after `N` seconds — the provider outage of the chaos harness.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::twilio::FakeTwilio;

/// The longest outage one request may ask for.
pub const MAX_OUTAGE_SECS: u64 = 3600;

/// The admin router over the fakes it steers.
pub fn router(twilio: Arc<FakeTwilio>) -> Router {
    Router::new()
        .route("/twilio/down", post(twilio_down))
        .with_state(twilio)
}

#[derive(Deserialize)]
struct OutageRequest {
    seconds: f64,
}

async fn twilio_down(
    State(twilio): State<Arc<FakeTwilio>>,
    body: Result<Json<OutageRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let seconds = match body {
        Ok(Json(request)) => request.seconds,
        Err(rejection) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("body must be {{\"seconds\": N}}: {rejection}")})),
            )
                .into_response();
        }
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > MAX_OUTAGE_SECS as f64 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("seconds must be in (0, {MAX_OUTAGE_SECS}]")})),
        )
            .into_response();
    }
    let outage = Duration::from_secs_f64(seconds);
    twilio.go_down().await;
    tracing::info!(outage_ms = outage.as_millis() as u64, "fake Twilio down");
    tokio::spawn(async move {
        tokio::time::sleep(outage).await;
        match twilio.come_back().await {
            Ok(()) => tracing::info!("fake Twilio back up"),
            Err(error) => tracing::error!(%error, "fake Twilio could not listen again"),
        }
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({"down_for_seconds": seconds})),
    )
        .into_response()
}
