//! The one trait every outbound channel implements, and the reply it sends.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fte_domain::{Channel, EmailAddress, PhoneNumber};
use serde::{Deserialize, Serialize};

/// Who a reply goes to.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "address", rename_all = "snake_case")]
pub enum Recipient {
    /// An email address (Gmail replies and web form notifications).
    Email(EmailAddress),
    /// A phone number (WhatsApp).
    Phone(PhoneNumber),
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::Email(_) => f.write_str("Recipient::Email(<redacted>)"),
            Recipient::Phone(_) => f.write_str("Recipient::Phone(<redacted>)"),
        }
    }
}

/// The Gmail thread a reply belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailThread {
    /// Gmail's `threadId` of the customer's message.
    pub thread_id: String,
    /// The customer message's `Message-ID` header (with angle brackets).
    pub in_reply_to_message_id: String,
    /// The customer message's `References` chain (each with angle brackets).
    #[serde(default)]
    pub references: Vec<String>,
}

/// A reply ready to go out, as the worker stores it in `reply_outbox.payload`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundReply {
    /// The channel to send on.
    pub channel: Channel,
    /// The customer.
    pub to: Recipient,
    /// The subject of the customer's message or form (email and web form).
    pub subject: Option<String>,
    /// The text, already formatted and split by the agent: one message or
    /// email per part, in order.
    pub parts: Vec<String>,
    /// The Gmail thread to answer in (email only).
    pub thread: Option<EmailThread>,
    /// The reply's id (its outbound message row): carried to the provider where possible
    /// (`X-FTE-Reply-Id`) so that [`ReplySender::reconcile`] can find it.
    pub idempotency_key: String,
    /// When the customer last wrote to us on this channel; WhatsApp uses it
    /// for the 24-hour session window (free text inside, template outside).
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// The ticket reference shown to the customer (template variable, web
    /// notification subject).
    pub ticket_reference: Option<String>,
}

/// Bodies and recipients never appear in debug output.
impl fmt::Debug for OutboundReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundReply")
            .field("channel", &self.channel)
            .field("to", &self.to)
            .field("parts", &self.parts.len())
            .field("thread", &self.thread.as_ref().map(|t| &t.thread_id))
            .field("idempotency_key", &self.idempotency_key)
            .finish_non_exhaustive()
    }
}

/// What the provider said after accepting a reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    /// The provider's ids, one per part sent (Gmail message ids, Twilio SIDs).
    pub provider_message_ids: Vec<String>,
    /// Whether an approved WhatsApp template replaced the free text because
    /// the 24-hour session window had closed.
    pub used_template: bool,
}

/// Why a send failed, classified by what the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider did not take the reply (429, 5xx, connection refused):
    /// retry later with backoff.
    #[error("transient provider failure: {reason}")]
    Transient {
        /// Status code and provider error code; never personal data.
        reason: String,
        /// How long the provider asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The provider refused the reply (4xx other than 429) or it can never
    /// be sent as is: do not retry, dead-letter it.
    #[error("permanent failure: {reason}")]
    Permanent {
        /// Status code and provider error code; never personal data.
        reason: String,
    },
    /// The request may have reached the provider (timeout after sending,
    /// connection lost mid-response, or only some parts delivered): call
    /// [`ReplySender::reconcile`] before anything else, never resend blindly.
    #[error("outcome unknown: {reason}")]
    Unknown {
        /// What happened.
        reason: String,
    },
    /// The channel's circuit breaker is open: nothing was sent; retry after
    /// the cool-down.
    #[error("channel degraded: circuit open")]
    CircuitOpen {
        /// Time left until the breaker lets a probe through.
        retry_after: Duration,
    },
}

