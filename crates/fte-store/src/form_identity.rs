//! Resolving the senders of a batch of web form submissions (the gateway's
//! group commit) with a fixed number of statements.
//!
//! The result is what [`crate::identity::resolve`] gives for each
//! submission in input order: a submission whose email is proven by an
//! identity token goes through `resolve` itself (its proof may upgrade or
//! displace links); the claims — the common case, and every submission of
//! a site without identity verification — are resolved together:
//!
//! - a linked email resolves to its owner;
//! - an unlinked email is decided by its first submission in the batch:
//!   linked (claimed) to the owner of that submission's phone, or founding
//!   a new customer;
//! - an unlinked phone is linked, claimed, to its first submission's
//!   customer; a phone that belongs to someone else stays there;
//! - the profile is filled only where empty, and never when verified.
//!
//! Links read here are locked `for share`, so a staff merge waits for the
//! batch instead of moving the customer out from under it.

use std::collections::HashMap;

use fte_domain::{Channel, Trust, TrustSource};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::StoreError;
use crate::customers::IdentifierKind;
use crate::identity::{Presentation, Presented, ResolveError, resolve};

/// One submission's sender.
#[derive(Clone, Copy, Debug)]
pub struct FormSender<'a> {
    /// The normalised email.
    pub email: &'a str,
    /// Whether a valid identity token proved it.
    pub email_proven: bool,
    /// The normalised phone, if given (always a claim).
    pub phone: Option<&'a str>,
    /// The name typed.
    pub name: &'a str,
    /// The submission's reference (its ticket id).
    pub reference: &'a str,
}

/// A resolved sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedSender {
    /// The customer.
    pub customer_id: Uuid,
    /// The email's link (the reply address).
    pub email_link_id: Uuid,
    /// The sender's trust through the email (see
    /// [`crate::identity::ResolvedLink::sender_trust`]).
    pub sender_trust: Trust,
}

/// Resolves every sender of the batch in the caller's transaction; the
/// result is in input order.
pub async fn resolve_senders(
    conn: &mut PgConnection,
    senders: &[FormSender<'_>],
) -> Result<Vec<ResolvedSender>, StoreError> {
    let mut resolved: Vec<Option<ResolvedSender>> = vec![None; senders.len()];
    for (i, sender) in senders.iter().enumerate().filter(|(_, s)| s.email_proven) {
        resolved[i] = Some(resolve_one(conn, sender).await?);
    }
    let claims: Vec<(usize, &FormSender<'_>)> = senders
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.email_proven)
        .collect();
    if !claims.is_empty() {
        let claimed: Vec<&FormSender<'_>> = claims.iter().map(|(_, s)| *s).collect();
        for ((i, _), sender) in claims.iter().zip(resolve_claims(conn, &claimed).await?) {
            resolved[*i] = Some(sender);
        }
    }
    resolved
        .into_iter()
        .map(|r| r.ok_or(StoreError::Database(sqlx::Error::RowNotFound)))
        .collect()
}

async fn resolve_one(
    conn: &mut PgConnection,
    sender: &FormSender<'_>,
) -> Result<ResolvedSender, StoreError> {
    let mut presented = vec![Presented {
        kind: IdentifierKind::Email,
        value: sender.email,
        proven: sender.email_proven,
    }];
    if let Some(phone) = sender.phone {
        presented.push(Presented {
            kind: IdentifierKind::Phone,
            value: phone,
            proven: false,
        });
    }
    let resolution = resolve(
        conn,
        &Presentation {
            identifiers: &presented,
            channel: Channel::WebForm,
            reference: sender.reference,
            name: Some(sender.name),
        },
    )
    .await
    .map_err(|error| match error {
        ResolveError::Store(error) => error,
        ResolveError::NoIdentifier => StoreError::Database(sqlx::Error::RowNotFound),
    })?;
    let email = resolution
        .link(IdentifierKind::Email)
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    Ok(ResolvedSender {
        customer_id: resolution.customer_id,
        email_link_id: email.link.id,
        sender_trust: resolution.sender_trust(IdentifierKind::Email),
    })
}

/// `(type, value) → (link id, customer)` for the batch's identifiers.
type Owners = HashMap<(String, String), (Uuid, Uuid)>;

async fn read_owners(
    conn: &mut PgConnection,
    senders: &[&FormSender<'_>],
) -> Result<Owners, StoreError> {
    let mut kinds = Vec::new();
    let mut values = Vec::new();
    for sender in senders {
        kinds.push("email");
        values.push(sender.email);
        if let Some(phone) = sender.phone {
            kinds.push("phone");
            values.push(phone);
        }
    }
    let rows: Vec<(String, String, Uuid, Uuid)> = sqlx::query_as(
        "select identifier_type, identifier_value, id, customer_id from customer_identifiers
         where (identifier_type, identifier_value) in
               (select * from unnest($1::text[], $2::text[]))
         order by identifier_type, identifier_value
         for share",
    )
    .bind(&kinds)
    .bind(&values)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, value, id, customer)| ((kind, value), (id, customer)))
        .collect())
}

