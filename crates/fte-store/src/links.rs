//! The rows of `customer_identifiers` with their trust, and every change
//! to them (linked, upgraded, displaced, unlinked, merged), each recorded in
//! `identifier_events` in the caller's transaction.
//!
//! These are the building blocks; [`crate::identity::resolve`] decides
//! which to apply to a message, and [`crate::merges`] moves links between
//! customers. Values are stored already normalised
//! (`fte_domain::identity`).

use chrono::{DateTime, Utc};
use fte_domain::{Trust, TrustSource};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;
use crate::customers::IdentifierKind;

/// One link between an identifier and a customer.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    /// The link's id (what staff unlink).
    pub id: Uuid,
    /// The customer it belongs to.
    pub customer_id: Uuid,
    /// `email` or `phone`.
    pub identifier_type: String,
    /// The normalised value.
    pub identifier_value: String,
    /// Whether the link is verified (see [`Trust`]).
    pub verified: bool,
    /// What established the current trust ([`TrustSource`] spelling).
    pub trust_source: String,
    /// The channel message id or the staff member behind it.
    pub trust_reference: Option<String>,
    /// When the trust last changed.
    pub trust_changed_at: DateTime<Utc>,
    /// The customer was created by this identifier.
    pub founding: bool,
    /// Claimed beside a proven, verified identifier of the same customer.
    pub vouched: bool,
    /// The message that created the link proved the identifier.
    pub identifier_proven: bool,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
}

/// Identifiers are personal data: debug output names the link, not the value.
impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("id", &self.id)
            .field("customer_id", &self.customer_id)
            .field("identifier_type", &self.identifier_type)
            .field("verified", &self.verified)
            .field("trust_source", &self.trust_source)
            .field("founding", &self.founding)
            .field("vouched", &self.vouched)
            .field("identifier_proven", &self.identifier_proven)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// The link's trust level.
    pub fn trust(&self) -> Trust {
        Trust::from_verified(self.verified)
    }

    /// Whether a later proof of the identifier proves this link too: the
    /// customer was founded by it, or a verified identifier vouched for it.
    pub fn upgradable(&self) -> bool {
        !self.verified && (self.founding || self.vouched)
    }

    /// The identifier's kind, when it is one this crate writes.
    pub fn kind(&self) -> Option<IdentifierKind> {
        match self.identifier_type.as_str() {
            "email" => Some(IdentifierKind::Email),
            "phone" | "whatsapp" => Some(IdentifierKind::Phone),
            _ => None,
        }
    }
}

pub(crate) const LINK_COLUMNS: &str = "id, customer_id, identifier_type, identifier_value, verified,
    trust_source, trust_reference, trust_changed_at, founding, vouched, identifier_proven, created_at";

/// A link to write.
#[derive(Clone, Copy, Debug)]
pub struct NewLink<'a> {
    /// The customer.
    pub customer_id: Uuid,
    /// Email or phone.
    pub kind: IdentifierKind,
    /// The normalised value.
    pub value: &'a str,
    /// Its trust.
    pub trust: Trust,
    /// What established it.
    pub source: TrustSource,
    /// The channel message id or staff member.
    pub reference: Option<&'a str>,
    /// The customer is being created by this identifier.
    pub founding: bool,
    /// Claimed beside a proven, verified identifier of the customer.
    pub vouched: bool,
    /// The message proved the identifier.
    pub identifier_proven: bool,
}

/// What happened to a link, for `identifier_events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkAction {
    /// Created.
    Linked,
    /// Claimed → verified.
    Upgraded,
    /// Removed because a proven sender of the identifier wrote in and the
    /// link was an unproven claim.
    Displaced,
    /// Removed by staff.
    Unlinked,
    /// Moved to another customer by a merge.
    Merged,
}

impl LinkAction {
    /// The database spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkAction::Linked => "linked",
            LinkAction::Upgraded => "upgraded",
            LinkAction::Displaced => "displaced",
            LinkAction::Unlinked => "unlinked",
            LinkAction::Merged => "merged",
        }
    }
}

