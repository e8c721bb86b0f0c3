//! Replies that exhausted their retries, for operators: `GET /outbox/failed`
//! and `POST /outbox/{id}/retry` behind the staff key, and the same
//! operations for `fte outbox list|retry`.
//!
//! A listing names each failed reply's channel, conversation, attempts and
//! the kind of its last error — never its body or its recipient. Retrying
//! puts the reply back for its channel's sender loop, due now with its
//! attempts reset and its message's delivery status `pending`
//! (`fte_store::failed_replies`: after an unknown outcome it goes back as
//! `unknown`, so the provider is asked before anything is sent again).
//! Only a failed reply can be retried: anything else is 409 `not_failed`.

use axum::Json;
use axum::extract::{Path, State};
use fte_store::failed_replies::{self, FailedReply, Retried};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::staff_input::{parse_count, parse_id};
use crate::auth::{StaffAuth, Target};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

/// Failed replies listed unless `limit` says otherwise.
pub const DEFAULT_LIST_LIMIT: i64 = 100;
/// The longest listing.
pub const MAX_LIST_LIMIT: i64 = 1000;

/// `GET /outbox/failed` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// How many to list, 1 to 1000 (default 100), most recently failed first.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// A failed reply, without its body or recipient.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedReplyView {
    /// Outbox row id.
    pub id: Uuid,
    /// `email`, `whatsapp` or `web_form`.
    #[schema(example = "whatsapp")]
    pub channel: String,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket, if any.
    pub ticket_id: Option<Uuid>,
    /// Attempts made.
    pub attempts: i32,
    /// `permanent`, `transient`, `unknown` or `undecodable`.
    #[schema(example = "transient")]
    pub last_error_kind: String,
    /// The provider's status and error code (never personal data).
    pub last_error: Option<String>,
    /// When it was given up on.
    pub failed_at: chrono::DateTime<chrono::Utc>,
}

impl From<FailedReply> for FailedReplyView {
    fn from(row: FailedReply) -> Self {
        Self {
            id: row.id,
            channel: row.channel,
            conversation_id: row.conversation_id,
            ticket_id: row.ticket_id,
            attempts: row.attempts,
            last_error_kind: row.last_error_kind,
            last_error: row.last_error,
            failed_at: row.failed_at,
        }
    }
}

/// `GET /outbox/failed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedReplyList {
    /// Most recently failed first.
    pub items: Vec<FailedReplyView>,
    /// The limit used.
    pub limit: i64,
}

/// `POST /outbox/{id}/retry`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetriedReply {
    /// Outbox row id.
    pub id: Uuid,
    /// `pending`, or `unknown` when the provider is asked first.
    #[schema(example = "pending")]
    pub status: String,
}

/// The replies that exhausted their retries.
#[utoipa::path(
    get,
    path = "/outbox/failed",
    tag = "staff",
    security(("staff_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The failed replies", body = FailedReplyList),
        (status = 400, description = "A query parameter given twice (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 422, description = "`limit` malformed", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
    )
)]
pub async fn list(
    staff: StaffAuth,
    State(state): State<AppState>,
    crate::error::AppQuery(query): crate::error::AppQuery<ListQuery>,
) -> Result<Json<FailedReplyList>, ApiError> {
    Ok(Json(list_failed(&state.pool, &staff, &query).await?))
}

/// Puts a failed reply back for its channel's sender.
#[utoipa::path(
    post,
    path = "/outbox/{id}/retry",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = Uuid, Path, description = "Outbox row id (UUID)")),
    responses(
        (status = 200, description = "Back for the sender", body = RetriedReply),
        (status = 400, description = "Not a reply id (`invalid_reply_id`)", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "No such reply", body = ErrorBody),
        (status = 409, description = "The reply is not failed (`not_failed`)", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
    )
)]
pub async fn retry(
    staff: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Json<RetriedReply>, ApiError> {
    let id = parse_id(&raw_id, "invalid_reply_id", "reply")?;
    Ok(Json(retry_reply(&state.pool, &staff, id).await?))
}

/// The failed replies, listed by `staff` (audited).
pub async fn list_failed(
    pool: &PgPool,
    staff: &StaffAuth,
    query: &ListQuery,
) -> Result<FailedReplyList, ApiError> {
    // Audited first, so a refused request leaves its row too.
    staff
        .audit(pool, "outbox.failed.list", Target::all("reply"))
        .await?;
    let limit = parse_count(
        query.limit.as_deref(),
        "limit",
        DEFAULT_LIST_LIMIT,
        1..=MAX_LIST_LIMIT,
    )
    .map_err(|field| ApiError::Validation(vec![field]))?;
    let rows = failed_replies::failed(pool, limit).await?;
    Ok(FailedReplyList {
        items: rows.into_iter().map(Into::into).collect(),
        limit,
    })
}

/// Puts failed reply `id` back for the sender, by `staff` (audited, a
/// refusal too); 404 when there is no such reply, 409 when it is not failed.
pub async fn retry_reply(
    pool: &PgPool,
    staff: &StaffAuth,
    id: Uuid,
) -> Result<RetriedReply, ApiError> {
    // Audited first, so a refused retry (404, 409) leaves its row too; the
    // row's status says how it ended.
    staff
        .audit(pool, "outbox.retry", Target::one("reply", &id.to_string()))
        .await?;
    let mut tx = pool.begin().await.map_err(fte_store::StoreError::from)?;
    let outcome = failed_replies::retry(&mut tx, id).await?;
    let status = match outcome {
        Retried::Requeued { status } => status,
        Retried::NotFound => return Err(ApiError::NotFound("No reply has this ID.".into())),
        Retried::NotFailed(status) => {
            return Err(ApiError::Conflict {
                code: "not_failed",
                message: format!(
                    "The reply is {status}, not failed; only a failed reply is retried."
                ),
            });
        }
    };
    tx.commit().await.map_err(fte_store::StoreError::from)?;
    tracing::info!(outbox.id = %id, status = %status, "failed reply put back for the sender");
    Ok(RetriedReply { id, status })
}
