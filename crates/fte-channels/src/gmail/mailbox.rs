//! [`Mailbox`]: the support mailbox as the worker uses it — watch and its
//! renewal, incremental sync from a stored history id, and the bounded full
//! sync after a 404 or a stored id ahead of the mailbox.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use fte_runtime::settings::GmailSettings;
use secrecy::{ExposeSecret, SecretString};

use super::auth::{GmailCredentials, ServiceAccountKey, TokenSource};
use super::client::{GmailClient, MessageRef, WatchResponse};
use super::error::GmailError;
use super::parse::{ParsedEmail, parse_raw_email};
use crate::http::{self, RetryPolicy};

/// Gmail stops a watch after 7 days; renewing daily leaves ample margin.
pub const WATCH_RENEWAL_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Everything a [`Mailbox`] needs.
#[derive(Clone)]
pub struct GmailConfig {
    /// `https://gmail.googleapis.com`, or a fake's URL.
    pub api_base_url: String,
    /// The OAuth token endpoint.
    pub token_url: String,
    /// The support mailbox address.
    pub mailbox: String,
    /// The name shown with our address on replies.
    pub from_name: String,
    /// Service account or refresh token.
    pub credentials: GmailCredentials,
    /// The Pub/Sub topic for `watch`.
    pub pubsub_topic: Option<String>,
    /// Timeout of every call.
    pub timeout: Duration,
    /// Retries of idempotent calls.
    pub retry: RetryPolicy,
}

/// Why a [`GmailConfig`] could not be built from settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GmailConfigError {
    /// Switched off, or no credentials or mailbox: the channel is disabled.
    #[error(
        "Gmail is not configured (GMAIL_MAILBOX and GMAIL_SERVICE_ACCOUNT_JSON or GMAIL_REFRESH_TOKEN)"
    )]
    NotConfigured,
    /// The service account key could not be read.
    #[error("GMAIL_SERVICE_ACCOUNT_JSON: {0}")]
    InvalidServiceAccount(String),
}

impl GmailConfig {
    /// The configuration from settings; `NotConfigured` means disabled.
    pub fn from_settings(settings: &GmailSettings) -> Result<Self, GmailConfigError> {
        if !settings.is_configured() {
            return Err(GmailConfigError::NotConfigured);
        }
        let mailbox = settings
            .mailbox
            .clone()
            .ok_or(GmailConfigError::NotConfigured)?;
        let credentials = match (&settings.service_account_json, &settings.refresh_token) {
            (Some(json), _) => GmailCredentials::ServiceAccount(
                ServiceAccountKey::parse(json.expose_secret())
                    .map_err(|e| GmailConfigError::InvalidServiceAccount(e.to_string()))?,
            ),
            (None, Some(refresh)) => GmailCredentials::RefreshToken {
                client_id: settings.client_id.clone().unwrap_or_default(),
                client_secret: settings
                    .client_secret
                    .clone()
                    .unwrap_or_else(|| SecretString::from(String::new())),
                refresh_token: refresh.clone(),
            },
            (None, None) => return Err(GmailConfigError::NotConfigured),
        };
        Ok(Self {
            api_base_url: settings.api_base_url.clone(),
            token_url: settings.token_url.clone(),
            mailbox,
            from_name: "Orbitask Support".into(),
            credentials,
            pubsub_topic: settings.pubsub_topic.clone(),
            timeout: Duration::from_millis(settings.timeout_ms),
            retry: RetryPolicy::default(),
        })
    }
}

/// The support mailbox.
pub struct Mailbox {
    client: GmailClient,
    address: String,
    from_name: String,
    topic: Option<String>,
}

impl Mailbox {
    /// A mailbox client for `config`.
    pub fn new(config: GmailConfig) -> Self {
        let tokens = TokenSource::new(
            config.credentials,
            config.token_url,
            config.mailbox.clone(),
            http::client(config.timeout),
            config.retry,
        );
        Self {
            client: GmailClient::new(&config.api_base_url, tokens, config.timeout, config.retry),
            address: config.mailbox,
            from_name: config.from_name,
            topic: config.pubsub_topic,
        }
    }

    /// The raw API client.
    pub fn client(&self) -> &GmailClient {
        &self.client
    }

    /// Our address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The display name used on replies.
    pub fn from_name(&self) -> &str {
        &self.from_name
    }

    /// Starts (or renews) the push watch on INBOX.
    pub async fn watch(&self) -> Result<WatchResponse, GmailError> {
        let topic = self
            .topic
            .as_deref()
            .ok_or_else(|| GmailError::Auth("GMAIL_PUBSUB_TOPIC is not set".into()))?;
        self.client.watch(topic).await
    }

