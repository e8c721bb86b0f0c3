//! [`HandleError`]: why a message could not be handled, and whether trying
//! again later may help. The classification is made once, where the
//! failure is known: a database failure carries its kind from `fte-store`
//! (a value the column cannot hold or a refused constraint is permanent;
//! an unreachable database or a lost race is transient), the agent's
//! infrastructure is transient, and an event the domain refuses is
//! permanent. The consumer retries transient failures a bounded number of
//! times and dead-letters the rest with [`HandleError::kind`] and
//! [`HandleError::reason`], both free of message content.
//!
//! [`ConsumerError`]: why a consumer (the message consumer or a
//! one-message-at-a-time one) could not start or stop cleanly.

use fte_bus::BusError;
use fte_domain::InvalidTransition;
use fte_store::StoreError;

use crate::agent::AgentUnavailable;

/// Why a message could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The event can never be processed (bad version, no identity, no
    /// recipient): dead-letter it.
    #[error("invalid event: {0}")]
    Invalid(&'static str),
    /// The event's schema version is unknown: dead-letter it.
    #[error("unsupported event schema version {0}")]
    UnsupportedVersion(u16),
    /// A state change the domain refuses: nothing was written; dead-letter.
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    /// The database failed; [`StoreError::is_transient`] says whether a
    /// retry may help.
    #[error("database failure: {}", .0.reason())]
    Store(#[from] StoreError),
    /// The agent's infrastructure failed: retry later.
    #[error(transparent)]
    Agent(#[from] AgentUnavailable),
}

impl From<sqlx::Error> for HandleError {
    fn from(error: sqlx::Error) -> Self {
        HandleError::Store(StoreError::Database(error))
    }
}

impl HandleError {
    /// Whether retrying the same event later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            HandleError::Store(error) => error.is_transient(),
            HandleError::Agent(_) => true,
            HandleError::Invalid(_)
            | HandleError::UnsupportedVersion(_)
            | HandleError::Transition(_) => false,
        }
    }

    /// A short, content-free label of few values (DLQ header, metric label).
    pub fn kind(&self) -> &'static str {
        match self {
            HandleError::Invalid(_) => "invalid",
            HandleError::UnsupportedVersion(_) => "unsupported_version",
            HandleError::Transition(_) => "invalid_transition",
            HandleError::Store(error) => error.failure_kind().as_str(),
            HandleError::Agent(_) => "agent_unavailable",
        }
    }

    /// A readable, content-free reason: what was refused and why, never a
    /// value of the message (the agent's own error text is left out too, as
    /// a provider may echo the request in it).
    pub fn reason(&self) -> String {
        match self {
            HandleError::Invalid(why) => (*why).to_owned(),
            HandleError::UnsupportedVersion(version) => {
                format!("event schema version {version} is not supported")
            }
            HandleError::Transition(refused) => refused.to_string(),
            HandleError::Store(error) => error.reason(),
            HandleError::Agent(_) => "the agent's infrastructure did not answer".to_owned(),
        }
    }
}

/// Why the consumer could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// Kafka refused the consumer or the final commit.
    #[error("kafka: {0}")]
    Bus(#[from] BusError),
}
