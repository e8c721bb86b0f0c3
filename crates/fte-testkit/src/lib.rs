//! The test kit: what every integration test of the workspace starts, in one
//! place, so that each test says only what it checks.
//!
//! - [`db`]: a fresh, migrated PostgreSQL database per test (copied from a
//!   template in milliseconds), and the knowledge-base database ([`kb`]).
//! - [`broker`]: the embedded Kafka-protocol broker a test app publishes to.
//! - [`agents`]: scripted agents and event sinks standing in for the model
//!   and for Kafka where a test drives the worker's step directly.
//! - [`worker`]: the worker's step on a fresh database, inbound events as the
//!   gateway publishes them.
//! - [`gateway`]: `spawn_app`, the gateway on a random port with typed
//!   request helpers; [`gateway::handoff`] puts the worker's step beside it.
//! - [`mcp`]: the staff MCP endpoint and an `rmcp` client per staff key.
//! - [`channels`]: provider clients wired to the fakes of `fte-fakes`.
//!
//! It is a dev-dependency only; nothing in a shipped binary links it.

pub mod agents;
pub mod broker;
pub mod channels;
pub mod db;
pub mod gateway;
pub mod kb;
pub mod mcp;
pub mod worker;

use sha2::{Digest, Sha256};

/// `STAFF_API_KEYS` for `keys` (`(owner, key)` pairs): each owner with the
/// SHA-256 of their key, as the settings want them.
pub fn staff_api_keys(keys: &[(&str, &str)]) -> String {
    keys.iter()
        .map(|(owner, key)| format!("{owner}:{:x}", Sha256::digest(key.as_bytes())))
        .collect::<Vec<_>>()
        .join(",")
}

/// The repository root.
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
