//! What every step needs: the pool, the agent, the event sink and the
//! worker's tunables.

use std::sync::Arc;
use std::time::Duration;

use fte_domain::ModelPrices;
use fte_domain::handoff::ResponseHours;
use fte_runtime::settings::{AlertSettings, Lookup, PriceSettings, SettingsError};
use fte_store::PgPool;

use crate::agent::ReplyAgent;
use crate::events::EventSink;

/// Messages of history handed to the agent (`WORKER_HISTORY_LIMIT`).
pub const DEFAULT_HISTORY_LIMIT: i64 = 20;
/// Attempts before a reply is given up (`WORKER_MAX_SEND_ATTEMPTS`).
pub const DEFAULT_MAX_SEND_ATTEMPTS: i32 = 5;
/// A conversation continues while its last message is younger than this.
pub const CONVERSATION_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// More than this many messages in [`RATE_LIMIT_WINDOW`] get one notice.
pub const RATE_LIMIT_MAX: i64 = 10;
/// The rate limit's window.
pub const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);
/// An escalated conversation acknowledges new messages at most this often
/// (`WORKER_ESCALATED_ACK_INTERVAL_SECS`).
pub const ESCALATED_ACK_INTERVAL: Duration = Duration::from_secs(3600);
/// The longest promised human response time a setting may ask for: a week
/// of business hours.
pub const MAX_RESPONSE_HOURS: u32 = 60;
/// How long one provider call may take before its outcome counts as unknown.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// Emails per [`EMAIL_CAP_WINDOW`] to an address that never proved itself
/// (`EMAIL_UNVERIFIED_DAILY_CAP`).
pub const DEFAULT_EMAIL_UNVERIFIED_DAILY_CAP: u32 = 3;
/// The window of the email cap.
pub const EMAIL_CAP_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The worker's tunables.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// History messages handed to the agent.
    pub history_limit: i64,
    /// The 24-hour continuation window.
    pub conversation_window: Duration,
    /// Messages per window before the rate limit applies.
    pub rate_limit_max: i64,
    /// The rate limit's window.
    pub rate_limit_window: Duration,
    /// `WORKER_ESCALATED_ACK_INTERVAL_SECS` (3600): minimum time between two
    /// acknowledgements of an escalated conversation.
    pub escalated_ack_interval: Duration,
    /// `ESCALATION_RESPONSE_HOURS_FREE` / `_TEAM` / `_BUSINESS` /
    /// `_ENTERPRISE` (4 / 4 / 1 / 1): business hours until a person answers
    /// an escalated case, per plan tier. Sets `expected_response_by` and is
    /// what the customer is told.
    pub response_hours: ResponseHours,
    /// Attempts before a reply is failed and dead-lettered.
    pub max_send_attempts: i32,
    /// Timeout of one provider call.
    pub send_timeout: Duration,
    /// First retry delay of a reply; doubles per attempt (with jitter).
    pub send_backoff_base: Duration,
    /// Longest retry delay of a reply.
    pub send_backoff_max: Duration,
    /// How often an idle sender loop looks for due replies (it is woken
    /// at once when a step of this process has committed one).
    pub sender_poll_interval: Duration,
    /// Shared by the clones of this configuration: the steps raise it when
    /// they commit, the reply senders of the same process wake on it.
    pub replies_due: RepliesDue,
    /// A `sending` row older than this is presumed orphaned (outcome unknown).
    pub sending_lease: Duration,
    /// `EMAIL_UNVERIFIED_DAILY_CAP` (3): replies by email (an email reply,
    /// a web form notification) to an address that never proved itself,
    /// per address per day; the rest are not sent (`suppressed`).
    pub email_unverified_daily_cap: u32,
    /// The in-process alert thresholds (`ALERT_*`).
    pub alerts: AlertSettings,
    /// What each turn's tokens are costed at (`MODEL_PRICE_INPUT_PER_MTOK`,
    /// `MODEL_PRICE_OUTPUT_PER_MTOK`, `MODEL_PRICE_EMBEDDING_PER_MTOK`;
    /// the documented prices of the configured models by default).
    pub prices: ModelPrices,
}

