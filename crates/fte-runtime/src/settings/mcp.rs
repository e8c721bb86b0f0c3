//! The MCP server's own settings (`fte mcp`). It authenticates and rate
//! limits with the staff API's settings ([`super::ApiSettings`]:
//! `STAFF_API_KEYS`, `STAFF_RATE_LIMIT_PER_MINUTE`, `TRUST_PROXY`), so a
//! staff key works the same on both.

use secrecy::SecretString;

use super::lookup::{Lookup, Profile, SettingsError};

/// The port `fte mcp --http` listens on.
pub const DEFAULT_MCP_PORT: u16 = 8001;
/// The `Host` names the HTTP endpoint answers by default: loopback only.
pub const DEFAULT_ALLOWED_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Settings of the MCP server.
#[derive(Clone, Debug)]
pub struct McpSettings {
    /// `MCP_HOST` (127.0.0.1; 0.0.0.0 in production): the address
    /// `fte mcp --http` binds.
    pub host: String,
    /// `MCP_PORT` (8001): the port `fte mcp --http` binds.
    pub port: u16,
    /// `MCP_ALLOWED_HOSTS` (localhost,127.0.0.1,::1): the `Host` header
    /// values `/mcp` answers (a defence against DNS rebinding); add the name
    /// staff reach the endpoint by, comma-separated, a name alone for any
    /// port or `name:port`.
    pub allowed_hosts: Vec<String>,
    /// `MCP_STAFF_KEY`: the staff key `fte mcp` on standard input and output
    /// acts with; it must be one of the configured staff keys, whose owner
    /// the audit names. In the dev profile the local key (`.fte/staff-key`)
    /// is used when it is unset.
    pub staff_key: Option<SecretString>,
}

impl McpSettings {
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
        let mut allowed_hosts = lookup.list("MCP_ALLOWED_HOSTS");
        if allowed_hosts.is_empty() {
            allowed_hosts = DEFAULT_ALLOWED_HOSTS.map(str::to_owned).to_vec();
        }
        Ok(Self {
            host: lookup
                .get("MCP_HOST")
                .unwrap_or_else(|| default_host.to_owned()),
            port: lookup.parsed_or("MCP_PORT", DEFAULT_MCP_PORT)?,
            allowed_hosts,
            staff_key: lookup.get("MCP_STAFF_KEY").map(SecretString::from),
        })
    }

    /// `host:port` for `fte mcp --http`.
    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn defaults_answer_loopback_only_and_variables_override_them() {
        let settings = McpSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert_eq!(settings.allowed_hosts, DEFAULT_ALLOWED_HOSTS);
        assert_eq!(settings.bind_address(), "127.0.0.1:8001");
        assert!(settings.staff_key.is_none());
        let production = McpSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap();
        assert_eq!(production.bind_address(), "0.0.0.0:8001");
        let settings = McpSettings::from_lookup(
            &lookup(&[
                ("MCP_ALLOWED_HOSTS", "fte-mcp.support.svc, localhost"),
                ("MCP_PORT", "9100"),
                ("MCP_STAFF_KEY", "k"),
            ]),
            Profile::Dev,
        )
        .unwrap();
        assert_eq!(settings.allowed_hosts, ["fte-mcp.support.svc", "localhost"]);
        assert_eq!(settings.port, 9100);
        assert!(settings.staff_key.is_some());
        let err =
            McpSettings::from_lookup(&lookup(&[("MCP_PORT", "x")]), Profile::Dev).unwrap_err();
        assert!(err.to_string().contains("MCP_PORT"), "{err}");
    }
}
