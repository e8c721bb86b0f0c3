//! The provider fakes of the local run. `fte run` in the dev profile starts
//! the fake Gmail API (with Google's token endpoint), the Pub/Sub JWKS and
//! the fake Twilio Messages API in-process for each provider that has no
//! credentials, and lays their URLs and test credentials over the
//! environment it builds the gateway and the worker from. So the real
//! clients run: the Gmail watch, `history.list`, `messages.get` and
//! `messages.send`, the verified Pub/Sub push, the signed Twilio webhook
//! and the Twilio Messages API call — and nothing reaches a customer.
//!
//! Their details go to [`FAKES_FILE`] so `fte simulate` (another process)
//! can drop an email into the fake mailbox, sign the push, and sign a
//! WhatsApp webhook with the fake's token. The gateway shows what the fakes
//! received on `/dev/outbox` through [`FakesOutbox`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use fte_fakes::gmail::{FakeGmail, FakeOAuth};
use fte_fakes::pubsub::{FakeJwks, test_key_a};
use fte_fakes::twilio::FakeTwilio;
use fte_gateway::local::{ChannelDelivery, Delivery, OutboundLog, OutboundRecord};
use fte_runtime::Profile;
use fte_runtime::settings::{GmailSettings, Lookup, TwilioSettings};

/// Where `fte run` writes the running fakes' variables (JSON object of
/// variable name → value), and `fte simulate` reads them.
pub const FAKES_FILE: &str = ".fte/fakes.json";

/// The fake support mailbox.
pub const MAILBOX: &str = "support@orbitask.example";
/// The Twilio number our WhatsApp replies come from (Twilio's sandbox).
pub const WHATSAPP_NUMBER: &str = "+14155238886";
const TWILIO_SID: &str = "ACfa4e00000000000000000000000000";
const TWILIO_TOKEN: &str = "local-fake-twilio-auth-token";
const OAUTH_CLIENT_ID: &str = "local-fake-client-id";
const OAUTH_CLIENT_SECRET: &str = "local-fake-client-secret";
const OAUTH_REFRESH_TOKEN: &str = "local-fake-refresh-token";
const PUSH_AUDIENCE: &str = "fte-local-push";
const PUSH_SERVICE_ACCOUNT: &str = "gmail-push@fte-local.iam.gserviceaccount.com";
const PUBSUB_TOPIC: &str = "projects/fte-local/topics/gmail";

/// The fakes standing in for the providers without credentials.
pub struct LocalFakes {
    gmail: Option<Arc<FakeGmail>>,
    twilio: Option<Arc<FakeTwilio>>,
    _jwks: Option<FakeJwks>,
    vars: BTreeMap<&'static str, String>,
}

impl LocalFakes {
    /// Starts a fake for each provider that `lookup` leaves unconfigured
    /// (and not switched off), in the dev profile only; `None` when every
    /// provider is configured or switched off, or in production.
    pub async fn start_for(lookup: &Lookup<'_>, profile: Profile) -> anyhow::Result<Option<Self>> {
        if profile.is_production() {
            return Ok(None);
        }
        let gmail = GmailSettings::from_lookup(lookup, profile)?;
        let twilio = TwilioSettings::from_lookup(lookup, profile)?;
        let fake_gmail = gmail.enabled
            && matches!(
                fte_channels::gmail::GmailConfig::from_settings(&gmail),
                Err(fte_channels::gmail::GmailConfigError::NotConfigured)
            )
            && gmail.pubsub_audience.is_none();
        let fake_twilio = twilio.enabled
            && matches!(
                fte_channels::twilio::TwilioConfig::from_settings(&twilio),
                Err(fte_channels::twilio::TwilioConfigError::NotConfigured)
            )
            && twilio.auth_token.is_none();
        if !fake_gmail && !fake_twilio {
            return Ok(None);
        }
        Self::start(fake_gmail, fake_twilio).await.map(Some)
    }

