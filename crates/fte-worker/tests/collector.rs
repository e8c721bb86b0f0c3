//! The metrics collector: `agent.turn` events in, `agent_metrics` rows and
//! aggregates out (idempotent on the event id), windowing, consumer lag
//! against the embedded broker, the worker's `/health` while an alert holds,
//! and the metric names the Grafana dashboard and the PrometheusRule use.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_bus::consumer as bus_consumer;
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher, topics};
use fte_domain::{Channel, EventEnvelope};
use fte_runtime::alerts::{AlertBook, Transition};
use fte_runtime::settings::{AlertSettings, KafkaSettings};
use fte_store::PgPool;
use fte_store::metrics::{self as store_metrics, OVERALL};
use fte_testkit::worker::{count, harness, inbound};
use fte_worker::collector::{self, Recorded, TURN_EVENT, TurnEvent};
use fte_worker::consumer::ConsumerConfig;
use fte_worker::{Outcome, handle_event};
use futures::StreamExt;
use rdkafka::Message;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn turn(channel: Channel, conversation_id: Uuid, latency_ms: u32) -> TurnEvent {
    TurnEvent {
        channel,
        conversation_id,
        ticket_id: Uuid::new_v4(),
        latency_ms,
        tokens_used: 100,
        prompt_tokens: 80,
        completion_tokens: 20,
        embedding_tokens: 0,
        // Only the test of the cost counter spends money, so its delta is its own.
        cost_micro_usd: 0.0,
        tool_calls: 2,
        kb_searches: 2,
        kb_hits: 1,
        failed_tool_calls: 0,
        escalated: false,
        sentiment: 0.5,
    }
}

fn event(payload: TurnEvent, hours_ago: i64) -> EventEnvelope<TurnEvent> {
    EventEnvelope::new(
        TURN_EVENT,
        Utc::now() - chrono::Duration::hours(hours_ago),
        payload,
    )
}

#[tokio::test]
async fn an_agent_turn_event_becomes_one_row_per_figure_and_a_redelivery_changes_nothing() {
    let h = harness().await;
    let turns = || {
        fte_runtime::metrics::global()
            .agent_turns
            .with_label_values(&["whatsapp", "escalated"])
            .get()
    };
    let before = turns();
    let mut payload = turn(Channel::Whatsapp, Uuid::new_v4(), 1200);
    payload.escalated = true;
    payload.failed_tool_calls = 1;
    let event = event(payload, 0);

    assert_eq!(
        collector::record(&h.pool, &event).await.unwrap(),
        Recorded::New
    );
    assert_eq!(
        collector::record(&h.pool, &event).await.unwrap(),
        Recorded::Duplicate,
        "the event id makes a redelivery a no-op"
    );

    assert_eq!(
        count(&h.pool, "select count(*) from agent_metrics").await,
        12
    );
    let escalated: f64 = sqlx::query_scalar(
        "select metric_value::float8 from agent_metrics
         where metric_name = 'escalated' and channel = 'whatsapp' and event_id = $1",
    )
    .bind(event.event_id)
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(escalated, 1.0);
    assert_eq!(turns() - before, 1, "Prometheus counts the turn once");
}

#[tokio::test]
async fn the_worker_step_publishes_the_turn_with_its_agent_level_figures_and_writes_no_rows() {
    let h = harness().await;
    let message = inbound(
        Channel::Email,
        "collector-step-1",
        Some("step@example.com"),
        None,
        None,
        "How do I turn on two-factor authentication?",
    );
    let handled = handle_event(&h.ctx, &message).await.unwrap();
    assert!(matches!(handled, Outcome::Handled(_)), "{handled:?}");

    assert_eq!(
        count(&h.pool, "select count(*) from agent_metrics").await,
        0,
        "the collector is the only writer of agent_metrics"
    );
    let events = h.events.on_topic(topics::METRICS);
    assert_eq!(events.len(), 1, "{events:?}");
    let published: EventEnvelope<TurnEvent> = serde_json::from_value(events[0].clone()).unwrap();
    assert_eq!(published.event_type, TURN_EVENT);
    assert_eq!(published.payload.channel, Channel::Email);
    assert_eq!(published.payload.latency_ms, 7);
    assert_eq!(published.payload.tokens_used, 42);
    assert_eq!(
        (
            published.payload.prompt_tokens,
            published.payload.completion_tokens,
            published.payload.embedding_tokens
        ),
        (30, 12, 0),
        "prompt and completion tokens travel apart"
    );
    // 30 prompt tokens at $0.15/M and 12 completion tokens at $0.60/M
    // (the default model's prices): 4.5 + 7.2 micro-dollars.
    assert!(
        (published.payload.cost_micro_usd - 11.7).abs() < 1e-9,
        "{}",
        published.payload.cost_micro_usd
    );
    for field in ["kb_searches", "kb_hits", "failed_tool_calls"] {
        assert!(
            events[0]["payload"].get(field).is_some(),
            "the event carries {field}: {}",
            events[0]
        );
    }

    assert_eq!(
        collector::record(&h.pool, &published).await.unwrap(),
        Recorded::New
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from agent_metrics where channel = 'email'"
        )
        .await,
        12
    );
}

