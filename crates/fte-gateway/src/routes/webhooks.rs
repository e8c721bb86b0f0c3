//! Provider webhooks: WhatsApp messages and delivery statuses (Twilio), and
//! Gmail's Pub/Sub push. Verification happens in the extractors; a 2xx is
//! sent only once what was received is durable: a WhatsApp message in
//! PostgreSQL with its outbox events (published right after, or by the
//! relay), a Gmail push on Kafka (it holds no database state, so a broker
//! outage answers 503 and Pub/Sub's redelivery recovers it).

use anyhow::Context;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fte_bus::consumer::dlq_headers;
use fte_bus::topics;
use fte_channels::gmail::decode_push;
use fte_channels::twilio::{parse_inbound, parse_status_callback};
use fte_domain::{Channel, EmailAddress, EventEnvelope};
use fte_store::tickets;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorBody;
use crate::extract::{PubSubPush, TwilioForm};
use crate::outbox::{enqueue_inbound, publish_committed_batch};
use crate::{ApiError, AppState};

/// The empty TwiML answer: acknowledged, no automatic reply (the agent
/// replies through the Messages API).
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// An empty TwiML document as `text/xml`.
pub struct Twiml;

impl IntoResponse for Twiml {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            EMPTY_TWIML,
        )
            .into_response()
    }
}

const KAFKA_DOWN: &str = "Messages cannot be accepted right now; please retry.";

/// An incoming WhatsApp message.
///
/// Deduplicated by `MessageSid`: the receipt and the message's outbox events
/// commit in one short transaction, then the events are published holding
/// no connection (the relay publishes them if the broker is away), so a
/// broker outage neither fails the webhook nor exhausts the pool. A retry
/// of a received message is acknowledged without a second event. The
/// message is [sanitised](fte_domain::InboundMessage::sanitised) by the
/// parser: a NUL character or an over-long profile name can never stall it.
#[utoipa::path(
    post,
    path = "/webhooks/whatsapp",
    tag = "webhooks",
    security(("twilio_signature" = [])),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
                 description = "Twilio's webhook parameters"),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's signature")),
    responses(
        (status = 200, description = "Accepted (or a duplicate): empty TwiML", content_type = "text/xml", body = String),
        (status = 400, description = "Authentic but not a WhatsApp message, or an unusable MessageSid", body = ErrorBody),
        (status = 403, description = "Signature does not verify", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 503, description = "Database unavailable; Twilio retries", body = ErrorBody),
    )
)]
pub async fn whatsapp(
    State(state): State<AppState>,
    TwilioForm { params, signed }: TwilioForm,
) -> Result<Twiml, ApiError> {
    let mut message = parse_inbound(&params, Utc::now())
        .map_err(|e| ApiError::bad_request("invalid_webhook", e.to_string()))?;
    // Twilio signed what it received from WhatsApp: the number is proven.
    message.sender.phone_verified = signed;
    let envelope = EventEnvelope::new("ticket.inbound", message.received_at, message);
    let mut tx = state
        .pool
        .begin()
        .await
        .context("Failed to begin a WhatsApp receipt")?;
    let first_delivery = tickets::record_receipt(
        &mut *tx,
        Channel::Whatsapp,
        &envelope.payload.channel_message_id,
    )
    .await
    .context("Failed to record a WhatsApp receipt")?;
    if !first_delivery {
        tracing::info!(channel = "whatsapp", message.sid = %envelope.payload.channel_message_id, "duplicate webhook acknowledged");
        return Ok(Twiml);
    }
    let committed = enqueue_inbound(&mut tx, &envelope)
        .await
        .context("Failed to queue a WhatsApp message")?;
    tx.commit()
        .await
        .context("Failed to commit a WhatsApp receipt")?;
    tracing::info!(channel = "whatsapp", message.sid = %envelope.payload.channel_message_id, "inbound message accepted");
    let (pool, publisher) = (state.pool.clone(), state.publisher.clone());
    tokio::spawn(async move {
        publish_committed_batch(&pool, &publisher, &[committed]).await;
    });
    Ok(Twiml)
}

