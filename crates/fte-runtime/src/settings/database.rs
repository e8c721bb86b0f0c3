use std::path::PathBuf;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use super::lookup::{Lookup, Profile, SettingsError};

/// The port of the project-managed local PostgreSQL (`scripts/pg.sh`).
pub const DEFAULT_LOCAL_PG_PORT: u16 = 54329;
/// Pool size per process.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 20;
/// How long a request waits for a pooled connection before failing.
pub const DEFAULT_ACQUIRE_TIMEOUT_MS: u64 = 3_000;

/// How the connection to PostgreSQL uses TLS (libpq's `sslmode` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseSslMode {
    /// No TLS.
    Disable,
    /// TLS only if the server insists.
    Allow,
    /// TLS when the server offers it (libpq's default).
    Prefer,
    /// TLS always; the certificate is not checked.
    Require,
    /// TLS with a certificate signed by the trusted CA.
    VerifyCa,
    /// TLS with a trusted certificate issued for the host name connected to.
    VerifyFull,
}

impl DatabaseSslMode {
    /// The libpq spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for DatabaseSslMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "disable" => Ok(Self::Disable),
            "allow" => Ok(Self::Allow),
            "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-full" => Ok(Self::VerifyFull),
            _ => Err("expected disable, allow, prefer, require, verify-ca or verify-full".into()),
        }
    }
}

/// PostgreSQL connection settings.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`; else built from `POSTGRES_HOST`, `POSTGRES_PORT` (5432),
    /// `POSTGRES_DB` (fte), `POSTGRES_USER` (fte) and `POSTGRES_PASSWORD`; else,
    /// in the dev profile only, the local server on `FTE_PG_PORT` (54329).
    pub url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS` (20).
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS` (3000).
    pub acquire_timeout_ms: u64,
    /// `DATABASE_SSLMODE`: overrides any `sslmode` in the URL. Unset, the
    /// URL decides (libpq's `prefer` when it says nothing) — except in
    /// production, where a URL without `sslmode` gets `verify-full`: a
    /// managed database is reached over TLS with its certificate checked.
    pub ssl_mode: Option<DatabaseSslMode>,
    /// `DATABASE_SSLROOTCERT`: a PEM file of the CA(s) that sign the
    /// server's certificate (the provider's bundle: RDS, Cloud SQL, Azure);
    /// without it the public web PKI roots are trusted.
    pub ssl_root_cert: Option<PathBuf>,
}