#[tokio::test]
async fn a_turn_records_its_tokens_by_kind_and_its_cost_and_counts_them_once() {
    let h = harness().await;
    let metrics = fte_runtime::metrics::global();
    // Other tests record turns concurrently, but none with embedding
    // tokens or a cost.
    let embedding = || {
        metrics
            .model_tokens
            .with_label_values(&["web_form", "embedding"])
            .get()
    };
    let cost = || {
        metrics
            .model_cost_usd
            .with_label_values(&["web_form"])
            .get()
    };
    let (embedding_before, cost_before) = (embedding(), cost());
    let mut payload = turn(Channel::WebForm, Uuid::new_v4(), 900);
    payload.embedding_tokens = 9;
    payload.cost_micro_usd = 24.18;
    let event = event(payload, 0);

    collector::record(&h.pool, &event).await.unwrap();
    collector::record(&h.pool, &event).await.unwrap();

    let figures: Vec<(String, f64)> = sqlx::query_as(
        "select metric_name, metric_value::float8 from agent_metrics
         where event_id = $1
           and metric_name in ('prompt_tokens', 'completion_tokens', 'embedding_tokens',
                               'model_cost_micro_usd')
         order by metric_name",
    )
    .bind(event.event_id)
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        figures,
        vec![
            ("completion_tokens".to_owned(), 20.0),
            ("embedding_tokens".to_owned(), 9.0),
            ("model_cost_micro_usd".to_owned(), 24.18),
            ("prompt_tokens".to_owned(), 80.0),
        ]
    );
    assert_eq!(
        embedding() - embedding_before,
        9,
        "counted once despite the redelivery"
    );
    assert!(
        ((cost() - cost_before) - 24.18e-6).abs() < 1e-12,
        "the cost counter is in dollars"
    );
}

#[test]
fn an_event_written_before_the_split_still_decodes_with_zero_cost() {
    let old = serde_json::json!({
        "channel": "email",
        "conversation_id": Uuid::new_v4(),
        "ticket_id": Uuid::new_v4(),
        "latency_ms": 10,
        "tokens_used": 300,
        "tool_calls": 1,
        "escalated": false,
        "sentiment": 0.0
    });
    let turn: TurnEvent = serde_json::from_value(old).unwrap();
    assert_eq!(turn.tokens_used, 300);
    assert_eq!((turn.prompt_tokens, turn.completion_tokens), (0, 0));
    assert_eq!(turn.cost_micro_usd, 0.0);
}

