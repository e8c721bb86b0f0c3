//! Customers for staff: one customer with every identifier and how far
//! each is proven, merging two customers into one, and unlinking an
//! identifier (the split: its next message starts a customer of its own).
//!
//! Every handler takes [`StaffAuth`] and audits the attempt under the key's
//! owner (`StaffAuth::audit`, once the request is well-formed). Merge and unlink
//! commit an event for `fte.customers` (`customer.merged`,
//! `customer.identifier_unlinked`) with the change, publish it at once (the
//! outbox relay retries a failed publish), and are recorded in
//! `customer_merges` / `identifier_events` under the key's owner. A merged
//! customer's id keeps working: every lookup answers with the customer it
//! survives as.
//! Identifiers travel in bodies, never in paths, so no address or number
//! ends up in an access log.

use anyhow::Context;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use fte_domain::EventEnvelope;
use fte_store::links::{self, Link};
use fte_store::merges::{self, MergeError, Merged};
use fte_store::tickets::{self, ConversationView, CustomerView};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::staff_input::{acting_staff, parse_id};
use crate::auth::{StaffAuth, Target};
use crate::error::{AppJson, ErrorBody, FieldError};
use crate::outbox::commit_with_event;
use crate::{ApiError, AppState};

/// One identifier of a customer, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerIdentifier {
    /// The link's id (what `…/identifiers/{identifier_id}/unlink` takes).
    pub id: Uuid,
    /// `email` or `phone`.
    pub kind: String,
    /// The address or E.164 number.
    pub value: String,
    /// `verified` (the channel proved the sender and the link to this
    /// customer) or `claimed`.
    pub trust: String,
    /// What established the trust: claim, gmail_authenticated,
    /// twilio_signature, web_identity_token, staff or legacy.
    pub trust_source: String,
    /// When the trust last changed.
    pub trust_changed_at: DateTime<Utc>,
    /// The customer was created by this identifier.
    pub founding: bool,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

impl From<Link> for CustomerIdentifier {
    fn from(link: Link) -> Self {
        Self {
            id: link.id,
            kind: link
                .kind()
                .map_or(link.identifier_type.clone(), |k| k.as_str().to_owned()),
            trust: link.trust().as_str().to_owned(),
            value: link.identifier_value,
            trust_source: link.trust_source,
            trust_changed_at: link.trust_changed_at,
            founding: link.founding,
            linked_at: link.created_at,
        }
    }
}

/// A conversation's headline. `conversation_id`, `channel`, `status` and
/// `started_at` are the plan's names; `id`, `initial_channel` and
/// `current_channel` say the same and more.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationSummary {
    /// Conversation id (the plan's name).
    pub conversation_id: Uuid,
    /// The channel it started on (the plan's name for `initial_channel`).
    #[schema(value_type = String, example = "whatsapp")]
    pub channel: String,
    /// Conversation id (the same as `conversation_id`).
    pub id: Uuid,
    /// Where it started.
    pub initial_channel: String,
    /// Where replies go now.
    pub current_channel: String,
    /// active, escalated or resolved.
    pub status: String,
    /// Latest sentiment (-1..1), when scored.
    pub sentiment_score: Option<f64>,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Latest message.
    pub last_message_at: DateTime<Utc>,
    /// Messages in it.
    pub message_count: i64,
}

impl From<ConversationView> for ConversationSummary {
    fn from(v: ConversationView) -> Self {
        Self {
            conversation_id: v.id,
            channel: v.initial_channel.clone(),
            id: v.id,
            initial_channel: v.initial_channel,
            current_channel: v.current_channel,
            status: v.status,
            sentiment_score: v.sentiment_score,
            started_at: v.started_at,
            last_message_at: v.last_message_at,
            message_count: v.message_count,
        }
    }
}

/// A customer with their identifiers and conversations.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    /// Customer id, the plan's name (the surviving one, when an absorbed id
    /// was asked for).
    pub customer_id: Uuid,
    /// The same as `customer_id`.
    pub id: Uuid,
    /// Name.
    pub name: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// Primary phone.
    pub phone: Option<String>,
    /// Plan tier.
    pub plan: Option<String>,
    /// Whether name, email and phone were last written by a verified
    /// message (claims never change them then).
    pub profile_verified: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Every identifier with its trust, oldest first.
    pub identifiers: Vec<CustomerIdentifier>,
    /// Customers merged into this one.
    pub merged_from: Vec<Uuid>,
    /// Conversations, latest first.
    pub conversations: Vec<ConversationSummary>,
}

