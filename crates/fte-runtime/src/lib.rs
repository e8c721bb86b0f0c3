//! # fte-runtime
//!
//! What every binary needs before it does any work, and nothing more:
//!
//! - [`settings`]: typed settings read from the environment, one struct per
//!   concern, each with a `from_env()` that fails with one clear error naming
//!   the variable; secrets are wrapped so they never print.
//! - [`telemetry`]: JSON (or pretty) logs through `tracing`, with a writer that
//!   redacts email addresses and phone numbers from every line as a last line
//!   of defence, plus the redaction helpers themselves.
//! - [`metrics`]: the Prometheus registry and every metric the binaries export,
//!   under the names the dashboards and alerts use.
//! - [`alerts`]: the plan's alert thresholds evaluated in-process, and the
//!   book of alerts that hold (what `/health` reports as `degraded`).
//! - [`readiness`]: named conditions that take a process out of rotation
//!   (`/ready` 503) without failing its liveness.
//! - [`shutdown`]: the SIGTERM / Ctrl-C signal as a cancellation token.
//!
//! It must not open connections or spawn long-lived work: binaries decide
//! that in their `startup` code.

pub mod alerts;
pub mod metrics;
pub mod readiness;
pub mod settings;
pub mod shutdown;
pub mod telemetry;

pub use settings::{Profile, SettingsError};
