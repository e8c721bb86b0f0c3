//! The plan's alert thresholds, evaluated in-process.
//!
//! Each binary gathers [`AlertInputs`] (per-channel escalation rate and P95
//! latency over the last hour, consumer lag per group and topic, its own
//! pool utilisation) every `ALERT_INTERVAL_SECS` and hands the alerts that
//! hold to its [`AlertBook`]. The book remembers since when each holds,
//! logs one `alert_started` line when an alert starts and one
//! `alert_cleared` line when it clears, and sets `fte_alert_active{alert}`.
//! `/health` reads [`AlertBook::active`] to report `degraded`.
//!
//! Alert names are the PrometheusRule's, so the runbook's sections apply to
//! both; the scope (a channel, a consumer group and topic) says where.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::settings::AlertSettings;

/// Escalation rate per channel above the threshold.
pub const ESCALATION_RATE_HIGH: &str = "FteEscalationRateHigh";
/// P95 agent latency per channel above the threshold.
pub const LATENCY_HIGH: &str = "FteProcessingLatencyHigh";
/// A consumer group's lag on a topic above the threshold.
pub const CONSUMER_LAG_HIGH: &str = "FteKafkaConsumerLagHigh";
/// The PostgreSQL pool nearly exhausted.
pub const POOL_SATURATED: &str = "FteDatabasePoolSaturated";
/// A worker's partition holds messages and has not moved for too long
/// (raised by the worker's consumer, not by [`evaluate`]).
pub const PARTITION_STUCK: &str = "FtePartitionStuck";

/// Every alert name, for exporting `fte_alert_active` at 0 from the start.
pub const ALL: [&str; 5] = [
    ESCALATION_RATE_HIGH,
    LATENCY_HIGH,
    CONSUMER_LAG_HIGH,
    POOL_SATURATED,
    PARTITION_STUCK,
];

/// One channel's figures over the last hour.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelFigure {
    /// The channel.
    pub channel: String,
    /// Tickets opened.
    pub tickets: i64,
    /// Escalated / opened tickets (0..1).
    pub escalation_rate: f64,
    /// P95 agent turn latency, when any turn was recorded.
    pub p95_latency_ms: Option<f64>,
}

/// A consumer group's lag on one topic, summed over partitions.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupLag {
    /// The consumer group.
    pub group: String,
    /// The topic.
    pub topic: String,
    /// Messages not yet consumed.
    pub lag: i64,
}

/// What the thresholds are evaluated on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertInputs {
    /// Per channel, last hour.
    pub channels: Vec<ChannelFigure>,
    /// Per group and topic, as last measured.
    pub lags: Vec<GroupLag>,
    /// This process's pool: in use / size, when known.
    pub pool_utilisation: Option<f64>,
}

/// An alert whose condition holds now.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    /// One of [`ALL`].
    pub name: &'static str,
    /// Where: a channel, `group/topic`, or `postgres`.
    pub scope: String,
    /// Why, with the figure and the threshold.
    pub reason: String,
}

