//! Cross-channel identity: which customer wrote this message, and how far
//! we know that the sender *is* that customer.
//!
//! Emails are trimmed and lower-cased, phones brought to E.164 (Twilio's
//! `whatsapp:` prefix included), both by `fte_domain`. The message's
//! identifiers, with the proofs its channel gave (`email_verified`,
//! `phone_verified`), go to [`fte_store::identity::resolve`], the one
//! implementation of the trust rules (`docs/identity.md`): claims still find
//! the existing customer, and the result says whether this message's
//! *sender* is verified — what a reply may disclose
//! ([`disclosure`](crate::disclosure)) and which rate-limit allowance the
//! message spends ([`deferral`](crate::deferral)) depend on it.

use fte_domain::events::InboundSender;
use fte_domain::{Channel, EmailAddress, InboundMessage, PhoneNumber, Trust};
use fte_store::customers::IdentifierKind;
use fte_store::identity::{self, Presentation, Presented, ResolveError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::HandleError;

/// The normalised identifiers a message carries, email first, with the
/// channel's proofs.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// The sender's email, normalised.
    pub email: Option<EmailAddress>,
    /// The sender's phone, in E.164.
    pub phone: Option<PhoneNumber>,
    /// The channel proved the sender owns `email`.
    pub email_proven: bool,
    /// The channel proved the sender owns `phone`.
    pub phone_proven: bool,
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
        Ok(Self {
            email_proven: email.is_some() && sender.email_verified,
            phone_proven: phone.is_some() && sender.phone_verified,
            email,
            phone,
        })
    }

    fn presented(&self) -> Vec<Presented<'_>> {
        let mut presented = Vec::with_capacity(2);
        if let Some(email) = &self.email {
            presented.push(Presented {
                kind: IdentifierKind::Email,
                value: email.as_str(),
                proven: self.email_proven,
            });
        }
        if let Some(phone) = &self.phone {
            presented.push(Presented {
                kind: IdentifierKind::Phone,
                value: phone.as_str(),
                proven: self.phone_proven,
            });
        }
        presented
    }
}

/// The identifier a reply to a message on `channel` goes to: the phone on
/// WhatsApp, the email otherwise.
pub fn reply_identifier(channel: Channel) -> IdentifierKind {
    match channel {
        Channel::Whatsapp => IdentifierKind::Phone,
        Channel::Email | Channel::WebForm => IdentifierKind::Email,
    }
}

/// Who sent a message, as far as the channel proved it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sender {
    /// The link of the identifier the reply goes to, when there is one.
    pub identifier_id: Option<Uuid>,
    /// Verified only when the message proved that identifier and its link
    /// to the customer is verified.
    pub trust: Trust,
}

impl Sender {
    /// A sender nothing is known about: claimed, through no link.
    pub const UNKNOWN: Sender = Sender {
        identifier_id: None,
        trust: Trust::Claimed,
    };

    /// Whether the sender is the customer's verified owner of the reply's
    /// identifier.
    pub fn is_verified(&self) -> bool {
        self.trust.is_verified()
    }
}

/// The customer behind a message and its sender.
#[derive(Clone, Copy, Debug)]
pub struct Resolved {
    /// The customer.
    pub customer_id: Uuid,
    /// The sender.
    pub sender: Sender,
}

/// Takes, in the caller's transaction, the locks resolution takes first on
/// the message's identifiers ([`fte_store::links::serialise_identifiers`]),
/// so the turn's last transaction and the next message's acceptance for
/// the same person run one after the other instead of deadlocking on the
/// conversation and the messages both touch.
pub async fn serialise(conn: &mut PgConnection, identity: &Identity) -> Result<(), HandleError> {
    let presented = identity.presented();
    let keys: Vec<_> = presented.iter().map(|p| (p.kind, p.value)).collect();
    fte_store::links::serialise_identifiers(conn, &keys).await?;
    Ok(())
}

/// Finds or creates the customer behind `message` inside the caller's
/// transaction under the trust rules of [`fte_store::identity::resolve`].
pub async fn resolve_sender(
    conn: &mut PgConnection,
    message: &InboundMessage,
    identity: &Identity,
) -> Result<Resolved, HandleError> {
    let presented = identity.presented();
    let resolution = identity::resolve(
        conn,
        &Presentation {
            identifiers: &presented,
            channel: message.channel,
            reference: &message.channel_message_id,
            name: message.sender.name.as_deref(),
        },
    )
    .await
    .map_err(|error| match error {
        ResolveError::NoIdentifier => {
            HandleError::Invalid("the sender has no valid email or phone")
        }
        ResolveError::Store(error) => HandleError::Store(error),
    })?;
    let kind = reply_identifier(message.channel);
    let sender = Sender {
        identifier_id: resolution.link(kind).map(|l| l.link.id),
        trust: resolution.sender_trust(kind),
    };
    Ok(Resolved {
        customer_id: resolution.customer_id,
        sender,
    })
}
