//! The probes against a real PostgreSQL and the embedded broker.

mod common;

use common::{Options, spawn_app, spawn_app_on, spawn_app_with};
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

#[tokio::test]
async fn health_is_503_naming_kafka_while_the_broker_is_down_and_recovers() {
    let app = spawn_app().await;
    let broker = app.bootstrap.embedded.as_ref().unwrap();
    broker.set_down(true).unwrap();
    let (status, body) = app.get_pair("/health").await;
    assert_eq!(status, 503, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["checks"]["kafka"]["status"], "error");
    assert_eq!(json["checks"]["postgres"]["status"], "ok");
    let (status, _) = app.get_pair("/ready").await;
    assert_eq!(status, 503);

    broker.set_down(false).unwrap();
    let mut last = 0;
    for _ in 0..20 {
        last = app.get("/health").await.status;
        if last == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(last, 200, "health recovers without a restart");
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
    let answer = app.submit(&common::valid_form()).await;
    assert_eq!(answer.status, 404, "{}", answer.text);
    assert!(answer.text.contains("disabled"), "{}", answer.text);
}
