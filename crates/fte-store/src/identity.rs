//! Resolving a message's identifiers to one customer, with the trust of
//! each link (`docs/identity.md` states the rules; this is their one
//! implementation, used by the gateway for web form submissions and by the
//! worker for every message).
//!
//! In the caller's transaction, [`resolve`]:
//!
//! 1. takes a transaction lock on each of the message's identifiers (so
//!    two resolutions of one identifier, even one nobody has linked yet,
//!    run one after the other) and locks their links;
//! 2. applies each proof the message carries: a claimed link the proof may
//!    upgrade ([`Link::upgradable`]) becomes verified; a claimed link made
//!    by an unproven claim of someone else's identifier is *displaced* (the
//!    proven sender takes the identifier back); a claimed link the same
//!    identifier's owner made themselves stays claimed;
//! 3. chooses the customer: the owner of a proven identifier (verified
//!    links first), else the owner of any identifier (email first), else a
//!    new customer founded by the first proven identifier (else the first);
//! 4. links the message's other identifiers to that customer: verified when
//!    proven beside a proven, verified identifier of the customer (or when
//!    it founded the customer), vouched-claimed when claimed beside one,
//!    claimed otherwise. An identifier that belongs to another customer
//!    stays there: nobody is merged except by staff;
//! 5. fills the profile (name, email, phone) under [`fill_profile`]'s rule:
//!    a claim never overwrites or adds to a verified profile.
//!
//! The chosen customer's row is locked `for key share`, so a staff merge
//! (which locks it `for update`) waits for the message's transaction and
//! then moves its rows too.

use fte_domain::{Channel, Trust, TrustSource};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::StoreError;
use crate::customers::{self, IdentifierKind};
use crate::links::{self, Link, LinkAction, NewLink};

/// One identifier as a message presents it (normalised).
#[derive(Clone, Copy, Debug)]
pub struct Presented<'a> {
    /// Email or phone.
    pub kind: IdentifierKind,
    /// The normalised value.
    pub value: &'a str,
    /// Whether the channel proved the sender owns it.
    pub proven: bool,
}

/// A message's identity, as [`resolve`] needs it.
#[derive(Clone, Copy, Debug)]
pub struct Presentation<'a> {
    /// The identifiers, email first.
    pub identifiers: &'a [Presented<'a>],
    /// The channel (what a proof on it is called).
    pub channel: Channel,
    /// The channel message id, recorded as the reference of link changes.
    pub reference: &'a str,
    /// The name the sender gave.
    pub name: Option<&'a str>,
}

/// What [`resolve`] did with one identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkChange {
    /// The link was already as it is.
    Unchanged,
    /// The link was created by this message.
    Created,
    /// A claimed link became verified.
    Upgraded,
    /// The identifier was taken from `from_customer`'s unproven claim and
    /// linked again by this message.
    Displaced {
        /// The customer who had claimed it.
        from_customer: Uuid,
    },
}

/// One identifier after resolution.
#[derive(Clone, Debug)]
pub struct ResolvedLink {
    /// Email or phone.
    pub kind: IdentifierKind,
    /// Whether the message proved it.
    pub proven: bool,
    /// Its link now (which may belong to another customer).
    pub link: Link,
    /// What this message changed.
    pub change: LinkChange,
}

impl ResolvedLink {
    /// The link's trust for `customer_id`: its own trust when it belongs to
    /// that customer, otherwise claimed.
    pub fn link_trust(&self, customer_id: Uuid) -> Trust {
        if self.link.customer_id == customer_id {
            self.link.trust()
        } else {
            Trust::Claimed
        }
    }

    /// The trust of *this message's sender* for `customer_id`: verified
    /// only when the message proved the identifier and the identifier's
    /// link to the customer is verified. A claim of a verified address is
    /// still a claim: whoever sent it is not known to be the customer.
    pub fn sender_trust(&self, customer_id: Uuid) -> Trust {
        Trust::from_verified(self.proven && self.link_trust(customer_id).is_verified())
    }
}

/// The customer a message resolved to, and each identifier's link.
#[derive(Clone, Debug)]
pub struct Resolution {
    /// The customer.
    pub customer_id: Uuid,
    /// Whether this message created the customer.
    pub created: bool,
    /// The message's identifiers, in the order presented.
    pub links: Vec<ResolvedLink>,
}

impl Resolution {
    /// The resolved link of the identifier of `kind`, if the message had one.
    pub fn link(&self, kind: IdentifierKind) -> Option<&ResolvedLink> {
        self.links.iter().find(|l| l.kind == kind)
    }

