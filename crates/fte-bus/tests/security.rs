//! What a managed cluster asks of the clients, as far as it can be proven on
//! this machine: librdkafka is built with TLS and SASL (a client with
//! `SASL_SSL` + SCRAM settings and a CA file is created — a build without
//! OpenSSL refuses `sasl_ssl` at creation), and a CA file that is not PEM
//! stops the client at creation instead of at the first message. The
//! embedded broker (librdkafka's mock cluster) has neither a TLS nor a SASL
//! listener, so the handshake itself is exercised only against a real
//! cluster (docs/deployment.md, "Checking the connection").

use fte_bus::broker::apply_security;
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher};
use fte_runtime::settings::KafkaSettings;
use rdkafka::ClientConfig;
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::BaseProducer;

/// A PEM bundle every Debian-based machine has (`ca-certificates`).
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn settings(pairs: &[(&str, &str)]) -> KafkaSettings {
    let mut vars = pairs.to_vec();
    vars.push(("KAFKA_TOPIC_PARTITIONS", "1"));
    fte_testkit::broker::settings_with(&vars)
}

fn managed(ca: &str) -> KafkaSettings {
    settings(&[
        ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        ("KAFKA_SASL_USERNAME", "fte-worker"),
        ("KAFKA_SASL_PASSWORD", "not-a-real-secret"),
        ("KAFKA_SSL_CA_LOCATION", ca),
    ])
}

fn client_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", "b-1.fte.kafka.example:9096");
    apply_security(&mut config, settings);
    config
}

#[test]
fn librdkafka_accepts_sasl_ssl_with_scram_and_a_ca_file_for_every_client_kind() {
    assert!(
        std::path::Path::new(SYSTEM_CA_BUNDLE).is_file(),
        "{SYSTEM_CA_BUNDLE} missing: install ca-certificates"
    );
    let settings = managed(SYSTEM_CA_BUNDLE);
    let producer: Result<BaseProducer, _> = client_config(&settings).create();
    assert!(producer.is_ok(), "producer: {:?}", producer.err());
    let consumer: Result<BaseConsumer, _> = client_config(&settings)
        .set("group.id", "fte-message-processor")
        .create();
    assert!(consumer.is_ok(), "consumer: {:?}", consumer.err());
    let admin: Result<AdminClient<DefaultClientContext>, _> = client_config(&settings).create();
    assert!(admin.is_ok(), "admin: {:?}", admin.err());
}

#[tokio::test]
async fn the_worker_and_gateway_producer_starts_with_sasl_ssl_settings() {
    // The cluster is the embedded broker (no TLS listener): what is proven
    // here is that the publisher every process builds accepts the settings.
    let bootstrap = Bootstrap::resolve(&managed(SYSTEM_CA_BUNDLE))
        .await
        .unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
    let config = bootstrap.client_config();
    assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
    assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(config.get("ssl.ca.location"), Some(SYSTEM_CA_BUNDLE));
    assert!(KafkaPublisher::new(&bootstrap).is_ok());
}

#[test]
fn a_ca_file_that_is_not_pem_stops_the_client_at_creation() {
    let dir = std::env::temp_dir().join(format!("fte-kafka-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("ca.pem");
    std::fs::write(&bogus, "this is not a certificate\n").unwrap();
    let settings = managed(bogus.to_str().unwrap());
    let created: Result<BaseProducer, _> = client_config(&settings).create();
    let _ = std::fs::remove_dir_all(&dir);
    let error = created.err().expect("a broken CA file must be refused");
    assert!(error.to_string().contains("ssl.ca.location"), "{error}");
}
