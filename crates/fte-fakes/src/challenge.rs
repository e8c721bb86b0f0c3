//! A fake bot-challenge provider, standing in for Cloudflare Turnstile and
//! hCaptcha (both speak the same `siteverify` protocol):
//!
//! - `POST /siteverify` (form: `secret`, `response`, optional `remoteip`,
//!   `idempotency_key`, `sitekey`) answers `{"success", "error-codes"}` like
//!   the providers: a wrong secret is `invalid-input-secret`, an empty token
//!   `missing-input-response`, a token the fake did not issue
//!   `invalid-input-response`, a token verified before
//!   `timeout-or-duplicate` — unless the call repeats the idempotency key of
//!   the first verification, which gets the first verdict again (Turnstile's
//!   retry rule);
//! - `GET /api.js` is a browser script defining `window.turnstile` and
//!   `window.hcaptcha` with `render(element, {sitekey, callback,
//!   'error-callback', 'expired-callback'})`, `reset(id)` and `remove(id)`:
//!   it shows a "Verify you are human" button that issues a passing token
//!   when pressed, and calls `window[onload]` when the script URL names one.
//!
//! Tokens issued by the script (or [`FakeChallenge::issue_token`]) pass
//! once. Faults (5xx, delays, a verdict reached but never answered) come
//! from [`Faults`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Json, Router, middleware};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{self, Faults, HANG};
use crate::server::FakeServer;

/// Prefix of every token the fake issues.
pub const TOKEN_PREFIX: &str = "fake-challenge-pass-";

#[derive(Default)]
struct Tokens {
    /// Issued and not yet verified.
    issued: HashSet<String>,
    /// Verified: the idempotency key of the first verification.
    spent: HashMap<String, Option<String>>,
    /// Every siteverify call's token and remote IP, in order.
    calls: Vec<(String, Option<String>)>,
}

struct Inner {
    secret: String,
    tokens: Mutex<Tokens>,
    faults: Faults,
}

/// The running fake.
pub struct FakeChallenge {
    server: FakeServer,
    inner: Arc<Inner>,
}

#[derive(Deserialize)]
struct VerifyForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    response: String,
    remoteip: Option<String>,
    idempotency_key: Option<String>,
}

impl FakeChallenge {
    /// Starts the fake; `secret` is the only secret key siteverify accepts.
    pub async fn start(secret: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            secret: secret.to_owned(),
            tokens: Mutex::new(Tokens::default()),
            faults: Faults::default(),
        });
        let verify = Router::new().route("/siteverify", post(siteverify)).layer(
            middleware::from_fn_with_state(inner.faults.clone(), faults::apply),
        );
        let router = verify
            .route("/api.js", get(script))
            .route("/_fake/token", post(control_issue))
            .with_state(inner.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            inner,
        })
    }

    /// `WEB_CHALLENGE_VERIFY_URL`.
    pub fn verify_url(&self) -> String {
        format!("{}/siteverify", self.server.base_url())
    }

    /// `WEB_CHALLENGE_SCRIPT_URL`.
    pub fn script_url(&self) -> String {
        format!("{}/api.js", self.server.base_url())
    }

    /// A token that passes once, as a solved challenge in a browser gives.
    pub fn issue_token(&self) -> String {
        issue(&self.inner)
    }

    /// How many siteverify calls reached the fake's handler (faulted calls
    /// excluded), and the remote IPs they named.
    pub fn verifications(&self) -> Vec<(String, Option<String>)> {
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .calls
            .clone()
    }

    /// The fault plan.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Stops listening (connections refused) until [`up`](Self::up).
    pub async fn down(&self) {
        self.server.down().await;
    }

    /// Listens again.
    pub async fn up(&self) -> std::io::Result<()> {
        self.server.up().await
    }
}

fn issue(inner: &Inner) -> String {
    let token = format!("{TOKEN_PREFIX}{}", uuid::Uuid::new_v4().simple());
    inner
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .issued
        .insert(token.clone());
    token
}

async fn siteverify(
    State(inner): State<Arc<Inner>>,
    Form(form): Form<VerifyForm>,
) -> Json<serde_json::Value> {
    let codes = judge(&inner, form);
    if codes.is_empty() && inner.faults.take_hang() {
        // The token is spent, but the answer never arrives.
        tokio::time::sleep(HANG).await;
    }
    Json(json!({
        "success": codes.is_empty(),
        "error-codes": codes,
        "hostname": "fake-challenge.local",
    }))
}

/// The provider's error codes for this call (none: it passes).
fn judge(inner: &Inner, form: VerifyForm) -> Vec<&'static str> {
    let mut tokens = inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
    tokens
        .calls
        .push((form.response.clone(), form.remoteip.clone()));
    if form.secret.is_empty() {
        return vec!["missing-input-secret"];
    }
    if form.secret != inner.secret {
        return vec!["invalid-input-secret"];
    }
    if form.response.is_empty() {
        return vec!["missing-input-response"];
    }
    if let Some(first_key) = tokens.spent.get(&form.response) {
        let repeated = first_key.is_some() && *first_key == form.idempotency_key;
        return if repeated {
            Vec::new()
        } else {
            vec!["timeout-or-duplicate"]
        };
    }
    if !tokens.issued.remove(&form.response) {
        return vec!["invalid-input-response"];
    }
    tokens.spent.insert(form.response, form.idempotency_key);
    Vec::new()
}

async fn control_issue(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    // The page that renders the challenge is on another origin.
    (
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(json!({ "token": issue(&inner) })),
    )
}

/// The browser side: the same small API as Turnstile's and hCaptcha's
/// explicit rendering. The button fetches a token from `/_fake/token`.
const SCRIPT: &str = r#"(function () {
  var origin = new URL(document.currentScript.src).origin;
  var onload = new URL(document.currentScript.src).searchParams.get('onload');
  var widgets = {};
  var next = 1;
  function render(target, options) {
    var element = typeof target === 'string' ? document.querySelector(target) : target;
    var id = String(next++);
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Verify you are human (test challenge)';
    button.setAttribute('data-fake-challenge', id);
    button.addEventListener('click', function () {
      fetch(origin + '/_fake/token', { method: 'POST' })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          button.textContent = 'Verified (test challenge)';
          button.disabled = true;
          if (options.callback) options.callback(body.token);
        })
        .catch(function () { if (options['error-callback']) options['error-callback']('network'); });
    });
    element.appendChild(button);
    widgets[id] = { element: element, button: button, options: options };
    return id;
  }
  function reset(id) {
    var widget = widgets[id];
    if (!widget) return;
    widget.button.disabled = false;
    widget.button.textContent = 'Verify you are human (test challenge)';
  }
  function remove(id) {
    var widget = widgets[id];
    if (!widget) return;
    widget.button.remove();
    delete widgets[id];
  }
  var api = { render: render, reset: reset, remove: remove };
  window.turnstile = api;
  window.hcaptcha = api;
  if (onload && typeof window[onload] === 'function') window[onload]();
})();
"#;

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        SCRIPT,
    )
}
