//! The decisions taken before the agent, inside the first transaction: an
//! escalated conversation only acknowledges (at most once per interval), a
//! customer over the rate limit gets one notice, and a WhatsApp "MORE" gets
//! the deferred rest of the previous answer. Anything else goes to the agent.

use chrono::{DateTime, Utc};
use fte_domain::format;
use fte_domain::{Channel, ConversationStatus};
use fte_store::conversations::{self, ConversationRow};
use fte_store::messages;
use sqlx::PgConnection;

use crate::HandleError;
use crate::context::WorkerContext;
use crate::outcome::Action;
use crate::reply::{META_DEFERRED, ReplyTo};

/// The notice a customer over the rate limit gets, once per window.
pub const RATE_LIMIT_NOTICE: &str = "We're processing your messages — please wait a moment.";
/// What a customer writing into an escalated conversation hears, at most
/// once per acknowledgement interval.
pub const ESCALATED_ACKNOWLEDGEMENT: &str = "Thanks, we've added this to your case. A member of our support team already has it and will reply here.";

/// Conversation metadata key: when an escalated conversation was last
/// acknowledged (set on escalation too, so the first follow-up is quiet).
pub(crate) const META_ACK_AT: &str = "escalation_ack_at";
/// Conversation metadata key: when the rate-limit notice was last queued.
const META_RATE_NOTICE_AT: &str = "rate_limit_notice_at";

/// What the message gets before (or instead of) the agent.
pub(crate) async fn decide(
    conn: &mut PgConnection,
    ctx: &WorkerContext,
    reply: &ReplyTo<'_>,
    conversation: &ConversationRow,
) -> Result<Option<Action>, HandleError> {
    let now = Utc::now();
    if conversation.status == ConversationStatus::Escalated.as_str() {
        let interval = chrono::Duration::from_std(ctx.config.escalated_ack_interval)
            .unwrap_or(chrono::Duration::hours(1));
        if meta_time(conversation, META_ACK_AT).is_some_and(|at| now - at < interval) {
            return Ok(Some(Action::StoredWhileEscalated));
        }
        let formatted = reply.format(ESCALATED_ACKNOWLEDGEMENT);
        reply.queue(conn, "system", &formatted, None).await?;
        set_meta_time(conn, conversation, META_ACK_AT, now).await?;
        return Ok(Some(Action::Acknowledged));
    }

    let window = chrono::Duration::from_std(ctx.config.rate_limit_window)
        .unwrap_or(chrono::Duration::minutes(1));
    let recent = messages::inbound_count_since(&mut *conn, reply.customer.id, now - window).await?;
    if recent > ctx.config.rate_limit_max {
        if meta_time(conversation, META_RATE_NOTICE_AT).is_some_and(|at| now - at < window) {
            return Ok(Some(Action::RateLimited));
        }
        let formatted = reply.format(RATE_LIMIT_NOTICE);
        reply.queue(conn, "system", &formatted, None).await?;
        set_meta_time(conn, conversation, META_RATE_NOTICE_AT, now).await?;
        return Ok(Some(Action::RateLimitNotice));
    }

    if reply.channel() == Channel::Whatsapp
        && reply.message.content.trim().eq_ignore_ascii_case("more")
        && let Some(deferred) = conversation
            .metadata
            .get(META_DEFERRED)
            .and_then(|d| d.as_str())
    {
        let formatted = format::whatsapp(deferred);
        reply.queue(conn, "agent", &formatted, None).await?;
        return Ok(Some(Action::SentDeferred));
    }
    Ok(None)
}

fn meta_time(conversation: &ConversationRow, key: &str) -> Option<DateTime<Utc>> {
    conversation
        .metadata
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
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
