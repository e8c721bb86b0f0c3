//! The human handoff, for staff: the escalation queue, taking a case,
//! replying to the customer through their current channel, and resolving.
//!
//! Every handler takes [`StaffAuth`] and audits what it did under the key's
//! owner. The owner is who acts: a reply's author and who resolved are the
//! key's owner (a `staff` field, when sent, must name them: no one writes
//! under another's name). Assigning takes the case for the key's owner,
//! or for the staff member named in `staff`.
//!
//! - A staff reply ([`super::staff_reply`]) commits the message (role `agent`, its author the staff
//!   member) and its `reply_outbox` row in one transaction and answers 202;
//!   the worker's sender for that channel delivers it, with that channel's
//!   formatting and addressing (`fte_domain::format`,
//!   `fte_channels::outbound`), exactly as it delivers the bot's replies.
//!   Only an escalated conversation takes a staff reply: in an active one
//!   the bot is answering, and a person and the bot never talk over each
//!   other.
//! - Assigning and resolving commit an event for `fte.escalations`
//!   (`escalation.assigned`, `escalation.resolved`) in the same transaction
//!   and publish it at once (the outbox relay retries a failed publish).
//! - Resolving closes the escalation, its ticket and its conversation; the
//!   customer's next message starts a conversation the bot answers.
//!
//! Logs carry ids only: never the staff member, the customer or the text.

use anyhow::Context;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use fte_bus::KafkaPublisher;
use fte_domain::EventEnvelope;
use fte_store::escalations::{self, EscalationView, HandoffError, StatusFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::staff_input::{acting_staff, assignee, parse_count, parse_id, text_field};
use crate::auth::{StaffAuth, Target};
use crate::error::{AppJson, ErrorBody, FieldError};
use crate::outbox::commit_with_event;
use crate::{ApiError, AppState};

/// Escalations per page unless `limit` says otherwise.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// The largest page.
pub const MAX_PAGE_SIZE: i64 = 100;
/// The longest resolution note, in characters.
pub const MAX_NOTES_CHARS: usize = 5000;

/// The customer an escalation is about, for the staff view.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationCustomer {
    /// Customer id.
    pub id: Uuid,
    /// Name, when known.
    pub name: Option<String>,
    /// Primary email, when known.
    pub email: Option<String>,
    /// Primary phone, when known.
    pub phone: Option<String>,
    /// Plan tier, when known.
    pub plan: Option<String>,
}

/// One escalation in the staff view.
#[derive(Debug, Serialize, ToSchema)]
pub struct Escalation {
    /// Escalation id.
    pub id: Uuid,
    /// The escalated ticket.
    pub ticket_id: Uuid,
    /// The conversation (reply with `POST /conversations/{id}/reply`).
    pub conversation_id: Uuid,
    /// Where the customer wrote when it was escalated.
    pub channel: String,
    /// The escalation rule that fired (pricing, refund, legal, anger,
    /// human_request, search_failed, account_security).
    pub reason: String,
    /// pending, assigned or resolved.
    pub status: String,
    /// Who took it.
    pub assigned_to: Option<String>,
    /// The customer.
    pub customer: EscalationCustomer,
    /// Summary, customer, channel, reason and plan, as the worker recorded
    /// them.
    #[schema(value_type = Object)]
    pub full_context: serde_json::Value,
    /// Raised.
    pub created_at: DateTime<Utc>,
    /// The promised human response time (business hours per plan tier).
    pub expected_response_by: Option<DateTime<Utc>>,
    /// Seconds the customer has waited (until resolution, once resolved).
    pub wait_secs: i64,
    /// Unresolved and past `expected_response_by`.
    pub overdue: bool,
    /// Taken.
    pub assigned_at: Option<DateTime<Utc>>,
    /// Closed.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who closed it.
    pub resolved_by: Option<String>,
    /// What they wrote when closing it.
    pub resolution_notes: Option<String>,
}

impl From<EscalationView> for Escalation {
    fn from(v: EscalationView) -> Self {
        Self {
            id: v.id,
            ticket_id: v.ticket_id,
            conversation_id: v.conversation_id,
            channel: v.channel,
            reason: v.reason,
            status: v.status,
            assigned_to: v.assigned_to,
            customer: EscalationCustomer {
                id: v.customer_id,
                name: v.customer_name,
                email: v.customer_email,
                phone: v.customer_phone,
                plan: v.customer_plan,
            },
            full_context: v.full_context,
            created_at: v.created_at,
            expected_response_by: v.expected_response_by,
            wait_secs: v.wait_secs,
            overdue: v.overdue,
            assigned_at: v.assigned_at,
            resolved_at: v.resolved_at,
            resolved_by: v.resolved_by,
            resolution_notes: v.resolution_notes,
        }
    }
}

