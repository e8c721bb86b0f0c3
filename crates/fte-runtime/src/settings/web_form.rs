use secrecy::SecretString;

use super::lookup::{Lookup, SettingsError};

/// How long one siteverify call may take (three attempts and their backoff
/// stay well inside the gateway's 10 s request limit).
pub const DEFAULT_CHALLENGE_TIMEOUT_MS: u64 = 2_000;
/// Siteverify calls per submission, the first included.
pub const DEFAULT_CHALLENGE_MAX_ATTEMPTS: u32 = 3;

/// The bot challenge the web form shows before a submission is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeProvider {
    /// Cloudflare Turnstile.
    Turnstile,
    /// hCaptcha.
    Hcaptcha,
}

impl ChallengeProvider {
    /// The spelling in settings and in `GET /support/config`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChallengeProvider::Turnstile => "turnstile",
            ChallengeProvider::Hcaptcha => "hcaptcha",
        }
    }

    /// The provider's server-side verification endpoint.
    pub const fn default_verify_url(self) -> &'static str {
        match self {
            ChallengeProvider::Turnstile => {
                "https://challenges.cloudflare.com/turnstile/v0/siteverify"
            }
            ChallengeProvider::Hcaptcha => "https://api.hcaptcha.com/siteverify",
        }
    }

    /// The provider's browser script (explicit rendering).
    pub const fn default_script_url(self) -> &'static str {
        match self {
            ChallengeProvider::Turnstile => {
                "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit"
            }
            ChallengeProvider::Hcaptcha => "https://js.hcaptcha.com/1/api.js?render=explicit",
        }
    }
}

/// A configured challenge.
#[derive(Clone, Debug)]
pub struct ChallengeSettings {
    /// `WEB_CHALLENGE_PROVIDER`: `turnstile` or `hcaptcha`.
    pub provider: ChallengeProvider,
    /// `WEB_CHALLENGE_SITE_KEY`: the public site key the widget renders with.
    pub site_key: String,
    /// `WEB_CHALLENGE_SECRET` (secret): the key siteverify checks tokens with.
    pub secret: SecretString,
    /// `WEB_CHALLENGE_VERIFY_URL` (the provider's siteverify URL).
    pub verify_url: String,
    /// `WEB_CHALLENGE_SCRIPT_URL` (the provider's `api.js`, explicit render).
    pub script_url: String,
    /// `WEB_CHALLENGE_TIMEOUT_MS` (2000) per siteverify call.
    pub timeout_ms: u64,
    /// `WEB_CHALLENGE_MAX_ATTEMPTS` (3): siteverify calls per submission.
    pub max_attempts: u32,
}

/// The web form's own settings (the gateway side of the widget).
#[derive(Clone, Debug, Default)]
pub struct WebFormSettings {
    /// The challenge, or `None` (`WEB_CHALLENGE_PROVIDER` unset or `none`,
    /// the default): submissions are accepted without one.
    pub challenge: Option<ChallengeSettings>,
}

