//! A fake of Twilio's Messages API: `POST` and `GET
//! /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth, recording what
//! was sent. Control routes under `/_fake/` serve other processes.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router, middleware};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::faults::{self, Faults, HANG};
use crate::server::FakeServer;

/// One message the fake accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentWhatsApp {
    /// The SID returned (`SM…`).
    pub sid: String,
    /// `From` as sent (`whatsapp:+…`).
    pub from: String,
    /// `To` as sent (`whatsapp:+…`).
    pub to: String,
    /// Free-text body, if any.
    pub body: Option<String>,
    /// Template SID, when a template was sent.
    pub content_sid: Option<String>,
    /// Template variables (JSON), when a template was sent.
    pub content_variables: Option<String>,
    /// When it was accepted.
    pub date_created: DateTime<Utc>,
}

struct Inner {
    account_sid: String,
    auth_token: String,
    sent: Mutex<Vec<SentWhatsApp>>,
    faults: Faults,
}

/// The running fake and its handle.
pub struct FakeTwilio {
    server: FakeServer,
    inner: Arc<Inner>,
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(rename = "From")]
    from: Option<String>,
    #[serde(rename = "To")]
    to: Option<String>,
    #[serde(rename = "Body")]
    body: Option<String>,
    #[serde(rename = "ContentSid")]
    content_sid: Option<String>,
    #[serde(rename = "ContentVariables")]
    content_variables: Option<String>,
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "status": status.as_u16()})),
    )
        .into_response()
}

impl FakeTwilio {
    /// Starts the fake for one account.
    pub async fn start(account_sid: &str, auth_token: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            sent: Mutex::new(Vec::new()),
            faults: Faults::default(),
        });
        let api = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(create).get(list),
            )
            .layer(middleware::from_fn_with_state(
                inner.faults.clone(),
                faults::apply,
            ));
        let control = Router::new()
            .route("/_fake/sent", get(control_sent))
            .route("/_fake/fail", post(control_fail));
        let router = api.merge(control).with_state(inner.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            inner,
        })
    }

    /// The API base URL (`TWILIO_API_BASE_URL`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Everything accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentWhatsApp> {
        self.inner
            .sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The fault plan (fail, slow down, accept then hang).
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
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

fn authorised(inner: &Inner, sid: &str, headers: &HeaderMap) -> bool {
    let expected = STANDARD.encode(format!("{}:{}", inner.account_sid, inner.auth_token));
    sid == inner.account_sid
        && headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|v| v.trim() == expected)
}

async fn create(
    State(inner): State<Arc<Inner>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    if !authorised(&inner, &sid, &headers) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let (Some(from), Some(to)) = (form.from, form.to) else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    if !from.starts_with("whatsapp:+") || !to.starts_with("whatsapp:+") {
        return twilio_error(StatusCode::BAD_REQUEST, 21211, "Invalid 'To' Phone Number");
    }
    match (&form.body, &form.content_sid) {
        (None, None) => {
            return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
        }
        (Some(body), None) if body.chars().count() > 1600 => {
            return twilio_error(StatusCode::BAD_REQUEST, 21617, "Message body too long");
        }
        _ => {}
    }
    let message = SentWhatsApp {
        sid: format!("SM{}", uuid::Uuid::new_v4().simple()),
        from,
        to,
        body: form.body,
        content_sid: form.content_sid,
        content_variables: form.content_variables,
        date_created: Utc::now(),
    };
    let answer = json!({
        "sid": message.sid,
        "status": "queued",
        "to": message.to,
        "from": message.from,
        "body": message.body,
        "date_created": message.date_created.to_rfc2822(),
    });
    inner
        .sent
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(message);
    if inner.faults.take_hang() {
        tokio::time::sleep(HANG).await;
    }
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn list(
    State(inner): State<Arc<Inner>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !authorised(&inner, &sid, &headers) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let (to, from) = (param("To"), param("From"));
    let sent = inner.sent.lock().unwrap_or_else(|p| p.into_inner());
    // Twilio lists newest first.
    let messages: Vec<_> = sent
        .iter()
        .rev()
        .filter(|m| to.as_ref().is_none_or(|t| *t == m.to))
        .filter(|m| from.as_ref().is_none_or(|f| *f == m.from))
        .map(|m| {
            json!({
                "sid": m.sid,
                "to": m.to,
                "from": m.from,
                "body": m.body,
                "status": "delivered",
                "date_created": m.date_created.to_rfc2822(),
            })
        })
        .collect();
    Json(json!({ "messages": messages, "next_page_uri": null })).into_response()
}

async fn control_sent(State(inner): State<Arc<Inner>>) -> Json<Vec<SentWhatsApp>> {
    Json(inner.sent.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

#[derive(Deserialize)]
struct FailRequest {
    status: u16,
    times: usize,
    #[serde(default)]
    delay_ms: Option<u64>,
}

async fn control_fail(
    State(inner): State<Arc<Inner>>,
    Json(request): Json<FailRequest>,
) -> StatusCode {
    inner.faults.fail_next(request.status, request.times);
    if let Some(ms) = request.delay_ms {
        inner.faults.set_delay(std::time::Duration::from_millis(ms));
    }
    StatusCode::NO_CONTENT
}
