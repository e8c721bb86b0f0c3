//! `GET /metrics/summary` and `/metrics/channels` over recorded agent turns
//! and CRM rows; `/health` degraded while an alert holds.

use std::time::Duration;

use chrono::Utc;
use fte_domain::{ModelPrices, TokenUsage};
use fte_store::PgPool;
use fte_store::metrics::{self as store_metrics, TurnRecord};
use fte_testkit::gateway::{Options, STAFF_KEY, TestApp, spawn_app, spawn_app_on};
use serde_json::Value;
use uuid::Uuid;

fn assert_close(value: &Value, expected: f64, body: &Value) {
    let actual = value.as_f64().unwrap_or(f64::NAN);
    assert!(
        (actual - expected).abs() < 1e-6,
        "expected {expected}, got {value}: {body}"
    );
}

async fn staff_json(app: &TestApp, path: &str) -> (u16, Value) {
    let answer = app.get_as_staff(path, Some(STAFF_KEY)).await;
    (answer.status, answer.json())
}

async fn record_turn(pool: &PgPool, channel: &str, latency_ms: u32, hours_ago: i64) {
    let inserted = store_metrics::record_turn(
        pool,
        &TurnRecord {
            event_id: Uuid::now_v7(),
            occurred_at: Utc::now() - chrono::Duration::hours(hours_ago),
            channel,
            conversation_id: Uuid::new_v4(),
            ticket_id: Uuid::new_v4(),
            latency_ms,
            tokens_used: 300,
            usage: fte_domain::TokenUsage::chat(240, 60),
            cost_micro_usd: 72.0,
            tool_calls: 4,
            kb_searches: 2,
            kb_hits: 1,
            failed_tool_calls: 1,
            escalated: false,
            sentiment: 0.4,
        },
    )
    .await
    .unwrap();
    assert!(inserted);
}

/// A customer who wrote on each of `channels` in the last hour, with a
/// ticket of `status` on the first.
async fn customer_on(pool: &PgPool, channels: &[&str], status: &str) {
    let customer: Uuid = sqlx::query_scalar("insert into customers default values returning id")
        .fetch_one(pool)
        .await
        .unwrap();
    for channel in channels {
        let conversation: Uuid = sqlx::query_scalar(
            "insert into conversations (customer_id, initial_channel, current_channel)
             values ($1, $2, $2) returning id",
        )
        .bind(customer)
        .bind(channel)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into messages (conversation_id, channel, direction, role, content)
             values ($1, $2, 'inbound', 'customer', 'hello')",
        )
        .bind(conversation)
        .bind(channel)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "insert into tickets (id, customer_id, source_channel, status, resolved_at, escalated_at)
         values ($4, $1, $2, $3,
                 case when $3 = 'resolved' then now() end,
                 case when $3 = 'escalated' then now() end)",
    )
    .bind(customer)
    .bind(channels[0])
    .bind(status)
    // A UUIDv7, as the product writes ticket ids (the alerts read the
    // newest by id).
    .bind(fte_domain::TicketId::new().as_uuid())
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_summary_is_401_without_a_staff_key_and_422_for_an_unknown_window() {
    let app = spawn_app().await;
    let answer = app.get_as_staff("/metrics/summary", None).await;
    assert_eq!(answer.status, 401, "{}", answer.text);

    for window in ["2h", "1d", "", "7D"] {
        let (status, body) = staff_json(&app, &format!("/metrics/summary?window={window}")).await;
        assert_eq!(status, 422, "window {window:?}: {body}");
        assert_eq!(body["error"], "validation_failed", "{body}");
        assert_eq!(body["fields"][0]["field"], "window", "{body}");
    }
}

