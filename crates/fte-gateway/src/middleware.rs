//! Request metrics: every response is counted in `fte_http_requests_total`
//! and timed in `fte_http_request_duration_seconds`, labelled by the matched
//! route template (never the raw path, which could carry ids).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Records the request's route, method, status and latency.
pub async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let metrics = fte_runtime::metrics::global();
    metrics
        .http_requests
        .with_label_values(&[&route, &method, response.status().as_str()])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[&route, &method])
        .observe(started.elapsed().as_secs_f64());
    response
}
