//! The probes against a real PostgreSQL and the embedded broker.

use std::sync::Arc;
use std::time::Instant;

use fte_bus::{Bootstrap, KafkaPublisher};
use fte_gateway::AppState;
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, KafkaSettings, Lookup};
use serde_json::Value;
use sqlx::PgPool;

struct TestApp {
    address: String,
    client: reqwest::Client,
    bootstrap: Bootstrap,
}

impl TestApp {
    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

async fn spawn_app_with(pool: PgPool) -> TestApp {
    let lookup = Lookup::from_fn(|key| match key {
        "FTE_BROKER_ADDRESS_FILE" => Some("/nonexistent/fte-broker.addr".into()),
        "KAFKA_TOPIC_PARTITIONS" => Some("1".into()),
        _ => None,
    });
    let kafka = KafkaSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let bootstrap = Bootstrap::resolve(&kafka).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let api = ApiSettings::from_lookup(&Lookup::from_fn(|_| None), Profile::Dev).unwrap();
    let state = AppState {
        pool,
        publisher,
        api: Arc::new(api),
        profile: Profile::Dev,
        started_at: Instant::now(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(fte_gateway::startup::serve(listener, state, shutdown));
    TestApp {
        address,
        client: reqwest::Client::new(),
        bootstrap,
    }
}

async fn spawn_app() -> TestApp {
    spawn_app_with(fte_store::testing::fresh_database().await).await
}

#[tokio::test]
async fn health_is_200_when_postgres_and_kafka_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get("/health").await;
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
    let (status, _) = app.get("/ready").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn health_is_503_naming_kafka_while_the_broker_is_down_and_recovers() {
    let app = spawn_app().await;
    let broker = app.bootstrap.embedded.as_ref().unwrap();
    broker.set_down(true).unwrap();
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 503, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["checks"]["kafka"]["status"], "error");
    assert_eq!(json["checks"]["postgres"]["status"], "ok");
    let (status, _) = app.get("/ready").await;
    assert_eq!(status, 503);

    broker.set_down(false).unwrap();
    let mut last = 0;
    for _ in 0..20 {
        last = app.get("/health").await.0;
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
    let app = spawn_app_with(pool).await;
    let (status, body) = app.get("/health").await;
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
    let (status, body) = app.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("fte_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}"),
        "{body}"
    );
    assert!(body.contains("fte_http_request_duration_seconds_bucket"));
    assert!(body.contains("fte_db_pool_max_connections"));
}
