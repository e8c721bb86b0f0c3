//! The fake Gmail's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};

use super::mailbox::{
    FakeOAuth, Inner, SenderVerdict, Shared, StoredMessage, deliver, headers_of, sent_of, store,
};
use crate::faults::HANG;

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

fn authorised(inner: &Inner, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    inner
        .lock()
        .tokens
        .iter()
        .any(|(t, valid)| *valid && t == token.trim())
}

macro_rules! require_auth {
    ($inner:expr, $headers:expr) => {
        if !authorised(&$inner, &$headers) {
            return error(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        }
    };
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    scope: String,
    aud: String,
}

pub(super) async fn token(
    State(inner): State<Shared>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let ok = match (&inner.oauth, field("grant_type")) {
        (
            FakeOAuth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            },
            "refresh_token",
        ) => {
            field("client_id") == client_id
                && field("client_secret") == client_secret
                && field("refresh_token") == refresh_token
        }
        (
            FakeOAuth::ServiceAccount {
                public_key_pem,
                client_email,
            },
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ) => {
            let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_key_pem.as_bytes());
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            // `aud` is the token URL; checked below against our own path.
            validation.validate_aud = false;
            key.ok()
                .and_then(|key| {
                    jsonwebtoken::decode::<AssertionClaims>(field("assertion"), &key, &validation)
                        .ok()
                })
                .is_some_and(|data| {
                    data.claims.iss == *client_email
                        && data.claims.sub.eq_ignore_ascii_case(&inner.mailbox)
                        && data.claims.scope.contains("gmail")
                        && data.claims.aud.ends_with(&inner.token_path)
                })
        }
        _ => false,
    };
    let mut state = inner.lock();
    state.token_requests += 1;
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let token = format!("ya29.fake-{}", uuid::Uuid::new_v4().simple());
    state.tokens.push((token.clone(), true));
    Json(json!({
        "access_token": token,
        "expires_in": state.token_lifetime_secs,
        "token_type": "Bearer",
    }))
    .into_response()
}

pub(super) async fn watch(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    require_auth!(inner, headers);
    let Some(topic) = body.get("topicName").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "topicName required");
    };
    let mut state = inner.lock();
    state.watches.push(topic.to_owned());
    let expiration = chrono::Utc::now().timestamp_millis() + 7 * 24 * 3600 * 1000;
    Json(json!({"historyId": state.history_id.to_string(), "expiration": expiration.to_string()}))
        .into_response()
}

pub(super) async fn profile(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    require_auth!(inner, headers);
    let state = inner.lock();
    Json(json!({
        "emailAddress": inner.mailbox,
        "historyId": state.history_id.to_string(),
        "messagesTotal": state.messages.len(),
    }))
    .into_response()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Page size of `history.list`, small so that paging is exercised.
const HISTORY_PAGE: usize = 2;

pub(super) async fn history(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    require_auth!(inner, headers);
    let Some(start) = param(&query, "startHistoryId").and_then(|s| s.parse::<u64>().ok()) else {
        return error(StatusCode::BAD_REQUEST, "startHistoryId required");
    };
    let state = inner.lock();
    if start < state.oldest_history_id {
        return error(StatusCode::NOT_FOUND, "Requested entity was not found.");
    }
    let label = param(&query, "labelId");
    let offset: usize = param(&query, "pageToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let matching: Vec<&StoredMessage> = state
        .messages
        .iter()
        .filter(|m| m.history_id > start)
        .filter(|m| label.is_none_or(|l| m.label_ids.iter().any(|x| x == l)))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(HISTORY_PAGE)
        .map(|m| {
            json!({
                "id": m.history_id.to_string(),
                "messagesAdded": [{"message": {"id": m.id, "threadId": m.thread_id, "labelIds": m.label_ids}}],
            })
        })
        .collect();
    let next =
        (offset + HISTORY_PAGE < matching.len()).then(|| (offset + HISTORY_PAGE).to_string());
    let mut body = json!({"history": page, "historyId": state.history_id.to_string()});
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
    Json(body).into_response()
}

pub(super) async fn list_messages(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    require_auth!(inner, headers);
    let max: usize = param(&query, "maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    let label = param(&query, "labelIds").map(str::to_owned).or_else(|| {
        param(&query, "q")
            .filter(|q| q.contains("in:sent"))
            .map(|_| "SENT".to_owned())
    });
    let state = inner.lock();
    let messages: Vec<Value> = state
        .messages
        .iter()
        .rev()
        .filter(|m| label.as_ref().is_none_or(|l| m.label_ids.contains(l)))
        .take(max)
        .map(|m| json!({"id": m.id, "threadId": m.thread_id}))
        .collect();
    Json(json!({"messages": messages, "resultSizeEstimate": messages.len()})).into_response()
}

fn metadata_json(m: &StoredMessage, wanted: &[&str]) -> Value {
    let headers: Vec<Value> = headers_of(&m.raw)
        .into_iter()
        .filter(|(n, _)| wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(n)))
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({"id": m.id, "threadId": m.thread_id, "labelIds": m.label_ids, "payload": {"headers": headers}})
}

