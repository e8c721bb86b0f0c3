//! The route table.

mod probes;

use axum::Router;
use axum::middleware;
use axum::routing::get;

use crate::AppState;

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .route("/metrics", get(probes::metrics))
        .layer(middleware::from_fn(crate::middleware::record_metrics))
        .with_state(state)
}
