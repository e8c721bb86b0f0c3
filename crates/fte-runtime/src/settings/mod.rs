//! Settings from the environment. Each concern has its own struct with a
//! `from_env()`; every field's doc names its variable and default, and
//! `.env.example` at the repository root lists them all.
//!
//! Every reader takes a lookup function (`from_lookup`) so tests can supply
//! variables without touching the process environment.

mod agent;
mod alerts;
mod api;
mod channel_settings;
mod channels;
mod database;
mod enabled;
mod kafka;
mod kafka_security;
mod lookup;
mod mcp;
mod prices;
mod staff;
mod web_form;
mod worker;

pub use agent::{AgentSettings, EmbeddingProvider};
pub use alerts::AlertSettings;
pub use api::ApiSettings;
pub use channel_settings::ChannelSettings;
pub use channels::{GmailSettings, TwilioSettings, WebReplyNotify, WebReplySettings};
pub use database::{DatabaseSettings, DatabaseSslMode};
pub use enabled::EnabledChannels;
pub use kafka::{
    DEFAULT_BROKER_ADDRESS_FILE, DEFAULT_FETCH_WAIT_MAX_MS, KafkaSasl, KafkaSaslMechanism,
    KafkaSecurityProtocol, KafkaSettings, KafkaTls, PROJECT_BROKER_FETCH_WAIT_MAX_MS,
};
pub use lookup::{Lookup, Profile, SettingsError};
pub use mcp::McpSettings;
pub use prices::{
    DOCUMENTED_CHAT_PRICES, DOCUMENTED_EMBEDDING_PRICES, PriceSettings, documented_chat_price,
    documented_embedding_price,
};
pub use staff::{MAX_STAFF_NAME_LEN, StaffKey, fingerprint, valid_staff_name};
pub use web_form::{ChallengeProvider, ChallengeSettings, WebFormSettings};
pub use worker::{
    DEFAULT_RETRY_MAX_ATTEMPTS, DEFAULT_RETRY_MAX_SECS, DEFAULT_STUCK_PARTITION_SECS,
    DEFAULT_WORKER_CONCURRENCY, WorkerSettings,
};

#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::HashMap;

    use super::Lookup;

    /// A lookup over fixed pairs.
    pub fn lookup(pairs: &[(&str, &str)]) -> Lookup<'static> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Lookup::from_fn(move |key| map.get(key).cloned())
    }
}
