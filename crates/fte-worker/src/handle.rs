//! [`handle_event`]: the one step that turns an inbound message into stored
//! rows and queued replies, in one transaction.
//!
//! The story of a message: refuse what can never be processed; find the
//! stored copy by the channel's own id (processed → [`Outcome::Duplicate`]);
//! resolve the customer; continue their open conversation of the last
//! 24 hours on any channel or start one; store the message; take its
//! ticket to `processing`; then, in this order: an escalated conversation
//! only acknowledges, a customer over the rate limit gets one notice, a
//! WhatsApp "MORE" gets the deferred rest, and everything else goes to the
//! agent, whose outcome is committed with the reply, the escalation and the
//! events (see `step.rs`). Publishing happens after the commit, from the
//! event outbox.

use std::time::Instant;

use fte_domain::{
    Channel, ConversationId, ConversationStatus, CustomerId, EVENT_SCHEMA_VERSION,
    EscalationReason, EventEnvelope, InboundMessage, InvalidTransition, MessageId, Priority,
    TicketId, TicketStatus,
};
use fte_store::StoreError;
use fte_store::conversations::{self, ConversationRow, NewTicket, TicketRow};
use fte_store::customers;
use fte_store::messages::{self, NewInbound};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::agent::AgentUnavailable;
use crate::context::WorkerContext;
use crate::identity::{Identity, resolve_customer};
use crate::step::Step;

/// The notice a customer over the rate limit gets, once per window.
pub const RATE_LIMIT_NOTICE: &str = "We're processing your messages — please wait a moment.";
/// What a customer writing into an escalated conversation hears, at most
/// once per acknowledgement interval.
pub const ESCALATED_ACKNOWLEDGEMENT: &str = "Thanks, we've added this to your case. A member of our support team already has it and will reply here.";

pub(crate) const META_DEFERRED: &str = "deferred_reply";
pub(crate) const META_ACK_AT: &str = "escalation_ack_at";
pub(crate) const META_RATE_NOTICE_AT: &str = "rate_limit_notice_at";

/// Why a message could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The event can never be processed (bad version, no identity, no
    /// recipient): dead-letter it.
    #[error("invalid event: {0}")]
    Invalid(&'static str),
    /// The event's schema version is unknown: dead-letter it.
    #[error("unsupported event schema version {0}")]
    UnsupportedVersion(u16),
    /// A state change the domain refuses: nothing was written; dead-letter.
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    /// The database failed: retry later.
    #[error("database failure")]
    Store(#[from] StoreError),
    /// The agent's infrastructure failed: retry later.
    #[error(transparent)]
    Agent(#[from] AgentUnavailable),
}

impl From<sqlx::Error> for HandleError {
    fn from(error: sqlx::Error) -> Self {
        HandleError::Store(StoreError::Database(error))
    }
}

impl HandleError {
    /// Whether retrying the same event later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, HandleError::Store(_) | HandleError::Agent(_))
    }

    /// A short, content-free label (DLQ header, metric label).
    pub fn kind(&self) -> &'static str {
        match self {
            HandleError::Invalid(_) => "invalid",
            HandleError::UnsupportedVersion(_) => "unsupported_version",
            HandleError::Transition(_) => "invalid_transition",
            HandleError::Store(_) => "database",
            HandleError::Agent(_) => "agent",
        }
    }
}

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
    fn label(&self) -> &'static str {
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

/// Handles one inbound message event. Idempotent: a redelivered event
/// returns [`Outcome::Duplicate`] and changes nothing. Every write commits
/// in one transaction; events are published after the commit.
pub async fn handle_event(
    ctx: &WorkerContext,
    event: &EventEnvelope<InboundMessage>,
) -> Result<Outcome, HandleError> {
    if event.schema_version != EVENT_SCHEMA_VERSION {
        return Err(HandleError::UnsupportedVersion(event.schema_version));
    }
    let message = &event.payload;
    if message.channel_message_id.trim().is_empty() {
        return Err(HandleError::Invalid(
            "the message has no channel message id",
        ));
    }
    let identity = Identity::of(&message.sender)?;
    let started = Instant::now();
    let channel = message.channel;

    let mut tx = ctx.pool.begin().await?;
    let outcome = handle_in(ctx, &mut tx, message, &identity).await?;
    let Some(handled) = outcome else {
        tx.rollback().await?;
        metric_processed(channel, "duplicate");
        tracing::info!(channel = channel.as_str(), "duplicate message skipped");
        return Ok(Outcome::Duplicate);
    };
    tx.commit().await?;

    let elapsed = started.elapsed();
    let m = fte_runtime::metrics::global();
    metric_processed(channel, handled.action.label());
    m.message_processing
        .with_label_values(&[channel.as_str()])
        .observe(elapsed.as_secs_f64());
    if let Action::Escalated(reason) = &handled.action {
        m.escalations
            .with_label_values(&[channel.as_str(), reason.as_str()])
            .inc();
    }
    tracing::info!(
        conversation.id = %handled.conversation_id,
        ticket.id = %handled.ticket_id,
        channel = channel.as_str(),
        action = handled.action.label(),
        duration_ms = elapsed.as_millis() as u64,
        "message handled"
    );
    crate::events::relay_soon(&ctx.pool, ctx.events.as_ref()).await;
    Ok(Outcome::Handled(handled))
}

fn metric_processed(channel: Channel, outcome: &str) {
    fte_runtime::metrics::global()
        .messages_processed
        .with_label_values(&[channel.as_str(), outcome])
        .inc();
}

