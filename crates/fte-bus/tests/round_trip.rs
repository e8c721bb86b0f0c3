//! A real Kafka-protocol round trip on the embedded broker: an idempotent,
//! acks=all publish; a consumer-group consume; offsets stored after the work
//! and committed; a second consumer of the group resumes after them.

use std::time::Duration;

use fte_bus::consumer::{self, dlq_headers};
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher, topics};
use fte_runtime::settings::KafkaSettings;
use futures::StreamExt;
use rdkafka::Message;
use rdkafka::consumer::Consumer;

fn settings() -> KafkaSettings {
    fte_testkit::broker::group_settings()
}

/// The next message's payload; its offset is stored (marked processed) only
/// when `processed` is true.
async fn next_payload(
    consumer: &rdkafka::consumer::StreamConsumer,
    processed: bool,
) -> (String, rdkafka::message::OwnedMessage) {
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.stream().next())
        .await
        .expect("a message arrives within 30 s")
        .expect("the stream is open")
        .expect("no consumer error");
    if processed {
        consumer::store_offset(consumer, &message).unwrap();
    }
    let text = String::from_utf8(message.payload().unwrap().to_vec()).unwrap();
    (text, message.detach())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_events_are_consumed_once_by_a_group_and_committed() {
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    publisher
        .check(Duration::from_secs(5))
        .await
        .expect("metadata from the broker");

    let first = publisher
        .publish(topics::TICKETS_INCOMING, "customer-a", b"one", &[])
        .await
        .unwrap();
    let second = publisher
        .publish(topics::TICKETS_INCOMING, "customer-a", b"two", &[])
        .await
        .unwrap();
    assert_eq!(first.partition, second.partition, "one key, one partition");
    assert_eq!(second.offset, first.offset + 1, "in order, no duplicate");

    let group = "fte-test-group";
    {
        let consumer =
            consumer::at_least_once(&bootstrap, group, &[topics::TICKETS_INCOMING]).unwrap();
        let (a, _) = next_payload(&consumer, true).await;
        assert_eq!(a, "one");
        consumer::commit_final(&consumer).unwrap();
        // "two" is consumed but its offset never stored: as if the worker
        // crashed before committing its work.
        let (b, _) = next_payload(&consumer, false).await;
        assert_eq!(b, "two");
        // Drop without storing "two"'s offset.
        let committed = consumer
            .committed(Duration::from_secs(5))
            .unwrap()
            .find_partition(topics::TICKETS_INCOMING, first.partition)
            .and_then(|p| p.offset().to_raw());
        assert!(
            committed.is_some(),
            "an offset was committed for the partition"
        );
        consumer.unsubscribe();
    }
    // A new member of the same group resumes at the first unprocessed message.
    let consumer = consumer::at_least_once(&bootstrap, group, &[topics::TICKETS_INCOMING]).unwrap();
    let (redelivered, _) = next_payload(&consumer, true).await;
    assert_eq!(
        redelivered, "two",
        "the unprocessed message is redelivered, the processed one is not"
    );
    consumer::commit_final(&consumer).unwrap();
    publisher.flush(Duration::from_secs(5)).unwrap();
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dead_letter_queue_with_its_origin() {
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    publisher
        .publish(topics::TICKETS_INCOMING, "k", b"{not json", &[])
        .await
        .unwrap();

    let consumer =
        consumer::at_least_once(&bootstrap, "fte-test-dlq", &[topics::TICKETS_INCOMING]).unwrap();
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.stream().next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    consumer::dead_letter(&publisher, &message, None, "undecodable", "not an event")
        .await
        .unwrap();
    consumer::store_offset(&consumer, &message).unwrap();
    let origin_offset = message.offset().to_string();
    drop(message);

    let dlq = consumer::at_least_once(&bootstrap, "fte-test-dlq-reader", &[topics::DLQ]).unwrap();
    let dead = tokio::time::timeout(Duration::from_secs(30), dlq.stream().next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(dead.payload(), Some(&b"{not json"[..]));
    assert_eq!(
        consumer::header(&dead, dlq_headers::TOPIC),
        Some(topics::TICKETS_INCOMING)
    );
    assert_eq!(
        consumer::header(&dead, dlq_headers::OFFSET),
        Some(origin_offset.as_str())
    );
    assert_eq!(
        consumer::header(&dead, dlq_headers::ERROR),
        Some("undecodable")
    );
    assert_eq!(
        consumer::header(&dead, dlq_headers::REASON),
        Some("not an event")
    );
}

#[tokio::test]
async fn the_health_check_fails_while_the_broker_is_down_and_recovers() {
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    publisher
        .check(Duration::from_secs(5))
        .await
        .expect("up at first");
    let broker = bootstrap.embedded.as_ref().unwrap();
    broker.set_down(true).unwrap();
    assert!(
        publisher.check(Duration::from_millis(1500)).await.is_err(),
        "metadata must fail while the broker is down"
    );
    broker.set_down(false).unwrap();
    let mut recovered = false;
    for _ in 0..20 {
        if publisher.check(Duration::from_secs(1)).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "metadata works again once the broker is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_is_measured_per_partition() {
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    for i in 0..5 {
        publisher
            .publish(topics::METRICS, "same-key", format!("{i}").as_bytes(), &[])
            .await
            .unwrap();
    }
    let consumer = consumer::at_least_once(&bootstrap, "fte-test-lag", &[topics::METRICS]).unwrap();
    let lags = tokio::task::block_in_place(|| {
        consumer::measure_lag(
            &consumer,
            "fte-test-lag",
            topics::METRICS,
            Duration::from_secs(5),
        )
    })
    .unwrap();
    assert_eq!(
        lags.iter().map(|(_, lag)| lag).sum::<i64>(),
        5,
        "nothing consumed yet: {lags:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_produce_errors_are_retried_and_a_broker_failing_every_produce_fails_the_publish()
{
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let broker = bootstrap.embedded.as_ref().unwrap();
    broker
        .fail_requests(fte_bus::FaultedRequest::Produce, 3)
        .unwrap();
    publisher
        .publish(
            topics::TICKETS_INCOMING,
            "customer-f",
            b"through faults",
            &[],
        )
        .await
        .expect("a few retriable produce errors are retried until delivered");

    broker
        .fail_requests(fte_bus::FaultedRequest::Produce, 100_000)
        .unwrap();
    let failed = publisher
        .publish(topics::TICKETS_INCOMING, "customer-f", b"never", &[])
        .await;
    assert!(
        failed.is_err(),
        "every produce request failing must fail the publish within the delivery timeout"
    );
}
