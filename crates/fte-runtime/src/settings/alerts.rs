use super::lookup::{Lookup, SettingsError};

/// Escalation rate per channel over the last hour above which an alert holds.
pub const DEFAULT_ALERT_ESCALATION_RATE: f64 = 0.25;
/// P95 agent turn latency per channel over the last hour, in milliseconds.
pub const DEFAULT_ALERT_P95_LATENCY_MS: f64 = 3000.0;
/// Messages a consumer group may lag behind on one topic.
pub const DEFAULT_ALERT_CONSUMER_LAG: i64 = 100;
/// Share of the PostgreSQL pool in use.
pub const DEFAULT_ALERT_POOL_UTILISATION: f64 = 0.8;
/// How often the thresholds are evaluated.
pub const DEFAULT_ALERT_INTERVAL_SECS: u64 = 30;

/// The plan's alert thresholds, evaluated in-process by both binaries
/// (`/health` reports `degraded` while one holds).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertSettings {
    /// `ALERT_ESCALATION_RATE` (0.25): escalated / opened tickets per channel
    /// over the last hour.
    pub escalation_rate: f64,
    /// `ALERT_P95_LATENCY_MS` (3000): P95 agent turn latency per channel over
    /// the last hour.
    pub p95_latency_ms: f64,
    /// `ALERT_CONSUMER_LAG` (100): lag of a consumer group on a topic, summed
    /// over partitions.
    pub consumer_lag: i64,
    /// `ALERT_POOL_UTILISATION` (0.8): connections in use / pool size.
    pub pool_utilisation: f64,
    /// `ALERT_INTERVAL_SECS` (30): seconds between evaluations.
    pub interval_secs: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            escalation_rate: DEFAULT_ALERT_ESCALATION_RATE,
            p95_latency_ms: DEFAULT_ALERT_P95_LATENCY_MS,
            consumer_lag: DEFAULT_ALERT_CONSUMER_LAG,
            pool_utilisation: DEFAULT_ALERT_POOL_UTILISATION,
            interval_secs: DEFAULT_ALERT_INTERVAL_SECS,
        }
    }
}

impl AlertSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let settings = Self {
            escalation_rate: lookup
                .parsed_or("ALERT_ESCALATION_RATE", DEFAULT_ALERT_ESCALATION_RATE)?,
            p95_latency_ms: lookup
                .parsed_or("ALERT_P95_LATENCY_MS", DEFAULT_ALERT_P95_LATENCY_MS)?,
            consumer_lag: lookup.parsed_or("ALERT_CONSUMER_LAG", DEFAULT_ALERT_CONSUMER_LAG)?,
            pool_utilisation: lookup
                .parsed_or("ALERT_POOL_UTILISATION", DEFAULT_ALERT_POOL_UTILISATION)?,
            interval_secs: lookup.parsed_or("ALERT_INTERVAL_SECS", DEFAULT_ALERT_INTERVAL_SECS)?,
        };
        let invalid = |var: &'static str, reason: &str| SettingsError::Invalid {
            var,
            reason: reason.into(),
        };
        let share = "must be a share between 0 and 1";
        if !(0.0..=1.0).contains(&settings.escalation_rate) {
            return Err(invalid("ALERT_ESCALATION_RATE", share));
        }
        if !(0.0..=1.0).contains(&settings.pool_utilisation) {
            return Err(invalid("ALERT_POOL_UTILISATION", share));
        }
        if !(settings.p95_latency_ms.is_finite() && settings.p95_latency_ms > 0.0) {
            return Err(invalid(
                "ALERT_P95_LATENCY_MS",
                "must be a positive number of milliseconds",
            ));
        }
        if settings.consumer_lag < 0 {
            return Err(invalid("ALERT_CONSUMER_LAG", "must not be negative"));
        }
        if settings.interval_secs == 0 {
            return Err(invalid("ALERT_INTERVAL_SECS", "must be at least 1"));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_plans_thresholds_and_bad_values_name_the_variable() {
        let empty = |_: &str| None;
        let settings = AlertSettings::from_lookup(&Lookup::from_fn(empty)).unwrap();
        assert_eq!(settings, AlertSettings::default());
        let bad = |var: &str| (var == "ALERT_POOL_UTILISATION").then(|| "1.5".to_owned());
        let error = AlertSettings::from_lookup(&Lookup::from_fn(bad)).unwrap_err();
        assert!(
            matches!(
                error,
                SettingsError::Invalid {
                    var: "ALERT_POOL_UTILISATION",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
