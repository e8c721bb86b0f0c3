//! Settings of the three customer channels: Gmail (API, OAuth and Pub/Sub
//! push verification), Twilio WhatsApp, and how web form replies notify the
//! customer. Which channels run, and the production rule that an enabled
//! channel is fully configured, live in `enabled.rs`
//! ([`super::ChannelSettings`]).

use secrecy::SecretString;

use fte_domain::Channel;

use super::enabled::EnabledChannels;
use super::lookup::{Lookup, Profile, SettingsError};

/// Gmail REST API base URL.
pub const DEFAULT_GMAIL_API_BASE_URL: &str = "https://gmail.googleapis.com";
/// Google's OAuth 2.0 token endpoint.
pub const DEFAULT_GMAIL_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's signing keys for the OIDC tokens that Pub/Sub push attaches.
pub const DEFAULT_GMAIL_PUBSUB_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// Twilio REST API base URL.
pub const DEFAULT_TWILIO_API_BASE_URL: &str = "https://api.twilio.com";
/// How long one provider call may take, in milliseconds.
pub const DEFAULT_PROVIDER_TIMEOUT_MS: u64 = 10_000;
/// Consecutive provider failures that open a channel's circuit breaker.
pub const DEFAULT_CIRCUIT_BREAKER_THRESHOLD: u32 = 5;
/// How long an open circuit breaker waits before letting one probe through.
pub const DEFAULT_CIRCUIT_BREAKER_COOLDOWN_SECS: u64 = 30;

/// Call limits shared by every provider client, read from the same variables.
fn provider_limits(lookup: &Lookup<'_>) -> Result<(u64, u32, u64), SettingsError> {
    let timeout_ms = lookup.parsed_or("PROVIDER_TIMEOUT_MS", DEFAULT_PROVIDER_TIMEOUT_MS)?;
    if timeout_ms == 0 {
        return Err(SettingsError::Invalid {
            var: "PROVIDER_TIMEOUT_MS",
            reason: "must be at least 1".into(),
        });
    }
    let threshold = lookup.parsed_or(
        "CIRCUIT_BREAKER_THRESHOLD",
        DEFAULT_CIRCUIT_BREAKER_THRESHOLD,
    )?;
    if threshold == 0 {
        return Err(SettingsError::Invalid {
            var: "CIRCUIT_BREAKER_THRESHOLD",
            reason: "must be at least 1".into(),
        });
    }
    let cooldown = lookup.parsed_or(
        "CIRCUIT_BREAKER_COOLDOWN_SECS",
        DEFAULT_CIRCUIT_BREAKER_COOLDOWN_SECS,
    )?;
    Ok((timeout_ms, threshold, cooldown))
}

