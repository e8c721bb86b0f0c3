//! Staff authentication: `Authorization: Bearer <key>`, where the sha256 of
//! the key must equal one of `STAFF_API_KEY_HASHES`. Only digests are
//! configured; every configured digest is compared, in constant time, so the
//! answer time says nothing about which key came close.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::{ApiError, AppState};

/// Proof that the request carries a valid staff API key. Take it as a
/// handler argument to protect the handler.
#[derive(Clone, Copy, Debug)]
pub struct StaffAuth;

/// Whether `key` hashes to one of `digests`.
pub fn key_matches(key: &str, digests: &[[u8; 32]]) -> bool {
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let mut matched = Choice::from(0);
    for candidate in digests {
        matched |= candidate.ct_eq(&digest);
    }
    matched.into()
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|k| !k.is_empty());
        match key {
            Some(key) if key_matches(key, &state.api.staff_api_key_hashes) => Ok(StaffAuth),
            provided => {
                tracing::warn!(
                    security = true,
                    route = parts.uri.path(),
                    reason = if provided.is_some() {
                        "wrong_key"
                    } else {
                        "no_key"
                    },
                    "refused a staff request"
                );
                Err(ApiError::Unauthorized)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_key_whose_digest_is_configured_matches() {
        let digest: [u8; 32] = Sha256::digest(b"staff-key-1").into();
        assert!(key_matches("staff-key-1", &[[0; 32], digest]));
        assert!(!key_matches("staff-key-2", &[digest]));
        assert!(!key_matches("staff-key-1", &[]));
    }
}
