use std::path::PathBuf;

pub use super::kafka_security::{KafkaSasl, KafkaSaslMechanism, KafkaSecurityProtocol, KafkaTls};

use super::lookup::{Lookup, Profile, SettingsError};

/// Where `fte broker` publishes the bootstrap address of its embedded broker.
pub const DEFAULT_BROKER_ADDRESS_FILE: &str = ".fte/broker.addr";
/// Partitions per topic when the project creates them.
pub const DEFAULT_TOPIC_PARTITIONS: i32 = 4;
/// How long a consumer may be silent before the group rebalances its
/// partitions away. Far below Kafka's 45 s so a killed worker fails over
/// fast, and the lowest a broker accepts by default
/// (`group.min.session.timeout.ms`).
pub const DEFAULT_SESSION_TIMEOUT_MS: u32 = 6_000;
/// How long the producer may take to get an acknowledgement before a publish
/// fails (and the gateway answers 503).
pub const DEFAULT_DELIVERY_TIMEOUT_MS: u32 = 5_000;
/// Producer batching delay; small because every publish is on a request path.
pub const DEFAULT_LINGER_MS: u32 = 1;
/// How long a fetch may wait at a configured cluster for data to arrive: a
/// real broker answers as soon as a message arrives, so the wait costs no
/// latency (librdkafka's default).
pub const DEFAULT_FETCH_WAIT_MAX_MS: u32 = 500;
/// The same wait at the project's own broker (embedded or `fte broker`).
/// That broker holds a fetch that found nothing for the whole wait even when
/// a message arrives meanwhile, so a message waited 250 ms on average (up to
/// 500 ms) between the gateway's publish and the worker; a short wait bounds
/// that at 10 ms for about a hundred empty fetches a second per consumer on
/// loopback. Measured on an idle `fte run` (its consumers, its embedded
/// broker) over 20 s: 6.0 % of a core, against 5.1 % at 25 ms, 3.5 % at
/// 50 ms and 2.4 % at 500 ms.
pub const PROJECT_BROKER_FETCH_WAIT_MAX_MS: u32 = 10;

/// Kafka connection settings.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    /// `KAFKA_BOOTSTRAP_SERVERS`; when unset, a running `fte broker` (its
    /// address file) is used, else an embedded broker starts in-process.
    pub bootstrap_servers: Option<String>,
    /// `FTE_BROKER_ADDRESS_FILE` (`.fte/broker.addr`).
    pub broker_address_file: PathBuf,
    /// `KAFKA_TOPIC_PARTITIONS` (4).
    pub topic_partitions: i32,
    /// `KAFKA_TOPIC_REPLICATION` (1; use 3 on a real cluster).
    pub topic_replication: i32,
    /// `KAFKA_SECURITY_PROTOCOL` (`PLAINTEXT`; `SSL`, `SASL_PLAINTEXT`,
    /// `SASL_SSL` — managed clusters want `SASL_SSL`).
    pub security_protocol: KafkaSecurityProtocol,
    /// `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`:
    /// present exactly when the protocol is `SASL_*`.
    pub sasl: Option<KafkaSasl>,
    /// `KAFKA_SSL_CA_LOCATION` and the client certificate, for `SSL` and
    /// `SASL_SSL`.
    pub tls: KafkaTls,
    /// `KAFKA_CONSUMER_GROUP` (`fte-message-processor`).
    pub consumer_group: String,
    /// `KAFKA_SESSION_TIMEOUT_MS` (6000).
    pub session_timeout_ms: u32,
    /// `KAFKA_MAX_POLL_INTERVAL_MS` (60000): the longest one message's work
    /// may take before the consumer is considered stuck and its partitions
    /// are reassigned.
    pub max_poll_interval_ms: u32,
    /// `KAFKA_DELIVERY_TIMEOUT_MS` (5000).
    pub delivery_timeout_ms: u32,
    /// `KAFKA_LINGER_MS` (1).
    pub linger_ms: u32,
    /// `KAFKA_FETCH_WAIT_MAX_MS`: when unset, 500 at a configured cluster and
    /// 10 at the project's own broker (see [`PROJECT_BROKER_FETCH_WAIT_MAX_MS`]).
    pub fetch_wait_max_ms: Option<u32>,
}