/// Tells the reply senders of this process that a step committed, so a
/// reply waits for no poll. A counter rather than a signal: a sender that
/// was busy when it moved sees the change on its next wait, so no wake-up
/// is lost.
#[derive(Clone, Debug)]
pub struct RepliesDue(Arc<tokio::sync::watch::Sender<u64>>);

impl Default for RepliesDue {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(0)))
    }
}

impl RepliesDue {
    /// A step committed replies (or may have).
    pub fn raise(&self) {
        self.0.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// What a sender waits on.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            history_limit: DEFAULT_HISTORY_LIMIT,
            conversation_window: CONVERSATION_WINDOW,
            rate_limit_max: RATE_LIMIT_MAX,
            rate_limit_window: RATE_LIMIT_WINDOW,
            escalated_ack_interval: ESCALATED_ACK_INTERVAL,
            response_hours: ResponseHours::default(),
            max_send_attempts: DEFAULT_MAX_SEND_ATTEMPTS,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            send_backoff_base: Duration::from_secs(2),
            send_backoff_max: Duration::from_secs(300),
            sender_poll_interval: Duration::from_millis(500),
            replies_due: RepliesDue::default(),
            sending_lease: Duration::from_secs(300),
            email_unverified_daily_cap: DEFAULT_EMAIL_UNVERIFIED_DAILY_CAP,
            alerts: AlertSettings::default(),
            prices: PriceSettings::default().prices,
        }
    }
}

impl WorkerConfig {
    /// Reads `WORKER_HISTORY_LIMIT`, `WORKER_MAX_SEND_ATTEMPTS`,
    /// `WORKER_ESCALATED_ACK_INTERVAL_SECS`, `EMAIL_UNVERIFIED_DAILY_CAP`,
    /// the `ESCALATION_RESPONSE_HOURS_*` tiers and the `MODEL_PRICE_*`
    /// prices over the defaults.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let defaults = Self::default();
        let history_limit = lookup.parsed_or("WORKER_HISTORY_LIMIT", defaults.history_limit)?;
        let max_send_attempts =
            lookup.parsed_or("WORKER_MAX_SEND_ATTEMPTS", defaults.max_send_attempts)?;
        if history_limit < 0 {
            return Err(SettingsError::Invalid {
                var: "WORKER_HISTORY_LIMIT",
                reason: "must be 0 or more".into(),
            });
        }
        if max_send_attempts < 1 {
            return Err(SettingsError::Invalid {
                var: "WORKER_MAX_SEND_ATTEMPTS",
                reason: "must be at least 1".into(),
            });
        }
        let ack_secs: u64 = lookup.parsed_or(
            "WORKER_ESCALATED_ACK_INTERVAL_SECS",
            defaults.escalated_ack_interval.as_secs(),
        )?;
        if ack_secs == 0 {
            return Err(SettingsError::Invalid {
                var: "WORKER_ESCALATED_ACK_INTERVAL_SECS",
                reason: "must be at least 1".into(),
            });
        }
        let tiers = defaults.response_hours;
        let response_hours = ResponseHours {
            free: response_hours(lookup, "ESCALATION_RESPONSE_HOURS_FREE", tiers.free)?,
            team: response_hours(lookup, "ESCALATION_RESPONSE_HOURS_TEAM", tiers.team)?,
            business: response_hours(lookup, "ESCALATION_RESPONSE_HOURS_BUSINESS", tiers.business)?,
            enterprise: response_hours(
                lookup,
                "ESCALATION_RESPONSE_HOURS_ENTERPRISE",
                tiers.enterprise,
            )?,
        };
        let email_unverified_daily_cap = lookup.parsed_or(
            "EMAIL_UNVERIFIED_DAILY_CAP",
            defaults.email_unverified_daily_cap,
        )?;
        Ok(Self {
            history_limit,
            max_send_attempts,
            escalated_ack_interval: Duration::from_secs(ack_secs),
            email_unverified_daily_cap,
            response_hours,
            alerts: AlertSettings::from_lookup(lookup)?,
            prices: PriceSettings::from_lookup(lookup)?.prices,
            ..defaults
        })
    }
}

