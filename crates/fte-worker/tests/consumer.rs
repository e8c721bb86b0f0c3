//! The Kafka loop on the embedded broker against a fresh database: poison
//! messages to the DLQ, redelivery after a crash, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use fte_bus::consumer::{self as bus_consumer, dlq_headers};
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher, topics};
use fte_domain::{Channel, EventEnvelope, InboundMessage};
use fte_runtime::settings::KafkaSettings;
use fte_testkit::worker::{count, harness, inbound};
use fte_worker::consumer::{self, ConsumerConfig};
use fte_worker::{Outcome, WorkerContext, handle_event};
use futures::StreamExt;
use rdkafka::Message;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

fn settings() -> KafkaSettings {
    fte_testkit::broker::group_settings()
}

async fn broker() -> (Arc<Bootstrap>, KafkaPublisher) {
    let bootstrap = Bootstrap::resolve(&settings()).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    (Arc::new(bootstrap), publisher)
}

fn start(
    ctx: WorkerContext,
    bootstrap: Arc<Bootstrap>,
    publisher: KafkaPublisher,
    group: &str,
) -> (JoinHandle<()>, CancellationToken) {
    let mut config = ConsumerConfig::new(group);
    config.concurrency = 4;
    start_with(ctx, bootstrap, publisher, config)
}

fn start_with(
    ctx: WorkerContext,
    bootstrap: Arc<Bootstrap>,
    publisher: KafkaPublisher,
    mut config: ConsumerConfig,
) -> (JoinHandle<()>, CancellationToken) {
    let shutdown = CancellationToken::new();
    config.shutdown_grace = Duration::from_secs(20);
    let token = shutdown.clone();
    let handle = tokio::spawn(async move {
        consumer::run(ctx, &bootstrap, publisher, config, token)
            .await
            .expect("the consumer stops cleanly");
    });
    (handle, shutdown)
}

async fn publish(publisher: &KafkaPublisher, event: &EventEnvelope<InboundMessage>) {
    let payload = serde_json::to_vec(event).unwrap();
    publisher
        .publish(
            topics::TICKETS_INCOMING,
            &event.payload.partition_key(),
            &payload,
            &[],
        )
        .await
        .unwrap();
}

async fn wait_for(pool: &fte_store::PgPool, sql: &str, expected: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = count(pool, sql).await;
        if n >= expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for `{sql}` to reach {expected} (at {n})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_message_lands_in_the_dlq_with_its_origin_and_the_consumer_moves_on() {
    let h = harness().await;
    let (bootstrap, publisher) = broker().await;
    let good = inbound(
        Channel::Email,
        "g-after-poison",
        Some("a@example.com"),
        None,
        None,
        "q",
    );
    publisher
        .publish(
            topics::TICKETS_INCOMING,
            &good.payload.partition_key(),
            b"{not json",
            &[],
        )
        .await
        .unwrap();
    publish(&publisher, &good).await;

    let (task, shutdown) = start(
        h.ctx.clone(),
        bootstrap.clone(),
        publisher.clone(),
        "fte-test-poison",
    );
    wait_for(&h.pool, "select count(*) from reply_outbox", 1).await;
    shutdown.cancel();
    task.await.unwrap();

    let dlq =
        bus_consumer::at_least_once(&bootstrap, "fte-test-poison-reader", &[topics::DLQ]).unwrap();
    let dead = tokio::time::timeout(Duration::from_secs(30), dlq.stream().next())
        .await
        .expect("a dead letter within 30 s")
        .unwrap()
        .unwrap();
    assert_eq!(dead.payload(), Some(&b"{not json"[..]));
    assert_eq!(
        bus_consumer::header(&dead, dlq_headers::TOPIC),
        Some(topics::TICKETS_INCOMING)
    );
    assert_eq!(
        bus_consumer::header(&dead, dlq_headers::ERROR),
        Some("undecodable")
    );
    assert!(bus_consumer::header(&dead, dlq_headers::OFFSET).is_some());
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivery_after_a_crash_between_commit_and_offset_yields_exactly_one_reply() {
    let h = harness().await;
    let (bootstrap, publisher) = broker().await;
    let event = inbound(
        Channel::Whatsapp,
        "SM-crash",
        None,
        Some("+34612345678"),
        None,
        "hi",
    );
    publish(&publisher, &event).await;
    // The step committed, then the process died before storing the offset:
    // the group's committed position is still before the message.
    assert!(matches!(
        handle_event(&h.ctx, &event).await.unwrap(),
        Outcome::Handled(_)
    ));
    let marker = inbound(
        Channel::Whatsapp,
        "SM-marker",
        None,
        Some("+34612345678"),
        None,
        "next",
    );
    publish(&publisher, &marker).await;

    let (task, shutdown) = start(h.ctx.clone(), bootstrap, publisher, "fte-test-crash");
    wait_for(
        &h.pool,
        "select count(*) from messages where channel_message_id = 'SM-marker'",
        1,
    )
    .await;
    shutdown.cancel();
    task.await.unwrap();

    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where channel_message_id = 'SM-crash'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        2,
        "one reply per message"
    );
    assert_eq!(h.agent.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_shutdown_loses_nothing_and_a_restart_finishes_the_rest() {
    let h = harness().await;
    let (bootstrap, publisher) = broker().await;
    let total = 12;
    for i in 0..total {
        // Several customers, so both partitions carry work.
        let event = inbound(
            Channel::Email,
            &format!("g-{i}"),
            Some(&format!("customer{}@example.com", i % 4)),
            None,
            None,
            "question",
        );
        publish(&publisher, &event).await;
    }
    let group = "fte-test-shutdown";
    let (task, shutdown) = start(h.ctx.clone(), bootstrap.clone(), publisher.clone(), group);
    wait_for(
        &h.pool,
        "select count(*) from messages where direction = 'inbound'",
        3,
    )
    .await;
    shutdown.cancel();
    task.await.unwrap();

    // The drain finished what it started and committed exactly that.
    let handled = count(
        &h.pool,
        "select count(*) from messages where direction = 'inbound'",
    )
    .await;
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        handled,
        "every message the drain started was finished"
    );
    // Customers finish out of order; the committed offsets never pass a
    // message that was not handled (a handled one past them is redelivered
    // and found a duplicate), and they moved.
    let lag = committed_lag(&bootstrap, group).await;
    assert!(
        lag >= total - handled && lag < total,
        "committed up to the handled messages: lag {lag}, {handled} of {total} handled"
    );

    let restarted = std::time::Instant::now();
    let (task, shutdown) = start(h.ctx.clone(), bootstrap.clone(), publisher, group);
    if handled < total {
        wait_for(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'",
            handled + 1,
        )
        .await;
        eprintln!(
            "the restarted consumer handled its first message {:?} after it started",
            restarted.elapsed()
        );
    }
    wait_for(
        &h.pool,
        "select count(*) from messages where direction = 'inbound'",
        total,
    )
    .await;
    // Let the restarted consumer settle so a duplicate would show.
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.cancel();
    task.await.unwrap();

    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        total
    );
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        total,
        "one reply each"
    );
    assert_eq!(
        h.agent.requests().len() as i64,
        total,
        "no message was answered twice"
    );
    assert_eq!(
        committed_lag(&bootstrap, group).await,
        0,
        "everything is committed"
    );
}

