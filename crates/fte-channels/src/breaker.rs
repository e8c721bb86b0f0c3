//! A per-channel circuit breaker, and the channel state it reports.
//!
//! Closed: calls pass; `threshold` consecutive provider failures open it.
//! Open: calls fail fast with [`SendError::CircuitOpen`] until the cool-down
//! has passed. Half-open: one probe passes; its success closes the breaker,
//! its failure opens it again for another cool-down.
//!
//! Kept ours after comparing `failsafe` 1.3 (checked 2026-12), the
//! maintained standalone breaker: its half-open state lets every call
//! through (`is_call_permitted` is `true` for `HalfOpen`), so a recovering
//! provider would get the whole backlog at once instead of one probe
//! (`tests/circuit_breaker.rs` checks that a second concurrent probe is
//! refused), and it reads `std::time::Instant`, not tokio's clock, so the
//! cool-down could not be driven by the tests' paused time. The tower
//! breakers wrap a `Service`; our senders are not services.

use std::sync::Mutex;
use std::time::Duration;

use fte_domain::Channel;
use tokio::time::Instant;

use crate::SendError;

/// What operators see for a channel (`fte_channel_state`: 0, 1, 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    /// Not configured (no credentials) or switched off.
    Disabled,
    /// Working normally.
    Active,
    /// The provider is failing; replies wait in the outbox.
    Degraded,
}

impl ChannelState {
    /// The gauge value of `fte_channel_state`.
    pub fn gauge_value(self) -> i64 {
        match self {
            ChannelState::Disabled => 0,
            ChannelState::Active => 1,
            ChannelState::Degraded => 2,
        }
    }

    /// Lower-case name for health reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Disabled => "disabled",
            ChannelState::Active => "active",
            ChannelState::Degraded => "degraded",
        }
    }

    /// Publishes `state` for `channel` on `fte_channel_state`.
    pub fn publish(self, channel: Channel) {
        fte_runtime::metrics::global()
            .channel_state
            .with_label_values(&[channel.as_str()])
            .set(self.gauge_value());
    }
}

/// The breaker's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe call may pass.
    HalfOpen,
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// A circuit breaker for one channel's provider.
#[derive(Debug)]
pub struct CircuitBreaker {
    channel: Channel,
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker that opens after `threshold` (at least 1) consecutive
    /// failures and probes again after `cooldown`. Publishes `active`.
    pub fn new(channel: Channel, threshold: u32, cooldown: Duration) -> Self {
        let breaker = Self {
            channel,
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        };
        ChannelState::Active.publish(channel);
        breaker
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the state invalid.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The breaker's position now (an elapsed cool-down reads as half-open).
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// The channel state this breaker implies.
    pub fn channel_state(&self) -> ChannelState {
        match self.state() {
            BreakerState::Closed => ChannelState::Active,
            _ => ChannelState::Degraded,
        }
    }

    /// Asks to make a call. Fails with [`SendError::CircuitOpen`] while open,
    /// or while a half-open probe is already in flight.
    pub fn acquire(&self) -> Result<(), SendError> {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *inner = Inner::HalfOpen { probing: true };
                    Ok(())
                } else {
                    Err(SendError::CircuitOpen {
                        retry_after: until - now,
                    })
                }
            }
            Inner::HalfOpen { probing: false } => {
                *inner = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::HalfOpen { probing: true } => Err(SendError::CircuitOpen {
                retry_after: self.cooldown,
            }),
        }
    }

    /// Records a call that reached a healthy provider (including refusals
    /// such as a 400: the provider answered).
    pub fn record_success(&self) {
        let mut inner = self.lock();
        let was_closed = matches!(*inner, Inner::Closed { .. });
        *inner = Inner::Closed { failures: 0 };
        drop(inner);
        if !was_closed {
            tracing::info!(channel = %self.channel, "circuit closed: channel active again");
            ChannelState::Active.publish(self.channel);
        }
    }

    /// Records a provider failure (transient or unknown outcome).
    pub fn record_failure(&self) {
        let mut inner = self.lock();
        let open = match *inner {
            Inner::Closed { failures } => failures + 1 >= self.threshold,
            Inner::HalfOpen { .. } => true,
            Inner::Open { .. } => false,
        };
        if open {
            *inner = Inner::Open {
                until: Instant::now() + self.cooldown,
            };
            drop(inner);
            tracing::warn!(
                channel = %self.channel,
                cooldown_ms = self.cooldown.as_millis() as u64,
                "circuit opened: channel degraded"
            );
            ChannelState::Degraded.publish(self.channel);
        } else if let Inner::Closed { failures } = &mut *inner {
            *failures += 1;
        }
    }

    /// Records the outcome of a call made after [`acquire`](Self::acquire).
    pub fn record<T>(&self, result: &Result<T, SendError>) {
        match result {
            Err(e) if e.is_provider_failure() => self.record_failure(),
            Err(SendError::CircuitOpen { .. }) => {}
            _ => self.record_success(),
        }
    }
}
