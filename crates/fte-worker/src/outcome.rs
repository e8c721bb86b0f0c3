//! What [`handle_event`](crate::handle_event) reports: a duplicate, or the
//! rows a handled message touched and what was done with it.

use fte_domain::{ConversationId, CustomerId, EscalationReason, MessageId, TicketId};

/// What the step did with a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The message was handled before: nothing was done.
    Duplicate,
    /// The message was stored and handled as `action` says.
    Handled(Handled),
}

/// The rows a handled message touched.
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    /// The customer.
    pub customer_id: CustomerId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The ticket.
    pub ticket_id: TicketId,
    /// The stored inbound message.
    pub message_id: MessageId,
    /// What was done.
    pub action: Action,
}

/// What was done with a stored message.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The agent answered.
    Answered,
    /// The agent answered and resolved the ticket.
    Resolved,
    /// The agent escalated the ticket.
    Escalated(EscalationReason),
    /// The conversation is escalated: an acknowledgement was queued.
    Acknowledged,
    /// The conversation is escalated and was acknowledged recently: stored only.
    StoredWhileEscalated,
    /// Over the rate limit: the one notice of this window was queued.
    RateLimitNotice,
    /// Over the rate limit and already notified: stored only.
    RateLimited,
    /// "MORE" on WhatsApp: the deferred rest was queued.
    SentDeferred,
}

impl Action {
    /// A short, content-free label (logs, the `outcome` metric label).
    pub fn label(&self) -> &'static str {
        match self {
            Action::Answered => "answered",
            Action::Resolved => "resolved",
            Action::Escalated(_) => "escalated",
            Action::Acknowledged => "acknowledged",
            Action::StoredWhileEscalated => "stored_while_escalated",
            Action::RateLimitNotice => "rate_limit_notice",
            Action::RateLimited => "rate_limited",
            Action::SentDeferred => "sent_deferred",
        }
    }
}
