//! When a web form customer can expect an answer, from the current queue
//! and the ticket's escalation, instead of a fixed promise.
//!
//! - A ticket a person has (escalated): the escalation's
//!   `expected_response_by` (the plan tier's promise in business hours).
//! - A ticket waiting for the bot: the longer of the recent typical wait
//!   (median seconds from a web ticket's creation to its first reply over
//!   the last 30 minutes; 30 s when there is none) and the time the bot
//!   needs for the tickets queued ahead (backlog ÷ the replies it sent in
//!   the last ten minutes; 10 s per ticket when it sent none). Beyond a day
//!   the estimate says nothing precise.
//!
//! The figures come from one query, cached for a few seconds per process so
//! a burst of submissions costs one read.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fte_store::web_threads::{self, QueueFigures};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

/// How long the queue figures are reused.
pub const FIGURES_TTL: Duration = Duration::from_secs(5);
/// The typical wait when no web ticket was answered recently.
pub const DEFAULT_WAIT_SECS: f64 = 30.0;
/// Seconds per queued ticket when the bot answered nothing recently.
pub const SECS_PER_TICKET_WITHOUT_HISTORY: f64 = 10.0;
/// Window of the throughput figure (`recent_replies`).
const THROUGHPUT_WINDOW_SECS: f64 = 600.0;
/// Longest estimate worth a number.
const MAX_ESTIMATE_SECS: f64 = 24.0 * 3600.0;

/// Who will answer, and when.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Estimate {
    /// `bot` (the AI agent), `team` (a person has the case) or `unknown`.
    pub kind: &'static str,
    /// Seconds from now, when known.
    pub within_secs: Option<u64>,
    /// The promised time, for a person.
    pub by: Option<DateTime<Utc>>,
    /// The same in English words (the web form words it in the reader's
    /// language from the fields above).
    pub text: String,
}

impl Estimate {
    /// The bot's answer from the queue figures.
    pub fn for_bot(figures: &QueueFigures) -> Self {
        let typical = figures.recent_wait_secs.unwrap_or(DEFAULT_WAIT_SECS);
        let per_ticket = if figures.recent_replies > 0 {
            THROUGHPUT_WINDOW_SECS / figures.recent_replies as f64
        } else {
            SECS_PER_TICKET_WITHOUT_HISTORY
        };
        let secs = typical.max(figures.backlog as f64 * per_ticket);
        if !secs.is_finite() || secs > MAX_ESTIMATE_SECS {
            return Self::unknown();
        }
        let secs = secs.ceil().max(1.0) as u64;
        Self {
            kind: "bot",
            within_secs: Some(secs),
            by: None,
            text: format!("Usually within {}", words(secs)),
        }
    }

    /// A person's answer, promised by `by`.
    pub fn for_team(by: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let secs = (by - now).num_seconds().max(0) as u64;
        Self {
            kind: "team",
            within_secs: Some(secs),
            by: Some(by),
            text: format!("A member of our team will reply within {}", words(secs)),
        }
    }

    /// Nothing precise can be said.
    pub fn unknown() -> Self {
        Self {
            kind: "unknown",
            within_secs: None,
            by: None,
            text: "We will reply as soon as we can".to_owned(),
        }
    }
}

/// "a minute", "about 4 minutes", "about 2 hours".
fn words(secs: u64) -> String {
    let minutes = secs.div_ceil(60);
    match minutes {
        0 | 1 => "a minute".to_owned(),
        2..=90 => format!("about {minutes} minutes"),
        _ => format!("about {} hours", minutes.div_ceil(60)),
    }
}

/// The queue figures, read at most once per [`FIGURES_TTL`].
#[derive(Default)]
pub struct Estimator {
    cached: Mutex<Option<(Instant, QueueFigures)>>,
}

impl Estimator {
    /// The bot's current estimate; `unknown` when the figures cannot be
    /// read (an estimate never fails a request).
    pub async fn bot(&self, pool: &PgPool) -> Estimate {
        match self.figures(pool).await {
            Some(figures) => Estimate::for_bot(&figures),
            None => Estimate::unknown(),
        }
    }

    async fn figures(&self, pool: &PgPool) -> Option<QueueFigures> {
        if let Some((at, figures)) = *self.cached.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < FIGURES_TTL
        {
            return Some(figures);
        }
        match web_threads::queue_figures(pool).await {
            Ok(figures) => {
                *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), figures));
                Some(figures)
            }
            Err(error) => {
                tracing::warn!(%error, "queue figures for the response estimate not read");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(backlog: i64, recent_replies: i64, wait: Option<f64>) -> QueueFigures {
        QueueFigures {
            backlog,
            recent_replies,
            recent_wait_secs: wait,
        }
    }

    #[test]
    fn a_quiet_queue_promises_the_recent_typical_wait() {
        let estimate = Estimate::for_bot(&figures(1, 30, Some(4.2)));
        assert_eq!(estimate.kind, "bot");
        assert_eq!(
            estimate.within_secs,
            Some(20),
            "one ticket ahead at 30 replies per 10 minutes takes 20 s"
        );
        assert_eq!(estimate.text, "Usually within a minute");
        let idle = Estimate::for_bot(&figures(0, 0, None));
        assert_eq!(idle.within_secs, Some(30), "no history: the default wait");
    }

    #[test]
    fn a_backlog_grows_the_estimate_with_the_recent_throughput() {
        // 240 queued, 60 answers in the last ten minutes: 40 minutes.
        let estimate = Estimate::for_bot(&figures(240, 60, Some(20.0)));
        assert_eq!(estimate.within_secs, Some(2400));
        assert_eq!(estimate.text, "Usually within about 40 minutes");
        let stuck = Estimate::for_bot(&figures(100_000, 1, None));
        assert_eq!(stuck.kind, "unknown", "beyond a day: {stuck:?}");
    }

    #[test]
    fn an_escalated_ticket_promises_the_team_s_time() {
        let now = Utc::now();
        let estimate = Estimate::for_team(now + chrono::Duration::hours(4), now);
        assert_eq!(estimate.kind, "team");
        assert_eq!(estimate.within_secs, Some(4 * 3600));
        assert_eq!(
            estimate.text,
            "A member of our team will reply within about 4 hours"
        );
    }
}
