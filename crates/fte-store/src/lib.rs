//! # fte-store
//!
//! The only crate that speaks SQL. It owns the connection pool, the
//! migrations (`MIGRATOR`, embedded from `../../migrations`) and one module of
//! free-function repositories per table group. Callers pass a pool or a
//! transaction; there is no repository trait, because tests use the real
//! PostgreSQL (see [`testing`] behind the `testing` feature). Every failure
//! is classified once, here ([`failure`]): permanent (a value or row the
//! database refuses) or transient (unreachable, a lost race), so callers
//! never retry forever.
//!
//! It must not know about Kafka, HTTP or the agent: it stores and reads rows.

pub mod audit;
pub mod conversations;
pub mod cost;
pub mod customers;
pub mod dead_letters;
pub mod email_sends;
pub mod escalations;
pub mod event_outbox;
pub mod failed_replies;
pub mod failure;
pub mod gmail_sync;
pub mod idempotency;
pub mod identity;
pub mod knowledge;
pub mod links;
pub mod merges;
pub mod messages;
pub mod metrics;
pub mod outbox;
pub mod pool;
pub mod rates;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tickets;
pub mod web_submissions;
pub mod web_threads;

pub use failure::FailureKind;
pub use pool::{
    StoreError, connect, connect_options, is_unreachable, ping, record_pool_metrics, ride_through,
};
pub use sqlx::PgPool;

/// The schema migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Applies every pending migration. Safe to run concurrently from several
/// processes: sqlx takes an advisory lock.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await.map_err(StoreError::Migrate)
}
