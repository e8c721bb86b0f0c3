//! The staff API: conversations, customer lookup and per-channel metrics
//! (customers by id, merges and unlinks are in [`super::customers`]).
//! Every handler takes [`StaffAuth`], so none can run without a staff key.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use fte_domain::{ConversationId, EmailAddress, PhoneNumber};
use fte_store::tickets::{self, MessageView};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub use super::customers::ConversationSummary;
use super::customers::{CustomerDetail, detail};
use crate::auth::{StaffAuth, Target};
use crate::error::{ErrorBody, FieldError};
use crate::{ApiError, AppState};

/// One message, on whichever channel it travelled.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationMessage {
    /// Message id.
    pub id: Uuid,
    /// customer, agent or system.
    pub role: String,
    /// The channel.
    pub channel: String,
    /// inbound or outbound.
    pub direction: String,
    /// The text.
    pub content: String,
    /// Delivery state.
    pub delivery_status: String,
    /// Stored at.
    pub created_at: DateTime<Utc>,
}

impl From<MessageView> for ConversationMessage {
    fn from(m: MessageView) -> Self {
        Self {
            id: m.id,
            role: m.role,
            channel: m.channel,
            direction: m.direction,
            content: m.content,
            delivery_status: m.delivery_status,
            created_at: m.created_at,
        }
    }
}

/// `GET /conversations/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDetail {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationSummary,
    /// Its customer.
    pub customer_id: Uuid,
    /// Every message across channels, oldest first.
    pub messages: Vec<ConversationMessage>,
}

/// A conversation with its messages across channels.
#[utoipa::path(
    get,
    path = "/conversations/{id}",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "Conversation id (UUID)")),
    responses(
        (status = 200, description = "The conversation", body = ConversationDetail),
        (status = 400, description = "Not a conversation id", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
    )
)]
pub async fn conversation(
    staff: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Json<ConversationDetail>, ApiError> {
    let id: ConversationId = raw_id.parse().map_err(|_| {
        ApiError::bad_request("invalid_conversation_id", "Not a valid conversation ID.")
    })?;
    Ok(Json(read_conversation(&state.pool, &staff, id).await?))
}

/// Conversation `id` with every message across channels, read by `staff`
/// (audited); 404 when there is none.
pub async fn read_conversation(
    pool: &PgPool,
    staff: &StaffAuth,
    id: ConversationId,
) -> Result<ConversationDetail, ApiError> {
    staff
        .audit(
            pool,
            "conversation.read",
            Target::one("conversation", &id.to_string()),
        )
        .await?;
    let view = tickets::conversation(pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No conversation has this ID.".into()))?;
    let messages = tickets::conversation_messages(pool, view.id).await?;
    Ok(ConversationDetail {
        customer_id: view.customer_id,
        conversation: view.into(),
        messages: messages.into_iter().map(Into::into).collect(),
    })
}

/// The phone numbers the document promises the lookup accepts: `+`, a
/// country code in use and 8 to 11 more digits, the first not a zero (a
/// national number of zeros is no number). The server parses more forms
/// than this, never fewer; `openapi_truth` tries every number of this shape.
pub const LOOKUP_PHONE_PATTERN: &str =
    r"^\+(?:1|7|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])[1-9][0-9]{7,10}$";

/// `GET /customers/lookup` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// An email address.
    pub email: Option<String>,
    /// A phone number (international form).
    pub phone: Option<String>,
}

/// A customer by email or phone, with every identifier and its trust and
/// their conversations. An identifier of a merged customer finds the
/// survivor.
#[utoipa::path(
    get,
    path = "/customers/lookup",
    tag = "staff",
    security(("staff_key" = [])),
    params(LookupQuery),
    responses(
        (status = 200, description = "The customer", body = CustomerDetail),
        (status = 400, description = "Neither email nor phone given", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "Email or phone malformed", body = ErrorBody),
    )
)]
pub async fn customer_lookup(
    staff: StaffAuth,
    State(state): State<AppState>,
    crate::error::AppQuery(query): crate::error::AppQuery<LookupQuery>,
) -> Result<Json<CustomerDetail>, ApiError> {
    Ok(Json(look_up_customer(&state.pool, &staff, &query).await?))
}

/// The customer with `query`'s email (or else phone) and their
/// conversations, looked up by `staff` (audited with the customer found,
/// never the address asked for). 400 without either, 422 when either given
/// is malformed (blank included), 404 when nobody matches.
pub async fn look_up_customer(
    pool: &PgPool,
    staff: &StaffAuth,
    query: &LookupQuery,
) -> Result<CustomerDetail, ApiError> {
    // Every parameter given must be valid, even the one not used: the
    // document's rules hold for the whole query.
    let email = query
        .email
        .as_deref()
        .map(|raw| {
            EmailAddress::parse(raw)
                .map_err(|_| FieldError::new("email", "is not a valid email address"))
        })
        .transpose();
    // A number in E.164 form that the parser still refuses (a national
    // number of zeros, a trunk prefix after the country code) is one no
    // customer can have: nobody matches, it is not malformed.
    let phone = query
        .phone
        .as_deref()
        .map(|raw| match PhoneNumber::parse(raw) {
            Ok(number) => Ok(Some(number)),
            Err(_) if is_e164_shaped(raw) => Ok(None),
            Err(_) => Err(FieldError::new(
                "phone",
                "is not an international phone number",
            )),
        })
        .transpose();
    let customer = match (email, phone) {
        (Err(email), Err(phone)) => return Err(ApiError::Validation(vec![email, phone])),
        (Err(field), _) | (_, Err(field)) => return Err(ApiError::Validation(vec![field])),
        (Ok(None), Ok(None)) => {
            return Err(ApiError::bad_request(
                "missing_query",
                "Give an email or a phone query parameter.",
            ));
        }
        (Ok(Some(email)), _) => tickets::customer_by_email(pool, &email).await?,
        (Ok(None), Ok(Some(Some(phone)))) => tickets::customer_by_phone(pool, &phone).await?,
        (Ok(None), Ok(Some(None))) => None,
    };
    // The audit row names the customer found, never the address asked for.
    let found = customer.as_ref().map(|c| c.id.to_string());
    staff
        .audit(
            pool,
            "customer.lookup",
            Target {
                kind: "customer",
                id: found.as_deref(),
            },
        )
        .await?;
    let customer = customer.ok_or_else(|| ApiError::NotFound("No customer matches.".into()))?;
    detail(pool, customer).await
}

