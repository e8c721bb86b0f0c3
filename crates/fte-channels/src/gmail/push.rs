//! Pub/Sub push requests from Gmail's `watch`: who sent them (an OIDC JWT
//! signed by Google, or a secret token in the push URL) and what they say
//! (the mailbox and its new history id).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use fte_runtime::settings::GmailSettings;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::jwks::JwksCache;
use super::push_error::PushError;

/// The issuers Google writes in push tokens.
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

/// How push requests are authenticated.
#[derive(Clone)]
pub enum PushAuthMode {
    /// A Google-signed OIDC token in `Authorization: Bearer`.
    Oidc {
        /// The audience configured on the subscription.
        audience: String,
        /// The push service account (`email` claim), when pinned.
        service_account: Option<String>,
        /// Where Google's signing keys are.
        jwks_url: String,
    },
    /// A secret `?token=` in the push endpoint URL.
    Token(SecretString),
}

#[derive(Deserialize)]
struct PushClaims {
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
}

/// Verifies Pub/Sub push requests.
pub struct PubSubVerifier {
    mode: PushAuthMode,
    jwks: Option<JwksCache>,
}

impl PubSubVerifier {
    /// A verifier for `mode`.
    pub fn new(mode: PushAuthMode, timeout: Duration) -> Self {
        let jwks = match &mode {
            PushAuthMode::Oidc { jwks_url, .. } => Some(JwksCache::new(jwks_url.clone(), timeout)),
            PushAuthMode::Token(_) => None,
        };
        Self { mode, jwks }
    }

    /// Replaces the key cache (tests shorten its refresh interval).
    pub fn with_jwks(mut self, jwks: JwksCache) -> Self {
        if self.jwks.is_some() {
            self.jwks = Some(jwks);
        }
        self
    }

    /// The verifier the settings ask for: OIDC when `GMAIL_PUBSUB_AUDIENCE`
    /// is set, else the URL token when `GMAIL_PUBSUB_PUSH_TOKEN` is set, else
    /// none (only acceptable in dev; production settings refuse it).
    pub fn from_settings(settings: &GmailSettings) -> Option<Self> {
        let timeout = Duration::from_millis(settings.timeout_ms);
        let mode = match (&settings.pubsub_audience, &settings.pubsub_push_token) {
            (Some(audience), _) => PushAuthMode::Oidc {
                audience: audience.clone(),
                service_account: settings.pubsub_service_account.clone(),
                jwks_url: settings.pubsub_jwks_url.clone(),
            },
            (None, Some(token)) => PushAuthMode::Token(token.clone()),
            (None, None) => return None,
        };
        Some(Self::new(mode, timeout))
    }

    /// Checks a push request: `authorization` is the `Authorization` header,
    /// `query_token` the `token` query parameter of the request URL.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        query_token: Option<&str>,
    ) -> Result<(), PushError> {
        match &self.mode {
            PushAuthMode::Token(expected) => {
                let provided = query_token.ok_or(PushError::MissingCredentials)?;
                let ok: bool = provided
                    .as_bytes()
                    .ct_eq(expected.expose_secret().as_bytes())
                    .into();
                if ok {
                    Ok(())
                } else {
                    Err(PushError::TokenMismatch)
                }
            }
            PushAuthMode::Oidc {
                audience,
                service_account,
                ..
            } => {
                let token = authorization
                    .and_then(|h| {
                        h.strip_prefix("Bearer ")
                            .or_else(|| h.strip_prefix("bearer "))
                    })
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or(PushError::MissingCredentials)?;
                self.verify_jwt(token, audience, service_account.as_deref())
                    .await
            }
        }
    }

    async fn verify_jwt(
        &self,
        token: &str,
        audience: &str,
        service_account: Option<&str>,
    ) -> Result<(), PushError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| PushError::InvalidToken("not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(PushError::InvalidToken("algorithm is not RS256"));
        }
        let kid = header.kid.ok_or(PushError::InvalidToken("no key id"))?;
        let jwks = self
            .jwks
            .as_ref()
            .ok_or(PushError::InvalidToken("OIDC not configured"))?;
        let key = jwks.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&GOOGLE_ISSUERS);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        let data =
            jsonwebtoken::decode::<PushClaims>(token, &key, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => PushError::Expired,
                    ErrorKind::InvalidAudience => PushError::WrongAudience,
                    ErrorKind::InvalidIssuer => PushError::WrongIssuer,
                    ErrorKind::InvalidSignature => PushError::BadSignature,
                    ErrorKind::ImmatureSignature => PushError::InvalidToken("not yet valid"),
                    _ => PushError::InvalidToken("claims could not be validated"),
                }
            })?;
        if let Some(expected) = service_account {
            let claims = data.claims;
            let matches = claims
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(expected));
            if !matches || !claims.email_verified {
                return Err(PushError::WrongServiceAccount);
            }
        }
        Ok(())
    }
}

/// What a Gmail push says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GmailNotification {
    /// The mailbox that changed.
    pub email_address: String,
    /// Its history id after the change.
    pub history_id: u64,
    /// Pub/Sub's message id (for logs and deduplication).
    pub pubsub_message_id: Option<String>,
}

#[derive(Deserialize)]
struct PushBody {
    message: PushMessage,
}

#[derive(Deserialize)]
struct PushMessage {
    data: Option<String>,
    #[serde(rename = "messageId", alias = "message_id")]
    message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GmailPayload {
    email_address: String,
    #[serde(deserialize_with = "super::de::de_u64")]
    history_id: u64,
}

/// Decodes a push body; `message.data` may be standard or URL-safe base64,
/// padded or not.
pub fn decode_push(body: &[u8]) -> Result<GmailNotification, PushError> {
    let push: PushBody =
        serde_json::from_slice(body).map_err(|_| PushError::Malformed("not a push envelope"))?;
    let data = push
        .message
        .data
        .ok_or(PushError::Malformed("message has no data"))?;
    let data = data.trim();
    let bytes = [&STANDARD, &URL_SAFE]
        .iter()
        .find_map(|engine| engine.decode(data).ok())
        .or_else(|| {
            let unpadded = data.trim_end_matches('=');
            [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(unpadded).ok())
        })
        .ok_or(PushError::Malformed("data is not base64"))?;
    let payload: GmailPayload = serde_json::from_slice(&bytes)
        .map_err(|_| PushError::Malformed("data is not a Gmail notification"))?;
    if payload.email_address.trim().is_empty() {
        return Err(PushError::Malformed("empty emailAddress"));
    }
    Ok(GmailNotification {
        email_address: payload.email_address,
        history_id: payload.history_id,
        pubsub_message_id: push.message.message_id,
    })
}