/// Records a change of `link` (as it is after the change, or as it was for
/// a removal).
pub async fn record_event(
    executor: impl PgExecutor<'_>,
    link: &Link,
    action: LinkAction,
    source: TrustSource,
    reference: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into identifier_events (customer_id, identifier_type, identifier_value, action,
             trust, trust_source, reference)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(link.customer_id)
    .bind(&link.identifier_type)
    .bind(&link.identifier_value)
    .bind(action.as_str())
    .bind(link.trust().as_str())
    .bind(source.as_str())
    .bind(reference)
    .execute(executor)
    .await?;
    Ok(())
}

/// Takes a transaction-scoped advisory lock on each identifier, in one
/// stable order. Row locks cover only links that exist; two first messages
/// of one person find none, and both inserting the person's rows at once
/// deadlocked on the foreign keys. With these locks the second resolution
/// waits for the first to commit and then finds its links.
pub async fn serialise_identifiers(
    conn: &mut PgConnection,
    identifiers: &[(IdentifierKind, &str)],
) -> Result<(), StoreError> {
    let keys: Vec<String> = identifiers
        .iter()
        .map(|(kind, value)| format!("{}:{value}", kind.as_str()))
        .collect();
    lock_identifier_keys(conn, keys).await
}

/// The advisory locks of [`serialise_identifiers`] for the identifiers of
/// `customers`' links, as stored: what staff changes (an unlink, a merge)
/// take first, so they queue behind a turn of one of those identifiers
/// instead of deadlocking against it (the turn locks its messages, whose
/// `sender_identifier_id` a deleted link sets to null).
pub async fn serialise_links_of(
    conn: &mut PgConnection,
    customers: &[Uuid],
) -> Result<(), StoreError> {
    let stored: Vec<(String, String)> = sqlx::query_as(
        "select identifier_type, identifier_value from customer_identifiers
         where customer_id = any($1)",
    )
    .bind(customers)
    .fetch_all(&mut *conn)
    .await?;
    let keys = stored
        .into_iter()
        .map(|(kind, value)| {
            // WhatsApp senders are phones to the resolution.
            let kind = if kind == "whatsapp" {
                IdentifierKind::Phone.as_str().to_owned()
            } else {
                kind
            };
            format!("{kind}:{value}")
        })
        .collect();
    lock_identifier_keys(conn, keys).await
}

async fn lock_identifier_keys(
    conn: &mut PgConnection,
    mut keys: Vec<String>,
) -> Result<(), StoreError> {
    keys.sort();
    keys.dedup();
    for key in &keys {
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 7302))")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The links of these identifiers, locked for update in this transaction
/// (in a stable order, so two resolutions never deadlock on them).
pub async fn lock_links(
    conn: &mut PgConnection,
    identifiers: &[(IdentifierKind, &str)],
) -> Result<Vec<Link>, StoreError> {
    let kinds: Vec<&str> = identifiers.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<&str> = identifiers.iter().map(|(_, v)| *v).collect();
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {LINK_COLUMNS} from customer_identifiers
         where (identifier_type, identifier_value) in
               (select * from unnest($1::text[], $2::text[]))
         order by id
         for update"
    )))
    .bind(&kinds)
    .bind(&values)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// The link of one identifier, if any.
pub async fn find(
    executor: impl PgExecutor<'_>,
    kind: IdentifierKind,
    value: &str,
) -> Result<Option<Link>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {LINK_COLUMNS} from customer_identifiers
         where identifier_type = $1 and identifier_value = $2"
    )))
    .bind(kind.as_str())
    .bind(value)
    .fetch_optional(executor)
    .await?)
}

/// One link by id, if it belongs to `customer_id`.
pub async fn of_customer(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    link_id: Uuid,
) -> Result<Option<Link>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {LINK_COLUMNS} from customer_identifiers where id = $1 and customer_id = $2"
    )))
    .bind(link_id)
    .bind(customer_id)
    .fetch_optional(executor)
    .await?)
}

/// Every link of a customer, oldest first.
pub async fn all_of_customer(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> Result<Vec<Link>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {LINK_COLUMNS} from customer_identifiers
         where customer_id = $1 order by created_at, identifier_type, id"
    )))
    .bind(customer_id)
    .fetch_all(executor)
    .await?)
}

