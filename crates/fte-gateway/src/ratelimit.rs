//! A token bucket per client IP, for the web form, the webhooks, the public
//! ticket status page and the staff API (where wrong keys count too, so a
//! burst of guesses is cut off). Each gateway replica limits on its own,
//! which is enough to stop one client from flooding an endpoint; it is not a
//! global quota.
//!
//! The buckets are `governor`'s keyed GCRA limiter. What is ours is bounding
//! its memory: an IPv6 client is keyed by its /64 (one host's usual
//! allocation, so rotating addresses inside it buys no fresh bucket); once
//! more than [`SWEEP_ABOVE_CLIENTS`] are tracked, idle buckets (full again)
//! are swept, at most once per [`SWEEP_INTERVAL`] rather than on every
//! request; and if more than [`MAX_TRACKED_CLIENTS`] are still busy after a
//! sweep, every bucket starts afresh — a brief reset rather than unbounded
//! growth.
//!
//! The client is the TCP peer, or — only when `TRUST_PROXY=true` — the last
//! `X-Forwarded-For` entry, which our own proxy appended (earlier entries are
//! whatever the client claimed and are ignored).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::{ApiError, AppState};

/// Tracked clients above which idle buckets are swept.
pub const SWEEP_ABOVE_CLIENTS: usize = 10_000;
/// Busy clients above which every bucket starts afresh.
pub const MAX_TRACKED_CLIENTS: usize = 100_000;
/// The shortest time between two sweeps while below [`MAX_TRACKED_CLIENTS`].
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// `capacity` requests per `period` per client, refilled continuously.
pub struct RateLimiter {
    quota: Quota,
    buckets: RwLock<DefaultKeyedRateLimiter<IpAddr>>,
    last_sweep: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter allowing `capacity` requests per `period` (at least one).
    pub fn new(capacity: u32, period: Duration) -> Self {
        let burst = NonZeroU32::new(capacity.max(1)).unwrap_or(NonZeroU32::MIN);
        let one_every = (period / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(one_every)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        Self {
            quota,
            buckets: RwLock::new(DefaultKeyedRateLimiter::keyed(quota)),
            last_sweep: Mutex::new(None),
        }
    }

    /// Takes one token for `client`, or says how long until one is available.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let key = bucket_key(client);
        let (outcome, tracked) = {
            let buckets = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
            let outcome = buckets
                .check_key(&key)
                .map_err(|not_until| not_until.wait_time_from(buckets.clock().now()));
            (outcome, buckets.len())
        };
        if tracked > SWEEP_ABOVE_CLIENTS {
            self.sweep(tracked > MAX_TRACKED_CLIENTS);
        }
        outcome
    }

    /// How many clients have a bucket now.
    pub fn tracked_clients(&self) -> usize {
        self.buckets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Drops idle buckets, at most once per [`SWEEP_INTERVAL`] unless the
    /// map is `over_bound`; then, if more than half the bound is still
    /// busy, every bucket starts afresh, so the next forced sweep is at
    /// least half the bound of new clients away. One caller sweeps at a
    /// time, the others go on.
    fn sweep(&self, over_bound: bool) {
        let Ok(mut last) = self.last_sweep.try_lock() else {
            return;
        };
        if !over_bound && last.is_some_and(|at| at.elapsed() < SWEEP_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        let busy = {
            let buckets = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
            buckets.retain_recent();
            buckets.shrink_to_fit();
            buckets.len()
        };
        if over_bound && busy > MAX_TRACKED_CLIENTS / 2 {
            tracing::warn!(
                busy,
                "rate limiter over its client bound; every bucket starts afresh"
            );
            *self.buckets.write().unwrap_or_else(PoisonError::into_inner) =
                DefaultKeyedRateLimiter::keyed(self.quota);
        }
    }
}

/// The bucket a client address counts against: IPv4 as is, IPv6 by its /64
/// (an IPv4-mapped IPv6 address as the IPv4 address).
fn bucket_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
        },
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
    fn an_ipv6_host_gets_one_bucket_for_its_whole_64() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:fffe".parse().unwrap();
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.check(first).is_ok());
        assert!(
            limiter.check(same_64).is_err(),
            "a rotated address shares the bucket"
        );
        assert!(limiter.check(next_64).is_ok(), "another /64 has its own");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(limiter.check(mapped).is_ok());
        assert!(limiter.check(v4).is_err(), "IPv4-mapped is the IPv4 client");
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        // Every client spends its only token, so none is idle: the sweep
        // cannot drop any, and past the bound the buckets start afresh.
        let limiter = RateLimiter::new(1, Duration::from_secs(3600));
        let client = |i: u32| IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i));
        for i in 0..=MAX_TRACKED_CLIENTS as u32 + 1 {
            let _ = limiter.check(client(i));
        }
        assert!(
            limiter.tracked_clients() <= MAX_TRACKED_CLIENTS,
            "{} clients tracked",
            limiter.tracked_clients()
        );
        // Idle clients (a full bucket again) are swept as soon as the count
        // is over the sweep threshold: here every bucket refills within a
        // microsecond.
        let idle = RateLimiter::new(1_000, Duration::from_millis(1));
        for i in 0..SWEEP_ABOVE_CLIENTS as u32 + 2 {
            let _ = idle.check(client(i));
        }
        assert!(
            idle.tracked_clients() < SWEEP_ABOVE_CLIENTS,
            "{}",
            idle.tracked_clients()
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