/// The alerts whose conditions hold on `inputs`.
pub fn evaluate(thresholds: &AlertSettings, inputs: &AlertInputs) -> Vec<Firing> {
    let mut firing = Vec::new();
    for channel in &inputs.channels {
        if channel.tickets > 0 && channel.escalation_rate > thresholds.escalation_rate {
            firing.push(Firing {
                name: ESCALATION_RATE_HIGH,
                scope: channel.channel.clone(),
                reason: format!(
                    "escalation rate on {} is {:.0} % over the last hour ({} tickets), above {:.0} %",
                    channel.channel,
                    channel.escalation_rate * 100.0,
                    channel.tickets,
                    thresholds.escalation_rate * 100.0
                ),
            });
        }
        if let Some(p95) = channel.p95_latency_ms
            && p95 > thresholds.p95_latency_ms
        {
            firing.push(Firing {
                name: LATENCY_HIGH,
                scope: channel.channel.clone(),
                reason: format!(
                    "P95 agent latency on {} is {p95:.0} ms over the last hour, above {:.0} ms",
                    channel.channel, thresholds.p95_latency_ms
                ),
            });
        }
    }
    for lag in &inputs.lags {
        if lag.lag > thresholds.consumer_lag {
            firing.push(Firing {
                name: CONSUMER_LAG_HIGH,
                scope: format!("{}/{}", lag.group, lag.topic),
                reason: format!(
                    "consumer group {} lags {} messages on {}, above {}",
                    lag.group, lag.lag, lag.topic, thresholds.consumer_lag
                ),
            });
        }
    }
    if let Some(used) = inputs.pool_utilisation
        && used > thresholds.pool_utilisation
    {
        firing.push(Firing {
            name: POOL_SATURATED,
            scope: "postgres".into(),
            reason: format!(
                "{:.0} % of the PostgreSQL pool is in use, above {:.0} %",
                used * 100.0,
                thresholds.pool_utilisation * 100.0
            ),
        });
    }
    firing
}

/// An alert that holds, as `/health` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActiveAlert {
    /// One of [`ALL`].
    pub name: &'static str,
    /// Where it holds.
    pub scope: String,
    /// Why, as of the latest evaluation.
    pub reason: String,
    /// When it started to hold.
    pub since: DateTime<Utc>,
}

/// A change of an alert's state.
#[derive(Clone, Debug, PartialEq)]
pub enum Transition {
    /// It holds now and did not at the previous evaluation.
    Started(ActiveAlert),
    /// It held at the previous evaluation and does not now.
    Cleared(ActiveAlert),
}

/// The alerts that hold, and since when.
#[derive(Debug, Default)]
pub struct AlertBook {
    process: &'static str,
    active: Mutex<BTreeMap<(&'static str, String), ActiveAlert>>,
}

impl AlertBook {
    /// An empty book (nothing holds) of an unnamed process.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty book whose log lines carry `process` (`api`, `worker`):
    /// each binary evaluates on its own, and `fte run` hosts both.
    pub fn for_process(process: &'static str) -> Self {
        Self {
            process,
            ..Self::default()
        }
    }

