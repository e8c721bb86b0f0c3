//! What every provider client shares: an HTTP client with a timeout on every
//! call, the classification of failures into [`SendError`], and bounded
//! retries with exponential backoff and jitter for idempotent calls only.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

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
    /// The wait before attempt `attempt + 1` (attempt counts from 1):
    /// exponential, capped, with "equal jitter" (half fixed, half random) so
    /// many workers do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let jitter_ms = random_below(half.as_millis() as u64 + 1);
        half + Duration::from_millis(jitter_ms)
    }
}

/// A random number below `bound` from the standard library's per-process
/// random keys; good enough for jitter, not for secrets.
fn random_below(bound: u64) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish() % bound.max(1)
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
    let mut attempt = 1;
    loop {
        let (error, response) = match build().send().await {
            Ok(response) => {
                let status = response.status();
                if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                    return Ok(response);
                }
                let error = classify_status(status, self::retry_after(&response), None);
                (error, Some(response))
            }
            Err(err) => (classify_transport(&err, Idempotency::Idempotent), None),
        };
        if attempt >= policy.max_attempts {
            // Hand back the provider's last answer so the caller can read it.
            return response.ok_or(error);
        }
        let wait = error
            .retry_after()
            .map(|d| d.min(policy.max_delay))
            .unwrap_or_else(|| policy.backoff(attempt));
        tracing::debug!(
            attempt,
            wait_ms = wait.as_millis() as u64,
            "retrying provider call"
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
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
        for attempt in 1..10 {
            let wait = policy.backoff(attempt);
            let full = Duration::from_millis(100 * (1 << (attempt - 1)).min(8));
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
        }
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