pub(super) async fn get_message(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    require_auth!(inner, headers);
    let state = inner.lock();
    let found = state.messages.iter().find(|m| m.id == id);
    let Some(m) = found.filter(|_| !state.deleted.contains(&id)) else {
        return error(StatusCode::NOT_FOUND, "Requested entity was not found.");
    };
    match param(&query, "format").unwrap_or("full") {
        "raw" => Json(json!({
            "id": m.id,
            "threadId": m.thread_id,
            "labelIds": m.label_ids,
            "historyId": m.history_id.to_string(),
            "internalDate": m.internal_date.to_string(),
            "raw": URL_SAFE.encode(m.raw.as_bytes()),
        }))
        .into_response(),
        _ => {
            let wanted: Vec<&str> = query
                .iter()
                .filter(|(n, _)| n == "metadataHeaders")
                .map(|(_, v)| v.as_str())
                .collect();
            Json(metadata_json(m, &wanted)).into_response()
        }
    }
}

pub(super) async fn get_thread(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    require_auth!(inner, headers);
    let wanted: Vec<&str> = query
        .iter()
        .filter(|(n, _)| n == "metadataHeaders")
        .map(|(_, v)| v.as_str())
        .collect();
    let state = inner.lock();
    let messages: Vec<Value> = state
        .messages
        .iter()
        .filter(|m| m.thread_id == id)
        .map(|m| metadata_json(m, &wanted))
        .collect();
    if messages.is_empty() {
        return error(StatusCode::NOT_FOUND, "Requested entity was not found.");
    }
    Json(json!({"id": id, "messages": messages})).into_response()
}

pub(super) async fn send(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    require_auth!(inner, headers);
    let Some(raw) = body.get("raw").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "raw required");
    };
    let decoded = URL_SAFE
        .decode(raw)
        .or_else(|_| URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')))
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some(text) = decoded else {
        return error(StatusCode::BAD_REQUEST, "Invalid value for ByteString");
    };
    if headers_of(&text)
        .iter()
        .all(|(n, _)| !n.eq_ignore_ascii_case("To"))
    {
        return error(StatusCode::BAD_REQUEST, "Recipient address required");
    }
    let thread_id = body
        .get("threadId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(thread) = &thread_id {
        let known = inner.lock().messages.iter().any(|m| &m.thread_id == thread);
        if !known {
            return error(StatusCode::NOT_FOUND, "Requested entity was not found.");
        }
    }
    let m = store(&inner, &text, thread_id, &["SENT"]);
    if inner.faults.take_hang() {
        tokio::time::sleep(HANG).await;
    }
    Json(json!({"id": m.id, "threadId": m.thread_id, "labelIds": m.label_ids})).into_response()
}

/// `POST /_fake/inbound?authentication=pass|fail` with a raw message: a
/// customer email arrives (`fail`: its sender is forged).
pub(super) async fn control_inbound(
    State(inner): State<Shared>,
    Query(query): Query<InboundQuery>,
    raw: String,
) -> Json<Value> {
    let verdict = match query.authentication.as_deref() {
        Some("fail") => SenderVerdict::Fail,
        _ => SenderVerdict::Pass,
    };
    let (id, thread_id) = deliver(&inner, &raw, verdict);
    Json(json!({"id": id, "threadId": thread_id}))
}

#[derive(Deserialize)]
pub(super) struct InboundQuery {
    #[serde(default)]
    authentication: Option<String>,
}

pub(super) async fn control_sent(State(inner): State<Shared>) -> Json<Vec<StoredMessage>> {
    Json(sent_of(&inner))
}

#[derive(Deserialize)]
pub(super) struct FailRequest {
    status: u16,
    times: usize,
    #[serde(default)]
    delay_ms: Option<u64>,
}

/// `POST /_fake/fail {"status", "times", "delay_ms"?}`: fail the next API calls.
pub(super) async fn control_fail(
    State(inner): State<Shared>,
    Json(request): Json<FailRequest>,
) -> StatusCode {
    inner.faults.fail_next(request.status, request.times);
    if let Some(ms) = request.delay_ms {
        inner.faults.set_delay(std::time::Duration::from_millis(ms));
    }
    StatusCode::NO_CONTENT
}

/// `POST /_fake/expire-tokens`: every issued token now answers 401.
pub(super) async fn control_expire_tokens(State(inner): State<Shared>) -> StatusCode {
    for token in &mut inner.lock().tokens {
        token.1 = false;
    }
    StatusCode::NO_CONTENT
}
