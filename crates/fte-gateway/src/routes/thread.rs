//! `POST /support/ticket/{ticket_id}/messages`: the customer writes into
//! their ticket's thread.
//!
//! The follow-up takes the submission's durable path: the message and the
//! events announcing it (`fte.tickets.incoming` and the web inbound topic)
//! commit in one transaction, then the events are published (the outbox
//! relay covers a broker outage). Before the worker has taken the
//! submission itself, the ticket has no conversation yet and the events
//! alone are committed; the worker stores the message, under the id
//! answered here, when it takes them. The event carries the ticket id and the
//! sender exactly as the submission named it, so the worker answers in the
//! same conversation and ticket. Only the holder of the ticket's access key
//! may write; a resolved ticket takes no more messages (409). A retry
//! with the same `Idempotency-Key` answers the first message again (the
//! ticket's row lock serialises follow-ups, so a claim is never raced).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use fte_domain::events::InboundSender;
use fte_domain::{Channel, EventEnvelope, InboundMessage, TicketStatus};
use fte_store::web_threads::{self, NewFollowUp, ThreadTicket};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::form::MESSAGE_LENGTH;
use super::support::parse_ticket_id;
use super::ticket::{ticket_status_of, verify_access};
use crate::error::{AppJson, ErrorBody, FieldError};
use crate::idempotency::{self, FollowUpKey, IdempotencyKey};
use crate::ticket_access::PresentedKey;
use crate::{ApiError, AppState, outbox};

/// The body of a follow-up.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    /// 1 to 5000 characters after trimming.
    #[serde(default)]
    #[schema(required = true, nullable = false, value_type = String, min_length = 1,
        pattern = r"^\s*[^\s\x00](?:[^\x00]{0,4998}[^\s\x00])?\s*$", example = "It still fails after a restart.")]
    pub message: Option<String>,
}

/// Message text never appears in debug output.
impl std::fmt::Debug for FollowUpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowUpRequest").finish_non_exhaustive()
    }
}

impl FollowUpRequest {
    /// The trimmed message, or the field's error.
    pub fn validate(&self) -> Result<String, Vec<FieldError>> {
        let trimmed = self.message.as_deref().unwrap_or_default().trim();
        let length = trimmed.chars().count();
        let problem = if length == 0 {
            Some("Enter your message.".to_owned())
        } else if length > MESSAGE_LENGTH.1 {
            Some(format!(
                "Message must be at most {} characters.",
                MESSAGE_LENGTH.1
            ))
        } else if trimmed.contains('\0') {
            Some("Message contains a character that cannot be stored (NUL).".to_owned())
        } else {
            None
        };
        match problem {
            Some(message) => Err(vec![FieldError::new("message", message)]),
            None => Ok(trimmed.to_owned()),
        }
    }
}

/// `202` of `POST /support/ticket/{ticket_id}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpAccepted {
    /// The ticket.
    pub ticket_id: String,
    /// The stored message.
    pub message_id: Uuid,
}

