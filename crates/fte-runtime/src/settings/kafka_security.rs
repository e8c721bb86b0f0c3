//! How the clients authenticate to Kafka and protect the connection: the
//! security protocol, SASL and TLS settings a managed cluster asks for
//! (Confluent Cloud and Redpanda Cloud: `SASL_SSL` + `PLAIN` with an API key;
//! MSK: `SASL_SSL` + `SCRAM-SHA-512`; Aiven: `SASL_SSL` + SCRAM or `SSL`
//! with a client certificate).
//!
//! librdkafka is built with OpenSSL (rdkafka's `ssl` feature), which brings
//! TLS, `PLAIN` and `SCRAM-SHA-256/512`. `GSSAPI` (Kerberos) and
//! `OAUTHBEARER` (MSK IAM, OIDC) are refused here with a clear message:
//! Kerberos needs libsasl2 and a keytab, MSK IAM needs a SigV4 token
//! callback and OIDC needs librdkafka built with libcurl — none of which the
//! images carry, and every managed cluster above also offers SCRAM or PLAIN.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use secrecy::SecretString;

use super::lookup::{Lookup, SettingsError};

/// librdkafka's `security.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KafkaSecurityProtocol {
    /// No TLS, no authentication (a private in-cluster broker).
    #[default]
    Plaintext,
    /// TLS, optionally with a client certificate.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS: what managed clusters require.
    SaslSsl,
}

impl KafkaSecurityProtocol {
    /// `KAFKA_SECURITY_PROTOCOL` (`PLAINTEXT` when unset), case-insensitive.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        lookup.parsed_or("KAFKA_SECURITY_PROTOCOL", Self::Plaintext)
    }

    /// The value librdkafka takes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    /// Whether the protocol authenticates with SASL.
    pub const fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    /// Whether the connection is TLS.
    pub const fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

impl FromStr for KafkaSecurityProtocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "plaintext" => Ok(Self::Plaintext),
            "ssl" => Ok(Self::Ssl),
            "sasl_plaintext" => Ok(Self::SaslPlaintext),
            "sasl_ssl" => Ok(Self::SaslSsl),
            _ => Err("expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL".into()),
        }
    }
}

/// librdkafka's `sasl.mechanism`, limited to what this build supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaSaslMechanism {
    /// User name and password in the clear (inside TLS): Confluent Cloud API keys.
    Plain,
    /// Salted challenge-response with SHA-256.
    ScramSha256,
    /// Salted challenge-response with SHA-512 (MSK).
    ScramSha512,
}

impl KafkaSaslMechanism {
    /// The value librdkafka takes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl fmt::Display for KafkaSaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KafkaSaslMechanism {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "PLAIN" => Ok(Self::Plain),
            "SCRAM-SHA-256" => Ok(Self::ScramSha256),
            "SCRAM-SHA-512" => Ok(Self::ScramSha512),
            "GSSAPI" | "OAUTHBEARER" | "AWS-MSK-IAM" => Err(format!(
                "{s} is not supported by this build (no Kerberos, no OAuth token callback): \
                 use PLAIN or SCRAM-SHA-256/512 — MSK offers SASL/SCRAM, Confluent Cloud PLAIN API keys"
            )),
            _ => Err("expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512".into()),
        }
    }
}

/// SASL credentials.
#[derive(Clone, Debug)]
pub struct KafkaSasl {
    /// `KAFKA_SASL_MECHANISM`.
    pub mechanism: KafkaSaslMechanism,
    /// `KAFKA_SASL_USERNAME` (Confluent Cloud: the API key).
    pub username: String,
    /// `KAFKA_SASL_PASSWORD` (secret; Confluent Cloud: the API secret).
    pub password: SecretString,
}

impl KafkaSasl {
    /// The credentials when `protocol` is `SASL_*` (all three variables
    /// required); `None` otherwise, and an error if SASL variables are set
    /// for a protocol that would ignore them.
    pub fn from_lookup(
        lookup: &Lookup<'_>,
        protocol: KafkaSecurityProtocol,
    ) -> Result<Option<Self>, SettingsError> {
        if !protocol.uses_sasl() {
            if let Some(var) = ["KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME"]
                .into_iter()
                .find(|var| lookup.get(var).is_some())
            {
                return Err(SettingsError::Invalid {
                    var: "KAFKA_SECURITY_PROTOCOL",
                    reason: format!(
                        "{var} is set but the protocol is {}: use SASL_SSL (or SASL_PLAINTEXT)",
                        protocol.as_str().to_ascii_uppercase()
                    ),
                });
            }
            return Ok(None);
        }
        let mechanism = lookup
            .required(
                "KAFKA_SASL_MECHANISM",
                "SASL needs a mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
            )?
            .trim()
            .parse()
            .map_err(|reason| SettingsError::Invalid {
                var: "KAFKA_SASL_MECHANISM",
                reason,
            })?;
        Ok(Some(Self {
            mechanism,
            username: lookup.required("KAFKA_SASL_USERNAME", "the SASL user (or API key)")?,
            password: SecretString::from(
                lookup.required("KAFKA_SASL_PASSWORD", "the SASL password (or API secret)")?,
            ),
        }))
    }
}

