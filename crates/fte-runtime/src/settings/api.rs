use secrecy::SecretString;

use super::lookup::{Lookup, Profile, SettingsError};
use super::staff::{StaffKey, parse_staff_keys};

/// The shortest `WEB_IDENTITY_SECRET` accepted (bytes): shorter secrets
/// could be guessed from tokens.
pub const MIN_WEB_IDENTITY_SECRET_LEN: usize = 16;

/// The gateway's listening port.
pub const DEFAULT_API_PORT: u16 = 8000;
/// Largest request body the gateway reads, in bytes (64 KiB).
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 64 * 1024;
/// How long one request may take before the gateway answers 503.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// How long Kafka may be away before the gateway's `/health` and `/ready`
/// fail: until then the gateway accepts through its event outbox and
/// reports `degraded`, so a broker blip is not downtime.
pub const DEFAULT_KAFKA_OUTAGE_GRACE_SECS: u64 = 30;
/// Web form submissions one client IP may make per minute.
pub const DEFAULT_SUBMIT_RATE_LIMIT_PER_MINUTE: u32 = 30;
/// Webhook calls one client IP may make per minute (providers send from few
/// addresses, so this is generous).
pub const DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE: u32 = 600;
/// Staff API requests one client IP may make per minute (wrong keys count
/// too, so a key cannot be guessed quickly).
pub const DEFAULT_STAFF_RATE_LIMIT_PER_MINUTE: u32 = 120;
/// Ticket status reads (`GET /support/ticket/{id}`) one client IP may make
/// per minute (the status page polls every few seconds).
pub const DEFAULT_STATUS_RATE_LIMIT_PER_MINUTE: u32 = 60;
/// Where the built web form lives, relative to the working directory.
pub const DEFAULT_WEB_FORM_DIST_DIR: &str = "web-form/dist";

/// HTTP gateway settings.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// `API_HOST` (127.0.0.1 in dev, 0.0.0.0 in production).
    pub host: String,
    /// `API_PORT` (8000).
    pub port: u16,
    /// `PUBLIC_BASE_URL`: the URL the outside world uses to reach the gateway
    /// (webhook signatures are computed against it, never against the Host
    /// header); defaults to `http://<host>:<port>` in dev.
    pub public_base_url: String,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins allowed to call the web
    /// form endpoints from a browser.
    pub cors_allowed_origins: Vec<String>,
    /// `STAFF_API_KEYS` (`name:sha256hex`, comma-separated) and the older
    /// `STAFF_API_KEY_HASHES` (bare digests): the staff API keys and their
    /// owners; at least one is required in production. Only digests are
    /// configured, so the keys themselves never sit in the environment.
    pub staff_keys: Vec<StaffKey>,
    /// `TRUST_PROXY` (false): take the client address from the last
    /// `X-Forwarded-For` entry (the one our own proxy appended).
    pub trust_proxy: bool,
    /// `SUBMIT_RATE_LIMIT_PER_MINUTE` (30) per client IP.
    pub submit_rate_limit_per_minute: u32,
    /// `WEBHOOK_RATE_LIMIT_PER_MINUTE` (600) per client IP.
    pub webhook_rate_limit_per_minute: u32,
    /// `STAFF_RATE_LIMIT_PER_MINUTE` (120) per client IP, over every staff
    /// endpoint.
    pub staff_rate_limit_per_minute: u32,
    /// `STATUS_RATE_LIMIT_PER_MINUTE` (60) per client IP, for the public
    /// ticket status page.
    pub status_rate_limit_per_minute: u32,
    /// `API_BODY_LIMIT_BYTES` (65536).
    pub body_limit_bytes: usize,
    /// `API_REQUEST_TIMEOUT_MS` (10000).
    pub request_timeout_ms: u64,
    /// `HEALTH_KAFKA_OUTAGE_GRACE_SECS` (30): how long Kafka may be away
    /// while `/health` answers 200 `degraded` and `/ready` stays ready (the
    /// event outbox holds what arrives); 0 fails them at once.
    pub kafka_outage_grace_secs: u64,
    /// `WEB_FORM_DIST_DIR` (`web-form/dist`): the built embeddable form.
    pub web_form_dist_dir: std::path::PathBuf,
    /// `WEB_IDENTITY_SECRET` (unset): the secret shared with the site that
    /// embeds the web form; its `identity_token` (hex HMAC-SHA256 of the
    /// lower-cased email) proves the submitter owns the email. Unset: every
    /// web form email is a claim, and a submission carrying a token is
    /// refused (403) rather than silently treated as one.
    pub web_identity_secret: Option<SecretString>,
}

fn at_least_one<T: PartialOrd + From<u8>>(var: &'static str, value: T) -> Result<T, SettingsError> {
    if value < T::from(1) {
        return Err(SettingsError::Invalid {
            var,
            reason: "must be at least 1".into(),
        });
    }
    Ok(value)
}

