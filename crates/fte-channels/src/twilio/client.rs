//! Sending WhatsApp replies through Twilio's Messages API, and reconciling
//! after an unknown outcome.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fte_domain::{Channel, PhoneNumber};
use fte_runtime::settings::TwilioSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::http::{self, Idempotency, RetryPolicy};
use crate::{OutboundReply, Recipient, ReplySender, SendError, SendReceipt};

/// Twilio refuses bodies longer than this many characters.
pub const MAX_BODY_CHARS: usize = 1600;
/// WhatsApp's customer-service window: free text is allowed only this long
/// after the customer's last message.
pub const SESSION_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Twilio account and sender configuration.
#[derive(Clone, Debug)]
pub struct TwilioConfig {
    /// API base URL (`https://api.twilio.com`, or a fake's URL in tests).
    pub api_base_url: String,
    /// Account SID (`AC…`).
    pub account_sid: String,
    /// Auth token: the API password.
    pub auth_token: SecretString,
    /// The WhatsApp sender number.
    pub whatsapp_number: PhoneNumber,
    /// The approved template sent outside the session window (`HX…`).
    pub template_content_sid: Option<String>,
    /// Timeout of every call.
    pub timeout: Duration,
}

/// Why a [`TwilioConfig`] could not be built from settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwilioConfigError {
    /// The channel is switched off or has no credentials.
    #[error(
        "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER)"
    )]
    NotConfigured,
    /// `TWILIO_WHATSAPP_NUMBER` is not an E.164 number.
    #[error("TWILIO_WHATSAPP_NUMBER is not a valid E.164 number")]
    InvalidNumber,
}

impl TwilioConfig {
    /// The configuration from settings; `NotConfigured` means the channel is disabled.
    pub fn from_settings(settings: &TwilioSettings) -> Result<Self, TwilioConfigError> {
        if !settings.is_configured() {
            return Err(TwilioConfigError::NotConfigured);
        }
        let (Some(sid), Some(token), Some(number)) = (
            &settings.account_sid,
            &settings.auth_token,
            &settings.whatsapp_number,
        ) else {
            return Err(TwilioConfigError::NotConfigured);
        };
        Ok(Self {
            api_base_url: settings.api_base_url.clone(),
            account_sid: sid.clone(),
            auth_token: token.clone(),
            whatsapp_number: PhoneNumber::parse(number)
                .map_err(|_| TwilioConfigError::InvalidNumber)?,
            template_content_sid: settings.template_content_sid.clone(),
            timeout: Duration::from_millis(settings.timeout_ms),
        })
    }
}

/// The WhatsApp [`ReplySender`].
pub struct TwilioSender {
    config: TwilioConfig,
    http: reqwest::Client,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct CreatedMessage {
    sid: String,
}

#[derive(Deserialize)]
struct TwilioErrorBody {
    code: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<ListedMessage>,
}

#[derive(Deserialize)]
struct ListedMessage {
    sid: String,
    #[serde(default)]
    body: Option<String>,
}

impl TwilioSender {
    /// A sender for `config`.
    pub fn new(config: TwilioConfig) -> Self {
        let http = http::client(config.timeout);
        Self {
            config,
            http,
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy of idempotent calls (tests shorten it).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.api_base_url.trim_end_matches('/'),
            self.config.account_sid
        )
    }

    /// Whether the session window is closed for a customer who last wrote at
    /// `last_inbound_at` (unknown counts as closed: free text would fail).
    pub fn needs_template(last_inbound_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        last_inbound_at.is_none_or(|at| now - at >= SESSION_WINDOW)
    }

    fn recipient(reply: &OutboundReply) -> Result<&PhoneNumber, SendError> {
        match &reply.to {
            Recipient::Phone(phone) => Ok(phone),
            Recipient::Email(_) => Err(SendError::Permanent {
                reason: "WhatsApp reply addressed to an email".into(),
            }),
        }
    }

    async fn create(&self, form: &[(&str, String)]) -> Result<String, SendError> {
        let response = self
            .http
            .post(self.messages_url())
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose_secret()),
            )
            .form(form)
            .send()
            .await
            .map_err(|e| http::classify_transport(&e, Idempotency::NotIdempotent))?;
        let status = response.status();
        if status.is_success() {
            let created: CreatedMessage =
                response.json().await.map_err(|_| SendError::Unknown {
                    reason: "unreadable response to a send".into(),
                })?;
            return Ok(created.sid);
        }
        let retry_after = http::retry_after(&response);
        let code = response
            .json::<TwilioErrorBody>()
            .await
            .ok()
            .and_then(|b| b.code)
            .map(|c| c.to_string());
        Err(http::classify_status(status, retry_after, code.as_deref()))
    }
}

