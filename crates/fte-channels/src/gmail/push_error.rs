//! Why a Gmail push request was refused: by its credentials (token,
//! signature, audience, issuer, service account), by Google's key set, or
//! by its body. The push verifier and the key cache both answer with it.

/// Why a push request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// No bearer token (OIDC mode) or no `token` query parameter (token mode).
    #[error("push request carries no credentials")]
    MissingCredentials,
    /// The token could not be decoded or verified.
    #[error("invalid push token: {0}")]
    InvalidToken(&'static str),
    /// Signature does not verify.
    #[error("push token signature is invalid")]
    BadSignature,
    /// Signed by a key that is not in Google's key set.
    #[error("push token signed by an unknown key")]
    UnknownKey,
    /// `aud` is not the configured audience.
    #[error("push token has the wrong audience")]
    WrongAudience,
    /// `iss` is not Google.
    #[error("push token has the wrong issuer")]
    WrongIssuer,
    /// `email` is not the configured push service account, or not verified.
    #[error("push token is not from the configured service account")]
    WrongServiceAccount,
    /// `exp` has passed.
    #[error("push token has expired")]
    Expired,
    /// The secret `token` in the push URL does not match.
    #[error("push token does not match")]
    TokenMismatch,
    /// The key set could not be fetched (the gateway should answer 503 so
    /// Pub/Sub redelivers).
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
    /// The body is not a Gmail push message.
    #[error("malformed push body: {0}")]
    Malformed(&'static str),
}
