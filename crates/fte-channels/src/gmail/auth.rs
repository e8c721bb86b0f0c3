//! OAuth 2.0 access tokens for the Gmail API: a service account with
//! domain-wide delegation (an RS256-signed JWT assertion exchanged at the
//! token endpoint) or a user's refresh token. Tokens are cached and renewed
//! 60 s before they expire; [`TokenSource::invalidate`] forces a renewal after
//! a 401.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::GmailError;
use crate::http::{self, RetryPolicy};

/// The scope the agent needs: read, label and send.
pub const GMAIL_SCOPE: &str = "https://www.googleapis.com/auth/gmail.modify";
/// Tokens are renewed this long before they expire.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How the client proves who it is.
#[derive(Clone)]
pub enum GmailCredentials {
    /// A service account acting for the mailbox (domain-wide delegation).
    ServiceAccount(ServiceAccountKey),
    /// An installed-app OAuth client with a user's refresh token.
    RefreshToken {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret.
        client_secret: SecretString,
        /// The mailbox owner's refresh token.
        refresh_token: SecretString,
    },
}

/// The parts of a service account key file that signing needs.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// The service account's email (`…@….iam.gserviceaccount.com`).
    pub client_email: String,
    /// The PEM private key.
    #[serde(deserialize_with = "secret")]
    pub private_key: SecretString,
    /// The key id, sent as the JWT `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

impl ServiceAccountKey {
    /// Parses a key file's JSON, or reads the file when `raw` is a path.
    pub fn parse(raw: &str) -> Result<Self, GmailError> {
        let json = if raw.trim_start().starts_with('{') {
            raw.to_owned()
        } else {
            std::fs::read_to_string(raw.trim())
                .map_err(|_| GmailError::Auth("service account key file unreadable".into()))?
        };
        serde_json::from_str(&json)
            .map_err(|_| GmailError::Auth("service account key is not valid JSON".into()))
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default = "default_expiry")]
    expires_in: u64,
}

fn default_expiry() -> u64 {
    3600
}

struct CachedToken {
    value: SecretString,
    renew_at: Instant,
}

/// A cached source of access tokens.
pub struct TokenSource {
    credentials: GmailCredentials,
    token_url: String,
    mailbox: String,
    http: reqwest::Client,
    retry: RetryPolicy,
    cached: Mutex<Option<CachedToken>>,
}

impl TokenSource {
    /// A source that exchanges `credentials` at `token_url` for `mailbox`.
    pub fn new(
        credentials: GmailCredentials,
        token_url: String,
        mailbox: String,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            credentials,
            token_url,
            mailbox,
            http,
            retry,
            cached: Mutex::new(None),
        }
    }

    /// A valid access token, from the cache when it has more than 60 s left.
    pub async fn token(&self) -> Result<SecretString, GmailError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.renew_at
        {
            return Ok(token.value.clone());
        }
        let fresh = self.fetch().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Drops the cached token (after the API answered 401).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    fn form(&self) -> Result<Vec<(&'static str, String)>, GmailError> {
        match &self.credentials {
            GmailCredentials::ServiceAccount(key) => {
                let now = chrono::Utc::now().timestamp();
                let claims = AssertionClaims {
                    iss: &key.client_email,
                    sub: &self.mailbox,
                    scope: GMAIL_SCOPE,
                    aud: &self.token_url,
                    iat: now,
                    exp: now + 3600,
                };
                let mut header = Header::new(Algorithm::RS256);
                header.kid = key.private_key_id.clone();
                let signing_key = EncodingKey::from_rsa_pem(
                    key.private_key.expose_secret().as_bytes(),
                )
                .map_err(|_| GmailError::Auth("service account key is not an RSA PEM".into()))?;
                let assertion = jsonwebtoken::encode(&header, &claims, &signing_key)
                    .map_err(|_| GmailError::Auth("could not sign the JWT assertion".into()))?;
                Ok(vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                    ),
                    ("assertion", assertion),
                ])
            }
            GmailCredentials::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => Ok(vec![
                ("grant_type", "refresh_token".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose_secret().to_owned()),
                ("refresh_token", refresh_token.expose_secret().to_owned()),
            ]),
        }
    }

    async fn fetch(&self) -> Result<CachedToken, GmailError> {
        let form = self.form()?;
        // A token request has no side effect, so it is retried like a GET.
        let response =
            http::send_idempotent(self.retry, || self.http.post(&self.token_url).form(&form))
                .await?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(status = status.as_u16(), "Gmail token request refused");
            return Err(if status.is_client_error() && status.as_u16() != 429 {
                GmailError::Auth(format!("token endpoint answered HTTP {}", status.as_u16()))
            } else {
                GmailError::Provider(http::classify_status(status, None, None))
            });
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|_| GmailError::Malformed("token response".into()))?;
        let lifetime = Duration::from_secs(body.expires_in).saturating_sub(REFRESH_MARGIN);
        Ok(CachedToken {
            value: SecretString::from(body.access_token),
            renew_at: Instant::now() + lifetime,
        })
    }
}
