//! A small in-memory token bucket per client IP, for the web form, the
//! webhooks, the public ticket status page and the staff API (where wrong
//! keys count too, so a burst of guesses is cut off). Each gateway replica
//! limits on its own, which is enough to stop one client from flooding an
//! endpoint; it is not a global quota.
//!
//! The client is the TCP peer, or — only when `TRUST_PROXY=true` — the last
//! `X-Forwarded-For` entry, which our own proxy appended (earlier entries are
//! whatever the client claimed and are ignored).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

/// Buckets kept before idle, full ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// `capacity` requests per `period` per client, refilled continuously.
pub struct RateLimiter {
    capacity: f64,
    refill_per_sec: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// A limiter allowing `capacity` requests per `period` (at least one).
    pub fn new(capacity: u32, period: Duration) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            capacity,
            refill_per_sec: capacity / period.as_secs_f64().max(0.001),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`, or says how long until one is available.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS {
            let (capacity, rate) = (self.capacity, self.refill_per_sec);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.refill_per_sec).min(self.capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.refill_per_sec;
            Err(Duration::from_secs_f64(wait))
        }
    }
}

/// The client address of `request` (see the module docs).
pub fn client_ip(request: &Request, trust_proxy: bool) -> IpAddr {
    client_ip_of(request.headers(), request.extensions(), trust_proxy)
}

/// [`client_ip`] from a request's parts.
pub fn client_ip_of(headers: &HeaderMap, extensions: &Extensions, trust_proxy: bool) -> IpAddr {
    if trust_proxy
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return ip;
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client's address as an extractor (for handlers that pass it on,
/// such as the challenge verification).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip_of(
            &parts.headers,
            &parts.extensions,
            state.api.trust_proxy,
        )))
    }
}

/// Takes one of `limiter`'s tokens for the client of `request`, or answers
/// 429 with the wait (the staff limiter of the MCP endpoint uses it too).
pub fn enforce(
    limiter: &RateLimiter,
    request: &Request,
    trust_proxy: bool,
) -> Result<(), ApiError> {
    limiter
        .check(client_ip(request, trust_proxy))
        .map_err(|wait| {
            tracing::info!(
                route = request.uri().path(),
                "rate limit reached for a client"
            );
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
}

/// Middleware limiting `POST /support/submit`.
pub async fn limit_submit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match enforce(&state.limiters.submit, &request, state.api.trust_proxy) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Middleware limiting the staff API (before authentication).
pub async fn limit_staff(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match enforce(&state.limiters.staff, &request, state.api.trust_proxy) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Middleware limiting the public ticket status page.
pub async fn limit_status(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match enforce(&state.limiters.status, &request, state.api.trust_proxy) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Middleware limiting the webhooks.
pub async fn limit_webhooks(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match enforce(&state.limiters.webhooks, &request, state.api.trust_proxy) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_how_long_to_wait() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(limiter.check(ip).is_ok());
        assert!(limiter.check(ip).is_ok());
        let wait = limiter.check(ip).unwrap_err();
        assert!(
            wait > Duration::from_secs(20) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        assert!(
            limiter.check(other).is_ok(),
            "clients have their own buckets"
        );
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let request = Request::builder()
            .header("x-forwarded-for", "198.51.100.1, 192.0.2.9")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(
            client_ip(&request, true),
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(&request, false),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