#[async_trait]
impl ReplySender for TwilioSender {
    fn channel(&self) -> Channel {
        Channel::Whatsapp
    }

    async fn send(&self, reply: &OutboundReply) -> Result<SendReceipt, SendError> {
        let to = Self::recipient(reply)?.as_whatsapp_address();
        let from = self.config.whatsapp_number.as_whatsapp_address();
        if reply.parts.is_empty() {
            return Err(SendError::Permanent {
                reason: "reply has no parts".into(),
            });
        }
        if Self::needs_template(reply.last_inbound_at, Utc::now()) {
            let Some(content_sid) = &self.config.template_content_sid else {
                return Err(SendError::Permanent {
                    reason: "session window closed and TWILIO_TEMPLATE_CONTENT_SID is not set"
                        .into(),
                });
            };
            let variables = json!({
                "1": reply.ticket_reference.as_deref().unwrap_or("your support request"),
            });
            let form = [
                ("From", from),
                ("To", to),
                ("ContentSid", content_sid.clone()),
                ("ContentVariables", variables.to_string()),
            ];
            let sid = self.create(&form).await?;
            return Ok(SendReceipt {
                provider_message_ids: vec![sid],
                used_template: true,
            });
        }
        if let Some(index) = reply
            .parts
            .iter()
            .position(|p| p.chars().count() > MAX_BODY_CHARS || p.trim().is_empty())
        {
            return Err(SendError::Permanent {
                reason: format!(
                    "part {} is empty or longer than {MAX_BODY_CHARS} characters",
                    index + 1
                ),
            });
        }
        let mut sids = Vec::with_capacity(reply.parts.len());
        for part in &reply.parts {
            let form = [
                ("From", from.clone()),
                ("To", to.clone()),
                ("Body", part.clone()),
            ];
            match self.create(&form).await {
                Ok(sid) => sids.push(sid),
                // Earlier parts already reached the customer: resending the
                // whole reply would repeat them, so the caller must reconcile.
                Err(e) if !sids.is_empty() => {
                    return Err(SendError::Unknown {
                        reason: format!(
                            "{} of {} parts sent, then: {e}",
                            sids.len(),
                            reply.parts.len()
                        ),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(SendReceipt {
            provider_message_ids: sids,
            used_template: false,
        })
    }

    /// Lists today's and yesterday's messages from our number to the
    /// customer and matches the parts' bodies. A template reply cannot be
    /// matched by body; any message to the customer since the window closed
    /// counts for it.
    async fn reconcile(&self, reply: &OutboundReply) -> Result<Option<SendReceipt>, SendError> {
        let to = Self::recipient(reply)?.as_whatsapp_address();
        let from = self.config.whatsapp_number.as_whatsapp_address();
        let since = (Utc::now() - chrono::TimeDelta::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let response = http::send_idempotent(self.retry, || {
            self.http
                .get(self.messages_url())
                .basic_auth(
                    &self.config.account_sid,
                    Some(self.config.auth_token.expose_secret()),
                )
                .query(&[
                    ("To", to.as_str()),
                    ("From", from.as_str()),
                    ("DateSent>", since.as_str()),
                    ("PageSize", "100"),
                ])
        })
        .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(http::classify_status(status, None, None));
        }
        let list: MessageList = response.json().await.map_err(|_| SendError::Transient {
            reason: "unreadable message list".into(),
            retry_after: None,
        })?;
        let template = Self::needs_template(reply.last_inbound_at, Utc::now());
        let mut found = Vec::new();
        if template {
            // Twilio lists newest first.
            if let Some(m) = list.messages.first() {
                found.push(m.sid.clone());
            }
        } else {
            for part in &reply.parts {
                let hit = list
                    .messages
                    .iter()
                    .find(|m| m.body.as_deref() == Some(part.as_str()) && !found.contains(&m.sid));
                if let Some(m) = hit {
                    found.push(m.sid.clone());
                }
            }
        }
        Ok((!found.is_empty()).then_some(SendReceipt {
            provider_message_ids: found,
            used_template: template,
        }))
    }
}
