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
//! - `fte eval` — replay the sample tickets and both batches of tuning and
//!   held-out tickets through the offline agent and print their figures side
//!   by side;
//! - `fte bench kb` — knowledge search latency and embedding throughput;
//! - `fte cost --window 30d` — model tokens and their cost per channel, per
//!   resolved conversation and per escalation;
//! - `fte simulate whatsapp|web|email` — play a customer against a running gateway;
//! - `fte mcp` — the MCP server for staff on standard input and output
//!   (`--http`: at `/mcp` on `MCP_PORT`; `fte run` serves `/mcp` too);
//! - `fte dlq list|show|replay` — the dead letters in `fte.dlq`, and putting
//!   them back on their origin topic; `fte outbox list|retry` — replies that
//!   exhausted their retries, and re-driving them (both audited).
//!
//! `run` and `simulate` need the provider fakes: they exist only with the
//! `local` feature (on by default). The images build `fte` without it
//! (`--no-default-features`), so the binary they ship links no fake.
//!
//! It wires library crates together and owns no logic of its own.

mod bench;
mod broker;
mod cost;
#[cfg(feature = "local")]
mod fakes;
mod kb;
mod mcp;
mod migrate;
mod operator;
#[cfg(feature = "local")]
mod run;
#[cfg(feature = "local")]
mod simulate;
mod staff_key;

#[cfg(feature = "local")]
use anyhow::Context;
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
    #[cfg(feature = "local")]
    Run,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Keep an embedded Kafka-protocol broker running for other processes.
    Broker {
        /// Brokers in the cluster (ids 1..=N); `stop N` / `start N` take one
        /// down and back.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=5))]
        brokers: i32,
        /// Read fault-injection commands from standard input (`down`, `up`,
        /// `stop N`, `start N`, `fail produce|fetch|commit N`), for the chaos
        /// harness.
        #[arg(long)]
        control_stdin: bool,
    },
    /// The knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Replay ticket sets through the offline agent and print their figures
    /// side by side (per-ticket failures for samples and tuning only); fails
    /// when the sample tickets miss the targets.
    Eval {
        /// The repository root holding kb/ and context/.
        #[arg(long, default_value = ".")]
        root: std::path::PathBuf,
        /// The sets, comma-separated: samples, tuning, tuning-2, tuning-3,
        /// tuning-4, held-out, held-out-2, held-out-3, held-out-4.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "samples,tuning,tuning-2,tuning-3,tuning-4,held-out,held-out-2,held-out-3,held-out-4"
        )]
        sets: Vec<String>,
    },
    /// Measure and print figures (run a release build).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Model tokens and their cost over a window, per channel, per resolved
    /// conversation and per escalation (the cost section of /metrics/summary).
    Cost {
        /// How far back: whole hours or days, such as 24h or 30d.
        #[arg(long, default_value = "30d")]
        window: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The MCP server for staff (docs/mcp.md): on standard input and output
    /// for a desktop client, acting with MCP_STAFF_KEY.
    Mcp {
        /// Serve streamable HTTP at /mcp on MCP_HOST:MCP_PORT instead,
        /// behind the staff bearer key.
        #[arg(long)]
        http: bool,
    },
    /// Dead letters in fte.dlq: list, show, replay onto their origin topic
    /// (needs KAFKA_BOOTSTRAP_SERVERS or a running `fte broker`).
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
        /// Who is acting, for the audit log (default: FTE_OPERATOR, else USER).
        #[arg(long, global = true)]
        operator: Option<String>,
        /// Print JSON (the staff API's body) instead of a table.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Replies that exhausted their retries: list them, put them back for the sender.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
        /// Who is acting, for the audit log (default: FTE_OPERATOR, else USER).
        #[arg(long, global = true)]
        operator: Option<String>,
        /// Print JSON (the staff API's body) instead of a table.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Play a customer writing in, against a running gateway (`fte run`).
    #[cfg(feature = "local")]
    Simulate {
        #[command(subcommand)]
        channel: SimulateCommand,
    },
}