    /// Renews the watch now and then every `every` (use
    /// [`WATCH_RENEWAL_INTERVAL`]), handing each answer to `on_renewed` so the
    /// worker can store the expiry. A failed renewal is retried after a minute.
    /// Runs until dropped: the worker spawns it and aborts it on shutdown.
    pub async fn renew_watch_loop(
        self: Arc<Self>,
        every: Duration,
        on_renewed: impl Fn(WatchResponse) + Send,
    ) {
        loop {
            let wait = match self.watch().await {
                Ok(watch) => {
                    tracing::info!(history_id = watch.history_id, "Gmail watch renewed");
                    on_renewed(watch);
                    every
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Gmail watch renewal failed");
                    every.min(Duration::from_secs(60))
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// The customer emails added to INBOX since `start_history_id` (our own
    /// SENT messages skipped), and the history id to store afterwards.
    /// [`GmailError::HistoryTooOld`] and [`GmailError::HistoryAhead`] ask
    /// for [`recent_inbox`](Self::recent_inbox).
    /// Messages that cannot be parsed are skipped and logged by id.
    pub async fn fetch_new_messages(
        &self,
        start_history_id: u64,
    ) -> Result<(Vec<ParsedEmail>, u64), GmailError> {
        let (added, history_id) = self.client.added_since(start_history_id).await?;
        if history_id < start_history_id {
            // A mailbox's id only grows: ours is from another mailbox life.
            return Err(GmailError::HistoryAhead);
        }
        let emails = self.fetch_all(added).await?;
        Ok((emails, history_id))
    }

    /// The bounded full sync: the newest `max` INBOX messages (oldest first)
    /// and the mailbox's current history id (read first, so nothing falls
    /// between).
    pub async fn recent_inbox(&self, max: u32) -> Result<(Vec<ParsedEmail>, u64), GmailError> {
        let (refs, history_id) = self.recent_inbox_refs(max).await?;
        Ok((self.fetch_all(refs).await?, history_id))
    }

    /// The references of the newest `max` INBOX messages (oldest first, each
    /// id once) and the mailbox's current history id, read first: a caller
    /// drops the ids it already knows and [`fetch`](Self::fetch)es the rest.
    pub async fn recent_inbox_refs(&self, max: u32) -> Result<(Vec<MessageRef>, u64), GmailError> {
        let history_id = self.client.current_history_id().await?;
        let mut refs = self.client.list(Some("INBOX"), None, max).await?;
        // Gmail lists newest first; hand them over oldest first, like history.
        refs.reverse();
        let mut seen = std::collections::HashSet::new();
        refs.retain(|item| seen.insert(item.id.clone()));
        Ok((refs, history_id))
    }

    /// The customer emails among `refs` (our own SENT messages skipped,
    /// unparseable ones skipped and logged by id).
    pub async fn fetch(&self, refs: Vec<MessageRef>) -> Result<Vec<ParsedEmail>, GmailError> {
        self.fetch_all(refs).await
    }

    async fn fetch_all(&self, refs: Vec<MessageRef>) -> Result<Vec<ParsedEmail>, GmailError> {
        let mut emails = Vec::new();
        for item in refs {
            if item.label_ids.iter().any(|l| l == "SENT") {
                continue;
            }
            let raw = match self.client.raw_message(&item.id).await {
                Ok(raw) => raw,
                // Deleted between the notification and now.
                Err(GmailError::NotFound) => {
                    tracing::info!(gmail.message_id = %item.id, "message gone; skipped");
                    continue;
                }
                Err(e) => return Err(e),
            };
            if raw.label_ids.iter().any(|l| l == "SENT") {
                continue;
            }
            let bytes = URL_SAFE
                .decode(raw.raw.trim())
                .or_else(|_| URL_SAFE_NO_PAD.decode(raw.raw.trim().trim_end_matches('=')));
            let Ok(bytes) = bytes else {
                tracing::warn!(gmail.message_id = %raw.id, "raw message is not base64url; skipped");
                continue;
            };
            match parse_raw_email(&raw.id, &raw.thread_id, &bytes, raw.internal_date) {
                Ok(email) if email.from.as_str().eq_ignore_ascii_case(&self.address) => {}
                Ok(email) => emails.push(email),
                Err(e) => {
                    tracing::warn!(gmail.message_id = %raw.id, error = %e, "unusable email skipped");
                }
            }
        }
        Ok(emails)
    }
}