/// `+` and 7 to 15 digits, the first not a zero: the shape of E.164.
fn is_e164_shaped(raw: &str) -> bool {
    raw.trim().strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// One channel's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelMetrics {
    /// The channel these figures are for (`overall` for the sum).
    pub channel: String,
    /// Conversations that started on the channel.
    pub total_conversations: i64,
    /// Mean agent reply latency in milliseconds (0 without replies); for
    /// `overall`, the mean of the recorded agent turns.
    pub avg_latency_ms: f64,
    /// 95th percentile of the agent turn latency recorded by the metrics
    /// collector, when any turn was recorded.
    pub p95_latency_ms: Option<f64>,
    /// Escalations raised on the channel.
    pub escalations: i64,
    /// escalations / total_conversations (0 without conversations).
    pub escalation_rate: f64,
    /// Mean conversation sentiment, when any was scored.
    pub avg_sentiment: Option<f64>,
    /// Unresolved escalations past their promised human response time.
    pub overdue_escalations: i64,
}

/// Per-channel figures computed from the CRM tables and the recorded agent
/// turns, keyed by channel, plus `overall` (counts summed; latency and
/// sentiment over every recorded turn).
#[utoipa::path(
    get,
    path = "/metrics/channels",
    tag = "staff",
    security(("staff_key" = [])),
    responses(
        (status = 200, description = "Figures per channel (email, whatsapp, web_form) and overall",
         body = HashMap<String, ChannelMetrics>),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
    )
)]
pub async fn channel_metrics(
    staff: StaffAuth,
    State(state): State<AppState>,
) -> Result<Json<HashMap<String, ChannelMetrics>>, ApiError> {
    staff
        .audit(&state.pool, "metrics.channels.read", Target::all("metrics"))
        .await?;
    let figures = tickets::channel_figures(&state.pool).await?;
    let overdue = fte_store::escalations::overdue_by_channel(&state.pool).await?;
    let overdue_on = |channel: &str| {
        let count = overdue
            .iter()
            .find(|(c, _)| c == channel)
            .map_or(0, |(_, n)| *n);
        fte_runtime::metrics::global()
            .escalations_overdue
            .with_label_values(&[channel])
            .set(count);
        count
    };
    // P95 (and overall latency and sentiment) come from the agent turns the
    // metrics collector recorded, over all time like the other figures.
    let turns = fte_store::metrics::channel_level(&state.pool, DateTime::<Utc>::UNIX_EPOCH).await?;
    let turns_on = |channel: &str| turns.iter().find(|level| level.channel == channel);
    let mut by_channel: HashMap<String, ChannelMetrics> = figures
        .into_iter()
        .map(|f| {
            let rate = if f.total_conversations > 0 {
                f.escalations as f64 / f.total_conversations as f64
            } else {
                0.0
            };
            let overdue_escalations = overdue_on(&f.channel);
            let p95_latency_ms = turns_on(&f.channel).and_then(|level| level.p95_latency_ms);
            (
                f.channel.clone(),
                ChannelMetrics {
                    channel: f.channel,
                    total_conversations: f.total_conversations,
                    avg_latency_ms: f.avg_latency_ms.unwrap_or(0.0),
                    p95_latency_ms,
                    escalations: f.escalations,
                    escalation_rate: rate,
                    avg_sentiment: f.avg_sentiment,
                    overdue_escalations,
                },
            )
        })
        .collect();
    let (conversations, escalations, overdue_escalations) =
        by_channel.values().fold((0, 0, 0), |(c, e, o), m| {
            (
                c + m.total_conversations,
                e + m.escalations,
                o + m.overdue_escalations,
            )
        });
    let overall = turns_on(fte_store::metrics::OVERALL);
    by_channel.insert(
        fte_store::metrics::OVERALL.to_owned(),
        ChannelMetrics {
            channel: fte_store::metrics::OVERALL.to_owned(),
            total_conversations: conversations,
            avg_latency_ms: overall.and_then(|l| l.avg_latency_ms).unwrap_or(0.0),
            p95_latency_ms: overall.and_then(|l| l.p95_latency_ms),
            escalations,
            escalation_rate: if conversations > 0 {
                escalations as f64 / conversations as f64
            } else {
                0.0
            },
            avg_sentiment: overall.and_then(|l| l.avg_sentiment),
            overdue_escalations,
        },
    );
    Ok(Json(by_channel))
}
