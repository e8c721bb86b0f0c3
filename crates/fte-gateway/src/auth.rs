//! Staff authentication: `Authorization: Bearer <key>`, where the sha256 of
//! the key must equal the digest of one configured staff key
//! (`STAFF_API_KEYS`, `STAFF_API_KEY_HASHES`). Every configured digest is
//! compared, in constant time, so the answer time says nothing about which
//! key came close. The extractor yields the key's owner ([`StaffAuth`]),
//! and [`StaffAuth::audit`] records what they did through
//! `fte_store::audit::record`: every staff handler calls it once. Over
//! HTTP the row also carries the method and route template, and
//! [`audit_requests`] — the staff routes' layer — sets the status the request
//! answered on it and logs one line per staff request.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use fte_runtime::settings::StaffKey;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use uuid::Uuid;

use crate::{ApiError, AppState};

/// The staff member a request authenticated as. Take it as a handler
/// argument to protect the handler.
#[derive(Clone, Debug)]
pub struct StaffAuth {
    name: String,
    request: Option<StaffRequest>,
}

/// The HTTP request a staff action came in, and where its audit rows go to
/// get their status.
#[derive(Clone, Debug)]
struct StaffRequest {
    method: Method,
    route: String,
    trail: AuditTrail,
}

/// The audit rows one staff request wrote, filled by [`StaffAuth::audit`]
/// and settled with the answered status by [`audit_requests`].
#[derive(Clone, Debug, Default)]
struct AuditTrail(Arc<Mutex<Vec<Uuid>>>);

impl AuditTrail {
    fn push(&self, id: Uuid) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(id);
    }

    fn take(&self) -> Vec<Uuid> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// What a staff action was about: its type and, when it has one, its id.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The kind of thing (`conversation`, `escalation`, `customer`, …).
    pub kind: &'static str,
    /// Its id.
    pub id: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// A target without an id (a list, a report).
    pub fn all(kind: &'static str) -> Self {
        Self { kind, id: None }
    }

    /// One thing of `kind`.
    pub fn one(kind: &'static str, id: &'a str) -> Self {
        Self { kind, id: Some(id) }
    }
}

impl StaffAuth {
    /// A staff member named `name` (for callers that authenticated some
    /// other way, and for tests).
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            request: None,
        }
    }

    /// The owner of the key the request carried.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records that this staff member did `action` on `target` (an audit row
    /// and one log line without personal data). Pass the transaction of a
    /// change so both commit together, or the pool for a read.
    pub async fn audit<'e, E>(
        &self,
        executor: E,
        action: &str,
        target: Target<'_>,
    ) -> Result<Uuid, ApiError>
    where
        E: sqlx::PgExecutor<'e>,
    {
        let id = fte_store::audit::record(
            executor,
            &fte_store::audit::StaffAction {
                staff: &self.name,
                action,
                target_type: target.kind,
                target_id: target.id,
                request: self
                    .request
                    .as_ref()
                    .map(|r| (r.method.as_str(), r.route.as_str())),
            },
        )
        .await?;
        if let Some(request) = &self.request {
            request.trail.push(id);
        }
        Ok(id)
    }
}

/// The key among `keys` whose digest is the sha256 of `key`, compared in
/// constant time over every configured key.
pub fn matching_key<'k>(key: &str, keys: &'k [StaffKey]) -> Option<&'k StaffKey> {
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let mut found = subtle::Choice::from(0);
    let mut index = 0u32;
    for (i, candidate) in keys.iter().enumerate() {
        let hit = candidate.digest.ct_eq(&digest);
        index = u32::conditional_select(&index, &(i as u32), hit);
        found |= hit;
    }
    bool::from(found).then(|| &keys[index as usize])
}

/// The bearer token of `headers`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

impl StaffAuth {
    /// The owner of the staff key among `keys` that `headers` carry as a
    /// bearer token, or 401. A refusal logs one security line naming the
    /// route and whether a key was sent at all (never the key). The
    /// extractor and the MCP endpoint (`fte-mcp`) both authenticate here.
    pub fn from_headers(
        headers: &HeaderMap,
        route: &str,
        keys: &[StaffKey],
    ) -> Result<Self, ApiError> {
        let provided = bearer(headers);
        if let Some(key) = provided.and_then(|k| matching_key(k, keys)) {
            return Ok(StaffAuth::named(key.name.clone()));
        }
        tracing::warn!(
            security = true,
            route,
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

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        let mut staff = StaffAuth::from_headers(&parts.headers, &route, &state.api.staff_keys)?;
        if let Some(trail) = parts.extensions.get::<AuditTrail>() {
            staff.request = Some(StaffRequest {
                method: parts.method.clone(),
                route,
                trail: trail.clone(),
            });
        }
        Ok(staff)
    }
}

/// The staff routes' layer: gives the request an audit trail, and once it
/// answered, sets the status on the audit rows it wrote and logs one line
/// (method, route template, status, how many rows — no names, no path).
/// A failure to set the status is logged and does not change the answer.
pub async fn audit_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let trail = AuditTrail::default();
    request.extensions_mut().insert(trail.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ids = trail.take();
    if !ids.is_empty()
        && let Err(error) = fte_store::audit::settle(&state.pool, &ids, status).await
    {
        tracing::warn!(error = %error, http.route = %route, "failed to record a staff request's status");
    }
    tracing::info!(
        http.method = %method,
        http.route = %route,
        http.status = status,
        audit.rows = ids.len(),
        "staff request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, secret: &str) -> StaffKey {
        StaffKey::new(name, Sha256::digest(secret.as_bytes()).into())
    }

    #[test]
    fn a_key_authenticates_as_its_owner_and_an_unknown_key_as_nobody() {
        let keys = [
            key("ana", "key-a"),
            key("bob", "key-b"),
            key("ana", "key-c"),
        ];
        assert_eq!(matching_key("key-b", &keys).unwrap().name, "bob");
        assert_eq!(matching_key("key-c", &keys).unwrap().name, "ana");
        assert_eq!(matching_key("key-a", &keys).unwrap().name, "ana");
        assert!(matching_key("key-d", &keys).is_none());
        assert!(matching_key("key-a", &[]).is_none());
    }
}
