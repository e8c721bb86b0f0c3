//! A client written from the plan's API section, and nothing else: it sends
//! the plan's request bodies and reads only the plan's field names (submit,
//! ticket status, customer lookup, conversation, channel metrics, health,
//! and the 422 `detail`). If a rename on our side breaks such a client, this
//! test fails.

use fte_testkit::gateway::{STAFF_KEY, spawn_app};
use serde_json::{Value, json};

/// The plan's client: a base URL, a staff key and plain JSON.
struct PlanClient {
    base: String,
    http: reqwest::Client,
}

impl PlanClient {
    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(STAFF_KEY)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is a string in {value}"))
}

#[tokio::test]
async fn a_client_that_follows_the_plans_api_section_works_unchanged() {
    let app = spawn_app().await;
    let client = PlanClient {
        base: app.url(""),
        http: reqwest::Client::new(),
    };

    // POST /support/submit with the plan's form fields.
    let (status, submitted) = client
        .post(
            "/support/submit",
            &json!({
                "name": "Maria Santos",
                "email": "maria.santos@example.com",
                "subject": "Cannot export my board",
                "category": "technical",
                "message": "The CSV export button does nothing when I click it.",
                "priority": "medium",
            }),
        )
        .await;
    assert_eq!(status, 200, "submit: {submitted}");
    let ticket_id = text(&submitted, "ticket_id").to_owned();
    assert!(!text(&submitted, "message").is_empty());
    assert!(!text(&submitted, "estimated_response_time").is_empty());

    // GET /support/ticket/{ticket_id}.
    let (status, ticket) = client.get(&format!("/support/ticket/{ticket_id}")).await;
    assert_eq!(status, 200, "ticket: {ticket}");
    assert_eq!(text(&ticket, "ticket_id"), ticket_id);
    assert!(
        ["open", "processing", "resolved", "escalated"].contains(&text(&ticket, "status")),
        "the plan's ticket states: {ticket}"
    );
    assert!(ticket["messages"].is_array(), "{ticket}");
    text(&ticket, "created_at");
    text(&ticket, "last_updated");

    // GET /customers/lookup?email=… (once the worker has taken the message).
    app.let_worker_take(1).await;
    let (status, customer) = client
        .get("/customers/lookup?email=maria.santos@example.com")
        .await;
    assert_eq!(status, 200, "lookup: {customer}");
    text(&customer, "customer_id");
    assert_eq!(text(&customer, "email"), "maria.santos@example.com");
    assert!(
        customer.get("phone").is_some(),
        "phone is present: {customer}"
    );
    let conversation = &customer["conversations"][0];
    let conversation_id = text(conversation, "conversation_id").to_owned();
    assert_eq!(text(conversation, "channel"), "web_form");
    assert_eq!(text(conversation, "status"), "active");
    text(conversation, "started_at");

    // GET /conversations/{conversation_id}.
    let (status, history) = client
        .get(&format!("/conversations/{conversation_id}"))
        .await;
    assert_eq!(status, 200, "conversation: {history}");
    assert_eq!(text(&history, "conversation_id"), conversation_id);
    assert_eq!(text(&history, "channel"), "web_form");
    let first = &history["messages"][0];
    assert_eq!(text(first, "role"), "customer");
    assert_eq!(text(first, "channel"), "web_form");
    assert!(text(first, "content").contains("CSV export"));
    text(first, "created_at");

    // GET /metrics/channels: figures keyed by channel.
    let (status, metrics) = client.get("/metrics/channels").await;
    assert_eq!(status, 200, "metrics: {metrics}");
    let web = &metrics["web_form"];
    assert_eq!(text(web, "channel"), "web_form");
    assert_eq!(web["total_conversations"], 1, "{metrics}");
    assert!(web["escalations"].is_number(), "{metrics}");
    assert!(web.get("avg_sentiment").is_some(), "{metrics}");

    // GET /health.
    let (status, health) = client.get("/health").await;
    assert_eq!(status, 200, "health: {health}");
    assert_eq!(text(&health, "status"), "healthy");
    text(&health, "timestamp");
    for channel in ["email", "whatsapp", "web_form"] {
        assert!(
            health["channels"][channel].is_string(),
            "{channel} in {health}"
        );
    }
}

#[tokio::test]
async fn a_422_names_the_field_in_the_plans_detail_beside_our_fields() {
    let app = spawn_app().await;
    let mut form = fte_testkit::gateway::valid_form();
    form["email"] = json!("not-an-address");
    let answer = app.submit(&form).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"], "validation_failed");
    assert!(body["message"].is_string());
    assert_eq!(body["fields"][0]["field"], "email", "{body}");
    let detail = &body["detail"][0];
    assert_eq!(detail["loc"].as_array().unwrap().last().unwrap(), "email");
    assert!(detail["msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(detail["type"], "value_error");
}
