//! [`McpContext`]: what every tool needs, and how it is built from the
//! settings the other processes read (`DATABASE_URL`, the embedding model,
//! the response hours per plan tier).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fte_agent::{Embedder, HybridSearch};
use fte_bus::KafkaPublisher;
use fte_domain::handoff::ResponseHours;
use fte_runtime::settings::{AgentSettings, DatabaseSettings, Lookup};
use fte_store::PgPool;
use fte_worker::WorkerConfig;

/// The dependencies of the tools. Cheap to clone.
#[derive(Clone)]
pub struct McpContext {
    /// The CRM database.
    pub pool: PgPool,
    /// Publishes the events of a change right after its commit; without
    /// one they wait in the event outbox for the gateway's relay.
    pub publisher: Option<KafkaPublisher>,
    /// The agent's knowledge search, with the model the articles were
    /// imported with.
    pub search: HybridSearch,
    /// Business hours until a person answers an escalation, per plan tier
    /// (`ESCALATION_RESPONSE_HOURS_*`, as the worker reads them).
    pub response_hours: ResponseHours,
    /// A customer's conversation continues while its last message is
    /// younger than this (the worker's rule).
    pub conversation_window: Duration,
}

impl McpContext {
    /// A context over `pool`, searching with `embedder`, with the worker's
    /// default response hours and conversation window.
    pub fn new(
        pool: PgPool,
        embedder: Arc<dyn Embedder>,
        publisher: Option<KafkaPublisher>,
    ) -> Self {
        let defaults = WorkerConfig::default();
        Self {
            search: HybridSearch::new(pool.clone(), embedder),
            pool,
            publisher,
            response_hours: defaults.response_hours,
            conversation_window: defaults.conversation_window,
        }
    }

    /// Connects to PostgreSQL and builds the context with
    /// [`from_lookup`](Self::from_lookup).
    pub async fn connect(
        lookup: &Lookup<'_>,
        database: &DatabaseSettings,
        publisher: Option<KafkaPublisher>,
    ) -> anyhow::Result<Self> {
        let pool = fte_store::connect(database)
            .await
            .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
        Self::from_lookup(lookup, pool, publisher)
    }

    /// A context over `pool` with the embedding model the worker loads
    /// (`EMBEDDING_PROVIDER`, `MINILM_MODEL_DIR`, …) and the response hours
    /// and conversation window it reads (`ESCALATION_RESPONSE_HOURS_*`).
    pub fn from_lookup(
        lookup: &Lookup<'_>,
        pool: PgPool,
        publisher: Option<KafkaPublisher>,
    ) -> anyhow::Result<Self> {
        let agent = AgentSettings::from_lookup(lookup)?;
        let worker = WorkerConfig::from_lookup(lookup)?;
        let embedder = fte_agent::embedder_from_settings(&agent)
            .context("Failed to load the embedding model (scripts/models.sh)")?;
        let mut context = Self::new(pool, embedder, publisher);
        context.response_hours = worker.response_hours;
        context.conversation_window = worker.conversation_window;
        Ok(context)
    }
}
