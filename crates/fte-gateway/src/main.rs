//! `fte-api`: the gateway as its own process (production). Reads settings
//! from the environment, connects, serves until SIGTERM.

use anyhow::Context;
use fte_runtime::Profile;
use fte_runtime::settings::{
    ApiSettings, ChannelSettings, DatabaseSettings, KafkaSettings, Lookup,
};
use fte_runtime::telemetry::{self, LogSettings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init(&LogSettings::from_env()?);
    let profile = Profile::from_env()?;
    let api = ApiSettings::from_env()?;
    let database = DatabaseSettings::from_env()?;
    let kafka = KafkaSettings::from_env()?;
    // Every setting is read before anything connects: a misconfigured
    // deployment fails at once, naming the variable.
    ChannelSettings::from_lookup(&Lookup::env(), profile)?;
    let bootstrap = fte_bus::Bootstrap::resolve(&kafka)
        .await
        .context("Failed to reach Kafka")?;
    let state =
        fte_gateway::startup::build_state(profile, api.clone(), &database, &bootstrap).await?;
    let listener = tokio::net::TcpListener::bind(api.bind_address())
        .await
        .with_context(|| format!("Failed to bind {}", api.bind_address()))?;
    let shutdown = fte_runtime::shutdown::install();
    fte_gateway::startup::serve(listener, state, shutdown).await
}
