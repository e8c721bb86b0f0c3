//! Phase 2 of a message: the agent's turn, outside any transaction. The
//! context is read from the database on the pool (each read takes a
//! connection only for its own query), then the agent thinks for as long as
//! it needs — up to `AGENT_TIME_BUDGET_MS` with a model — holding no
//! connection and no lock.
//!
//! [`agent_request`] is the one place where what the agent sees is put
//! together.

use fte_domain::{ConversationId, CustomerId, TicketId};
use fte_store::messages;

use crate::HandleError;
use crate::accept::Turn;
use crate::agent::{AgentOutcome, AgentRequest, HistoryEntry, HistoryRole};
use crate::context::WorkerContext;

/// Reads the turn's context and asks the agent.
pub(crate) async fn think(ctx: &WorkerContext, turn: &Turn) -> Result<AgentOutcome, HandleError> {
    let request = agent_request(ctx, turn).await?;
    Ok(ctx.agent.respond(&request).await?)
}

/// What the agent is asked: the message, the customer and ticket it belongs
/// to, and the customer's latest messages on every channel (oldest first,
/// at most `WORKER_HISTORY_LIMIT`, the message itself left out).
pub(crate) async fn agent_request(
    ctx: &WorkerContext,
    turn: &Turn,
) -> Result<AgentRequest, HandleError> {
    let history = messages::customer_history(
        &ctx.pool,
        turn.customer.id,
        &[turn.message_id],
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
    Ok(AgentRequest {
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
        message: turn.message.content.clone(),
        history,
    })
}
