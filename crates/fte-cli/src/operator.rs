//! `fte dlq list|show|replay` and `fte outbox list|retry`: the operator's
//! tools for stuck messages, run from a terminal against the environment's
//! database and Kafka cluster. They call the staff API's operations
//! (`fte_gateway::routes::dead_letters`, `fte_gateway::routes::failed_replies`)
//! with the operator's name (`--operator`, else `FTE_OPERATOR`, else
//! `USER`), so every read and replay lands in `staff_audit` exactly as
//! over HTTP.
//!
//! The dead-letter commands need a running cluster: `KAFKA_BOOTSTRAP_SERVERS`
//! or a running `fte broker` (its address file). They never start an
//! embedded broker of their own — it would be empty. Against `fte run`'s
//! in-process broker, use the HTTP endpoints (`GET /dlq`, …) instead.

use anyhow::{Context, bail};
use fte_bus::dead_letters::DeadLetterReader;
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher};
use fte_gateway::ApiError;
use fte_gateway::auth::StaffAuth;
use fte_gateway::routes::dead_letters::{self, ListQuery};
use fte_gateway::routes::dlq_replay::{self, ReplayRequest};
use fte_gateway::routes::failed_replies;
use fte_runtime::settings::KafkaSettings;

use crate::migrate::connect_and_migrate;

/// What `fte dlq` does.
pub enum DlqAction {
    /// List dead letters in a window.
    List {
        /// RFC 3339.
        since: Option<String>,
        /// RFC 3339.
        until: Option<String>,
        /// How many.
        limit: Option<String>,
    },
    /// One dead letter with its payload.
    Show {
        /// `<partition>-<offset>`.
        id: String,
    },
    /// Replay by ids, by time range or all.
    Replay {
        /// Dead letter ids.
        ids: Vec<String>,
        /// RFC 3339.
        since: Option<String>,
        /// RFC 3339.
        until: Option<String>,
        /// Every dead letter not replayed yet.
        all: bool,
    },
}

/// What `fte outbox` does.
pub enum OutboxAction {
    /// List failed replies.
    List {
        /// How many.
        limit: Option<String>,
    },
    /// Put failed replies back for the sender.
    Retry {
        /// One reply.
        id: Option<String>,
        /// Every failed reply.
        all_failed: bool,
    },
}

/// The operator's name: `--operator`, else `FTE_OPERATOR`, else `USER`.
fn operator(given: Option<String>) -> anyhow::Result<StaffAuth> {
    let name = given
        .or_else(|| std::env::var("FTE_OPERATOR").ok())
        .or_else(|| std::env::var("USER").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .context("who is acting? pass --operator NAME or set FTE_OPERATOR (audited)")?;
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        bail!("--operator must be 1 to 255 characters without control characters");
    }
    Ok(StaffAuth::named(name))
}