/// The staff view of `customer`.
pub async fn detail(pool: &PgPool, customer: CustomerView) -> Result<CustomerDetail, ApiError> {
    let identifiers = links::all_of_customer(pool, customer.id).await?;
    let merged_from = merges::merged_into(pool, customer.id).await?;
    let conversations = tickets::customer_conversations(pool, customer.id).await?;
    Ok(CustomerDetail {
        customer_id: customer.id,
        id: customer.id,
        name: customer.name,
        email: customer.email,
        phone: customer.phone,
        plan: customer.plan,
        profile_verified: customer.profile_verified,
        created_at: customer.created_at,
        identifiers: identifiers.into_iter().map(Into::into).collect(),
        merged_from,
        conversations: conversations.into_iter().map(Into::into).collect(),
    })
}

async fn surviving_view(state: &AppState, id: Uuid) -> Result<CustomerView, ApiError> {
    tickets::customer_view(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No customer has this ID.".into()))
}

/// A customer by id, with every identifier and its trust. An id merged
/// into another customer answers with the survivor.
#[utoipa::path(
    get,
    path = "/customers/{id}",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "Customer id (UUID)")),
    responses(
        (status = 200, description = "The customer (the survivor, for a merged id)", body = CustomerDetail),
        (status = 400, description = "Not a customer id", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
    )
)]
pub async fn customer(
    auth: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Json<CustomerDetail>, ApiError> {
    let id = parse_id(&raw_id, "invalid_customer_id", "customer")?;
    auth.audit(
        &state.pool,
        "customer.read",
        Target::one("customer", &id.to_string()),
    )
    .await?;
    let view = surviving_view(&state, id).await?;
    Ok(Json(detail(&state.pool, view).await?))
}

/// `POST /customers/{id}/merge` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The customer to merge into the one in the path (it becomes a
    /// tombstone pointing at it).
    #[schema(value_type = Uuid)]
    pub customer_id: String,
    /// The key's owner, who merges (optional; when sent it must be their
    /// name, else 403 `staff_mismatch`).
    #[schema(min_length = 1, max_length = 255, example = "ana.ruiz")]
    pub staff: Option<String>,
}

/// What a merge moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeSummary {
    /// The merge's id.
    pub id: Uuid,
    /// The customer merged away.
    pub merged_customer_id: Uuid,
    /// Identifiers moved.
    pub identifiers_moved: i32,
    /// Conversations moved.
    pub conversations_moved: i32,
    /// Tickets moved.
    pub tickets_moved: i32,
}

/// `200` of `POST /customers/{id}/merge`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeResponse {
    /// What moved.
    pub merge: MergeSummary,
    /// The surviving customer after the merge.
    pub customer: CustomerDetail,
}

fn merge_error(error: MergeError) -> ApiError {
    match error {
        // A well-formed request that conflicts with what the ids name: 409,
        // like the other merges that cannot happen.
        MergeError::SameCustomer => ApiError::Conflict {
            code: "same_customer",
            message: "customer_id is the customer being merged into; a customer cannot be \
                      merged into itself."
                .into(),
        },
        MergeError::UnknownTarget => ApiError::NotFound("No customer has this ID.".into()),
        MergeError::UnknownSource => {
            ApiError::NotFound("No customer has the ID given in customer_id.".into())
        }
        MergeError::TargetMerged(into) => ApiError::Conflict {
            code: "customer_merged",
            message: format!("This customer was merged into {into}; merge into that one."),
        },
        MergeError::SourceMerged(into) => ApiError::Conflict {
            code: "already_merged",
            message: format!("The customer in customer_id was already merged into {into}."),
        },
        MergeError::Store(error) => error.into(),
    }
}

/// Merges the customer named in the body into the one in the path: its
/// identifiers (with their trust), conversations, tickets and escalations
/// move over; empty profile fields are filled from it; its id keeps
/// answering with the survivor. Emits `customer.merged` on `fte.customers`.
#[utoipa::path(
    post,
    path = "/customers/{id}/merge",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "The surviving customer's id (UUID)")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Merged", body = MergeResponse),
        (status = 400, description = "Not a customer id, or not JSON", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such customer (path or body)", body = ErrorBody),
        (status = 409, description = "Either customer was already merged (`customer_merged`), or both ids are the same customer (`same_customer`)", body = ErrorBody),
        (status = 403, description = "`staff` names someone other than the key's owner (`staff_mismatch`)", body = ErrorBody),
        (status = 422, description = "customer_id missing or not a UUID, or an unknown field", body = ErrorBody),
    )
)]
pub async fn merge(
    auth: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    AppJson(body): AppJson<MergeRequest>,
) -> Result<Json<MergeResponse>, ApiError> {
    let target = parse_id(&raw_id, "invalid_customer_id", "customer")?;
    let staff = acting_staff(body.staff.as_deref(), &auth)?;
    let source = body.customer_id.trim().parse::<Uuid>().map_err(|_| {
        ApiError::Validation(vec![FieldError::new(
            "customer_id",
            "must be a customer id (UUID)",
        )])
    })?;
    auth.audit(
        &state.pool,
        "customer.merge",
        Target::one("customer", &target.to_string()),
    )
    .await?;
    let mut tx = state
        .pool
        .begin()
        .await
        .context("Failed to begin a merge")?;
    let merged = merges::merge(&mut tx, target, source, Some(&staff))
        .await
        .map_err(merge_error)?;
    let event = EventEnvelope::new("customer.merged", Utc::now(), merged_event(&merged, &staff));
    commit_with_event(
        &state.pool,
        Some(&state.publisher),
        tx,
        fte_bus::topics::CUSTOMERS,
        target.to_string(),
        &event,
    )
    .await?;
    tracing::info!(
        customer.id = %target,
        merged_customer.id = %source,
        identifiers_moved = merged.identifiers_moved,
        conversations_moved = merged.conversations_moved,
        "customers merged"
    );
    let view = surviving_view(&state, target).await?;
    Ok(Json(MergeResponse {
        merge: MergeSummary {
            id: merged.merge_id,
            merged_customer_id: source,
            identifiers_moved: merged.identifiers_moved,
            conversations_moved: merged.conversations_moved,
            tickets_moved: merged.tickets_moved,
        },
        customer: detail(&state.pool, view).await?,
    }))
}

