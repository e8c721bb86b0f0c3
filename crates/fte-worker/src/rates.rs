//! The escalation gauges, computed from the database so every worker
//! replica reports the same figure (alerts take the max):
//!
//! - `fte_escalation_rate{channel}`, which the escalation alert and the
//!   dashboard read: the share of the last hour's tickets that went to a
//!   human, per channel, from the hour's newest
//!   [`RATE_SAMPLE`](fte_store::rates::RATE_SAMPLE) tickets;
//! - `fte_escalations_overdue{channel}`: unresolved escalations past their
//!   promised human response time. The worker owns this refresh because it
//!   runs all the time; the gateway's `/metrics/channels` also sets it when
//!   called.

use std::time::Duration;

use fte_domain::Channel;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often the gauge is refreshed.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Computes the rates and the overdue counts once and publishes them;
/// channels without tickets in the hour (or without overdue cases) read 0.
pub async fn refresh(pool: &PgPool) -> Result<(), fte_store::StoreError> {
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let outcomes =
        fte_store::rates::recent_escalations(pool, hour_ago, fte_store::rates::RATE_SAMPLE).await?;
    let gauge = &fte_runtime::metrics::global().escalation_rate;
    for channel in Channel::ALL {
        let rate = outcomes
            .iter()
            .find(|outcome| outcome.channel == channel.as_str())
            .map_or(0.0, fte_store::rates::ChannelOutcomes::escalation_rate);
        gauge.with_label_values(&[channel.as_str()]).set(rate);
    }
    let overdue = fte_store::escalations::overdue_by_channel(pool).await?;
    let gauge = &fte_runtime::metrics::global().escalations_overdue;
    for (channel, count) in overdue {
        gauge.with_label_values(&[channel.as_str()]).set(count);
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
