//! Handing a ticket to a person, in the caller's transaction: the ticket
//! and its conversation move to `escalated`, the escalation row records
//! the reason, a summary and when a person should answer (the plan tier's
//! business hours), the conversation's acknowledgement clock starts, and
//! `ticket.escalated` goes to the event outbox.
//!
//! Two callers take this one path: the message step, when the agent
//! decided to escalate ([`crate::finish`]), and staff escalating a ticket
//! by id ([`escalate_ticket`], the MCP server's `escalate_to_human`).

use chrono::Utc;
use fte_domain::handoff::ResponseHours;
use fte_domain::{Channel, ConversationStatus, EventEnvelope, TicketStatus};
use fte_store::conversations::{self, ConversationRow, NewEscalation};
use fte_store::customers::{self, CustomerRow};
use fte_store::{PgPool, StoreError, outbox};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::HandleError;
use crate::agent::EscalationDecision;
use crate::pre_agent::{META_ACK_AT, set_meta_time};
use crate::schedule::business_hours_after;
use crate::transitions::{move_conversation, move_ticket, ticket_status};

/// One escalation to write.
pub(crate) struct Escalating<'a> {
    /// The ticket.
    pub(crate) ticket_id: Uuid,
    /// Its current status.
    pub(crate) ticket_status: TicketStatus,
    /// Its conversation, as locked by the caller.
    pub(crate) conversation: &'a ConversationRow,
    /// The customer.
    pub(crate) customer: &'a CustomerRow,
    /// Where the customer is answered.
    pub(crate) channel: Channel,
    /// Why, and the summary for the person taking over.
    pub(crate) decision: &'a EscalationDecision,
}

/// Writes the escalation; returns its id, or `None` when the ticket already
/// had one.
pub(crate) async fn escalate(
    conn: &mut PgConnection,
    response_hours: &ResponseHours,
    e: &Escalating<'_>,
) -> Result<Option<Uuid>, HandleError> {
    move_ticket(conn, e.ticket_id, e.ticket_status, TicketStatus::Escalated).await?;
    move_conversation(
        conn,
        e.conversation.id,
        &e.conversation.status,
        ConversationStatus::Escalated,
        None,
    )
    .await?;
    let now = Utc::now();
    let customer = e.customer;
    let hours = response_hours.for_plan(customer.plan.as_deref());
    let full_context = json!({
        "summary": e.decision.summary,
        "customer_id": customer.id,
        "conversation_id": e.conversation.id,
        "ticket_id": e.ticket_id,
        "channel": e.channel.as_str(),
        "reason": e.decision.reason.as_str(),
        "plan": customer.plan,
        "response_hours": hours,
    });
    let escalation_id = conversations::insert_escalation(
        &mut *conn,
        &NewEscalation {
            ticket_id: e.ticket_id,
            conversation_id: e.conversation.id,
            customer_id: customer.id,
            channel: e.channel.as_str(),
            reason: e.decision.reason.as_str(),
            full_context: full_context.clone(),
            expected_response_by: Some(business_hours_after(now, i64::from(hours))),
        },
    )
    .await?;
    set_meta_time(conn, e.conversation, META_ACK_AT, now).await?;
    let event = EventEnvelope::new(
        "ticket.escalated",
        now,
        json!({ "ticket_id": e.ticket_id, "full_context": full_context }),
    );
    outbox::enqueue_event(
        &mut *conn,
        fte_bus::topics::ESCALATIONS,
        &e.ticket_id.to_string(),
        &serde_json::to_value(&event).unwrap_or_default(),
    )
    .await?;
    Ok(escalation_id)
}

/// A ticket staff escalated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalatedTicket {
    /// The escalation (take it and answer it through the staff queue).
    pub escalation_id: Uuid,
    /// The ticket's conversation.
    pub conversation_id: Uuid,
}

/// Staff hand ticket `ticket_id` to a person, in one transaction, exactly as
/// the message step escalates an agent's decision; the customer is answered
/// on the conversation's current channel. A ticket nobody has worked on yet
/// (`open`) is taken to `processing` first, as the state machine asks.
/// `Ok(None)` when there is no such ticket; a ticket already escalated or
/// resolved fails with [`HandleError::Transition`], writing nothing. The
/// `ticket.escalated` event waits in the event outbox: publish it with
/// [`crate::events::relay_soon`].
pub async fn escalate_ticket(
    pool: &PgPool,
    response_hours: &ResponseHours,
    ticket_id: Uuid,
    decision: &EscalationDecision,
) -> Result<Option<EscalatedTicket>, HandleError> {
    let mut tx = pool.begin().await?;
    let Some(ticket) = conversations::ticket_for_update(&mut *tx, ticket_id).await? else {
        return Ok(None);
    };
    let (Some(conversation_id), Some(customer_id)) = (ticket.conversation_id, ticket.customer_id)
    else {
        return Err(HandleError::Invalid(
            "the ticket has no conversation or customer yet",
        ));
    };
    let conversation = conversations::conversation_for_update(&mut *tx, conversation_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    let customer = customers::customer(&mut *tx, customer_id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    let channel: Channel = conversation
        .current_channel
        .parse()
        .map_err(|_| HandleError::Invalid("the stored conversation has an unknown channel"))?;
    let mut status = ticket_status(&ticket.status)?;
    if status == TicketStatus::Open {
        status = move_ticket(&mut tx, ticket_id, status, TicketStatus::Processing).await?;
    }
    let escalating = Escalating {
        ticket_id,
        ticket_status: status,
        conversation: &conversation,
        customer: &customer,
        channel,
        decision,
    };
    let escalation_id = escalate(&mut tx, response_hours, &escalating)
        .await?
        .ok_or(HandleError::Invalid("the ticket was escalated before"))?;
    tx.commit().await?;
    tracing::info!(
        ticket.id = %ticket_id,
        escalation.id = %escalation_id,
        reason = decision.reason.as_str(),
        "ticket escalated by staff"
    );
    Ok(Some(EscalatedTicket {
        escalation_id,
        conversation_id,
    }))
}
