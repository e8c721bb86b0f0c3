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
                    HistoryRole::Summary => fte_agent::HistoryRole::Summary,
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
                human_response_hours: request.human_response_hours,
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
            usage: outcome.usage,
            latency_ms: outcome.latency_ms,
            tool_calls: outcome.tool_calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::Utc;
    use fte_domain::format::FormattedReply;
    use fte_domain::{Channel, ConversationId, CustomerId, EscalationReason, TicketId};

    use super::*;
    use crate::agent::HistoryEntry;

    /// Escalates every message and remembers the history it was given.
    #[derive(Default)]
    struct Escalating {
        seen: Mutex<Vec<fte_agent::HistoryEntry>>,
    }

    #[async_trait]
    impl fte_agent::Agent for Escalating {
        async fn respond(
            &self,
            request: &fte_agent::AgentRequest,
        ) -> Result<fte_agent::AgentOutcome, fte_agent::AgentError> {
            self.seen.lock().unwrap().extend(request.history.clone());
            Ok(fte_agent::AgentOutcome {
                reply: FormattedReply {
                    messages: vec!["A person will follow up.".into()],
                    deferred: None,
                },
                escalation: Some(fte_agent::EscalationDecision {
                    reason: EscalationReason::Pricing,
                    summary: "asks for a quote".into(),
                }),
                resolve_ticket: false,
                ticket_category: None,
                sentiment: -0.5,
                usage: fte_domain::TokenUsage::chat(2, 1),
                latency_ms: 4,
                tool_calls: serde_json::json!([]),
                kb_hit: false,
            })
        }
    }

    #[tokio::test]
    async fn the_adapter_passes_history_and_returns_the_escalation() {
        let inner = Arc::new(Escalating::default());
        let adapter = AgentAdapter(inner.clone());
        let outcome = adapter
            .respond(&AgentRequest {
                customer_id: CustomerId::new(),
                conversation_id: ConversationId::new(),
                ticket_id: TicketId::new(),
                channel: Channel::Email,
                customer_first_name: None,
                plan: None,
                human_response_hours: 4,
                subject: None,
                message: "how much?".into(),
                history: vec![HistoryEntry {
                    role: HistoryRole::Agent,
                    channel: Channel::Whatsapp,
                    content: "earlier".into(),
                    created_at: Utc::now(),
                }],
            })
            .await
            .unwrap();
        let escalation = outcome.escalation.expect("escalated");
        assert_eq!(escalation.reason, EscalationReason::Pricing);
        assert_eq!(outcome.reply.messages, vec!["A person will follow up."]);
        let seen = inner.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].role, fte_agent::HistoryRole::Agent);
        assert_eq!(seen[0].channel, Channel::Whatsapp);
    }
}
