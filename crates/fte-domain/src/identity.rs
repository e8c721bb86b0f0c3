//! Customer identities, normalised once at the edge so that the same person
//! written differently (case, spaces, punctuation, Twilio's `whatsapp:`
//! prefix) always resolves to the same stored identifier.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identity could not be parsed. The offending value is deliberately
/// not included: identities are personal data and errors end up in logs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    /// Not a syntactically valid email address.
    #[error("not a valid email address")]
    InvalidEmail,
    /// Not a phone number that can be written in E.164 form.
    #[error("not a valid international phone number (E.164)")]
    InvalidPhone,
}

/// An email address, trimmed and lower-cased.
///
/// Lower-casing the local part is a deliberate choice: mail providers treat it
/// case-insensitively in practice, and customers write it both ways.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// The longest address SMTP allows.
pub const MAX_EMAIL_LENGTH: usize = 254;

impl EmailAddress {
    /// Parses and normalises an address. Accepts a bare address or the
    /// `Display Name <addr@host>` form that mail headers use.
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let mut candidate = raw.trim();
        if let (Some(start), Some(end)) = (candidate.rfind('<'), candidate.rfind('>'))
            && start < end
        {
            candidate = candidate[start + 1..end].trim();
        }
        let normalised = candidate.to_lowercase();
        if normalised.len() > MAX_EMAIL_LENGTH || normalised.chars().any(char::is_whitespace) {
            return Err(IdentityError::InvalidEmail);
        }
        let (local, domain) = normalised
            .split_once('@')
            .ok_or(IdentityError::InvalidEmail)?;
        let domain_ok = !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if domain_ok && local_ok {
            Ok(Self(normalised))
        } else {
            Err(IdentityError::InvalidEmail)
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = IdentityError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output never shows the address itself, so a stray `{:?}` in a log
/// line cannot leak it.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

/// A phone number in E.164 form (`+15550100142`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses an international number written in any common way: spaces,
    /// dashes, dots, parentheses and Twilio's `whatsapp:` prefix are accepted.
    /// Numbers without a leading `+` (or `00`) are refused, because without a
    /// country they are ambiguous.
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let mut candidate = raw.trim();
        if let Some(rest) = candidate
            .strip_prefix("whatsapp:")
            .or_else(|| candidate.strip_prefix("WhatsApp:"))
        {
            candidate = rest.trim();
        }
        let owned;
        if let Some(rest) = candidate.strip_prefix("00") {
            owned = format!("+{rest}");
            candidate = &owned;
        }
        if !candidate.starts_with('+') {
            return Err(IdentityError::InvalidPhone);
        }
        let parsed =
            phonenumber::parse(None, candidate).map_err(|_| IdentityError::InvalidPhone)?;
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let digits = e164.len().saturating_sub(1);
        if !(7..=15).contains(&digits) {
            return Err(IdentityError::InvalidPhone);
        }
        Ok(Self(e164))
    }

    /// The number in E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address Twilio uses for this number on WhatsApp.
    pub fn as_whatsapp_address(&self) -> String {
        format!("whatsapp:{}", self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = IdentityError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output never shows the number itself.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_differing_only_in_case_and_spaces_are_equal() {
        let a = EmailAddress::parse("maria.santos@example.com").unwrap();
        let b = EmailAddress::parse("  Maria.Santos@Example.com ").unwrap();
        assert_eq!(a, b);
        assert_eq!(b.as_str(), "maria.santos@example.com");
    }

    #[test]
    fn email_header_form_is_accepted() {
        let a = EmailAddress::parse("Maria Santos <Maria.Santos@example.com>").unwrap();
        assert_eq!(a.as_str(), "maria.santos@example.com");
    }

    #[test]
    fn invalid_emails_are_refused() {
        for raw in [
            "",
            "plainaddress",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@@example.com",
            "a@example..com",
            ".a@example.com",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(IdentityError::InvalidEmail),
                "`{raw}` should be refused"
            );
        }
    }

    #[test]
    fn phone_variations_of_one_number_resolve_to_one_e164() {
        let forms = [
            "+1 (555) 010-0142",
            "whatsapp:+15550100142",
            "+15550100142",
            "+1.555.010.0142",
            "001 555 010 0142",
        ];
        for raw in forms {
            assert_eq!(
                PhoneNumber::parse(raw).map(|p| p.as_str().to_owned()),
                Ok("+15550100142".to_owned()),
                "`{raw}` should normalise to +15550100142"
            );
        }
        assert_eq!(
            PhoneNumber::parse("+34 612 345 678").unwrap(),
            PhoneNumber::parse("+34612345678").unwrap()
        );
    }

    #[test]
    fn phones_without_a_country_or_with_letters_are_refused() {
        for raw in ["612 345 678", "+12", "call me", "+", "whatsapp:"] {
            assert_eq!(
                PhoneNumber::parse(raw),
                Err(IdentityError::InvalidPhone),
                "`{raw}` should be refused"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_the_identity() {
        let email = EmailAddress::parse("maria.santos@example.com").unwrap();
        let phone = PhoneNumber::parse("+34612345678").unwrap();
        let printed = format!("{email:?} {phone:?}");
        assert!(!printed.contains("maria"));
        assert!(!printed.contains("612"));
    }
}
