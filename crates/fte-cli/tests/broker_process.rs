//! `fte broker` as a separate process: it publishes its address in a file,
//! and another process's `Bootstrap::resolve` finds it there and round-trips
//! a message through it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher, topics};
use fte_runtime::Profile;
use fte_runtime::settings::{KafkaSettings, Lookup};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_standalone_broker_is_found_through_its_address_file() {
    let dir = std::env::temp_dir().join(format!("fte-broker-test-{}", std::process::id()));
    let file = dir.join("broker.addr");
    let _ = std::fs::remove_file(&file);
    let child = Command::new(env!("CARGO_BIN_EXE_fte"))
        .arg("broker")
        .env("FTE_BROKER_ADDRESS_FILE", &file)
        .env("KAFKA_TOPIC_PARTITIONS", "2")
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fte broker");
    let _guard = KillOnDrop(child);

    let started = Instant::now();
    while !file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the address file appears within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let file_setting = file.to_string_lossy().into_owned();
    let lookup = Lookup::from_fn(move |key| match key {
        "FTE_BROKER_ADDRESS_FILE" => Some(file_setting.clone()),
        _ => None,
    });
    let settings = KafkaSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let bootstrap = Bootstrap::resolve(&settings).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::AddressFile(file.clone()));
    assert!(
        bootstrap.embedded.is_none(),
        "no second broker in this process"
    );

    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let delivery = publisher
        .publish(topics::TICKETS_INCOMING, "k", b"hello", &[])
        .await
        .unwrap();
    assert!(delivery.offset >= 0);
}

#[tokio::test]
async fn a_stale_address_file_is_ignored_for_an_embedded_broker() {
    let dir = std::env::temp_dir().join(format!("fte-stale-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broker.addr");
    // Port 9 (discard) is not a Kafka broker on loopback.
    std::fs::write(&file, "127.0.0.1:9\n").unwrap();
    let file_setting = file.to_string_lossy().into_owned();
    let lookup = Lookup::from_fn(move |key| match key {
        "FTE_BROKER_ADDRESS_FILE" => Some(file_setting.clone()),
        _ => None,
    });
    let settings = KafkaSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let bootstrap = Bootstrap::resolve(&settings).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
}
