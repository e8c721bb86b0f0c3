//! The agent's interface with the worker: one request in, one outcome out.

use chrono::{DateTime, Utc};
use fte_domain::format::FormattedReply;
use fte_domain::{
    Category, Channel, ConversationId, CustomerId, EscalationReason, TicketId, TokenUsage,
};
use serde::{Deserialize, Serialize};

/// Who wrote an earlier message of the customer's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryRole {
    /// The customer.
    Customer,
    /// The agent (or a person from support).
    Agent,
    /// A digest of an earlier conversation (up to 90 days back) that lies
    /// beyond the latest messages shown in full: where and when it was,
    /// how long, and the customer's opening words.
    Summary,
}

/// One earlier message of the customer, on any channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

impl HistoryEntry {
    /// A stored message of the customer's history (`fte_store::messages::customer_history`):
    /// inbound messages are the customer's, outbound ones the agent's or a
    /// person's from support. `None` for a row whose channel is unknown.
    pub fn from_row(row: &fte_store::messages::HistoryRow) -> Option<Self> {
        Some(Self {
            role: if row.direction == "inbound" {
                HistoryRole::Customer
            } else {
                HistoryRole::Agent
            },
            channel: row.channel.parse().ok()?,
            content: row.content.clone(),
            created_at: row.created_at,
        })
    }
}

/// One inbound message to answer, with what the worker knows around it.
#[derive(Clone, Debug)]
pub struct AgentRequest {
    /// The customer.
    pub customer_id: CustomerId,
    /// The conversation the message belongs to.
    pub conversation_id: ConversationId,
    /// The customer's ticket (its id is the only id the reply may show).
    pub ticket_id: TicketId,
    /// Where the message came from and where the reply goes.
    pub channel: Channel,
    /// For the greeting, when known.
    pub customer_first_name: Option<String>,
    /// The customer's plan (`free`, `team`, `business`, `enterprise`), when
    /// known: Business and Enterprise get the faster human follow-up.
    pub plan: Option<String>,
    /// Business hours until a person answers if this message is escalated:
    /// the promise for the customer's plan tier, from the worker's settings
    /// (`fte_domain::handoff::ResponseHours`).
    pub human_response_hours: u32,
    /// The email subject or web form subject.
    pub subject: Option<String>,
    /// The customer's message, as written.
    pub message: String,
    /// Earlier messages of this customer (any channel), oldest first: the
    /// latest ones in full, earlier conversations of the last 90 days as
    /// [`HistoryRole::Summary`] entries before them. Only what the reply's
    /// recipient may see: the worker leaves out everything a claimed sender
    /// did not write in this ticket, so every tool and acknowledgement built
    /// on it discloses nothing more.
    pub history: Vec<HistoryEntry>,
}

#[cfg(test)]
impl AgentRequest {
    /// A request for unit tests: a new customer's `message` on `channel`,
    /// no name, plan, subject or history, a four-hour human follow-up.
    pub(crate) fn for_test(channel: Channel, message: &str) -> Self {
        Self {
            customer_id: CustomerId::new(),
            conversation_id: ConversationId::new(),
            ticket_id: TicketId::new(),
            channel,
            customer_first_name: None,
            plan: None,
            human_response_hours: 4,
            subject: None,
            message: message.into(),
            history: Vec::new(),
        }
    }
}

/// The decision to hand the ticket to a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationDecision {
    /// The reason, one of the escalation rules.
    pub reason: EscalationReason,
    /// A short summary for the person who takes over (no contact details).
    pub summary: String,
}

/// What the agent decided for one message. Nothing here has been written
/// anywhere: the worker commits it.
#[derive(Clone, Debug)]
pub struct AgentOutcome {
    /// The reply, shaped for the channel.
    pub reply: FormattedReply,
    /// Escalate the ticket, and why.
    pub escalation: Option<EscalationDecision>,
    /// The customer says the problem is solved: resolve the ticket.
    pub resolve_ticket: bool,
    /// The ticket's category, when the agent could tell.
    pub ticket_category: Option<Category>,
    /// Sentiment of the message on -1..1.
    pub sentiment: f32,
    /// Model tokens spent: chat prompt and completion tokens, and tokens
    /// sent to a remote embedder during the turn (all 0 for the offline
    /// agent with the local embedding model).
    pub usage: TokenUsage,
    /// Time the turn took.
    pub latency_ms: u32,
    /// The tool calls made, for the message's audit column.
    pub tool_calls: serde_json::Value,
    /// Whether the knowledge base had a relevant article.
    pub kb_hit: bool,
}

/// Why the agent could not produce an outcome at all. Model failures are
/// *not* errors: the agent falls back to the offline answer or a safe
/// escalation. What is left is infrastructure the worker should retry.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The database (knowledge base or history) failed.
    #[error("agent storage failed")]
    Store(#[from] fte_store::StoreError),
    /// The embedding model failed.
    #[error("embedding failed")]
    Embedding(#[from] crate::embed::EmbedError),
}

/// A support agent. Object safe, so the worker can hold `Arc<dyn Agent>`.
#[async_trait::async_trait]
pub trait Agent: Send + Sync {
    /// Answers one message. Fails only when the infrastructure does (the
    /// worker retries the message); a model that misbehaves yields a safe
    /// outcome instead.
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentError>;
}
