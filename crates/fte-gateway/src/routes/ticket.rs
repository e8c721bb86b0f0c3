//! `GET /support/ticket/{ticket_id}`: a ticket's status for anyone who has
//! its id, and its thread for whoever also holds its access key.
//!
//! Without the key the answer keeps the plan's fields (status, times) and
//! the customer's wording of the status, with no message content. With the
//! key it adds the ticket's thread: the web form messages of this ticket
//! only (never what another channel or another ticket added to a shared
//! conversation). A key that does not match is a 403, not a quiet downgrade,
//! so a broken link is noticed.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use fte_domain::{CustomerStatus, LatestMessage, TicketStatus};
use fte_store::web_threads::{self, ThreadMessage, ThreadTicket};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::support::parse_ticket_id;
use crate::error::ErrorBody;
use crate::estimate::Estimate;
use crate::ticket_access::{self, PresentedKey};
use crate::{ApiError, AppState};

/// One message of a ticket's thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketMessage {
    /// The message id.
    pub id: Uuid,
    /// customer, agent or system.
    pub role: String,
    /// Always web_form: a thread shows the web form's messages only.
    pub channel: String,
    /// The text. Replies use a small Markdown subset (bold, links, lists).
    pub content: String,
    /// When it was stored (RFC 3339).
    pub created_at: DateTime<Utc>,
}

/// `200` of `GET /support/ticket/{ticket_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketStatusResponse {
    /// The ticket id.
    pub ticket_id: String,
    /// The plan's state: open, processing, resolved or escalated.
    pub status: String,
    /// What the customer is told: received, in_progress, answered,
    /// with_team or resolved.
    #[schema(value_type = String, example = "answered")]
    pub customer_status: CustomerStatus,
    /// `customer_status` in English words.
    pub status_label: String,
    /// `thread` when the request carried the ticket's access key (messages
    /// included), `status` otherwise (no message content).
    pub access: String,
    /// Whether the holder of the key may write into the thread now.
    pub can_reply: bool,
    /// When an answer can be expected, while one is awaited.
    pub estimate: Option<Estimate>,
    /// The thread, oldest first (empty without the access key).
    pub messages: Vec<TicketMessage>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change of the ticket or its thread.
    pub last_updated: DateTime<Utc>,
}

/// Checks the presented key against the ticket's; 403 when it does not match.
pub fn verify_access(ticket: &ThreadTicket, presented: &str) -> Result<(), ApiError> {
    let granted = ticket
        .access_key_hash
        .as_deref()
        .is_some_and(|hash| ticket_access::matches(hash, presented));
    if granted {
        return Ok(());
    }
    tracing::info!(ticket.id = %ticket.id, "ticket access key refused");
    Err(ApiError::denied(
        "access_denied",
        "This access key does not open this ticket. Use the link from your confirmation.",
    ))
}

/// The plan's state of a stored ticket.
pub fn ticket_status_of(ticket: &ThreadTicket) -> Result<TicketStatus, ApiError> {
    ticket
        .status
        .parse()
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("a stored ticket has an unknown status")))
}

/// The status of a ticket; its thread with the access key.
#[utoipa::path(
    get,
    path = "/support/ticket/{ticket_id}",
    tag = "support",
    params(
        ("ticket_id" = Uuid, Path, description = "The ticket id (UUID)"),
        ("access_key" = Option<String>, Query, description = "The ticket's access key (or the X-Ticket-Access-Key header): adds the thread"),
        ("X-Ticket-Access-Key" = Option<String>, Header, description = "The ticket's access key: adds the thread"),
    ),
    responses(
        (status = 200, description = "The ticket (with its thread when the key was given)", body = TicketStatusResponse),
        (status = 400, description = "Not a ticket id, or an unreadable key", body = ErrorBody),
        (status = 403, description = "The access key does not open this ticket", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
    )
)]
pub async fn ticket_status(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    PresentedKey(key): PresentedKey,
) -> Result<Json<TicketStatusResponse>, ApiError> {
    let ticket_id = parse_ticket_id(&raw_id)?;
    let ticket = web_threads::ticket(&state.pool, ticket_id.as_uuid())
        .await?
        .ok_or_else(|| ApiError::NotFound("No ticket has this ID.".into()))?;
    let with_thread = match key.as_deref() {
        Some(key) => {
            verify_access(&ticket, key)?;
            true
        }
        None => false,
    };
    let messages = web_threads::thread_messages(&state.pool, ticket.id).await?;
    let status = ticket_status_of(&ticket)?;
    let customer_status = CustomerStatus::of(
        status,
        messages.last().map(|m| LatestMessage::of_role(&m.role)),
    );
    let estimate = match customer_status {
        CustomerStatus::Received | CustomerStatus::InProgress => {
            Some(state.estimator.bot(&state.pool).await)
        }
        CustomerStatus::WithTeam => Some(
            ticket
                .expected_response_by
                .map_or_else(Estimate::unknown, |by| Estimate::for_team(by, Utc::now())),
        ),
        CustomerStatus::Answered | CustomerStatus::Resolved => None,
    };
    let last_updated = messages
        .iter()
        .map(|m| m.created_at)
        .fold(ticket.updated_at, DateTime::max);
    Ok(Json(TicketStatusResponse {
        ticket_id: ticket.id.to_string(),
        status: ticket.status.clone(),
        customer_status,
        status_label: customer_status.label().to_owned(),
        access: if with_thread { "thread" } else { "status" }.to_owned(),
        can_reply: with_thread && customer_status.accepts_follow_ups(),
        estimate,
        messages: if with_thread {
            messages.into_iter().map(thread_message).collect()
        } else {
            Vec::new()
        },
        created_at: ticket.created_at,
        last_updated,
    }))
}

fn thread_message(message: ThreadMessage) -> TicketMessage {
    TicketMessage {
        id: message.id,
        role: message.role,
        channel: "web_form".to_owned(),
        content: message.content,
        created_at: message.created_at,
    }
}
