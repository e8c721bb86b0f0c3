//! `fte run`: the gateway, the MCP endpoint (`/mcp`, see `fte-mcp`), the
//! worker and the provider fakes in one process.

use std::sync::Arc;

use anyhow::Context;
use fte_bus::{Bootstrap, BrokerSource};
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, DatabaseSettings, KafkaSettings, Lookup, McpSettings};

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

    let local = assemble(
        &Lookup::env(),
        profile,
        api.clone(),
        &database,
        bootstrap.clone(),
    )
    .await?;
    let fakes_file = std::path::Path::new(crate::fakes::FAKES_FILE);
    if let Some(fakes) = &local.fakes {
        fakes.write_file(fakes_file)?;
    }
    if let Some(file) = &local.staff_key_file {
        tracing::info!(
            staff_key.file = %file.display(),
            "local staff API key (owner \"dev\") in {}: send \
             -H \"Authorization: Bearer $(cat {})\"",
            file.display(),
            file.display()
        );
    }
    let (state, worker) = (local.state, local.worker);
    // /mcp beside the gateway's routes, on the same port, with the same
    // staff keys (the local key included) and the same publisher.
    let mcp_settings = McpSettings::from_lookup(&Lookup::env(), profile)?;
    let mcp_context = fte_mcp::McpContext::from_lookup(
        &Lookup::env(),
        state.pool.clone(),
        Some(state.publisher.clone()),
    )?;
    let mcp = fte_mcp::http::router(mcp_context, &state.api, &mcp_settings, shutdown.clone());

    let listener = tokio::net::TcpListener::bind(api.bind_address())
        .await
        .with_context(|| {
            format!(
                "Failed to bind {} (set API_PORT to use another port)",
                api.bind_address()
            )
        })?;
    let worker_task = tokio::spawn(fte_worker::startup::run(worker, shutdown.clone()));
    let gateway_result =
        fte_gateway::startup::serve_with(listener, state, mcp, shutdown.clone()).await;
    // Whatever ended the gateway ends the worker too; let it drain.
    shutdown.cancel();
    let worker_result = worker_task.await.context("The worker task panicked")?;
    gateway_result?;
    if local.fakes.is_some() {
        let _ = std::fs::remove_file(fakes_file);
    }
    worker_result.context("The worker failed")?;
    drop(bootstrap);
    Ok(())
}

/// The pieces of a local run before they serve.
pub(crate) struct Local {
    /// The gateway's state.
    pub state: fte_gateway::AppState,
    /// The worker, with its probe server switched off.
    pub worker: fte_worker::startup::Worker,
    /// The provider fakes standing in for missing credentials (they stop
    /// when this is dropped).
    pub fakes: Option<crate::fakes::LocalFakes>,
    /// The file holding the local staff key (dev profile only).
    pub staff_key_file: Option<std::path::PathBuf>,
}

/// Builds the gateway state and the worker from `env`: in the dev profile,
/// every provider without credentials gets an in-process fake whose URLs
/// and test credentials are laid over `env`, so the real Gmail and Twilio
/// clients (and push and webhook verification) run against them, and the
/// local staff key is accepted ([`crate::staff_key`]). Applies migrations.
pub(crate) async fn assemble(
    env: &Lookup<'_>,
    profile: Profile,
    mut api: ApiSettings,
    database: &DatabaseSettings,
    bootstrap: Arc<Bootstrap>,
) -> anyhow::Result<Local> {
    let staff_key_file = crate::staff_key::accept_dev_key(env, profile, &mut api)?;
    let fakes = crate::fakes::LocalFakes::start_for(env, profile).await?;
    let base = Lookup::from_fn(|key| env.get(key));
    let lookup = match &fakes {
        Some(fakes) => fakes.overlay(base),
        None => base,
    };
    let mut state =
        fte_gateway::startup::build_state_with(&lookup, profile, api, database, &bootstrap).await?;
    if let Some(fakes) = &fakes {
        let delivery = fakes.delivery(state.delivery);
        state = state
            .with_delivery(delivery)
            .with_outbound_log(fakes.outbox());
        let faked: Vec<&str> = fakes.vars().keys().copied().collect();
        tracing::info!(
            fakes.file = crate::fakes::FAKES_FILE,
            fakes.variables = ?faked,
            "provider fakes running for the providers without credentials; \
             outbound messages on /dev/outbox"
        );
    }
    fte_store::migrate(&state.pool)
        .await
        .context("Failed to apply migrations")?;
    tracing::info!("migrations applied");
    let mut worker =
        fte_worker::startup::Worker::build(&lookup, profile, state.pool.clone(), bootstrap)
            .await
            .context("Failed to start the worker")?;
    // One process, one HTTP port: the gateway's /health and /metrics cover
    // both (the metrics registry is process-wide).
    worker.probe_addr = None;
    drop(lookup);
    Ok(Local {
        state,
        worker,
        fakes,
        staff_key_file,
    })
}
