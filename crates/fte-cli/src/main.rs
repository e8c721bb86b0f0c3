//! # fte
//!
//! The command a developer or an operator types:
//!
//! - `fte run` — the whole system in one process for local use: an embedded
//!   Kafka-protocol broker (unless `KAFKA_BOOTSTRAP_SERVERS` or a running
//!   `fte broker` is found), migrations, then the gateway and the worker;
//! - `fte migrate` — apply the schema migrations and exit (the Kubernetes Job);
//! - `fte broker` — a standalone embedded broker for multi-process runs,
//!   publishing its bootstrap address in `FTE_BROKER_ADDRESS_FILE`.
//!
//! It wires library crates together and owns no logic of its own.

mod broker;
mod run;

use clap::{Parser, Subcommand};
use fte_runtime::telemetry::{self, LogSettings};

#[derive(Parser)]
#[command(
    name = "fte",
    version,
    about = "The Orbitask support agent: run it, migrate it, host its broker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway and the worker (and an embedded broker when no cluster is configured).
    Run,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Keep an embedded Kafka-protocol broker running for other processes.
    Broker,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(&LogSettings::from_env()?);
    match cli.command {
        Command::Run => run::run().await,
        Command::Migrate => run::migrate_only().await,
        Command::Broker => broker::run().await,
    }
}