impl DatabaseSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let lookup = Lookup::env();
        Self::from_lookup(&lookup, Profile::from_lookup(&lookup)?)
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>, profile: Profile) -> Result<Self, SettingsError> {
        let url = if let Some(url) = lookup.get("DATABASE_URL") {
            url
        } else if let Some(host) = lookup.get("POSTGRES_HOST") {
            let port: u16 = lookup.parsed_or("POSTGRES_PORT", 5432)?;
            let db = lookup.get("POSTGRES_DB").unwrap_or_else(|| "fte".into());
            let user = lookup.get("POSTGRES_USER").unwrap_or_else(|| "fte".into());
            match lookup.get("POSTGRES_PASSWORD") {
                Some(password) => format!(
                    "postgres://{}:{}@{host}:{port}/{db}",
                    percent_encode(&user),
                    percent_encode(&password)
                ),
                None => format!("postgres://{}@{host}:{port}/{db}", percent_encode(&user)),
            }
        } else if profile.is_production() {
            return Err(SettingsError::Missing {
                var: "DATABASE_URL",
                hint: "set DATABASE_URL (or POSTGRES_HOST and friends) to the production PostgreSQL",
            });
        } else {
            let port: u16 = lookup.parsed_or("FTE_PG_PORT", DEFAULT_LOCAL_PG_PORT)?;
            format!("postgres://fte@127.0.0.1:{port}/fte")
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(SettingsError::Invalid {
                var: "DATABASE_URL",
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let ssl_mode = match lookup.get("DATABASE_SSLMODE") {
            Some(raw) => Some(
                raw.trim()
                    .parse()
                    .map_err(|reason| SettingsError::Invalid {
                        var: "DATABASE_SSLMODE",
                        reason,
                    })?,
            ),
            None if profile.is_production() && !url.contains("sslmode=") => {
                Some(DatabaseSslMode::VerifyFull)
            }
            None => None,
        };
        let ssl_root_cert = lookup.get("DATABASE_SSLROOTCERT").map(PathBuf::from);
        if let Some(path) = &ssl_root_cert
            && !path.is_file()
        {
            return Err(SettingsError::Invalid {
                var: "DATABASE_SSLROOTCERT",
                reason: format!("{} is not a readable file", path.display()),
            });
        }
        Ok(Self {
            url: SecretString::from(url),
            max_connections: lookup
                .parsed_or("DATABASE_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS)?,
            acquire_timeout_ms: lookup
                .parsed_or("DATABASE_ACQUIRE_TIMEOUT_MS", DEFAULT_ACQUIRE_TIMEOUT_MS)?,
            ssl_mode,
            ssl_root_cert,
        })
    }

    /// The connection URL (contains the password: never log it).
    pub fn expose_url(&self) -> &str {
        self.url.expose_secret()
    }
}

/// Percent-encodes the characters that would break a URL's userinfo part.
fn percent_encode(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' => c.to_string(),
            other => {
                let mut buf = [0u8; 4];
                other
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn dev_profile_falls_back_to_the_local_server() {
        let s = DatabaseSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert_eq!(s.expose_url(), "postgres://fte@127.0.0.1:54329/fte");
    }

    #[test]
    fn production_requires_a_database() {
        let err = DatabaseSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap_err();
        assert!(matches!(
            err,
            SettingsError::Missing {
                var: "DATABASE_URL",
                ..
            }
        ));
    }

    #[test]
    fn url_is_built_from_parts_with_an_encoded_password() {
        let s = DatabaseSettings::from_lookup(
            &lookup(&[("POSTGRES_HOST", "db"), ("POSTGRES_PASSWORD", "p@ss/word")]),
            Profile::Production,
        )
        .unwrap();
        assert_eq!(s.expose_url(), "postgres://fte:p%40ss%2Fword@db:5432/fte");
    }

    #[test]
    fn production_verifies_the_server_certificate_unless_told_otherwise() {
        let parts = [("POSTGRES_HOST", "db.example")];
        let s = DatabaseSettings::from_lookup(&lookup(&parts), Profile::Production).unwrap();
        assert_eq!(s.ssl_mode, Some(DatabaseSslMode::VerifyFull));
        let dev = DatabaseSettings::from_lookup(&lookup(&parts), Profile::Dev).unwrap();
        assert_eq!(dev.ssl_mode, None, "dev leaves TLS to the URL");
        let explicit = [
            ("POSTGRES_HOST", "db.example"),
            ("DATABASE_SSLMODE", "require"),
        ];
        let s = DatabaseSettings::from_lookup(&lookup(&explicit), Profile::Production).unwrap();
        assert_eq!(s.ssl_mode, Some(DatabaseSslMode::Require));
        let in_url = [("DATABASE_URL", "postgres://u@db/fte?sslmode=disable")];
        let s = DatabaseSettings::from_lookup(&lookup(&in_url), Profile::Production).unwrap();
        assert_eq!(s.ssl_mode, None, "the URL's own sslmode stands");
    }

    #[test]
    fn unknown_ssl_modes_and_missing_ca_files_are_refused() {
        let err =
            DatabaseSettings::from_lookup(&lookup(&[("DATABASE_SSLMODE", "always")]), Profile::Dev)
                .unwrap_err();
        assert!(err.to_string().contains("DATABASE_SSLMODE"), "{err}");
        let err = DatabaseSettings::from_lookup(
            &lookup(&[("DATABASE_SSLROOTCERT", "/nonexistent/ca.pem")]),
            Profile::Dev,
        )
        .unwrap_err();
        assert!(err.to_string().contains("DATABASE_SSLROOTCERT"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_url() {
        let s = DatabaseSettings::from_lookup(
            &lookup(&[("DATABASE_URL", "postgres://u:hunter2@h/db")]),
            Profile::Dev,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
