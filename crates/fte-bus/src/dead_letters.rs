//! Reading and replaying the dead-letter topic `fte.dlq`.
//!
//! The topic itself is the source of truth: nothing about a dead letter is
//! copied elsewhere before an operator looks. [`DeadLetterReader`] reads
//! it with a consumer that *assigns* every partition and reads from the
//! low to the high watermark, never joining a group and never committing,
//! so reading moves no group's offsets and can be repeated at will. A
//! dead letter's id is `<partition>-<offset>` in `fte.dlq`
//! ([`DeadLetterId`]): stable for as long as the topic keeps the message.
//!
//! A dead letter carries its origin and why it failed in headers
//! ([`crate::consumer::dlq_headers`]); [`DeadLetter`] exposes them, its key
//! and its payload (the original message, byte for byte). Replaying
//! ([`DeadLetterReader::replay`]) publishes that payload under that key to
//! the origin topic with a [`REPLAY_OF`] header naming the dead letter.
//! Only messages that came from a topic of the plan can be replayed: a
//! reply that exhausted its retries (origin `reply_outbox`) is re-driven
//! from the database instead, and a refused webhook (origin
//! `webhooks.gmail`) has no topic to go back to. Whether a dead letter was
//! already replayed is recorded by the caller (the database), not here.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::consumer::dlq_headers;
use crate::{Bootstrap, BusError, Delivery, KafkaPublisher, topics};

/// The header a replayed message carries: the id of the dead letter it
/// was replayed from.
pub const REPLAY_OF: &str = "fte.replay.of";

/// The most dead letters one read returns before it stops scanning.
pub const MAX_SCAN: usize = 100_000;

/// A dead letter's position in `fte.dlq`: `<partition>-<offset>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadLetterId {
    /// Partition of `fte.dlq`.
    pub partition: i32,
    /// Offset within it.
    pub offset: i64,
}

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.partition, self.offset)
    }
}

/// Why a text is not a dead letter id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a dead letter id is <partition>-<offset>, two whole numbers such as 0-42")]
pub struct BadDeadLetterId;

impl FromStr for DeadLetterId {
    type Err = BadDeadLetterId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (partition, offset) = text.split_once('-').ok_or(BadDeadLetterId)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(partition) || !digits(offset) || partition.len() > 5 || offset.len() > 18 {
            return Err(BadDeadLetterId);
        }
        Ok(Self {
            partition: partition.parse().map_err(|_| BadDeadLetterId)?,
            offset: offset.parse().map_err(|_| BadDeadLetterId)?,
        })
    }
}

/// One message of `fte.dlq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Where it is in `fte.dlq`.
    pub id: DeadLetterId,
    /// When it was dead-lettered (the broker's timestamp).
    pub at: DateTime<Utc>,
    /// The topic (or `reply_outbox`, `webhooks.gmail`) it came from.
    pub origin_topic: Option<String>,
    /// Its partition there, when it came from a topic.
    pub origin_partition: Option<i32>,
    /// Its offset there, when it came from a topic.
    pub origin_offset: Option<i64>,
    /// The error kind (`undecodable`, `invalid`, `send_failed`, …).
    pub error: Option<String>,
    /// The readable, content-free reason.
    pub reason: Option<String>,
    /// The message key: for inbound messages the customer's identity (an
    /// email address or phone number), for failed replies the conversation
    /// id. Shown to staff; never logged.
    pub key: Option<String>,
    /// The original payload, byte for byte.
    pub payload: Vec<u8>,
    /// Every header, in order (the ones above included).
    pub headers: Vec<(String, String)>,
}

impl DeadLetter {
    /// Whether it can be replayed: it came from a topic of the plan other
    /// than `fte.dlq`, and is not a replay marker loop.
    pub fn replay_target(&self) -> Result<&'static str, NotReplayable> {
        let origin = self.origin_topic.as_deref().unwrap_or_default();
        topics::ALL
            .iter()
            .copied()
            .find(|topic| *topic == origin && *topic != topics::DLQ)
            .ok_or_else(|| NotReplayable {
                origin: origin.to_owned(),
            })
    }
}

/// A dead letter that has no topic to go back to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dead letters from {origin:?} cannot be replayed onto a topic{hint}", hint = replay_hint(origin))]
pub struct NotReplayable {
    /// Its origin.
    pub origin: String,
}

fn replay_hint(origin: &str) -> &'static str {
    if origin == "reply_outbox" {
        " (a failed reply: re-drive it with `fte outbox retry` or POST /outbox/{id}/retry)"
    } else {
        ""
    }
}

/// Which dead letters to read: a time window on the dead-letter time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    /// Dead-lettered at or after.
    pub since: Option<DateTime<Utc>>,
    /// Dead-lettered before.
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.since.is_none_or(|since| at >= since) && self.until.is_none_or(|until| at < until)
    }
}

/// Reads and replays `fte.dlq` (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct DeadLetterReader {
    config: ClientConfig,
    publisher: KafkaPublisher,
    timeout: Duration,
}

impl DeadLetterReader {
    /// A reader of `bootstrap`'s cluster, replaying through `publisher`.
    pub fn new(bootstrap: &Bootstrap, publisher: KafkaPublisher) -> Self {
        let mut config = bootstrap.client_config();
        // A group id is needed to create a consumer; it never joins the
        // group (partitions are assigned) and never commits.
        config
            .set("group.id", "fte-dlq-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false");
        Self {
            config,
            publisher,
            timeout: Duration::from_secs(10),
        }
    }

