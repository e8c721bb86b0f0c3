//! A fake of the Gmail API and Google's token endpoint: `users.watch`,
//! `getProfile`, `history.list`, `messages.list/get/send`, `threads.get`,
//! with bearer-token checks and a mailbox whose history id moves like
//! Gmail's. [`FakeGmail::deliver_inbound`] plays a customer writing in.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router, middleware};
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::{self, Faults, HANG};
use crate::server::FakeServer;

/// A message in the fake mailbox.
#[derive(Clone, Debug, Serialize)]
pub struct StoredMessage {
    /// Gmail id.
    pub id: String,
    /// Thread id.
    pub thread_id: String,
    /// Labels (`INBOX`, `SENT`, `UNREAD`).
    pub label_ids: Vec<String>,
    /// The RFC 2822 text.
    pub raw: String,
    /// The history id at which it was added.
    pub history_id: u64,
    /// Receipt time in ms.
    pub internal_date: i64,
}

impl StoredMessage {
    /// The value of header `name` (unfolded; case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        headers_of(&self.raw)
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The decoded text/plain body of a message we sent (base64 or plain).
    pub fn body_text(&self) -> String {
        let normalised = self.raw.replace("\r\n", "\n");
        let body = normalised.split_once("\n\n").map(|(_, b)| b).unwrap_or("");
        let b64 = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("base64"));
        if b64 {
            let compact: String = body.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default()
        } else {
            body.to_owned()
        }
    }
}

/// Header lines of an RFC 2822 text, unfolded.
fn headers_of(raw: &str) -> Vec<(String, String)> {
    let normalised = raw.replace("\r\n", "\n");
    let head = normalised
        .split_once("\n\n")
        .map(|(h, _)| h)
        .unwrap_or(&normalised);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

/// How the token endpoint authenticates callers.
#[derive(Clone, Debug)]
pub enum FakeOAuth {
    /// The refresh-token grant with these values.
    RefreshToken {
        /// Expected client id.
        client_id: String,
        /// Expected client secret.
        client_secret: String,
        /// Expected refresh token.
        refresh_token: String,
    },
    /// The JWT-bearer grant, assertion verified with this public key (PEM).
    ServiceAccount {
        /// Public key of the service account.
        public_key_pem: String,
        /// Expected `iss`.
        client_email: String,
    },
}

struct State_ {
    history_id: u64,
    oldest_history_id: u64,
    next_id: u64,
    messages: Vec<StoredMessage>,
    tokens: Vec<(String, bool)>,
    token_requests: u32,
    token_lifetime_secs: u64,
    watches: Vec<String>,
}

struct Inner {
    mailbox: String,
    oauth: FakeOAuth,
    token_path: String,
    state: Mutex<State_>,
    faults: Faults,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running fake and its handle.
pub struct FakeGmail {
    server: FakeServer,
    inner: Arc<Inner>,
}

type Shared = Arc<Inner>;

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

impl FakeGmail {
    /// Starts a fake for `mailbox` whose token endpoint accepts `oauth`.
    pub async fn start(mailbox: &str, oauth: FakeOAuth) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            mailbox: mailbox.to_owned(),
            oauth,
            token_path: "/token".into(),
            state: Mutex::new(State_ {
                history_id: 1000,
                oldest_history_id: 1,
                next_id: 1,
                messages: Vec::new(),
                tokens: Vec::new(),
                token_requests: 0,
                token_lifetime_secs: 3600,
                watches: Vec::new(),
            }),
            faults: Faults::default(),
        });
        let api = Router::new()
            .route("/gmail/v1/users/me/watch", post(watch))
            .route("/gmail/v1/users/me/profile", get(profile))
            .route("/gmail/v1/users/me/history", get(history))
            .route("/gmail/v1/users/me/messages", get(list_messages))
            .route("/gmail/v1/users/me/messages/send", post(send))
            .route("/gmail/v1/users/me/messages/{id}", get(get_message))
            .route("/gmail/v1/users/me/threads/{id}", get(get_thread))
            .layer(middleware::from_fn_with_state(
                inner.faults.clone(),
                faults::apply,
            ));
        let other = Router::new()
            .route("/token", post(token))
            .route("/_fake/inbound", post(control_inbound))
            .route("/_fake/sent", get(control_sent));
        let router = api.merge(other).with_state(inner.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            inner,
        })
    }

    /// The API base URL (`GMAIL_API_BASE_URL`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The token endpoint (`GMAIL_TOKEN_URL`).
    pub fn token_url(&self) -> String {
        format!("{}{}", self.server.base_url(), self.inner.token_path)
    }

    /// The fault plan of the API routes (the token endpoint is not affected).
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The mailbox's current history id.
    pub fn history_id(&self) -> u64 {
        self.inner.lock().history_id
    }

    /// Adds a customer message to INBOX (threaded by `In-Reply-To` when it
    /// answers a message in the mailbox) and bumps the history id.
    /// Returns `(message id, thread id)`.
    pub fn deliver_inbound(&self, raw_mime: &str) -> (String, String) {
        deliver(&self.inner, raw_mime)
    }

    /// Every message we sent (label SENT), oldest first.
    pub fn sent(&self) -> Vec<StoredMessage> {
        sent_of(&self.inner)
    }

    /// Every message in the mailbox.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.inner.lock().messages.clone()
    }

    /// Marks every issued access token as expired (the next call gets 401).
    pub fn expire_tokens(&self) {
        for token in &mut self.inner.lock().tokens {
            token.1 = false;
        }
    }

    /// Sets the lifetime (`expires_in`) of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.inner.lock().token_lifetime_secs = secs;
    }

    /// How many tokens were requested.
    pub fn token_requests(&self) -> u32 {
        self.inner.lock().token_requests
    }

    /// Forgets history older than now: `history.list` from an older id
    /// answers 404, as Gmail does after about a week.
    pub fn expire_history(&self) {
        let mut state = self.inner.lock();
        state.oldest_history_id = state.history_id;
    }

    /// The topics `users.watch` was called with.
    pub fn watches(&self) -> Vec<String> {
        self.inner.lock().watches.clone()
    }

    /// Refuses connections until [`come_back`](Self::come_back).
    pub async fn go_down(&self) {
        self.server.down().await;
    }

    /// Accepts connections again.
    pub async fn come_back(&self) -> std::io::Result<()> {
        self.server.up().await
    }
}

