//! Phase 1 of a message, one short transaction: find the stored copy by the
//! channel's own id (handled → duplicate), resolve the customer, continue
//! their open conversation of the last 24 hours on any channel or start one,
//! store the message, take its ticket to `processing`, and take the
//! decisions that need no agent ([`pre_agent`](crate::pre_agent)). A message
//! those decisions settle is marked handled here, one the rate limit defers
//! is marked deferred, and any other leaves this phase stored but not
//! handled, as a [`Turn`] for the agent.
//!
//! A message stored but not handled is picked up again by a redelivery: a
//! web form follow-up the gateway stored arrives that way, and so does a
//! message whose agent turn was interrupted (a crash, a failed agent, a lost
//! commit). A web form submission's first message is stored here, under
//! the id its event announced, and fills in the ticket the gateway opened.

use fte_domain::{InboundMessage, Priority, TicketStatus};
use fte_store::StoreError;
use fte_store::conversations::{self, ConversationRow, NewTicket, TicketRow};
use fte_store::customers::{self, CustomerRow};
use fte_store::messages::{self, NewInbound, StoredInbound};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::context::WorkerContext;
use crate::identity::{Identity, Sender, resolve_sender};
use crate::outcome::{Action, Handled};
use crate::pre_agent::Decision;
use crate::reply::ReplyTo;
use crate::transitions::{move_ticket, ticket_status};
use crate::{HandleError, pre_agent};

/// A stored message waiting for the agent: what phases 2 and 3 need.
pub(crate) struct Turn {
    /// The message (as sanitised by the step).
    pub(crate) message: InboundMessage,
    /// Its sender's identifiers.
    pub(crate) identity: Identity,
    /// Its sender's link and trust (what a reply may disclose).
    pub(crate) sender: Sender,
    /// The customer, as stored.
    pub(crate) customer: CustomerRow,
    /// The conversation.
    pub(crate) conversation_id: Uuid,
    /// The ticket.
    pub(crate) ticket_id: Uuid,
    /// The stored inbound message.
    pub(crate) message_id: Uuid,
}

impl Turn {
    /// The message as every reply to it sees it.
    pub(crate) fn reply_to(&self) -> ReplyTo<'_> {
        ReplyTo {
            message: &self.message,
            identity: &self.identity,
            sender: self.sender,
            customer: &self.customer,
            conversation_id: self.conversation_id,
            ticket_id: self.ticket_id,
        }
    }

    /// The ids of a handled message, with what was done.
    pub(crate) fn handled(&self, action: Action) -> Handled {
        Handled {
            customer_id: fte_domain::CustomerId(self.customer.id),
            conversation_id: fte_domain::ConversationId(self.conversation_id),
            ticket_id: fte_domain::TicketId(self.ticket_id),
            message_id: fte_domain::MessageId(self.message_id),
            action,
        }
    }
}

/// What phase 1 decided.
pub(crate) enum Accepted {
    /// Handled before: nothing was written.
    Duplicate,
    /// Settled without the agent, and committed.
    Settled(Handled),
    /// Stored and committed; the agent answers next.
    Agent(Box<Turn>),
}

/// Runs phase 1 in its own transaction.
pub(crate) async fn accept(
    ctx: &WorkerContext,
    message: InboundMessage,
    identity: Identity,
) -> Result<Accepted, HandleError> {
    // A concurrent delivery of the same message may commit its copy while
    // this one inserts; the second attempt then adopts that copy.
    for _ in 0..2 {
        let mut tx = ctx.pool.begin().await?;
        match accept_in(ctx, &mut tx, &message, &identity).await? {
            Stage::Duplicate => {
                tx.rollback().await?;
                return Ok(Accepted::Duplicate);
            }
            Stage::Raced => {
                tx.rollback().await?;
            }
            Stage::Stored(stored) => {
                let Stored {
                    customer,
                    sender,
                    conversation,
                    ticket_id,
                    message_id,
                    stored: stored_copy,
                } = *stored;
                let turn = Turn {
                    message,
                    identity,
                    sender,
                    customer,
                    conversation_id: conversation.id,
                    ticket_id,
                    message_id,
                };
                let decision = pre_agent::decide(
                    &mut tx,
                    ctx,
                    &turn.reply_to(),
                    &conversation,
                    message_id,
                    stored_copy,
                )
                .await?;
                let action = match decision {
                    Decision::Agent => {
                        tx.commit().await?;
                        return Ok(Accepted::Agent(Box::new(turn)));
                    }
                    Decision::Settled(action) => {
                        messages::mark_processed(&mut *tx, &[message_id]).await?;
                        action
                    }
                    Decision::Deferred(action) => {
                        messages::mark_deferred(&mut *tx, message_id).await?;
                        action
                    }
                };
                tx.commit().await?;
                return Ok(Accepted::Settled(turn.handled(action)));
            }
        }
    }
    Ok(Accepted::Duplicate)
}