#[tokio::test]
async fn the_summary_reports_the_agent_system_and_business_levels_over_the_window() {
    let pool = fte_store::testing::fresh_database().await;
    for latency in [1000, 2000] {
        record_turn(&pool, "whatsapp", latency, 0).await;
    }
    record_turn(&pool, "email", 9000, 5).await;
    customer_on(&pool, &["whatsapp", "email"], "resolved").await;
    customer_on(&pool, &["web_form"], "escalated").await;
    store_metrics::store_consumer_lag(
        &pool,
        "fte-message-processor",
        "fte.tickets.incoming",
        &[(0, 3), (1, 4)],
    )
    .await
    .unwrap();
    let app = spawn_app_on(pool, Options::default()).await;
    // A couple of 404s for the error rate.
    for _ in 0..2 {
        assert_eq!(app.get("/no-such-page").await.status, 404);
    }

    let (status, hour) = staff_json(&app, "/metrics/summary?window=1h").await;
    assert_eq!(status, 200, "{hour}");
    assert_eq!(hour["window"], "1h");

    let whatsapp = &hour["channels"]["whatsapp"];
    assert_eq!(whatsapp["avg_latency_ms"], 1500.0, "{hour}");
    assert_close(&whatsapp["p95_latency_ms"], 1950.0, &hour);
    assert_eq!(
        hour["channels"]["email"]["p95_latency_ms"],
        Value::Null,
        "the five-hour-old turn is outside the hour: {hour}"
    );
    assert_eq!(hour["channels"]["web_form"]["escalation_rate"], 1.0);
    assert_eq!(hour["channels"]["overall"]["tickets"], 2);

    let agent = &hour["agent"]["overall"];
    assert_eq!(agent["turns"], 2, "{hour}");
    assert_eq!(agent["tool_usage_frequency"], 4.0);
    assert_eq!(agent["knowledge_base_hit_rate"], 0.5);
    assert_eq!(agent["token_usage_per_conversation"], 300.0);
    assert_eq!(agent["error_rate"], 0.25);
    assert_eq!(
        hour["agent"]["email"]["knowledge_base_hit_rate"],
        Value::Null
    );

    let system = &hour["system"];
    let lags: i64 = system["consumer_lag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["lag"].as_i64().unwrap())
        .sum();
    assert_eq!(lags, 7, "{system}");
    assert!(system["db_pool"]["max_connections"].as_u64().unwrap() > 0);
    let utilisation = system["db_pool"]["utilisation"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&utilisation), "{system}");
    assert!(
        system["http"]["client_errors_per_minute"].as_f64().unwrap() > 0.0,
        "the 404s count: {system}"
    );
    assert!(
        system["process_starts"]["api"].as_i64().unwrap() >= 1,
        "{system}"
    );

    let business = &hour["business"];
    assert_eq!(business["tickets"], 2, "{business}");
    assert_eq!(business["resolved_tickets"], 1);
    assert_eq!(business["resolved_without_human"], 1);
    assert_eq!(business["resolved_without_human_rate"], 1.0);
    assert_eq!(business["active_customers"], 2);
    assert_eq!(business["cross_channel_customers"], 1);
    assert_eq!(business["cross_channel_identification_rate"], 0.5);
    let trend = business["sentiment_trend"].as_array().unwrap();
    assert_eq!(
        trend.len(),
        1,
        "two turns now, in one 5-minute bucket: {business}"
    );
    assert_eq!(trend[0]["turns"], 2);

    let (status, day) = staff_json(&app, "/metrics/summary?window=24h").await;
    assert_eq!(status, 200, "{day}");
    assert_eq!(day["channels"]["email"]["p95_latency_ms"], 9000.0, "{day}");
    assert_eq!(day["agent"]["overall"]["turns"], 3);
    let (_, default) = staff_json(&app, "/metrics/summary").await;
    assert_eq!(default["window"], "24h", "24h is the default window");
}

