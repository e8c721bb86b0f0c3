//! [`AgentAdapter`]: any `fte_agent::Agent` as the worker's [`ReplyAgent`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::agent::{
    AgentOutcome, AgentRequest, AgentUnavailable, EscalationDecision, HistoryRole, ReplyAgent,
};

/// Wraps the agent crate's agent; its infrastructure errors become
/// [`AgentUnavailable`] (the worker retries the message).
pub struct AgentAdapter(pub Arc<dyn fte_agent::Agent>);

#[async_trait]
impl ReplyAgent for AgentAdapter {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        let history = request
            .history
            .iter()
            .map(|entry| fte_agent::HistoryEntry {
                role: match entry.role {
                    HistoryRole::Customer => fte_agent::HistoryRole::Customer,
                    HistoryRole::Agent => fte_agent::HistoryRole::Agent,
                },
                channel: entry.channel,
                content: entry.content.clone(),
                created_at: entry.created_at,
            })
            .collect();
        let outcome = self
            .0
            .respond(&fte_agent::AgentRequest {
                customer_id: request.customer_id,
                conversation_id: request.conversation_id,
                ticket_id: request.ticket_id,
                channel: request.channel,
                customer_first_name: request.customer_first_name.clone(),
                plan: request.plan.clone(),
                subject: request.subject.clone(),
                message: request.message.clone(),
                history,
            })
            .await
            .map_err(|e| AgentUnavailable(e.to_string()))?;
        Ok(AgentOutcome {
            reply: outcome.reply,
            escalation: outcome.escalation.map(|e| EscalationDecision {
                reason: e.reason,
                summary: e.summary,
            }),
            resolve_ticket: outcome.resolve_ticket,
            ticket_category: outcome.ticket_category,
            sentiment: outcome.sentiment,
            tokens_used: outcome.tokens_used,
            latency_ms: outcome.latency_ms,
            tool_calls: outcome.tool_calls,
        })
    }
}