impl KafkaSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let lookup = Lookup::env();
        Self::from_lookup(&lookup, Profile::from_lookup(&lookup)?)
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>, profile: Profile) -> Result<Self, SettingsError> {
        let bootstrap_servers = lookup.get("KAFKA_BOOTSTRAP_SERVERS");
        if profile.is_production() && bootstrap_servers.is_none() {
            return Err(SettingsError::Missing {
                var: "KAFKA_BOOTSTRAP_SERVERS",
                hint: "production needs a real Kafka cluster (host:port[,host:port])",
            });
        }
        let topic_partitions =
            lookup.parsed_or("KAFKA_TOPIC_PARTITIONS", DEFAULT_TOPIC_PARTITIONS)?;
        if !(1..=1024).contains(&topic_partitions) {
            return Err(SettingsError::Invalid {
                var: "KAFKA_TOPIC_PARTITIONS",
                reason: "must be between 1 and 1024".into(),
            });
        }
        let security_protocol = KafkaSecurityProtocol::from_lookup(lookup)?;
        Ok(Self {
            bootstrap_servers,
            broker_address_file: lookup
                .get("FTE_BROKER_ADDRESS_FILE")
                .unwrap_or_else(|| DEFAULT_BROKER_ADDRESS_FILE.into())
                .into(),
            topic_partitions,
            topic_replication: lookup.parsed_or("KAFKA_TOPIC_REPLICATION", 1)?,
            security_protocol,
            sasl: KafkaSasl::from_lookup(lookup, security_protocol)?,
            tls: KafkaTls::from_lookup(lookup, security_protocol)?,
            consumer_group: lookup
                .get("KAFKA_CONSUMER_GROUP")
                .unwrap_or_else(|| "fte-message-processor".into()),
            session_timeout_ms: lookup
                .parsed_or("KAFKA_SESSION_TIMEOUT_MS", DEFAULT_SESSION_TIMEOUT_MS)?,
            max_poll_interval_ms: lookup.parsed_or("KAFKA_MAX_POLL_INTERVAL_MS", 60_000)?,
            delivery_timeout_ms: lookup
                .parsed_or("KAFKA_DELIVERY_TIMEOUT_MS", DEFAULT_DELIVERY_TIMEOUT_MS)?,
            linger_ms: lookup.parsed_or("KAFKA_LINGER_MS", DEFAULT_LINGER_MS)?,
            fetch_wait_max_ms: lookup.parsed("KAFKA_FETCH_WAIT_MAX_MS")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn dev_profile_runs_without_a_cluster() {
        let s = KafkaSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert_eq!(s.bootstrap_servers, None);
        assert_eq!(s.topic_partitions, DEFAULT_TOPIC_PARTITIONS);
        assert_eq!(s.consumer_group, "fte-message-processor");
    }

    #[test]
    fn production_requires_bootstrap_servers() {
        let err = KafkaSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap_err();
        assert!(err.to_string().contains("KAFKA_BOOTSTRAP_SERVERS"), "{err}");
    }

    #[test]
    fn the_fetch_wait_is_left_to_the_broker_source_unless_set() {
        let unset = KafkaSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert_eq!(unset.fetch_wait_max_ms, None);
        let set = KafkaSettings::from_lookup(
            &lookup(&[("KAFKA_FETCH_WAIT_MAX_MS", "100")]),
            Profile::Dev,
        )
        .unwrap();
        assert_eq!(set.fetch_wait_max_ms, Some(100));
        let err = KafkaSettings::from_lookup(
            &lookup(&[("KAFKA_FETCH_WAIT_MAX_MS", "soon")]),
            Profile::Dev,
        )
        .unwrap_err();
        assert!(err.to_string().contains("KAFKA_FETCH_WAIT_MAX_MS"), "{err}");
    }

    #[test]
    fn partitions_out_of_range_are_refused() {
        let err =
            KafkaSettings::from_lookup(&lookup(&[("KAFKA_TOPIC_PARTITIONS", "0")]), Profile::Dev)
                .unwrap_err();
        assert!(err.to_string().contains("KAFKA_TOPIC_PARTITIONS"), "{err}");
    }
}
