//! Google's OIDC signing keys (JWKS), cached by key id.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::push_error::PushError;
use crate::http;

/// Keys are fetched again after this long even if every kid is known.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Google's signing keys, cached by kid; refetched when a token names an
/// unknown kid (at most once per `min_refresh`) or after an hour.
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    min_refresh: Duration,
    cache: Mutex<KeyCache>,
}

impl JwksCache {
    /// A cache over the key set at `url`.
    pub fn new(url: String, timeout: Duration) -> Self {
        Self {
            url,
            http: http::client(timeout),
            min_refresh: Duration::from_secs(30),
            cache: Mutex::new(KeyCache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
        }
    }

    /// Sets the minimum time between refetches caused by unknown kids.
    pub fn with_min_refresh(mut self, min_refresh: Duration) -> Self {
        self.min_refresh = min_refresh;
        self
    }

    /// The key for `kid`.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, PushError> {
        let mut cache = self.cache.lock().await;
        let age = cache.fetched_at.map(|t| t.elapsed());
        let stale = age.is_none_or(|a| a >= JWKS_MAX_AGE);
        let may_refetch = age.is_none_or(|a| a >= self.min_refresh);
        if stale || (!cache.keys.contains_key(kid) && may_refetch) {
            cache.keys = self.fetch().await?;
            cache.fetched_at = Some(Instant::now());
        }
        cache.keys.get(kid).cloned().ok_or(PushError::UnknownKey)
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, PushError> {
        let response =
            http::send_idempotent(http::RetryPolicy::default(), || self.http.get(&self.url))
                .await
                .map_err(|e| PushError::KeysUnavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(PushError::KeysUnavailable(format!(
                "HTTP {}",
                response.status().as_u16()
            )));
        }
        let set: Jwks = response
            .json()
            .await
            .map_err(|_| PushError::KeysUnavailable("unreadable key set".into()))?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            if let (Some(kid), "RSA", Some(n), Some(e)) = (jwk.kid, jwk.kty.as_str(), jwk.n, jwk.e)
                && let Ok(key) = DecodingKey::from_rsa_components(&n, &e)
            {
                keys.insert(kid, key);
            }
        }
        Ok(keys)
    }
}
