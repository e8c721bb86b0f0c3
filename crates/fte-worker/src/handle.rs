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
//! events. Publishing happens after the commit, from the event outbox.

use std::time::Instant;

use chrono::{DateTime, Utc};
use fte_domain::format::{self, FormattedReply, Recipient as FormatRecipient};
use fte_domain::{
    Channel, ConversationId, ConversationStatus, CustomerId, EVENT_SCHEMA_VERSION,
    EscalationReason, EventEnvelope, InboundMessage, InvalidTransition, MessageId, Priority,
    TicketId, TicketStatus,
};
use fte_store::conversations::{self, ConversationRow, NewEscalation, NewTicket, TicketRow};
use fte_store::customers::{self, CustomerRow};
use fte_store::messages::{self, NewInbound};
use fte_store::{StoreError, outbox};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::agent::{AgentRequest, AgentUnavailable, HistoryEntry, HistoryRole};
use crate::context::WorkerContext;
use crate::identity::{Identity, resolve_customer};
use crate::reply::{self, QueuedReply};
use crate::schedule::business_hours_after;

/// The notice a customer over the rate limit gets, once per window.
pub const RATE_LIMIT_NOTICE: &str = "We're processing your messages — please wait a moment.";
/// What a customer writing into an escalated conversation hears, at most
/// once per acknowledgement interval.
pub const ESCALATED_ACKNOWLEDGEMENT: &str = "Thanks, we've added this to your case. A member of our support team already has it and will reply here.";

