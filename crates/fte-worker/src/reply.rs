//! Queuing a reply: the outbound message row and its `reply_outbox` row,
//! with everything the channel's sender needs in the payload.
//!
//! The payload is an [`OutboundReply`] whose idempotency key is the
//! outbound message id, so a provider that carries it can be asked later
//! whether the reply arrived. `ReplyTo` is the message being answered as
//! every step that answers sees it: it shapes text for the channel (greeting,
//! ticket line) and queues it; a WhatsApp answer's deferred rest is kept on
//! the conversation under [`META_DEFERRED`] for a later "MORE".

use fte_channels::outbound::{self, NoRecipient};
use fte_channels::{OutboundReply, Recipient};
use fte_domain::format::{self, FormattedReply, Recipient as FormatRecipient};
use fte_domain::{Channel, InboundMessage};
use fte_store::conversations;
use fte_store::customers::CustomerRow;
use fte_store::messages::{self, NewOutbound};
use fte_store::outbox::{self, NewReply};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::HandleError;
use crate::agent::AgentOutcome;
use crate::identity::{Identity, Sender};

/// Gmail metadata keys the gateway puts on an inbound email.
pub use fte_channels::outbound::email_metadata;

/// Conversation metadata key: the rest of a long WhatsApp answer, sent when
/// the customer replies "MORE".
pub const META_DEFERRED: &str = "deferred_reply";

/// The message being answered, with everything a reply to it needs.
pub(crate) struct ReplyTo<'a> {
    /// The inbound message.
    pub(crate) message: &'a InboundMessage,
    /// Its sender's identifiers (the recipient).
    pub(crate) identity: &'a Identity,
    /// Its sender's link and trust.
    pub(crate) sender: Sender,
    /// The customer.
    pub(crate) customer: &'a CustomerRow,
    /// The conversation.
    pub(crate) conversation_id: Uuid,
    /// The ticket (the one id a reply shows).
    pub(crate) ticket_id: Uuid,
}

impl ReplyTo<'_> {
    /// The channel the reply goes out on.
    pub(crate) fn channel(&self) -> Channel {
        self.message.channel
    }

    /// The first name for the greeting: as given with the message, else —
    /// for a verified sender only — as stored. A claimed sender is never
    /// greeted with the name of the customer whose identifier they named.
    pub(crate) fn first_name(&self) -> Option<String> {
        let stored = if self.sender.is_verified() {
            self.customer.name.as_deref()
        } else {
            None
        };
        self.message
            .sender
            .name
            .as_deref()
            .or(stored)
            .and_then(|n| n.split_whitespace().next())
            .map(str::to_owned)
    }

    /// Shapes plain text for the channel with its greeting and ticket line.
    pub(crate) fn format(&self, text: &str) -> FormattedReply {
        let first_name = self.first_name();
        let reference = self.ticket_id.to_string();
        format::format_reply(
            self.channel(),
            FormatRecipient {
                first_name: first_name.as_deref(),
                ticket_reference: &reference,
            },
            text,
        )
    }

    /// Queues `formatted` as a reply of `kind` by `role` (`agent` or
    /// `system`); on WhatsApp the deferred rest replaces the conversation's
    /// earlier one.
    pub(crate) async fn queue(
        &self,
        conn: &mut PgConnection,
        role: &str,
        kind: ReplyKind,
        formatted: &FormattedReply,
        agent: Option<&AgentOutcome>,
    ) -> Result<Uuid, HandleError> {
        let id = queue(
            conn,
            &QueuedReply {
                message: self.message,
                identity: self.identity,
                conversation_id: self.conversation_id,
                ticket_id: self.ticket_id,
                role,
                kind,
                parts: &formatted.messages,
                agent,
            },
        )
        .await?;
        if self.channel() == Channel::Whatsapp {
            let deferred = formatted.deferred.clone().map(serde_json::Value::String);
            conversations::set_metadata(&mut *conn, self.conversation_id, META_DEFERRED, deferred)
                .await?;
        }
        Ok(id)
    }
}

