//! The MCP surface over streamable HTTP with the `rmcp` client: the tools
//! and their schemas, knowledge search against the real knowledge base,
//! resources and prompts, tool errors for bad arguments (the session goes
//! on), both protocol lifecycles, and the attacker's side — no key, a wrong
//! key, a burst.

use fte_domain::{Channel, EscalationReason};
use fte_testkit::mcp::{
    OTHER_STAFF_KEY, OTHER_STAFF_NAME, STAFF_KEY, STAFF_NAME, call, call_ok, message, spawn_mcp,
    spawn_mcp_with, text,
};
use fte_worker::Action;
use rmcp::model::{GetPromptRequestParams, ProtocolVersion, ReadResourceRequestParams};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt, ServiceExt};
use serde_json::{Value, json};

const TOOLS: [&str; 11] = [
    "assign_escalation",
    "create_ticket",
    "escalate_to_human",
    "get_customer_history",
    "list_escalations",
    "lookup_customer",
    "read_conversation",
    "reply_to_customer",
    "resolve_escalation",
    "search_knowledge_base",
    "send_response",
];

#[tokio::test]
async fn every_tool_is_listed_with_a_schema_of_its_arguments() {
    let app = spawn_mcp().await;
    let client = app.client(STAFF_KEY).await;
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(names, TOOLS);
    let schema = |name: &str| -> Value {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 40),
            "{name} is described"
        );
        Value::Object((*tool.input_schema).clone())
    };
    let search = schema("search_knowledge_base");
    assert_eq!(search["required"], json!(["query"]), "{search}");
    let escalate = schema("escalate_to_human");
    let reasons: Vec<&str> = EscalationReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(escalate["properties"]["reason"]["enum"], json!(reasons));
    let ticket = schema("create_ticket");
    assert_eq!(
        ticket["properties"]["channel"]["enum"],
        json!(["email", "whatsapp", "web_form"])
    );
    let mut required: Vec<&str> = ticket["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(required, ["channel", "customer_id", "subject"]);
    let info = client.peer_info().expect("the server introduced itself");
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|i| i.contains("reply_to_customer")),
        "the server tells the model how the handoff works"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_product_question_finds_its_article_and_the_article_reads_as_a_resource() {
    let app = spawn_mcp().await;
    let client = app.client(STAFF_KEY).await;
    let found = call_ok(
        &client,
        "search_knowledge_base",
        json!({ "query": "How do I turn on two-factor authentication?" }),
    )
    .await;
    assert_eq!(found["relevant"], true, "{found}");
    let best = &found["passages"][0];
    assert_eq!(
        best["slug"], "account/turn-on-two-factor-authentication",
        "{found}"
    );
    assert_eq!(found["passages"].as_array().unwrap().len(), 3, "default 3");

    let one = call_ok(
        &client,
        "search_knowledge_base",
        json!({ "query": "How long is an invite link valid?", "max_results": 1 }),
    )
    .await;
    assert_eq!(one["passages"].as_array().unwrap().len(), 1, "{one}");

    let listed = client.list_all_resources().await.unwrap();
    assert!(listed.len() >= 100, "every article is listed");
    let uri = "kb://account/turn-on-two-factor-authentication";
    assert!(listed.iter().any(|r| r.uri == uri));
    let article = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap();
    let body = serde_json::to_value(&article.contents[0]).unwrap();
    assert_eq!(body["mimeType"], "text/markdown");
    assert!(
        body["text"].as_str().unwrap().contains("Two-factor"),
        "{body}"
    );
    let missing = client
        .read_resource(ReadResourceRequestParams::new(
            "kb://account/no-such-article",
        ))
        .await;
    assert!(missing.is_err(), "an unknown article is an error");
    let templates = client.list_resource_templates(None).await.unwrap();
    let patterns: Vec<&str> = templates
        .resource_templates
        .iter()
        .map(|t| t.uri_template.as_str())
        .collect();
    assert_eq!(patterns, ["kb://{slug}", "conversation://{id}"]);
    let audit = app.audit().await;
    assert!(audit.contains(&(STAFF_NAME.to_owned(), "knowledge.search".to_owned())));
    assert!(audit.contains(&(STAFF_NAME.to_owned(), "knowledge.read".to_owned())));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_conversation_reads_as_a_resource_and_a_reply_is_drafted_from_it() {
    let app = spawn_mcp().await;
    let escalated = app
        .handle(&message(
            Channel::WebForm,
            "maria",
            "web-1",
            "I was charged twice for two-factor authentication setup, I want a refund",
        ))
        .await;
    assert_eq!(
        escalated.action,
        Action::Escalated(EscalationReason::Refund)
    );
    let client = app.client(OTHER_STAFF_KEY).await;
    let uri = format!("conversation://{}", escalated.conversation_id);
    let read = client
        .read_resource(ReadResourceRequestParams::new(uri.as_str()))
        .await
        .unwrap();
    let body = serde_json::to_value(&read.contents[0]).unwrap();
    assert_eq!(body["mimeType"], "application/json");
    let conversation: Value = serde_json::from_str(body["text"].as_str().unwrap()).unwrap();
    assert_eq!(conversation["status"], "escalated");
    assert_eq!(conversation["messages"].as_array().unwrap().len(), 2);

    let prompts = client.list_all_prompts().await.unwrap();
    let mut names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["draft_escalation_reply", "review_escalation_queue"]);
    let queue = call_ok(&client, "list_escalations", json!({})).await;
    let escalation = queue["items"][0]["id"].as_str().unwrap().to_owned();
    let arguments = json!({ "escalation_id": escalation });
    let draft = client
        .get_prompt(
            GetPromptRequestParams::new("draft_escalation_reply")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    let prompt = serde_json::to_string(&draft.messages).unwrap();
    for expected in [
        "reason refund",
        "charged twice for two-factor authentication setup",
        "Voice: warm, plain and exact",
        "reply_to_customer",
        "web_form",
    ] {
        assert!(
            prompt.contains(expected),
            "the draft prompt has {expected:?}"
        );
    }
    let review = client
        .get_prompt(GetPromptRequestParams::new("review_escalation_queue"))
        .await
        .unwrap();
    let review = serde_json::to_string(&review.messages).unwrap();
    assert!(review.contains(&escalation), "{review}");
    let audit = app.audit().await;
    assert!(audit.contains(&(OTHER_STAFF_NAME.to_owned(), "conversation.read".to_owned())));
    assert!(audit.contains(&(OTHER_STAFF_NAME.to_owned(), "escalation.draft".to_owned())));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_and_the_session_goes_on() {
    let app = spawn_mcp().await;
    let client = app.client(STAFF_KEY).await;
    let cases = [
        ("search_knowledge_base", json!({}), "query"),
        ("search_knowledge_base", json!({ "query": "  " }), "query"),
        (
            "assign_escalation",
            json!({ "escalation_id": "nope" }),
            "escalation_id",
        ),
        ("list_escalations", json!({ "limit": 500 }), "limit"),
        ("list_escalations", json!({ "status": "lost" }), "status"),
        (
            "escalate_to_human",
            json!({ "ticket_id": uuid::Uuid::nil(), "reason": "bored", "summary": "x" }),
            "reason",
        ),
        (
            "create_ticket",
            json!({ "customer_id": uuid::Uuid::nil(), "channel": "fax", "subject": "x" }),
            "channel",
        ),
        (
            "lookup_customer",
            json!({ "email": "not-an-address" }),
            "email",
        ),
        (
            "read_conversation",
            json!({ "conversation_id": "7" }),
            "conversation_id",
        ),
        (
            "read_conversation",
            json!({ "conversation_id": 7 }),
            "invalid type",
        ),
        ("lookup_customer", json!({ "website": "x" }), "website"),
    ];
    for (tool, arguments, field) in cases {
        let result = call(&client, tool, arguments.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {arguments}");
        let said = text(&result);
        assert!(
            said.contains(field),
            "{tool} {arguments}: names {field}: {said}"
        );
    }
    for (tool, arguments, expected) in [
        (
            "resolve_escalation",
            json!({ "escalation_id": uuid::Uuid::nil(), "resolution_notes": "done" }),
            "No escalation has this ID.",
        ),
        (
            "get_customer_history",
            json!({ "customer_id": uuid::Uuid::nil() }),
            "No customer has this ID.",
        ),
        (
            "send_response",
            json!({ "ticket_id": uuid::Uuid::nil(), "message": "hi" }),
            "No ticket has this ID.",
        ),
    ] {
        let result = call(&client, tool, arguments).await;
        assert_eq!(result.is_error, Some(true), "{tool}");
        assert_eq!(text(&result), expected);
        assert_eq!(result.structured_content.unwrap()["error"], "not_found");
    }
    // Still the same, working session.
    assert_eq!(
        call_ok(&client, "list_escalations", json!({})).await["total"],
        0
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_2026_07_28_discover_lifecycle_works_as_well_as_initialize() {
    let app = spawn_mcp().await;
    let config =
        StreamableHttpClientTransportConfig::with_uri(app.url.clone()).auth_header(STAFF_KEY);
    let client = ()
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("discover succeeds");
    let found = call_ok(
        &client,
        "search_knowledge_base",
        json!({ "query": "reset a forgotten password", "max_results": 1 }),
    )
    .await;
    assert_eq!(found["passages"].as_array().unwrap().len(), 1);
    client.cancel().await.unwrap();
}

/// A JSON-RPC `initialize` posted by hand, with `authorization` when given.
async fn post_initialize(url: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "curl", "version": "1" }
            }
        }));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.expect("the endpoint answers")
}

