//! The embedded Kafka-protocol broker of a test app: started in-process
//! (never a developer's running `fte broker`), one partition per topic, and
//! a short delivery timeout so a broker taken down fails a publish fast.

use fte_bus::Bootstrap;
use fte_runtime::Profile;
use fte_runtime::settings::{KafkaSettings, Lookup};

/// The settings of a test's embedded broker.
pub fn settings() -> KafkaSettings {
    settings_with(&[
        ("KAFKA_TOPIC_PARTITIONS", "1"),
        ("KAFKA_DELIVERY_TIMEOUT_MS", "1500"),
    ])
}

/// The settings of a consumer-group test: two partitions, a 6 s session
/// (the lowest a real broker accepts by default) and a 7 s poll interval.
pub fn group_settings() -> KafkaSettings {
    settings_with(&[
        ("KAFKA_TOPIC_PARTITIONS", "2"),
        ("KAFKA_SESSION_TIMEOUT_MS", "6000"),
        ("KAFKA_MAX_POLL_INTERVAL_MS", "7000"),
    ])
}

/// Kafka settings from `vars` alone (every other variable unset), which
/// never pick up a developer's running `fte broker` unless `vars` names its
/// `FTE_BROKER_ADDRESS_FILE`.
pub fn settings_with(vars: &[(&str, &str)]) -> KafkaSettings {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = Lookup::from_fn(move |key| {
        vars.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| (key == "FTE_BROKER_ADDRESS_FILE").then(|| NO_ADDRESS_FILE.to_owned()))
    });
    KafkaSettings::from_lookup(&lookup, Profile::Dev).expect("the test broker's settings")
}

/// An address file that never exists.
const NO_ADDRESS_FILE: &str = "/nonexistent/fte-broker.addr";

/// A new embedded broker with the project's topics.
pub async fn embedded() -> Bootstrap {
    Bootstrap::resolve(&settings())
        .await
        .expect("the embedded broker starts")
}