/// What a reply is, recorded as the outbound message's `metadata.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// The agent's answer.
    Answer,
    /// The acknowledgement of a message in an escalated conversation.
    EscalationAck,
    /// The "please wait" notice of a customer over the rate limit.
    RateLimitNotice,
    /// The deferred rest of a WhatsApp answer, on "MORE".
    More,
}

impl ReplyKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Answer => "answer",
            ReplyKind::EscalationAck => "escalation_ack",
            ReplyKind::RateLimitNotice => "rate_limit_notice",
            ReplyKind::More => "more",
        }
    }
}

/// A reply to queue for the message being handled.
pub struct QueuedReply<'a> {
    /// The inbound message answered.
    pub message: &'a InboundMessage,
    /// Its sender's identity (the recipient).
    pub identity: &'a Identity,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// `agent` or `system`.
    pub role: &'a str,
    /// What the reply is.
    pub kind: ReplyKind,
    /// The formatted parts, in order.
    pub parts: &'a [String],
    /// The agent's outcome, for its audit columns.
    pub agent: Option<&'a AgentOutcome>,
}

/// Who a reply on `channel` goes to.
pub fn recipient(channel: Channel, identity: &Identity) -> Result<Recipient, HandleError> {
    outbound::recipient(channel, identity.email.as_ref(), identity.phone.as_ref()).map_err(
        |missing| match missing {
            NoRecipient::Phone => HandleError::Invalid("a WhatsApp message without a phone number"),
            NoRecipient::Email => {
                HandleError::Invalid("an email or web form message without an email address")
            }
        },
    )
}

/// Stores the outbound message and enqueues its delivery; returns the
/// outbox row id.
pub async fn queue(conn: &mut PgConnection, reply: &QueuedReply<'_>) -> Result<Uuid, HandleError> {
    let channel = reply.message.channel;
    let to = recipient(channel, reply.identity)?;
    if reply.parts.is_empty() {
        return Err(HandleError::Invalid("a reply without any text"));
    }
    // A model's text can hold anything; the database refuses a NUL.
    let parts: Vec<String> = reply
        .parts
        .iter()
        .map(|part| fte_domain::text::without_nul(part))
        .collect();
    let content = parts.join("\n\n");
    let (tokens, latency, tool_calls) = match reply.agent {
        Some(outcome) => (
            Some(i32::try_from(outcome.usage.chat_total()).unwrap_or(i32::MAX)),
            Some(i32::try_from(outcome.latency_ms).unwrap_or(i32::MAX)),
            if outcome.tool_calls.is_array() {
                outcome.tool_calls.clone()
            } else {
                json!([])
            },
        ),
        None => (None, None, json!([])),
    };
    let message_id = messages::insert_outbound(
        &mut *conn,
        &NewOutbound {
            conversation_id: reply.conversation_id,
            channel: channel.as_str(),
            role: reply.role,
            content: &content,
            tokens_used: tokens,
            latency_ms: latency,
            tool_calls,
            metadata: json!({ "parts": parts.len(), "kind": reply.kind.as_str() }),
        },
    )
    .await?;
    let outbound = OutboundReply {
        channel,
        to,
        subject: outbound::reply_subject(channel, reply.message.subject.as_deref()),
        parts,
        thread: outbound::email_thread(channel, &reply.message.metadata),
        idempotency_key: message_id.to_string(),
        last_inbound_at: Some(reply.message.received_at),
        ticket_reference: Some(reply.ticket_id.to_string()),
    };
    let payload = serde_json::to_value(&outbound)
        .map_err(|_| HandleError::Invalid("the reply cannot be encoded"))?;
    let id = outbox::enqueue_reply(
        &mut *conn,
        &NewReply {
            message_id,
            conversation_id: reply.conversation_id,
            ticket_id: Some(reply.ticket_id),
            channel: channel.as_str(),
            payload,
        },
    )
    .await?;
    Ok(id)
}