fn url_or(lookup: &Lookup<'_>, var: &'static str, default: &str) -> Result<String, SettingsError> {
    let url = lookup.get(var).unwrap_or_else(|| default.to_owned());
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(SettingsError::Invalid {
            var,
            reason: "must start with http:// or https://".into(),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Gmail channel settings.
#[derive(Clone, Debug)]
pub struct GmailSettings {
    /// Whether `CHANNELS_ENABLED` lists `email` (all channels when unset).
    pub enabled: bool,
    /// `GMAIL_API_BASE_URL` (`https://gmail.googleapis.com`).
    pub api_base_url: String,
    /// `GMAIL_TOKEN_URL` (`https://oauth2.googleapis.com/token`).
    pub token_url: String,
    /// `GMAIL_MAILBOX`: the support address the agent reads and sends as.
    pub mailbox: Option<String>,
    /// `GMAIL_SERVICE_ACCOUNT_JSON` (secret): a service account key with
    /// domain-wide delegation, inline JSON or a path to the JSON file.
    pub service_account_json: Option<SecretString>,
    /// `GMAIL_CLIENT_ID`: OAuth client for the refresh-token flow.
    pub client_id: Option<String>,
    /// `GMAIL_CLIENT_SECRET` (secret).
    pub client_secret: Option<SecretString>,
    /// `GMAIL_REFRESH_TOKEN` (secret).
    pub refresh_token: Option<SecretString>,
    /// `GMAIL_PUBSUB_TOPIC`: `projects/<p>/topics/<t>` that `users.watch` publishes to.
    pub pubsub_topic: Option<String>,
    /// `GMAIL_PUBSUB_AUDIENCE`: the audience configured on the push
    /// subscription; enables OIDC verification of push requests.
    pub pubsub_audience: Option<String>,
    /// `GMAIL_PUBSUB_SERVICE_ACCOUNT`: the service account whose identity
    /// Pub/Sub push tokens must carry (`email` claim).
    pub pubsub_service_account: Option<String>,
    /// `GMAIL_PUBSUB_JWKS_URL` (`https://www.googleapis.com/oauth2/v3/certs`).
    pub pubsub_jwks_url: String,
    /// `GMAIL_PUBSUB_PUSH_TOKEN` (secret): the `?token=` secret in the push
    /// URL, the alternative to OIDC.
    pub pubsub_push_token: Option<SecretString>,
    /// `PROVIDER_TIMEOUT_MS` (10000).
    pub timeout_ms: u64,
    /// `CIRCUIT_BREAKER_THRESHOLD` (5).
    pub breaker_threshold: u32,
    /// `CIRCUIT_BREAKER_COOLDOWN_SECS` (30).
    pub breaker_cooldown_secs: u64,
}

impl GmailSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let lookup = Lookup::env();
        Self::from_lookup(&lookup, Profile::from_lookup(&lookup)?)
    }

    /// Reads the settings from `lookup`. Whether an enabled channel is
    /// complete enough for production is [`super::ChannelSettings`]'s check.
    pub fn from_lookup(lookup: &Lookup<'_>, _profile: Profile) -> Result<Self, SettingsError> {
        let (timeout_ms, breaker_threshold, breaker_cooldown_secs) = provider_limits(lookup)?;
        let client_id = lookup.get("GMAIL_CLIENT_ID");
        let client_secret = lookup.get("GMAIL_CLIENT_SECRET");
        let refresh_token = lookup.get("GMAIL_REFRESH_TOKEN");
        let oauth_parts = [
            ("GMAIL_CLIENT_ID", client_id.is_some()),
            ("GMAIL_CLIENT_SECRET", client_secret.is_some()),
            ("GMAIL_REFRESH_TOKEN", refresh_token.is_some()),
        ];
        if oauth_parts.iter().any(|(_, set)| *set)
            && let Some((var, _)) = oauth_parts.iter().find(|(_, set)| !*set)
        {
            return Err(SettingsError::Missing {
                var,
                hint: "the refresh-token flow needs GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET and GMAIL_REFRESH_TOKEN together",
            });
        }
        let settings = Self {
            enabled: EnabledChannels::from_lookup(lookup)?.contains(Channel::Email),
            api_base_url: url_or(lookup, "GMAIL_API_BASE_URL", DEFAULT_GMAIL_API_BASE_URL)?,
            token_url: url_or(lookup, "GMAIL_TOKEN_URL", DEFAULT_GMAIL_TOKEN_URL)?,
            mailbox: lookup.get("GMAIL_MAILBOX"),
            service_account_json: lookup
                .get("GMAIL_SERVICE_ACCOUNT_JSON")
                .map(SecretString::from),
            client_id,
            client_secret: client_secret.map(SecretString::from),
            refresh_token: refresh_token.map(SecretString::from),
            pubsub_topic: lookup.get("GMAIL_PUBSUB_TOPIC"),
            pubsub_audience: lookup.get("GMAIL_PUBSUB_AUDIENCE"),
            pubsub_service_account: lookup.get("GMAIL_PUBSUB_SERVICE_ACCOUNT"),
            pubsub_jwks_url: url_or(
                lookup,
                "GMAIL_PUBSUB_JWKS_URL",
                DEFAULT_GMAIL_PUBSUB_JWKS_URL,
            )?,
            pubsub_push_token: lookup
                .get("GMAIL_PUBSUB_PUSH_TOKEN")
                .map(SecretString::from),
            timeout_ms,
            breaker_threshold,
            breaker_cooldown_secs,
        };
        if settings.has_credentials() && settings.mailbox.is_none() {
            return Err(SettingsError::Missing {
                var: "GMAIL_MAILBOX",
                hint: "the support mailbox address the Gmail credentials act for",
            });
        }
        Ok(settings)
    }

    /// Whether service-account or refresh-token credentials are present.
    pub fn has_credentials(&self) -> bool {
        self.service_account_json.is_some() || self.refresh_token.is_some()
    }

    /// Whether the channel should run: enabled, with credentials and a mailbox.
    pub fn is_configured(&self) -> bool {
        self.enabled && self.has_credentials() && self.mailbox.is_some()
    }
}

/// Twilio WhatsApp channel settings.
#[derive(Clone, Debug)]
pub struct TwilioSettings {
    /// Whether `CHANNELS_ENABLED` lists `whatsapp` (all channels when unset).
    pub enabled: bool,
    /// `TWILIO_API_BASE_URL` (`https://api.twilio.com`).
    pub api_base_url: String,
    /// `TWILIO_ACCOUNT_SID`.
    pub account_sid: Option<String>,
    /// `TWILIO_AUTH_TOKEN` (secret): API password and webhook signing key.
    pub auth_token: Option<SecretString>,
    /// `TWILIO_WHATSAPP_NUMBER`: the sender number in E.164 (`+14155238886`).
    pub whatsapp_number: Option<String>,
    /// `TWILIO_TEMPLATE_CONTENT_SID`: the approved template (`HX…`) sent
    /// outside the 24-hour session window.
    pub template_content_sid: Option<String>,
    /// `PROVIDER_TIMEOUT_MS` (10000).
    pub timeout_ms: u64,
    /// `CIRCUIT_BREAKER_THRESHOLD` (5).
    pub breaker_threshold: u32,
    /// `CIRCUIT_BREAKER_COOLDOWN_SECS` (30).
    pub breaker_cooldown_secs: u64,
}

impl TwilioSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let lookup = Lookup::env();
        Self::from_lookup(&lookup, Profile::from_lookup(&lookup)?)
    }

    /// Reads the settings from `lookup`. Production refuses a half-configured
    /// account (an SID without the token that verifies webhooks).
    pub fn from_lookup(lookup: &Lookup<'_>, profile: Profile) -> Result<Self, SettingsError> {
        let (timeout_ms, breaker_threshold, breaker_cooldown_secs) = provider_limits(lookup)?;
        let account_sid = lookup.get("TWILIO_ACCOUNT_SID");
        let auth_token = lookup.get("TWILIO_AUTH_TOKEN").map(SecretString::from);
        let whatsapp_number = lookup.get("TWILIO_WHATSAPP_NUMBER");
        if account_sid.is_some() && auth_token.is_none() {
            return Err(SettingsError::Missing {
                var: "TWILIO_AUTH_TOKEN",
                hint: "the account's auth token (API password and webhook signing key)",
            });
        }
        if account_sid.is_some() && whatsapp_number.is_none() {
            return Err(SettingsError::Missing {
                var: "TWILIO_WHATSAPP_NUMBER",
                hint: "the WhatsApp sender number in E.164 form, e.g. +14155238886",
            });
        }
        if profile.is_production() && auth_token.is_some() && account_sid.is_none() {
            return Err(SettingsError::Missing {
                var: "TWILIO_ACCOUNT_SID",
                hint: "the account SID (AC…) that owns the WhatsApp sender",
            });
        }
        Ok(Self {
            enabled: EnabledChannels::from_lookup(lookup)?.contains(Channel::Whatsapp),
            api_base_url: url_or(lookup, "TWILIO_API_BASE_URL", DEFAULT_TWILIO_API_BASE_URL)?,
            account_sid,
            auth_token,
            whatsapp_number,
            template_content_sid: lookup.get("TWILIO_TEMPLATE_CONTENT_SID"),
            timeout_ms,
            breaker_threshold,
            breaker_cooldown_secs,
        })
    }

    /// Whether the channel should run: enabled and fully credentialed.
    pub fn is_configured(&self) -> bool {
        self.enabled
            && self.account_sid.is_some()
            && self.auth_token.is_some()
            && self.whatsapp_number.is_some()
    }
}

