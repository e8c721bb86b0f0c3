//! # fte
//!
//! The command a developer or an operator types:
//!
//! - `fte run` — the whole system in one process for local use: an embedded
//!   Kafka-protocol broker (unless `KAFKA_BOOTSTRAP_SERVERS` or a running
//!   `fte broker` is found), migrations, then the gateway and the worker;
//! - `fte migrate` — apply the schema migrations and exit (the Kubernetes Job);
//! - `fte broker` — a standalone embedded broker for multi-process runs,
//!   publishing its bootstrap address in `FTE_BROKER_ADDRESS_FILE`;
//! - `fte kb import` — load `kb/` into the knowledge base (idempotent);
//! - `fte eval` — replay the sample tickets through the offline agent.
//!
//! It wires library crates together and owns no logic of its own.

mod broker;
mod kb;
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
    /// The knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Replay the sample tickets (context/sample-tickets.json) through the
    /// offline agent and print accuracy figures; fails below the 95 % goal.
    Eval {
        /// The repository root holding kb/ and context/.
        #[arg(long, default_value = ".")]
        root: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Chunk, embed and store every article; unchanged articles are skipped.
    Import {
        /// The folder of markdown articles.
        #[arg(long, default_value = "kb")]
        dir: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(&LogSettings::from_env()?);
    match cli.command {
        Command::Run => run::run().await,
        Command::Migrate => run::migrate_only().await,
        Command::Broker => broker::run().await,
        Command::Kb {
            command: KbCommand::Import { dir },
        } => kb::import(&dir).await,
        Command::Eval { root } => kb::eval(&root).await,
    }
}