    /// The trust of the customer's link for the identifier of `kind` (what
    /// staff see); claimed when the message had no such identifier or it
    /// belongs to someone else.
    pub fn link_trust(&self, kind: IdentifierKind) -> Trust {
        self.link(kind)
            .map_or(Trust::Claimed, |l| l.link_trust(self.customer_id))
    }

    /// The trust of the sender through the identifier of `kind` (see
    /// [`ResolvedLink::sender_trust`]): what a reply to this message may
    /// disclose, and which rate-limit allowance it spends.
    pub fn sender_trust(&self, kind: IdentifierKind) -> Trust {
        self.link(kind)
            .map_or(Trust::Claimed, |l| l.sender_trust(self.customer_id))
    }

    /// Whether some identifier the message proved has a verified link to
    /// the customer (such a message may write a verified profile).
    pub fn proven_and_verified(&self) -> bool {
        self.links
            .iter()
            .any(|l| l.sender_trust(self.customer_id).is_verified())
    }
}

/// Why a message cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The message carries no identifier at all.
    #[error("the message carries no identifier")]
    NoIdentifier,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ResolveError {
    fn from(error: sqlx::Error) -> Self {
        ResolveError::Store(StoreError::Database(error))
    }
}

/// Resolves `message` to a customer inside the caller's transaction (see
/// the module documentation for the rules).
pub async fn resolve(
    conn: &mut PgConnection,
    message: &Presentation<'_>,
) -> Result<Resolution, ResolveError> {
    let presented = message.identifiers;
    if presented.is_empty() {
        return Err(ResolveError::NoIdentifier);
    }
    let keys: Vec<(IdentifierKind, &str)> = presented.iter().map(|p| (p.kind, p.value)).collect();
    links::serialise_identifiers(conn, &keys).await?;
    let locked = links::lock_links(conn, &keys).await?;
    let mut current: Vec<Option<(Link, LinkChange)>> = presented
        .iter()
        .map(|p| {
            locked
                .iter()
                .find(|l| l.identifier_type == p.kind.as_str() && l.identifier_value == p.value)
                .map(|l| (l.clone(), LinkChange::Unchanged))
        })
        .collect();

    // 2. The proofs this message carries.
    let mut displaced_from = vec![None; presented.len()];
    for (i, p) in presented.iter().enumerate() {
        let Some((link, _)) = &current[i] else {
            continue;
        };
        if !p.proven || link.verified {
            continue;
        }
        let source = TrustSource::of_message(message.channel, true);
        if link.upgradable() {
            let upgraded = links::upgrade(conn, link, source, Some(message.reference)).await?;
            current[i] = Some((upgraded, LinkChange::Upgraded));
        } else if !link.identifier_proven {
            links::remove(
                conn,
                link,
                LinkAction::Displaced,
                source,
                Some(message.reference),
            )
            .await?;
            tracing::warn!(
                security = true,
                customer.id = %link.customer_id,
                identifier_type = %link.identifier_type,
                "a proven sender took an identifier back from an unproven claim"
            );
            displaced_from[i] = Some(link.customer_id);
            current[i] = None;
        }
    }

    // 3. The customer.
    let owner = |i: usize| current[i].as_ref().map(|(l, _)| l.customer_id);
    let chosen = (0..presented.len())
        .filter(|&i| presented[i].proven)
        .find(|&i| current[i].as_ref().is_some_and(|(l, _)| l.verified))
        .and_then(owner)
        .or_else(|| {
            (0..presented.len())
                .filter(|&i| presented[i].proven)
                .find_map(owner)
        })
        .or_else(|| (0..presented.len()).find_map(owner));
    let (customer_id, created) = match chosen {
        Some(id) => (id, false),
        None => {
            let founder = presented.iter().position(|p| p.proven).unwrap_or(0);
            match found_customer(conn, message, founder).await? {
                Founded::New(id, link) => {
                    let change = match displaced_from[founder] {
                        Some(from_customer) => LinkChange::Displaced { from_customer },
                        None => LinkChange::Created,
                    };
                    current[founder] = Some((link, change));
                    (id, true)
                }
                Founded::Lost(link) => {
                    // A concurrent message of the same person committed first.
                    let id = link.customer_id;
                    current[founder] = Some((link, LinkChange::Unchanged));
                    (id, false)
                }
            }
        }
    };
    customers::lock_for_key_share(&mut *conn, customer_id).await?;

    // 4. The message's other identifiers.
    for (i, p) in presented.iter().enumerate() {
        if current[i].is_some() {
            continue;
        }
        let vouched_by_proof = presented.iter().zip(&current).any(|(q, c)| {
            q.proven
                && c.as_ref()
                    .is_some_and(|(l, _)| l.customer_id == customer_id && l.verified)
        });
        let trust = Trust::from_verified(p.proven && vouched_by_proof);
        let link = links::insert(
            conn,
            &NewLink {
                customer_id,
                kind: p.kind,
                value: p.value,
                trust,
                source: TrustSource::of_message(message.channel, trust.is_verified()),
                reference: Some(message.reference),
                founding: false,
                vouched: !trust.is_verified() && vouched_by_proof,
                identifier_proven: p.proven,
            },
        )
        .await?;
        if link.customer_id != customer_id {
            tracing::warn!(
                customer.id = %customer_id,
                other_customer.id = %link.customer_id,
                identifier_type = p.kind.as_str(),
                "identifiers of one message belong to two customers; not merged"
            );
        }
        let change = match displaced_from[i] {
            Some(from_customer) => LinkChange::Displaced { from_customer },
            None if link.customer_id == customer_id => LinkChange::Created,
            None => LinkChange::Unchanged,
        };
        current[i] = Some((link, change));
    }

    let links: Vec<ResolvedLink> = presented
        .iter()
        .zip(current)
        .filter_map(|(p, c)| {
            c.map(|(link, change)| ResolvedLink {
                kind: p.kind,
                proven: p.proven,
                link,
                change,
            })
        })
        .collect();
    let resolution = Resolution {
        customer_id,
        created,
        links,
    };

    // 5. The profile.
    let own = |kind: IdentifierKind| {
        resolution
            .link(kind)
            .filter(|l| l.link.customer_id == customer_id)
            .map(|l| l.link.identifier_value.as_str())
    };
    fill_profile(
        &mut *conn,
        customer_id,
        &ProfileUpdate {
            email: own(IdentifierKind::Email),
            phone: own(IdentifierKind::Phone),
            name: message.name.map(str::trim).filter(|n| !n.is_empty()),
            verified: resolution.proven_and_verified(),
        },
    )
    .await?;
    Ok(resolution)
}