/// TLS material for `SSL` and `SASL_SSL`.
#[derive(Clone, Debug, Default)]
pub struct KafkaTls {
    /// `KAFKA_SSL_CA_LOCATION`: PEM file of the CA(s) that sign the brokers'
    /// certificates (MSK and Confluent Cloud use public CAs: leave unset to
    /// trust the system store; Aiven: the project CA).
    pub ca_location: Option<PathBuf>,
    /// `KAFKA_SSL_CERTIFICATE_LOCATION`: the client certificate (PEM), for
    /// clusters that authenticate clients by certificate.
    pub certificate_location: Option<PathBuf>,
    /// `KAFKA_SSL_KEY_LOCATION`: the client certificate's private key (PEM).
    pub key_location: Option<PathBuf>,
    /// `KAFKA_SSL_KEY_PASSWORD` (secret): the key's passphrase, if any.
    pub key_password: Option<SecretString>,
}

impl KafkaTls {
    /// Reads the TLS files, which must exist; refuses them for a protocol
    /// without TLS, and a certificate without its key.
    pub fn from_lookup(
        lookup: &Lookup<'_>,
        protocol: KafkaSecurityProtocol,
    ) -> Result<Self, SettingsError> {
        let file = |var: &'static str| -> Result<Option<PathBuf>, SettingsError> {
            let Some(raw) = lookup.get(var) else {
                return Ok(None);
            };
            if !protocol.uses_tls() {
                return Err(SettingsError::Invalid {
                    var,
                    reason: format!(
                        "set, but KAFKA_SECURITY_PROTOCOL is {} (no TLS): use SSL or SASL_SSL",
                        protocol.as_str().to_ascii_uppercase()
                    ),
                });
            }
            let path = PathBuf::from(raw);
            if !path.is_file() {
                return Err(SettingsError::Invalid {
                    var,
                    reason: format!("{} is not a readable file", path.display()),
                });
            }
            Ok(Some(path))
        };
        let tls = Self {
            ca_location: file("KAFKA_SSL_CA_LOCATION")?,
            certificate_location: file("KAFKA_SSL_CERTIFICATE_LOCATION")?,
            key_location: file("KAFKA_SSL_KEY_LOCATION")?,
            key_password: lookup.get("KAFKA_SSL_KEY_PASSWORD").map(SecretString::from),
        };
        if tls.certificate_location.is_some() != tls.key_location.is_some() {
            return Err(SettingsError::Missing {
                var: if tls.key_location.is_none() {
                    "KAFKA_SSL_KEY_LOCATION"
                } else {
                    "KAFKA_SSL_CERTIFICATE_LOCATION"
                },
                hint: "a client certificate needs both its certificate and its key",
            });
        }
        Ok(tls)
    }
}

#[cfg(test)]
mod tests {
    use super::super::KafkaSettings;
    use super::super::Profile;
    use super::super::test_support::lookup;
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<KafkaSettings, SettingsError> {
        KafkaSettings::from_lookup(&lookup(pairs), Profile::Dev)
    }

    #[test]
    fn a_managed_cluster_reads_sasl_ssl_with_scram() {
        let s = read(&[
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_MECHANISM", "scram-sha-512"),
            ("KAFKA_SASL_USERNAME", "fte"),
            ("KAFKA_SASL_PASSWORD", "hunter2"),
        ])
        .unwrap();
        assert_eq!(s.security_protocol, KafkaSecurityProtocol::SaslSsl);
        let sasl = s.sasl.as_ref().expect("credentials");
        assert_eq!(sasl.mechanism, KafkaSaslMechanism::ScramSha512);
        assert!(
            !format!("{s:?}").contains("hunter2"),
            "the password never prints"
        );
    }

    #[test]
    fn a_wrong_mechanism_is_refused_with_the_supported_ones_named() {
        let base = [
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_USERNAME", "fte"),
            ("KAFKA_SASL_PASSWORD", "p"),
        ];
        for (mechanism, expect) in [("SCRAM-SHA-1", "SCRAM-SHA-512"), ("OAUTHBEARER", "SCRAM")] {
            let mut vars = base.to_vec();
            vars.push(("KAFKA_SASL_MECHANISM", mechanism));
            let err = read(&vars).unwrap_err().to_string();
            assert!(err.contains("KAFKA_SASL_MECHANISM"), "{err}");
            assert!(err.contains(expect), "{mechanism}: {err}");
        }
        let err = read(&base).unwrap_err().to_string();
        assert!(
            err.contains("missing environment variable KAFKA_SASL_MECHANISM"),
            "{err}"
        );
    }

    #[test]
    fn sasl_settings_without_a_sasl_protocol_are_refused() {
        let err = read(&[("KAFKA_SASL_MECHANISM", "PLAIN")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("KAFKA_SECURITY_PROTOCOL"), "{err}");
        assert!(err.contains("SASL_SSL"), "{err}");
        let err = read(&[("KAFKA_SECURITY_PROTOCOL", "tls")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("KAFKA_SECURITY_PROTOCOL"), "{err}");
    }

    #[test]
    fn tls_files_must_exist_and_need_a_tls_protocol() {
        let err = read(&[
            ("KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("KAFKA_SSL_CA_LOCATION", "/nonexistent/ca.pem"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("KAFKA_SSL_CA_LOCATION"), "{err}");
        let err = read(&[("KAFKA_SSL_CA_LOCATION", "/etc/hostname")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no TLS"), "{err}");
    }
}
