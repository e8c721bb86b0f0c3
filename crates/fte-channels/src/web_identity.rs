//! The web form's identity verification: the embedding site, which knows
//! its signed-in user, computes `identity_token` = hex HMAC-SHA256 of the
//! user's email address (trimmed, lower-cased) with a secret it shares
//! with us (`WEB_IDENTITY_SECRET`), and the form sends it with the email.
//! A token that verifies proves the submitter owns the address, the way
//! Intercom's and Chatwoot's identity verification do.

use fte_domain::EmailAddress;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The token for `email` under `secret`, as the embedding site computes it
/// (64 lower-case hex digits).
pub fn identity_token(secret: &[u8], email: &EmailAddress) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(email.as_str().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` is the identity token of `email` under `secret`. The
/// comparison takes the same time wherever the first difference is (hex
/// digits of either case are accepted).
pub fn verify_identity_token(secret: &[u8], email: &EmailAddress, token: &str) -> bool {
    let expected = identity_token(secret, email);
    let given = token.trim().to_ascii_lowercase();
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    #[test]
    fn the_token_is_the_hex_hmac_sha256_of_the_lower_cased_address() {
        // printf %s maria.santos@example.com | openssl dgst -sha256 -hmac s3cret
        let expected = "1917d3e73e96d718026fb96368c16658e3198ee2adeac4eb789ecac7fa1b65c5";
        assert_eq!(
            identity_token(b"s3cret", &email("maria.santos@example.com")),
            expected
        );
        assert_eq!(
            identity_token(b"s3cret", &email(" Maria.Santos@Example.com ")),
            expected
        );
    }

    #[test]
    fn only_the_token_of_that_address_under_that_secret_verifies() {
        let maria = email("maria.santos@example.com");
        let token = identity_token(b"s3cret", &maria);
        assert!(verify_identity_token(b"s3cret", &maria, &token));
        assert!(verify_identity_token(
            b"s3cret",
            &maria,
            &token.to_ascii_uppercase()
        ));
        assert!(!verify_identity_token(b"other", &maria, &token));
        assert!(!verify_identity_token(
            b"s3cret",
            &email("eve@example.com"),
            &token
        ));
        assert!(!verify_identity_token(b"s3cret", &maria, &token[..63]));
        assert!(!verify_identity_token(b"s3cret", &maria, ""));
    }
}
