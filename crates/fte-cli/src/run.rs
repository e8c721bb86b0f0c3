//! `fte run` and `fte migrate`.

use std::sync::Arc;

use anyhow::Context;
use fte_bus::{Bootstrap, BrokerSource};
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, DatabaseSettings, KafkaSettings, Lookup};

/// Applies migrations and exits.
pub async fn migrate_only() -> anyhow::Result<()> {
    let database = DatabaseSettings::from_env()?;
    let pool = fte_store::connect(&database)
        .await
        .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
    fte_store::migrate(&pool)
        .await
        .context("Failed to apply migrations")?;
    tracing::info!("migrations applied");
    Ok(())
}

/// Starts everything in this process and serves until SIGTERM / Ctrl-C.
pub async fn run() -> anyhow::Result<()> {
    let profile = Profile::from_env()?;
    let api = ApiSettings::from_env()?;
    let database = DatabaseSettings::from_env()?;
    let kafka = KafkaSettings::from_env()?;
    let shutdown = fte_runtime::shutdown::install();

    let bootstrap = Arc::new(
        Bootstrap::resolve(&kafka)
            .await
            .context("Failed to reach Kafka")?,
    );
    match &bootstrap.source {
        BrokerSource::Configured => tracing::info!("using the configured Kafka cluster"),
        BrokerSource::AddressFile(path) => {
            tracing::info!(file = %path.display(), "using the running fte broker")
        }
        BrokerSource::Embedded => tracing::info!(
            bootstrap = %bootstrap.servers,
            "using an embedded broker in this process (its contents end with it)"
        ),
    }

    let state =
        fte_gateway::startup::build_state(profile, api.clone(), &database, &bootstrap).await?;
    fte_store::migrate(&state.pool)
        .await
        .context("Failed to apply migrations")?;
    tracing::info!("migrations applied");

    let listener = tokio::net::TcpListener::bind(api.bind_address())
        .await
        .with_context(|| {
            format!(
                "Failed to bind {} (set API_PORT to use another port)",
                api.bind_address()
            )
        })?;
    let mut worker = fte_worker::startup::Worker::build(
        &Lookup::env(),
        profile,
        state.pool.clone(),
        bootstrap.clone(),
    )
    .await
    .context("Failed to start the worker")?;
    // One process, one HTTP port: the gateway's /health and /metrics cover
    // both (the metrics registry is process-wide).
    worker.probe_addr = None;
    let worker_task = tokio::spawn(fte_worker::startup::run(worker, shutdown.clone()));
    let gateway_result = fte_gateway::startup::serve(listener, state, shutdown.clone()).await;
    // Whatever ended the gateway ends the worker too; let it drain.
    shutdown.cancel();
    let worker_result = worker_task.await.context("The worker task panicked")?;
    gateway_result?;
    worker_result.context("The worker failed")?;
    drop(bootstrap);
    Ok(())
}