#[tokio::test]
async fn metrics_channels_gains_the_p95_and_an_overall_entry() {
    let app = spawn_app().await;
    for latency in [100, 200, 300, 400, 500] {
        record_turn(&app.pool, "web_form", latency, 0).await;
    }
    record_turn(&app.pool, "email", 5000, 30).await;

    let (status, body) = staff_json(&app, "/metrics/channels").await;
    assert_eq!(status, 200, "{body}");
    assert_close(&body["web_form"]["p95_latency_ms"], 480.0, &body);
    assert_eq!(
        body["email"]["p95_latency_ms"], 5000.0,
        "all time, like the rest"
    );
    assert_eq!(body["whatsapp"]["p95_latency_ms"], Value::Null);
    let overall = &body["overall"];
    assert_close(&overall["avg_latency_ms"], 6500.0 / 6.0, &body);
    assert_eq!(overall["total_conversations"], 0);
    assert_eq!(overall["escalation_rate"], 0.0);
}

#[tokio::test]
async fn health_is_degraded_with_the_alert_while_the_escalation_rate_is_over_the_threshold() {
    let pool = fte_store::testing::fresh_database().await;
    // Two of the hour's three web tickets escalated: 67 % > 25 %.
    customer_on(&pool, &["web_form"], "escalated").await;
    customer_on(&pool, &["web_form"], "escalated").await;
    customer_on(&pool, &["web_form"], "open").await;
    let app = spawn_app_on(pool, Options::default()).await;

    // The monitor evaluates as the gateway starts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let answer = app.get("/health").await;
        assert_eq!(
            answer.status, 200,
            "an alert does not fail the probe: {}",
            answer.text
        );
        let body = answer.json();
        if body["status"] == "degraded" {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never degraded: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{body}");
    assert_eq!(alerts[0]["name"], "FteEscalationRateHigh");
    assert_eq!(alerts[0]["scope"], "web_form");
    let reason = alerts[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("67 %") && reason.contains("25 %"),
        "{reason}"
    );
    assert!(alerts[0]["since"].is_string());
    assert_eq!(app.get("/ready").await.status, 200, "still ready");

    let (_, summary) = staff_json(&app, "/metrics/summary?window=1h").await;
    assert_eq!(summary["alerts"][0]["name"], "FteEscalationRateHigh");
}

#[tokio::test]
async fn a_fresh_gateway_is_healthy_with_no_alerts() {
    let app = spawn_app().await;
    // Give the start-up evaluation time to run.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["alerts"], serde_json::json!([]));
}

/// gpt-4o-mini with text-embedding-3-small, the documented defaults.
fn list_prices() -> ModelPrices {
    ModelPrices::new(0.15, 0.60, 0.02).unwrap()
}

/// A conversation on `channel`, escalated or not.
async fn conversation(pool: &PgPool, channel: &str, escalated: bool) -> Uuid {
    let customer: Uuid = sqlx::query_scalar("insert into customers default values returning id")
        .fetch_one(pool)
        .await
        .unwrap();
    let conversation: Uuid = sqlx::query_scalar(
        "insert into conversations (customer_id, initial_channel, current_channel)
         values ($1, $2, $2) returning id",
    )
    .bind(customer)
    .bind(channel)
    .fetch_one(pool)
    .await
    .unwrap();
    if escalated {
        let ticket: Uuid = sqlx::query_scalar(
            "insert into tickets (customer_id, conversation_id, source_channel, status, escalated_at)
             values ($1, $2, $3, 'escalated', now()) returning id",
        )
        .bind(customer)
        .bind(conversation)
        .bind(channel)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into escalations (ticket_id, conversation_id, customer_id, channel, reason)
             values ($1, $2, $3, $4, 'pricing')",
        )
        .bind(ticket)
        .bind(conversation)
        .bind(customer)
        .bind(channel)
        .execute(pool)
        .await
        .unwrap();
    }
    conversation
}