/// A delivery status callback for a reply we sent.
#[utoipa::path(
    post,
    path = "/webhooks/whatsapp/status",
    tag = "webhooks",
    security(("twilio_signature" = [])),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
                 description = "MessageSid, MessageStatus, ErrorCode"),
    responses(
        (status = 200, description = "Recorded (or unknown message, ignored)", content_type = "text/xml", body = String),
        (status = 400, description = "Not a status callback", body = ErrorBody),
        (status = 403, description = "Signature does not verify", body = ErrorBody),
    )
)]
pub async fn whatsapp_status(
    State(state): State<AppState>,
    TwilioForm { params, .. }: TwilioForm,
) -> Result<Twiml, ApiError> {
    let update = parse_status_callback(&params)
        .map_err(|e| ApiError::bad_request("invalid_webhook", e.to_string()))?;
    let changed = tickets::update_delivery_status(
        &state.pool,
        Channel::Whatsapp,
        &update.message_sid,
        update.status.as_str(),
    )
    .await
    .context("Failed to record a delivery status")?;
    tracing::info!(
        channel = "whatsapp",
        message.sid = %update.message_sid,
        status = update.status.as_str(),
        error_code = update.error_code.as_deref().unwrap_or(""),
        known = changed > 0,
        "delivery status received"
    );
    Ok(Twiml)
}

/// The event published for a Gmail push: the worker syncs the mailbox from
/// its own stored history id, so only the mailbox and the id travel.
#[derive(Debug, Serialize, ToSchema)]
pub struct GmailNotificationEvent {
    /// The mailbox that changed (normalised).
    pub email_address: String,
    /// Its history id after the change.
    pub history_id: u64,
    /// Pub/Sub's message id.
    pub pubsub_message_id: Option<String>,
    /// Whether the push verified (its OIDC token or push secret): the
    /// worker counts a sender as proven only after a verified push.
    pub authenticated: bool,
}

/// `200` of the Gmail webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    /// `accepted` or `dead_lettered`.
    pub status: &'static str,
}

/// A Gmail Pub/Sub push notification.
///
/// Authentic but malformed pushes are acknowledged (redelivery would not fix
/// them) and copied to the dead-letter queue for inspection.
#[utoipa::path(
    post,
    path = "/webhooks/gmail",
    tag = "webhooks",
    security(("pubsub_oidc" = []), ("pubsub_token" = [])),
    request_body(content = String, content_type = "application/json",
                 description = "Pub/Sub push envelope"),
    params(("token" = Option<String>, Query, description = "Push secret, when token mode is configured")),
    responses(
        (status = 200, description = "Published, or dead-lettered when malformed", body = Acknowledged),
        (status = 403, description = "Token does not verify", body = ErrorBody),
        (status = 503, description = "Kafka or Google's keys unavailable; Pub/Sub redelivers", body = ErrorBody),
    )
)]
pub async fn gmail(
    State(state): State<AppState>,
    PubSubPush {
        body,
        authenticated,
    }: PubSubPush,
) -> Result<Json<Acknowledged>, ApiError> {
    let notification = match decode_push(&body) {
        Ok(notification) => notification,
        Err(error) => {
            let reason = error.to_string();
            state
                .publisher
                .publish(
                    topics::DLQ,
                    "webhooks.gmail",
                    &body,
                    &[
                        (dlq_headers::TOPIC, "webhooks.gmail"),
                        (dlq_headers::ERROR, "malformed_push"),
                        (dlq_headers::REASON, &reason),
                    ],
                )
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "dead-lettering a malformed push failed");
                    ApiError::unavailable(KAFKA_DOWN)
                })?;
            fte_runtime::metrics::global()
                .dlq_messages
                .with_label_values(&["webhooks.gmail", "malformed_push"])
                .inc();
            tracing::warn!(channel = "email", reason = %reason, "malformed Gmail push acknowledged and dead-lettered");
            return Ok(Json(Acknowledged {
                status: "dead_lettered",
            }));
        }
    };
    let mailbox = EmailAddress::parse(&notification.email_address)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| notification.email_address.trim().to_ascii_lowercase());
    let envelope = EventEnvelope::new(
        "gmail.notification",
        Utc::now(),
        GmailNotificationEvent {
            email_address: mailbox.clone(),
            history_id: notification.history_id,
            pubsub_message_id: notification.pubsub_message_id,
            authenticated,
        },
    );
    state
        .publisher
        .publish_json(topics::EMAIL_INBOUND, &mailbox, &envelope)
        .await
        .map_err(|e| {
            tracing::warn!(channel = "email", error = %e, "publish failed; answering 503 so Pub/Sub redelivers");
            ApiError::unavailable(KAFKA_DOWN)
        })?;
    tracing::info!(
        channel = "email",
        history.id = notification.history_id,
        "Gmail notification accepted"
    );
    Ok(Json(Acknowledged { status: "accepted" }))
}
