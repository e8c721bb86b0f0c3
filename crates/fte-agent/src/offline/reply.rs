//! The reply around a draft: what the customer is told about an escalated
//! part and when a person will answer, the channel's formatting, and the
//! post-answer guardrails that turn a reply breaking one into a safe
//! escalation. The tool-calling agent finishes its drafts here too.

use std::time::Instant;

use fte_domain::format::{Recipient, format_reply};
use fte_domain::{Category, EscalationReason, TokenUsage};
use serde_json::json;

use crate::guard::reply_violations;
use crate::types::{AgentOutcome, AgentRequest, EscalationDecision};

/// What the answer-building steps found, before formatting.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub answer: String,
    pub escalation: Option<EscalationReason>,
    pub resolve: bool,
    pub kb_hit: bool,
    pub category: Option<Category>,
    pub tool_calls: Vec<serde_json::Value>,
}

/// What the customer is told about the escalated part, per reason.
pub fn escalation_notice(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::Pricing => {
            "Questions about prices and quotes are answered by our billing team, so I've passed yours to a person there."
        }
        EscalationReason::Refund => {
            "Refunds and charges are handled by our billing team, so I've passed your request to a person there."
        }
        EscalationReason::Legal => {
            "This needs our legal and security team, so I've passed it to a person there."
        }
        EscalationReason::Anger => {
            "I'm sorry this has been so frustrating. I've asked a person from our support team to take this over."
        }
        EscalationReason::HumanRequest => {
            "Of course. I've asked a person from our support team to take over."
        }
        EscalationReason::SearchFailed => {
            "I couldn't find a reliable answer to this in our documentation, so I've passed your question to a person rather than guess."
        }
        EscalationReason::AccountSecurity => {
            "To keep your account safe, I can't change or share account details here, so I've passed this to our account security team."
        }
    }
}

/// When a person will answer: the request's promised business hours (per
/// plan tier, from settings; by default 1 for Business and Enterprise, 4
/// otherwise, as company-profile.md says).
pub fn follow_up_promise(hours: u32) -> String {
    fte_domain::handoff::follow_up_promise(hours)
}

/// Shapes a draft for the channel and applies the post-answer guardrails;
/// shared with the tool-calling agent.
pub(crate) fn finish(
    request: &AgentRequest,
    mut draft: Draft,
    sentiment: f32,
    started: Instant,
    usage: TokenUsage,
) -> AgentOutcome {
    let ticket_reference = request.ticket_id.to_string();
    let recipient = Recipient {
        first_name: request.customer_first_name.as_deref(),
        ticket_reference: &ticket_reference,
    };
    let mut reply = format_reply(request.channel, recipient, &draft.answer);
    let violations = reply_violations(&reply, request.channel, &ticket_reference);
    if let Some(violation) = violations.first() {
        tracing::warn!(guard.violation = violation.as_str(), channel = %request.channel, "reply replaced by a safe escalation");
        let reason = draft
            .escalation
            .unwrap_or_else(|| violation.escalation_reason());
        draft.escalation = Some(reason);
        draft.resolve = false;
        draft.tool_calls.push(json!({"guard": violation.as_str()}));
        let safe = format!(
            "Thanks for your message. {} {}",
            escalation_notice(reason),
            follow_up_promise(request.human_response_hours)
        );
        reply = format_reply(request.channel, recipient, &safe);
    }
    let escalation = draft.escalation.map(|reason| EscalationDecision {
        reason,
        summary: escalation_summary(reason, request, &draft),
    });
    AgentOutcome {
        reply,
        escalation,
        resolve_ticket: draft.resolve,
        ticket_category: draft.category,
        sentiment,
        usage,
        latency_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        tool_calls: serde_json::Value::Array(draft.tool_calls),
        kb_hit: draft.kb_hit,
    }
}

fn escalation_summary(reason: EscalationReason, request: &AgentRequest, draft: &Draft) -> String {
    let answered = if draft.kb_hit {
        "the covered part was answered from the knowledge base"
    } else {
        "nothing was answered"
    };
    format!(
        "{} on {}: {}; plan {}.",
        reason.as_str(),
        request.channel,
        answered,
        request.plan.as_deref().unwrap_or("unknown")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_plans_get_the_one_hour_promise() {
        assert!(follow_up_promise(1).contains("within 1 business hour "));
        assert!(follow_up_promise(4).contains("within 4 business hours"));
        assert!(follow_up_promise(8).contains("within 8 business hours"));
        assert!(follow_up_promise(4).contains("Monday–Friday, 08:00–20:00 UTC"));
    }
}