fn owner(owners: &Owners, kind: &str, value: &str) -> Option<(Uuid, Uuid)> {
    owners.get(&(kind.to_owned(), value.to_owned())).copied()
}

/// New links (claimed) to write in one statement, with their
/// `identifier_events` rows: `(customer, type, value, reference)`.
async fn insert_claimed_links(
    conn: &mut PgConnection,
    links: &[(Uuid, &str, &str, &str)],
) -> Result<(), StoreError> {
    if links.is_empty() {
        return Ok(());
    }
    let customers: Vec<Uuid> = links.iter().map(|l| l.0).collect();
    let kinds: Vec<&str> = links.iter().map(|l| l.1).collect();
    let values: Vec<&str> = links.iter().map(|l| l.2).collect();
    let references: Vec<&str> = links.iter().map(|l| l.3).collect();
    sqlx::query(
        "with linked as (
             insert into customer_identifiers (customer_id, identifier_type, identifier_value,
                 trust_source, trust_reference)
             select customer_id, kind, value, $5, reference
             from unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
                  as t (customer_id, kind, value, reference)
             on conflict (identifier_type, identifier_value) do nothing
             returning customer_id, identifier_type, identifier_value, trust_reference
         )
         insert into identifier_events (customer_id, identifier_type, identifier_value, action,
             trust, trust_source, reference)
         select customer_id, identifier_type, identifier_value, 'linked', 'claimed', $5,
                trust_reference
         from linked",
    )
    .bind(&customers)
    .bind(&kinds)
    .bind(&values)
    .bind(&references)
    .bind(TrustSource::Claim.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn resolve_claims(
    conn: &mut PgConnection,
    senders: &[&FormSender<'_>],
) -> Result<Vec<ResolvedSender>, StoreError> {
    let owners = read_owners(conn, senders).await?;

    // Unlinked emails: their first submission decides.
    let mut decided = std::collections::HashSet::new();
    let (mut founders, mut email_links) = (Vec::new(), Vec::new());
    for sender in senders {
        if owner(&owners, "email", sender.email).is_some() || !decided.insert(sender.email) {
            continue;
        }
        match sender.phone.and_then(|p| owner(&owners, "phone", p)) {
            Some((_, customer)) => {
                email_links.push((customer, "email", sender.email, sender.reference));
            }
            None => founders.push(**sender),
        }
    }
    if !founders.is_empty() {
        found_customers(conn, &founders).await?;
    }
    insert_claimed_links(conn, &email_links).await?;
    let owners = read_owners(conn, senders).await?;

    // Unlinked phones: linked to their first submission's customer.
    let mut phone_links = Vec::new();
    let mut seen_phones = std::collections::HashSet::new();
    for sender in senders {
        let (Some(phone), Some((_, customer))) =
            (sender.phone, owner(&owners, "email", sender.email))
        else {
            continue;
        };
        if owner(&owners, "phone", phone).is_none() && seen_phones.insert(phone) {
            phone_links.push((customer, "phone", phone, sender.reference));
        }
    }
    insert_claimed_links(conn, &phone_links).await?;
    let owners = if phone_links.is_empty() {
        owners
    } else {
        read_owners(conn, senders).await?
    };

    let mut resolved = Vec::with_capacity(senders.len());
    for sender in senders {
        let (email_link_id, customer_id) = owner(&owners, "email", sender.email)
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
        resolved.push(ResolvedSender {
            customer_id,
            email_link_id,
            sender_trust: Trust::Claimed,
        });
    }
    fill_claimed_profiles(conn, senders, &resolved, &owners).await?;
    Ok(resolved)
}

/// Creates one customer per founding email (name and email on the
/// profile), with its founding claimed link. `customers.email` is unique,
/// so a concurrent batch founding the same address agrees on one row; a
/// customer created here whose link lost a race to a concurrent message is
/// deleted again (it owns nothing).
async fn found_customers(
    conn: &mut PgConnection,
    founders: &[FormSender<'_>],
) -> Result<(), StoreError> {
    // In one order across batches: two batches founding the same addresses
    // then wait for each other instead of deadlocking.
    let mut founders = founders.to_vec();
    founders.sort_unstable_by_key(|s| s.email);
    let emails: Vec<&str> = founders.iter().map(|s| s.email).collect();
    let names: Vec<&str> = founders.iter().map(|s| s.name).collect();
    let references: Vec<&str> = founders.iter().map(|s| s.reference).collect();
    let orphans: Vec<Uuid> = sqlx::query_scalar(
        "with new as (
             select * from unnest($1::text[], $2::text[], $3::text[]) as t (email, name, reference)
         ),
         upserted as (
             insert into customers (email, name)
             select email, name from new
             on conflict (email) do update set updated_at = now()
             returning id, email, (xmax = 0) as inserted
         ),
         linked as (
             insert into customer_identifiers (customer_id, identifier_type, identifier_value,
                 trust_source, trust_reference, founding)
             select u.id, 'email', u.email, $4, new.reference, true
             from upserted u join new on new.email = u.email
             on conflict (identifier_type, identifier_value) do nothing
             returning customer_id, identifier_type, identifier_value, trust_reference
         ),
         events as (
             insert into identifier_events (customer_id, identifier_type, identifier_value,
                 action, trust, trust_source, reference)
             select customer_id, identifier_type, identifier_value, 'linked', 'claimed', $4,
                    trust_reference
             from linked
             returning 1
         )
         select u.id from upserted u
         where u.inserted and not exists (select 1 from linked l where l.customer_id = u.id)",
    )
    .bind(&emails)
    .bind(&names)
    .bind(&references)
    .bind(TrustSource::Claim.as_str())
    .fetch_all(&mut *conn)
    .await?;
    if !orphans.is_empty() {
        sqlx::query("delete from customers where id = any($1)")
            .bind(&orphans)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Fills empty profile fields from each customer's first submission, with
/// the identifiers that are that customer's own; a verified profile is
/// never touched by a claim, and a profile with nothing to fill is not
/// written (a customer founded by this batch already has its name and email).
async fn fill_claimed_profiles(
    conn: &mut PgConnection,
    senders: &[&FormSender<'_>],
    resolved: &[ResolvedSender],
    owners: &Owners,
) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    let (mut ids, mut names, mut emails, mut phones) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (sender, resolved) in senders.iter().zip(resolved) {
        if !seen.insert(resolved.customer_id) {
            continue;
        }
        let own_phone = sender
            .phone
            .filter(|p| owner(owners, "phone", p).is_some_and(|(_, c)| c == resolved.customer_id));
        ids.push(resolved.customer_id);
        names.push(sender.name);
        emails.push(sender.email);
        phones.push(own_phone);
    }
    sqlx::query(
        "update customers c set
             name = coalesce(c.name, t.name),
             email = coalesce(c.email, case when not exists
                 (select 1 from customers o where o.email = t.email) then t.email end),
             phone = coalesce(c.phone, t.phone),
             updated_at = now()
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as t (id, name, email, phone)
         where c.id = t.id and not c.profile_verified
           and (c.name is null or c.email is null or (c.phone is null and t.phone is not null))",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&emails)
    .bind(&phones)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
