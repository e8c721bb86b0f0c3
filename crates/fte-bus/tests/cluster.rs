//! A three-broker embedded cluster loses one broker at a time, the way the
//! scale harness stops one: every message published before, during and after
//! the stop is consumed by the group, and nothing is published twice.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fte_bus::consumer;
use fte_bus::{Bootstrap, BrokerSource, ClusterSpec, EmbeddedBroker, KafkaPublisher, topics};
use fte_runtime::settings::KafkaSettings;
use futures::StreamExt;
use rdkafka::Message;

const GROUP: &str = "fte-test-cluster";

fn settings(address_file: String) -> KafkaSettings {
    fte_testkit::broker::settings_with(&[
        ("FTE_BROKER_ADDRESS_FILE", &address_file),
        ("KAFKA_TOPIC_PARTITIONS", "3"),
        ("KAFKA_SESSION_TIMEOUT_MS", "6000"),
        ("KAFKA_MAX_POLL_INTERVAL_MS", "7000"),
    ])
}

/// Consumes until every payload of `expected` has been seen (panics after
/// 40 s); returns how many messages arrived in all.
async fn consume_all(
    consumer: &rdkafka::consumer::StreamConsumer,
    expected: &BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) -> usize {
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut arrived = 0;
    while !expected.is_subset(seen) {
        assert!(
            Instant::now() < deadline,
            "missing after 40 s: {:?}",
            expected.difference(seen).collect::<Vec<_>>()
        );
        let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(500), consumer.stream().next()).await
        else {
            continue;
        };
        consumer::store_offset(consumer, &message).unwrap();
        seen.insert(String::from_utf8(message.payload().unwrap().to_vec()).unwrap());
        arrived += 1;
    }
    arrived
}

/// Publishes twelve messages with different keys (so every partition gets
/// some), remembering their payloads.
async fn publish_round(publisher: &KafkaPublisher, round: &str, expected: &mut BTreeSet<String>) {
    for i in 0..12 {
        let payload = format!("{round}-{i}");
        publisher
            .publish(
                topics::TICKETS_INCOMING,
                &format!("customer-{i}"),
                payload.as_bytes(),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("publish {payload} during {round}: {e}"));
        expected.insert(payload);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_gets_through_while_one_broker_after_another_is_stopped() {
    let cluster = EmbeddedBroker::start_cluster(ClusterSpec {
        brokers: 3,
        partitions: 3,
        groups: vec![GROUP.into()],
    })
    .unwrap();
    assert_eq!(cluster.bootstrap_servers().split(',').count(), 3);
    let directory = std::env::temp_dir().join(format!("fte-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let address_file = directory.join("broker.addr");
    std::fs::write(&address_file, cluster.bootstrap_servers()).unwrap();
    let bootstrap = Bootstrap::resolve(&settings(address_file.display().to_string()))
        .await
        .unwrap();
    assert!(matches!(bootstrap.source, BrokerSource::AddressFile(_)));
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let consumer = consumer::at_least_once(&bootstrap, GROUP, &[topics::TICKETS_INCOMING]).unwrap();

    let mut expected = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut arrived = 0;
    publish_round(&publisher, "all-up", &mut expected).await;
    arrived += consume_all(&consumer, &expected, &mut seen).await;
    for broker in 1..=3 {
        cluster.stop_broker(broker).unwrap();
        publish_round(
            &publisher,
            &format!("broker-{broker}-stopped"),
            &mut expected,
        )
        .await;
        arrived += consume_all(&consumer, &expected, &mut seen).await;
        cluster.start_broker(broker).unwrap();
    }
    publish_round(&publisher, "all-back", &mut expected).await;
    arrived += consume_all(&consumer, &expected, &mut seen).await;

    assert_eq!(seen, expected);
    assert_eq!(
        arrived,
        expected.len(),
        "an idempotent publisher writes each message once"
    );
    let last_up = cluster.stop_broker(1).and(cluster.stop_broker(2));
    assert!(last_up.is_ok());
    let refused = cluster.stop_broker(3).unwrap_err().to_string();
    assert!(refused.contains("last one up"), "{refused}");
    let _ = std::fs::remove_dir_all(directory);
}
