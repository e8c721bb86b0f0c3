//! Shared state handed to every handler.

use std::sync::Arc;
use std::time::Instant;

use fte_bus::KafkaPublisher;
use fte_runtime::Profile;
use fte_runtime::settings::ApiSettings;
use sqlx::PgPool;

/// What handlers need: the database, the durable publisher and settings.
#[derive(Clone)]
pub struct AppState {
    /// The PostgreSQL pool.
    pub pool: PgPool,
    /// The durable Kafka publisher.
    pub publisher: KafkaPublisher,
    /// Gateway settings.
    pub api: Arc<ApiSettings>,
    /// dev or production.
    pub profile: Profile,
    /// When the process started (for uptime in `/health`).
    pub started_at: Instant,
}