#[cfg(feature = "local")]
#[derive(Subcommand)]
enum SimulateCommand {
    /// Post a WhatsApp message as Twilio would (signed with TWILIO_AUTH_TOKEN when set).
    Whatsapp {
        /// The customer's phone number.
        #[arg(long)]
        from: String,
        /// What the customer writes.
        #[arg(long)]
        body: String,
        /// The customer's WhatsApp profile name.
        #[arg(long)]
        name: Option<String>,
        /// The gateway.
        #[arg(long, default_value = simulate::DEFAULT_BASE_URL)]
        base_url: String,
    },
    /// Drop an email into the fake Gmail (`fte-fakes`) and push its notification.
    Email {
        /// The customer's address.
        #[arg(long)]
        from: String,
        /// The subject line.
        #[arg(long)]
        subject: String,
        /// What the customer writes.
        #[arg(long)]
        body: String,
        /// The fake Gmail (default: GMAIL_API_BASE_URL).
        #[arg(long)]
        gmail_url: Option<String>,
        /// The support mailbox (default: GMAIL_MAILBOX).
        #[arg(long)]
        mailbox: Option<String>,
        /// The gateway.
        #[arg(long, default_value = simulate::DEFAULT_BASE_URL)]
        base_url: String,
    },
    /// Submit the web support form and wait for the agent's reply.
    Web {
        /// The customer's email address.
        #[arg(long)]
        email: String,
        /// The customer's name.
        #[arg(long)]
        name: String,
        /// The subject line.
        #[arg(long)]
        subject: String,
        /// The request.
        #[arg(long)]
        message: String,
        /// general, technical, billing, feedback or bug_report.
        #[arg(long, default_value = "general")]
        category: String,
        /// The gateway.
        #[arg(long, default_value = simulate::DEFAULT_BASE_URL)]
        base_url: String,
        /// How long to wait for the reply, in seconds.
        #[arg(long, default_value_t = 20)]
        wait_secs: u64,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Knowledge search P50/P95/P99 (query embedding and SQL apart) with the
    /// real articles and with synthetic chunks added, and local embedding
    /// throughput, in a scratch database that is dropped afterwards.
    Kb {
        /// The repository root holding kb/ and context/.
        #[arg(long, default_value = ".")]
        root: std::path::PathBuf,
        /// Synthetic chunks added for the second measurement.
        #[arg(long, default_value_t = 10_000)]
        synthetic_chunks: usize,
        /// Searches per measurement.
        #[arg(long, default_value_t = 500)]
        searches: usize,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Dead letters (id, time, origin, error kind, reason, key), newest first; never payloads.
    List {
        /// Dead-lettered at or after (RFC 3339, e.g. 2026-12-05T13:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Dead-lettered before (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// How many to show, 1 to 1000.
        #[arg(long, default_value = "100")]
        limit: String,
    },
    /// One dead letter with its headers and original payload (as JSON).
    Show {
        /// `<partition>-<offset>` in fte.dlq, as `list` shows it.
        id: String,
    },
    /// Republish dead letters to their origin topic, each once: by id, by time range, or all.
    Replay {
        /// Dead letter ids.
        ids: Vec<String>,
        /// Those dead-lettered at or after (RFC 3339).
        #[arg(long, conflicts_with_all = ["ids", "all"])]
        since: Option<String>,
        /// Those dead-lettered before (RFC 3339).
        #[arg(long, conflicts_with_all = ["ids", "all"])]
        until: Option<String>,
        /// Every dead letter not replayed yet.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Failed replies (id, channel, attempts, last error kind, failed at); no bodies or addresses.
    List {
        /// How many to show, 1 to 1000.
        #[arg(long, default_value = "100")]
        limit: String,
    },
    /// Put a failed reply (or every one) back for the sender, attempts reset.
    Retry {
        /// The reply's id (outbox row id, as `list` shows it).
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<String>,
        /// Every failed reply.
        #[arg(long)]
        all_failed: bool,
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
        #[cfg(feature = "local")]
        Command::Run => run::run().await,
        Command::Migrate => migrate::migrate_only().await,
        Command::Broker {
            brokers,
            control_stdin,
        } => broker::run(brokers, control_stdin).await,
        Command::Kb {
            command: KbCommand::Import { dir },
        } => kb::import(&dir).await,
        Command::Eval { root, sets } => kb::eval(&root, &sets).await,
        Command::Bench {
            command:
                BenchCommand::Kb {
                    root,
                    synthetic_chunks,
                    searches,
                },
        } => {
            bench::kb(
                &root,
                bench::KbBenchOptions {
                    synthetic_chunks,
                    searches,
                },
            )
            .await
        }
        Command::Cost { window, json } => cost::run(&window, json).await,
        Command::Mcp { http } => mcp::run(http).await,
        Command::Dlq {
            command,
            operator: who,
            json,
        } => {
            let action = match command {
                DlqCommand::List {
                    since,
                    until,
                    limit,
                } => operator::DlqAction::List {
                    since,
                    until,
                    limit: Some(limit),
                },
                DlqCommand::Show { id } => operator::DlqAction::Show { id },
                DlqCommand::Replay {
                    ids,
                    since,
                    until,
                    all,
                } => operator::DlqAction::Replay {
                    ids,
                    since,
                    until,
                    all,
                },
            };
            operator::dlq(action, who, json).await
        }
        Command::Outbox {
            command,
            operator: who,
            json,
        } => {
            let action = match command {
                OutboxCommand::List { limit } => {
                    operator::OutboxAction::List { limit: Some(limit) }
                }
                OutboxCommand::Retry { id, all_failed } => {
                    operator::OutboxAction::Retry { id, all_failed }
                }
            };
            operator::outbox(action, who, json).await
        }
        #[cfg(feature = "local")]
        Command::Simulate { channel } => simulate_command(channel).await,
    }
}

#[cfg(feature = "local")]
async fn simulate_command(command: SimulateCommand) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    // The environment first, then the fakes a running `fte run` started.
    let env = fte_runtime::settings::Lookup::env();
    let running_fakes =
        fakes::read_file(std::path::Path::new(fakes::FAKES_FILE)).unwrap_or_default();
    let lookup = fte_runtime::settings::Lookup::from_fn(|key| {
        env.get(key).or_else(|| running_fakes.get(key).cloned())
    });
    match command {
        SimulateCommand::Whatsapp {
            from,
            body,
            name,
            base_url,
        } => {
            let token = lookup.get("TWILIO_AUTH_TOKEN");
            let public_base_url = lookup
                .get("PUBLIC_BASE_URL")
                .unwrap_or_else(|| base_url.clone());
            let message = simulate::WhatsappMessage { from, body, name };
            let status = simulate::whatsapp(
                &client,
                &base_url,
                &public_base_url,
                token.as_deref(),
                &message,
            )
            .await?;
            println!("gateway answered {status}");
            if !status.is_success() {
                anyhow::bail!("the gateway did not accept the message ({status})");
            }
            Ok(())
        }
        SimulateCommand::Email {
            from,
            subject,
            body,
            gmail_url,
            mailbox,
            base_url,
        } => {
            let gmail_url = gmail_url
                .or_else(|| lookup.get("GMAIL_API_BASE_URL"))
                .context(
                    "--gmail-url or GMAIL_API_BASE_URL: the fake Gmail (`fte run` without Gmail credentials starts one; fte-fakes prints one)",
                )?;
            let mailbox = mailbox
                .or_else(|| lookup.get("GMAIL_MAILBOX"))
                .context("--mailbox or GMAIL_MAILBOX: the support mailbox")?;
            let message = simulate::EmailMessage {
                from,
                subject,
                body,
            };
            let push = match (
                lookup.get("GMAIL_PUBSUB_AUDIENCE"),
                lookup.get("GMAIL_PUBSUB_SERVICE_ACCOUNT"),
            ) {
                (Some(audience), Some(service_account)) => Some(simulate::PushIdentity {
                    audience,
                    service_account,
                }),
                _ => None,
            };
            let outcome = simulate::email(
                &client,
                &base_url,
                &gmail_url,
                &mailbox,
                push.as_ref(),
                &message,
            )
            .await?;
            println!("gmail message {}", outcome.gmail_message_id);
            println!("gateway answered the push {}", outcome.push_status);
            if !outcome.push_status.is_success() {
                anyhow::bail!(
                    "the gateway did not accept the push ({})",
                    outcome.push_status
                );
            }
            Ok(())
        }
        SimulateCommand::Web {
            email,
            name,
            subject,
            message,
            category,
            base_url,
            wait_secs,
        } => {
            let submission = simulate::WebSubmission {
                email,
                name,
                subject,
                message,
                category,
            };
            let outcome = simulate::web(
                &client,
                &base_url,
                &submission,
                std::time::Duration::from_secs(wait_secs),
            )
            .await?;
            println!("ticket {}", outcome.ticket_id);
            match outcome.reply {
                Some(reply) => println!("agent replied:\n{reply}"),
                None => println!("no reply within {wait_secs} s (the ticket is still open)"),
            }
            Ok(())
        }
    }
}
