use super::{Lookup, SettingsError};

/// Port of the worker's health and metrics server.
pub const DEFAULT_WORKER_METRICS_PORT: u16 = 9090;
/// Messages processed at once per worker process.
pub const DEFAULT_WORKER_CONCURRENCY: usize = 8;
/// How long a stopping worker may take to finish in-flight messages.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 25;

/// Worker process settings.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// `WORKER_METRICS_HOST` (0.0.0.0): where `/health`, `/ready` and `/metrics` listen.
    pub metrics_host: String,
    /// `WORKER_METRICS_PORT` (9090).
    pub metrics_port: u16,
    /// `WORKER_CONCURRENCY` (8).
    pub concurrency: usize,
    /// `WORKER_SHUTDOWN_GRACE_SECS` (25); the pod's termination grace period
    /// must be longer.
    pub shutdown_grace_secs: u64,
}

impl WorkerSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let concurrency = lookup.parsed_or("WORKER_CONCURRENCY", DEFAULT_WORKER_CONCURRENCY)?;
        if concurrency == 0 {
            return Err(SettingsError::Invalid {
                var: "WORKER_CONCURRENCY",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            metrics_host: lookup
                .get("WORKER_METRICS_HOST")
                .unwrap_or_else(|| "0.0.0.0".into()),
            metrics_port: lookup.parsed_or("WORKER_METRICS_PORT", DEFAULT_WORKER_METRICS_PORT)?,
            concurrency,
            shutdown_grace_secs: lookup
                .parsed_or("WORKER_SHUTDOWN_GRACE_SECS", DEFAULT_SHUTDOWN_GRACE_SECS)?,
        })
    }
}
