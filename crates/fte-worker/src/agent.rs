//! The agent as the worker sees it: one request in, one outcome out.
//!
//! This mirrors the shape of `fte_agent::Agent` (request, outcome,
//! escalation decision) so the worker does not depend on the agent crate's
//! internals: the binary adapts whichever agent it wires to [`ReplyAgent`],
//! and tests script outcomes directly.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fte_domain::format::FormattedReply;
use fte_domain::{
    Category, Channel, ConversationId, CustomerId, EscalationReason, TicketId, TokenUsage,
};

/// Who wrote an earlier message of the customer's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryRole {
    /// The customer.
    Customer,
    /// The agent or a person from support.
    Agent,
    /// A digest of an earlier conversation beyond the latest messages.
    Summary,
}

/// One earlier message of the customer, on any channel.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// Who wrote it.
    pub role: HistoryRole,
    /// Where it was written.
    pub channel: Channel,
    /// What was written.
    pub content: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// One inbound message to answer, with what the worker knows around it.
#[derive(Clone, Debug)]
pub struct AgentRequest {
    /// The customer.
    pub customer_id: CustomerId,
    /// The conversation the message belongs to.
    pub conversation_id: ConversationId,
    /// The customer's ticket (the only id a reply may show).
    pub ticket_id: TicketId,
    /// Where the message came from and where the reply goes.
    pub channel: Channel,
    /// For the greeting, when known.
    pub customer_first_name: Option<String>,
    /// The customer's plan, when known.
    pub plan: Option<String>,
    /// Business hours until a person answers if this message is escalated
    /// (the plan tier's promise from [`crate::WorkerConfig::response_hours`]);
    /// the agent tells the customer this time when it escalates.
    pub human_response_hours: u32,
    /// The email or web form subject.
    pub subject: Option<String>,
    /// The customer's message, as written.
    pub message: String,
    /// Earlier messages of this customer on any channel, oldest first: at
    /// most the configured history limit in full, earlier conversations of
    /// the last 90 days summarised before them — only what the reply's
    /// recipient may see ([`crate::disclosure`]).
    pub history: Vec<HistoryEntry>,
}

/// The decision to hand the ticket to a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationDecision {
    /// The reason, one of the escalation rules.
    pub reason: EscalationReason,
    /// A short summary for the person who takes over (no contact details).
    pub summary: String,
}

/// What the agent decided. Nothing here has been written anywhere: the
/// worker commits it in the message's transaction.
#[derive(Clone, Debug)]
pub struct AgentOutcome {
    /// The reply, shaped for the channel.
    pub reply: FormattedReply,
    /// Escalate the ticket, and why.
    pub escalation: Option<EscalationDecision>,
    /// The customer says the problem is solved.
    pub resolve_ticket: bool,
    /// The ticket's category, when the agent could tell.
    pub ticket_category: Option<Category>,
    /// Sentiment of the message on -1..1.
    pub sentiment: f32,
    /// Model tokens spent: chat prompt and completion tokens, and tokens
    /// billed by a remote embedder (all 0 for the offline agent).
    pub usage: TokenUsage,
    /// Time the turn took.
    pub latency_ms: u32,
    /// The tool calls made (JSON array), for the message's audit column.
    pub tool_calls: serde_json::Value,
}

/// The agent could not produce an outcome because its infrastructure
/// failed; the worker retries the message.
#[derive(Debug, thiserror::Error)]
#[error("agent unavailable: {0}")]
pub struct AgentUnavailable(pub String);

/// A support agent. Object safe: the worker holds `Arc<dyn ReplyAgent>`.
#[async_trait]
pub trait ReplyAgent: Send + Sync {
    /// Answers one message. Fails only when infrastructure fails.
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable>;
}