/// `GET /escalations` query. Read as text so that a bad value is a 422
/// naming the parameter; documented as what it must be.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// pending (default), assigned, resolved, or open (pending or assigned).
    #[param(value_type = Option<EscalationFilter>)]
    pub status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Escalations to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 2147483647)]
    pub offset: Option<String>,
}

/// The queue filters `GET /escalations?status=` takes.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum EscalationFilter {
    /// Waiting for someone (the default).
    Pending,
    /// Taken by someone.
    Assigned,
    /// Closed.
    Resolved,
    /// Pending or assigned.
    Open,
}

/// One page of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationList {
    /// Oldest first.
    pub items: Vec<Escalation>,
    /// How many match the filter in all.
    pub total: i64,
    /// The page size used.
    pub limit: i64,
    /// The offset used.
    pub offset: i64,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<i64>,
}

/// The escalation queue, oldest first, with reason, channel, customer and
/// wait time.
#[utoipa::path(
    get,
    path = "/escalations",
    tag = "staff",
    security(("staff_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of escalations", body = EscalationList),
        (status = 400, description = "A query parameter given twice (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 422, description = "Unknown status or bad paging (each field named)", body = ErrorBody),
    )
)]
pub async fn list(
    staff: StaffAuth,
    State(state): State<AppState>,
    crate::error::AppQuery(query): crate::error::AppQuery<ListQuery>,
) -> Result<Json<EscalationList>, ApiError> {
    Ok(Json(list_escalations(&state.pool, &staff, &query).await?))
}

/// One page of the escalation queue for `staff` (audited): the filter and
/// paging of `GET /escalations`, each bad field named in a 422.
pub async fn list_escalations(
    pool: &PgPool,
    staff: &StaffAuth,
    query: &ListQuery,
) -> Result<EscalationList, ApiError> {
    let mut errors = Vec::new();
    let filter = match query.status.as_deref() {
        None => StatusFilter::Pending,
        Some(raw) => StatusFilter::parse(raw).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "status",
                "must be pending, assigned, resolved or open",
            ));
            StatusFilter::Pending
        }),
    };
    let limit = parse_count(
        query.limit.as_deref(),
        "limit",
        DEFAULT_PAGE_SIZE,
        1..=MAX_PAGE_SIZE,
    )
    .unwrap_or_else(|e| {
        errors.push(e);
        DEFAULT_PAGE_SIZE
    });
    let offset = parse_count(
        query.offset.as_deref(),
        "offset",
        0,
        0..=i64::from(i32::MAX),
    )
    .unwrap_or_else(|e| {
        errors.push(e);
        0
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut conn = pool
        .acquire()
        .await
        .context("Failed to get a connection for the escalation queue")?;
    staff
        .audit(&mut *conn, "escalation.list", Target::all("escalation"))
        .await?;
    let page = escalations::list(&mut conn, filter, limit, offset).await?;
    let next = offset + page.items.len() as i64;
    Ok(EscalationList {
        next_offset: (next < page.total).then_some(next),
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        limit,
        offset,
    })
}

/// `POST /escalations/{id}/assign` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// Who takes the case (name or handle, 1–255 characters); the key's
    /// owner when left out.
    #[schema(
        min_length = 1,
        pattern = r"^\s*[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]{0,253}[^\s\x00-\x1f\x7f-\x9f])?\s*$",
        example = "ana.ruiz"
    )]
    pub staff: Option<String>,
}

/// `POST /escalations/{id}/resolve` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The key's owner, who closes the case (optional; when sent it must be
    /// their name, else 403 `staff_mismatch`).
    #[schema(min_length = 1, max_length = 255, example = "ana.ruiz")]
    pub staff: Option<String>,
    /// What was done, for the ticket and the escalation (1–5000 characters
    /// after trimming).
    #[schema(
        min_length = 1,
        pattern = r"^\s*[^\s\x00](?:[^\x00]{0,4998}[^\s\x00])?\s*$",
        example = "Refunded the duplicate charge."
    )]
    pub resolution_notes: String,
}

fn handoff_error(error: HandoffError) -> ApiError {
    match error {
        HandoffError::NotFound => ApiError::NotFound("No escalation has this ID.".into()),
        HandoffError::AlreadyResolved => ApiError::Conflict {
            code: "already_resolved",
            message: "This escalation is already resolved.".into(),
        },
        HandoffError::Store(error) => error.into(),
    }
}