enum Stage {
    Duplicate,
    Raced,
    Stored(Box<Stored>),
}

struct Stored {
    customer: CustomerRow,
    sender: Sender,
    conversation: ConversationRow,
    ticket_id: Uuid,
    message_id: Uuid,
    /// The copy found stored before this delivery, if any.
    stored: Option<StoredInbound>,
}

async fn accept_in(
    ctx: &WorkerContext,
    conn: &mut PgConnection,
    message: &InboundMessage,
    identity: &Identity,
) -> Result<Stage, HandleError> {
    let channel = message.channel;
    // Read first, locked below once its conversation is: conversation
    // before message, as every transaction takes them.
    let stored =
        messages::inbound(&mut *conn, channel.as_str(), &message.channel_message_id).await?;
    if stored.is_some_and(|s| s.processed) {
        return Ok(Stage::Duplicate);
    }
    let resolved = resolve_sender(conn, message, identity).await?;
    let customer_id = resolved.customer_id;
    let customer = customers::customer(&mut *conn, customer_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;

    // A stored copy (a web form follow-up, or an earlier delivery
    // whose agent turn did not finish) keeps its conversation.
    // A conversation started here already names this channel and now.
    let mut started = false;
    let conversation = match stored {
        Some(s) => {
            let conversation =
                conversations::conversation_for_update(&mut *conn, s.conversation_id)
                    .await?
                    .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
            // Now the message; a concurrent delivery may have handled it
            // meanwhile.
            let locked = messages::inbound_for_update(
                &mut *conn,
                channel.as_str(),
                &message.channel_message_id,
            )
            .await?;
            if locked.is_none_or(|l| l.processed) {
                return Ok(Stage::Duplicate);
            }
            conversation
        }
        None => {
            let window = ctx.config.conversation_window.as_secs() as i64;
            match conversations::open_conversation(&mut *conn, customer_id, window).await? {
                Some(open) => open,
                None => {
                    started = true;
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
    if !started {
        conversations::touch(&mut *conn, conversation.id, channel.as_str()).await?;
    }

    let message_id = match stored {
        Some(s) => s.id,
        None => {
            let web_form = channel == fte_domain::Channel::WebForm;
            let inbound = NewInbound {
                // The gateway announces a web form message's id (the
                // submitter's thread shows it) and its ticket.
                id: web_form.then(|| announced_message_id(message)).flatten(),
                conversation_id: conversation.id,
                ticket_id: web_form
                    .then(|| message.ticket_id.map(|t| t.as_uuid()))
                    .flatten(),
                channel: channel.as_str(),
                content: &message.content,
                channel_message_id: &message.channel_message_id,
                metadata: inbound_metadata(message),
            };
            let Some(id) = messages::insert_inbound(&mut *conn, &inbound).await? else {
                return Ok(Stage::Raced);
            };
            if let Some(ticket_id) = inbound.ticket_id {
                fte_store::web_threads::message_stored(&mut *conn, ticket_id, id).await?;
            }
            id
        }
    };

    // The link the message came through and its sender's trust: what a
    // reply may disclose and which rate-limit allowance it spends.
    if let Some(identifier_id) = resolved.sender.identifier_id {
        messages::record_sender(&mut *conn, message_id, identifier_id, resolved.sender.trust)
            .await?;
    }

    let ticket = ticket_for(conn, message, &conversation, customer_id).await?;
    let status = ticket_status(&ticket.status)?;
    if status == TicketStatus::Open {
        move_ticket(conn, ticket.id, status, TicketStatus::Processing).await?;
    }
    Ok(Stage::Stored(Box::new(Stored {
        customer,
        sender: resolved.sender,
        conversation,
        ticket_id: ticket.id,
        message_id,
        stored,
    })))
}

/// The message id a web form event announced (`metadata.message_id`).
fn announced_message_id(message: &InboundMessage) -> Option<Uuid> {
    message
        .metadata
        .get("message_id")
        .and_then(|id| id.as_str())
        .and_then(|id| id.parse().ok())
}

fn inbound_metadata(message: &InboundMessage) -> serde_json::Value {
    // Channel extras only (thread ids, form category); never the sender.
    match &message.metadata {
        serde_json::Value::Object(map) => serde_json::Value::Object(map.clone()),
        _ => json!({}),
    }
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
