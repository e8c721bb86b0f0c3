//! The probes against a real PostgreSQL and the embedded broker.

use fte_testkit::gateway::{Options, spawn_app, spawn_app_on, spawn_app_with};
use serde_json::Value;

#[tokio::test]
async fn health_is_200_when_postgres_and_kafka_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get_pair("/health").await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "healthy");
    assert_eq!(json["checks"]["postgres"]["status"], "ok");
    assert_eq!(json["checks"]["kafka"]["status"], "ok");
    for channel in ["email", "whatsapp", "web_form"] {
        assert_eq!(
            json["channels"][channel], "active",
            "channel {channel}: {body}"
        );
    }
    assert!(json["timestamp"].is_string());
    let (status, _) = app.get_pair("/ready").await;
    assert_eq!(status, 200);
}

/// `/health` until it answers `status`, for at most 5 s; the last answer.
async fn health_until(app: &fte_testkit::gateway::TestApp, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..20 {
        last = app.get("/health").await.json();
        if last["status"] == status {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    last
}

#[tokio::test]
async fn a_short_kafka_outage_is_degraded_but_ready_and_submissions_are_still_accepted() {
    let app = spawn_app().await;
    let broker = app.bootstrap.embedded.as_ref().unwrap();
    broker.set_down(true).unwrap();

    let (status, body) = app.get_pair("/health").await;
    let ready = app.get("/ready").await;
    let submitted = app.submit(&fte_testkit::gateway::valid_form()).await;

    assert_eq!(status, 200, "a broker blip is not downtime: {body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "degraded", "{body}");
    assert_eq!(json["checks"]["kafka"]["status"], "error");
    assert_eq!(json["checks"]["postgres"]["status"], "ok");
    assert!(json["kafka_outage_secs"].is_u64(), "{body}");
    assert_eq!(ready.status, 200, "still in rotation: {}", ready.text);
    assert_eq!(
        submitted.status, 200,
        "accepted through the outbox: {}",
        submitted.text
    );

    broker.set_down(false).unwrap();
    let recovered = health_until(&app, "healthy").await;
    assert_eq!(
        recovered["status"], "healthy",
        "recovers without a restart: {recovered}"
    );
    assert!(recovered.get("kafka_outage_secs").is_none(), "{recovered}");
    let pending = app
        .count_until(
            "select count(*) from web_submit_batches",
            0,
            std::time::Duration::from_secs(10),
        )
        .await;
    assert_eq!(pending, 0, "the outbox published what arrived meanwhile");
}

#[tokio::test]
async fn a_kafka_outage_longer_than_the_grace_is_503_and_not_ready_until_the_broker_returns() {
    let app = spawn_app_with(Options {
        vars: vec![("HEALTH_KAFKA_OUTAGE_GRACE_SECS", "1".into())],
        ..Options::default()
    })
    .await;
    let broker = app.bootstrap.embedded.as_ref().unwrap();
    broker.set_down(true).unwrap();
    assert_eq!(app.get("/health").await.status, 200, "degraded at first");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let (status, body) = app.get_pair("/health").await;
    let ready = app.get("/ready").await;

    assert_eq!(status, 503, "past the grace the outage counts: {body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "unhealthy", "{body}");
    assert_eq!(json["checks"]["kafka"]["status"], "error");
    assert_eq!(ready.status, 503, "{}", ready.text);

    broker.set_down(false).unwrap();
    let recovered = health_until(&app, "healthy").await;
    assert_eq!(recovered["status"], "healthy", "{recovered}");
    assert_eq!(app.get("/ready").await.status, 200);
}

#[tokio::test]
async fn health_is_503_naming_postgres_when_the_database_is_unreachable() {
    // A pool on a port where nothing listens: every check fails fast.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy("postgres://fte@127.0.0.1:9/fte")
        .unwrap();
    let app = spawn_app_on(pool, Options::default()).await;
    let (status, body) = app.get_pair("/health").await;
    assert_eq!(status, 503, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["checks"]["postgres"]["status"], "error");
    assert_eq!(json["checks"]["kafka"]["status"], "ok");
    assert!(
        !body.contains("postgres://"),
        "no connection string in the body: {body}"
    );
}

#[tokio::test]
async fn metrics_expose_request_counts_by_route_template() {
    let app = spawn_app().await;
    app.get("/health").await;
    let (status, body) = app.get_pair("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("fte_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}"),
        "{body}"
    );
    assert!(body.contains("fte_http_request_duration_seconds_bucket"));
    assert!(body.contains("fte_db_pool_max_connections"));
}

#[tokio::test]
async fn liveness_never_checks_dependencies_so_an_outage_restarts_nothing() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy("postgres://fte@127.0.0.1:9/fte")
        .unwrap();
    let app = spawn_app_on(pool, Options::default()).await;
    let (status, body) = app.get_pair("/live").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get("/ready").await.status, 503);
    assert_eq!(app.get("/health").await.status, 503);
}

#[tokio::test]
async fn a_held_readiness_condition_takes_the_gateway_out_of_rotation_until_released() {
    let app = spawn_app().await;
    assert_eq!(app.get("/ready").await.status, 200);
    app.readiness
        .hold("draining", "maintenance of the submit path");
    let answer = app.get("/ready").await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(answer.json()["not_ready"][0]["name"], "draining");
    assert_eq!(app.get("/live").await.status, 200, "not ready is not dead");
    app.readiness.release("draining");
    assert_eq!(app.get("/ready").await.status, 200);
}

#[tokio::test]
async fn metrics_answer_scrapers_but_not_requests_that_came_through_the_trusted_proxy() {
    let app = spawn_app_with(Options {
        vars: vec![("TRUST_PROXY", "true".into())],
        ..Options::default()
    })
    .await;
    assert_eq!(
        app.get("/metrics").await.status,
        200,
        "a direct scrape works"
    );
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(
        proxied.status(),
        404,
        "a request through the ingress never sees /metrics"
    );
}

#[tokio::test]
async fn a_disabled_web_form_answers_404_and_health_says_disabled() {
    use fte_domain::Channel;
    let app = spawn_app_with(Options {
        channels: fte_runtime::settings::EnabledChannels::only(&[Channel::Whatsapp]),
        ..Options::default()
    })
    .await;
    let answer = app.submit(&fte_testkit::gateway::valid_form()).await;
    assert_eq!(answer.status, 404, "{}", answer.text);
    assert!(answer.text.contains("disabled"), "{}", answer.text);
}