impl ApiSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let lookup = Lookup::env();
        Self::from_lookup(&lookup, Profile::from_lookup(&lookup)?)
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>, profile: Profile) -> Result<Self, SettingsError> {
        let default_host = if profile.is_production() {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        };
        let host = lookup
            .get("API_HOST")
            .unwrap_or_else(|| default_host.into());
        let port = lookup.parsed_or("API_PORT", DEFAULT_API_PORT)?;
        let public_base_url = match lookup.get("PUBLIC_BASE_URL") {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if profile.is_production() => {
                return Err(SettingsError::Missing {
                    var: "PUBLIC_BASE_URL",
                    hint: "the public https URL of the gateway, used to verify webhook signatures",
                });
            }
            None => format!("http://{host}:{port}"),
        };
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(SettingsError::Invalid {
                var: "PUBLIC_BASE_URL",
                reason: "must start with http:// or https://".into(),
            });
        }
        let staff_keys = parse_staff_keys(
            &lookup.list("STAFF_API_KEYS"),
            &lookup.list("STAFF_API_KEY_HASHES"),
        )?;
        if profile.is_production() && staff_keys.is_empty() {
            return Err(SettingsError::Missing {
                var: "STAFF_API_KEYS",
                hint: "production needs at least one named staff key, name:sha256hex \
                       (printf %s \"$KEY\" | sha256sum); see docs/secrets.md",
            });
        }
        let web_identity_secret = lookup.get("WEB_IDENTITY_SECRET");
        if web_identity_secret
            .as_ref()
            .is_some_and(|secret| secret.len() < MIN_WEB_IDENTITY_SECRET_LEN)
        {
            return Err(SettingsError::Invalid {
                var: "WEB_IDENTITY_SECRET",
                reason: format!("must be at least {MIN_WEB_IDENTITY_SECRET_LEN} bytes"),
            });
        }
        Ok(Self {
            host,
            port,
            public_base_url,
            cors_allowed_origins: lookup.list("CORS_ALLOWED_ORIGINS"),
            staff_keys,
            trust_proxy: lookup.flag_or("TRUST_PROXY", false)?,
            submit_rate_limit_per_minute: at_least_one(
                "SUBMIT_RATE_LIMIT_PER_MINUTE",
                lookup.parsed_or(
                    "SUBMIT_RATE_LIMIT_PER_MINUTE",
                    DEFAULT_SUBMIT_RATE_LIMIT_PER_MINUTE,
                )?,
            )?,
            webhook_rate_limit_per_minute: at_least_one(
                "WEBHOOK_RATE_LIMIT_PER_MINUTE",
                lookup.parsed_or(
                    "WEBHOOK_RATE_LIMIT_PER_MINUTE",
                    DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE,
                )?,
            )?,
            staff_rate_limit_per_minute: at_least_one(
                "STAFF_RATE_LIMIT_PER_MINUTE",
                lookup.parsed_or(
                    "STAFF_RATE_LIMIT_PER_MINUTE",
                    DEFAULT_STAFF_RATE_LIMIT_PER_MINUTE,
                )?,
            )?,
            status_rate_limit_per_minute: at_least_one(
                "STATUS_RATE_LIMIT_PER_MINUTE",
                lookup.parsed_or(
                    "STATUS_RATE_LIMIT_PER_MINUTE",
                    DEFAULT_STATUS_RATE_LIMIT_PER_MINUTE,
                )?,
            )?,
            body_limit_bytes: at_least_one(
                "API_BODY_LIMIT_BYTES",
                lookup.parsed_or("API_BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT_BYTES)?,
            )?,
            request_timeout_ms: at_least_one(
                "API_REQUEST_TIMEOUT_MS",
                lookup.parsed_or("API_REQUEST_TIMEOUT_MS", DEFAULT_REQUEST_TIMEOUT_MS)?,
            )?,
            kafka_outage_grace_secs: lookup.parsed_or(
                "HEALTH_KAFKA_OUTAGE_GRACE_SECS",
                DEFAULT_KAFKA_OUTAGE_GRACE_SECS,
            )?,
            web_form_dist_dir: lookup
                .get("WEB_FORM_DIST_DIR")
                .unwrap_or_else(|| DEFAULT_WEB_FORM_DIST_DIR.into())
                .into(),
            web_identity_secret: web_identity_secret.map(SecretString::from),
        })
    }

    /// `host:port` for binding.
    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn dev_defaults_bind_loopback() {
        let s = ApiSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert_eq!(s.bind_address(), "127.0.0.1:8000");
        assert_eq!(s.public_base_url, "http://127.0.0.1:8000");
    }

    #[test]
    fn named_staff_keys_and_older_bare_digests_are_both_read() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let s = ApiSettings::from_lookup(
            &lookup(&[
                ("STAFF_API_KEYS", &format!("ana:{a}, ops-bot:{b}")),
                ("STAFF_API_KEY_HASHES", &"c".repeat(64)),
            ]),
            Profile::Dev,
        )
        .unwrap();
        let names: Vec<&str> = s.staff_keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["ana", "ops-bot", "key-cccccccc"]);
        let err =
            ApiSettings::from_lookup(&lookup(&[("STAFF_API_KEY_HASHES", "abc")]), Profile::Dev)
                .unwrap_err();
        assert!(err.to_string().contains("STAFF_API_KEY_HASHES"), "{err}");
    }

    #[test]
    fn production_requires_staff_keys() {
        let err = ApiSettings::from_lookup(
            &lookup(&[("PUBLIC_BASE_URL", "https://support.example")]),
            Profile::Production,
        )
        .unwrap_err();
        assert!(err.to_string().contains("STAFF_API_KEYS"), "{err}");
    }

    #[test]
    fn a_short_identity_secret_is_refused() {
        let err =
            ApiSettings::from_lookup(&lookup(&[("WEB_IDENTITY_SECRET", "short")]), Profile::Dev)
                .unwrap_err();
        assert!(err.to_string().contains("WEB_IDENTITY_SECRET"), "{err}");
        let ok = ApiSettings::from_lookup(
            &lookup(&[("WEB_IDENTITY_SECRET", "a-long-enough-secret")]),
            Profile::Dev,
        )
        .unwrap();
        assert!(ok.web_identity_secret.is_some());
    }

    #[test]
    fn production_requires_a_public_url() {
        let err = ApiSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap_err();
        assert!(err.to_string().contains("PUBLIC_BASE_URL"), "{err}");
    }
}
