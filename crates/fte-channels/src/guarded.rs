//! [`GuardedSender`]: any [`ReplySender`] behind its channel's circuit
//! breaker, with the delivery metrics and one log line per send.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fte_domain::Channel;
use tokio::time::Instant;

use crate::{ChannelState, CircuitBreaker, OutboundReply, ReplySender, SendError, SendReceipt};

/// Wraps a sender with a circuit breaker. Records
/// `fte_replies_sent_total{channel,outcome}` and
/// `fte_reply_delivery_seconds{channel}` and keeps `fte_channel_state` current.
pub struct GuardedSender {
    inner: Arc<dyn ReplySender>,
    breaker: Arc<CircuitBreaker>,
}

impl GuardedSender {
    /// Guards `inner` with a breaker of `threshold` failures and `cooldown`.
    pub fn new(inner: Arc<dyn ReplySender>, threshold: u32, cooldown: Duration) -> Self {
        let breaker = Arc::new(CircuitBreaker::new(inner.channel(), threshold, cooldown));
        Self { inner, breaker }
    }

    /// The breaker, for health reports and tests.
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }

    /// The channel's state now: active or degraded.
    pub fn state(&self) -> ChannelState {
        self.breaker.channel_state()
    }

    fn observe<T>(&self, op: &'static str, started: Instant, result: &Result<T, SendError>) {
        let channel = self.inner.channel().as_str();
        let duration_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(_) => tracing::info!(channel, op, duration_ms, "reply delivered"),
            Err(e) => tracing::warn!(
                channel,
                op,
                duration_ms,
                outcome = e.outcome(),
                error = %e,
                "reply not delivered"
            ),
        }
    }
}

#[async_trait]
impl ReplySender for GuardedSender {
    fn channel(&self) -> Channel {
        self.inner.channel()
    }

    fn records_only(&self) -> bool {
        self.inner.records_only()
    }

    fn sends_email(&self) -> bool {
        self.inner.sends_email()
    }

    async fn send(&self, reply: &OutboundReply) -> Result<SendReceipt, SendError> {
        let metrics = fte_runtime::metrics::global();
        let channel = self.inner.channel().as_str();
        if let Err(e) = self.breaker.acquire() {
            metrics
                .replies_sent
                .with_label_values(&[channel, e.outcome()])
                .inc();
            return Err(e);
        }
        let started = Instant::now();
        let result = self.inner.send(reply).await;
        self.breaker.record(&result);
        self.observe("send", started, &result);
        let outcome = match &result {
            Ok(receipt) if receipt.used_template => "sent_template",
            Ok(_) => "sent",
            Err(e) => e.outcome(),
        };
        metrics
            .replies_sent
            .with_label_values(&[channel, outcome])
            .inc();
        if result.is_ok() {
            metrics
                .reply_delivery
                .with_label_values(&[channel])
                .observe(started.elapsed().as_secs_f64());
        }
        result
    }

    async fn reconcile(&self, reply: &OutboundReply) -> Result<Option<SendReceipt>, SendError> {
        self.breaker.acquire()?;
        let started = Instant::now();
        let result = self.inner.reconcile(reply).await;
        self.breaker.record(&result);
        self.observe("reconcile", started, &result);
        result
    }
}
