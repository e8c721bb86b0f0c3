//! The web form's endpoints against a real PostgreSQL and the embedded broker.

use std::time::Duration;

use fte_bus::topics;
use fte_testkit::gateway::{Options, spawn_app, spawn_app_with, valid_form};
use serde_json::{Value, json};

#[tokio::test]
async fn submit_returns_200_with_ticket_id_and_message_and_stores_an_open_ticket() {
    let app = spawn_app().await;

    let answer = app.submit(&valid_form()).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    let ticket_id = body["ticket_id"].as_str().expect("a ticket_id");
    assert!(uuid::Uuid::parse_str(ticket_id).is_ok(), "{ticket_id}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["estimated_response_time"].is_string());
    assert_eq!(body["estimate"]["kind"], "bot", "{body}");
    assert_eq!(
        body["access_key"].as_str().map(str::len),
        Some(43),
        "a 256-bit access key, shown once: {body}"
    );
    let digest = app
        .count(&format!(
            "select count(*) from web_ticket_access where ticket_id = '{ticket_id}'
             and octet_length(access_key_hash) = 32 and sender->>'email' = 'maria.santos@example.com'"
        ))
        .await;
    assert_eq!(digest, 1, "only the key's digest and the sender are stored");
    let stored = app
        .count(&format!(
            "select count(*) from tickets where id = '{ticket_id}' and status = 'open'
             and source_channel = 'web_form' and priority = 'high' and category = 'technical'"
        ))
        .await;
    assert_eq!(
        stored, 1,
        "the ticket is stored open with its category and priority"
    );
    // The customer is the worker's to resolve: the submit path writes no
    // customer, conversation or message.
    for table in ["customers", "conversations", "messages"] {
        assert_eq!(
            app.count(&format!("select count(*) from {table}")).await,
            0,
            "{table}"
        );
    }
    app.let_worker_take(1).await;
    assert_eq!(
        app.count("select count(*) from customer_identifiers where identifier_value = 'maria.santos@example.com'").await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from tickets where id = '{ticket_id}'
             and customer_id is not null and conversation_id is not null"
        ))
        .await,
        1,
        "the worker filled in the ticket's customer and conversation"
    );
}

