//! Staff merges: one customer absorbed into another, and lookups that
//! follow merges to the surviving customer.
//!
//! A merge moves the source's links, conversations, tickets and escalations
//! to the target, fills the target's empty profile fields from the source,
//! and leaves the source as a tombstone (`merged_into` = the target, its
//! email and phone cleared). Links keep their trust: a merge says the two
//! customers are one person, it proves no claimed identifier. The
//! tombstone makes an old customer id (in an event, a bookmark) still find
//! the survivor ([`surviving`]).
//!
//! Locks are taken links first, then both customers in id order — the
//! order [`crate::identity::resolve`] takes them — so a merge and a message
//! of either customer serialise instead of deadlocking.

use fte_domain::TrustSource;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;
use crate::links::{self, LinkAction};

/// Why a merge was refused.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Source and target are the same customer.
    #[error("a customer cannot be merged into itself")]
    SameCustomer,
    /// No customer has the target id.
    #[error("the target customer does not exist")]
    UnknownTarget,
    /// No customer has the source id.
    #[error("the customer to merge does not exist")]
    UnknownSource,
    /// The target was itself merged into another customer.
    #[error("the target customer was merged into {0}")]
    TargetMerged(Uuid),
    /// The source was already merged.
    #[error("the customer to merge was already merged into {0}")]
    SourceMerged(Uuid),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for MergeError {
    fn from(error: sqlx::Error) -> Self {
        MergeError::Store(StoreError::Database(error))
    }
}

/// What a merge moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The `customer_merges` row.
    pub merge_id: Uuid,
    /// The survivor.
    pub target_customer_id: Uuid,
    /// The absorbed customer (now a tombstone).
    pub source_customer_id: Uuid,
    /// Links moved.
    pub identifiers_moved: i32,
    /// Conversations moved.
    pub conversations_moved: i32,
    /// Tickets moved.
    pub tickets_moved: i32,
}

#[derive(sqlx::FromRow)]
struct Locked {
    id: Uuid,
    merged_into: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct Profile {
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    plan: Option<String>,
    metadata: serde_json::Value,
    profile_verified: bool,
}

/// Merges `source` into `target` in the caller's transaction; `staff` is
/// recorded as who merged.
pub async fn merge(
    conn: &mut PgConnection,
    target: Uuid,
    source: Uuid,
    staff: Option<&str>,
) -> Result<Merged, MergeError> {
    if target == source {
        return Err(MergeError::SameCustomer);
    }
    crate::links::serialise_links_of(&mut *conn, &[target, source])
        .await
        .map_err(MergeError::Store)?;
    sqlx::query(
        "select id from customer_identifiers where customer_id in ($1, $2) order by id for update",
    )
    .bind(target)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    let locked: Vec<Locked> = sqlx::query_as(
        "select id, merged_into from customers where id in ($1, $2) order by id for update",
    )
    .bind(target)
    .bind(source)
    .fetch_all(&mut *conn)
    .await?;
    let find = |id: Uuid| locked.iter().find(|c| c.id == id);
    match find(target) {
        None => return Err(MergeError::UnknownTarget),
        Some(Locked {
            merged_into: Some(into),
            ..
        }) => return Err(MergeError::TargetMerged(*into)),
        Some(_) => {}
    }
    match find(source) {
        None => return Err(MergeError::UnknownSource),
        Some(Locked {
            merged_into: Some(into),
            ..
        }) => return Err(MergeError::SourceMerged(*into)),
        Some(_) => {}
    }

    let profile: Profile = sqlx::query_as(
        "select email, phone, name, plan, metadata, profile_verified from customers where id = $1",
    )
    .bind(source)
    .fetch_one(&mut *conn)
    .await?;
    // The tombstone gives up its unique email before the target takes it.
    sqlx::query(
        "update customers set merged_into = $2, email = null, phone = null, updated_at = now()
         where id = $1",
    )
    .bind(source)
    .bind(target)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update customers set
             email = case when $7 and not profile_verified then coalesce($2, email)
                          else coalesce(email, $2) end,
             phone = case when $7 and not profile_verified then coalesce($3, phone)
                          else coalesce(phone, $3) end,
             name = case when $7 and not profile_verified then coalesce($4, name)
                         else coalesce(name, $4) end,
             plan = coalesce(plan, $5),
             metadata = $6 || metadata,
             profile_verified = profile_verified or $7,
             updated_at = now()
         where id = $1",
    )
    .bind(target)
    .bind(&profile.email)
    .bind(&profile.phone)
    .bind(&profile.name)
    .bind(&profile.plan)
    .bind(&profile.metadata)
    .bind(profile.profile_verified)
    .execute(&mut *conn)
    .await?;

    let moved: Vec<links::Link> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update customer_identifiers set customer_id = $1, updated_at = now()
         where customer_id = $2
         returning {}",
        links::LINK_COLUMNS
    )))
    .bind(target)
    .bind(source)
    .fetch_all(&mut *conn)
    .await?;
    for link in &moved {
        links::record_event(
            &mut *conn,
            link,
            LinkAction::Merged,
            TrustSource::Staff,
            staff,
        )
        .await?;
    }
    let conversations = move_rows(&mut *conn, "conversations", target, source).await?;
    let tickets = move_rows(&mut *conn, "tickets", target, source).await?;
    move_rows(&mut *conn, "escalations", target, source).await?;

    let merged = Merged {
        merge_id: Uuid::now_v7(),
        target_customer_id: target,
        source_customer_id: source,
        identifiers_moved: i32::try_from(moved.len()).unwrap_or(i32::MAX),
        conversations_moved: conversations,
        tickets_moved: tickets,
    };
    sqlx::query(
        "insert into customer_merges (id, source_customer_id, target_customer_id, merged_by,
             identifiers_moved, conversations_moved)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(merged.merge_id)
    .bind(source)
    .bind(target)
    .bind(staff)
    .bind(merged.identifiers_moved)
    .bind(merged.conversations_moved)
    .execute(&mut *conn)
    .await?;
    Ok(merged)
}

async fn move_rows(
    conn: &mut PgConnection,
    table: &'static str,
    target: Uuid,
    source: Uuid,
) -> Result<i32, StoreError> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update {table} set customer_id = $1, updated_at = now() where customer_id = $2"
    )))
    .bind(target)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    Ok(i32::try_from(done.rows_affected()).unwrap_or(i32::MAX))
}

/// The customer that `id` survives as: `id` itself, or the end of its
/// chain of merges; `None` for an unknown id.
pub async fn surviving(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "with recursive chain (id, merged_into, depth) as (
             select id, merged_into, 0 from customers where id = $1
             union all
             select c.id, c.merged_into, chain.depth + 1 from customers c
             join chain on c.id = chain.merged_into
             where chain.depth < 100
         )
         select id from chain where merged_into is null",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?)
}

/// The customers merged into `target` (directly), oldest merge first.
pub async fn merged_into(
    executor: impl PgExecutor<'_>,
    target: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "select source_customer_id from customer_merges
         where target_customer_id = $1 order by created_at, id",
    )
    .bind(target)
    .fetch_all(executor)
    .await?)
}
