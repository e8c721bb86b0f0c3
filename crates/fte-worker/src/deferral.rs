//! The per-customer rate limit, which defers and never drops.
//!
//! A sender who sends more than `rate_limit_max` messages within
//! `rate_limit_window` gets one "please wait" notice per
//! window — the first deferred message's conversation shows it — and each
//! message over the limit is stored `deferred`: visible on its conversation,
//! not answered one by one, and holding nothing up (the partition moves on
//! at once).
//!
//! The count is keyed on the sender ([`InboundKey::for_sender`]): a
//! verified sender counts the customer's verified messages on every
//! channel; a claimed sender counts only the claimed messages through the
//! same identifier. Whoever names a customer's email in the web form spends
//! that claim's allowance, never the customer's own.
//!
//! Deferred messages are answered later, folded into one answer per
//! conversation: the next agent turn of the conversation reads every
//! deferred message not yet answered, hands them to the agent together with
//! the message it answers, and marks them covered by that answer. So that
//! such a turn comes even when the customer stops writing, deferring the
//! first message of a burst queues a *follow-up*: the message's own event,
//! flagged [`FOLLOW_UP`], on `fte.tickets.incoming` (keyed like the
//! customer's messages, so it stays in order with them) through the event
//! outbox, not published before the window has passed. When it arrives the
//! agent answers it and the conversation's other deferred messages — unless
//! the customer already had `rate_limit_max` answers within the window;
//! then it is queued again for when the oldest of those answers leaves the
//! window. A follow-up whose messages were covered meanwhile is a duplicate.

use chrono::{DateTime, Utc};
use fte_bus::topics;
use fte_domain::{EventEnvelope, InboundMessage};
use fte_store::conversations::{self, ConversationRow};
use fte_store::event_outbox::{QueuedEvent, queue_event};
use fte_store::messages::{self, InboundKey, StoredInbound};
use sqlx::PgConnection;

use crate::HandleError;
use crate::context::WorkerContext;
use crate::outcome::Action;
use crate::reply::{ReplyKind, ReplyTo};

/// The notice a customer over the rate limit gets, once per window.
pub const RATE_LIMIT_NOTICE: &str = "We're processing your messages — please wait a moment.";

/// Metadata flag of a follow-up event (the deferred message's own event,
/// queued again for when the window allows an answer).
pub const FOLLOW_UP: &str = "follow_up";

/// Conversation metadata key: when the pending follow-up is due.
const META_FOLLOW_UP_AT: &str = "follow_up_at";

/// What the rate limit decides for a message.
pub(crate) enum Limit {
    /// Within the limit (or a follow-up whose time has come): answer it.
    Answer,
    /// Deferred (stored, not answered yet), with or without the notice.
    Deferred(Action),
}

fn window(ctx: &WorkerContext) -> chrono::Duration {
    chrono::Duration::from_std(ctx.config.rate_limit_window).unwrap_or(chrono::Duration::minutes(1))
}

/// Applies the rate limit to a stored, not yet handled message.
pub(crate) async fn check(
    conn: &mut PgConnection,
    ctx: &WorkerContext,
    reply: &ReplyTo<'_>,
    conversation: &ConversationRow,
    stored: Option<StoredInbound>,
) -> Result<Limit, HandleError> {
    let now = Utc::now();
    let window = window(ctx);
    let customer = reply.customer.id;
    let is_follow_up = stored.is_some_and(|s| s.deferred)
        && reply.message.metadata.get(FOLLOW_UP) == Some(&serde_json::Value::Bool(true));
    if is_follow_up {
        let (answers, oldest) = messages::answers_since(&mut *conn, customer, now - window).await?;
        if answers < ctx.config.rate_limit_max {
            return Ok(Limit::Answer);
        }
        // The window is still full: come back when its oldest answer leaves.
        let due = oldest
            .map_or(now + window, |oldest| oldest + window)
            .max(now + chrono::Duration::seconds(1));
        schedule_follow_up(conn, reply, conversation, due).await?;
        return Ok(Limit::Deferred(Action::RateLimited));
    }
    let key = InboundKey::for_sender(
        customer,
        reply
            .sender
            .identifier_id
            .map(|id| (id, reply.sender.trust)),
    );
    let recent = messages::inbound_count_since_keyed(&mut *conn, key, now - window).await?;
    if recent <= ctx.config.rate_limit_max {
        return Ok(Limit::Answer);
    }
    let pending_follow_up =
        meta_time(conversation, META_FOLLOW_UP_AT).is_some_and(|due| due > now - window);
    if !pending_follow_up {
        schedule_follow_up(conn, reply, conversation, now + window).await?;
    }
    let notified = messages::reply_kind_since(
        &mut *conn,
        customer,
        ReplyKind::RateLimitNotice.as_str(),
        now - window,
    )
    .await?;
    if notified {
        return Ok(Limit::Deferred(Action::RateLimited));
    }
    let formatted = reply.format(RATE_LIMIT_NOTICE);
    reply
        .queue(conn, "system", ReplyKind::RateLimitNotice, &formatted, None)
        .await?;
    Ok(Limit::Deferred(Action::RateLimitNotice))
}

/// Queues the follow-up of the deferred message `reply` answers, due at
/// `due`, and records it on the conversation.
async fn schedule_follow_up(
    conn: &mut PgConnection,
    reply: &ReplyTo<'_>,
    conversation: &ConversationRow,
    due: DateTime<Utc>,
) -> Result<(), HandleError> {
    let mut message: InboundMessage = reply.message.clone();
    if !message.metadata.is_object() {
        message.metadata = serde_json::json!({});
    }
    message.metadata[FOLLOW_UP] = serde_json::Value::Bool(true);
    let key = message.partition_key();
    let envelope = EventEnvelope::new("ticket.inbound", message.received_at, message);
    let payload = serde_json::to_value(&envelope)
        .map_err(|_| HandleError::Invalid("the follow-up cannot be encoded"))?;
    queue_event(
        &mut *conn,
        &QueuedEvent {
            topic: topics::TICKETS_INCOMING,
            key: &key,
            payload: &payload,
            headers: &[],
            available_at: Some(due),
        },
    )
    .await?;
    conversations::set_metadata(
        &mut *conn,
        conversation.id,
        META_FOLLOW_UP_AT,
        Some(serde_json::Value::String(due.to_rfc3339())),
    )
    .await?;
    Ok(())
}

/// Forgets the conversation's pending follow-up (an answer covered its
/// deferred messages).
pub(crate) async fn clear_follow_up(
    conn: &mut PgConnection,
    conversation: &ConversationRow,
) -> Result<(), HandleError> {
    if conversation.metadata.get(META_FOLLOW_UP_AT).is_some() {
        conversations::set_metadata(&mut *conn, conversation.id, META_FOLLOW_UP_AT, None).await?;
    }
    Ok(())
}

/// Reads an RFC 3339 time kept in the conversation's metadata.
pub(crate) fn meta_time(conversation: &ConversationRow, key: &str) -> Option<DateTime<Utc>> {
    conversation
        .metadata
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}
