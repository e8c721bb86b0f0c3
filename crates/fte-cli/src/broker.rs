//! `fte broker`: an embedded Kafka-protocol broker kept alive for other
//! processes. The broker binds a random loopback port, so its address is
//! written to `FTE_BROKER_ADDRESS_FILE` (default `.fte/broker.addr`), where
//! every other command looks when `KAFKA_BOOTSTRAP_SERVERS` is unset. The file
//! is removed on a clean stop; a stale file is detected and ignored.
//!
//! With `--control-stdin` the broker also reads fault-injection commands,
//! one per line, from standard input (the chaos harness drives it so) and
//! answers each with a line `ok …` or `error …` on standard output:
//!
//! - `down` / `up`: every broker refuses connections / accepts them again;
//! - `stop N` / `start N`: broker `N` of a cluster (`--brokers`) hands its
//!   partition leaderships and group coordinators to the others and stops /
//!   accepts connections again;
//! - `fail produce N`, `fail fetch N`, `fail commit N`: the next `N` such
//!   requests fail with a retriable error.

use anyhow::Context;
use fte_bus::{ClusterSpec, EmbeddedBroker, FaultedRequest};
use fte_runtime::settings::KafkaSettings;
use tokio::io::AsyncBufReadExt;

/// Runs a cluster of `brokers` brokers until SIGTERM / Ctrl-C (or, with
/// `control_stdin`, until standard input closes).
pub async fn run(brokers: i32, control_stdin: bool) -> anyhow::Result<()> {
    let settings = KafkaSettings::from_env()?;
    let shutdown = fte_runtime::shutdown::install();
    let broker = EmbeddedBroker::start_cluster(ClusterSpec {
        brokers,
        partitions: settings.topic_partitions,
        groups: known_groups(&settings),
    })
    .context("Failed to start the broker")?;
    let path = &settings.broker_address_file;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create {}", parent.display()))?;
    }
    // Write then rename, so a reader never sees half an address.
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, format!("{}\n", broker.bootstrap_servers()))
        .with_context(|| format!("Failed to write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("Failed to write {}", path.display()))?;
    println!("{}", broker.bootstrap_servers());
    tracing::info!(
        bootstrap = %broker.bootstrap_servers(),
        file = %path.display(),
        brokers,
        partitions = settings.topic_partitions,
        "broker ready"
    );
    if control_stdin {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                line = lines.next_line() => match line {
                    Ok(Some(line)) => println!("{}", apply(&broker, &line)),
                    // The controlling process went away.
                    Ok(None) | Err(_) => break,
                },
            }
        }
    } else {
        shutdown.cancelled().await;
    }
    let _ = std::fs::remove_file(path);
    drop(broker);
    tracing::info!("broker stopped");
    Ok(())
}

/// The consumer groups of the system, whose coordinators a stopped broker
/// hands over.
fn known_groups(settings: &KafkaSettings) -> Vec<String> {
    vec![
        settings.consumer_group.clone(),
        fte_worker::collector::GROUP.to_owned(),
        fte_worker::gmail_sync::GROUP.to_owned(),
    ]
}

/// A parsed control command.
#[derive(Debug, PartialEq, Eq)]
enum ControlCommand {
    Down,
    Up,
    Stop(i32),
    Start(i32),
    Fail(FaultedRequest, usize),
}

fn parse(line: &str) -> Result<ControlCommand, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["down"] => Ok(ControlCommand::Down),
        ["up"] => Ok(ControlCommand::Up),
        [verb @ ("stop" | "start"), id] => {
            let id = id
                .parse::<i32>()
                .map_err(|_| format!("not a broker id: {id:?}"))?;
            Ok(if *verb == "stop" {
                ControlCommand::Stop(id)
            } else {
                ControlCommand::Start(id)
            })
        }
        ["fail", kind, count] => {
            let request = match *kind {
                "produce" => FaultedRequest::Produce,
                "fetch" => FaultedRequest::Fetch,
                "commit" => FaultedRequest::OffsetCommit,
                other => {
                    return Err(format!(
                        "unknown request kind {other:?} (produce, fetch, commit)"
                    ));
                }
            };
            let count = count
                .parse::<usize>()
                .map_err(|_| format!("not a count: {count:?}"))?;
            Ok(ControlCommand::Fail(request, count))
        }
        _ => Err(format!(
            "unknown command {line:?} (down, up, stop N, start N, fail produce|fetch|commit N)"
        )),
    }
}

/// Applies one control line; the answer line for standard output.
fn apply(broker: &EmbeddedBroker, line: &str) -> String {
    let command = match parse(line) {
        Ok(command) => command,
        Err(reason) => return format!("error {reason}"),
    };
    let result = match &command {
        ControlCommand::Down => broker.set_down(true),
        ControlCommand::Up => broker.set_down(false),
        ControlCommand::Stop(id) => broker.stop_broker(*id),
        ControlCommand::Start(id) => broker.start_broker(*id),
        ControlCommand::Fail(request, count) => broker.fail_requests(*request, *count),
    };
    match result {
        Ok(()) => {
            tracing::info!(command = ?command, "broker fault control applied");
            format!("ok {}", line.trim())
        }
        Err(error) => format!("error {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines_parse_into_commands_and_bad_ones_are_named() {
        assert_eq!(parse("down"), Ok(ControlCommand::Down));
        assert_eq!(parse(" up "), Ok(ControlCommand::Up));
        assert_eq!(
            parse("fail produce 5"),
            Ok(ControlCommand::Fail(FaultedRequest::Produce, 5))
        );
        assert_eq!(
            parse("fail commit 2"),
            Ok(ControlCommand::Fail(FaultedRequest::OffsetCommit, 2))
        );
        assert!(parse("fail produce many").unwrap_err().contains("many"));
        assert!(parse("fail nothing 1").unwrap_err().contains("nothing"));
        assert!(parse("explode").unwrap_err().contains("explode"));
        assert_eq!(parse("stop 2"), Ok(ControlCommand::Stop(2)));
        assert_eq!(parse("start 2"), Ok(ControlCommand::Start(2)));
        assert!(parse("stop two").unwrap_err().contains("two"));
    }

    #[test]
    fn applying_commands_steers_a_real_embedded_broker() {
        let broker = EmbeddedBroker::start(1).unwrap();
        assert_eq!(apply(&broker, "fail fetch 2"), "ok fail fetch 2");
        assert_eq!(apply(&broker, "down"), "ok down");
        assert_eq!(apply(&broker, "up"), "ok up");
        assert!(apply(&broker, "sideways").starts_with("error "));
        assert!(apply(&broker, "stop 1").contains("last one up"));
    }

    #[test]
    fn one_broker_of_a_cluster_stops_and_starts() {
        let broker = EmbeddedBroker::start_cluster(ClusterSpec {
            brokers: 3,
            partitions: 2,
            groups: vec!["g".into()],
        })
        .unwrap();
        assert_eq!(apply(&broker, "stop 2"), "ok stop 2");
        assert_eq!(apply(&broker, "start 2"), "ok start 2");
        assert!(apply(&broker, "stop 9").contains("no broker 9"));
    }
}
