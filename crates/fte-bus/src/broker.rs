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
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use fte_runtime::settings::KafkaSettings;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::mocking::MockCluster;
use secrecy::ExposeSecret;

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
        apply_security(&mut config, &self.settings);
        config
    }

    /// The settings this bootstrap was resolved with.
    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
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

enum Command {
    Stop,
    SetBrokerDown(bool, mpsc::Sender<Result<(), String>>),
    FailRequests(FaultedRequest, usize, mpsc::Sender<Result<(), String>>),
}

/// Requests the embedded broker can be told to fail (fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultedRequest {
    /// Produce requests fail with `NOT_LEADER_FOR_PARTITION` (retriable:
    /// producers retry within their delivery timeout).
    Produce,
    /// Fetch requests fail with `NOT_LEADER_FOR_PARTITION` (consumers
    /// refresh metadata and fetch again).
    Fetch,
    /// Offset commits fail with `REQUEST_TIMED_OUT` (retriable).
    OffsetCommit,
}

/// A Kafka-protocol broker inside this process (librdkafka's mock cluster),
/// with every topic of the plan created. It lives on its own thread; dropping
/// the handle stops it and loses its contents.
pub struct EmbeddedBroker {
    servers: String,
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a one-broker cluster and creates every topic with `partitions`.
    pub fn start(partitions: i32) -> Result<Self, BusError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, BusError>>();
        let (commands, command_rx) = mpsc::channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("fte-embedded-broker".into())
            .spawn(move || {
                let cluster = match MockCluster::new(1) {
                    Ok(cluster) => cluster,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error.into()));
                        return;
                    }
                };
                for topic in topics::ALL {
                    if let Err(error) = cluster.create_topic(topic, partitions, 1) {
                        let _ = ready_tx.send(Err(BusError::CreateTopic {
                            topic: topic.to_owned(),
                            reason: error.to_string(),
                        }));
                        return;
                    }
                }
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                while let Ok(command) = command_rx.recv() {
                    match command {
                        Command::Stop => break,
                        Command::SetBrokerDown(down, reply) => {
                            let result = if down {
                                cluster.broker_down(1)
                            } else {
                                cluster.broker_up(1)
                            };
                            let _ = reply.send(result.map_err(|e| e.to_string()));
                        }
                        Command::FailRequests(request, count, reply) => {
                            use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
                            let (key, error) = match request {
                                FaultedRequest::Produce => (
                                    RDKafkaApiKey::Produce,
                                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                ),
                                FaultedRequest::Fetch => (
                                    RDKafkaApiKey::Fetch,
                                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                ),
                                FaultedRequest::OffsetCommit => (
                                    RDKafkaApiKey::OffsetCommit,
                                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                ),
                            };
                            cluster.request_errors(key, &vec![error; count]);
                            let _ = reply.send(Ok(()));
                        }
                    }
                }
            })
            .map_err(|e| BusError::Embedded(e.to_string()))?;
        let servers = ready_rx.recv().map_err(|_| {
            BusError::Embedded("the broker thread stopped during start-up".into())
        })??;
        tracing::info!(bootstrap = %servers, partitions, "embedded Kafka-protocol broker started");
        Ok(Self {
            servers,
            commands,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:port` of the broker.
    pub fn bootstrap_servers(&self) -> &str {
        &self.servers
    }

    /// Takes the broker down (connections refused) or brings it back up:
    /// fault injection for tests and the chaos harness.
    pub fn set_down(&self, down: bool) -> Result<(), BusError> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(Command::SetBrokerDown(down, tx))
            .map_err(|_| BusError::Embedded("the broker has stopped".into()))?;
        rx.recv()
            .map_err(|_| BusError::Embedded("the broker has stopped".into()))?
            .map_err(BusError::Embedded)
    }
}

impl EmbeddedBroker {
    /// The next `count` requests of kind `request` fail with a retriable
    /// error: fault injection for the chaos harness.
    pub fn fail_requests(&self, request: FaultedRequest, count: usize) -> Result<(), BusError> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(Command::FailRequests(request, count, tx))
            .map_err(|_| BusError::Embedded("the broker has stopped".into()))?;
        rx.recv()
            .map_err(|_| BusError::Embedded("the broker has stopped".into()))?
            .map_err(BusError::Embedded)
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
