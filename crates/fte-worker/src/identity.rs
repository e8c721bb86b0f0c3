//! Cross-channel identity: which customer wrote this message.
//!
//! Emails are trimmed and lower-cased, phones brought to E.164 (Twilio's
//! `whatsapp:` prefix included), both by `fte_domain`. A message carrying
//! both an email and a phone links them to one customer; a name never
//! merges anyone. When two identifiers of one message already belong to two
//! different customers, the email's owner wins and nothing is merged (a
//! merge of histories is a staff decision).

use fte_domain::events::InboundSender;
use fte_domain::{EmailAddress, PhoneNumber};
use fte_store::customers::{self, IdentifierKind};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::HandleError;

/// The normalised identifiers a message carries, email first.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// The sender's email, normalised.
    pub email: Option<EmailAddress>,
    /// The sender's phone, in E.164.
    pub phone: Option<PhoneNumber>,
}

impl Identity {
    /// Normalises what the sender gave; unparseable values are dropped.
    /// Fails when nothing identifies the sender at all.
    pub fn of(sender: &InboundSender) -> Result<Self, HandleError> {
        let email = sender
            .email
            .as_deref()
            .and_then(|e| EmailAddress::parse(e).ok());
        let phone = sender
            .phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok());
        if email.is_none() && phone.is_none() {
            return Err(HandleError::Invalid(
                "the sender has no valid email or phone",
            ));
        }
        Ok(Self { email, phone })
    }

    fn pairs(&self) -> Vec<(IdentifierKind, &str)> {
        let mut pairs = Vec::with_capacity(2);
        if let Some(email) = &self.email {
            pairs.push((IdentifierKind::Email, email.as_str()));
        }
        if let Some(phone) = &self.phone {
            pairs.push((IdentifierKind::Phone, phone.as_str()));
        }
        pairs
    }
}

/// Finds or creates the customer behind `identity` inside the caller's
/// transaction, linking every identifier of the message to them.
pub async fn resolve_customer(
    conn: &mut PgConnection,
    identity: &Identity,
    name: Option<&str>,
) -> Result<Uuid, HandleError> {
    let pairs = identity.pairs();
    let mut customer = None;
    for (kind, value) in &pairs {
        if let Some(owner) = customers::owner_of(&mut *conn, *kind, value).await? {
            customer = Some(owner);
            break;
        }
    }
    let customer = match customer {
        Some(id) => id,
        None => {
            let created = customers::create_customer(&mut *conn, name).await?;
            let (kind, value) = pairs[0];
            let owner = customers::link_identifier(conn, created, kind, value).await?;
            if owner != created {
                // Another message of the same person committed first.
                customers::delete_customer(&mut *conn, created).await?;
            }
            owner
        }
    };
    for (kind, value) in &pairs {
        let owner = customers::link_identifier(conn, customer, *kind, value).await?;
        if owner != customer {
            tracing::warn!(
                customer.id = %customer,
                other_customer.id = %owner,
                identifier_type = kind.as_str(),
                "identifiers of one message belong to two customers; not merged"
            );
        }
    }
    customers::fill_profile(
        &mut *conn,
        customer,
        identity.email.as_ref().map(EmailAddress::as_str),
        identity.phone.as_ref().map(PhoneNumber::as_str),
        name.map(str::trim).filter(|n| !n.is_empty()),
    )
    .await?;
    Ok(customer)
}
