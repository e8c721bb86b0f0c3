//! The staff audit trail (`staff_audit`): who on the staff read or changed
//! what, and when. [`record`] is the one way to write it, for the gateway's
//! staff endpoints and the `fte` operator commands alike; it also writes the
//! one log line of the action.
//!
//! A row names the staff key's owner, the action and the target's type and
//! id — never the customer's data: a lookup by email records the customer id
//! found, not the address. The log line carries the row's id, the action and
//! the target only, so logs hold no names at all; the row says who.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::StoreError;

/// One staff action to record.
#[derive(Clone, Copy, Debug)]
pub struct StaffAction<'a> {
    /// The owner of the staff key (or the operator of an `fte` command).
    pub staff: &'a str,
    /// What was done, dotted (`conversation.read`, `escalation.assign`).
    pub action: &'a str,
    /// The kind of thing acted on (`conversation`, `escalation`, `dlq`).
    pub target_type: &'a str,
    /// Its id, when the action has one target.
    pub target_id: Option<&'a str>,
    /// The HTTP method and route template, when it came over HTTP.
    pub request: Option<(&'a str, &'a str)>,
}

/// A recorded action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    /// Row id.
    pub id: Uuid,
    /// Who.
    pub staff: String,
    /// What.
    pub action: String,
    /// On what kind of thing.
    pub target_type: String,
    /// On which one.
    pub target_id: Option<String>,
    /// The HTTP method, when it came over HTTP.
    pub method: Option<String>,
    /// The route template (`/customers/{id}`), never the concrete path.
    pub route: Option<String>,
    /// The status the request answered, once it answered.
    pub status: Option<i16>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Records `action` and logs it (without the staff member's name). Pass
/// the transaction of a change so the audit row commits with it.
pub async fn record<'e, E>(executor: E, action: &StaffAction<'_>) -> Result<Uuid, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let id: Uuid = sqlx::query_scalar(
        "insert into staff_audit (staff, action, target_type, target_id, method, route)
         values ($1, $2, $3, $4, $5, $6)
         returning id",
    )
    .bind(action.staff)
    .bind(action.action)
    .bind(action.target_type)
    .bind(action.target_id)
    .bind(action.request.map(|(method, _)| method))
    .bind(action.request.map(|(_, route)| route))
    .fetch_one(executor)
    .await?;
    tracing::info!(
        audit.id = %id,
        staff.action = action.action,
        target.r#type = action.target_type,
        target.id = action.target_id.unwrap_or(""),
        http.method = action.request.map(|(method, _)| method).unwrap_or(""),
        http.route = action.request.map(|(_, route)| route).unwrap_or(""),
        "staff action"
    );
    Ok(id)
}

/// Sets the answered `status` on the rows `ids` (the actions of one
/// request, recorded before it answered). A row whose transaction rolled
/// back is simply not there.
pub async fn settle<'e, E>(executor: E, ids: &[Uuid], status: u16) -> Result<(), StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query("update staff_audit set status = $2 where id = any($1)")
        .bind(ids)
        .bind(i16::try_from(status).unwrap_or(i16::MAX))
        .execute(executor)
        .await?;
    Ok(())
}

/// The latest `limit` rows, newest first (for operators and tests).
pub async fn recent<'e, E>(executor: E, limit: i64) -> Result<Vec<AuditRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let rows = sqlx::query_as::<_, AuditRow>(
        "select id, staff, action, target_type, target_id, method, route, status, created_at
         from staff_audit
         order by created_at desc, id desc
         limit $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}
