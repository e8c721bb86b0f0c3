//! The web form's two endpoints: submit a request, read a ticket.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use fte_domain::TicketId;
use fte_store::tickets;
use serde::Serialize;
use utoipa::ToSchema;

use super::form::{SubmitRequest, ValidSubmission};
use crate::error::{AppJson, ErrorBody};
use crate::submit::SubmitError;
use crate::{ApiError, AppState};

/// What the customer is told to expect.
pub const ESTIMATED_RESPONSE_TIME: &str = "Usually within 5 minutes";

/// `200` of `POST /support/submit`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    /// The new ticket's id; keep it to follow the conversation.
    pub ticket_id: String,
    /// A confirmation for the customer.
    pub message: String,
    /// When a reply can be expected.
    pub estimated_response_time: String,
}

impl SubmitResponse {
    fn accepted(ticket_id: TicketId) -> Self {
        Self {
            ticket_id: ticket_id.to_string(),
            message: "Thank you, we received your request. Keep your ticket ID to check its \
                      status; we will also reply by email."
                .to_owned(),
            estimated_response_time: ESTIMATED_RESPONSE_TIME.to_owned(),
        }
    }
}

/// Accepts a support request from the web form.
///
/// The ticket, its customer, conversation and first message and the events
/// announcing it commit in one transaction; the events are then published
/// (or, if Kafka is down, published later by the outbox relay). A 200
/// therefore always means the request is durable and will be processed.
#[utoipa::path(
    post,
    path = "/support/submit",
    tag = "support",
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "Accepted: the ticket exists", body = SubmitResponse),
        (status = 400, description = "Not JSON, or a value the database refuses", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 422, description = "Fields failed validation (each one named)", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Database unavailable; see Retry-After", body = ErrorBody),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    AppJson(form): AppJson<SubmitRequest>,
) -> Result<Json<SubmitResponse>, ApiError> {
    if form.is_bot() {
        // Look accepted, store nothing: the sender learns nothing.
        tracing::info!(channel = "web_form", "honeypot submission dropped");
        return Ok(Json(SubmitResponse::accepted(TicketId::new())));
    }
    let submission = form.validate().map_err(ApiError::Validation)?;
    let ticket_id = accept(&state, submission).await?;
    tracing::info!(ticket.id = %ticket_id, channel = "web_form", "web form request accepted");
    Ok(Json(SubmitResponse::accepted(ticket_id)))
}

async fn accept(state: &AppState, submission: ValidSubmission) -> Result<TicketId, ApiError> {
    state
        .submitter
        .submit(submission)
        .await
        .map_err(|error| match error {
            // Validation should have caught it; a retry would fail alike.
            SubmitError::Refused => ApiError::bad_request(
                "unstorable_submission",
                "The request holds a value that cannot be stored; check the fields for \
                 unusual characters.",
            ),
            SubmitError::Unavailable | SubmitError::Closed => {
                ApiError::unavailable("The service is temporarily unavailable.")
            }
        })
}

/// One message on the status page.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketMessage {
    /// customer, agent or system.
    pub role: String,
    /// web_form, email or whatsapp.
    pub channel: String,
    /// The text.
    pub content: String,
    /// When it was stored (RFC 3339).
    pub created_at: DateTime<Utc>,
}

/// `200` of `GET /support/ticket/{ticket_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketStatusResponse {
    /// The ticket id.
    pub ticket_id: String,
    /// open, processing, resolved or escalated.
    pub status: String,
    /// The conversation, oldest first.
    pub messages: Vec<TicketMessage>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub last_updated: DateTime<Utc>,
}

/// A ticket id from the path, or a 400.
pub fn parse_ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request("invalid_ticket_id", "The ticket ID is not a valid ID."))
}

/// The status of a ticket and its conversation.
#[utoipa::path(
    get,
    path = "/support/ticket/{ticket_id}",
    tag = "support",
    params(("ticket_id" = String, Path, description = "The ticket id (UUID)")),
    responses(
        (status = 200, description = "The ticket", body = TicketStatusResponse),
        (status = 400, description = "Not a ticket id", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
    )
)]
pub async fn ticket_status(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Json<TicketStatusResponse>, ApiError> {
    let ticket_id = parse_ticket_id(&raw_id)?;
    let ticket = tickets::ticket(&state.pool, ticket_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No ticket has this ID.".into()))?;
    let messages = match ticket.conversation_id {
        Some(conversation_id) => {
            tickets::conversation_messages(&state.pool, conversation_id).await?
        }
        None => Vec::new(),
    };
    Ok(Json(TicketStatusResponse {
        ticket_id: ticket.id.to_string(),
        status: ticket.status,
        messages: messages
            .into_iter()
            .map(|m| TicketMessage {
                role: m.role,
                channel: m.channel,
                content: m.content,
                created_at: m.created_at,
            })
            .collect(),
        created_at: ticket.created_at,
        last_updated: ticket.last_updated,
    }))
}
