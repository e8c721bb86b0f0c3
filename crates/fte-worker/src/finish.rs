//! Phase 3 of a message: one short transaction writes the agent's outcome —
//! the reply (replaced by [`RESTRICTED_REPLY`] when it would reveal withheld
//! history to a claimed sender, [`crate::disclosure`]), sentiment and category, the escalation or the resolution, the
//! metrics event — and marks the message handled, with the deferred
//! messages the turn folded in marked covered by it.
//!
//! It is idempotent on the inbound message id: the message row is locked
//! first, and a message some other delivery already finished is left alone
//! ([`Finished::Duplicate`]), so two turns of one message (a redelivery
//! racing a slow first delivery) produce one reply. The conversation and
//! ticket are read again under lock, because they may have changed while
//! the agent thought: a conversation that became escalated meanwhile keeps
//! the bot silent.

use chrono::Utc;
use fte_domain::{ConversationStatus, EventEnvelope, TicketStatus};
use fte_store::conversations::{self, ConversationRow};
use fte_store::{StoreError, messages, outbox};
use sqlx::PgConnection;

use crate::HandleError;
use crate::accept::Turn;
use crate::collector::{TURN_EVENT, ToolCallCounts, TurnEvent};
use crate::context::WorkerContext;
use crate::deferral;
use crate::disclosure::RESTRICTED_REPLY;
use crate::escalate::{Escalating, escalate};
use crate::outcome::Action;
use crate::reply::ReplyKind;
use crate::transitions::{move_conversation, move_ticket, ticket_status};
use crate::turn::Thought;

/// What phase 3 did.
pub(crate) enum Finished {
    /// Another delivery finished the message first: nothing was written.
    Duplicate,
    /// The outcome was committed.
    Done(Action),
}

/// Writes the agent's outcome for `turn` in one transaction; the deferred
/// messages the turn covered are marked answered by it.
pub(crate) async fn finish(
    ctx: &WorkerContext,
    turn: &Turn,
    thought: &Thought,
) -> Result<Finished, HandleError> {
    let mut tx = ctx.pool.begin().await?;
    crate::identity::serialise(&mut tx, &turn.identity).await?;
    // The conversation first, then the message (the order every
    // transaction takes them in, so a turn marking the messages it covers
    // never deadlocks against another turn of the conversation).
    let conversation = conversations::conversation_for_update(&mut *tx, turn.conversation_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    let stored = messages::inbound_by_id_for_update(&mut *tx, turn.message_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    if stored.processed {
        tx.rollback().await?;
        return Ok(Finished::Duplicate);
    }
    let action = if conversation.status == ConversationStatus::Escalated.as_str() {
        // Escalated while the agent thought: a person owns it now.
        Action::StoredWhileEscalated
    } else {
        write_outcome(&mut tx, ctx, turn, &conversation, thought).await?
    };
    messages::mark_covered(&mut *tx, &thought.covers, turn.message_id).await?;
    messages::mark_processed(&mut *tx, &[turn.message_id]).await?;
    deferral::clear_follow_up(&mut tx, &conversation).await?;
    tx.commit().await?;
    Ok(Finished::Done(action))
}

async fn write_outcome(
    conn: &mut PgConnection,
    ctx: &WorkerContext,
    turn: &Turn,
    conversation: &ConversationRow,
    thought: &Thought,
) -> Result<Action, HandleError> {
    let outcome = &thought.outcome;
    let channel = turn.message.channel;
    let reply = turn.reply_to();
    // The last word on disclosure: a reply to a claimed sender that quotes
    // what the customer wrote or was told elsewhere is never queued.
    let mut parts = outcome.reply.messages.clone();
    parts.extend(outcome.reply.deferred.clone());
    let restricted;
    let text = if thought.disclosure.leaks(&parts) {
        tracing::warn!(
            security = true,
            conversation.id = %turn.conversation_id,
            channel = channel.as_str(),
            "a reply to a claimed sender quoted withheld history; replaced"
        );
        restricted = reply.format(RESTRICTED_REPLY);
        &restricted
    } else {
        &outcome.reply
    };
    reply
        .queue(conn, "agent", ReplyKind::Answer, text, Some(outcome))
        .await?;
    let sentiment = f64::from(outcome.sentiment);
    conversations::set_sentiment(&mut *conn, turn.conversation_id, sentiment).await?;
    messages::set_sentiment(&mut *conn, turn.message_id, sentiment).await?;
    if let Some(category) = outcome.ticket_category {
        conversations::set_ticket_category(&mut *conn, turn.ticket_id, category.as_str()).await?;
    }
    let ticket = conversations::ticket_for_update(&mut *conn, turn.ticket_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    let ticket_status = ticket_status(&ticket.status)?;

    let action = if let Some(decision) = &outcome.escalation {
        let escalating = Escalating {
            ticket_id: turn.ticket_id,
            ticket_status,
            conversation,
            customer: &turn.customer,
            channel,
            decision,
        };
        escalate(conn, &ctx.config.response_hours, &escalating).await?;
        Action::Escalated(decision.reason)
    } else if outcome.resolve_ticket {
        move_ticket(conn, turn.ticket_id, ticket_status, TicketStatus::Resolved).await?;
        move_conversation(
            conn,
            conversation.id,
            &conversation.status,
            ConversationStatus::Resolved,
            Some("bot"),
        )
        .await?;
        Action::Resolved
    } else {
        Action::Answered
    };

    // The metrics collector turns this event into agent_metrics rows (it is
    // their only writer, idempotent on the event id).
    let counts = ToolCallCounts::of(&outcome.tool_calls);
    let metrics_event = EventEnvelope::new(
        TURN_EVENT,
        Utc::now(),
        TurnEvent {
            channel,
            conversation_id: turn.conversation_id,
            ticket_id: turn.ticket_id,
            latency_ms: outcome.latency_ms,
            tokens_used: outcome.usage.chat_total(),
            prompt_tokens: outcome.usage.prompt,
            completion_tokens: outcome.usage.completion,
            embedding_tokens: outcome.usage.embedding,
            // Priced now, at the prices in force when the tokens were spent.
            cost_micro_usd: ctx.config.prices.cost_micro_usd(&outcome.usage),
            tool_calls: counts.tool_calls,
            kb_searches: counts.kb_searches,
            kb_hits: counts.kb_hits,
            failed_tool_calls: counts.failed_tool_calls,
            escalated: outcome.escalation.is_some(),
            sentiment: outcome.sentiment,
        },
    );
    outbox::enqueue_event(
        &mut *conn,
        fte_bus::topics::METRICS,
        &turn.conversation_id.to_string(),
        &serde_json::to_value(&metrics_event).unwrap_or_default(),
    )
    .await?;
    Ok(action)
}
