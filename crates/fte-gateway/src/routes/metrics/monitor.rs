//! The gateway's [`Monitor`]: the alert book it evaluates every
//! `ALERT_INTERVAL_SECS` (what `/health` reports as `degraded`) and the
//! request counters it samples for the 4xx / 5xx rates of a summary.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use fte_runtime::alerts::{self, AlertBook, Transition};
use fte_runtime::settings::AlertSettings;
use fte_store::metrics as store_metrics;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::AppState;

/// The longest window a summary covers: request samples older than this are dropped.
const LONGEST_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    client_errors: u64,
    server_errors: u64,
}

/// The gateway's alert book and request-error samples.
pub struct Monitor {
    /// The thresholds (`ALERT_*`).
    pub settings: AlertSettings,
    /// The alerts that hold.
    pub alerts: AlertBook,
    samples: Mutex<VecDeque<Sample>>,
}

impl Monitor {
    /// A monitor with nothing holding; the first request sample is taken now.
    pub fn new(settings: AlertSettings) -> Self {
        let monitor = Self {
            settings,
            alerts: AlertBook::for_process("api"),
            samples: Mutex::new(VecDeque::new()),
        };
        monitor.sample_requests();
        monitor
    }

    fn now_sample() -> Sample {
        let (client_errors, server_errors) = fte_runtime::metrics::global().http_error_totals();
        Sample {
            at: Instant::now(),
            client_errors,
            server_errors,
        }
    }

    /// Records the request counters now, keeping a week of samples (the longest window).
    pub fn sample_requests(&self) {
        let sample = Self::now_sample();
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.push_back(sample);
        // Keep one sample at or before the longest window's start.
        while samples.len() > 2
            && samples
                .get(1)
                .is_some_and(|s| sample.at.duration_since(s.at) >= LONGEST_WINDOW)
        {
            samples.pop_front();
        }
    }

    /// 4xx and 5xx responses per minute over `window`, or since the first
    /// sample when the process is younger than the window.
    pub fn error_rates(&self, window: Duration) -> HttpErrorRates {
        let now = Self::now_sample();
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let baseline = samples
            .iter()
            .rev()
            .find(|s| now.at.duration_since(s.at) >= window)
            .or(samples.front())
            .copied()
            .unwrap_or(now);
        let span = now.at.duration_since(baseline.at);
        let minutes = span.as_secs_f64().max(1.0) / 60.0;
        let per_minute = |now: u64, then: u64| now.saturating_sub(then) as f64 / minutes;
        HttpErrorRates {
            client_errors_per_minute: per_minute(now.client_errors, baseline.client_errors),
            server_errors_per_minute: per_minute(now.server_errors, baseline.server_errors),
            measured_over_secs: span.as_secs(),
        }
    }
}

/// Evaluates the alert thresholds once on the last hour, the stored lag and
/// this process's pool, and records the result (logging each transition).
pub async fn evaluate_alerts(state: &AppState) -> Result<Vec<Transition>, fte_store::StoreError> {
    let inputs = store_metrics::alert_inputs(&state.pool).await?;
    let firing = alerts::evaluate(&state.monitor.settings, &inputs);
    Ok(state.monitor.alerts.update(Utc::now(), firing))
}

/// Samples the request counters and evaluates the alerts every
/// `ALERT_INTERVAL_SECS` until `stop`. A failed evaluation (database down)
/// keeps the previous state; `/health` reports the database itself.
pub async fn run_monitor(state: AppState, stop: CancellationToken) {
    let interval = Duration::from_secs(state.monitor.settings.interval_secs.max(1));
    loop {
        state.monitor.sample_requests();
        if let Err(error) = evaluate_alerts(&state).await {
            tracing::warn!(%error, "alert evaluation failed");
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// This gateway process's error responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct HttpErrorRates {
    /// 4xx responses per minute.
    pub client_errors_per_minute: f64,
    /// 5xx responses per minute.
    pub server_errors_per_minute: f64,
    /// The span the rates are over: the window, or less when the process is younger.
    pub measured_over_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rates_count_only_what_happened_after_the_baseline() {
        let monitor = Monitor::new(AlertSettings::default());
        let m = fte_runtime::metrics::global();
        m.http_requests
            .with_label_values(&["/t", "GET", "503"])
            .inc_by(3);
        m.http_requests
            .with_label_values(&["/t", "GET", "404"])
            .inc_by(2);
        m.http_requests
            .with_label_values(&["/t", "GET", "200"])
            .inc_by(50);
        let rates = monitor.error_rates(Duration::from_secs(3600));
        // The process is younger than the hour: the span is clamped to at
        // least a second, so 3 errors read as at most 180 a minute.
        assert!(rates.measured_over_secs < 5, "{rates:?}");
        assert!(
            rates.server_errors_per_minute >= 3.0 * 60.0 / 5.0,
            "{rates:?}"
        );
        assert!(rates.client_errors_per_minute > 0.0, "{rates:?}");
    }
}
