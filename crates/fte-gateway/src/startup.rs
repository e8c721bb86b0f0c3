//! Wiring real dependencies from settings, and serving.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use fte_bus::{Bootstrap, KafkaPublisher};
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, DatabaseSettings};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::AppState;

/// Connects to PostgreSQL and creates the publisher for `bootstrap`.
pub async fn build_state(
    profile: Profile,
    api: ApiSettings,
    database: &DatabaseSettings,
    bootstrap: &Bootstrap,
) -> anyhow::Result<AppState> {
    let pool = fte_store::connect(database)
        .await
        .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
    let publisher =
        KafkaPublisher::new(bootstrap).context("Failed to create the Kafka producer")?;
    Ok(AppState {
        pool,
        publisher,
        api: Arc::new(api),
        profile,
        started_at: Instant::now(),
    })
}

/// Serves the router on `listener` until `shutdown` fires, then drains
/// in-flight requests and flushes the producer.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let address = listener
        .local_addr()
        .context("Failed to read the bound address")?;
    tracing::info!(%address, "gateway listening");
    let publisher = state.publisher.clone();
    let app = crate::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("The HTTP server failed")?;
    publisher
        .flush(std::time::Duration::from_secs(5))
        .context("Failed to flush the Kafka producer at shutdown")?;
    tracing::info!("gateway stopped");
    Ok(())
}
