//! # fte-gateway
//!
//! The HTTP edge of the system (axum). It verifies every inbound message,
//! stores what must be queryable at once, and answers "accepted" only once
//! the message is durable on Kafka. It also serves the health, readiness and
//! Prometheus endpoints the operators watch.
//!
//! - [`router`] builds the whole application from an [`AppState`]; tests call
//!   it directly.
//! - [`startup`] is the one place that wires real dependencies (pool,
//!   publisher) from settings.
//! - [`health`] checks PostgreSQL and Kafka for real on every probe.
//!
//! It never links the agent and never talks to providers' send APIs: replies
//! are the worker's job.

pub mod health;
pub mod middleware;
pub mod routes;
pub mod startup;
pub mod state;

pub use routes::router;
pub use state::AppState;
