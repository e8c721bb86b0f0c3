//! The worker's in-process alerts: every `ALERT_INTERVAL_SECS` the plan's
//! thresholds are evaluated on the figures of the last hour, the stored
//! consumer lag and this process's pool ([`fte_store::metrics::alert_inputs`]),
//! and the [`AlertBook`] logs each start and clear once. The worker's
//! `/health` reports `degraded` with the alerts while one holds.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_runtime::alerts::{self, AlertBook, Transition};
use fte_runtime::settings::AlertSettings;
use fte_store::{PgPool, StoreError};
use tokio_util::sync::CancellationToken;

/// Evaluates the thresholds once and records the result in `book`.
pub async fn evaluate_once(
    pool: &PgPool,
    settings: &AlertSettings,
    book: &AlertBook,
) -> Result<Vec<Transition>, StoreError> {
    let inputs = fte_store::metrics::alert_inputs(pool).await?;
    Ok(book.update(Utc::now(), alerts::evaluate(settings, &inputs)))
}

/// Evaluates every `settings.interval_secs` until `shutdown`. A failed
/// evaluation (database down) keeps the previous state: `/health` already
/// reports the database itself.
pub async fn run(
    pool: PgPool,
    settings: AlertSettings,
    book: Arc<AlertBook>,
    shutdown: CancellationToken,
) {
    let interval = Duration::from_secs(settings.interval_secs.max(1));
    loop {
        if let Err(error) = evaluate_once(&pool, &settings, &book).await {
            tracing::warn!(%error, "alert evaluation failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
