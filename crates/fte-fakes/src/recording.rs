//! [`RecordingSender`]: an in-memory [`ReplySender`] for tests and the local
//! run. It keeps every reply, can be told to fail, and answers `reconcile`
//! from what it kept, so worker code paths behave as with a real provider.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;
use fte_channels::twilio::TwilioSender;
use fte_channels::{OutboundReply, ReplySender, SendError, SendReceipt};
use fte_domain::Channel;

#[derive(Default)]
struct Recorded {
    sent: Vec<(OutboundReply, SendReceipt)>,
    failures: VecDeque<SendError>,
    /// Failures that still record the reply (an unknown outcome that did
    /// reach the "provider").
    accepted_then_failed: VecDeque<SendError>,
    counter: u64,
}

/// Records replies instead of sending them.
pub struct RecordingSender {
    channel: Channel,
    emails: bool,
    state: Mutex<Recorded>,
}

/// A guarded recording sender for every channel (breaker after 5 failures,
/// 30 s cool-down): what a worker gets in place of real providers in tests
/// and benchmarks.
pub fn guarded_recorders() -> Vec<std::sync::Arc<fte_channels::GuardedSender>> {
    Channel::ALL
        .iter()
        .map(|channel| {
            let sender: std::sync::Arc<dyn fte_channels::ReplySender> =
                std::sync::Arc::new(RecordingSender::new(*channel));
            std::sync::Arc::new(fte_channels::GuardedSender::new(
                sender,
                5,
                std::time::Duration::from_secs(30),
            ))
        })
        .collect()
}

impl RecordingSender {
    /// A recorder for `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            channel,
            emails: channel == Channel::Email,
            state: Mutex::new(Recorded::default()),
        }
    }

    /// The same recorder, standing for a sender that emails its replies (a
    /// web form sender notifying by email).
    pub fn emailing(mut self) -> Self {
        self.emails = true;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every reply delivered so far, oldest first.
    pub fn sent(&self) -> Vec<OutboundReply> {
        self.lock().sent.iter().map(|(r, _)| r.clone()).collect()
    }

    /// Every reply with the receipt it got.
    pub fn receipts(&self) -> Vec<(OutboundReply, SendReceipt)> {
        self.lock().sent.clone()
    }

    /// The next send fails with `error` and records nothing.
    pub fn fail_next(&self, error: SendError) {
        self.lock().failures.push_back(error);
    }

    /// The next send records the reply, then fails with `error` (use
    /// [`SendError::Unknown`] to exercise reconciliation).
    pub fn accept_then_fail(&self, error: SendError) {
        self.lock().accepted_then_failed.push_back(error);
    }
}

#[async_trait]
impl ReplySender for RecordingSender {
    fn channel(&self) -> Channel {
        self.channel
    }

    fn records_only(&self) -> bool {
        true
    }

    fn sends_email(&self) -> bool {
        self.emails
    }

    async fn send(&self, reply: &OutboundReply) -> Result<SendReceipt, SendError> {
        let mut state = self.lock();
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        if reply.parts.is_empty() {
            return Err(SendError::Permanent {
                reason: "reply has no parts".into(),
            });
        }
        let used_template = self.channel == Channel::Whatsapp
            && TwilioSender::needs_template(reply.last_inbound_at, Utc::now());
        let count = if used_template { 1 } else { reply.parts.len() };
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            state.counter += 1;
            ids.push(format!("rec-{}-{}", self.channel.as_str(), state.counter));
        }
        let receipt = SendReceipt {
            provider_message_ids: ids,
            used_template,
        };
        state.sent.push((reply.clone(), receipt.clone()));
        match state.accepted_then_failed.pop_front() {
            Some(error) => Err(error),
            None => Ok(receipt),
        }
    }

    async fn reconcile(&self, reply: &OutboundReply) -> Result<Option<SendReceipt>, SendError> {
        Ok(self
            .lock()
            .sent
            .iter()
            .find(|(r, _)| r.idempotency_key == reply.idempotency_key)
            .map(|(_, receipt)| receipt.clone()))
    }
}
