//! Google's OIDC signing keys (JWKS), cached by key id. The keys are read
//! with `jsonwebtoken`'s own JWK types (`jwk::Jwk`, `DecodingKey::from_jwk`);
//! only the cache and its refetch rules are ours.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::push_error::PushError;
use crate::http;

/// Keys are fetched again after this long even if every kid is known.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

/// The key set, each key kept as JSON first so that one key of a type this
/// version cannot read does not make the whole set unreadable.
#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
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
        for value in set.keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                continue;
            };
            // Google signs push tokens with RS256 only.
            if let (Some(kid), AlgorithmParameters::RSA(_)) =
                (jwk.common.key_id.clone(), &jwk.algorithm)
                && let Ok(key) = DecodingKey::from_jwk(&jwk)
            {
                keys.insert(kid, key);
            }
        }
        Ok(keys)
    }
}