impl WebFormSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let provider = match lookup
            .get("WEB_CHALLENGE_PROVIDER")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("none") => return Ok(Self { challenge: None }),
            Some("turnstile") => ChallengeProvider::Turnstile,
            Some("hcaptcha") => ChallengeProvider::Hcaptcha,
            Some(_) => {
                return Err(SettingsError::Invalid {
                    var: "WEB_CHALLENGE_PROVIDER",
                    reason: "expected turnstile, hcaptcha or none".into(),
                });
            }
        };
        let site_key = lookup.required(
            "WEB_CHALLENGE_SITE_KEY",
            "the challenge provider's public site key, shown to the web form",
        )?;
        let secret = lookup
            .required(
                "WEB_CHALLENGE_SECRET",
                "the challenge provider's secret key, used to verify tokens",
            )?
            .into();
        let url = |var: &'static str, default: &str| -> Result<String, SettingsError> {
            let value = lookup.get(var).unwrap_or_else(|| default.to_owned());
            if value.starts_with("https://") || value.starts_with("http://") {
                Ok(value.trim().to_owned())
            } else {
                Err(SettingsError::Invalid {
                    var,
                    reason: "must start with https:// or http://".into(),
                })
            }
        };
        let timeout_ms =
            lookup.parsed_or("WEB_CHALLENGE_TIMEOUT_MS", DEFAULT_CHALLENGE_TIMEOUT_MS)?;
        let max_attempts =
            lookup.parsed_or("WEB_CHALLENGE_MAX_ATTEMPTS", DEFAULT_CHALLENGE_MAX_ATTEMPTS)?;
        for (var, value) in [
            ("WEB_CHALLENGE_TIMEOUT_MS", timeout_ms),
            ("WEB_CHALLENGE_MAX_ATTEMPTS", u64::from(max_attempts)),
        ] {
            if value == 0 {
                return Err(SettingsError::Invalid {
                    var,
                    reason: "must be at least 1".into(),
                });
            }
        }
        Ok(Self {
            challenge: Some(ChallengeSettings {
                provider,
                site_key,
                secret,
                verify_url: url("WEB_CHALLENGE_VERIFY_URL", provider.default_verify_url())?,
                script_url: url("WEB_CHALLENGE_SCRIPT_URL", provider.default_script_url())?,
                timeout_ms,
                max_attempts,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn no_challenge_by_default() {
        assert!(
            WebFormSettings::from_lookup(&lookup(&[]))
                .unwrap()
                .challenge
                .is_none()
        );
        let none = lookup(&[("WEB_CHALLENGE_PROVIDER", "none")]);
        assert!(
            WebFormSettings::from_lookup(&none)
                .unwrap()
                .challenge
                .is_none()
        );
    }

    #[test]
    fn a_provider_needs_both_keys_and_gets_its_own_urls() {
        let err = WebFormSettings::from_lookup(&lookup(&[("WEB_CHALLENGE_PROVIDER", "turnstile")]))
            .unwrap_err();
        assert!(err.to_string().contains("WEB_CHALLENGE_SITE_KEY"), "{err}");
        let err = WebFormSettings::from_lookup(&lookup(&[
            ("WEB_CHALLENGE_PROVIDER", "hcaptcha"),
            ("WEB_CHALLENGE_SITE_KEY", "site"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("WEB_CHALLENGE_SECRET"), "{err}");
        let settings = WebFormSettings::from_lookup(&lookup(&[
            ("WEB_CHALLENGE_PROVIDER", "HCaptcha"),
            ("WEB_CHALLENGE_SITE_KEY", "site"),
            ("WEB_CHALLENGE_SECRET", "secret"),
        ]))
        .unwrap()
        .challenge
        .unwrap();
        assert_eq!(settings.provider, ChallengeProvider::Hcaptcha);
        assert_eq!(settings.verify_url, "https://api.hcaptcha.com/siteverify");
        assert_eq!(settings.max_attempts, DEFAULT_CHALLENGE_MAX_ATTEMPTS);
    }

    #[test]
    fn unknown_providers_and_bad_urls_are_refused() {
        let err = WebFormSettings::from_lookup(&lookup(&[("WEB_CHALLENGE_PROVIDER", "recaptcha")]))
            .unwrap_err();
        assert!(err.to_string().contains("WEB_CHALLENGE_PROVIDER"), "{err}");
        let err = WebFormSettings::from_lookup(&lookup(&[
            ("WEB_CHALLENGE_PROVIDER", "turnstile"),
            ("WEB_CHALLENGE_SITE_KEY", "site"),
            ("WEB_CHALLENGE_SECRET", "secret"),
            ("WEB_CHALLENGE_VERIFY_URL", "ftp://example"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("WEB_CHALLENGE_VERIFY_URL"),
            "{err}"
        );
    }
}