/// An [`ApiError`] as a line for the terminal, each bad field named.
fn explain(error: ApiError) -> anyhow::Error {
    match error {
        ApiError::Validation(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        ApiError::Internal(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    }
}

async fn reader() -> anyhow::Result<(DeadLetterReader, Bootstrap)> {
    let kafka = KafkaSettings::from_env()?;
    let bootstrap = Bootstrap::resolve(&kafka)
        .await
        .context("Failed to reach Kafka")?;
    if bootstrap.source == BrokerSource::Embedded {
        bail!(
            "no Kafka cluster to read fte.dlq from: set KAFKA_BOOTSTRAP_SERVERS or run `fte broker` \
             (against `fte run`'s in-process broker, use GET /dlq with the staff key)"
        );
    }
    let publisher = KafkaPublisher::new(&bootstrap).context("Failed to create the producer")?;
    Ok((DeadLetterReader::new(&bootstrap, publisher), bootstrap))
}

/// `fte dlq …`; `json` prints the API's body instead of a table.
pub async fn dlq(action: DlqAction, name: Option<String>, json: bool) -> anyhow::Result<()> {
    let staff = operator(name)?;
    let pool = connect_and_migrate().await?;
    let (reader, _bootstrap) = reader().await?;
    match action {
        DlqAction::List {
            since,
            until,
            limit,
        } => {
            let query = ListQuery {
                since,
                until,
                limit,
            };
            let list = dead_letters::list_dead_letters(&pool, &reader, &staff, &query)
                .await
                .map_err(explain)?;
            if json {
                return print_json(&list);
            }
            println!(
                "{} dead letter(s) in the window, {} shown (newest first)",
                list.total,
                list.items.len()
            );
            println!(
                "{:<12} {:<25} {:<30} {:<22} {:<10} {:<36} reason",
                "id", "dead-lettered at", "origin", "error", "replayed", "key"
            );
            for item in &list.items {
                let replayed = match (&item.replayed_at, item.replayable) {
                    (Some(_), _) => "yes",
                    (None, true) => "no",
                    (None, false) => "n/a",
                };
                println!(
                    "{:<12} {:<25} {:<30} {:<22} {:<10} {:<36} {}",
                    item.id,
                    item.dead_lettered_at.to_rfc3339(),
                    item.origin_topic.as_deref().unwrap_or("-"),
                    item.error.as_deref().unwrap_or("-"),
                    replayed,
                    item.key.as_deref().unwrap_or("-"),
                    item.reason.as_deref().unwrap_or("-"),
                );
            }
            Ok(())
        }
        DlqAction::Show { id } => {
            let detail = dead_letters::show_dead_letter(&pool, &reader, &staff, &id)
                .await
                .map_err(explain)?;
            print_json(&detail)
        }
        DlqAction::Replay {
            ids,
            since,
            until,
            all,
        } => {
            let request = ReplayRequest {
                ids: (!ids.is_empty()).then_some(ids),
                since,
                until,
                all: all.then_some(true),
            };
            let report = dlq_replay::replay_dead_letters(&pool, &reader, &staff, &request)
                .await
                .map_err(explain)?;
            if json {
                return print_json(&report);
            }
            for replayed in &report.replayed {
                println!(
                    "replayed {} to {} (partition {}, offset {})",
                    replayed.id, replayed.topic, replayed.partition, replayed.offset
                );
            }
            for skipped in &report.skipped {
                println!("skipped {}: {}", skipped.id, skipped.reason);
            }
            println!(
                "{} replayed, {} skipped",
                report.replayed.len(),
                report.skipped.len()
            );
            Ok(())
        }
    }
}

/// `fte outbox …`.
pub async fn outbox(action: OutboxAction, name: Option<String>, json: bool) -> anyhow::Result<()> {
    let staff = operator(name)?;
    let pool = connect_and_migrate().await?;
    match action {
        OutboxAction::List { limit } => {
            let query = failed_replies::ListQuery { limit };
            let list = failed_replies::list_failed(&pool, &staff, &query)
                .await
                .map_err(explain)?;
            if json {
                return print_json(&list);
            }
            println!("{} failed reply(ies) (most recent first)", list.items.len());
            println!(
                "{:<36} {:<9} {:>8} {:<12} {:<25} conversation",
                "id", "channel", "attempts", "last error", "failed at"
            );
            for item in &list.items {
                println!(
                    "{:<36} {:<9} {:>8} {:<12} {:<25} {}",
                    item.id,
                    item.channel,
                    item.attempts,
                    item.last_error_kind,
                    item.failed_at.to_rfc3339(),
                    item.conversation_id
                );
            }
            Ok(())
        }
        OutboxAction::Retry { id, all_failed } => {
            let ids = match (id, all_failed) {
                (Some(raw), false) => vec![
                    raw.trim()
                        .parse::<uuid::Uuid>()
                        .map_err(|_| anyhow::anyhow!("{raw:?} is not a reply id (a UUID)"))?,
                ],
                (None, true) => fte_store::failed_replies::failed_ids(&pool).await?,
                _ => bail!("give one reply id or --all-failed"),
            };
            let mut results = Vec::new();
            for id in ids {
                let retried = failed_replies::retry_reply(&pool, &staff, id)
                    .await
                    .map_err(explain)?;
                if !json {
                    println!("reply {} is {} again", retried.id, retried.status);
                }
                results.push(retried);
            }
            if json {
                return print_json(&results);
            }
            println!("{} reply(ies) put back for the sender", results.len());
            Ok(())
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
