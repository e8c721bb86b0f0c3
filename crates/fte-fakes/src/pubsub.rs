//! Google's side of Pub/Sub push: a JWKS endpoint serving test keys, and a
//! signer that mints RS256 OIDC tokens like the ones push requests carry.
//! The keys are test-only PEMs shipped in `testdata/`.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::server::FakeServer;

/// A test RSA key pair.
#[derive(Clone, Debug)]
pub struct TestKey {
    /// The key id published in the JWKS and written in tokens.
    pub kid: String,
    /// PKCS#8 private key (PEM).
    pub private_pem: &'static str,
    /// SubjectPublicKeyInfo public key (PEM).
    pub public_pem: &'static str,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
}

#[derive(Deserialize)]
struct JwkParts {
    n: String,
    e: String,
}

fn key(kid: &str, private_pem: &'static str, public_pem: &'static str, jwk: &str) -> TestKey {
    let parts: JwkParts = serde_json::from_str(jwk).expect("testdata JWK is valid JSON");
    TestKey {
        kid: kid.to_owned(),
        private_pem,
        public_pem,
        n: parts.n,
        e: parts.e,
    }
}

/// The key the fake JWKS publishes by default.
pub fn test_key_a() -> TestKey {
    key(
        "fte-test-key-a",
        include_str!("../testdata/test_key_a.pem"),
        include_str!("../testdata/test_key_a.pub.pem"),
        include_str!("../testdata/test_key_a.jwk.json"),
    )
}

/// A second key, not published by default (wrong-key tests, rotation).
pub fn test_key_b() -> TestKey {
    key(
        "fte-test-key-b",
        include_str!("../testdata/test_key_b.pem"),
        include_str!("../testdata/test_key_b.pub.pem"),
        include_str!("../testdata/test_key_b.jwk.json"),
    )
}

impl TestKey {
    /// The JWK of the public key.
    pub fn jwk(&self) -> Value {
        json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": self.n, "e": self.e})
    }

    /// A service account key file (JSON) for this key.
    pub fn service_account_json(&self, client_email: &str) -> String {
        json!({
            "type": "service_account",
            "client_email": client_email,
            "private_key": self.private_pem,
            "private_key_id": self.kid,
            "token_uri": "https://oauth2.googleapis.com/token",
        })
        .to_string()
    }
}

struct JwksState {
    keys: Vec<TestKey>,
    fetches: u32,
}

/// A JWKS endpoint at `/oauth2/v3/certs`.
pub struct FakeJwks {
    server: FakeServer,
    state: Arc<Mutex<JwksState>>,
}

impl FakeJwks {
    /// Serves `keys`.
    pub async fn start(keys: Vec<TestKey>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(JwksState { keys, fetches: 0 }));
        let router = Router::new()
            .route("/oauth2/v3/certs", get(certs))
            .route("/_fake/push", post(control_push))
            .with_state(state.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            state,
        })
    }

    /// The JWKS URL (`GMAIL_PUBSUB_JWKS_URL`).
    pub fn url(&self) -> String {
        format!("{}/oauth2/v3/certs", self.server.base_url())
    }

    /// Replaces the published keys (key rotation).
    pub fn set_keys(&self, keys: Vec<TestKey>) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).keys = keys;
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> u32 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).fetches
    }
}

async fn certs(State(state): State<Arc<Mutex<JwksState>>>) -> Json<Value> {
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    state.fetches += 1;
    let keys: Vec<Value> = state.keys.iter().map(TestKey::jwk).collect();
    Json(json!({ "keys": keys }))
}

#[derive(Deserialize)]
struct PushRequest {
    audience: String,
    service_account: String,
    mailbox: String,
    history_id: u64,
}

/// For other processes (the load and chaos harness): a signed push request
/// for `mailbox` at `history_id`, as Pub/Sub would send it to the gateway.
/// Answers `{"authorization": "Bearer …", "body": {…}}`.
async fn control_push(
    State(state): State<Arc<Mutex<JwksState>>>,
    Json(request): Json<PushRequest>,
) -> Result<Json<Value>, axum::http::StatusCode> {
    let key = state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .keys
        .first()
        .cloned()
        .ok_or(axum::http::StatusCode::CONFLICT)?;
    let claims = PushClaims::valid(&request.audience, &request.service_account);
    let body: Value = serde_json::from_slice(&push_body(&request.mailbox, request.history_id))
        .map_err(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!({
        "authorization": PushSigner::new(key).bearer(&claims),
        "body": body,
    })))
}

/// The claims of a push token.
#[derive(Clone, Debug, Serialize)]
pub struct PushClaims {
    /// Issuer (`https://accounts.google.com`).
    pub iss: String,
    /// Audience (the subscription's configured audience).
    pub aud: String,
    /// The push service account.
    pub email: String,
    /// Whether Google verified the email.
    pub email_verified: bool,
    /// Subject (the service account's numeric id).
    pub sub: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expiry (seconds).
    pub exp: i64,
}

impl PushClaims {
    /// Valid claims for one hour from now.
    pub fn valid(audience: &str, email: &str) -> Self {
        let now = chrono::Utc::now().timestamp();
        Self {
            iss: "https://accounts.google.com".into(),
            aud: audience.to_owned(),
            email: email.to_owned(),
            email_verified: true,
            sub: "112233445566778899".into(),
            iat: now,
            exp: now + 3600,
        }
    }
}

/// Mints push tokens with a test key.
pub struct PushSigner {
    key: TestKey,
}

impl PushSigner {
    /// A signer using `key`.
    pub fn new(key: TestKey) -> Self {
        Self { key }
    }

    /// An RS256 token over `claims`, with the key's kid.
    pub fn sign(&self, claims: &PushClaims) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key.kid.clone());
        let key = EncodingKey::from_rsa_pem(self.key.private_pem.as_bytes())
            .expect("testdata key is a valid RSA PEM");
        jsonwebtoken::encode(&header, &claims, &key).expect("signing with a valid key")
    }

    /// `Authorization` header value for `claims`.
    pub fn bearer(&self, claims: &PushClaims) -> String {
        format!("Bearer {}", self.sign(claims))
    }
}

/// A Pub/Sub push body for a Gmail notification (standard base64 data).
pub fn push_body(email_address: &str, history_id: u64) -> Vec<u8> {
    let data = json!({"emailAddress": email_address, "historyId": history_id}).to_string();
    json!({
        "message": {
            "data": STANDARD.encode(data),
            "messageId": "2070443601311540",
            "publishTime": chrono::Utc::now().to_rfc3339(),
        },
        "subscription": "projects/orbit-labs/subscriptions/gmail-push",
    })
    .to_string()
    .into_bytes()
}