/// The transactional part; `None` for a duplicate (the caller rolls back).
async fn handle_in(
    ctx: &WorkerContext,
    conn: &mut PgConnection,
    message: &InboundMessage,
    identity: &Identity,
) -> Result<Option<Handled>, HandleError> {
    let channel = message.channel;
    let stored =
        messages::inbound_for_update(&mut *conn, channel.as_str(), &message.channel_message_id)
            .await?;
    if stored.is_some_and(|s| s.processed) {
        return Ok(None);
    }
    let name = message.sender.name.as_deref();
    let customer_id = resolve_customer(conn, identity, name).await?;
    let customer = customers::customer(&mut *conn, customer_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;

    // The gateway stores web form messages (with their conversation) before
    // publishing them; the worker then adopts that conversation.
    let conversation = match stored {
        Some(s) => conversations::conversation(&mut *conn, s.conversation_id)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?,
        None => {
            let window = ctx.config.conversation_window.as_secs() as i64;
            match conversations::open_conversation(&mut *conn, customer_id, window).await? {
                Some(open) => open,
                None => {
                    conversations::start_conversation(&mut *conn, customer_id, channel.as_str())
                        .await?
                }
            }
        }
    };
    if conversation.current_channel != channel.as_str() {
        conversations::record_switch(
            &mut *conn,
            conversation.id,
            &conversation.current_channel,
            channel.as_str(),
        )
        .await?;
    }
    conversations::touch(&mut *conn, conversation.id, channel.as_str()).await?;

    let message_id = match stored {
        Some(s) => {
            messages::mark_processed(&mut *conn, s.id).await?;
            s.id
        }
        None => {
            let inbound = NewInbound {
                conversation_id: conversation.id,
                channel: channel.as_str(),
                content: &message.content,
                channel_message_id: &message.channel_message_id,
                metadata: inbound_metadata(message),
            };
            match messages::insert_inbound(&mut *conn, &inbound).await? {
                Some(id) => id,
                // A concurrent delivery of the same message committed first.
                None => return Ok(None),
            }
        }
    };

    let ticket = ticket_for(conn, message, &conversation, customer_id).await?;
    let mut ticket_status = parse_ticket_status(&ticket.status)?;
    if ticket_status == TicketStatus::Open {
        ticket_status =
            move_ticket(conn, ticket.id, ticket_status, TicketStatus::Processing).await?;
    }

    let step = Step {
        ctx,
        message,
        identity,
        customer: &customer,
        conversation: &conversation,
        ticket_id: ticket.id,
        ticket_status,
        message_id,
    };
    let action = step.decide(conn).await?;
    Ok(Some(Handled {
        customer_id: CustomerId(customer_id),
        conversation_id: ConversationId(conversation.id),
        ticket_id: TicketId(ticket.id),
        message_id: MessageId(message_id),
        action,
    }))
}

fn inbound_metadata(message: &InboundMessage) -> serde_json::Value {
    // Channel extras only (thread ids, form category); never the sender.
    match &message.metadata {
        serde_json::Value::Object(map) => serde_json::Value::Object(map.clone()),
        _ => json!({}),
    }
}

fn parse_ticket_status(status: &str) -> Result<TicketStatus, HandleError> {
    status
        .parse()
        .map_err(|_| HandleError::Invalid("the stored ticket has an unknown status"))
}

/// The ticket of this message: the gateway's when it announced one, else the
/// conversation's unresolved ticket, else a new one.
async fn ticket_for(
    conn: &mut PgConnection,
    message: &InboundMessage,
    conversation: &ConversationRow,
    customer_id: Uuid,
) -> Result<TicketRow, HandleError> {
    if message.ticket_id.is_none()
        && let Some(open) = conversations::unresolved_ticket(&mut *conn, conversation.id).await?
    {
        return Ok(open);
    }
    let category = message
        .metadata
        .get("category")
        .and_then(|c| c.as_str())
        .and_then(|c| c.parse::<fte_domain::Category>().ok());
    let priority = message
        .metadata
        .get("priority")
        .and_then(|p| p.as_str())
        .and_then(|p| p.parse::<Priority>().ok())
        .unwrap_or_default();
    let id = message.ticket_id.map_or_else(Uuid::now_v7, |t| t.as_uuid());
    let ticket = conversations::ensure_ticket(
        conn,
        &NewTicket {
            id,
            conversation_id: conversation.id,
            customer_id,
            source_channel: message.channel.as_str(),
            subject: message.subject.as_deref(),
            category: category.map(|c| c.as_str()),
            priority: priority.as_str(),
        },
    )
    .await?;
    Ok(ticket)
}

/// Moves a ticket along the domain's state machine; a refused transition
/// writes nothing.
pub(crate) async fn move_ticket(
    conn: &mut PgConnection,
    id: Uuid,
    from: TicketStatus,
    to: TicketStatus,
) -> Result<TicketStatus, HandleError> {
    let to = from.transition(to)?;
    if !conversations::set_ticket_status(&mut *conn, id, from.as_str(), to.as_str()).await? {
        return Err(StoreError::Database(sqlx::Error::RowNotFound).into());
    }
    Ok(to)
}

pub(crate) async fn move_conversation(
    conn: &mut PgConnection,
    id: Uuid,
    from: &str,
    to: ConversationStatus,
    resolution_type: Option<&str>,
) -> Result<(), HandleError> {
    let from_status: ConversationStatus = from
        .parse()
        .map_err(|_| HandleError::Invalid("the stored conversation has an unknown status"))?;
    let to = from_status.transition(to)?;
    conversations::set_status(&mut *conn, id, from, to.as_str(), resolution_type).await?;
    Ok(())
}
