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
        "insert into staff_audit (staff, action, target_type, target_id)
         values ($1, $2, $3, $4)
         returning id",
    )
    .bind(action.staff)
    .bind(action.action)
    .bind(action.target_type)
    .bind(action.target_id)
    .fetch_one(executor)
    .await?;
    tracing::info!(
        audit.id = %id,
        staff.action = action.action,
        target.r#type = action.target_type,
        target.id = action.target_id.unwrap_or(""),
        "staff action"
    );
    Ok(id)
}

/// The latest `limit` rows, newest first (for operators and tests).
pub async fn recent<'e, E>(executor: E, limit: i64) -> Result<Vec<AuditRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let rows = sqlx::query_as::<_, AuditRow>(
        "select id, staff, action, target_type, target_id, created_at
         from staff_audit
         order by created_at desc, id desc
         limit $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}