    /// Starts the fake Gmail (with the JWKS for its pushes) and/or the fake
    /// Twilio on loopback ports.
    pub async fn start(gmail: bool, twilio: bool) -> anyhow::Result<Self> {
        let mut vars = BTreeMap::new();
        let (gmail, jwks) = if gmail {
            let fake = FakeGmail::start(
                MAILBOX,
                FakeOAuth::RefreshToken {
                    client_id: OAUTH_CLIENT_ID.into(),
                    client_secret: OAUTH_CLIENT_SECRET.into(),
                    refresh_token: OAUTH_REFRESH_TOKEN.into(),
                },
            )
            .await
            .context("Failed to start the fake Gmail API")?;
            let jwks = FakeJwks::start(vec![test_key_a()])
                .await
                .context("Failed to start the fake Pub/Sub JWKS")?;
            vars.insert("GMAIL_API_BASE_URL", fake.base_url());
            vars.insert("GMAIL_TOKEN_URL", fake.token_url());
            vars.insert("GMAIL_MAILBOX", MAILBOX.to_owned());
            vars.insert("GMAIL_CLIENT_ID", OAUTH_CLIENT_ID.to_owned());
            vars.insert("GMAIL_CLIENT_SECRET", OAUTH_CLIENT_SECRET.to_owned());
            vars.insert("GMAIL_REFRESH_TOKEN", OAUTH_REFRESH_TOKEN.to_owned());
            vars.insert("GMAIL_PUBSUB_TOPIC", PUBSUB_TOPIC.to_owned());
            vars.insert("GMAIL_PUBSUB_JWKS_URL", jwks.url());
            vars.insert("GMAIL_PUBSUB_AUDIENCE", PUSH_AUDIENCE.to_owned());
            vars.insert(
                "GMAIL_PUBSUB_SERVICE_ACCOUNT",
                PUSH_SERVICE_ACCOUNT.to_owned(),
            );
            (Some(Arc::new(fake)), Some(jwks))
        } else {
            (None, None)
        };
        let twilio = if twilio {
            let fake = FakeTwilio::start(TWILIO_SID, TWILIO_TOKEN)
                .await
                .context("Failed to start the fake Twilio API")?;
            vars.insert("TWILIO_API_BASE_URL", fake.base_url());
            vars.insert("TWILIO_ACCOUNT_SID", TWILIO_SID.to_owned());
            vars.insert("TWILIO_AUTH_TOKEN", TWILIO_TOKEN.to_owned());
            vars.insert("TWILIO_WHATSAPP_NUMBER", WHATSAPP_NUMBER.to_owned());
            Some(Arc::new(fake))
        } else {
            None
        };
        Ok(Self {
            gmail,
            twilio,
            _jwks: jwks,
            vars,
        })
    }

    /// The fakes' variables.
    pub fn vars(&self) -> &BTreeMap<&'static str, String> {
        &self.vars
    }

    /// `base` with the fakes' variables laid over it.
    pub fn overlay<'a>(&'a self, base: Lookup<'a>) -> Lookup<'a> {
        Lookup::from_fn(move |key| self.vars.get(key).cloned().or_else(|| base.get(key)))
    }

    /// Each channel's delivery: `fake` for the faked providers, else as
    /// configured.
    pub fn delivery(&self, configured: ChannelDelivery) -> ChannelDelivery {
        ChannelDelivery {
            email: if self.gmail.is_some() {
                Delivery::Fake
            } else {
                configured.email
            },
            whatsapp: if self.twilio.is_some() {
                Delivery::Fake
            } else {
                configured.whatsapp
            },
            web_form: configured.web_form,
        }
    }

    /// What the fakes received, for `/dev/outbox`.
    pub fn outbox(&self) -> Arc<dyn OutboundLog> {
        Arc::new(FakesOutbox {
            gmail: self.gmail.clone(),
            twilio: self.twilio.clone(),
        })
    }

    /// Writes the variables to `path` for `fte simulate`.
    pub fn write_file(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("Failed to create {}", dir.display()))?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&self.vars)?)
            .with_context(|| format!("Failed to write {}", path.display()))
    }
}

/// The variables of the fakes a running `fte run` wrote, if any.
pub fn read_file(path: &Path) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// [`OutboundLog`] over the fake Gmail's sent mail and the fake Twilio's
/// messages.
pub struct FakesOutbox {
    gmail: Option<Arc<FakeGmail>>,
    twilio: Option<Arc<FakeTwilio>>,
}

impl OutboundLog for FakesOutbox {
    fn records(&self) -> Vec<OutboundRecord> {
        let mut records: Vec<OutboundRecord> = Vec::new();
        if let Some(gmail) = &self.gmail {
            records.extend(gmail.sent().into_iter().map(|m| OutboundRecord {
                channel: "email".into(),
                provider_id: m.id.clone(),
                to: m.header("To").unwrap_or_default(),
                subject: m.header("Subject"),
                body: m.body_text(),
                received_at: chrono::DateTime::from_timestamp_millis(m.internal_date),
            }));
        }
        if let Some(twilio) = &self.twilio {
            records.extend(twilio.sent().into_iter().map(|m| OutboundRecord {
                channel: "whatsapp".into(),
                provider_id: m.sid,
                to: m.to,
                subject: None,
                body: m.body.unwrap_or_else(|| {
                    format!(
                        "(template {} {})",
                        m.content_sid.unwrap_or_default(),
                        m.content_variables.unwrap_or_default()
                    )
                }),
                received_at: Some(m.date_created),
            }));
        }
        records.sort_by_key(|r| r.received_at);
        records
    }
}

#[cfg(test)]
mod tests;
