//! The per-ticket access key of a web form ticket.
//!
//! A submission's answer carries a fresh random key, once; the database
//! keeps only its sha256. Whoever holds the key (the submitter's browser
//! and the ticket link it keeps) may read the ticket's thread and write
//! into it; the ticket id alone shows the status only. 256 random bits from
//! the operating system make guessing hopeless, and keys are compared as
//! digests in constant time.
//!
//! The key travels in the `X-Ticket-Access-Key` header or, for a link, the
//! `access_key` query parameter. It is never logged.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ApiError;

/// The request header carrying the key.
pub const ACCESS_KEY_HEADER: &str = "x-ticket-access-key";
/// The query parameter carrying the key.
pub const ACCESS_KEY_PARAM: &str = "access_key";
/// Random bytes in a key.
pub const KEY_BYTES: usize = 32;
/// Longest key read from a request (a real one is 43 characters).
const MAX_PRESENTED_CHARS: usize = 128;

/// A freshly made key: the text handed to the submitter and its digest.
pub struct NewAccessKey {
    /// base64url, 43 characters.
    pub key: String,
    /// sha256 of `key`, what the database keeps.
    pub hash: [u8; 32],
    /// The random bytes `key` encodes (sealed for an idempotent retry).
    pub bytes: [u8; KEY_BYTES],
}

/// Makes a new key from the operating system's random source.
pub fn new_key() -> Result<NewAccessKey, ApiError> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| {
        ApiError::Internal(anyhow::anyhow!(
            "the operating system's random source failed: {error}"
        ))
    })?;
    Ok(key_of(bytes))
}

/// The key made of `bytes` (a new one, or one unsealed for a retry).
pub fn key_of(bytes: [u8; KEY_BYTES]) -> NewAccessKey {
    let key = URL_SAFE_NO_PAD.encode(bytes);
    let hash = digest(&key);
    NewAccessKey { key, hash, bytes }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether `presented` is the key whose digest is `stored`.
pub fn matches(stored: &[u8], presented: &str) -> bool {
    stored.len() == 32 && bool::from(digest(presented).as_slice().ct_eq(stored))
}

/// The key a request presented, if any (header first, then query).
#[derive(Debug, Default)]
pub struct PresentedKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PresentedKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_header = parts
            .headers
            .get(ACCESS_KEY_HEADER)
            .map(|value| value.to_str().map(str::to_owned));
        let key = match from_header {
            Some(Ok(key)) => Some(key),
            Some(Err(_)) => return Err(malformed()),
            None => parts.uri.query().and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == ACCESS_KEY_PARAM)
                    .map(|(_, value)| value.into_owned())
            }),
        };
        match key.map(|k| k.trim().to_owned()) {
            Some(key) if key.is_empty() => Ok(PresentedKey(None)),
            Some(key) if key.chars().count() > MAX_PRESENTED_CHARS => Err(malformed()),
            key => Ok(PresentedKey(key)),
        }
    }
}

fn malformed() -> ApiError {
    ApiError::bad_request(
        "invalid_access_key",
        "The ticket access key is not readable; use the link from your confirmation.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_matches_its_own_digest_only() {
        let first = new_key().unwrap();
        let second = new_key().unwrap();
        assert_eq!(first.key.len(), 43, "{}", first.key);
        assert_ne!(first.key, second.key);
        assert!(matches(&first.hash, &first.key));
        assert!(!matches(&first.hash, &second.key));
        assert!(!matches(&first.hash, ""));
        assert!(
            !matches(&first.hash[..16], &first.key),
            "a short digest never matches"
        );
    }
}
