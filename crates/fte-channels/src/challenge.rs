//! The web form's bot challenge, verified server-side: Cloudflare Turnstile
//! or hCaptcha. The browser solves the challenge and sends its token with
//! the submission; [`ChallengeVerifier::verify`] asks the provider's
//! `siteverify` endpoint whether the token is valid.
//!
//! Both providers take the same form fields (`secret`, `response`,
//! `remoteip`) and answer `{"success": bool, "error-codes": [...]}`. A token
//! is valid once: Turnstile accepts an `idempotency_key` so a retried call
//! after a lost answer still sees the first verdict; hCaptcha has no such
//! key, so a retry after a lost answer may report the token as already used
//! and the customer solves the challenge again. Transient failures (timeouts,
//! 429, 5xx) are retried with backoff up to the configured attempts; when
//! the provider cannot be reached the caller answers 503, never "passed".

use std::net::IpAddr;
use std::time::Duration;

use fte_runtime::settings::{ChallengeProvider, ChallengeSettings};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::http::{self, RetryPolicy};

/// Longest token accepted for verification (Turnstile documents 2048).
pub const MAX_TOKEN_CHARS: usize = 4096;

/// The provider's verdict on a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A human solved the challenge.
    Passed,
    /// Missing, expired, reused or forged: the provider's error codes (or
    /// ours for a token that never reached it).
    Failed(Vec<String>),
}

/// The provider could not give a verdict (unreachable, or it refused our
/// configuration). The submission is not accepted; the cause is logged.
#[derive(Debug, thiserror::Error)]
#[error("the challenge provider could not verify the token: {0}")]
pub struct ChallengeUnavailable(pub String);

#[derive(Deserialize)]
struct SiteverifyAnswer {
    success: bool,
    #[serde(rename = "error-codes", default)]
    error_codes: Vec<String>,
}

/// Error codes that mean our own configuration is wrong, not the token.
const CONFIGURATION_CODES: &[&str] = &[
    "missing-input-secret",
    "invalid-input-secret",
    "sitekey-secret-mismatch",
    "invalid-or-already-seen-secret",
];

/// Verifies challenge tokens against one provider.
pub struct ChallengeVerifier {
    provider: ChallengeProvider,
    site_key: String,
    script_url: String,
    secret: SecretString,
    verify_url: String,
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl ChallengeVerifier {
    /// A verifier for the configured provider.
    pub fn new(settings: &ChallengeSettings) -> Self {
        Self {
            provider: settings.provider,
            site_key: settings.site_key.clone(),
            script_url: settings.script_url.clone(),
            secret: settings.secret.clone(),
            verify_url: settings.verify_url.clone(),
            client: http::client(Duration::from_millis(settings.timeout_ms)),
            policy: RetryPolicy {
                max_attempts: settings.max_attempts,
                base_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(1),
            },
        }
    }

    /// Which provider.
    pub fn provider(&self) -> ChallengeProvider {
        self.provider
    }

    /// The public site key the widget renders the challenge with.
    pub fn site_key(&self) -> &str {
        &self.site_key
    }

    /// The provider's browser script.
    pub fn script_url(&self) -> &str {
        &self.script_url
    }

    /// Asks the provider whether `token` is a solved, unused challenge.
    pub async fn verify(
        &self,
        token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<Verdict, ChallengeUnavailable> {
        let token = token.trim();
        if token.is_empty() {
            return Ok(Verdict::Failed(vec!["missing-input-response".into()]));
        }
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Ok(Verdict::Failed(vec!["invalid-input-response".into()]));
        }
        let idempotency_key = uuid::Uuid::new_v4().to_string();
        let remote_ip = remote_ip.map(|ip| ip.to_string());
        let build = || {
            let mut form: Vec<(&str, &str)> =
                vec![("secret", self.secret.expose_secret()), ("response", token)];
            if let Some(ip) = &remote_ip {
                form.push(("remoteip", ip));
            }
            match self.provider {
                ChallengeProvider::Turnstile => form.push(("idempotency_key", &idempotency_key)),
                ChallengeProvider::Hcaptcha => form.push(("sitekey", &self.site_key)),
            }
            self.client.post(&self.verify_url).form(&form)
        };
        let started = std::time::Instant::now();
        let response = http::send_idempotent(self.policy, build)
            .await
            .map_err(|error| ChallengeUnavailable(error.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ChallengeUnavailable(format!(
                "siteverify answered HTTP {}",
                status.as_u16()
            )));
        }
        let answer: SiteverifyAnswer = response.json().await.map_err(|_| {
            ChallengeUnavailable("siteverify answered something else than JSON".into())
        })?;
        tracing::info!(
            provider = self.provider.as_str(),
            passed = answer.success,
            duration_ms = started.elapsed().as_millis() as u64,
            "challenge verified"
        );
        if answer.success {
            return Ok(Verdict::Passed);
        }
        if let Some(code) = answer
            .error_codes
            .iter()
            .find(|code| CONFIGURATION_CODES.contains(&code.as_str()))
        {
            return Err(ChallengeUnavailable(format!(
                "siteverify refused our configuration ({code}): check WEB_CHALLENGE_SECRET"
            )));
        }
        Ok(Verdict::Failed(answer.error_codes))
    }
}
