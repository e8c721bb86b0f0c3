//! The escalation-rate gauge (`fte_escalation_rate{channel}`) that the
//! escalation alert and the dashboard read: the share of the last hour's
//! tickets that went to a human, per channel, computed from the database so
//! every worker replica reports the same figure (the alert takes the max).

use std::time::Duration;

use fte_domain::Channel;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often the gauge is refreshed.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Computes the rates once and publishes them; channels without tickets in
/// the hour read 0.
pub async fn refresh(pool: &PgPool) -> Result<(), fte_store::StoreError> {
    let rates = fte_store::rates::escalation_rate_last_hour(pool).await?;
    let gauge = &fte_runtime::metrics::global().escalation_rate;
    for channel in Channel::ALL {
        let rate = rates
            .iter()
            .find(|(name, _)| name == channel.as_str())
            .map_or(0.0, |(_, rate)| *rate);
        gauge.with_label_values(&[channel.as_str()]).set(rate);
    }
    Ok(())
}

/// Refreshes the gauge every [`REFRESH_INTERVAL`] until `shutdown`.
pub async fn run(pool: PgPool, shutdown: CancellationToken) {
    loop {
        if let Err(error) = refresh(&pool).await {
            tracing::warn!(%error, "escalation rate refresh failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(REFRESH_INTERVAL) => {}
        }
    }
}