/// One tier's promised response time: whole business hours, 1 to
/// [`MAX_RESPONSE_HOURS`].
fn response_hours(
    lookup: &Lookup<'_>,
    var: &'static str,
    default: u32,
) -> Result<u32, SettingsError> {
    let hours = lookup.parsed_or(var, default)?;
    if !(1..=MAX_RESPONSE_HOURS).contains(&hours) {
        return Err(SettingsError::Invalid {
            var,
            reason: format!("must be between 1 and {MAX_RESPONSE_HOURS} business hours"),
        });
    }
    Ok(hours)
}

/// Everything [`crate::handle_event`] and the loops need. Cheap to clone.
#[derive(Clone)]
pub struct WorkerContext {
    /// The CRM database.
    pub pool: PgPool,
    /// The agent answering messages.
    pub agent: Arc<dyn ReplyAgent>,
    /// Where events go after their rows committed.
    pub events: Arc<dyn EventSink>,
    /// Tunables.
    pub config: WorkerConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> Lookup<'static> {
        Lookup::from_fn(move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_apply_and_variables_override_them() {
        let config = WorkerConfig::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(config.history_limit, 20);
        assert_eq!(config.max_send_attempts, 5);
        let config = WorkerConfig::from_lookup(&lookup(&[
            ("WORKER_HISTORY_LIMIT", "5"),
            ("WORKER_MAX_SEND_ATTEMPTS", "2"),
        ]))
        .unwrap();
        assert_eq!((config.history_limit, config.max_send_attempts), (5, 2));
    }

    #[test]
    fn the_ack_interval_and_the_response_hours_per_tier_are_settings() {
        let config = WorkerConfig::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(config.escalated_ack_interval, ESCALATED_ACK_INTERVAL);
        assert_eq!(config.response_hours, ResponseHours::default());
        let config = WorkerConfig::from_lookup(&lookup(&[
            ("WORKER_ESCALATED_ACK_INTERVAL_SECS", "600"),
            ("ESCALATION_RESPONSE_HOURS_FREE", "8"),
            ("ESCALATION_RESPONSE_HOURS_TEAM", "6"),
            ("ESCALATION_RESPONSE_HOURS_BUSINESS", "2"),
            ("ESCALATION_RESPONSE_HOURS_ENTERPRISE", "1"),
        ]))
        .unwrap();
        assert_eq!(config.escalated_ack_interval, Duration::from_secs(600));
        assert_eq!(
            config.response_hours,
            ResponseHours {
                free: 8,
                team: 6,
                business: 2,
                enterprise: 1
            }
        );
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (pairs, var) in [
            (
                &[("WORKER_MAX_SEND_ATTEMPTS", "0")][..],
                "WORKER_MAX_SEND_ATTEMPTS",
            ),
            (
                &[("WORKER_HISTORY_LIMIT", "-1")][..],
                "WORKER_HISTORY_LIMIT",
            ),
            (
                &[("WORKER_ESCALATED_ACK_INTERVAL_SECS", "0")][..],
                "WORKER_ESCALATED_ACK_INTERVAL_SECS",
            ),
            (
                &[("ESCALATION_RESPONSE_HOURS_TEAM", "0")][..],
                "ESCALATION_RESPONSE_HOURS_TEAM",
            ),
            (
                &[("ESCALATION_RESPONSE_HOURS_BUSINESS", "61")][..],
                "ESCALATION_RESPONSE_HOURS_BUSINESS",
            ),
        ] {
            let pairs: &'static [(&'static str, &'static str)] = pairs;
            match WorkerConfig::from_lookup(&lookup(pairs)) {
                Err(SettingsError::Invalid { var: named, .. }) => assert_eq!(named, var),
                other => panic!("expected {var} to be refused, got {other:?}"),
            }
        }
    }
}
