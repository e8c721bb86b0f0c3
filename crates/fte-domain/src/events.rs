//! The versioned envelope every Kafka event travels in, and the inbound
//! message event that the gateway publishes and the worker consumes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Channel, TicketId};

/// Bumped when an event's payload changes incompatibly; consumers refuse
/// versions they do not know (and send them to the dead-letter queue).
pub const EVENT_SCHEMA_VERSION: u16 = 1;

/// The envelope: who, what and when, around a typed payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope<T> {
    /// [`EVENT_SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u16,
    /// Unique per event; consumers may use it to deduplicate.
    pub event_id: Uuid,
    /// A dotted name such as `ticket.inbound`.
    pub event_type: String,
    /// When the fact happened (not when it was published).
    pub occurred_at: DateTime<Utc>,
    /// The event itself.
    pub payload: T,
}

impl<T> EventEnvelope<T> {
    /// Wraps `payload` in a fresh envelope of the current schema version.
    pub fn new(event_type: impl Into<String>, occurred_at: DateTime<Utc>, payload: T) -> Self {
        Self {
            schema_version: EVENT_SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            occurred_at,
            payload,
        }
    }
}

/// How the customer identified themselves on the inbound channel. Values are
/// kept as received; the worker normalises them into identifiers.
///
/// The `*_verified` flags say whether the channel proved that the sender
/// owns the identifier (an authenticated Gmail push whose message passed
/// DMARC, a Twilio-signed webhook, a web form email with a valid identity
/// token). They default to `false` (claimed), so events written before the
/// flags existed read as claims.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InboundSender {
    /// The sender's email address, if the channel carries one.
    pub email: Option<String>,
    /// The sender's phone number, if the channel carries one.
    pub phone: Option<String>,
    /// The name the customer gave, never used to merge customers.
    pub name: Option<String>,
    /// Whether the channel proved the sender owns `email`.
    #[serde(default)]
    pub email_verified: bool,
    /// Whether the channel proved the sender owns `phone`.
    #[serde(default)]
    pub phone_verified: bool,
}

/// Personal data never appears in debug output.
impl std::fmt::Debug for InboundSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundSender")
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name.as_ref().map(|_| "<redacted>"))
            .field("email_verified", &self.email_verified)
            .field("phone_verified", &self.phone_verified)
            .finish()
    }
}

/// A customer message accepted by the gateway (`ticket.inbound`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The channel it arrived on.
    pub channel: Channel,
    /// The channel's own id (Gmail message id, Twilio MessageSid, or the web
    /// submission id): the idempotency key of the whole pipeline.
    pub channel_message_id: String,
    /// Who sent it.
    pub sender: InboundSender,
    /// Email subject or web form subject.
    pub subject: Option<String>,
    /// The new text the customer wrote (quotes and signatures stripped).
    pub content: String,
    /// When the channel received it.
    pub received_at: DateTime<Utc>,
    /// The ticket the gateway already created (web form), if any.
    pub ticket_id: Option<TicketId>,
    /// Channel-specific extras (Gmail thread id and Message-ID, web form
    /// category and priority, …).
    #[serde(default)]
    pub metadata: serde_json::Value,
}

/// Message bodies and senders never appear in debug output.
impl std::fmt::Debug for InboundMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundMessage")
            .field("channel", &self.channel)
            .field("channel_message_id", &self.channel_message_id)
            .field("sender", &self.sender)
            .field("content_chars", &self.content.chars().count())
            .field("received_at", &self.received_at)
            .field("ticket_id", &self.ticket_id)
            .finish_non_exhaustive()
    }
}

impl InboundMessage {
    /// The Kafka message key: the customer's identity, so one customer's
    /// messages land on one partition and stay in order. Email wins over
    /// phone so that a web form submission and a later email agree.
    pub fn partition_key(&self) -> String {
        let identity = self
            .sender
            .email
            .as_deref()
            .and_then(|e| {
                crate::EmailAddress::parse(e)
                    .ok()
                    .map(|e| e.as_str().to_owned())
            })
            .or_else(|| {
                self.sender.phone.as_deref().and_then(|p| {
                    crate::PhoneNumber::parse(p)
                        .ok()
                        .map(|p| p.as_str().to_owned())
                })
            });
        identity.unwrap_or_else(|| format!("{}:{}", self.channel, self.channel_message_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(email: Option<&str>, phone: Option<&str>) -> InboundMessage {
        InboundMessage {
            channel: Channel::Whatsapp,
            channel_message_id: "SM1".into(),
            sender: InboundSender {
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
                name: Some("Emma Brown".into()),
                ..InboundSender::default()
            },
            subject: None,
            content: "can I connect orbitask to slack?".into(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: serde_json::Value::Null,
        }
    }

    #[test]
    fn one_customer_written_two_ways_gets_one_partition_key() {
        let a = message(None, Some("+1 (555) 010-0142"));
        let b = message(None, Some("whatsapp:+15550100142"));
        assert_eq!(a.partition_key(), b.partition_key());
    }

    #[test]
    fn envelope_round_trips_as_json() {
        let envelope = EventEnvelope::new(
            "ticket.inbound",
            Utc::now(),
            message(Some("A@B.example"), None),
        );
        let json = serde_json::to_vec(&envelope).unwrap();
        let back: EventEnvelope<InboundMessage> = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, envelope);
        assert_eq!(back.schema_version, EVENT_SCHEMA_VERSION);
    }

    #[test]
    fn an_event_without_verification_flags_reads_as_claims() {
        let json = serde_json::json!({
            "email": "emma.brown@example.com", "phone": null, "name": "Emma Brown"
        });
        let sender: InboundSender = serde_json::from_value(json).unwrap();
        assert!(!sender.email_verified && !sender.phone_verified);
        let flagged = InboundSender {
            phone_verified: true,
            ..sender
        };
        let back: InboundSender =
            serde_json::from_value(serde_json::to_value(&flagged).unwrap()).unwrap();
        assert!(back.phone_verified && !back.email_verified);
    }

    #[test]
    fn debug_output_carries_no_body_or_sender() {
        let printed = format!(
            "{:?}",
            message(Some("emma.brown@example.com"), Some("+15550100142"))
        );
        assert!(!printed.contains("slack"));
        assert!(!printed.contains("emma"));
        assert!(!printed.contains("0142"));
    }
}
