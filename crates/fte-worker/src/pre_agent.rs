//! The decisions taken before the agent, inside the first transaction: a
//! message of a customer with an escalated conversation — this one or any
//! other, on any channel — is only acknowledged (at most once per interval
//! and conversation), a
//! sender over the rate limit is deferred ([`deferral`](crate::deferral)),
//! and a WhatsApp "MORE" from the verified sender gets the deferred rest of
//! the previous answer.
//! Anything else goes to the agent.

use chrono::{DateTime, Utc};
use fte_domain::format;
use fte_domain::{Channel, ConversationStatus};
use fte_store::conversations::{self, ConversationRow};
use fte_store::messages::{self, StoredInbound};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::HandleError;
use crate::context::WorkerContext;
use crate::deferral::{self, Limit, meta_time};
use crate::outcome::Action;
use crate::reply::{META_DEFERRED, ReplyKind, ReplyTo};

/// What a customer writing into an escalated conversation hears, at most
/// once per acknowledgement interval.
pub const ESCALATED_ACKNOWLEDGEMENT: &str = "Thanks, we've added this to your case. A member of our support team already has it and will reply here.";

/// Conversation metadata key: when an escalated conversation was last
/// acknowledged (set on escalation too, so the first follow-up is quiet).
pub(crate) const META_ACK_AT: &str = "escalation_ack_at";

/// What a stored message gets before the agent.
pub(crate) enum Decision {
    /// Settled without the agent: the message is handled.
    Settled(Action),
    /// Deferred by the rate limit: stored, answered later.
    Deferred(Action),
    /// The agent answers it.
    Agent,
}

/// What the message `message_id` gets before (or instead of) the agent.
pub(crate) async fn decide(
    conn: &mut PgConnection,
    ctx: &WorkerContext,
    reply: &ReplyTo<'_>,
    conversation: &ConversationRow,
    message_id: Uuid,
    stored: Option<StoredInbound>,
) -> Result<Decision, HandleError> {
    let now = Utc::now();
    // A person owns the customer's case while any of their conversations
    // is escalated: the bot stays silent on every channel.
    let escalated = conversation.status == ConversationStatus::Escalated.as_str()
        || conversations::has_escalated(&mut *conn, reply.customer.id).await?;
    if escalated {
        // A person owns the conversation: deferred messages are theirs too.
        messages::cover_deferred(&mut *conn, conversation.id, message_id).await?;
        let interval = chrono::Duration::from_std(ctx.config.escalated_ack_interval)
            .unwrap_or(chrono::Duration::hours(1));
        if meta_time(conversation, META_ACK_AT).is_some_and(|at| now - at < interval) {
            return Ok(Decision::Settled(Action::StoredWhileEscalated));
        }
        let formatted = reply.format(ESCALATED_ACKNOWLEDGEMENT);
        reply
            .queue(conn, "system", ReplyKind::EscalationAck, &formatted, None)
            .await?;
        set_meta_time(conn, conversation, META_ACK_AT, now).await?;
        return Ok(Decision::Settled(Action::Acknowledged));
    }

    if let Limit::Deferred(action) = deferral::check(conn, ctx, reply, conversation, stored).await?
    {
        return Ok(Decision::Deferred(action));
    }

    // The deferred rest belongs to the last answer of the conversation:
    // only its verified owner may ask for it.
    if reply.channel() == Channel::Whatsapp
        && reply.sender.is_verified()
        && reply.message.content.trim().eq_ignore_ascii_case("more")
        && let Some(deferred) = conversation
            .metadata
            .get(META_DEFERRED)
            .and_then(|d| d.as_str())
    {
        let formatted = format::whatsapp(deferred);
        reply
            .queue(conn, "agent", ReplyKind::More, &formatted, None)
            .await?;
        return Ok(Decision::Settled(Action::SentDeferred));
    }
    Ok(Decision::Agent)
}

/// Records `at` under `key` on the conversation.
pub(crate) async fn set_meta_time(
    conn: &mut PgConnection,
    conversation: &ConversationRow,
    key: &str,
    at: DateTime<Utc>,
) -> Result<(), HandleError> {
    conversations::set_metadata(
        &mut *conn,
        conversation.id,
        key,
        Some(serde_json::Value::String(at.to_rfc3339())),
    )
    .await?;
    Ok(())
}