/// Links the identifier unless it already belongs to someone; returns the
/// identifier's link afterwards (ours, or the one a concurrent transaction
/// committed first, which may belong to another customer).
pub async fn insert(conn: &mut PgConnection, new: &NewLink<'_>) -> Result<Link, StoreError> {
    let inserted: Option<Link> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into customer_identifiers (customer_id, identifier_type, identifier_value,
             verified, trust_source, trust_reference, founding, vouched, identifier_proven)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (identifier_type, identifier_value) do nothing
         returning {LINK_COLUMNS}"
    )))
    .bind(new.customer_id)
    .bind(new.kind.as_str())
    .bind(new.value)
    .bind(new.trust.is_verified())
    .bind(new.source.as_str())
    .bind(new.reference)
    .bind(new.founding)
    .bind(new.vouched)
    .bind(new.identifier_proven)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(link) = inserted {
        record_event(
            &mut *conn,
            &link,
            LinkAction::Linked,
            new.source,
            new.reference,
        )
        .await?;
        return Ok(link);
    }
    // The row exists now: the winner's of a race.
    find(&mut *conn, new.kind, new.value)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

/// Marks a claimed link verified by `source` (the caller checked
/// [`Link::upgradable`]); returns the link as it is now.
pub async fn upgrade(
    conn: &mut PgConnection,
    link: &Link,
    source: TrustSource,
    reference: Option<&str>,
) -> Result<Link, StoreError> {
    let upgraded: Link = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update customer_identifiers set verified = true, trust_source = $2, trust_reference = $3,
             identifier_proven = true, trust_changed_at = now(), updated_at = now()
         where id = $1
         returning {LINK_COLUMNS}"
    )))
    .bind(link.id)
    .bind(source.as_str())
    .bind(reference)
    .fetch_one(&mut *conn)
    .await?;
    record_event(
        &mut *conn,
        &upgraded,
        LinkAction::Upgraded,
        source,
        reference,
    )
    .await?;
    Ok(upgraded)
}

/// Removes a link (recording `action`) and clears the customer's profile
/// email or phone when it was this identifier, so nothing keeps pointing
/// the identifier at the customer.
pub async fn remove(
    conn: &mut PgConnection,
    link: &Link,
    action: LinkAction,
    source: TrustSource,
    reference: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("delete from customer_identifiers where id = $1")
        .bind(link.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "update customers set
             email = case when $2 = 'email' and email = $3 then null else email end,
             phone = case when $2 in ('phone', 'whatsapp') and phone = $3 then null else phone end,
             updated_at = now()
         where id = $1",
    )
    .bind(link.customer_id)
    .bind(&link.identifier_type)
    .bind(&link.identifier_value)
    .execute(&mut *conn)
    .await?;
    record_event(&mut *conn, link, action, source, reference).await
}

/// Staff unlinking an identifier from `customer_id`: removes the link
/// (recording `staff`) and returns it; `None` when the customer has no such
/// link. The identifier's next message resolves as if it were new.
pub async fn unlink(
    conn: &mut PgConnection,
    customer_id: Uuid,
    link_id: Uuid,
    staff: Option<&str>,
) -> Result<Option<Link>, StoreError> {
    serialise_links_of(conn, &[customer_id]).await?;
    let link: Option<Link> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {LINK_COLUMNS} from customer_identifiers
         where id = $1 and customer_id = $2 for update"
    )))
    .bind(link_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(link) = link else {
        return Ok(None);
    };
    remove(conn, &link, LinkAction::Unlinked, TrustSource::Staff, staff).await?;
    Ok(Some(link))
}

/// Whether `email` ever proved itself: its link is verified, or a message
/// that proved it created the link. Replies by email to other addresses
/// are capped per day.
pub async fn email_proven(executor: impl PgExecutor<'_>, email: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from customer_identifiers
                        where identifier_type = 'email' and identifier_value = $1
                          and (verified or identifier_proven))",
    )
    .bind(email)
    .fetch_one(executor)
    .await?)
}
