//! Twilio's inbound webhooks: the form body, an incoming WhatsApp message,
//! and a delivery status callback.

use chrono::{DateTime, Utc};
use fte_domain::{Channel, InboundMessage, PhoneNumber, events::InboundSender};
use serde_json::json;

/// Why a Twilio webhook body could not be used. Values are never included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwilioParseError {
    /// A required parameter is absent or empty.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// `From` is not a WhatsApp address with a valid number.
    #[error("parameter From is not a valid WhatsApp number")]
    InvalidFrom,
    /// `MessageStatus` is not one Twilio documents.
    #[error("unknown message status")]
    UnknownStatus,
    /// `MessageSid` cannot be stored (too long, or a control character).
    #[error("parameter MessageSid is not a valid message id")]
    InvalidMessageSid,
}

/// Parses an `application/x-www-form-urlencoded` body into ordered pairs,
/// keeping repeated names.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// Turns an incoming WhatsApp webhook into an [`InboundMessage`].
///
/// `From` must be `whatsapp:+…`. `Body` may be empty or absent: the
/// customer sent only media (noted in the metadata, `num_media`) or an empty
/// message; either is accepted, and the agent asks how it can help. The message
/// comes out [sanitised](InboundMessage::sanitised): NUL characters removed,
/// the profile name cut to its column; a `MessageSid` that could not be
/// stored is refused.
pub fn parse_inbound(
    params: &[(String, String)],
    received_at: DateTime<Utc>,
) -> Result<InboundMessage, TwilioParseError> {
    let sid = first(params, "MessageSid")
        .or_else(|| first(params, "SmsMessageSid"))
        .ok_or(TwilioParseError::Missing("MessageSid"))?;
    if fte_domain::text::channel_message_id_problem(sid).is_some() {
        return Err(TwilioParseError::InvalidMessageSid);
    }
    let from = first(params, "From").ok_or(TwilioParseError::Missing("From"))?;
    if !from
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("whatsapp:")
    {
        return Err(TwilioParseError::InvalidFrom);
    }
    let phone = PhoneNumber::parse(from).map_err(|_| TwilioParseError::InvalidFrom)?;
    let body = params
        .iter()
        .find(|(n, _)| n == "Body")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let num_media: u32 = first(params, "NumMedia")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(InboundMessage {
        channel: Channel::Whatsapp,
        channel_message_id: sid.to_owned(),
        sender: InboundSender {
            email: None,
            phone: Some(phone.as_str().to_owned()),
            name: first(params, "ProfileName").map(str::to_owned),
            // The gateway sets this once the webhook's signature verified.
            ..InboundSender::default()
        },
        subject: None,
        content: body,
        received_at,
        ticket_id: None,
        metadata: json!({
            "num_media": num_media,
            "wa_id": first(params, "WaId"),
            "to": first(params, "To"),
            "account_sid": first(params, "AccountSid"),
        }),
    }
    .sanitised())
}

/// A reply's delivery state as Twilio reports it; the spelling matches
/// `messages.delivery_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Accepted, waiting to go out.
    Queued,
    /// Handed to WhatsApp.
    Sent,
    /// On the customer's phone.
    Delivered,
    /// Read by the customer.
    Read,
    /// Twilio could not send it.
    Failed,
    /// WhatsApp could not deliver it.
    Undelivered,
}

impl DeliveryStatus {
    /// The `messages.delivery_status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Undelivered => "undelivered",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "accepted" | "scheduled" | "queued" | "sending" => DeliveryStatus::Queued,
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" | "canceled" => DeliveryStatus::Failed,
            "undelivered" => DeliveryStatus::Undelivered,
            _ => return None,
        })
    }
}

/// A status callback for a reply we sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The SID Twilio returned when the reply was sent.
    pub message_sid: String,
    /// The new state.
    pub status: DeliveryStatus,
    /// Twilio's error code for failed and undelivered messages.
    pub error_code: Option<String>,
}

/// Parses a status callback (`MessageSid`, `MessageStatus`, `ErrorCode`).
pub fn parse_status_callback(
    params: &[(String, String)],
) -> Result<StatusUpdate, TwilioParseError> {
    let message_sid = first(params, "MessageSid")
        .or_else(|| first(params, "SmsSid"))
        .ok_or(TwilioParseError::Missing("MessageSid"))?;
    let raw_status = first(params, "MessageStatus")
        .or_else(|| first(params, "SmsStatus"))
        .ok_or(TwilioParseError::Missing("MessageStatus"))?;
    let status = DeliveryStatus::parse(raw_status).ok_or(TwilioParseError::UnknownStatus)?;
    Ok(StatusUpdate {
        message_sid: message_sid.to_owned(),
        status,
        error_code: first(params, "ErrorCode").map(str::to_owned),
    })
}