    /// Every dead letter within `window`, oldest first (at most
    /// [`MAX_SCAN`] are read).
    pub async fn list(&self, window: Window) -> Result<Vec<DeadLetter>, BusError> {
        let (config, timeout) = (self.config.clone(), self.timeout);
        let mut letters = blocking(move || scan(&config, timeout, None)).await?;
        letters.retain(|letter| window.holds(letter.at));
        letters.sort_by_key(|letter| (letter.at, letter.id));
        Ok(letters)
    }

    /// The dead letter `id`, if `fte.dlq` holds it.
    pub async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, BusError> {
        let (config, timeout) = (self.config.clone(), self.timeout);
        let letters = blocking(move || scan(&config, timeout, Some(id))).await?;
        Ok(letters.into_iter().find(|letter| letter.id == id))
    }

    /// Publishes `letter`'s payload under its key to its origin topic, with
    /// [`REPLAY_OF`] set to its id; returns where it landed.
    pub async fn replay(&self, letter: &DeadLetter) -> Result<Delivery, ReplayError> {
        let topic = letter.replay_target()?;
        let id = letter.id.to_string();
        let delivery = self
            .publisher
            .publish(
                topic,
                letter.key.as_deref().unwrap_or_default(),
                &letter.payload,
                &[(REPLAY_OF, id.as_str())],
            )
            .await?;
        tracing::info!(
            dead_letter.id = %id,
            topic,
            partition = delivery.partition,
            offset = delivery.offset,
            "dead letter replayed"
        );
        Ok(delivery)
    }
}

/// Why a replay did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// It has no topic to go back to.
    #[error(transparent)]
    NotReplayable(#[from] NotReplayable),
    /// The broker did not take it.
    #[error(transparent)]
    Bus(#[from] BusError),
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BusError> + Send + 'static,
) -> Result<T, BusError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| BusError::Embedded(format!("the reading task failed: {error}")))?
}

/// Reads `fte.dlq` from the low to the high watermark of each partition
/// (only `only`'s partition from its offset when given).
fn scan(
    config: &ClientConfig,
    timeout: Duration,
    only: Option<DeadLetterId>,
) -> Result<Vec<DeadLetter>, BusError> {
    let consumer: BaseConsumer = config.create()?;
    let metadata = consumer.fetch_metadata(Some(topics::DLQ), timeout)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topics::DLQ)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .filter(|p| only.is_none_or(|id| id.partition == *p))
        .collect();
    let mut assignment = TopicPartitionList::new();
    // The last offset still to read, per partition.
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    for partition in partitions {
        let (low, high) = consumer.fetch_watermarks(topics::DLQ, partition, timeout)?;
        let (start, end) = match only {
            Some(id) if id.offset < low || id.offset >= high => continue,
            Some(id) => (id.offset, id.offset),
            None => (low, high - 1),
        };
        if start > end {
            continue;
        }
        assignment.add_partition_offset(topics::DLQ, partition, Offset::Offset(start))?;
        remaining.insert(partition, end);
    }
    let mut letters = Vec::new();
    if remaining.is_empty() {
        return Ok(letters);
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + timeout;
    while !remaining.is_empty() && letters.len() < MAX_SCAN {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(BusError::Timeout(timeout));
        }
        let Some(message) = consumer.poll(left.min(Duration::from_millis(200))) else {
            continue;
        };
        let message = message?;
        let partition = message.partition();
        let Some(&end) = remaining.get(&partition) else {
            continue;
        };
        if message.offset() > end {
            remaining.remove(&partition);
            continue;
        }
        if message.offset() == end {
            remaining.remove(&partition);
        }
        letters.push(read_letter(&message));
    }
    Ok(letters)
}

fn read_letter(message: &impl Message) -> DeadLetter {
    let headers: Vec<(String, String)> = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                    (h.key.to_owned(), value.into_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let at = message
        .timestamp()
        .to_millis()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    DeadLetter {
        id: DeadLetterId {
            partition: message.partition(),
            offset: message.offset(),
        },
        at,
        origin_topic: header(dlq_headers::TOPIC),
        origin_partition: header(dlq_headers::PARTITION).and_then(|p| p.parse().ok()),
        origin_offset: header(dlq_headers::OFFSET).and_then(|o| o.parse().ok()),
        error: header(dlq_headers::ERROR),
        reason: header(dlq_headers::REASON),
        key: message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .filter(|k| !k.is_empty()),
        payload: message.payload().unwrap_or_default().to_vec(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_malformed_ones_are_refused() {
        let id: DeadLetterId = "2-1041".parse().unwrap();
        assert_eq!(
            id,
            DeadLetterId {
                partition: 2,
                offset: 1041
            }
        );
        assert_eq!(id.to_string(), "2-1041");
        for bad in [
            "",
            "-",
            "1-",
            "-1",
            "1--1",
            "a-1",
            "1-b",
            "1-1-1",
            " 1-1",
            "+1-1",
            "1-+1",
            "123456-1",
            "1-1234567890123456789",
        ] {
            assert!(bad.parse::<DeadLetterId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_topics_of_the_plan_are_replay_targets() {
        let letter = |origin: &str| DeadLetter {
            id: DeadLetterId {
                partition: 0,
                offset: 0,
            },
            at: DateTime::<Utc>::UNIX_EPOCH,
            origin_topic: Some(origin.to_owned()),
            origin_partition: None,
            origin_offset: None,
            error: None,
            reason: None,
            key: None,
            payload: Vec::new(),
            headers: Vec::new(),
        };
        assert_eq!(
            letter(topics::TICKETS_INCOMING).replay_target(),
            Ok(topics::TICKETS_INCOMING)
        );
        for origin in ["reply_outbox", "webhooks.gmail", topics::DLQ, ""] {
            assert!(letter(origin).replay_target().is_err(), "{origin}");
        }
        let refusal = letter("reply_outbox").replay_target().unwrap_err();
        assert!(refusal.to_string().contains("fte outbox retry"));
    }
}
