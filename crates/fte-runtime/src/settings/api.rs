use super::{Lookup, Profile, SettingsError};

/// The gateway's listening port.
pub const DEFAULT_API_PORT: u16 = 8000;

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
        Ok(Self {
            host,
            port,
            public_base_url,
            cors_allowed_origins: lookup.list("CORS_ALLOWED_ORIGINS"),
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
    fn production_requires_a_public_url() {
        let err = ApiSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap_err();
        assert!(err.to_string().contains("PUBLIC_BASE_URL"), "{err}");
    }
}