/// One turn of `conversation` that spent `usage`, priced at the list prices.
async fn priced_turn(
    pool: &PgPool,
    channel: &str,
    conversation_id: Uuid,
    usage: TokenUsage,
    hours_ago: i64,
) {
    let inserted = store_metrics::record_turn(
        pool,
        &TurnRecord {
            event_id: Uuid::now_v7(),
            occurred_at: Utc::now() - chrono::Duration::hours(hours_ago),
            channel,
            conversation_id,
            ticket_id: Uuid::new_v4(),
            latency_ms: 800,
            tokens_used: usage.chat_total(),
            usage,
            cost_micro_usd: list_prices().cost_micro_usd(&usage),
            tool_calls: 2,
            kb_searches: 1,
            kb_hits: 1,
            failed_tool_calls: 0,
            escalated: false,
            sentiment: 0.0,
        },
    )
    .await
    .unwrap();
    assert!(inserted);
}

#[tokio::test]
async fn the_summary_prices_tokens_per_resolved_conversation_and_per_escalation_by_channel() {
    let pool = fte_store::testing::fresh_database().await;
    // Web form: one conversation answered in two turns (270 µ$ each), one
    // escalated after a turn that also embedded remotely (542 µ$).
    let answered = conversation(&pool, "web_form", false).await;
    for _ in 0..2 {
        priced_turn(&pool, "web_form", answered, TokenUsage::chat(1000, 200), 0).await;
    }
    let escalated = conversation(&pool, "web_form", true).await;
    let embedded = TokenUsage {
        prompt: 2000,
        completion: 400,
        embedding: 100,
    };
    priced_turn(&pool, "web_form", escalated, embedded, 0).await;
    // WhatsApp: one answered turn (135 µ$), and one two days old.
    let whatsapp = conversation(&pool, "whatsapp", false).await;
    priced_turn(&pool, "whatsapp", whatsapp, TokenUsage::chat(500, 100), 0).await;
    let old = conversation(&pool, "whatsapp", false).await;
    priced_turn(&pool, "whatsapp", old, TokenUsage::chat(9000, 900), 48).await;
    // Email: the offline agent answered, spending nothing.
    let offline = conversation(&pool, "email", false).await;
    priced_turn(&pool, "email", offline, TokenUsage::ZERO, 0).await;
    let app = spawn_app_on(pool, Options::default()).await;

    let (status, day) = staff_json(&app, "/metrics/summary?window=24h").await;

    assert_eq!(status, 200, "{day}");
    let overall = &day["cost"]["overall"];
    assert_eq!(
        overall["turns"], 5,
        "the 48-hour-old turn is outside: {day}"
    );
    assert_eq!(overall["tokens"]["prompt"], 4500.0, "{overall}");
    assert_eq!(overall["tokens"]["completion"], 900.0, "{overall}");
    assert_eq!(overall["tokens"]["embedding"], 100.0, "{overall}");
    assert_close(&overall["model_cost_usd"], 0.001_217, &day);
    assert_eq!(overall["resolved_conversations"], 3, "{overall}");
    assert_eq!(overall["escalated_conversations"], 1, "{overall}");
    assert_close(
        &overall["cost_per_resolved_conversation_usd"],
        (540.0 + 135.0 + 0.0) / 3.0 / 1e6,
        &day,
    );
    assert_close(&overall["cost_per_escalation_usd"], 0.000_542, &day);
    assert_close(
        &overall["cost_per_resolution_all_in_usd"],
        0.001_217 / 3.0,
        &day,
    );

    let web = &day["cost"]["web_form"];
    assert_close(&web["cost_per_resolved_conversation_usd"], 0.000_54, &day);
    assert_close(&web["cost_per_escalation_usd"], 0.000_542, &day);
    let email = &day["cost"]["email"];
    assert_eq!(
        email["model_cost_usd"], 0.0,
        "the offline agent is free: {day}"
    );
    assert_eq!(email["cost_per_resolved_conversation_usd"], 0.0, "{day}");
    assert_eq!(
        email["cost_per_escalation_usd"],
        Value::Null,
        "no escalation, no figure: {day}"
    );

    let (_, week) = staff_json(&app, "/metrics/summary?window=7d").await;
    assert_close(
        &week["cost"]["whatsapp"]["model_cost_usd"],
        (135.0 + 9000.0 * 0.15 + 900.0 * 0.60) / 1e6,
        &week,
    );
}
