//! At-least-once consumption and the dead-letter queue.
//!
//! Offsets are *stored* only after the work for a message has committed
//! ([`store_offset`]); librdkafka's auto-commit then commits stored offsets
//! in the background, and [`commit_final`] commits synchronously on shutdown.
//! A crash between the work and the commit redelivers the message, which is
//! why every step downstream is idempotent.
//!
//! Partitions are assigned `cooperative-sticky` (KIP-429): when a worker
//! joins or leaves, only the partitions that move are revoked, so the other
//! workers keep consuming through the rebalance instead of all stopping
//! (rust-rdkafka's default rebalance handling switches to incremental
//! assign/unassign for this protocol). A worker stopping cleanly leaves
//! the group when its consumer is dropped (librdkafka's close), so its
//! partitions move at once instead of after the session timeout.

use std::time::Duration;

use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};

use crate::publisher::KafkaPublisher;
use crate::{Bootstrap, BusError, topics};

/// A consumer in `group` subscribed to `topics`, configured for
/// at-least-once processing.
pub fn at_least_once(
    bootstrap: &Bootstrap,
    group: &str,
    subscribe_to: &[&str],
) -> Result<StreamConsumer, BusError> {
    let settings = bootstrap.settings();
    let mut config = bootstrap.client_config();
    config
        .set("group.id", group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set(
            "session.timeout.ms",
            settings.session_timeout_ms.to_string(),
        )
        .set(
            "heartbeat.interval.ms",
            (settings.session_timeout_ms / 4).max(100).to_string(),
        )
        .set(
            "max.poll.interval.ms",
            settings.max_poll_interval_ms.to_string(),
        )
        .set("enable.partition.eof", "false")
        .set(
            "fetch.wait.max.ms",
            bootstrap.fetch_wait_max_ms().to_string(),
        );
    if let Ok(debug) = std::env::var("FTE_KAFKA_DEBUG") {
        config.set("debug", debug);
    }
    let consumer: StreamConsumer = config.create()?;
    consumer.subscribe(subscribe_to)?;
    Ok(consumer)
}

/// Marks `message` as processed; its offset is committed with the next
/// (automatic or final) commit.
pub fn store_offset(
    consumer: &StreamConsumer,
    message: &BorrowedMessage<'_>,
) -> Result<(), BusError> {
    consumer
        .store_offset(message.topic(), message.partition(), message.offset())
        .map_err(BusError::Kafka)
}

/// Stops fetching: pauses every partition assigned to `consumer`, so
/// nothing more is read while in-flight work drains before the final
/// commit.
pub fn stop_fetching(consumer: &StreamConsumer) -> Result<(), BusError> {
    let assignment = consumer.assignment()?;
    if assignment.count() > 0 {
        consumer.pause(&assignment)?;
    }
    Ok(())
}

/// Commits every stored offset synchronously (at shutdown, after the last
/// message's work has committed).
pub fn commit_final(consumer: &StreamConsumer) -> Result<(), BusError> {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => Ok(()),
        // Nothing stored since the last commit.
        Err(rdkafka::error::KafkaError::ConsumerCommit(
            rdkafka::error::RDKafkaErrorCode::NoOffset,
        )) => Ok(()),
        Err(error) => Err(BusError::Kafka(error)),
    }
}

/// The headers a dead-lettered message carries about where it came from.
pub mod dlq_headers {
    /// Origin topic.
    pub const TOPIC: &str = "fte.origin.topic";
    /// Origin partition.
    pub const PARTITION: &str = "fte.origin.partition";
    /// Origin offset.
    pub const OFFSET: &str = "fte.origin.offset";
    /// Why it could not be processed: a short kind of a few fixed values
    /// (`undecodable`, `invalid`, `database_data`, …), never message content.
    pub const ERROR: &str = "fte.error";
    /// A readable, content-free reason beside the kind (what was refused
    /// and why, how many attempts were made), never message content.
    pub const REASON: &str = "fte.error.reason";
}

/// Copies `message` to the dead-letter queue with its origin, the error
/// `kind` and a readable `reason` in headers, then counts it in
/// `fte_dlq_messages_total{topic,reason=kind}`. Both must be free of message
/// content. The dead letter keeps the message's key unless `key` replaces it
/// (a key that is personal data, such as a mailbox address, must not travel
/// on).
pub async fn dead_letter(
    publisher: &KafkaPublisher,
    message: &impl Message,
    key: Option<&str>,
    kind: &str,
    reason: &str,
) -> Result<(), BusError> {
    let partition = message.partition().to_string();
    let offset = message.offset().to_string();
    let key = match key {
        Some(key) => key.to_owned(),
        None => message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default(),
    };
    let headers = [
        (dlq_headers::TOPIC, message.topic()),
        (dlq_headers::PARTITION, partition.as_str()),
        (dlq_headers::OFFSET, offset.as_str()),
        (dlq_headers::ERROR, kind),
        (dlq_headers::REASON, reason),
    ];
    publisher
        .publish(
            topics::DLQ,
            &key,
            message.payload().unwrap_or_default(),
            &headers,
        )
        .await?;
    fte_runtime::metrics::global()
        .dlq_messages
        .with_label_values(&[message.topic(), kind])
        .inc();
    Ok(())
}

/// A header's value as text, if present.
pub fn header<'a>(message: &'a BorrowedMessage<'_>, name: &str) -> Option<&'a str> {
    message
        .headers()?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// Consumer lag per partition of `topic` for this consumer's group: the high
/// watermark minus the committed offset. Published as `fte_kafka_consumer_lag`.
pub fn measure_lag(
    consumer: &StreamConsumer,
    group: &str,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, i64)>, BusError> {
    partition_lags(consumer, group, topic, timeout)
}

/// Consumer lag per partition of `topic` for any consumer `group`, measured
/// from outside the group: a client with the group's id that never joins it
/// reads the group's committed offsets and each partition's high watermark.
/// A partition the group never committed on counts from its low watermark.
/// Published as `fte_kafka_consumer_lag` too. Blocks (metadata requests):
/// call it from a blocking task.
pub fn group_lag(
    bootstrap: &Bootstrap,
    group: &str,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, i64)>, BusError> {
    let mut config = bootstrap.client_config();
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let observer: BaseConsumer = config.create()?;
    partition_lags(&observer, group, topic, timeout)
}

fn partition_lags<C: Consumer>(
    consumer: &C,
    group: &str,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, i64)>, BusError> {
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let Some(topic_metadata) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return Ok(Vec::new());
    };
    let mut list = TopicPartitionList::new();
    for partition in topic_metadata.partitions() {
        list.add_partition(topic, partition.id());
    }
    let committed = consumer.committed_offsets(list, timeout)?;
    let mut lags = Vec::new();
    for element in committed.elements() {
        let (low, high) = consumer.fetch_watermarks(topic, element.partition(), timeout)?;
        let position = element.offset().to_raw().filter(|o| *o >= 0).unwrap_or(low);
        let lag = (high - position).max(0);
        fte_runtime::metrics::global()
            .kafka_consumer_lag
            .with_label_values(&[group, topic, &element.partition().to_string()])
            .set(lag);
        lags.push((element.partition(), lag));
    }
    lags.sort_unstable();
    Ok(lags)
}
