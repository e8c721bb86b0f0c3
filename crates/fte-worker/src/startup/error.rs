//! Why the worker could not start or stopped with an error.

use std::net::SocketAddr;

use fte_domain::Channel;
use fte_runtime::settings::SettingsError;

use crate::consumer::ConsumerError;

/// Why the worker could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is missing or invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// PostgreSQL is unreachable or migrations failed.
    #[error("database: {0}")]
    Store(#[from] fte_store::StoreError),
    /// Kafka is unreachable.
    #[error("kafka: {0}")]
    Bus(#[from] fte_bus::BusError),
    /// The consumer failed.
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
    /// A channel's configuration is invalid.
    #[error("channel {channel}: {reason}")]
    Channel {
        /// The channel.
        channel: Channel,
        /// Why.
        reason: String,
    },
    /// The agent could not be built (embedding model missing, bad key).
    #[error("agent: {0}")]
    Agent(String),
    /// The probe server could not bind.
    #[error("cannot bind the probe server on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