    /// Records what holds at `now`: alerts new to the book start (logged
    /// once as `alert_started`), alerts no longer holding clear (logged once
    /// as `alert_cleared`), ongoing ones keep their `since` and take the new
    /// reason. Returns the transitions.
    pub fn update(&self, now: DateTime<Utc>, firing: Vec<Firing>) -> Vec<Transition> {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        let mut transitions = Vec::new();
        let mut holding = BTreeMap::new();
        for alert in firing {
            let key = (alert.name, alert.scope.clone());
            let entry = match active.remove(&key) {
                Some(mut ongoing) => {
                    ongoing.reason = alert.reason;
                    ongoing
                }
                None => {
                    let started = ActiveAlert {
                        name: alert.name,
                        scope: alert.scope,
                        reason: alert.reason,
                        since: now,
                    };
                    tracing::warn!(
                        event = "alert_started",
                        process = self.process,
                        alert.name = started.name,
                        alert.scope = %started.scope,
                        alert.reason = %started.reason,
                        "alert_started"
                    );
                    transitions.push(Transition::Started(started.clone()));
                    started
                }
            };
            holding.insert(key, entry);
        }
        for (_, cleared) in std::mem::take(&mut *active) {
            tracing::info!(
                event = "alert_cleared",
                process = self.process,
                alert.name = cleared.name,
                alert.scope = %cleared.scope,
                duration_secs = (now - cleared.since).num_seconds(),
                "alert_cleared"
            );
            transitions.push(Transition::Cleared(cleared));
        }
        *active = holding;
        let gauge = &crate::metrics::global().alert_active;
        for name in ALL {
            let count = active.keys().filter(|(n, _)| *n == name).count();
            gauge
                .with_label_values(&[name])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        transitions
    }

    /// The alerts that hold, by name then scope.
    pub fn active(&self) -> Vec<ActiveAlert> {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        active.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn channel(name: &str, tickets: i64, rate: f64, p95: Option<f64>) -> ChannelFigure {
        ChannelFigure {
            channel: name.into(),
            tickets,
            escalation_rate: rate,
            p95_latency_ms: p95,
        }
    }

    #[test]
    fn each_threshold_fires_only_strictly_above_the_plans_value() {
        let thresholds = AlertSettings::default();
        let at_thresholds = AlertInputs {
            channels: vec![channel("email", 4, 0.25, Some(3000.0))],
            lags: vec![GroupLag {
                group: "g".into(),
                topic: "t".into(),
                lag: 100,
            }],
            pool_utilisation: Some(0.8),
        };
        assert_eq!(evaluate(&thresholds, &at_thresholds), vec![]);

        let above = AlertInputs {
            channels: vec![
                channel("email", 4, 0.5, Some(3001.0)),
                channel("whatsapp", 0, 1.0, None),
            ],
            lags: vec![GroupLag {
                group: "fte-message-processor".into(),
                topic: "fte.tickets.incoming".into(),
                lag: 101,
            }],
            pool_utilisation: Some(0.85),
        };
        let names: Vec<(&str, String)> = evaluate(&thresholds, &above)
            .into_iter()
            .map(|f| (f.name, f.scope))
            .collect();
        assert_eq!(
            names,
            vec![
                (ESCALATION_RATE_HIGH, "email".to_owned()),
                (LATENCY_HIGH, "email".to_owned()),
                (
                    CONSUMER_LAG_HIGH,
                    "fte-message-processor/fte.tickets.incoming".to_owned()
                ),
                (POOL_SATURATED, "postgres".to_owned()),
            ],
            "a channel without tickets never fires on its rate"
        );
    }

    fn firing(name: &'static str, scope: &str, reason: &str) -> Firing {
        Firing {
            name,
            scope: scope.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn an_alert_starts_once_keeps_its_since_while_it_holds_and_clears_once() {
        let book = AlertBook::new();
        let t0 = Utc::now();
        let t1 = t0 + Duration::seconds(30);
        let t2 = t0 + Duration::seconds(60);
        let t3 = t0 + Duration::seconds(90);

        let started = book.update(t0, vec![firing(POOL_SATURATED, "postgres", "90 %")]);
        assert!(
            matches!(&started[..], [Transition::Started(a)] if a.since == t0 && a.reason == "90 %"),
            "first evaluation starts it: {started:?}"
        );

        let ongoing = book.update(t1, vec![firing(POOL_SATURATED, "postgres", "95 %")]);
        assert_eq!(ongoing, vec![], "no transition while it holds");
        let active = book.active();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].since, t0, "since is when it started");
        assert_eq!(
            active[0].reason, "95 %",
            "the reason follows the latest figure"
        );

        let cleared = book.update(t2, vec![]);
        assert!(
            matches!(&cleared[..], [Transition::Cleared(a)] if a.name == POOL_SATURATED && a.since == t0),
            "{cleared:?}"
        );
        assert!(book.active().is_empty());
        assert_eq!(book.update(t3, vec![]), vec![], "cleared only once");
    }

    #[test]
    fn the_same_alert_on_two_channels_is_two_alerts() {
        let book = AlertBook::new();
        let now = Utc::now();
        let transitions = book.update(
            now,
            vec![
                firing(LATENCY_HIGH, "email", "slow"),
                firing(LATENCY_HIGH, "whatsapp", "slow"),
            ],
        );
        assert_eq!(transitions.len(), 2);
        let transitions = book.update(
            now + Duration::seconds(1),
            vec![firing(LATENCY_HIGH, "whatsapp", "slow")],
        );
        assert!(
            matches!(&transitions[..], [Transition::Cleared(a)] if a.scope == "email"),
            "{transitions:?}"
        );
        assert_eq!(book.active()[0].scope, "whatsapp");
    }
}