const META_DEFERRED: &str = "deferred_reply";
const META_ACK_AT: &str = "escalation_ack_at";
const META_RATE_NOTICE_AT: &str = "rate_limit_notice_at";

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
    if let Err(error) = crate::events::relay_pending(&ctx.pool, ctx.events.as_ref(), 100).await {
        tracing::warn!(%error, "events stay in the outbox for the relay");
    }
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
async fn move_ticket(
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

async fn move_conversation(
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

/// One message, after storage: decides and queues what the customer gets.
struct Step<'a> {
    ctx: &'a WorkerContext,
    message: &'a InboundMessage,
    identity: &'a Identity,
    customer: &'a CustomerRow,
    conversation: &'a ConversationRow,
    ticket_id: Uuid,
    ticket_status: TicketStatus,
    message_id: Uuid,
}

impl Step<'_> {
    fn channel(&self) -> Channel {
        self.message.channel
    }

    fn first_name(&self) -> Option<String> {
        self.message
            .sender
            .name
            .as_deref()
            .or(self.customer.name.as_deref())
            .and_then(|n| n.split_whitespace().next())
            .map(str::to_owned)
    }

    fn meta_time(&self, key: &str) -> Option<DateTime<Utc>> {
        self.conversation
            .metadata
            .get(key)
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    /// Shapes plain text for the channel with its greeting and ticket line.
    fn format(&self, text: &str) -> FormattedReply {
        let first_name = self.first_name();
        let reference = self.ticket_id.to_string();
        format::format_reply(
            self.channel(),
            FormatRecipient {
                first_name: first_name.as_deref(),
                ticket_reference: &reference,
            },
            text,
        )
    }

    async fn queue(
        &self,
        conn: &mut PgConnection,
        role: &str,
        formatted: &FormattedReply,
        agent: Option<&crate::agent::AgentOutcome>,
    ) -> Result<(), HandleError> {
        reply::queue(
            conn,
            &QueuedReply {
                message: self.message,
                identity: self.identity,
                conversation_id: self.conversation.id,
                ticket_id: self.ticket_id,
                role,
                parts: &formatted.messages,
                agent,
            },
        )
        .await?;
        if self.channel() == Channel::Whatsapp {
            let deferred = formatted.deferred.clone().map(serde_json::Value::String);
            conversations::set_metadata(&mut *conn, self.conversation.id, META_DEFERRED, deferred)
                .await?;
        }
        Ok(())
    }

    async fn decide(&self, conn: &mut PgConnection) -> Result<Action, HandleError> {
        let now = Utc::now();
        if self.conversation.status == ConversationStatus::Escalated.as_str() {
            let interval = chrono::Duration::from_std(self.ctx.config.escalated_ack_interval)
                .unwrap_or(chrono::Duration::hours(1));
            if self
                .meta_time(META_ACK_AT)
                .is_some_and(|at| now - at < interval)
            {
                return Ok(Action::StoredWhileEscalated);
            }
            let formatted = self.format(ESCALATED_ACKNOWLEDGEMENT);
            self.queue(conn, "system", &formatted, None).await?;
            self.set_meta_time(conn, META_ACK_AT, now).await?;
            return Ok(Action::Acknowledged);
        }

        let window = chrono::Duration::from_std(self.ctx.config.rate_limit_window)
            .unwrap_or(chrono::Duration::minutes(1));
        let recent =
            messages::inbound_count_since(&mut *conn, self.customer.id, now - window).await?;
        if recent > self.ctx.config.rate_limit_max {
            if self
                .meta_time(META_RATE_NOTICE_AT)
                .is_some_and(|at| now - at < window)
            {
                return Ok(Action::RateLimited);
            }
            let formatted = self.format(RATE_LIMIT_NOTICE);
            self.queue(conn, "system", &formatted, None).await?;
            self.set_meta_time(conn, META_RATE_NOTICE_AT, now).await?;
            return Ok(Action::RateLimitNotice);
        }

        if self.channel() == Channel::Whatsapp
            && self.message.content.trim().eq_ignore_ascii_case("more")
            && let Some(deferred) = self
                .conversation
                .metadata
                .get(META_DEFERRED)
                .and_then(|d| d.as_str())
        {
            let formatted = format::whatsapp(deferred);
            self.queue(conn, "agent", &formatted, None).await?;
            return Ok(Action::SentDeferred);
        }

        self.ask_agent(conn).await
    }

    async fn set_meta_time(
        &self,
        conn: &mut PgConnection,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        conversations::set_metadata(
            &mut *conn,
            self.conversation.id,
            key,
            Some(serde_json::Value::String(at.to_rfc3339())),
        )
        .await?;
        Ok(())
    }

    async fn ask_agent(&self, conn: &mut PgConnection) -> Result<Action, HandleError> {
        let history = messages::customer_history(
            &mut *conn,
            self.customer.id,
            self.message_id,
            self.ctx.config.history_limit,
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
        let request = AgentRequest {
            customer_id: CustomerId(self.customer.id),
            conversation_id: ConversationId(self.conversation.id),
            ticket_id: TicketId(self.ticket_id),
            channel: self.channel(),
            customer_first_name: self.first_name(),
            plan: self.customer.plan.clone(),
            subject: self.message.subject.clone(),
            message: self.message.content.clone(),
            history,
        };
        let outcome = self.ctx.agent.respond(&request).await?;
        let channel = self.channel().as_str();

        self.queue(conn, "agent", &outcome.reply, Some(&outcome))
            .await?;
        let sentiment = f64::from(outcome.sentiment);
        conversations::set_sentiment(&mut *conn, self.conversation.id, sentiment).await?;
        messages::set_sentiment(&mut *conn, self.message_id, sentiment).await?;
        if let Some(category) = outcome.ticket_category {
            conversations::set_ticket_category(&mut *conn, self.ticket_id, category.as_str())
                .await?;
        }

        let action = if let Some(decision) = &outcome.escalation {
            self.escalate(conn, decision).await?;
            Action::Escalated(decision.reason)
        } else if outcome.resolve_ticket {
            move_ticket(
                conn,
                self.ticket_id,
                self.ticket_status,
                TicketStatus::Resolved,
            )
            .await?;
            move_conversation(
                conn,
                self.conversation.id,
                &self.conversation.status,
                ConversationStatus::Resolved,
                Some("bot"),
            )
            .await?;
            Action::Resolved
        } else {
            Action::Answered
        };

        let tool_calls = outcome.tool_calls.as_array().map_or(0, Vec::len);
        for (name, value) in [
            ("response_latency_ms", f64::from(outcome.latency_ms)),
            ("tokens_used", f64::from(outcome.tokens_used)),
            ("sentiment", sentiment),
        ] {
            messages::record_agent_metric(
                &mut *conn,
                name,
                value,
                channel,
                json!({ "ticket_id": self.ticket_id }),
            )
            .await?;
        }
        let metrics_event = EventEnvelope::new(
            "agent.turn",
            Utc::now(),
            json!({
                "channel": channel,
                "conversation_id": self.conversation.id,
                "ticket_id": self.ticket_id,
                "latency_ms": outcome.latency_ms,
                "tokens_used": outcome.tokens_used,
                "tool_calls": tool_calls,
                "escalated": outcome.escalation.is_some(),
                "sentiment": outcome.sentiment,
            }),
        );
        outbox::enqueue_event(
            &mut *conn,
            fte_bus::topics::METRICS,
            &self.conversation.id.to_string(),
            &serde_json::to_value(&metrics_event).unwrap_or_default(),
        )
        .await?;
        let m = fte_runtime::metrics::global();
        m.agent_tokens
            .with_label_values(&[channel])
            .inc_by(u64::from(outcome.tokens_used));
        m.sentiment.with_label_values(&[channel]).observe(sentiment);
        Ok(action)
    }

    async fn escalate(
        &self,
        conn: &mut PgConnection,
        decision: &crate::agent::EscalationDecision,
    ) -> Result<(), HandleError> {
        move_ticket(
            conn,
            self.ticket_id,
            self.ticket_status,
            TicketStatus::Escalated,
        )
        .await?;
        move_conversation(
            conn,
            self.conversation.id,
            &self.conversation.status,
            ConversationStatus::Escalated,
            None,
        )
        .await?;
        let now = Utc::now();
        let hours = match self.customer.plan.as_deref() {
            Some("business") | Some("enterprise") => 1,
            _ => 4,
        };
        let full_context = json!({
            "summary": decision.summary,
            "customer_id": self.customer.id,
            "conversation_id": self.conversation.id,
            "ticket_id": self.ticket_id,
            "channel": self.channel().as_str(),
            "reason": decision.reason.as_str(),
            "plan": self.customer.plan,
        });
        conversations::insert_escalation(
            &mut *conn,
            &NewEscalation {
                ticket_id: self.ticket_id,
                conversation_id: self.conversation.id,
                customer_id: self.customer.id,
                channel: self.channel().as_str(),
                reason: decision.reason.as_str(),
                full_context: full_context.clone(),
                expected_response_by: Some(business_hours_after(now, hours)),
            },
        )
        .await?;
        conversations::set_metadata(
            &mut *conn,
            self.conversation.id,
            META_ACK_AT,
            Some(serde_json::Value::String(now.to_rfc3339())),
        )
        .await?;
        let event = EventEnvelope::new(
            "ticket.escalated",
            now,
            json!({ "ticket_id": self.ticket_id, "full_context": full_context }),
        );
        outbox::enqueue_event(
            &mut *conn,
            fte_bus::topics::ESCALATIONS,
            &self.ticket_id.to_string(),
            &serde_json::to_value(&event).unwrap_or_default(),
        )
        .await?;
        Ok(())
    }
}