/// How the customer learns that a web form reply is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebReplyNotify {
    /// An email through the Gmail channel.
    Gmail,
    /// An email through an SMTP relay (`SMTP_URL`).
    Smtp,
    /// No email: the reply is only on the ticket status page.
    None,
}

/// Web form reply notification settings.
#[derive(Clone, Debug)]
pub struct WebReplySettings {
    /// `WEB_REPLY_NOTIFY` (`gmail`): `gmail`, `smtp` or `none`.
    pub notify: WebReplyNotify,
    /// `SMTP_URL` (secret, may hold a password), e.g.
    /// `smtps://user:pass@smtp.example.com:465`; required for `smtp`.
    pub smtp_url: Option<SecretString>,
    /// `SMTP_FROM`: the From address of SMTP notifications; required for `smtp`.
    pub smtp_from: Option<String>,
    /// `PROVIDER_TIMEOUT_MS` (10000).
    pub timeout_ms: u64,
}

impl WebReplySettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let notify = match lookup
            .get("WEB_REPLY_NOTIFY")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("gmail") => WebReplyNotify::Gmail,
            Some("smtp") => WebReplyNotify::Smtp,
            Some("none") => WebReplyNotify::None,
            Some(_) => {
                return Err(SettingsError::Invalid {
                    var: "WEB_REPLY_NOTIFY",
                    reason: "expected gmail, smtp or none".into(),
                });
            }
        };
        let smtp_url = lookup.get("SMTP_URL");
        let smtp_from = lookup.get("SMTP_FROM");
        if notify == WebReplyNotify::Smtp {
            if smtp_url.is_none() {
                return Err(SettingsError::Missing {
                    var: "SMTP_URL",
                    hint: "WEB_REPLY_NOTIFY=smtp needs an SMTP relay URL (smtp:// or smtps://)",
                });
            }
            if smtp_from.is_none() {
                return Err(SettingsError::Missing {
                    var: "SMTP_FROM",
                    hint: "WEB_REPLY_NOTIFY=smtp needs the From address of notifications",
                });
            }
        }
        let (timeout_ms, _, _) = provider_limits(lookup)?;
        Ok(Self {
            notify,
            smtp_url: smtp_url.map(SecretString::from),
            smtp_from,
            timeout_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn channels_without_credentials_are_not_configured() {
        let gmail = GmailSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        let twilio = TwilioSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert!(!gmail.is_configured());
        assert!(!twilio.is_configured());
        assert_eq!(gmail.api_base_url, DEFAULT_GMAIL_API_BASE_URL);
        assert_eq!(twilio.timeout_ms, DEFAULT_PROVIDER_TIMEOUT_MS);
        assert_eq!(twilio.breaker_threshold, DEFAULT_CIRCUIT_BREAKER_THRESHOLD);
    }

    #[test]
    fn partial_refresh_token_credentials_name_the_missing_variable() {
        let err = GmailSettings::from_lookup(
            &lookup(&[("GMAIL_CLIENT_ID", "id"), ("GMAIL_REFRESH_TOKEN", "r")]),
            Profile::Dev,
        )
        .unwrap_err();
        assert!(err.to_string().contains("GMAIL_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn a_channel_left_out_of_channels_enabled_is_not_configured() {
        let vars = [
            ("GMAIL_MAILBOX", "support@orbitlabs.example"),
            ("GMAIL_SERVICE_ACCOUNT_JSON", "{}"),
        ];
        assert!(
            GmailSettings::from_lookup(&lookup(&vars), Profile::Dev)
                .unwrap()
                .is_configured()
        );
        let mut off = vars.to_vec();
        off.push(("CHANNELS_ENABLED", "whatsapp,web_form"));
        assert!(
            !GmailSettings::from_lookup(&lookup(&off), Profile::Dev)
                .unwrap()
                .is_configured()
        );
    }

    #[test]
    fn twilio_sid_without_token_is_refused() {
        let err =
            TwilioSettings::from_lookup(&lookup(&[("TWILIO_ACCOUNT_SID", "AC1")]), Profile::Dev)
                .unwrap_err();
        assert!(err.to_string().contains("TWILIO_AUTH_TOKEN"), "{err}");
    }

    #[test]
    fn web_reply_smtp_needs_a_url_and_unknown_modes_are_refused() {
        let err =
            WebReplySettings::from_lookup(&lookup(&[("WEB_REPLY_NOTIFY", "smtp")])).unwrap_err();
        assert!(err.to_string().contains("SMTP_URL"), "{err}");
        let err =
            WebReplySettings::from_lookup(&lookup(&[("WEB_REPLY_NOTIFY", "fax")])).unwrap_err();
        assert!(err.to_string().contains("WEB_REPLY_NOTIFY"), "{err}");
        let s = WebReplySettings::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(s.notify, WebReplyNotify::Gmail);
    }

    #[test]
    fn zero_timeouts_are_refused() {
        let err =
            TwilioSettings::from_lookup(&lookup(&[("PROVIDER_TIMEOUT_MS", "0")]), Profile::Dev)
                .unwrap_err();
        assert!(err.to_string().contains("PROVIDER_TIMEOUT_MS"), "{err}");
    }
}