/// Messages of `fte.tickets.incoming` past `group`'s committed offsets.
async fn committed_lag(bootstrap: &Arc<Bootstrap>, group: &str) -> i64 {
    let (bootstrap, group) = (bootstrap.clone(), group.to_owned());
    tokio::task::spawn_blocking(move || {
        bus_consumer::group_lag(
            &bootstrap,
            &group,
            topics::TICKETS_INCOMING,
            Duration::from_secs(5),
        )
    })
    .await
    .unwrap()
    .expect("the group's lag")
    .iter()
    .map(|(_, lag)| lag)
    .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_partition_is_paused_not_dropped_and_stays_in_order() {
    let mut h = harness().await;
    h.ctx.config.rate_limit_max = 1000;
    let (bootstrap, publisher) = broker().await;
    let total = 15;
    for i in 0..total {
        // One customer: one key, one partition.
        let event = inbound(
            Channel::Whatsapp,
            &format!("SM-{i:02}"),
            None,
            Some("+34612345678"),
            None,
            "hi",
        );
        publish(&publisher, &event).await;
    }
    let mut config = ConsumerConfig::new("fte-test-busy");
    config.concurrency = 1;
    config.lane_capacity = 1;
    let (task, shutdown) = start_with(h.ctx.clone(), bootstrap, publisher, config);
    wait_for(
        &h.pool,
        "select count(*) from messages where direction = 'inbound'",
        total,
    )
    .await;
    shutdown.cancel();
    task.await.unwrap();

    let order: Vec<String> = sqlx::query_scalar(
        "select channel_message_id from messages where direction = 'inbound' order by created_at",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    let expected: Vec<String> = (0..total).map(|i| format!("SM-{i:02}")).collect();
    assert_eq!(
        order, expected,
        "one partition is processed in order, nothing lost"
    );
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_that_stops_moving_raises_an_alert_and_turns_ready_false() {
    use fte_runtime::alerts::{AlertBook, PARTITION_STUCK, Transition};
    use fte_worker::health::{self, HealthState};
    use fte_worker::stall::LaneWatch;

    let h = harness().await;
    let (bootstrap, publisher) = broker().await;
    // The agent never answers until released: the lane holds its message.
    let gate = h.agent.hold();
    let group = "fte-test-stuck";
    let mut config = ConsumerConfig::new(group);
    config.lanes = Arc::new(LaneWatch::new(
        group,
        topics::TICKETS_INCOMING,
        Duration::from_secs(1),
    ));
    let lanes = config.lanes.clone();
    let event = inbound(
        Channel::Email,
        "g-stuck",
        Some("a@example.com"),
        None,
        None,
        "q",
    );
    publish(&publisher, &event).await;
    let (task, shutdown) = start_with(h.ctx.clone(), bootstrap, publisher.clone(), config);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while h.agent.requests().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the message never reached the agent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let book = Arc::new(AlertBook::for_process("worker"));
    let state = HealthState {
        pool: h.pool.clone(),
        publisher,
        senders: vec![],
        enabled: Default::default(),
        alerts: book.clone(),
        readiness: Default::default(),
        lanes: Some(lanes.clone()),
    };
    let (status, body) = health::readiness(&state).await;
    assert_eq!(status, 503, "a stuck worker is not ready: {body}");
    assert_eq!(body["stuck_partitions"][0]["pending"], 1, "{body}");
    let partition = body["stuck_partitions"][0]["partition"].as_i64().unwrap();
    let transitions = fte_worker::alerts::evaluate_once(
        &h.pool,
        &fte_runtime::settings::AlertSettings::default(),
        Some(&lanes),
        &book,
    )
    .await
    .unwrap();
    assert!(
        transitions.iter().any(
            |t| matches!(t, Transition::Started(a) if a.name == PARTITION_STUCK
                && a.scope == format!("{group}/fte.tickets.incoming/{partition}"))
        ),
        "{transitions:?}"
    );
    let (status, body) = health::report(&state).await;
    assert_eq!(status, 200, "still healthy: {body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["alerts"][0]["name"], PARTITION_STUCK);
    let stuck_secs = fte_runtime::metrics::global()
        .partition_stuck
        .with_label_values(&[group, &partition.to_string()])
        .get();
    assert!(stuck_secs >= 1, "the gauge shows it: {stuck_secs}");

    gate.release();
    wait_for(&h.pool, "select count(*) from reply_outbox", 1).await;
    // The lane moves once the step has returned and its offset is stored,
    // a moment after the outcome's commit.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = health::readiness(&state).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "it moved again: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let transitions = fte_worker::alerts::evaluate_once(
        &h.pool,
        &fte_runtime::settings::AlertSettings::default(),
        Some(&lanes),
        &book,
    )
    .await
    .unwrap();
    assert!(
        transitions
            .iter()
            .any(|t| matches!(t, Transition::Cleared(a) if a.name == PARTITION_STUCK)),
        "{transitions:?}"
    );
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_customer_holds_only_its_own_messages_and_the_offset_waits_for_it() {
    let h = harness().await;
    // One partition: every customer shares it.
    let bootstrap = Arc::new(
        Bootstrap::resolve(&fte_testkit::broker::settings())
            .await
            .unwrap(),
    );
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let gate = h.agent.hold_containing("slow question");
    let first = |id: &str, email: &str, text: &str| {
        inbound(Channel::Email, id, Some(email), None, None, text)
    };
    for event in [
        first("g-a1", "slow@example.com", "a slow question"),
        first("g-a2", "slow@example.com", "and a follow-up"),
        first("g-b1", "quick@example.com", "hi"),
        first("g-c1", "other@example.com", "hello"),
    ] {
        publish(&publisher, &event).await;
    }
    let group = "fte-test-keys";
    let (task, shutdown) = start(h.ctx.clone(), bootstrap.clone(), publisher, group);
    wait_for(&h.pool, "select count(*) from reply_outbox", 2).await;
    let stored = |id: &'static str| {
        let pool = h.pool.clone();
        async move {
            count(
                &pool,
                &format!("select count(*) from messages where channel_message_id = '{id}'"),
            )
            .await
        }
    };
    assert_eq!(stored("g-a1").await, 1, "the slow one is in progress");
    assert_eq!(
        stored("g-a2").await,
        0,
        "its customer's next message waits behind it"
    );
    // Give the automatic commit (every second) its chance to pass it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        committed_lag(&bootstrap, group).await,
        4,
        "nothing is committed past the unfinished first message"
    );
    let assigned = || {
        fte_runtime::metrics::global()
            .kafka_assigned_partitions
            .with_label_values(&[group, fte_bus::topics::TICKETS_INCOMING])
            .get()
    };
    assert_eq!(assigned(), 1, "the gauge shows the one partition held");

    gate.release();
    wait_for(&h.pool, "select count(*) from reply_outbox", 4).await;
    let order: Vec<String> = sqlx::query_scalar(
        "select channel_message_id from messages \
         where channel_message_id in ('g-a1', 'g-a2') order by created_at",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        order,
        ["g-a1", "g-a2"],
        "one customer's messages stay in order"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while committed_lag(&bootstrap, group).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the offset moves once the slow message is done"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(assigned(), 0, "a consumer that left holds nothing");
}