async fn seed_ticket(pool: &PgPool, channel: &str, status: &str, hours_ago: i64) {
    let customer: Uuid = sqlx::query_scalar("insert into customers default values returning id")
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into tickets (customer_id, source_channel, status, created_at, escalated_at)
         values ($1, $2, $3, now() - make_interval(hours => $4),
                 case when $3 = 'escalated' then now() end)",
    )
    .bind(customer)
    .bind(channel)
    .bind(status)
    .bind(hours_ago as i32)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn aggregates_cover_each_channel_and_overall_within_the_window_only() {
    let h = harness().await;
    let conversation = Uuid::new_v4();
    // Now: 20 web turns of 100..2000 ms in one conversation, one email turn.
    for i in 1..=20 {
        let e = event(turn(Channel::WebForm, conversation, i * 100), 0);
        collector::record(&h.pool, &e).await.unwrap();
    }
    let mut email = turn(Channel::Email, Uuid::new_v4(), 4000);
    email.kb_hits = 0;
    email.failed_tool_calls = 1;
    email.sentiment = -0.5;
    collector::record(&h.pool, &event(email, 0)).await.unwrap();
    // Three hours ago: a very slow WhatsApp turn, outside the hour, inside the day.
    collector::record(
        &h.pool,
        &event(turn(Channel::Whatsapp, Uuid::new_v4(), 60_000), 3),
    )
    .await
    .unwrap();
    seed_ticket(&h.pool, "web_form", "escalated", 0).await;
    for _ in 0..3 {
        seed_ticket(&h.pool, "web_form", "open", 0).await;
    }

    let hour = store_metrics::channel_level(&h.pool, Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    let labels: Vec<&str> = hour.iter().map(|l| l.channel.as_str()).collect();
    assert_eq!(labels, ["email", "whatsapp", "web_form", OVERALL]);
    let web = &hour[2];
    // percentile_cont over 100, 200, …, 2000: 1900 + 0.05 * 100.
    let p95 = web.p95_latency_ms.unwrap();
    assert!((p95 - 1905.0).abs() < 1e-6, "P95 is {p95}");
    assert_eq!(web.avg_latency_ms, Some(1050.0));
    assert_eq!(web.escalation_rate(), 0.25);
    assert_eq!(
        hour[1].p95_latency_ms, None,
        "the slow turn is outside the hour"
    );
    let overall = &hour[3];
    assert_eq!(overall.tickets, 4);
    assert!(overall.p95_latency_ms.unwrap() > 1905.0, "{overall:?}");

    let day = store_metrics::channel_level(&h.pool, Utc::now() - chrono::Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(day[1].p95_latency_ms, Some(60_000.0), "inside the day");

    let agent = store_metrics::agent_level(&h.pool, Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    let web = &agent[2];
    assert_eq!((web.turns, web.conversations), (20, 1));
    assert_eq!(web.tool_usage_frequency(), Some(40.0));
    assert_eq!(web.knowledge_base_hit_rate(), Some(0.5));
    assert_eq!(web.token_usage_per_conversation(), Some(2000.0));
    assert_eq!(web.error_rate(), Some(0.0));
    let overall = &agent[3];
    assert_eq!((overall.turns, overall.conversations), (21, 2));
    assert_eq!(overall.knowledge_base_hit_rate(), Some(20.0 / 42.0));
    assert_eq!(overall.error_rate(), Some(1.0 / 42.0));

    let business =
        store_metrics::business_level(&h.pool, Utc::now() - chrono::Duration::hours(24), 3600)
            .await
            .unwrap();
    let turns: i64 = business.sentiment_trend.iter().map(|p| p.turns).sum();
    assert_eq!(
        turns, 22,
        "every turn of the day is in one bucket or another"
    );
    assert!(
        business.sentiment_trend.len() >= 2,
        "three hours apart means two buckets: {:?}",
        business.sentiment_trend
    );
}

fn kafka_settings() -> KafkaSettings {
    fte_testkit::broker::group_settings()
}

async fn broker() -> (Arc<Bootstrap>, KafkaPublisher) {
    let bootstrap = Bootstrap::resolve(&kafka_settings()).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    (Arc::new(bootstrap), publisher)
}

async fn group_lag(bootstrap: &Arc<Bootstrap>, group: &str, topic: &str) -> i64 {
    let (b, g, t) = (bootstrap.clone(), group.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        bus_consumer::group_lag(&b, &g, &t, Duration::from_secs(10))
    })
    .await
    .unwrap()
    .unwrap()
    .iter()
    .map(|(_, lag)| lag)
    .sum()
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_collector_group_consumes_fte_metrics_and_its_lag_drains_to_zero_on_the_broker() {
    let h = harness().await;
    let (bootstrap, publisher) = broker().await;
    let group = "fte-test-metrics-collector";
    for i in 0..5u32 {
        let e = event(turn(Channel::Email, Uuid::new_v4(), 100 + i), 0);
        publisher
            .publish_json(topics::METRICS, &e.payload.conversation_id.to_string(), &e)
            .await
            .unwrap();
    }
    // Another event type is skipped; garbage goes to the dead-letter queue.
    let other = EventEnvelope::new("ticket.resolved", Utc::now(), serde_json::json!({}));
    publisher
        .publish_json(topics::METRICS, "k", &other)
        .await
        .unwrap();
    publisher
        .publish(topics::METRICS, "k", b"{not json", &[])
        .await
        .unwrap();
    assert_eq!(
        group_lag(&bootstrap, group, topics::METRICS).await,
        7,
        "a group that never committed lags by everything on the topic"
    );

    let mut config = ConsumerConfig::new(group);
    config.lag_interval = Duration::from_millis(500);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(collector::run(
        h.pool.clone(),
        bootstrap.clone(),
        publisher.clone(),
        config,
        "fte-test-message-processor".into(),
        shutdown.clone(),
    ));
    eventually("60 agent_metrics rows", async || {
        count(&h.pool, "select count(*) from agent_metrics").await >= 60
    })
    .await;
    // Offsets are committed every second; the lag drains to zero.
    eventually("the collector's lag to reach 0", async || {
        group_lag(&bootstrap, group, topics::METRICS).await == 0
    })
    .await;
    // The message consumer's group never ran: its stored lag is whatever
    // is on fte.tickets.incoming (nothing here), measured by the collector.
    eventually("the stored lag of the message group", async || {
        count(
            &h.pool,
            "select count(*) from consumer_lag where group_id = 'fte-test-message-processor'",
        )
        .await
            > 0
    })
    .await;
    shutdown.cancel();
    task.await.unwrap().expect("the collector stops cleanly");
    assert_eq!(
        count(&h.pool, "select count(*) from agent_metrics").await,
        60,
        "twelve figures for each of the five turns"
    );

    let dlq =
        bus_consumer::at_least_once(&bootstrap, "fte-test-collector-dlq", &[topics::DLQ]).unwrap();
    let dead = tokio::time::timeout(Duration::from_secs(30), dlq.stream().next())
        .await
        .expect("a dead letter within 30 s")
        .unwrap()
        .unwrap();
    assert_eq!(dead.payload(), Some(&b"{not json"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lag_of_a_group_that_commits_part_of_a_topic_is_the_rest() {
    let h = harness().await;
    let (bootstrap, publisher) = broker().await;
    let group = "fte-test-lag-partial";
    for i in 0..10 {
        publisher
            .publish(topics::TICKETS_INCOMING, &format!("key-{i}"), b"{}", &[])
            .await
            .unwrap();
    }
    assert_eq!(
        group_lag(&bootstrap, group, topics::TICKETS_INCOMING).await,
        10
    );

    // Consume and commit four messages in the group.
    let consumer =
        bus_consumer::at_least_once(&bootstrap, group, &[topics::TICKETS_INCOMING]).unwrap();
    {
        let mut stream = consumer.stream();
        for _ in 0..4 {
            let message = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .expect("a message within 30 s")
                .unwrap()
                .unwrap();
            bus_consumer::store_offset(&consumer, &message).unwrap();
        }
    }
    bus_consumer::commit_final(&consumer).unwrap();
    assert_eq!(
        group_lag(&bootstrap, group, topics::TICKETS_INCOMING).await,
        6
    );

    collector::measure_lag(
        &bootstrap,
        &h.pool,
        &[(group.to_owned(), topics::TICKETS_INCOMING)],
    )
    .await;
    let stored: i64 = sqlx::query_scalar(
        "select sum(lag)::int8 from consumer_lag where group_id = $1 and topic = $2",
    )
    .bind(group)
    .bind(topics::TICKETS_INCOMING)
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(stored, 6, "the stored lag is what the broker says");
}

#[tokio::test]
async fn a_lag_over_the_threshold_degrades_the_worker_health_until_it_drains() {
    let h = harness().await;
    let (_bootstrap, publisher) = broker().await;
    let book = Arc::new(AlertBook::new());
    let settings = AlertSettings::default();
    let state = fte_worker::health::HealthState {
        pool: h.pool.clone(),
        publisher,
        senders: vec![],
        enabled: Default::default(),
        alerts: book.clone(),
        readiness: Default::default(),
        lanes: None,
    };
    store_metrics::store_consumer_lag(&h.pool, "fte-message-processor", "t", &[(0, 80), (1, 40)])
        .await
        .unwrap();

    let started = fte_worker::alerts::evaluate_once(&h.pool, &settings, None, &book)
        .await
        .unwrap();
    assert!(
        matches!(&started[..], [Transition::Started(a)] if a.name == "FteKafkaConsumerLagHigh"),
        "120 summed over partitions is above 100: {started:?}"
    );
    let (status, body) = fte_worker::health::report(&state).await;
    assert_eq!(status, 200, "an alert does not take the worker out: {body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["alerts"][0]["name"], "FteKafkaConsumerLagHigh");
    assert!(
        body["alerts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("120"),
        "{body}"
    );
    assert!(body["alerts"][0]["since"].is_string());

    store_metrics::store_consumer_lag(&h.pool, "fte-message-processor", "t", &[(0, 0), (1, 3)])
        .await
        .unwrap();
    let cleared = fte_worker::alerts::evaluate_once(&h.pool, &settings, None, &book)
        .await
        .unwrap();
    assert!(
        matches!(&cleared[..], [Transition::Cleared(_)]),
        "{cleared:?}"
    );
    let (_, body) = fte_worker::health::report(&state).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["alerts"], serde_json::json!([]));
}

/// `fte_…` names in a monitoring file, histogram suffixes kept (the
/// exposition has them too).
fn metric_names(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if boundary && &bytes[i..i + 4] == b"fte_" {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_'))
                .map_or(bytes.len(), |p| i + p);
            names.insert(text[i..end].to_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

#[tokio::test]
async fn every_metric_the_dashboard_and_the_alert_rules_use_is_exported_under_that_name() {
    // Move every family once so the exposition lists it, as a running
    // worker and gateway would after their first request and turn.
    let h = harness().await;
    let e = event(turn(Channel::Email, Uuid::new_v4(), 250), 0);
    collector::record(&h.pool, &e).await.unwrap();
    let m = fte_runtime::metrics::global();
    m.expose_every_family();
    fte_store::record_pool_metrics(&h.pool);
    AlertBook::new().update(Utc::now(), vec![]);
    let exported: BTreeSet<String> = m
        .encode()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect();

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in [
        "k8s/monitoring/grafana-dashboard.json",
        "k8s/monitoring/prometheusrule.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let used = metric_names(&text);
        assert!(!used.is_empty(), "{file} names no fte_ metric");
        let missing: Vec<&String> = used.difference(&exported).collect();
        assert!(
            missing.is_empty(),
            "{file} uses metrics the binaries do not export: {missing:?}"
        );
    }
    for name in [
        "fte_agent_turns_total",
        "fte_agent_turn_latency_seconds_bucket",
        "fte_agent_failed_tool_calls_total",
        "fte_metrics_events_total",
        "fte_alert_active",
    ] {
        assert!(exported.contains(name), "{name} is exported");
    }
}

/// Measurement, not a check: `cargo test --release -p fte-worker --test
/// collector -- --ignored --nocapture` prints how fast the collector records
/// turns one by one and how long each level's SQL takes over 100,000 turns
/// (800,000 rows) spread over a week.
#[tokio::test]
#[ignore = "measurement; run explicitly"]
async fn measure_recording_and_the_level_queries() {
    let h = harness().await;
    let started = std::time::Instant::now();
    for i in 0..2000u32 {
        let e = event(turn(Channel::Email, Uuid::new_v4(), 100 + i % 900), 0);
        collector::record(&h.pool, &e).await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "record: 2000 turns in {:.2} s ({:.0} turns/s, one at a time)",
        elapsed.as_secs_f64(),
        2000.0 / elapsed.as_secs_f64()
    );
    sqlx::query(
        "insert into agent_metrics (event_id, metric_name, metric_value, channel, dimensions, recorded_at)
         select e.id, n.name, (random() * 3000)::numeric(14, 4),
                (array['email', 'whatsapp', 'web_form'])[1 + e.i % 3],
                jsonb_build_object('conversation_id', gen_random_uuid()),
                now() - make_interval(secs => e.i * 6.048)
         from (select i, gen_random_uuid() as id from generate_series(1, 100000) i) e
         cross join unnest(array['response_latency_ms', 'tokens_used', 'sentiment', 'tool_calls',
                                 'kb_searches', 'kb_hits', 'failed_tool_calls', 'escalated']) n(name)",
    )
    .execute(&h.pool)
    .await
    .unwrap();
    sqlx::query("analyze agent_metrics")
        .execute(&h.pool)
        .await
        .unwrap();
    for (label, hours) in [("1h", 1), ("24h", 24), ("7d", 168)] {
        let since = Utc::now() - chrono::Duration::hours(hours);
        let t = std::time::Instant::now();
        store_metrics::channel_level(&h.pool, since).await.unwrap();
        let channel = t.elapsed();
        let t = std::time::Instant::now();
        store_metrics::agent_level(&h.pool, since).await.unwrap();
        let agent = t.elapsed();
        let t = std::time::Instant::now();
        store_metrics::business_level(&h.pool, since, 3600)
            .await
            .unwrap();
        let business = t.elapsed();
        println!(
            "{label}: channel level {} ms, agent level {} ms, business level {} ms",
            channel.as_millis(),
            agent.as_millis(),
            business.as_millis()
        );
    }
}
