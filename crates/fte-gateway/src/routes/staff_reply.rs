//! `POST /conversations/{id}/reply`: a staff member's reply to an escalated
//! conversation, addressed and formatted for the customer's current channel
//! and delivered by the worker's sender for that channel, exactly as the
//! bot's replies are. See [`super::escalations`] for the rest of the handoff.

use anyhow::Context;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fte_channels::OutboundReply;
use fte_channels::outbound;
use fte_domain::format::{self, Recipient as FormatRecipient};
use fte_domain::{Channel, EmailAddress, PhoneNumber};
use fte_store::escalations::{self, NewStaffReply, ReplyTarget};
use fte_store::outbox::{self as store_outbox, NewReply};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::staff_input::{acting_staff, parse_id, text_field};
use crate::auth::{StaffAuth, Target};
use crate::error::{AppJson, ErrorBody};
use crate::{ApiError, AppState};

/// The longest staff reply, in characters (WhatsApp splits it into messages;
/// an email longer than 500 words into numbered emails).
pub const MAX_REPLY_CHARS: usize = 5000;

/// `POST /conversations/{id}/reply` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The key's owner, who writes (optional; when sent it must be their
    /// name, else 403 `staff_mismatch`).
    #[schema(min_length = 1, max_length = 255, example = "ana.ruiz")]
    pub staff: Option<String>,
    /// The reply, in light Markdown (1–5000 characters after trimming); it
    /// is formatted for the customer's current channel.
    #[schema(
        min_length = 1,
        pattern = r"^\s*[^\s\x00](?:[^\x00]{0,4998}[^\s\x00])?\s*$",
        example = "I have refunded the duplicate charge."
    )]
    pub message: String,
}

/// `202` of `POST /conversations/{id}/reply`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyAccepted {
    /// The stored message (role `agent`).
    pub message_id: Uuid,
    /// The channel it goes out on.
    pub channel: String,
    /// How many channel messages it was split into.
    pub parts: usize,
}

/// The reply as the worker's sender needs it, addressed and formatted for
/// the conversation's current channel.
fn staff_outbound(
    target: &ReplyTarget,
    channel: Channel,
    text: &str,
    message_id: Uuid,
) -> Result<OutboundReply, ApiError> {
    let email = target
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok());
    let phone = target
        .phone
        .as_deref()
        .and_then(|p| PhoneNumber::parse(p).ok());
    let to = outbound::recipient(channel, email.as_ref(), phone.as_ref()).map_err(|missing| {
        ApiError::Conflict {
            code: "no_address_on_channel",
            message: format!(
                "The customer cannot be reached on {}: {missing}.",
                channel.as_str()
            ),
        }
    })?;
    let first_name = target
        .customer_name
        .as_deref()
        .and_then(|n| n.split_whitespace().next());
    let reference = target.ticket_id.map(|t| t.to_string()).unwrap_or_default();
    let parts = format::format_whole(
        channel,
        FormatRecipient {
            first_name,
            ticket_reference: &reference,
        },
        text,
    );
    let metadata = target
        .last_inbound_metadata
        .clone()
        .unwrap_or_else(|| json!({}));
    Ok(OutboundReply {
        channel,
        to,
        subject: outbound::reply_subject(channel, target.subject.as_deref()),
        parts,
        thread: outbound::email_thread(channel, &metadata),
        idempotency_key: message_id.to_string(),
        last_inbound_at: target.last_inbound_at,
        ticket_reference: target.ticket_id.map(|t| t.to_string()),
    })
}

/// A staff member's reply, delivered through the customer's current channel
/// with that channel's formatting. Answers once the message and its
/// delivery are committed; the worker sends it.
#[utoipa::path(
    post,
    path = "/conversations/{id}/reply",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "Conversation id (UUID)")),
    request_body = ReplyRequest,
    responses(
        (status = 202, description = "Stored and queued for delivery", body = ReplyAccepted),
        (status = 400, description = "Not a conversation id, or not JSON", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 409, description = "The conversation is not escalated, or the customer has no address on its channel", body = ErrorBody),
        (status = 403, description = "`staff` names someone other than the key's owner (`staff_mismatch`)", body = ErrorBody),
        (status = 422, description = "`message` missing or too long", body = ErrorBody),
    )
)]
pub async fn reply(
    auth: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    AppJson(body): AppJson<ReplyRequest>,
) -> Result<(StatusCode, Json<ReplyAccepted>), ApiError> {
    let conversation_id = parse_id(&raw_id, "invalid_conversation_id", "conversation")?;
    let accepted = reply_to_conversation(&state.pool, &auth, conversation_id, &body).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// `auth`'s reply to escalated conversation `conversation_id`, audited:
/// the message and its delivery are committed together, addressed and
/// formatted for the customer's current channel, for the worker's sender
/// to deliver. 404 for no such conversation; 409 when the conversation is
/// not escalated or the customer has no address on its channel.
pub async fn reply_to_conversation(
    pool: &PgPool,
    auth: &StaffAuth,
    conversation_id: Uuid,
    body: &ReplyRequest,
) -> Result<ReplyAccepted, ApiError> {
    let mut errors = Vec::new();
    let staff = acting_staff(body.staff.as_deref(), auth)?;
    let text = text_field(&body.message, "message", MAX_REPLY_CHARS, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    auth.audit(
        pool,
        "conversation.reply",
        Target::one("conversation", &conversation_id.to_string()),
    )
    .await?;
    let mut tx = pool
        .begin()
        .await
        .context("Failed to begin a staff reply")?;
    let target = escalations::reply_target(&mut tx, conversation_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No conversation has this ID.".into()))?;
    if target.status != "escalated" {
        return Err(ApiError::Conflict {
            code: "not_escalated",
            message: format!(
                "The conversation is {}: staff reply to escalated conversations only, so a \
                 person and the bot never answer at once.",
                target.status
            ),
        });
    }
    let channel: Channel = target
        .current_channel
        .parse()
        .context("A stored conversation has an unknown channel")?;
    // The message id is the reply's idempotency key, so it is chosen here.
    let message_id = Uuid::now_v7();
    let outbound = staff_outbound(&target, channel, &text, message_id)?;
    let content = outbound.parts.join("\n\n");
    escalations::insert_staff_reply(
        &mut *tx,
        &NewStaffReply {
            id: message_id,
            conversation_id,
            channel: channel.as_str(),
            staff: &staff,
            content: &content,
            parts: outbound.parts.len(),
        },
    )
    .await?;
    let payload = serde_json::to_value(&outbound).context("Failed to encode a staff reply")?;
    store_outbox::enqueue_reply(
        &mut *tx,
        &NewReply {
            message_id,
            conversation_id,
            ticket_id: target.ticket_id,
            channel: channel.as_str(),
            payload,
        },
    )
    .await?;
    tx.commit()
        .await
        .context("Failed to commit a staff reply")?;
    tracing::info!(
        conversation.id = %conversation_id,
        message.id = %message_id,
        channel = channel.as_str(),
        parts = outbound.parts.len(),
        "staff reply queued"
    );
    Ok(ReplyAccepted {
        message_id,
        channel: channel.as_str().to_owned(),
        parts: outbound.parts.len(),
    })
}
