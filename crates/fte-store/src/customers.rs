//! Customers and the identifiers we know them by.
//!
//! `customer_identifiers` is unique on `(identifier_type, identifier_value)`,
//! so one email or phone belongs to at most one customer. Links are written
//! with `insert … on conflict do nothing` followed by a re-select: when two
//! transactions race for the same identifier, the loser waits for the
//! winner's commit and then reads the winner's owner instead of failing.
//! Values are stored already normalised (see `fte_domain::identity`).

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// The kind of an identifier, spelled as in the CHECK constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentifierKind {
    /// A normalised email address.
    Email,
    /// An E.164 phone number (WhatsApp senders included).
    Phone,
}

impl IdentifierKind {
    /// The database spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
        }
    }
}

/// A customer as the worker needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CustomerRow {
    /// Id.
    pub id: Uuid,
    /// Primary email, when known.
    pub email: Option<String>,
    /// Primary phone, when known.
    pub phone: Option<String>,
    /// The name the customer gave first.
    pub name: Option<String>,
    /// Plan tier, when known.
    pub plan: Option<String>,
}

/// The customer owning `value` of `kind`, if any.
pub async fn owner_of(
    executor: impl PgExecutor<'_>,
    kind: IdentifierKind,
    value: &str,
) -> Result<Option<Uuid>, StoreError> {
    let owner = sqlx::query_scalar(
        "select customer_id from customer_identifiers
         where identifier_type = $1 and identifier_value = $2",
    )
    .bind(kind.as_str())
    .bind(value)
    .fetch_optional(executor)
    .await?;
    Ok(owner)
}

/// Creates a customer with no identifiers yet; returns its id.
pub async fn create_customer(
    executor: impl PgExecutor<'_>,
    name: Option<&str>,
) -> Result<Uuid, StoreError> {
    let id = sqlx::query_scalar("insert into customers (name) values ($1) returning id")
        .bind(name)
        .fetch_one(executor)
        .await?;
    Ok(id)
}

/// Locks the customer's row `for key share` in this transaction: a staff
/// merge (which locks it `for update`) waits until the transaction ends, so
/// rows written for the customer meanwhile are moved by the merge too.
pub async fn lock_for_key_share(executor: impl PgExecutor<'_>, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("select 1 from customers where id = $1 for key share")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Deletes a customer created in this transaction that lost an identity
/// race (it owns nothing yet).
pub async fn delete_customer(executor: impl PgExecutor<'_>, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("delete from customers where id = $1")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Links `value` to `customer_id` as a claim unless it already belongs to
/// someone (the customer's first link founds it); returns the identifier's
/// owner afterwards (`customer_id` or the customer who had it first).
/// [`crate::identity::resolve`] is the resolution with trust; this plain
/// claim is what callers that do not carry proofs write.
pub async fn link_identifier(
    conn: &mut PgConnection,
    customer_id: Uuid,
    kind: IdentifierKind,
    value: &str,
) -> Result<Uuid, StoreError> {
    sqlx::query(
        "insert into customer_identifiers (customer_id, identifier_type, identifier_value,
             trust_source, founding)
         values ($1, $2, $3, 'claim',
                 not exists (select 1 from customer_identifiers where customer_id = $1))
         on conflict (identifier_type, identifier_value) do nothing",
    )
    .bind(customer_id)
    .bind(kind.as_str())
    .bind(value)
    .execute(&mut *conn)
    .await?;
    let owner = owner_of(&mut *conn, kind, value).await?;
    // The row exists now: ours or the winner's of a race.
    owner.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

/// Fills the customer's primary email, phone and name where still empty,
/// unless a verified message wrote the profile (a claim never adds to a
/// verified profile; see [`crate::identity::fill_profile`]). The primary
/// email is unique across customers; it is only set when no other customer
/// already has it.
pub async fn fill_profile(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
    name: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "update customers set
             email = coalesce(email, case when not exists
                 (select 1 from customers other where other.email = $2) then $2 end),
             phone = coalesce(phone, $3),
             name = coalesce(name, $4),
             updated_at = now()
         where id = $1 and not profile_verified",
    )
    .bind(customer_id)
    .bind(email)
    .bind(phone)
    .bind(name)
    .execute(executor)
    .await?;
    Ok(())
}

/// One customer.
pub async fn customer(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<CustomerRow>, StoreError> {
    let row = sqlx::query_as("select id, email, phone, name, plan from customers where id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await?;
    Ok(row)
}

/// Every identifier of a customer as `(type, value)`, oldest first.
pub async fn identifiers(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query_as(
        "select identifier_type, identifier_value from customer_identifiers
         where customer_id = $1 order by created_at, identifier_type",
    )
    .bind(customer_id)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}
