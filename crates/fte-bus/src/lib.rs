//! # fte-bus
//!
//! The only crate that links rdkafka. It owns:
//!
//! - [`topics`]: the topic plan (names and partition counts);
//! - [`broker`]: finding the cluster — `KAFKA_BOOTSTRAP_SERVERS`, else a
//!   running `fte broker` (its address file), else an embedded broker
//!   (librdkafka's mock cluster) inside this process — and creating topics;
//! - [`publisher`]: the durable publisher (acks=all, idempotent) whose
//!   `publish` returns only once the broker has the message;
//! - [`consumer`]: at-least-once consumers (offsets stored only after the
//!   work is done) and the dead-letter queue;
//! - [`dead_letters`]: reading `fte.dlq` without moving any offsets, and
//!   replaying a dead letter onto its origin topic.
//!
//! Callers never see rdkafka types in the happy path; they pass topic names,
//! keys and bytes.

pub mod broker;
pub mod consumer;
pub mod dead_letters;
pub mod embedded;
pub mod publisher;
pub mod topics;

pub use broker::{Bootstrap, BrokerSource};
pub use embedded::{ClusterSpec, EmbeddedBroker, FaultedRequest};
pub use publisher::{Delivery, KafkaPublisher};

/// What can go wrong talking to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The client library reported an error.
    #[error("kafka error: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The broker did not acknowledge in time.
    #[error("kafka did not acknowledge within {0:?}")]
    Timeout(std::time::Duration),
    /// The broker address file exists but cannot be read.
    #[error("cannot read the broker address file {path}: {source}")]
    AddressFile {
        /// The file.
        path: std::path::PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// An event could not be serialised.
    #[error("cannot encode event: {0}")]
    Encode(String),
    /// The embedded broker failed.
    #[error("embedded broker: {0}")]
    Embedded(String),
    /// A topic could not be created.
    #[error("cannot create topic {topic}: {reason}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
}
