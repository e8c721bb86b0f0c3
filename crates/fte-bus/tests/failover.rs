//! Failover in a consumer group on the embedded broker: cooperative-sticky
//! assignment, and a member that stops cleanly handing its partitions over
//! at once while the others keep theirs.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fte_bus::consumer;
use fte_bus::{Bootstrap, BrokerSource, topics};
use fte_runtime::settings::KafkaSettings;
use futures::StreamExt;
use rdkafka::consumer::{Consumer, RebalanceProtocol, StreamConsumer};

const PARTITIONS: usize = 4;
const SESSION_TIMEOUT: Duration = Duration::from_secs(6);

fn settings() -> KafkaSettings {
    let partitions = PARTITIONS.to_string();
    let session = SESSION_TIMEOUT.as_millis().to_string();
    fte_testkit::broker::settings_with(&[
        ("KAFKA_TOPIC_PARTITIONS", &partitions),
        ("KAFKA_SESSION_TIMEOUT_MS", &session),
        ("KAFKA_MAX_POLL_INTERVAL_MS", "7000"),
    ])
}

fn assigned(consumer: &StreamConsumer) -> BTreeSet<i32> {
    consumer
        .assignment()
        .unwrap()
        .elements()
        .iter()
        .map(|p| p.partition())
        .collect()
}

/// Polls `consumers` (rebalances are served while polling) until `done`
/// holds, checking `each_poll` after every round; panics after 30 s.
async fn poll_until(
    consumers: &[&StreamConsumer],
    mut done: impl FnMut() -> bool,
    mut each_poll: impl FnMut(),
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "the group did not settle in 30 s"
        );
        for consumer in consumers {
            let _ = tokio::time::timeout(Duration::from_millis(50), consumer.stream().next()).await;
        }
        each_poll();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_stops_cleanly_hands_its_partitions_over_at_once_and_the_others_keep_theirs()
{
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
    let group = "fte-test-failover";
    let leaving = consumer::at_least_once(&bootstrap, group, &[topics::TICKETS_INCOMING]).unwrap();
    let staying = consumer::at_least_once(&bootstrap, group, &[topics::TICKETS_INCOMING]).unwrap();
    poll_until(
        &[&leaving, &staying],
        || {
            !assigned(&leaving).is_empty()
                && !assigned(&staying).is_empty()
                && assigned(&leaving).len() + assigned(&staying).len() == PARTITIONS
        },
        || {},
    )
    .await;
    assert!(
        matches!(staying.rebalance_protocol(), RebalanceProtocol::Cooperative),
        "partitions are assigned cooperatively"
    );
    let kept = assigned(&staying);

    let left = Instant::now();
    consumer::stop_fetching(&leaving).unwrap();
    consumer::commit_final(&leaving).unwrap();
    leaving.unsubscribe();
    drop(leaving);
    poll_until(
        &[&staying],
        || assigned(&staying).len() == PARTITIONS,
        || {
            assert!(
                assigned(&staying).is_superset(&kept),
                "the staying member never gave up its own partitions"
            );
        },
    )
    .await;
    // librdkafka's mock broker closes a rebalance after a leave only when
    // its timer (session timeout − 1 s) fires; a real broker closes it as
    // soon as the remaining members rejoined. A member that died without
    // leaving would first have to miss the whole session timeout.
    let handover = left.elapsed();

    eprintln!("the partitions moved {handover:?} after the member left");
    assert!(
        handover < SESSION_TIMEOUT,
        "a member that leaves is not waited for until the session timeout ({handover:?})"
    );
}
