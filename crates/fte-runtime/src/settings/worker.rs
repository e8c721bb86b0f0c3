use super::lookup::{Lookup, SettingsError};

/// Port of the worker's health and metrics server.
pub const DEFAULT_WORKER_METRICS_PORT: u16 = 9090;
/// Messages processed at once per worker process. A turn mostly waits on
/// the model (about a second) and holds a database connection only for its
/// two short transactions, so one process carries many.
pub const DEFAULT_WORKER_CONCURRENCY: usize = 64;
/// How long a stopping worker may take to finish in-flight messages.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 25;
/// Attempts of a message whose handling fails transiently before it is
/// dead-lettered.
pub const DEFAULT_RETRY_MAX_ATTEMPTS: u32 = 10;
/// Time a message may spend in transient retries before it is dead-lettered.
pub const DEFAULT_RETRY_MAX_SECS: u64 = 300;
/// A partition holding messages whose lane has not moved for this long is
/// stuck: an alert starts and `/ready` turns false.
pub const DEFAULT_STUCK_PARTITION_SECS: u64 = 120;

/// Worker process settings.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// `WORKER_METRICS_HOST` (0.0.0.0): where `/health`, `/ready` and `/metrics` listen.
    pub metrics_host: String,
    /// `WORKER_METRICS_PORT` (9090).
    pub metrics_port: u16,
    /// `WORKER_CONCURRENCY` (64).
    pub concurrency: usize,
    /// `WORKER_SHUTDOWN_GRACE_SECS` (25); the pod's termination grace period
    /// must be longer.
    pub shutdown_grace_secs: u64,
    /// `WORKER_RETRY_MAX_ATTEMPTS` (10): attempts of a message failing
    /// transiently (database unreachable, agent down) before it is
    /// dead-lettered; a permanent failure is dead-lettered at once.
    pub retry_max_attempts: u32,
    /// `WORKER_RETRY_MAX_SECS` (300): the longest a message may spend in
    /// transient retries before it is dead-lettered.
    pub retry_max_secs: u64,
    /// `WORKER_STUCK_PARTITION_SECS` (120): a partition with messages whose
    /// lane has not moved for this long raises `FtePartitionStuck` and turns
    /// `/ready` false.
    pub stuck_partition_secs: u64,
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
        let retry_max_attempts =
            lookup.parsed_or("WORKER_RETRY_MAX_ATTEMPTS", DEFAULT_RETRY_MAX_ATTEMPTS)?;
        let retry_max_secs = lookup.parsed_or("WORKER_RETRY_MAX_SECS", DEFAULT_RETRY_MAX_SECS)?;
        let stuck_partition_secs =
            lookup.parsed_or("WORKER_STUCK_PARTITION_SECS", DEFAULT_STUCK_PARTITION_SECS)?;
        for (var, value) in [
            ("WORKER_RETRY_MAX_ATTEMPTS", u64::from(retry_max_attempts)),
            ("WORKER_RETRY_MAX_SECS", retry_max_secs),
            ("WORKER_STUCK_PARTITION_SECS", stuck_partition_secs),
        ] {
            if value == 0 {
                return Err(SettingsError::Invalid {
                    var,
                    reason: "must be at least 1".into(),
                });
            }
        }
        Ok(Self {
            retry_max_attempts,
            retry_max_secs,
            stuck_partition_secs,
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
