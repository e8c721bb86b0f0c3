//! The worker's step on a fresh database with a scripted agent and a
//! recording event sink; inbound events as the gateway publishes them; and
//! the step and the sender run by hand.

use std::sync::Arc;

use chrono::Utc;
use fte_domain::events::InboundSender;
use fte_domain::handoff::ResponseHours;
use fte_domain::{Channel, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_store::PgPool;
use fte_worker::sender::ChannelSender;
use fte_worker::{Handled, Outcome, WorkerConfig, WorkerContext, handle_event};

pub use crate::agents::{DEFAULT_ANSWER, Gate, RecordingEvents, Script, ScriptedAgent};
pub use crate::db::count;

/// A worker context on a fresh database, and what stands in for its model
/// and its Kafka.
pub struct Harness {
    /// The database.
    pub pool: PgPool,
    /// The agent the step asks.
    pub agent: Arc<ScriptedAgent>,
    /// What the step published.
    pub events: Arc<RecordingEvents>,
    /// The step's context.
    pub ctx: WorkerContext,
}

/// A [`Harness`] with the default worker configuration.
pub async fn harness() -> Harness {
    let pool = fte_store::testing::fresh_database().await;
    let agent = Arc::new(ScriptedAgent::default());
    let events = Arc::new(RecordingEvents::default());
    let ctx = WorkerContext {
        pool: pool.clone(),
        agent: agent.clone(),
        events: events.clone(),
        config: WorkerConfig::default(),
    };
    Harness {
        pool,
        agent,
        events,
        ctx,
    }
}

/// An inbound message event as the gateway publishes it.
pub fn inbound(
    channel: Channel,
    channel_message_id: &str,
    email: Option<&str>,
    phone: Option<&str>,
    name: Option<&str>,
    content: &str,
) -> EventEnvelope<InboundMessage> {
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel,
            channel_message_id: channel_message_id.to_owned(),
            sender: InboundSender {
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
                name: name.map(str::to_owned),
                ..InboundSender::default()
            },
            subject: match channel {
                Channel::Whatsapp => None,
                _ => Some("Question".to_owned()),
            },
            content: content.to_owned(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: serde_json::json!({}),
        },
    )
}

/// `event` as its channel proves it: the email and phone it carries marked
/// verified (an authenticated Gmail message, a signed Twilio webhook, a web
/// form with a valid identity token).
pub fn proven(mut event: EventEnvelope<InboundMessage>) -> EventEnvelope<InboundMessage> {
    let sender = &mut event.payload.sender;
    sender.email_verified = sender.email.is_some();
    sender.phone_verified = sender.phone.is_some();
    event
}

/// A minimal reply for driving a sender directly.
pub fn outbound_reply(channel: Channel) -> fte_channels::OutboundReply {
    fte_channels::OutboundReply {
        channel,
        to: fte_channels::Recipient::Email(
            fte_domain::EmailAddress::parse("a@example.com").unwrap(),
        ),
        subject: None,
        parts: vec!["hello".into()],
        thread: None,
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        last_inbound_at: None,
        ticket_reference: None,
    }
}

/// Runs the worker's step on `event`, which must be new.
pub async fn handle(ctx: &WorkerContext, event: &EventEnvelope<InboundMessage>) -> Handled {
    match handle_event(ctx, event).await.expect("the step succeeds") {
        Outcome::Handled(handled) => handled,
        Outcome::Duplicate => panic!("a new message was taken for a duplicate"),
    }
}

/// Delivers every due reply on `pool` through the worker's sender to
/// `recorder`.
pub async fn deliver(pool: &PgPool, recorder: &Arc<RecordingSender>) {
    let sender = ChannelSender {
        pool: pool.clone(),
        sender: recorder.clone(),
        events: Arc::new(crate::agents::NoEvents),
        config: WorkerConfig::default(),
    };
    while sender.send_due().await.expect("a delivery round") > 0 {}
}

/// Customers without a plan are promised a person within 6 business hours.
pub fn response_hours() -> ResponseHours {
    ResponseHours {
        free: 6,
        ..ResponseHours::default()
    }
}

/// A distinct, valid WhatsApp number per customer name.
pub fn whatsapp_number(customer: &str) -> String {
    let digits: u64 = customer.bytes().map(u64::from).sum::<u64>() % 10_000;
    format!("+1415555{digits:04}")
}

/// A message from `customer` on `channel`, as the gateway publishes it,
/// nothing proven: `customer@example.com` on email and the form, their
/// [`whatsapp_number`] on WhatsApp; an email carries its Gmail thread ids.
pub fn customer_message(
    channel: Channel,
    customer: &str,
    id: &str,
    text: &str,
) -> EventEnvelope<InboundMessage> {
    let sender = match channel {
        Channel::Whatsapp => InboundSender {
            phone: Some(whatsapp_number(customer)),
            name: Some("Maria Santos".into()),
            ..InboundSender::default()
        },
        _ => InboundSender {
            email: Some(format!("{customer}@example.com")),
            name: Some("Maria Santos".into()),
            ..InboundSender::default()
        },
    };
    let metadata = match channel {
        Channel::Email => serde_json::json!({
            "thread_id": format!("thread-{customer}"),
            "message_id": format!("<{id}@mail.example.com>"),
            "references": [],
        }),
        _ => serde_json::json!({}),
    };
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel,
            channel_message_id: id.to_owned(),
            sender,
            subject: (channel != Channel::Whatsapp).then(|| "Charged twice".to_owned()),
            content: text.to_owned(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata,
        },
    )
}

/// `event` with what its channel proves: an email's address (Gmail
/// authenticated it), a WhatsApp number (Twilio signed it); a web form
/// proves nothing without an identity token.
pub fn channel_proven(mut event: EventEnvelope<InboundMessage>) -> EventEnvelope<InboundMessage> {
    let channel = event.payload.channel;
    let sender = &mut event.payload.sender;
    sender.email_verified = channel == Channel::Email && sender.email.is_some();
    sender.phone_verified = channel == Channel::Whatsapp && sender.phone.is_some();
    event
}
