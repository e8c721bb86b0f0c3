//! What every provider client shares: an HTTP client with a timeout on every
//! call, the classification of failures into [`SendError`], and bounded
//! retries with exponential backoff and jitter for idempotent calls only
//! (`backon`, with a provider's `Retry-After` taking the backoff's place).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::SendError;

/// Retry policy for idempotent calls (GETs, token requests).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled each time.
    pub base_delay: Duration,
    /// Upper bound of any single backoff (and of honoured `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The waits between attempts: before attempt `n + 1` a wait between
    /// half and all of `base_delay · 2^(n-1)` capped at `max_delay` ("equal
    /// jitter", so many workers do not retry in lockstep). backon adds a
    /// random share of up to 100 % to each delay, so it is given the halves.
    pub fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.base_delay / 2)
            .with_max_delay(self.max_delay / 2)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
    }
}

/// An HTTP client whose every request times out after `timeout`.
///
/// # Panics
/// When the TLS backend cannot be initialised (a broken build, not a
/// runtime condition).
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("fte-channels/", env!("CARGO_PKG_VERSION")))
        .build()
        // Fails only when the TLS backend cannot start: nothing could be sent.
        .expect("the HTTP client (rustls) could not be initialised")
}

/// Whether a request may be sent twice without harm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads and token requests: a timeout is just a transient failure.
    Idempotent,
    /// Sends: a timeout after the request left may mean it was accepted.
    NotIdempotent,
}

/// Classifies a transport error (no HTTP status received).
pub fn classify_transport(err: &reqwest::Error, idempotency: Idempotency) -> SendError {
    let reason = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "connection lost"
    };
    // A failed connect means the request never left: always safe to retry.
    if err.is_connect() || idempotency == Idempotency::Idempotent {
        SendError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    } else {
        SendError::Unknown {
            reason: reason.into(),
        }
    }
}

/// Classifies a non-success status: 429 and 5xx are transient, other 4xx
/// permanent. `code` is the provider's own error code when it gave one.
pub fn classify_status(
    status: StatusCode,
    retry_after: Option<Duration>,
    code: Option<&str>,
) -> SendError {
    let reason = match code {
        Some(code) => format!("HTTP {} (provider code {code})", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
    {
        SendError::Transient {
            reason,
            retry_after,
        }
    } else {
        SendError::Permanent { reason }
    }
}

/// The `Retry-After` header in seconds, if present.
pub fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Sends an idempotent request built by `build`, retrying transient failures
/// (429, 5xx, connection errors, timeouts) with backoff. Returns the first
/// response that is not transient (success or not), or the last failure.
pub async fn send_idempotent(
    policy: RetryPolicy,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, SendError> {
    let attempt = || async {
        match build().send().await {
            Ok(response) => {
                let status = response.status();
                if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                    return Ok(response);
                }
                Err(Failed {
                    error: classify_status(status, self::retry_after(&response), None),
                    response: Some(response),
                })
            }
            Err(err) => Err(Failed {
                error: classify_transport(&err, Idempotency::Idempotent),
                response: None,
            }),
        }
    };
    attempt
        .retry(policy.backoff())
        .sleep(tokio::time::sleep)
        // The provider's Retry-After replaces the backoff, never a stop.
        .adjust(|failed: &Failed, backoff| {
            backoff.map(|wait| {
                failed
                    .error
                    .retry_after()
                    .map_or(wait, |asked| asked.min(policy.max_delay))
            })
        })
        .notify(|_, wait| {
            tracing::debug!(wait_ms = wait.as_millis() as u64, "retrying provider call");
        })
        .await
        // Hand back the provider's last answer so the caller can read it.
        .or_else(|failed| failed.response.ok_or(failed.error))
}

/// One failed attempt: what it means, and the provider's answer if any.
struct Failed {
    error: SendError,
    response: Option<Response>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
        };
        use backon::BackoffBuilder;
        let waits: Vec<Duration> = policy.backoff().build().collect();
        assert_eq!(waits.len(), 9, "one wait between each two of 10 attempts");
        for (attempt, wait) in (1u32..).zip(waits) {
            let full = Duration::from_millis(100 * (1 << (attempt - 1)).min(8));
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
        }
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert_eq!(once.backoff().build().count(), 0, "one attempt, no retry");
    }

    #[test]
    fn statuses_are_classified_by_what_the_caller_must_do() {
        let transient = [429u16, 500, 502, 503];
        for s in transient {
            let e = classify_status(StatusCode::from_u16(s).unwrap(), None, None);
            assert!(e.is_retryable(), "{s} should be transient");
        }
        for s in [400u16, 401, 403, 404, 422] {
            let e = classify_status(StatusCode::from_u16(s).unwrap(), None, Some("21211"));
            assert!(
                matches!(e, SendError::Permanent { .. }),
                "{s} should be permanent"
            );
        }
    }
}
