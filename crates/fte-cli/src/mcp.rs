//! `fte mcp`: the MCP server (`fte-mcp`) on standard input and output for a
//! desktop client, or with `--http` on `MCP_HOST:MCP_PORT` at `/mcp` (the
//! production shape: it may link the agent, the gateway may not). Both
//! connect to the database like the other processes; the events of a
//! change are published at once when a Kafka cluster is configured (or an
//! `fte broker` is running), and otherwise wait in the event outbox for the
//! gateway's relay — this command never starts a broker of its own, whose
//! events nobody would read.

use std::path::Path;

use anyhow::Context;
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher};
use fte_mcp::McpContext;
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, DatabaseSettings, KafkaSettings, Lookup, McpSettings};
use secrecy::SecretString;

/// Runs the MCP server until the client leaves (stdio) or until SIGTERM
/// (`http`).
pub async fn run(http: bool) -> anyhow::Result<()> {
    let lookup = Lookup::env();
    let profile = Profile::from_lookup(&lookup)?;
    let mut api = ApiSettings::from_lookup(&lookup, profile)?;
    let mcp = McpSettings::from_lookup(&lookup, profile)?;
    let database = DatabaseSettings::from_lookup(&lookup, profile)?;
    let kafka = KafkaSettings::from_lookup(&lookup, profile)?;
    // Dev only: the local staff key of `fte run` is accepted (owner "dev").
    let dev_key_file = crate::staff_key::accept_dev_key(&lookup, profile, &mut api)?;
    let ctx = McpContext::connect(&lookup, &database, publisher(&kafka).await).await?;
    if http {
        return serve_http(ctx, &api, &mcp).await;
    }
    let key = match (&mcp.staff_key, &dev_key_file) {
        (Some(key), _) => Some(key.clone()),
        (None, Some(file)) => Some(read_key(file)?),
        (None, None) => None,
    };
    let staff = fte_mcp::stdio::staff_for_key(key.as_ref(), &api.staff_keys)?;
    fte_mcp::stdio::serve_stdio(ctx, staff).await
}

fn read_key(file: &Path) -> anyhow::Result<SecretString> {
    let key = std::fs::read_to_string(file)
        .with_context(|| format!("Failed to read the local staff key {}", file.display()))?;
    Ok(SecretString::from(key.trim().to_owned()))
}

/// A publisher when a cluster is configured or an `fte broker` runs.
async fn publisher(kafka: &KafkaSettings) -> Option<KafkaPublisher> {
    if kafka.bootstrap_servers.is_none() && !kafka.broker_address_file.exists() {
        tracing::info!(
            "no Kafka cluster configured: events wait in the event outbox for the relay"
        );
        return None;
    }
    match Bootstrap::resolve(kafka).await {
        Ok(bootstrap) if bootstrap.source != BrokerSource::Embedded => {
            match KafkaPublisher::new(&bootstrap) {
                Ok(publisher) => Some(publisher),
                Err(error) => {
                    tracing::warn!(%error, "no Kafka producer: events wait in the event outbox");
                    None
                }
            }
        }
        Ok(_) => {
            tracing::info!(
                "no Kafka cluster running: events wait in the event outbox for the relay"
            );
            None
        }
        Err(error) => {
            tracing::warn!(%error, "Kafka unreachable: events wait in the event outbox");
            None
        }
    }
}

async fn serve_http(ctx: McpContext, api: &ApiSettings, mcp: &McpSettings) -> anyhow::Result<()> {
    let shutdown = fte_runtime::shutdown::install();
    let listener = tokio::net::TcpListener::bind(mcp.bind_address())
        .await
        .with_context(|| {
            format!(
                "Failed to bind {} (set MCP_PORT to use another port)",
                mcp.bind_address()
            )
        })?;
    tracing::info!(address = %mcp.bind_address(), path = fte_mcp::http::PATH, "MCP server listening");
    let publisher = ctx.publisher.clone();
    let app = fte_mcp::http::standalone(ctx, api, mcp, shutdown.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("The MCP HTTP server failed")?;
    if let Some(publisher) = publisher {
        publisher
            .flush(std::time::Duration::from_secs(5))
            .context("Failed to flush the Kafka producer at shutdown")?;
    }
    Ok(())
}
