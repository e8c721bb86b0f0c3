//! Finding the Kafka cluster, and the embedded broker for local runs.
//!
//! Resolution order: `KAFKA_BOOTSTRAP_SERVERS` (a real cluster); else the
//! address published by a running `fte broker` in its address file; else an
//! embedded broker started inside this process. The embedded broker is
//! librdkafka's mock cluster: it speaks the Kafka protocol on loopback ports
//! other processes can reach, keeps everything in memory, and binds random
//! ports — which is why `fte broker` publishes its address in a file.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use fte_runtime::settings::{
    DEFAULT_FETCH_WAIT_MAX_MS, KafkaSettings, PROJECT_BROKER_FETCH_WAIT_MAX_MS,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;
use secrecy::ExposeSecret;

use crate::embedded::EmbeddedBroker;
use crate::{BusError, topics};

/// Where the bootstrap address came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerSource {
    /// `KAFKA_BOOTSTRAP_SERVERS`.
    Configured,
    /// A running `fte broker`, through its address file.
    AddressFile(PathBuf),
    /// A broker embedded in this process.
    Embedded,
}

/// A resolved cluster: its bootstrap servers, and the embedded broker when
/// this process owns one (dropping it stops the broker).
pub struct Bootstrap {
    /// `host:port[,host:port]`.
    pub servers: String,
    /// Where the address came from.
    pub source: BrokerSource,
    /// The embedded broker, kept alive as long as this value.
    pub embedded: Option<EmbeddedBroker>,
    settings: KafkaSettings,
}

impl std::fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bootstrap")
            .field("servers", &self.servers)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Bootstrap {
    /// Resolves the cluster as described in the module docs, creating every
    /// topic of the plan when this process is responsible for them.
    pub async fn resolve(settings: &KafkaSettings) -> Result<Self, BusError> {
        if let Some(servers) = settings.bootstrap_servers.clone() {
            let bootstrap = Self {
                servers,
                source: BrokerSource::Configured,
                embedded: None,
                settings: settings.clone(),
            };
            bootstrap.ensure_topics().await?;
            return Ok(bootstrap);
        }
        if let Some(servers) = read_address_file(&settings.broker_address_file)? {
            if reachable(&servers) {
                return Ok(Self {
                    servers,
                    source: BrokerSource::AddressFile(settings.broker_address_file.clone()),
                    embedded: None,
                    settings: settings.clone(),
                });
            }
            tracing::warn!(
                file = %settings.broker_address_file.display(),
                "the broker address file points at a broker that is not running; starting an embedded one"
            );
        }
        let embedded = EmbeddedBroker::start(settings.topic_partitions)?;
        Ok(Self {
            servers: embedded.bootstrap_servers().to_owned(),
            source: BrokerSource::Embedded,
            embedded: Some(embedded),
            settings: settings.clone(),
        })
    }

    /// A client configuration for this cluster, with security settings applied.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.servers);
        config.set("client.id", "fte");
        // librdkafka's own logs go through its log callback at warning level.
        config.set("log_level", "4");
        // After a broker outage, reconnect within a second of its return: the
        // default backoff doubles up to 10 s while the broker is away, which
        // left messages waiting seconds after a 3 s outage had ended.
        config.set("reconnect.backoff.max.ms", "1000");
        apply_security(&mut config, &self.settings);
        config
    }

    /// The settings this bootstrap was resolved with.
    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    /// How long a consumer's fetch may wait for data (`fetch.wait.max.ms`):
    /// `KAFKA_FETCH_WAIT_MAX_MS` when set, else short at the project's own
    /// broker, which does not answer a waiting fetch when data arrives.
    pub fn fetch_wait_max_ms(&self) -> u32 {
        self.settings
            .fetch_wait_max_ms
            .unwrap_or(match self.source {
                BrokerSource::Configured => DEFAULT_FETCH_WAIT_MAX_MS,
                BrokerSource::AddressFile(_) | BrokerSource::Embedded => {
                    PROJECT_BROKER_FETCH_WAIT_MAX_MS
                }
            })
    }

    /// Creates every topic of the plan on a configured cluster (existing
    /// topics are left alone). Embedded and standalone brokers create their
    /// own topics when they start.
    pub async fn ensure_topics(&self) -> Result<(), BusError> {
        if self.source != BrokerSource::Configured {
            return Ok(());
        }
        let admin: AdminClient<DefaultClientContext> = self.client_config().create()?;
        let new_topics: Vec<NewTopic<'_>> = topics::ALL
            .iter()
            .map(|name| {
                NewTopic::new(
                    name,
                    self.settings.topic_partitions,
                    TopicReplication::Fixed(self.settings.topic_replication),
                )
            })
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in admin.create_topics(&new_topics, &options).await? {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(BusError::CreateTopic {
                        topic,
                        reason: code.to_string(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Sets librdkafka's security properties from `settings`: the protocol,
/// SASL credentials and TLS files. librdkafka checks them when a client is
/// created, so a malformed combination fails at start-up, not at the first
/// message.
pub fn apply_security(config: &mut ClientConfig, settings: &KafkaSettings) {
    config.set("security.protocol", settings.security_protocol.as_str());
    if let Some(sasl) = &settings.sasl {
        config.set("sasl.mechanism", sasl.mechanism.as_str());
        config.set("sasl.username", &sasl.username);
        config.set("sasl.password", sasl.password.expose_secret());
    }
    let tls = &settings.tls;
    let files = [
        ("ssl.ca.location", &tls.ca_location),
        ("ssl.certificate.location", &tls.certificate_location),
        ("ssl.key.location", &tls.key_location),
    ];
    for (key, path) in files {
        if let Some(path) = path {
            config.set(key, path.to_string_lossy());
        }
    }
    if let Some(password) = &tls.key_password {
        config.set("ssl.key.password", password.expose_secret());
    }
}

fn read_address_file(path: &Path) -> Result<Option<String>, BusError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|s| !s.is_empty())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(BusError::AddressFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Whether the first bootstrap server accepts TCP connections.
fn reachable(servers: &str) -> bool {
    let Some(first) = servers.split(',').next() else {
        return false;
    };
    let Ok(mut addresses) = first.trim().to_socket_addrs() else {
        return false;
    };
    addresses
        .any(|address| TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok())
}

#[cfg(test)]
mod tests {
    use fte_runtime::settings::{Lookup, Profile};

    use super::*;

    fn bootstrap(source: BrokerSource, vars: &[(&str, &str)]) -> Bootstrap {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup =
            Lookup::from_fn(move |key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
        Bootstrap {
            servers: "127.0.0.1:9092".into(),
            source,
            embedded: None,
            settings: KafkaSettings::from_lookup(&lookup, Profile::Dev).unwrap(),
        }
    }

    #[test]
    fn a_fetch_waits_briefly_only_at_the_projects_own_broker() {
        let configured = bootstrap(BrokerSource::Configured, &[]);
        assert_eq!(configured.fetch_wait_max_ms(), DEFAULT_FETCH_WAIT_MAX_MS);
        for source in [
            BrokerSource::Embedded,
            BrokerSource::AddressFile(".fte/broker.addr".into()),
        ] {
            let own = bootstrap(source, &[]);
            assert_eq!(own.fetch_wait_max_ms(), PROJECT_BROKER_FETCH_WAIT_MAX_MS);
        }
        let chosen = bootstrap(
            BrokerSource::Embedded,
            &[("KAFKA_FETCH_WAIT_MAX_MS", "250")],
        );
        assert_eq!(chosen.fetch_wait_max_ms(), 250);
    }
}
