//! The whole worker (`startup::run`) on the embedded broker and a fresh
//! database, and its health report.

use std::sync::Arc;
use std::time::Duration;

use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_channels::{GuardedSender, ReplySender, SendError};
use fte_domain::Channel;
use fte_fakes::RecordingSender;
use fte_runtime::settings::KafkaSettings;
use fte_testkit::worker::{count, harness, inbound};
use fte_worker::consumer::ConsumerConfig;
use fte_worker::health::{self, HealthState};
use fte_worker::startup::{self, Worker};
use tokio_util::sync::CancellationToken;

fn kafka_settings() -> KafkaSettings {
    fte_testkit::broker::group_settings()
}

fn guarded(sender: Arc<RecordingSender>) -> Arc<GuardedSender> {
    let sender: Arc<dyn ReplySender> = sender;
    Arc::new(GuardedSender::new(sender, 1, Duration::from_secs(60)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_worker_answers_a_published_message_end_to_end_and_stops_cleanly() {
    let h = harness().await;
    let bootstrap = Arc::new(Bootstrap::resolve(&kafka_settings()).await.unwrap());
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let recorders: Vec<Arc<RecordingSender>> = Channel::ALL
        .iter()
        .map(|c| Arc::new(RecordingSender::new(*c)))
        .collect();
    let mut ctx = h.ctx.clone();
    ctx.config.sender_poll_interval = Duration::from_millis(50);
    let worker = Worker {
        ctx,
        bootstrap: bootstrap.clone(),
        publisher: publisher.clone(),
        senders: recorders.iter().cloned().map(guarded).collect(),
        enabled: Default::default(),
        readiness: Default::default(),
        consumer: ConsumerConfig::new("fte-test-run"),
        probe_addr: None,
        gmail: None,
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(startup::run(worker, shutdown.clone()));

    let event = inbound(
        Channel::Whatsapp,
        "SM-e2e",
        None,
        Some("whatsapp:+34612345678"),
        None,
        "hi",
    );
    publisher
        .publish(
            topics::TICKETS_INCOMING,
            &event.payload.partition_key(),
            &serde_json::to_vec(&event).unwrap(),
            &[],
        )
        .await
        .unwrap();

    let whatsapp = &recorders[1];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while whatsapp.sent().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reply delivered within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the worker stops within its grace period")
        .unwrap()
        .expect("the worker stops without error");

    assert_eq!(whatsapp.sent().len(), 1);
    assert_eq!(
        whatsapp.sent()[0].to,
        fte_channels::Recipient::Phone(fte_domain::PhoneNumber::parse("+34612345678").unwrap())
    );
    assert!(recorders[0].sent().is_empty() && recorders[2].sent().is_empty());
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from reply_outbox where status = 'sent'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&h.pool, "select count(*) from event_outbox").await,
        0,
        "every event was published before the worker stopped"
    );
}

#[tokio::test]
async fn health_reports_each_dependency_and_channel_and_fails_without_postgres() {
    let h = harness().await;
    let bootstrap = Bootstrap::resolve(&kafka_settings()).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let email = Arc::new(RecordingSender::new(Channel::Email));
    let email_guarded = guarded(email.clone());
    let whatsapp_guarded = guarded(Arc::new(RecordingSender::new(Channel::Whatsapp)));
    // Degrade email: its breaker opens after one provider failure.
    email.fail_next(SendError::Transient {
        reason: "503".into(),
        retry_after: None,
    });
    let reply = fte_testkit::worker::outbound_reply(Channel::Email);
    assert!(email_guarded.send(&reply).await.is_err());

    let state = HealthState {
        pool: h.pool.clone(),
        publisher: publisher.clone(),
        senders: vec![email_guarded.clone(), whatsapp_guarded.clone()],
        enabled: Default::default(),
        alerts: Default::default(),
        readiness: Default::default(),
        lanes: None,
    };
    let (status, body) = health::report(&state).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["postgres"], "up");
    assert_eq!(body["kafka"], "up");
    assert_eq!(body["channels"]["email"], "degraded");
    assert_eq!(
        body["channels"]["whatsapp"], "recording",
        "a recording sender delivers nothing, and health says so"
    );

    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://fte@127.0.0.1:1/none")
        .unwrap();
    let down = HealthState {
        pool: unreachable,
        ..state
    };
    let (status, body) = health::report(&down).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["postgres"], "down");
}

async fn get(app: &axum::Router, path: &str) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn liveness_ignores_dependencies_while_readiness_follows_them_and_held_conditions() {
    let h = harness().await;
    let bootstrap = Bootstrap::resolve(&kafka_settings()).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let readiness = Arc::new(fte_runtime::readiness::Readiness::new());
    let state = HealthState {
        pool: h.pool.clone(),
        publisher: publisher.clone(),
        senders: vec![guarded(Arc::new(RecordingSender::new(Channel::WebForm)))],
        enabled: fte_runtime::settings::EnabledChannels::only(&[Channel::WebForm]),
        alerts: Default::default(),
        readiness: readiness.clone(),
        lanes: None,
    };
    let app = health::router(state.clone());
    assert_eq!(get(&app, "/live").await.0, 200);
    assert_eq!(get(&app, "/ready").await.0, 200);
    let (_, body) = get(&app, "/health").await;
    assert_eq!(body["channels"]["email"], "disabled", "{body}");
    assert_eq!(body["channels"]["whatsapp"], "disabled", "{body}");

    readiness.hold(
        "partition_stuck",
        "fte.tickets.incoming/1 has not moved for 300 s",
    );
    let (status, body) = get(&app, "/ready").await;
    assert_eq!(
        status, 503,
        "a held condition takes the worker out of rotation"
    );
    assert_eq!(body["not_ready"][0]["name"], "partition_stuck", "{body}");
    assert_eq!(get(&app, "/live").await.0, 200, "but never restarts it");
    readiness.release("partition_stuck");
    assert_eq!(get(&app, "/ready").await.0, 200);

    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://fte@127.0.0.1:1/none")
        .unwrap();
    let down = health::router(HealthState {
        pool: unreachable,
        ..state
    });
    let (status, body) = get(&down, "/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["postgres"], "down");
    assert_eq!(
        get(&down, "/live").await.0,
        200,
        "a database outage must not restart the worker"
    );
}
