//! The staff API: bearer-key auth, conversations, customer lookup, metrics.

use fte_testkit::gateway::{STAFF_KEY, TestApp, spawn_app, valid_form};
use serde_json::Value;

const STAFF_PATHS: [&str; 3] = [
    "/metrics/channels",
    "/customers/lookup?email=maria.santos@example.com",
    "/conversations/0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90",
];

/// A web form submission, taken by the worker; its ticket id.
async fn submitted(app: &TestApp) -> String {
    let answer = app.submit(&valid_form()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.let_worker_take(1).await;
    answer.json()["ticket_id"].as_str().unwrap().to_owned()
}

async fn staff_json(app: &TestApp, path: &str) -> (u16, Value) {
    let answer = app.get_as_staff(path, Some(STAFF_KEY)).await;
    (answer.status, answer.json())
}

#[tokio::test]
async fn staff_endpoints_are_401_without_a_key_or_with_a_wrong_one() {
    let app = spawn_app().await;
    for path in STAFF_PATHS {
        for (case, key) in [("no key", None), ("wrong key", Some("guessed-key"))] {
            let answer = app.get_as_staff(path, key).await;
            assert_eq!(answer.status, 401, "{path} with {case}: {}", answer.text);
            assert_eq!(answer.json()["error"], "unauthorized", "{path} with {case}");
        }
    }
}

#[tokio::test]
async fn customer_lookup_returns_a_conversations_list_after_a_web_submit() {
    let app = spawn_app().await;
    submitted(&app).await;

    let (status, body) = staff_json(&app, "/customers/lookup?email=Maria.Santos@Example.com").await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "maria.santos@example.com");
    assert_eq!(body["name"], "Maria Santos");
    let conversations = body["conversations"]
        .as_array()
        .expect("a conversations list");
    assert_eq!(conversations.len(), 1, "{body}");
    assert_eq!(conversations[0]["initial_channel"], "web_form");
    assert_eq!(
        conversations[0]["message_count"], 2,
        "the message and the worker's reply"
    );
}

#[tokio::test]
async fn customer_lookup_finds_a_whatsapp_customer_by_phone_written_any_way() {
    let app = spawn_app().await;
    sqlx::query(
        "with c as (insert into customers (name) values ('Emma Brown') returning id)
         insert into customer_identifiers (customer_id, identifier_type, identifier_value)
         select id, 'whatsapp', '+14155550100' from c",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let (status, body) = staff_json(&app, "/customers/lookup?phone=%2B1%20(415)%20555-0100").await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Emma Brown");
    assert_eq!(body["conversations"], serde_json::json!([]));
}

#[tokio::test]
async fn customer_lookup_is_400_without_a_query_404_when_unknown_and_422_when_malformed() {
    let app = spawn_app().await;

    let (missing, body) = staff_json(&app, "/customers/lookup").await;
    assert_eq!(missing, 400, "{body}");
    let (unknown, body) = staff_json(&app, "/customers/lookup?email=nobody@example.com").await;
    assert_eq!(unknown, 404, "{body}");
    assert_eq!(body["error"], "not_found");
    let (malformed, body) = staff_json(&app, "/customers/lookup?phone=12").await;
    assert_eq!(malformed, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "phone");
    for query in [
        "email=nobody@example.com&phone=",
        "email=&phone=%2B34612345678",
    ] {
        let (unused_but_bad, body) = staff_json(&app, &format!("/customers/lookup?{query}")).await;
        assert_eq!(
            unused_but_bad, 422,
            "{query}: every parameter given must be valid: {body}"
        );
    }
}

#[tokio::test]
async fn a_conversation_shows_its_messages_across_channels() {
    let app = spawn_app().await;
    submitted(&app).await;
    let (_, customer) = staff_json(&app, "/customers/lookup?email=maria.santos@example.com").await;
    let conversation_id = customer["conversations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query(
        "insert into messages (conversation_id, channel, direction, role, content, delivery_status,
                               created_at)
         values ($1::uuid, 'email', 'outbound', 'agent', 'Try exporting from the board menu.',
                 'sent', now() + interval '1 second')",
    )
    .bind(&conversation_id)
    .execute(&app.pool)
    .await
    .unwrap();

    let (status, body) = staff_json(&app, &format!("/conversations/{conversation_id}")).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], conversation_id.as_str());
    let channels: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["web_form", "web_form", "email"]);
    assert_eq!(body["messages"][0]["role"], "customer");
    assert_eq!(body["messages"][2]["role"], "agent");
}

#[tokio::test]
async fn a_conversation_is_404_when_unknown_and_400_when_the_id_is_malformed() {
    let app = spawn_app().await;

    let (unknown, body) = staff_json(&app, STAFF_PATHS[2]).await;
    assert_eq!(unknown, 404, "{body}");
    let (malformed, body) = staff_json(&app, "/conversations/42").await;
    assert_eq!(malformed, 400, "{body}");
}

#[tokio::test]
async fn channel_metrics_have_total_conversations_per_channel_computed_from_the_tables() {
    let app = spawn_app().await;
    let ticket_id = submitted(&app).await;
    sqlx::query(
        "with t as (select id, conversation_id, customer_id from tickets where id = $1::uuid),
              m as (update messages set latency_ms = 1200
                    where direction = 'outbound' and conversation_id = (select conversation_id from t))
         insert into escalations (ticket_id, conversation_id, customer_id, channel, reason)
         select id, conversation_id, customer_id, 'web_form', 'refund' from t",
    )
    .bind(&ticket_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("update conversations set sentiment_score = -0.5")
        .execute(&app.pool)
        .await
        .unwrap();

    let (status, body) = staff_json(&app, "/metrics/channels").await;

    assert_eq!(status, 200, "{body}");
    for channel in ["email", "whatsapp"] {
        assert_eq!(body[channel]["total_conversations"], 0, "{channel}: {body}");
        assert_eq!(body[channel]["escalation_rate"], 0.0, "{channel}");
    }
    let web = &body["web_form"];
    assert_eq!(web["total_conversations"], 1, "{body}");
    assert_eq!(web["escalations"], 1);
    assert_eq!(web["escalation_rate"], 1.0);
    assert_eq!(web["avg_latency_ms"], 1200.0);
    assert_eq!(web["avg_sentiment"], -0.5);
}