enum Founded {
    New(Uuid, Link),
    Lost(Link),
}

/// Creates a customer founded by the identifier at `founder`; when a
/// concurrent transaction linked that identifier first, deletes the new
/// (still empty) customer and returns the winner's link.
async fn found_customer(
    conn: &mut PgConnection,
    message: &Presentation<'_>,
    founder: usize,
) -> Result<Founded, StoreError> {
    let p = message.identifiers[founder];
    let id = customers::create_customer(&mut *conn, None).await?;
    let link = links::insert(
        conn,
        &NewLink {
            customer_id: id,
            kind: p.kind,
            value: p.value,
            trust: Trust::from_verified(p.proven),
            source: TrustSource::of_message(message.channel, p.proven),
            reference: Some(message.reference),
            founding: true,
            vouched: false,
            identifier_proven: p.proven,
        },
    )
    .await?;
    if link.customer_id == id {
        Ok(Founded::New(id, link))
    } else {
        customers::delete_customer(&mut *conn, id).await?;
        Ok(Founded::Lost(link))
    }
}

/// What a message may write to a customer's profile.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProfileUpdate<'a> {
    /// The message's email, when it is linked to this customer.
    pub email: Option<&'a str>,
    /// The message's phone, when it is linked to this customer.
    pub phone: Option<&'a str>,
    /// The name the sender gave.
    pub name: Option<&'a str>,
    /// Whether the message proved an identifier verified-linked to the
    /// customer.
    pub verified: bool,
}

/// Writes the profile fields staff see (name, email, phone):
///
/// - a verified message on a profile still written by claims replaces the
///   name it gives, and the email and phone with its own identifiers, and
///   marks the profile verified;
/// - otherwise fields are only filled where empty — and a claim never
///   touches a verified profile at all.
///
/// The primary email is unique across customers; it is only set when no
/// other customer has it.
pub async fn fill_profile(
    conn: &mut PgConnection,
    customer_id: Uuid,
    update: &ProfileUpdate<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "update customers c set
             email = case
                 when $2::text is null
                      or exists (select 1 from customers o where o.email = $2 and o.id <> c.id)
                     then c.email
                 when $5 and not c.profile_verified then $2
                 else coalesce(c.email, $2) end,
             phone = case
                 when $3::text is null then c.phone
                 when $5 and not c.profile_verified then $3
                 else coalesce(c.phone, $3) end,
             name = case
                 when $4::text is null then c.name
                 when $5 and not c.profile_verified then $4
                 else coalesce(c.name, $4) end,
             profile_verified = c.profile_verified or $5,
             updated_at = now()
         where c.id = $1 and ($5 or not c.profile_verified)",
    )
    .bind(customer_id)
    .bind(update.email)
    .bind(update.phone)
    .bind(update.name)
    .bind(update.verified)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