/// Adds the customer's message to a web form ticket's thread.
#[utoipa::path(
    post,
    path = "/support/ticket/{ticket_id}/messages",
    tag = "support",
    params(
        ("ticket_id" = Uuid, Path, description = "The ticket id (UUID)"),
        ("X-Ticket-Access-Key" = String, Header, description = "The ticket's access key (or `?access_key=`)"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Optional; 16 to 255 visible ASCII characters, one per message (a UUID), reused on its retries: a retry with the same key and text answers the first message and stores nothing new", min_length = 16, max_length = 255, pattern = "^[!-~]{16,255}$"),
    ),
    request_body = FollowUpRequest,
    responses(
        (status = 202, description = "Stored and queued for the agent (or, for a retried Idempotency-Key, stored already)", body = FollowUpAccepted),
        (status = 400, description = "Not a ticket id, not JSON, an unreadable key or a malformed Idempotency-Key", body = ErrorBody),
        (status = 403, description = "No access key, or one that does not open this ticket", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The ticket is resolved: send a new request", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was first used with another text (`idempotency_key_reused`)", body = ErrorBody),
        (status = 422, description = "`message` missing, empty or too long", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Database unavailable; see Retry-After", body = ErrorBody),
    )
)]
pub async fn post_message(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    PresentedKey(key): PresentedKey,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    AppJson(body): AppJson<FollowUpRequest>,
) -> Result<(StatusCode, Json<FollowUpAccepted>), ApiError> {
    let ticket_id = parse_ticket_id(&raw_id)?;
    let content = body.validate().map_err(ApiError::Validation)?;
    let key = key.ok_or_else(|| {
        ApiError::denied(
            "access_key_required",
            "Writing into a ticket needs its access key (X-Ticket-Access-Key).",
        )
    })?;
    let mut tx = state
        .pool
        .begin()
        .await
        .map_err(fte_store::StoreError::from)?;
    let ticket = web_threads::ticket_for_update(&mut tx, ticket_id.as_uuid())
        .await?
        .ok_or_else(|| ApiError::NotFound("No ticket has this ID.".into()))?;
    verify_access(&ticket, &key)?;
    let idempotency = idempotency_key
        .as_deref()
        .map(|key| FollowUpKey::new(key, ticket.id, &content));
    if let Some(message_id) = replayed(&mut tx, idempotency.as_ref()).await? {
        return Ok((
            StatusCode::ACCEPTED,
            Json(FollowUpAccepted {
                ticket_id: ticket.id.to_string(),
                message_id,
            }),
        ));
    }
    if ticket_status_of(&ticket)? == TicketStatus::Resolved {
        return Err(ApiError::Conflict {
            code: "ticket_resolved",
            message: "This ticket is resolved. Send a new request if you need more help.".into(),
        });
    }
    let message_id = Uuid::now_v7();
    let envelope = follow_up_event(&ticket, message_id, &content)?;
    // Until the worker has taken the submission, the ticket has no
    // conversation: the follow-up then travels as its event only, and the
    // worker stores it under `message_id` as it stores the first message.
    if let Some(conversation_id) = ticket.conversation_id {
        web_threads::insert_follow_up(
            &mut *tx,
            &NewFollowUp {
                id: message_id,
                conversation_id,
                ticket_id: ticket.id,
                content: &content,
            },
        )
        .await?;
    }
    if let Some(idempotency) = &idempotency {
        let claim = fte_store::idempotency::NewClaim {
            scope_hash: idempotency.scope_hash,
            request_hash: idempotency.request_hash,
            ticket_id: ticket.id,
            sealed_access_key: None,
            message_id: Some(message_id),
        };
        fte_store::idempotency::claim(&mut tx, std::slice::from_ref(&claim)).await?;
    }
    let committed = outbox::enqueue_web_inbound(&mut tx, std::slice::from_ref(&envelope)).await?;
    tx.commit().await.map_err(fte_store::StoreError::from)?;
    tracing::info!(
        ticket.id = %ticket.id,
        message.id = %message_id,
        channel = "web_form",
        "web form follow-up accepted"
    );
    let (pool, publisher) = (state.pool.clone(), state.publisher.clone());
    tokio::spawn(async move {
        outbox::publish_committed_batch(&pool, &publisher, &committed).await;
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(FollowUpAccepted {
            ticket_id: ticket.id.to_string(),
            message_id,
        }),
    ))
}

/// The message an earlier request with the same key stored, if any; a 422
/// when the key came with another text.
async fn replayed(
    tx: &mut sqlx::PgConnection,
    idempotency: Option<&FollowUpKey>,
) -> Result<Option<Uuid>, ApiError> {
    let Some(idempotency) = idempotency else {
        return Ok(None);
    };
    let Some(stored) = fte_store::idempotency::find(&mut *tx, &idempotency.scope_hash).await?
    else {
        return Ok(None);
    };
    if !stored.same_request(&idempotency.request_hash) {
        return Err(idempotency::reused());
    }
    stored.message_id.map(Some).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "a follow-up's idempotency row holds no message"
        ))
    })
}

/// The `ticket.inbound` event of a follow-up: the submission's sender, the
/// ticket's subject, and the ticket id so the worker keeps the ticket.
fn follow_up_event(
    ticket: &ThreadTicket,
    message_id: Uuid,
    content: &str,
) -> Result<EventEnvelope<InboundMessage>, ApiError> {
    let sender: InboundSender = ticket
        .sender
        .clone()
        .and_then(|sender| serde_json::from_value(sender).ok())
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "a web form ticket's stored sender is missing or unreadable"
            ))
        })?;
    let now = Utc::now();
    Ok(EventEnvelope::new(
        "ticket.inbound",
        now,
        InboundMessage {
            channel: Channel::WebForm,
            channel_message_id: message_id.to_string(),
            sender,
            subject: ticket.subject.clone(),
            content: content.to_owned(),
            received_at: now,
            ticket_id: Some(fte_domain::TicketId(ticket.id)),
            metadata: json!({
                "customer_id": ticket.customer_id,
                "conversation_id": ticket.conversation_id,
                "message_id": message_id,
                "follow_up": true,
            }),
        },
    ))
}