#[tokio::test]
async fn mcp_without_a_key_or_with_a_wrong_key_answers_401() {
    let app = spawn_mcp().await;
    for authorization in [
        None,
        Some("Bearer not-a-staff-key"),
        Some("Basic YW5hOmtleQ=="),
        Some("Bearer "),
    ] {
        let response = post_initialize(&app.url, authorization).await;
        assert_eq!(response.status(), 401, "{authorization:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized", "{authorization:?}");
    }
    let refused = ()
        .serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(app.url.clone()).auth_header("guess"),
        ))
        .await;
    assert!(
        refused.is_err(),
        "an rmcp client with a wrong key gets nowhere"
    );
    let accepted = post_initialize(&app.url, Some(&format!("Bearer {STAFF_KEY}"))).await;
    assert_eq!(accepted.status(), 200);
    assert!(
        app.audit().await.is_empty(),
        "refused requests touch nothing"
    );
}

#[tokio::test]
async fn a_burst_from_one_client_is_rate_limited_wrong_keys_included() {
    let app = spawn_mcp_with(&[("STAFF_RATE_LIMIT_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        let response = post_initialize(&app.url, Some("Bearer wrong")).await;
        assert_eq!(response.status(), 401);
    }
    let limited = post_initialize(&app.url, Some(&format!("Bearer {STAFF_KEY}"))).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
}

#[tokio::test]
async fn a_host_that_is_not_allowed_is_refused() {
    let app = spawn_mcp().await;
    let response = reqwest::Client::new()
        .post(&app.url)
        .header("host", "attacker.example")
        .header("authorization", format!("Bearer {STAFF_KEY}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_client_error(),
        "DNS rebinding: {}",
        response.status()
    );
}

#[tokio::test]
async fn the_probes_answer_without_a_key_and_ready_follows_the_database() {
    let app = spawn_mcp().await;
    let base = app.url.trim_end_matches("/mcp").to_owned();
    let client = reqwest::Client::new();
    for (path, status) in [("/live", "live"), ("/ready", "ready")] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path} needs no staff key");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status, "{path}");
    }

    // A database that does not answer: /ready says so, /live does not care.
    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(300))
        .connect_lazy("postgres://fte@127.0.0.1:1/none")
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, fte_mcp::http::probes(unreachable)).await });
    let ready = client
        .get(format!("http://{address}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["not_ready"], json!(["postgres"]));
    let live = client
        .get(format!("http://{address}/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
}
