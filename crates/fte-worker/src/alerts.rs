//! The worker's in-process alerts: every `ALERT_INTERVAL_SECS` the plan's
//! thresholds are evaluated on the figures of the last hour, the stored
//! consumer lag and this process's pool ([`fte_store::metrics::alert_inputs`]),
//! together with the consumer's stuck partitions ([`LaneWatch`]), and the
//! [`AlertBook`] logs each start and clear once. The worker's `/health`
//! reports `degraded` with the alerts while one holds.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_runtime::alerts::{self, AlertBook, Firing, PARTITION_STUCK, Transition};
use fte_runtime::settings::AlertSettings;
use fte_store::{PgPool, StoreError};
use tokio_util::sync::CancellationToken;

use crate::stall::LaneWatch;

/// Evaluates the thresholds and the stuck partitions of `lanes` once and
/// records the result in `book`. When the database cannot be read, the
/// stuck partitions are still recorded (with the threshold alerts as they
/// were) and the error is returned.
pub async fn evaluate_once(
    pool: &PgPool,
    settings: &AlertSettings,
    lanes: Option<&LaneWatch>,
    book: &AlertBook,
) -> Result<Vec<Transition>, StoreError> {
    let stuck = lanes.map(LaneWatch::firing).unwrap_or_default();
    match fte_store::metrics::alert_inputs(pool).await {
        Ok(inputs) => {
            let mut firing = alerts::evaluate(settings, &inputs);
            firing.extend(stuck);
            Ok(book.update(Utc::now(), firing))
        }
        Err(error) => {
            let mut firing: Vec<Firing> = book
                .active()
                .into_iter()
                .filter(|a| a.name != PARTITION_STUCK)
                .map(|a| Firing {
                    name: a.name,
                    scope: a.scope,
                    reason: a.reason,
                })
                .collect();
            firing.extend(stuck);
            book.update(Utc::now(), firing);
            Err(error)
        }
    }
}

/// Evaluates every `settings.interval_secs` until `shutdown`. A failed
/// evaluation (database down) keeps the previous threshold alerts: `/health`
/// already reports the database itself.
pub async fn run(
    pool: PgPool,
    settings: AlertSettings,
    lanes: Option<Arc<LaneWatch>>,
    book: Arc<AlertBook>,
    shutdown: CancellationToken,
) {
    let interval = Duration::from_secs(settings.interval_secs.max(1));
    loop {
        if let Err(error) = evaluate_once(&pool, &settings, lanes.as_deref(), &book).await {
            tracing::warn!(%error, "alert evaluation failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