/// Commits a change to an escalation together with its `kind` event for
/// `fte.escalations` (keyed by the ticket, so it stays in order with the
/// worker's `ticket.escalated`), then publishes the event in the background
/// (a failed publish, or no publisher, leaves it to the outbox relay) and
/// answers with the escalation.
async fn commit_change(
    pool: &PgPool,
    publisher: Option<&KafkaPublisher>,
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    kind: &'static str,
    escalation: Escalation,
) -> Result<Escalation, ApiError> {
    let event = EventEnvelope::new(
        kind,
        Utc::now(),
        json!({
            "escalation_id": escalation.id,
            "ticket_id": escalation.ticket_id,
            "conversation_id": escalation.conversation_id,
            "customer_id": escalation.customer.id,
            "channel": escalation.channel,
            "reason": escalation.reason,
            "status": escalation.status,
            "assigned_to": escalation.assigned_to,
            "assigned_at": escalation.assigned_at,
            "resolved_by": escalation.resolved_by,
            "resolved_at": escalation.resolved_at,
            "resolution_notes": escalation.resolution_notes,
            "full_context": escalation.full_context,
        }),
    );
    commit_with_event(
        pool,
        publisher,
        tx,
        fte_bus::topics::ESCALATIONS,
        escalation.ticket_id.to_string(),
        &event,
    )
    .await?;
    tracing::info!(
        escalation.id = %escalation.id,
        ticket.id = %escalation.ticket_id,
        event = kind,
        "escalation changed"
    );
    Ok(escalation)
}

/// Takes an escalation (or takes it over from another staff member).
#[utoipa::path(
    post,
    path = "/escalations/{id}/assign",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "Escalation id (UUID)")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "Assigned", body = Escalation),
        (status = 400, description = "Not an escalation id, or not JSON", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such escalation", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
        (status = 422, description = "`staff` missing or invalid", body = ErrorBody),
    )
)]
pub async fn assign(
    auth: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    AppJson(body): AppJson<AssignRequest>,
) -> Result<Json<Escalation>, ApiError> {
    let id = parse_id(&raw_id, "invalid_escalation_id", "escalation")?;
    let escalation =
        assign_escalation(&state.pool, Some(&state.publisher), &auth, id, &body).await?;
    Ok(Json(escalation))
}

/// `auth` takes escalation `id` (or gives it to the staff member `body`
/// names), audited, with its `escalation.assigned` event committed beside
/// it and published at once when a publisher is given.
pub async fn assign_escalation(
    pool: &PgPool,
    publisher: Option<&KafkaPublisher>,
    auth: &StaffAuth,
    id: Uuid,
    body: &AssignRequest,
) -> Result<Escalation, ApiError> {
    let mut errors = Vec::new();
    let staff = assignee(body.staff.as_deref(), auth, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    auth.audit(
        pool,
        "escalation.assign",
        Target::one("escalation", &id.to_string()),
    )
    .await?;
    let mut tx = pool
        .begin()
        .await
        .context("Failed to begin an assignment")?;
    let escalation: Escalation = escalations::assign(&mut tx, id, &staff)
        .await
        .map_err(handoff_error)?
        .into();
    commit_change(pool, publisher, tx, "escalation.assigned", escalation).await
}

/// Closes an escalation: the escalation, its ticket and its conversation
/// are resolved; the customer's next message is answered by the bot again.
#[utoipa::path(
    post,
    path = "/escalations/{id}/resolve",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "Escalation id (UUID)")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "Resolved", body = Escalation),
        (status = 400, description = "Not an escalation id, or not JSON", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such escalation", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
        (status = 403, description = "`staff` names someone other than the key's owner (`staff_mismatch`)", body = ErrorBody),
        (status = 422, description = "`resolution_notes` missing or too long", body = ErrorBody),
    )
)]
pub async fn resolve(
    auth: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    AppJson(body): AppJson<ResolveRequest>,
) -> Result<Json<Escalation>, ApiError> {
    let id = parse_id(&raw_id, "invalid_escalation_id", "escalation")?;
    let escalation =
        resolve_escalation(&state.pool, Some(&state.publisher), &auth, id, &body).await?;
    Ok(Json(escalation))
}

/// `auth` closes escalation `id` with `body`'s notes, audited: the
/// escalation, its ticket and its conversation are resolved, and the
/// `escalation.resolved` event is committed beside them and published at
/// once when a publisher is given.
pub async fn resolve_escalation(
    pool: &PgPool,
    publisher: Option<&KafkaPublisher>,
    auth: &StaffAuth,
    id: Uuid,
    body: &ResolveRequest,
) -> Result<Escalation, ApiError> {
    let mut errors = Vec::new();
    let staff = acting_staff(body.staff.as_deref(), auth)?;
    let notes = text_field(
        &body.resolution_notes,
        "resolution_notes",
        MAX_NOTES_CHARS,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    auth.audit(
        pool,
        "escalation.resolve",
        Target::one("escalation", &id.to_string()),
    )
    .await?;
    let mut tx = pool.begin().await.context("Failed to begin a resolution")?;
    let escalation: Escalation = escalations::resolve(&mut tx, id, &staff, &notes)
        .await
        .map_err(handoff_error)?
        .into();
    commit_change(pool, publisher, tx, "escalation.resolved", escalation).await
}