#[tokio::test]
async fn submit_publishes_the_inbound_event_to_tickets_incoming_and_the_web_topic() {
    let app = spawn_app().await;

    let answer = app.submit(&valid_form()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let ticket_id = answer.json()["ticket_id"].as_str().unwrap().to_owned();

    for topic in [topics::TICKETS_INCOMING, topics::WEB_INBOUND] {
        let events = app.events(topic, 1).await;
        assert_eq!(events.len(), 1, "one event on {topic}");
        let event = &events[0];
        assert_eq!(event["event_type"], "ticket.inbound", "{event}");
        assert_eq!(event["payload"]["channel"], "web_form");
        assert_eq!(event["payload"]["ticket_id"], ticket_id.as_str());
        assert_eq!(event["payload"]["channel_message_id"], ticket_id.as_str());
        assert_eq!(event["payload"]["metadata"]["category"], "technical");
    }
    assert_eq!(
        app.count("select count(*) from event_outbox").await,
        0,
        "the event is not copied into the outbox"
    );
    let pending = app
        .count_until(
            "select count(*) from web_submit_batches",
            0,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        pending, 0,
        "the batch's row is forgotten once both topics took its event"
    );
}

#[tokio::test]
async fn concurrent_submissions_are_committed_together_and_each_gets_its_own_ticket() {
    let app = spawn_app().await;
    // 48 at once from 12 addresses (4 each, no phone): the committers batch
    // them, and the worker gives the submissions of one address one customer.
    let answers = futures::future::join_all((0..48).map(|i| {
        let mut form = valid_form();
        form["email"] = json!(format!("batch.customer{}@example.com", i % 12));
        form["phone"] = json!(null);
        form["subject"] = json!(format!("Export question number {i}"));
        let app = &app;
        async move { app.submit(&form).await }
    }))
    .await;

    let mut ids = std::collections::HashSet::new();
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
        ids.insert(answer.json()["ticket_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 48, "every submission has its own ticket id");
    assert_eq!(
        app.count("select count(*) from tickets where status = 'open'")
            .await,
        48
    );
    app.let_worker_take(48).await;
    for (table, wanted) in [
        ("tickets where customer_id is not null", 48),
        // A customer's submissions continue their active conversation.
        ("conversations", 12),
        ("messages where role = 'customer'", 48),
        ("customers where email like 'batch.customer%'", 12),
        (
            "customer_identifiers where identifier_value like 'batch.customer%'",
            12,
        ),
    ] {
        assert_eq!(
            app.count(&format!("select count(*) from {table}")).await,
            wanted,
            "{table}"
        );
    }
    // Each submission's event reached the topic (and left the outbox).
    let announced: std::collections::HashSet<String> = app
        .events(topics::TICKETS_INCOMING, 48)
        .await
        .iter()
        .map(|event| {
            event["payload"]["ticket_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        announced,
        ids,
        "one event per ticket on {}",
        topics::TICKETS_INCOMING
    );
    // Each ticket belongs to the customer of its address and can be read back.
    let mismatched = app
        .count(
            "select count(*) from tickets t join messages m on m.channel_message_id = t.id::text
             join customers c on c.id = t.customer_id
             join conversations v on v.id = t.conversation_id and v.customer_id = c.id
             where m.conversation_id <> t.conversation_id",
        )
        .await;
    assert_eq!(mismatched, 0);
    let one = ids.iter().next().unwrap();
    assert_eq!(app.get(&format!("/support/ticket/{one}")).await.status, 200);

    let events = app.events(topics::TICKETS_INCOMING, 48).await;
    let published: std::collections::HashSet<String> = events
        .iter()
        .map(|e| e["payload"]["ticket_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(published, ids, "every accepted submission reached Kafka");
    let batched = fte_runtime::metrics::global().encode();
    assert!(
        batched.contains("fte_submit_batch_size_count"),
        "the batch size histogram is exported"
    );
}

#[tokio::test]
async fn ticket_status_is_open_or_processing_right_after_submit_with_the_customer_message() {
    let app = spawn_app().await;
    let (ticket_id, key) = app.submit_ticket(&valid_form()).await;

    let answer = app
        .get_with_key(&format!("/support/ticket/{ticket_id}"), &key)
        .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["ticket_id"], ticket_id.as_str());
    assert!(
        body["status"] == "open" || body["status"] == "processing",
        "{body}"
    );
    assert_eq!(body["access"], "thread");
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{body}");
    assert_eq!(messages[0]["role"], "customer");
    assert_eq!(messages[0]["channel"], "web_form");
    assert_eq!(
        messages[0]["content"],
        "The CSV export button does nothing when I click it."
    );
    assert!(body["created_at"].is_string() && body["last_updated"].is_string());

    // Once the worker has stored it, the message keeps its id and is shown
    // once, before the reply.
    app.let_worker_take(1).await;
    let after = app
        .get_with_key(&format!("/support/ticket/{ticket_id}"), &key)
        .await
        .json();
    let thread = after["messages"].as_array().expect("messages");
    assert_eq!(thread.len(), 2, "{after}");
    assert_eq!(thread[0]["id"], messages[0]["id"]);
    assert_eq!(thread[1]["role"], "agent");
    assert_eq!(
        app.count("select count(*) from web_ticket_access where first_message is not null")
            .await,
        0,
        "the message is kept in one place"
    );
}

#[tokio::test]
async fn ticket_status_is_404_for_an_unknown_ticket_and_400_for_a_malformed_id() {
    let app = spawn_app().await;

    let unknown = app
        .get(&format!("/support/ticket/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(unknown.json()["error"], "not_found");

    let malformed = app.get("/support/ticket/not-a-ticket").await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    assert_eq!(malformed.json()["error"], "invalid_ticket_id");
}

#[tokio::test]
async fn an_invalid_form_is_422_naming_each_failing_field_and_stores_nothing() {
    let app = spawn_app().await;
    let mut form = valid_form();
    form["email"] = json!("not-an-address");
    form["message"] = json!("too short");
    form["category"] = json!("sales");
    form["phone"] = json!("612 345 678");

    let answer = app.submit(&form).await;

    assert_eq!(answer.status, 422, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"], "validation_failed");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "phone", "category", "message"]);
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn a_nul_character_in_any_field_is_422_naming_that_field_and_stores_nothing() {
    let app = spawn_app().await;
    for field in [
        "name", "email", "phone", "subject", "message", "category", "priority",
    ] {
        let mut form = valid_form();
        let value = form[field].as_str().unwrap().to_owned();
        form[field] = Value::String(format!("{value}\u{0}"));

        let answer = app.submit(&form).await;

        assert_eq!(answer.status, 422, "a NUL in {field}: {}", answer.text);
        let body = answer.json();
        let named: Vec<&str> = body["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("fields listed: {body}"))
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(named, [field], "only {field} is named");
    }
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn an_unknown_field_is_422_and_malformed_json_is_400() {
    let app = spawn_app().await;
    let mut form = valid_form();
    form["account_id"] = json!("42");

    let unknown = app.submit(&form).await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(unknown.json()["fields"][0]["field"], "account_id");

    let broken = app
        .post_raw(
            "/support/submit",
            b"{\"name\": ".to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(broken.status, 400, "{}", broken.text);
    assert_eq!(broken.json()["error"], "invalid_json");
}

#[tokio::test]
async fn a_filled_honeypot_gets_a_plausible_200_but_nothing_is_stored_or_published() {
    let app = spawn_app().await;
    let mut form = valid_form();
    form["website"] = json!("http://spam.example");

    let answer = app.submit(&form).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.json()["ticket_id"].is_string());
    assert_eq!(app.count("select count(*) from tickets").await, 0);
    assert_eq!(app.count("select count(*) from customers").await, 0);
    assert_eq!(app.count("select count(*) from event_outbox").await, 0);
    assert_eq!(
        app.count("select count(*) from web_submit_batches").await,
        0
    );
}

#[tokio::test]
async fn a_filled_honeypot_does_not_make_an_invalid_submission_look_accepted() {
    let app = spawn_app().await;
    let mut form = valid_form();
    form["website"] = json!("http://spam.example");
    form["email"] = json!("not-an-address");

    let answer = app.submit(&form).await;

    assert_eq!(answer.status, 422, "{}", answer.text);
    assert_eq!(answer.json()["fields"][0]["field"], "email");
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_in_the_error_shape() {
    let app = spawn_app().await;
    let mut form = valid_form();
    form["message"] = json!("x".repeat(70 * 1024));

    let answer = app.submit(&form).await;

    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(answer.json()["error"], "payload_too_large");
}

#[tokio::test]
async fn submissions_over_the_rate_limit_are_429_with_retry_after() {
    let app = spawn_app_with(Options {
        vars: vec![("SUBMIT_RATE_LIMIT_PER_MINUTE", "2".into())],
        ..Options::default()
    })
    .await;
    let mut form = valid_form();
    form["email"] = json!("not-valid");
    for _ in 0..2 {
        assert_eq!(app.submit(&form).await.status, 422);
    }

    let limited = app.submit(&form).await;

    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.json()["error"], "rate_limited");
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn while_kafka_is_down_submit_still_answers_200_and_the_relay_publishes_later() {
    let app = spawn_app().await;
    app.broker().set_down(true).unwrap();

    let answer = app.submit(&valid_form()).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let ticket_id = answer.json()["ticket_id"].as_str().unwrap().to_owned();
    // The answer does not wait for Kafka; the publish attempt that follows
    // fails after the delivery timeout and is recorded on the batch's row.
    let failed = app
        .count_until(
            "select count(*) from web_submit_batches where attempts > 0",
            1,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        failed, 1,
        "the committed batch waits for the relay with a failed attempt"
    );
    app.broker().set_down(false).unwrap();
    let pending = app
        .count_until(
            "select count(*) from web_submit_batches",
            0,
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(
        pending, 0,
        "the relay published the batch once the broker was back"
    );
    let form = valid_form();
    for topic in [topics::TICKETS_INCOMING, topics::WEB_INBOUND] {
        let events: Vec<Value> = app.events(topic, 1).await;
        assert_eq!(events.len(), 1, "the relay published on {topic}");
        // Rebuilt from the stored rows: the whole submission, as sent.
        let payload = &events[0]["payload"];
        assert_eq!(events[0]["event_type"], "ticket.inbound");
        assert_eq!(payload["ticket_id"], ticket_id.as_str());
        assert_eq!(payload["channel_message_id"], ticket_id.as_str());
        assert_eq!(payload["channel"], "web_form");
        assert_eq!(payload["content"], form["message"]);
        assert_eq!(payload["subject"], form["subject"]);
        assert_eq!(payload["sender"]["email"], form["email"]);
        assert_eq!(payload["sender"]["name"], form["name"]);
        assert_eq!(payload["metadata"]["category"], form["category"]);
        assert!(payload["metadata"]["message_id"].is_string(), "{payload}");
    }
}

#[tokio::test]
async fn cors_allows_only_configured_origins_and_exposes_retry_after() {
    let app = spawn_app_with(Options {
        vars: vec![(
            "CORS_ALLOWED_ORIGINS",
            "https://www.orbitask.example".into(),
        )],
        ..Options::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/support/submit"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight("https://www.orbitask.example").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://www.orbitask.example")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let response = app
        .client
        .get(app.url(&format!("/support/ticket/{}", uuid::Uuid::new_v4())))
        .header("origin", "https://www.orbitask.example")
        .send()
        .await
        .unwrap();
    let exposed = response
        .headers()
        .get("access-control-expose-headers")
        .map(|v| v.to_str().unwrap().to_ascii_lowercase());
    assert_eq!(exposed.as_deref(), Some("retry-after"));
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn_app().await;

    let answer = app.get("/support/ticket/not-a-ticket").await;

    assert_eq!(
        answer.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(answer.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        answer.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
}

#[tokio::test]
async fn a_batch_committed_by_a_gateway_that_stopped_before_publishing_is_published_by_the_relay() {
    use fte_domain::{Category, Priority, TicketId};
    use fte_store::tickets::{self, NewWebTicket};
    use fte_store::web_threads::{self, NewWebAccess};

    let app = spawn_app().await;
    // What a group commit stores for three submissions, with no publish
    // after it: the gateway stopped.
    let ids: Vec<TicketId> = (0..3).map(|_| TicketId::new()).collect();
    let mut tx = app.pool.begin().await.unwrap();
    let rows: Vec<NewWebTicket<'_>> = ids
        .iter()
        .map(|id| NewWebTicket {
            ticket_id: *id,
            subject: "Export stuck",
            category: Category::Technical,
            priority: Priority::High,
        })
        .collect();
    tickets::open_web_tickets(&mut tx, &rows).await.unwrap();
    let messages = ["first message", "second message", "third message"];
    let access: Vec<NewWebAccess<'_>> = ids
        .iter()
        .zip(messages)
        .enumerate()
        .map(|(i, (id, message))| NewWebAccess {
            ticket_id: id.as_uuid(),
            access_key_hash: [7; 32],
            sender: json!({"email": format!("crash{i}@example.com"), "name": "Ann",
                           "email_verified": false, "phone_verified": false}),
            message_id: uuid::Uuid::now_v7(),
            message,
        })
        .collect();
    web_threads::insert_access(&mut tx, &access).await.unwrap();
    let batch = uuid::Uuid::now_v7();
    let ticket_ids: Vec<uuid::Uuid> = ids.iter().map(TicketId::as_uuid).collect();
    fte_store::web_submissions::record_batch(&mut tx, batch, &ticket_ids)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let publisher = fte_bus::KafkaPublisher::new(&app.bootstrap).unwrap();

    // Within the grace the committing gateway is presumed to be publishing.
    assert_eq!(
        fte_gateway::outbox::relay_web_batches_once(&app.pool, &publisher)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.count("select count(*) from web_submit_batches").await,
        1
    );
    // Meanwhile the worker stored the second message, and the third
    // ticket was erased.
    sqlx::query("update web_ticket_access set first_message = null where ticket_id = $1")
        .bind(ticket_ids[1])
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("delete from tickets where id = $1")
        .bind(ticket_ids[2])
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update web_submit_batches set created_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();

    // This relay or the gateway's own loop publishes it.
    fte_gateway::outbox::relay_web_batches_once(&app.pool, &publisher)
        .await
        .unwrap();
    let pending = app
        .count_until(
            "select count(*) from web_submit_batches",
            0,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(pending, 0, "the batch is forgotten once published");
    for topic in [topics::TICKETS_INCOMING, topics::WEB_INBOUND] {
        let events: Vec<Value> = app.events(topic, 2).await;
        assert_eq!(
            events.len(),
            1,
            "only the submission still waiting for the worker, on {topic}: {events:?}"
        );
        let payload = &events[0]["payload"];
        assert_eq!(payload["ticket_id"], ticket_ids[0].to_string());
        assert_eq!(payload["content"], "first message");
        assert_eq!(payload["sender"]["email"], "crash0@example.com");
        assert_eq!(payload["subject"], "Export stuck");
        assert_eq!(payload["metadata"]["priority"], "high");
        assert_eq!(
            payload["metadata"]["message_id"],
            access[0].message_id.to_string()
        );
    }
}