impl SendError {
    /// Whether sending again later is safe and useful.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SendError::Transient { .. } | SendError::CircuitOpen { .. }
        )
    }

    /// The outcome label used for `fte_replies_sent_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            SendError::Transient { .. } => "transient",
            SendError::Permanent { .. } => "permanent",
            SendError::Unknown { .. } => "unknown",
            SendError::CircuitOpen { .. } => "circuit_open",
        }
    }

    /// The wait the provider or the breaker asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Transient { retry_after, .. } => *retry_after,
            SendError::CircuitOpen { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether this failure says the provider is unhealthy (it counts
    /// towards opening the circuit breaker).
    pub fn is_provider_failure(&self) -> bool {
        matches!(
            self,
            SendError::Transient { .. } | SendError::Unknown { .. }
        )
    }
}

/// Sends replies on one channel. Object-safe: binaries hold
/// `Arc<dyn ReplySender>`; tests use `fte_fakes::RecordingSender`.
#[async_trait]
pub trait ReplySender: Send + Sync {
    /// The channel this sender serves.
    fn channel(&self) -> Channel;

    /// Whether replies are only recorded in memory and never leave the
    /// process (a local run without provider credentials); health reports
    /// such a channel as `recording`, not `active`.
    fn records_only(&self) -> bool {
        false
    }

    /// Whether [`send`](Self::send) puts an email in the recipient's
    /// mailbox (a Gmail reply, a web form notification by Gmail or SMTP).
    /// Such sends count against the daily cap on addresses that never
    /// proved themselves.
    fn sends_email(&self) -> bool {
        self.channel() == Channel::Email
    }

    /// Sends every part of `reply`, in order.
    ///
    /// Fails with [`SendError::Unknown`] when the provider may have accepted
    /// some or all of it; the caller must then [`reconcile`](Self::reconcile).
    async fn send(&self, reply: &OutboundReply) -> Result<SendReceipt, SendError>;

    /// Asks the provider whether `reply` was already delivered, after an
    /// [`SendError::Unknown`]. `Ok(None)`: nothing of it arrived, sending is
    /// safe. `Ok(Some(receipt))`: it arrived; when the receipt lists fewer
    /// ids than the reply has parts, only those parts arrived.
    async fn reconcile(&self, reply: &OutboundReply) -> Result<Option<SendReceipt>, SendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> OutboundReply {
        OutboundReply {
            channel: Channel::Email,
            to: Recipient::Email(EmailAddress::parse("maria.santos@example.com").unwrap()),
            subject: Some("Export".into()),
            parts: vec!["Hi Maria, secret steps".into()],
            thread: Some(EmailThread {
                thread_id: "18c0".into(),
                in_reply_to_message_id: "<a@b>".into(),
                references: vec!["<a@b>".into()],
            }),
            idempotency_key: "0193-outbox".into(),
            last_inbound_at: Some(Utc::now()),
            ticket_reference: Some("T-1".into()),
        }
    }

    #[test]
    fn replies_round_trip_as_outbox_json() {
        let original = reply();
        let json = serde_json::to_value(&original).unwrap();
        assert_eq!(json["to"]["kind"], "email");
        assert_eq!(json["to"]["address"], "maria.santos@example.com");
        let back: OutboundReply = serde_json::from_value(json).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn debug_output_hides_recipient_and_body() {
        let printed = format!("{:?}", reply());
        assert!(!printed.contains("maria"), "{printed}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("0193-outbox"), "{printed}");
    }

    #[test]
    fn only_transient_and_circuit_open_failures_are_retryable() {
        let transient = SendError::Transient {
            reason: "HTTP 503".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert!(transient.is_retryable());
        assert_eq!(transient.retry_after(), Some(Duration::from_secs(2)));
        assert!(
            !SendError::Permanent {
                reason: "HTTP 400".into()
            }
            .is_retryable()
        );
        let unknown = SendError::Unknown {
            reason: "timed out".into(),
        };
        assert!(
            !unknown.is_retryable(),
            "unknown outcomes are reconciled, not resent"
        );
        assert!(unknown.is_provider_failure());
    }
}
