//! The bounded retry every consumer of the worker uses: an attempt that
//! fails transiently is tried again after an exponential backoff (doubling
//! from the base up to the longest delay) until it succeeds, fails
//! permanently, or its budget — a number of attempts and a total time,
//! whichever ends first — is spent. Nothing is retried forever, so one
//! message can never hold its partition for longer than the budget.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// How long and how often to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first delay; it doubles per attempt.
    pub base: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Attempts in all, the first included (`WORKER_RETRY_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The longest time from the first attempt to the last
    /// (`WORKER_RETRY_MAX_SECS`).
    pub max_elapsed: Duration,
}

/// How a retried piece of work ended.
#[derive(Debug)]
pub(crate) enum Retried<T, E> {
    /// It succeeded.
    Done(T),
    /// It failed permanently (no retry can help).
    Permanent(E),
    /// It kept failing transiently until the budget was spent.
    Exhausted {
        /// The last failure.
        last: E,
        /// Attempts made.
        attempts: u32,
        /// Time from the first attempt to the last failure.
        elapsed: Duration,
    },
    /// Shutdown came while it waited to retry.
    Stopped,
}

/// How retried work ended, for a caller that dead-letters failures.
#[derive(Debug)]
pub(crate) enum Ended<T, E> {
    /// It succeeded.
    Done(T),
    /// Shutdown came while it waited to retry.
    Stopped,
    /// It failed for good: the last error, and a readable reason that says
    /// how many attempts were made when the budget ran out.
    Failed(E, String),
}

impl<T, E> Retried<T, E> {
    /// The outcome with the failure's readable reason: `reason` of the
    /// error, prefixed by the attempts when the budget ran out.
    pub(crate) fn ended(self, reason: impl Fn(&E) -> String) -> Ended<T, E> {
        match self {
            Retried::Done(done) => Ended::Done(done),
            Retried::Stopped => Ended::Stopped,
            Retried::Permanent(error) => {
                let reason = reason(&error);
                Ended::Failed(error, reason)
            }
            Retried::Exhausted {
                last,
                attempts,
                elapsed,
            } => {
                let reason = format!(
                    "still failing after {attempts} attempts in {} s: {}",
                    elapsed.as_secs(),
                    reason(&last)
                );
                Ended::Failed(last, reason)
            }
        }
    }
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails permanently (`is_transient`
    /// says no), the budget is spent, or `shutdown` comes while waiting.
    /// `on_retry(error, attempt, delay)` runs before each wait (logging).
    pub(crate) async fn run<T, E, Fut>(
        &self,
        shutdown: &CancellationToken,
        mut attempt: impl FnMut() -> Fut,
        is_transient: impl Fn(&E) -> bool,
        mut on_retry: impl FnMut(&E, u32, Duration),
    ) -> Retried<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let mut delay = self.base;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match attempt().await {
                Ok(done) => return Retried::Done(done),
                Err(error) if !is_transient(&error) => return Retried::Permanent(error),
                Err(error) => error,
            };
            let elapsed = started.elapsed();
            if attempts >= self.max_attempts.max(1) || elapsed + delay > self.max_elapsed {
                return Retried::Exhausted {
                    last: error,
                    attempts,
                    elapsed,
                };
            }
            on_retry(&error, attempts, delay);
            tokio::select! {
                () = shutdown.cancelled() => return Retried::Stopped,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(self.max_delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn policy(max_attempts: u32, max_elapsed: Duration) -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            max_attempts,
            max_elapsed,
        }
    }

    #[tokio::test]
    async fn transient_failures_stop_after_the_attempt_budget() {
        let calls = AtomicU32::new(0);
        let result: Retried<(), &str> = policy(4, Duration::from_secs(60))
            .run(
                &CancellationToken::new(),
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err("down")
                },
                |_| true,
                |_, _, _| {},
            )
            .await;
        assert!(matches!(result, Retried::Exhausted { attempts: 4, .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn transient_failures_stop_after_the_time_budget() {
        let result: Retried<(), &str> = policy(1000, Duration::from_millis(100))
            .run(
                &CancellationToken::new(),
                || async { Err("down") },
                |_| true,
                |_, _, _| {},
            )
            .await;
        match result {
            Retried::Exhausted { attempts, .. } => {
                assert!(
                    attempts < 1000,
                    "the time budget ended it: {attempts} attempts"
                );
            }
            other => panic!("expected the time budget to end it, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_retried_and_a_success_ends_it() {
        let calls = AtomicU32::new(0);
        let result: Retried<(), &str> = policy(5, Duration::from_secs(60))
            .run(
                &CancellationToken::new(),
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err("refused")
                },
                |_| false,
                |_, _, _| {},
            )
            .await;
        assert!(matches!(result, Retried::Permanent("refused")));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = AtomicU32::new(0);
        let result: Retried<u32, &str> = policy(5, Duration::from_secs(60))
            .run(
                &CancellationToken::new(),
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => Err("down"),
                        n => Ok(n),
                    }
                },
                |_| true,
                |_, _, _| {},
            )
            .await;
        assert!(matches!(result, Retried::Done(2)));
    }
}