fn merged_event(merged: &Merged, staff: &str) -> serde_json::Value {
    json!({
        "merge_id": merged.merge_id,
        "customer_id": merged.target_customer_id,
        "merged_customer_id": merged.source_customer_id,
        "identifiers_moved": merged.identifiers_moved,
        "conversations_moved": merged.conversations_moved,
        "tickets_moved": merged.tickets_moved,
        "merged_by": staff,
    })
}

/// `POST /customers/{id}/identifiers/{identifier_id}/unlink` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlinkRequest {
    /// The key's owner, who unlinks (optional; when sent it must be their
    /// name, else 403 `staff_mismatch`).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 255, example = "ana.ruiz")]
    pub staff: Option<String>,
}

/// Unlinks one identifier from a customer (the split of a wrong merge or a
/// wrong claim): the identifier's next message resolves as if it were new,
/// and the profile no longer shows it. Emits `customer.identifier_unlinked`
/// on `fte.customers`.
#[utoipa::path(
    post,
    path = "/customers/{id}/identifiers/{identifier_id}/unlink",
    tag = "staff",
    security(("staff_key" = [])),
    params(
        ("id" = Uuid, Path, description = "Customer id (UUID)"),
        ("identifier_id" = Uuid, Path, description = "The identifier's id, from the customer's `identifiers`"),
    ),
    request_body = UnlinkRequest,
    responses(
        (status = 200, description = "Unlinked: the customer without it", body = CustomerDetail),
        (status = 400, description = "Not an id, or not JSON", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such customer, or the customer has no such identifier", body = ErrorBody),
        (status = 403, description = "`staff` names someone other than the key's owner (`staff_mismatch`)", body = ErrorBody),
        (status = 422, description = "An unknown field or a `staff` that is not text", body = ErrorBody),
    )
)]
pub async fn unlink(
    auth: StaffAuth,
    State(state): State<AppState>,
    Path((raw_id, raw_identifier)): Path<(String, String)>,
    AppJson(body): AppJson<UnlinkRequest>,
) -> Result<Json<CustomerDetail>, ApiError> {
    let id = parse_id(&raw_id, "invalid_customer_id", "customer")?;
    let identifier = parse_id(&raw_identifier, "invalid_identifier_id", "identifier")?;
    let staff = acting_staff(body.staff.as_deref(), &auth)?;
    auth.audit(
        &state.pool,
        "customer.identifier_unlink",
        Target::one("customer", &id.to_string()),
    )
    .await?;
    let customer = surviving_view(&state, id).await?;
    let mut tx = state
        .pool
        .begin()
        .await
        .context("Failed to begin an unlink")?;
    let link = links::unlink(&mut tx, customer.id, identifier, Some(&staff))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound("This customer has no identifier with this ID.".into())
        })?;
    let event = EventEnvelope::new(
        "customer.identifier_unlinked",
        Utc::now(),
        json!({
            "customer_id": customer.id,
            "identifier_id": link.id,
            "identifier_type": link.identifier_type,
            "trust": link.trust().as_str(),
            "unlinked_by": staff,
        }),
    );
    commit_with_event(
        &state.pool,
        Some(&state.publisher),
        tx,
        fte_bus::topics::CUSTOMERS,
        customer.id.to_string(),
        &event,
    )
    .await?;
    tracing::info!(
        customer.id = %customer.id,
        identifier.id = %link.id,
        identifier_type = %link.identifier_type,
        "identifier unlinked"
    );
    let view = surviving_view(&state, customer.id).await?;
    Ok(Json(detail(&state.pool, view).await?))
}
