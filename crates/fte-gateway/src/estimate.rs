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
//! a burst of submissions costs one read: when they are due again, one
//! request reads them while the others answer with the previous figures
//! (before, every request in flight at that moment ran the query at once).

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

/// The queue figures, read at most once per [`FIGURES_TTL`], by one request
/// at a time.
pub struct Estimator {
    ttl: Duration,
    cached: Mutex<Option<(Instant, QueueFigures)>>,
    reading: tokio::sync::Mutex<()>,
}

impl Default for Estimator {
    fn default() -> Self {
        Self::with_ttl(FIGURES_TTL)
    }
}

impl Estimator {
    /// Figures reused for `ttl`.
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            cached: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The bot's current estimate; `unknown` when the figures cannot be
    /// read (an estimate never fails a request).
    pub async fn bot(&self, pool: &PgPool) -> Estimate {
        match self.figures(|| web_threads::queue_figures(pool)).await {
            Some(figures) => Estimate::for_bot(&figures),
            None => Estimate::unknown(),
        }
    }

    fn cached(&self) -> Option<(Instant, QueueFigures)> {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self) -> Option<QueueFigures> {
        self.cached()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, figures)| figures)
    }

    /// The cached figures while fresh; else one caller runs `read` while
    /// the others take the previous figures (or, before the first read,
    /// wait for it). A failed read keeps the previous figures.
    async fn figures<F, Fut>(&self, read: F) -> Option<QueueFigures>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<QueueFigures, fte_store::StoreError>>,
    {
        if let Some(figures) = self.fresh() {
            return Some(figures);
        }
        let previous = self.cached();
        let _reading = match (self.reading.try_lock(), previous) {
            (Ok(guard), _) => guard,
            (Err(_), Some((_, figures))) => return Some(figures),
            (Err(_), None) => self.reading.lock().await,
        };
        // Read by another caller while this one waited.
        if let Some((at, figures)) = self.cached()
            && previous.is_none_or(|(seen, _)| at > seen)
        {
            return Some(figures);
        }
        match read().await {
            Ok(figures) => {
                *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), figures));
                Some(figures)
            }
            Err(error) => {
                tracing::warn!(%error, "queue figures for the response estimate not read");
                previous.map(|(_, figures)| figures)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A read of the figures that takes a while and counts itself.
    async fn slow_read(
        reads: &AtomicUsize,
        backlog: i64,
    ) -> Result<QueueFigures, fte_store::StoreError> {
        reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(figures(backlog, 0, None))
    }

    /// Twenty callers at once, each with a read that would find `backlog`.
    async fn burst(
        estimator: &Estimator,
        reads: &AtomicUsize,
        backlog: i64,
    ) -> Vec<Option<QueueFigures>> {
        futures::future::join_all((0..20).map(|_| estimator.figures(|| slow_read(reads, backlog))))
            .await
    }

    #[tokio::test]
    async fn callers_that_find_the_figures_due_share_one_read() {
        let estimator = Estimator::with_ttl(Duration::ZERO);
        let reads = AtomicUsize::new(0);
        let first = burst(&estimator, &reads, 1).await;
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "the first callers wait for one read"
        );
        assert!(first.iter().all(|f| f.map(|f| f.backlog) == Some(1)));

        // Due again (ttl zero): one caller reads, the others answer at once
        // with the previous figures.
        let again = burst(&estimator, &reads, 2).await;
        assert_eq!(
            reads.load(Ordering::SeqCst),
            2,
            "one read for the whole burst"
        );
        let backlogs: Vec<i64> = again.iter().map(|f| f.unwrap().backlog).collect();
        assert_eq!(
            backlogs.iter().filter(|b| **b == 2).count(),
            1,
            "{backlogs:?}"
        );
        assert_eq!(
            backlogs.iter().filter(|b| **b == 1).count(),
            19,
            "{backlogs:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_read_keeps_the_previous_figures() {
        let estimator = Estimator::with_ttl(Duration::ZERO);
        let reads = AtomicUsize::new(0);
        assert!(estimator.figures(|| slow_read(&reads, 7)).await.is_some());
        let after_failure = estimator
            .figures(|| async { Err(fte_store::StoreError::Database(sqlx::Error::PoolTimedOut)) })
            .await;
        assert_eq!(after_failure.map(|f| f.backlog), Some(7));
    }

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