fn sent_of(inner: &Inner) -> Vec<StoredMessage> {
    inner
        .lock()
        .messages
        .iter()
        .filter(|m| m.label_ids.iter().any(|l| l == "SENT"))
        .cloned()
        .collect()
}

fn store(inner: &Inner, raw: &str, thread_id: Option<String>, labels: &[&str]) -> StoredMessage {
    let mut state = inner.lock();
    state.history_id += 1;
    state.next_id += 1;
    let id = format!("{:016x}", 0x18c0_0000_0000u64 + state.next_id);
    let in_reply_to = headers_of(raw)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("In-Reply-To"))
        .map(|(_, v)| v);
    let thread_id = thread_id
        .or_else(|| {
            let wanted = in_reply_to?;
            state
                .messages
                .iter()
                .find(|m| m.header("Message-ID").as_deref() == Some(wanted.as_str()))
                .map(|m| m.thread_id.clone())
        })
        .unwrap_or_else(|| id.clone());
    let message = StoredMessage {
        id,
        thread_id,
        label_ids: labels.iter().map(|l| (*l).to_owned()).collect(),
        raw: raw.to_owned(),
        history_id: state.history_id,
        internal_date: chrono::Utc::now().timestamp_millis(),
    };
    state.messages.push(message.clone());
    message
}

fn deliver(inner: &Inner, raw: &str) -> (String, String) {
    let m = store(inner, raw, None, &["INBOX", "UNREAD"]);
    (m.id, m.thread_id)
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

async fn token(State(inner): State<Shared>, Form(form): Form<Vec<(String, String)>>) -> Response {
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

async fn watch(
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

async fn profile(State(inner): State<Shared>, headers: HeaderMap) -> Response {
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

async fn history(
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

async fn list_messages(
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

async fn get_message(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    require_auth!(inner, headers);
    let state = inner.lock();
    let Some(m) = state.messages.iter().find(|m| m.id == id) else {
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

async fn get_thread(
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

async fn send(
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

async fn control_inbound(State(inner): State<Shared>, raw: String) -> Json<Value> {
    let (id, thread_id) = deliver(&inner, &raw);
    Json(json!({"id": id, "threadId": thread_id}))
}

async fn control_sent(State(inner): State<Shared>) -> Json<Vec<StoredMessage>> {
    Json(sent_of(&inner))
}
