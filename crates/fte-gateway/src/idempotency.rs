//! The `Idempotency-Key` header of the web form's writes.
//!
//! A client whose request got no answer (a lost connection, a 503 after the
//! commit) cannot know whether it was stored; it retries with the same key
//! and gets the first answer back: the same ticket and access key for a
//! submission, the same message for a follow-up. The same key with another
//! content is refused with 422 naming the header.
//!
//! The key never reaches the database. A submission's key is scoped to the
//! submitted email: the row is found by sha256(key, email), so a key that
//! someone else guesses or copies finds nothing unless they also submit the
//! same address — and then they get a fresh ticket of their own, never
//! another person's (a different scope). The access key shown once is
//! stored sealed: XORed with a pad derived from the key and the email, so
//! only a client holding the key can have it shown again; the database alone
//! cannot. Keys must be 16 to 255 visible ASCII characters (a UUID is the
//! intended shape) so a key is not guessable by construction.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fte_domain::EmailAddress;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ApiError;
use crate::routes::form::ValidSubmission;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// How the header is named in errors and documents.
pub const HEADER_NAME: &str = "Idempotency-Key";
/// Shortest and longest accepted key.
pub const KEY_LENGTH: (usize, usize) = (16, 255);

/// The key a request presented, if any.
#[derive(Debug, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(Self(None));
        };
        let key = value.to_str().unwrap_or_default();
        let visible = key.bytes().all(|b| b.is_ascii_graphic());
        if !visible || !(KEY_LENGTH.0..=KEY_LENGTH.1).contains(&key.len()) {
            return Err(ApiError::bad_request(
                "invalid_idempotency_key",
                format!(
                    "The {HEADER_NAME} header must be {} to {} visible ASCII characters \
                     (a UUID made once per submission).",
                    KEY_LENGTH.0, KEY_LENGTH.1
                ),
            ));
        }
        Ok(Self(Some(key.to_owned())))
    }
}

/// sha256 of `label` and each part, every part length-prefixed so no two
/// different lists hash alike.
fn digest(label: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A submission's key, bound to the submitted email.
pub struct SubmitKey {
    /// Where the claim is stored.
    pub scope_hash: [u8; 32],
    /// The submission's content.
    pub request_hash: [u8; 32],
    pad: [u8; 32],
}

impl SubmitKey {
    /// The claim of `submission` under `key`.
    pub fn new(key: &str, submission: &ValidSubmission) -> Self {
        let email = submission.email.as_str().as_bytes();
        Self {
            scope_hash: digest("fte/idempotency/v1/submit", &[key.as_bytes(), email]),
            request_hash: request_hash(submission),
            pad: digest("fte/idempotency/v1/seal", &[key.as_bytes(), email]),
        }
    }

    /// `access_key` sealed for storage (and unsealed again: XOR is its own
    /// inverse).
    pub fn seal(&self, access_key: &[u8; 32]) -> [u8; 32] {
        std::array::from_fn(|i| access_key[i] ^ self.pad[i])
    }

    /// The access key sealed in `sealed`, or `None` when it is not 32 bytes.
    pub fn unseal(&self, sealed: &[u8]) -> Option<[u8; 32]> {
        let sealed: [u8; 32] = sealed.try_into().ok()?;
        Some(self.seal(&sealed))
    }
}

/// What decides whether a retry is the same submission: every stored field
/// and the identity proof; not the bot challenge's token, which a retry may
/// have to renew.
fn request_hash(submission: &ValidSubmission) -> [u8; 32] {
    let email: &EmailAddress = &submission.email;
    digest(
        "fte/idempotency/v1/submission",
        &[
            submission.name.as_bytes(),
            email.as_str().as_bytes(),
            submission.phone.as_deref().unwrap_or_default().as_bytes(),
            submission.subject.as_bytes(),
            submission.message.as_bytes(),
            submission.category.as_str().as_bytes(),
            submission.priority.as_str().as_bytes(),
            &[u8::from(submission.email_verified)],
        ],
    )
}

/// A follow-up's key, bound to its ticket.
pub struct FollowUpKey {
    /// Where the claim is stored.
    pub scope_hash: [u8; 32],
    /// The follow-up's text.
    pub request_hash: [u8; 32],
}

impl FollowUpKey {
    /// The claim of a follow-up with `content` into `ticket_id` under `key`.
    pub fn new(key: &str, ticket_id: Uuid, content: &str) -> Self {
        Self {
            scope_hash: digest(
                "fte/idempotency/v1/follow-up",
                &[key.as_bytes(), ticket_id.as_bytes()],
            ),
            request_hash: digest(
                "fte/idempotency/v1/follow-up-content",
                &[content.as_bytes()],
            ),
        }
    }
}

/// The 409 for a key first used with another content: the request is
/// well formed, it conflicts with the one the key already stands for.
pub fn reused() -> ApiError {
    ApiError::Conflict {
        code: "idempotency_key_reused",
        message: "This Idempotency-Key was already used for a different request. Send a new \
                  key with a changed request."
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_twice_gives_the_access_key_back() {
        let pad_holder = SubmitKey {
            scope_hash: [0; 32],
            request_hash: [0; 32],
            pad: digest("test", &[b"key"]),
        };
        let access = [7u8; 32];
        let sealed = pad_holder.seal(&access);
        assert_ne!(sealed, access, "the stored value is not the key");
        assert_eq!(pad_holder.unseal(&sealed), Some(access));
    }

    #[test]
    fn length_prefixes_keep_different_parts_apart() {
        assert_ne!(digest("x", &[b"ab", b"c"]), digest("x", &[b"a", b"bc"]));
    }
}
