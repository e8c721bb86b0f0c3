//! Phase 2 of a message: the agent's turn, outside any transaction. The
//! context is read from the database on the pool (each read takes a
//! connection only for its own query), then the agent thinks for as long as
//! it needs — up to `AGENT_TIME_BUDGET_MS` with a model — holding no
//! connection and no lock.
//!
//! [`agent_request`] is the one place where what the agent sees is put
//! together. The conversation's deferred messages not yet answered (the
//! customer went over the rate limit) are folded into the message, in the
//! order they were written, so that one answer covers them all.

use fte_domain::{ConversationId, CustomerId, TicketId};
use fte_store::messages;
use uuid::Uuid;

use crate::HandleError;
use crate::accept::Turn;
use crate::agent::{AgentOutcome, AgentRequest, HistoryEntry, HistoryRole};
use crate::context::WorkerContext;

/// What the agent answered, and the deferred messages the answer covers.
pub(crate) struct Thought {
    /// The agent's outcome.
    pub(crate) outcome: AgentOutcome,
    /// Deferred messages of the conversation folded into this turn (the
    /// message itself excluded).
    pub(crate) covers: Vec<Uuid>,
}

/// Reads the turn's context and asks the agent.
pub(crate) async fn think(ctx: &WorkerContext, turn: &Turn) -> Result<Thought, HandleError> {
    let (request, covers) = agent_request(ctx, turn).await?;
    let outcome = ctx.agent.respond(&request).await?;
    Ok(Thought { outcome, covers })
}

/// What the agent is asked: the message (with the conversation's deferred
/// messages folded in), the customer and ticket it belongs to, and the
/// customer's latest messages on every channel (oldest first, at most
/// `WORKER_HISTORY_LIMIT`, the messages answered now left out). Also
/// returns the ids of the deferred messages folded in.
pub(crate) async fn agent_request(
    ctx: &WorkerContext,
    turn: &Turn,
) -> Result<(AgentRequest, Vec<Uuid>), HandleError> {
    let deferred = messages::deferred_pending(&ctx.pool, turn.conversation_id).await?;
    let covers: Vec<Uuid> = deferred
        .iter()
        .map(|m| m.id)
        .filter(|id| *id != turn.message_id)
        .collect();
    let message = if covers.is_empty() {
        turn.message.content.clone()
    } else {
        let mut texts: Vec<&str> = deferred
            .iter()
            .map(|m| {
                if m.id == turn.message_id {
                    turn.message.content.as_str()
                } else {
                    m.content.as_str()
                }
            })
            .collect();
        if !deferred.iter().any(|m| m.id == turn.message_id) {
            texts.push(&turn.message.content);
        }
        texts.join("\n\n")
    };
    let mut answered = covers.clone();
    answered.push(turn.message_id);
    let history = messages::customer_history(
        &ctx.pool,
        turn.customer.id,
        &answered,
        ctx.config.history_limit,
    )
    .await?
    .into_iter()
    .filter_map(|row| {
        Some(HistoryEntry {
            role: if row.direction == "inbound" {
                HistoryRole::Customer
            } else {
                HistoryRole::Agent
            },
            channel: row.channel.parse().ok()?,
            content: row.content,
            created_at: row.created_at,
        })
    })
    .collect();
    let reply = turn.reply_to();
    let request = AgentRequest {
        customer_id: CustomerId(turn.customer.id),
        conversation_id: ConversationId(turn.conversation_id),
        ticket_id: TicketId(turn.ticket_id),
        channel: turn.message.channel,
        customer_first_name: reply.first_name(),
        plan: turn.customer.plan.clone(),
        human_response_hours: ctx
            .config
            .response_hours
            .for_plan(turn.customer.plan.as_deref()),
        subject: turn.message.subject.clone(),
        message,
        history,
    };
    Ok((request, covers))
}
