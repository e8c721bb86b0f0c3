//! How far we know who wrote: the trust of the link between an identifier
//! (an email address, a phone number) and a customer, and what proved it.
//!
//! A link is [`Trust::Verified`] when the channel proved that the sender
//! owns the identifier *and* the link to this customer is proven (the
//! customer was founded by that identifier, or it came in one message with
//! another verified identifier of the customer); every other link is
//! [`Trust::Claimed`]. `docs/identity.md` states the rules in full.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::states::string_enum;
use crate::{Channel, UnknownValue};

string_enum!(
    /// The trust level of an identifier's link to a customer.
    Trust, "trust level", {
        /// Someone named the identifier; nothing proved the link.
        Claimed => "claimed",
        /// The channel proved the identifier and the link to the customer.
        Verified => "verified",
    }
);

impl Trust {
    /// `Verified` when `verified`, else `Claimed`.
    pub const fn from_verified(verified: bool) -> Self {
        if verified {
            Trust::Verified
        } else {
            Trust::Claimed
        }
    }

    /// Whether this is [`Trust::Verified`].
    pub const fn is_verified(self) -> bool {
        matches!(self, Trust::Verified)
    }
}

string_enum!(
    /// What established a link's current trust level (stored with the link
    /// as `trust_source`).
    TrustSource, "trust source", {
        /// Linked before trust levels existed.
        Legacy => "legacy",
        /// A message named the identifier without proving it.
        Claim => "claim",
        /// A Gmail message that arrived through an authenticated Pub/Sub
        /// push and whose `Authentication-Results` show the From domain
        /// passed.
        GmailAuthenticated => "gmail_authenticated",
        /// A WhatsApp message whose Twilio signature verified.
        TwilioSignature => "twilio_signature",
        /// A web form email with a valid identity token from the embedding
        /// site.
        WebIdentityToken => "web_identity_token",
        /// A staff member's merge.
        Staff => "staff",
    }
);

impl TrustSource {
    /// What a message on `channel` proves about an identifier it carries:
    /// the channel's proof when `proven`, else a claim.
    pub const fn of_message(channel: Channel, proven: bool) -> Self {
        match (channel, proven) {
            (_, false) => TrustSource::Claim,
            (Channel::Email, true) => TrustSource::GmailAuthenticated,
            (Channel::Whatsapp, true) => TrustSource::TwilioSignature,
            (Channel::WebForm, true) => TrustSource::WebIdentityToken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_spellings_round_trip() {
        for trust in Trust::ALL {
            assert_eq!(trust.as_str().parse::<Trust>(), Ok(*trust));
        }
        for source in TrustSource::ALL {
            assert_eq!(source.as_str().parse::<TrustSource>(), Ok(*source));
        }
        assert!("trusted".parse::<Trust>().is_err());
    }

    #[test]
    fn only_a_proven_message_names_its_channel_as_the_proof() {
        assert_eq!(
            TrustSource::of_message(Channel::WebForm, false),
            TrustSource::Claim
        );
        assert_eq!(
            TrustSource::of_message(Channel::Whatsapp, true),
            TrustSource::TwilioSignature
        );
        assert_eq!(Trust::from_verified(false), Trust::Claimed);
    }
}
