//! The human handoff end to end, through each channel: the worker's real
//! step escalates a customer's message; staff find it in the queue, take
//! it, reply through the customer's channel (delivered by the worker's
//! sender to a recording sender, in that channel's format), and resolve it;
//! meanwhile the bot stays silent but for one acknowledgement per
//! interval, and answers again after the resolution. Plus the API's
//! refusals (401, 400, 404, 409, 422), paging, the overdue figures and the
//! `fte.escalations` events.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_domain::format;
use fte_domain::{Channel, EscalationReason, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_testkit::gateway::handoff::{
    Handoff, STAFF, deliver, handle, handoff, resolve, staff_post,
};
use fte_testkit::gateway::{STAFF_KEY, TestApp, spawn_app};
use fte_testkit::worker::whatsapp_number;
use fte_worker::Action;
use serde_json::{Value, json};
use uuid::Uuid;

/// A customer's message on `channel`, as the gateway publishes it.
fn message(
    channel: Channel,
    customer: &str,
    id: &str,
    text: &str,
) -> EventEnvelope<InboundMessage> {
    fte_testkit::worker::customer_message(channel, customer, id, text)
}

async fn staff_get(app: &TestApp, path: &str) -> Value {
    let answer = app.get_as_staff(path, Some(STAFF_KEY)).await;
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.text);
    answer.json()
}

async fn scalar<T>(app: &TestApp, sql: &str, id: Uuid) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The whole handoff on one channel.
async fn the_handoff_works_through(channel: Channel) {
    let h = handoff().await;
    let app = &h.app;
    let recorder = Arc::new(RecordingSender::new(channel));
    let name = channel.as_str();

    // A message that escalates: the customer is told when a person answers.
    let first = handle(
        &h,
        &message(
            channel,
            "maria",
            "m-1",
            "I was charged twice, I want a refund",
        ),
    )
    .await;
    assert_eq!(first.action, Action::Escalated(EscalationReason::Refund));
    let conversation = first.conversation_id.as_uuid();
    let ticket = first.ticket_id.as_uuid();
    deliver(app, &recorder).await;
    let told = recorder
        .sent()
        .pop()
        .expect("the escalation reply went out");
    assert!(
        told.parts.join(" ").contains("within 6 business hours"),
        "{name}: the promise of a person's reply: {:?}",
        told.parts
    );

    // The queue shows it, with its reason, channel, customer and wait.
    let pending = staff_get(app, "/escalations?status=pending").await;
    assert_eq!(pending["total"], 1, "{name}: {pending}");
    let item = &pending["items"][0];
    let escalation = item["id"].as_str().unwrap().to_owned();
    assert_eq!(item["reason"], "refund");
    assert_eq!(item["channel"], name);
    assert_eq!(item["status"], "pending");
    assert_eq!(item["ticket_id"], ticket.to_string());
    assert_eq!(item["conversation_id"], conversation.to_string());
    assert_eq!(item["customer"]["name"], "Maria Santos");
    match channel {
        Channel::Whatsapp => assert_eq!(item["customer"]["phone"], whatsapp_number("maria")),
        _ => assert_eq!(item["customer"]["email"], "maria@example.com"),
    }
    assert!(item["wait_secs"].as_i64().unwrap() >= 0, "{item}");
    assert_eq!(item["overdue"], false);
    let promised: chrono::DateTime<Utc> =
        serde_json::from_value(item["expected_response_by"].clone()).unwrap();
    let raised: chrono::DateTime<Utc> = serde_json::from_value(item["created_at"].clone()).unwrap();
    let expected = fte_worker::schedule::business_hours_after(raised, 6);
    assert!(
        (promised - expected).num_seconds().abs() < 5,
        "{name}: 6 business hours after {raised} is {expected}, not {promised}"
    );
    assert_eq!(
        item["full_context"]["summary"],
        "asks for a refund of a duplicate charge"
    );
    assert_eq!(item["full_context"]["channel"], name);

    // A person takes it.
    let assigned = staff_post(
        app,
        &format!("/escalations/{escalation}/assign"),
        &json!({ "staff": STAFF }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(assigned.status, 200, "{name}: {}", assigned.text);
    let assigned = assigned.json();
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["assigned_to"], STAFF);
    assert!(assigned["assigned_at"].is_string());
    assert_eq!(
        staff_get(app, "/escalations?status=pending").await["total"],
        0
    );
    assert_eq!(
        staff_get(app, "/escalations?status=assigned").await["total"],
        1
    );

    // The customer writes again: stored, not answered by the bot; after the
    // interval one acknowledgement, then silence again.
    let asked = h.agent.asked();
    let again = handle(&h, &message(channel, "maria", "m-2", "Any news?")).await;
    assert_eq!(
        again.action,
        Action::StoredWhileEscalated,
        "{name}: acknowledged at escalation, so only stored"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = handle(&h, &message(channel, "maria", "m-3", "Hello?")).await;
    assert_eq!(
        later.action,
        Action::Acknowledged,
        "{name}: one per interval"
    );
    let next = handle(&h, &message(channel, "maria", "m-4", "Hello??")).await;
    assert_eq!(next.action, Action::StoredWhileEscalated, "{name}");
    assert_eq!(h.agent.asked(), asked, "{name}: the bot never answered");
    assert_eq!(later.conversation_id.as_uuid(), conversation);
    deliver(app, &recorder).await;
    let sent_before = recorder.sent().len();

    // The person replies; the worker's sender delivers it on the channel.
    let text = "I'm Ana from billing. I've refunded the duplicate charge of **$24**; \
                it will show on your statement within 5 business days.";
    let reply = staff_post(
        app,
        &format!("/conversations/{conversation}/reply"),
        &json!({ "staff": STAFF, "message": text }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(reply.status, 202, "{name}: {}", reply.text);
    let reply = reply.json();
    assert_eq!(reply["channel"], name);
    let message_id: Uuid = reply["message_id"].as_str().unwrap().parse().unwrap();
    let (role, author, staff_meta, direction): (String, Option<String>, Value, String) =
        sqlx::query_as(
            "select role, author, metadata -> 'staff', direction from messages where id = $1",
        )
        .bind(message_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        (role.as_str(), author.as_deref(), direction.as_str()),
        ("agent", Some(STAFF), "outbound")
    );
    assert_eq!(staff_meta, STAFF);
    let payload: Value = scalar(
        app,
        "select payload from reply_outbox where message_id = $1",
        message_id,
    )
    .await;
    assert_eq!(payload["channel"], name, "{payload}");

    deliver(app, &recorder).await;
    let sent = recorder.sent();
    assert_eq!(
        sent.len(),
        sent_before + 1,
        "{name}: the staff reply went out"
    );
    let delivered = sent.last().unwrap();
    assert_eq!(delivered.idempotency_key, message_id.to_string());
    let body = delivered.parts.join("\n");
    match channel {
        Channel::Email => {
            assert!(body.starts_with("Hi Maria,"), "{body}");
            assert!(
                body.contains("refunded the duplicate charge of $24"),
                "{body}"
            );
            assert!(body.contains(&format!("Ticket: {ticket}")), "{body}");
            assert!(body.contains(format::EMAIL_SIGNATURE), "{body}");
            assert_eq!(delivered.subject.as_deref(), Some("Re: Charged twice"));
            let thread = delivered.thread.as_ref().expect("answered in the thread");
            assert_eq!(thread.thread_id, "thread-maria");
            assert_eq!(thread.in_reply_to_message_id, "<m-4@mail.example.com>");
            assert!(matches!(delivered.to, fte_channels::Recipient::Email(_)));
        }
        Channel::Whatsapp => {
            assert!(
                !body.contains("Hi Maria"),
                "no greeting on WhatsApp: {body}"
            );
            assert!(body.contains("*$24*"), "WhatsApp bold: {body}");
            assert!(delivered.parts.iter().all(|p| p.chars().count() <= 300));
            assert!(matches!(delivered.to, fte_channels::Recipient::Phone(_)));
            assert!(delivered.last_inbound_at.is_some(), "the session window");
        }
        Channel::WebForm => {
            assert!(body.starts_with("Hello Maria,"), "{body}");
            assert!(
                !body.contains("Ticket:"),
                "the status page shows the ticket: {body}"
            );
            assert!(matches!(delivered.to, fte_channels::Recipient::Email(_)));
        }
    }
    let (status, delivery): (String, String) = sqlx::query_as(
        "select o.status, m.delivery_status from reply_outbox o
         join messages m on m.id = o.message_id where o.message_id = $1",
    )
    .bind(message_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), delivery.as_str()), ("sent", "sent"));

    // Resolved: escalation, ticket and conversation; the bot answers again.
    let resolved = resolve(app, &escalation).await;
    assert_eq!(resolved.status, 200, "{name}: {}", resolved.text);
    let resolved = resolved.json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolved_by"], STAFF);
    assert!(resolved["resolved_at"].is_string());
    assert_eq!(
        resolved["resolution_notes"],
        "Refunded the duplicate charge."
    );
    let (ticket_status, notes): (String, Option<String>) =
        sqlx::query_as("select status, resolution_notes from tickets where id = $1")
            .bind(ticket)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(ticket_status, "resolved");
    assert_eq!(notes.as_deref(), Some("Refunded the duplicate charge."));
    let (conversation_status, resolution): (String, Option<String>) =
        sqlx::query_as("select status, resolution_type from conversations where id = $1")
            .bind(conversation)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (conversation_status.as_str(), resolution.as_deref()),
        ("resolved", Some("human"))
    );
    let kinds: Vec<String> = h
        .app
        .settled_events(fte_bus::topics::ESCALATIONS, Duration::from_secs(2))
        .await
        .iter()
        .map(|event| event["event_type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        kinds.ends_with(&["escalation.assigned".into(), "escalation.resolved".into()]),
        "{name}: {kinds:?}"
    );

    let back = handle(
        &h,
        &message(channel, "maria", "m-5", "Thanks! How do I turn on 2FA?"),
    )
    .await;
    assert_eq!(
        back.action,
        Action::Answered,
        "{name}: the bot answers again"
    );
    assert_ne!(
        back.conversation_id.as_uuid(),
        conversation,
        "a fresh conversation"
    );
    assert_eq!(h.agent.asked(), asked + 1);
}

#[tokio::test]
async fn the_handoff_works_through_email() {
    the_handoff_works_through(Channel::Email).await;
}

#[tokio::test]
async fn the_handoff_works_through_whatsapp() {
    the_handoff_works_through(Channel::Whatsapp).await;
}

#[tokio::test]
async fn the_handoff_works_through_the_web_form() {
    the_handoff_works_through(Channel::WebForm).await;
}

/// Escalates one message of a new customer; returns (escalation id,
/// conversation id).
async fn escalate(h: &Handoff, channel: Channel, customer: &str) -> (String, Uuid) {
    let handled = handle(
        h,
        &message(channel, customer, &format!("{customer}-1"), "refund please"),
    )
    .await;
    assert!(matches!(handled.action, Action::Escalated(_)));
    let id: Uuid = sqlx::query_scalar("select id from escalations where ticket_id = $1")
        .bind(handled.ticket_id.as_uuid())
        .fetch_one(&h.app.pool)
        .await
        .unwrap();
    (id.to_string(), handled.conversation_id.as_uuid())
}

#[tokio::test]
async fn every_handoff_endpoint_refuses_a_request_without_a_valid_staff_key() {
    let h = handoff().await;
    let (escalation, conversation) = escalate(&h, Channel::Email, "ivy").await;
    for key in [None, Some("not-the-key")] {
        let answer = h.app.get_as_staff("/escalations", key).await;
        assert_eq!(answer.status, 401, "GET /escalations with {key:?}");
        assert_eq!(answer.json()["error"], "unauthorized");
        for path in [
            format!("/escalations/{escalation}/assign"),
            format!("/escalations/{escalation}/resolve"),
            format!("/conversations/{conversation}/reply"),
        ] {
            let body = json!({ "staff": STAFF, "message": "x", "resolution_notes": "x" });
            let answer = staff_post(&h.app, &path, &body, key).await;
            assert_eq!(answer.status, 401, "POST {path} with {key:?}");
        }
    }
    let status: String = scalar(
        &h.app,
        "select status from escalations where id = $1",
        escalation.parse().unwrap(),
    )
    .await;
    assert_eq!(status, "pending", "nothing changed");
}

#[tokio::test]
async fn unknown_and_malformed_ids_answer_404_and_400() {
    let h = handoff().await;
    let unknown = Uuid::new_v4();
    let staff = json!({ "staff": STAFF });
    let cases = [
        (format!("/escalations/{unknown}/assign"), staff.clone(), 404),
        (
            format!("/escalations/{unknown}/resolve"),
            json!({ "staff": STAFF, "resolution_notes": "done" }),
            404,
        ),
        (
            format!("/conversations/{unknown}/reply"),
            json!({ "staff": STAFF, "message": "hello" }),
            404,
        ),
        (
            "/escalations/not-a-uuid/assign".to_owned(),
            staff.clone(),
            400,
        ),
        (
            "/conversations/42/reply".to_owned(),
            json!({ "staff": STAFF, "message": "hello" }),
            400,
        ),
    ];
    for (path, body, status) in cases {
        let answer = staff_post(&h.app, &path, &body, Some(STAFF_KEY)).await;
        assert_eq!(answer.status, status, "POST {path}: {}", answer.text);
        assert!(answer.json()["message"].is_string(), "{}", answer.text);
    }
}

#[tokio::test]
async fn a_resolved_escalation_cannot_be_resolved_or_assigned_again() {
    let h = handoff().await;
    let (escalation, conversation) = escalate(&h, Channel::Whatsapp, "zoe").await;
    let resolve = json!({ "staff": STAFF, "resolution_notes": "Refunded." });
    let path = format!("/escalations/{escalation}/resolve");
    let first = staff_post(&h.app, &path, &resolve, Some(STAFF_KEY)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let resolved_at = first.json()["resolved_at"].clone();

    let second = staff_post(&h.app, &path, &resolve, Some(STAFF_KEY)).await;
    assert_eq!(second.status, 409, "{}", second.text);
    assert_eq!(second.json()["error"], "already_resolved");
    let assign = staff_post(
        &h.app,
        &format!("/escalations/{escalation}/assign"),
        &json!({ "staff": "Someone Else" }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(assign.status, 409, "{}", assign.text);
    let reply = staff_post(
        &h.app,
        &format!("/conversations/{conversation}/reply"),
        &json!({ "staff": STAFF, "message": "One more thing" }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(
        reply.status, 409,
        "no reply once the bot has it back: {}",
        reply.text
    );
    assert_eq!(reply.json()["error"], "not_escalated");

    let view = staff_get(&h.app, "/escalations?status=resolved").await;
    assert_eq!(view["items"][0]["resolved_at"], resolved_at, "unchanged");
    assert_eq!(view["items"][0]["assigned_to"], Value::Null);
    let resolved = h
        .app
        .settled_events(fte_bus::topics::ESCALATIONS, Duration::from_secs(2))
        .await
        .iter()
        .filter(|event| event["event_type"] == "escalation.resolved")
        .count();
    assert_eq!(resolved, 1, "one escalation.resolved event");
}

#[tokio::test]
async fn a_staff_reply_to_a_conversation_the_bot_is_answering_is_refused() {
    let h = handoff().await;
    let handled = handle(
        &h,
        &message(Channel::Email, "lea", "lea-1", "How do I reset 2FA?"),
    )
    .await;
    assert_eq!(handled.action, Action::Answered);
    let answer = staff_post(
        &h.app,
        &format!("/conversations/{}/reply", handled.conversation_id),
        &json!({ "staff": STAFF, "message": "Hi, it's Ana." }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.json()["error"], "not_escalated");
    assert_eq!(
        h.app
            .count("select count(*) from messages where author is not null")
            .await,
        0
    );
}

#[tokio::test]
async fn bad_bodies_and_queries_answer_422_naming_the_field() {
    let h = handoff().await;
    let (escalation, conversation) = escalate(&h, Channel::WebForm, "max").await;
    let assign = format!("/escalations/{escalation}/assign");
    let resolve = format!("/escalations/{escalation}/resolve");
    let reply = format!("/conversations/{conversation}/reply");
    let long = "x".repeat(5001);
    let cases = [
        (&assign, json!({ "staff": "   " }), "staff"),
        (&assign, json!({ "staff": "a".repeat(256) }), "staff"),
        (&assign, json!({ "staff": "Ana\u{7}" }), "staff"),
        (&assign, json!({ "staff": STAFF, "role": "admin" }), "role"),
        (&assign, json!({ "staff": 7 }), "staff"),
        (&resolve, json!({ "staff": STAFF }), "resolution_notes"),
        (
            &resolve,
            json!({ "staff": STAFF, "resolution_notes": "" }),
            "resolution_notes",
        ),
        (
            &reply,
            json!({ "staff": STAFF, "message": "  " }),
            "message",
        ),
        (
            &reply,
            json!({ "staff": STAFF, "message": long }),
            "message",
        ),
    ];
    for (path, body, field) in cases {
        let answer = staff_post(&h.app, path, &body, Some(STAFF_KEY)).await;
        assert_eq!(answer.status, 422, "POST {path} {body}: {}", answer.text);
        let json = answer.json();
        assert_eq!(json["error"], "validation_failed");
        assert!(
            json["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "POST {path} {body} names {field}: {json}"
        );
    }
    for (query, field) in [
        ("status=closed", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
    ] {
        let answer = h
            .app
            .get_as_staff(&format!("/escalations?{query}"), Some(STAFF_KEY))
            .await;
        assert_eq!(answer.status, 422, "{query}: {}", answer.text);
        assert_eq!(answer.json()["fields"][0]["field"], field, "{query}");
    }
    let not_json = h
        .app
        .client
        .post(h.app.url(&assign))
        .bearer_auth(STAFF_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
    let status: String = scalar(
        &h.app,
        "select status from escalations where id = $1",
        escalation.parse().unwrap(),
    )
    .await;
    assert_eq!(status, "pending", "nothing changed");
}

#[tokio::test]
async fn a_staff_field_naming_another_than_the_keys_owner_is_refused_with_403() {
    let h = handoff().await;
    let (escalation, conversation) = escalate(&h, Channel::WebForm, "max").await;
    let cases = [
        (
            format!("/conversations/{conversation}/reply"),
            json!({ "staff": fte_testkit::gateway::OTHER_STAFF_NAME, "message": "hello" }),
        ),
        (
            format!("/escalations/{escalation}/resolve"),
            json!({ "staff": "Ana Ruiz", "resolution_notes": "Done." }),
        ),
    ];
    for (path, body) in cases {
        let answer = staff_post(&h.app, &path, &body, Some(STAFF_KEY)).await;
        assert_eq!(answer.status, 403, "POST {path} {body}: {}", answer.text);
        let json = answer.json();
        assert_eq!(json["error"], "staff_mismatch", "{json}");
        assert_eq!(json["fields"][0]["field"], "staff", "{json}");
    }
    assert_eq!(
        h.app
            .count("select count(*) from messages where author is not null")
            .await,
        0,
        "nothing was written under another's name"
    );
}

#[tokio::test]
async fn the_queue_pages_oldest_first() {
    let h = handoff().await;
    let mut ids = Vec::new();
    for (channel, customer) in [
        (Channel::Email, "amy"),
        (Channel::Whatsapp, "bob"),
        (Channel::WebForm, "cat"),
    ] {
        ids.push(escalate(&h, channel, customer).await.0);
    }
    let first = staff_get(&h.app, "/escalations?status=pending&limit=2").await;
    assert_eq!(first["total"], 3);
    assert_eq!(first["limit"], 2);
    assert_eq!(first["next_offset"], 2);
    let page: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [ids[0].as_str(), ids[1].as_str()], "oldest first");
    let second = staff_get(&h.app, "/escalations?status=pending&limit=2&offset=2").await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["id"], ids[2].as_str());
    assert_eq!(second["next_offset"], Value::Null);
    let open = staff_get(&h.app, "/escalations?status=open").await;
    assert_eq!(open["total"], 3, "pending and assigned");
    let default = staff_get(&h.app, "/escalations").await;
    assert_eq!(default["total"], 3, "pending by default");
}

#[tokio::test]
async fn overdue_escalations_are_counted_per_channel_and_exported() {
    let h = handoff().await;
    let (late, _) = escalate(&h, Channel::Whatsapp, "dan").await;
    escalate(&h, Channel::Whatsapp, "eve").await;
    escalate(&h, Channel::Email, "fay").await;
    sqlx::query(
        "update escalations set expected_response_by = now() - interval '5 minutes' where id = $1",
    )
    .bind(late.parse::<Uuid>().unwrap())
    .execute(&h.app.pool)
    .await
    .unwrap();

    let figures = staff_get(&h.app, "/metrics/channels").await;
    assert_eq!(figures["whatsapp"]["overdue_escalations"], 1, "{figures}");
    assert_eq!(figures["email"]["overdue_escalations"], 0, "{figures}");
    assert_eq!(figures["web_form"]["overdue_escalations"], 0, "{figures}");
    let queue = staff_get(&h.app, "/escalations?status=open").await;
    let overdue: Vec<&Value> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["overdue"] == true)
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["id"], late.as_str());

    let metrics = h.app.get("/metrics").await.text;
    assert!(
        metrics.contains("fte_escalations_overdue{channel=\"whatsapp\"} 1"),
        "the gauge is exported: {}",
        metrics
            .lines()
            .filter(|l| l.contains("overdue"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn assigning_and_resolving_publish_events_on_fte_escalations() {
    let h = handoff().await;
    let (escalation, _) = escalate(&h, Channel::Email, "gus").await;
    for (path, body) in [
        ("assign", json!({ "staff": STAFF })),
        (
            "resolve",
            json!({ "staff": STAFF, "resolution_notes": "Done." }),
        ),
    ] {
        let answer = staff_post(
            &h.app,
            &format!("/escalations/{escalation}/{path}"),
            &body,
            Some(STAFF_KEY),
        )
        .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    }
    let events = h.app.events(fte_bus::topics::ESCALATIONS, 2).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["escalation.assigned", "escalation.resolved"]);
    assert_eq!(events[1]["payload"]["escalation_id"], escalation.as_str());
    assert_eq!(events[1]["payload"]["resolved_by"], STAFF);
    assert_eq!(events[1]["payload"]["reason"], "refund");
    assert!(events[1]["payload"]["full_context"]["summary"].is_string());
}

#[tokio::test]
async fn the_openapi_document_describes_the_handoff_endpoints() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.json();
    for (path, method, codes) in [
        ("/escalations", "get", &["200", "401", "422", "429"][..]),
        (
            "/escalations/{id}/assign",
            "post",
            &["200", "401", "404", "409", "422"][..],
        ),
        (
            "/escalations/{id}/resolve",
            "post",
            &["200", "401", "404", "409", "422"][..],
        ),
        (
            "/conversations/{id}/reply",
            "post",
            &["202", "401", "404", "409", "422"][..],
        ),
    ] {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        assert_eq!(operation["security"][0]["staff_key"], json!([]), "{path}");
        for code in codes {
            assert!(
                operation["responses"][code].is_object(),
                "{method} {path} documents {code}"
            );
        }
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["ReplyRequest"]["required"], json!(["message"]));
    assert_eq!(
        schemas["ResolveRequest"]["required"],
        json!(["resolution_notes"])
    );
    assert!(schemas["Escalation"]["properties"]["wait_secs"].is_object());
    assert!(schemas["ChannelMetrics"]["properties"]["overdue_escalations"].is_object());
}

#[tokio::test]
async fn assigning_without_a_name_takes_the_case_for_the_keys_owner_and_is_audited() {
    let h = handoff().await;
    let (escalation, conversation) = escalate(&h, Channel::Email, "kai").await;
    let assigned = staff_post(
        &h.app,
        &format!("/escalations/{escalation}/assign"),
        &json!({}),
        Some(fte_testkit::gateway::OTHER_STAFF_KEY),
    )
    .await;
    assert_eq!(assigned.status, 200, "{}", assigned.text);
    assert_eq!(
        assigned.json()["assigned_to"],
        fte_testkit::gateway::OTHER_STAFF_NAME
    );

    // Writing under another staff member's name is refused; nothing is stored.
    let forged = staff_post(
        &h.app,
        &format!("/conversations/{conversation}/reply"),
        &json!({ "staff": STAFF, "message": "Refund done." }),
        Some(fte_testkit::gateway::OTHER_STAFF_KEY),
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert_eq!(forged.json()["error"], "staff_mismatch");
    assert_eq!(
        h.app
            .count("select count(*) from messages where author is not null")
            .await,
        0
    );
    let reply = staff_post(
        &h.app,
        &format!("/conversations/{conversation}/reply"),
        &json!({ "message": "Refund done." }),
        Some(fte_testkit::gateway::OTHER_STAFF_KEY),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    let author: String = scalar(
        &h.app,
        "select author from messages where id = $1",
        reply.json()["message_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    )
    .await;
    assert_eq!(author, fte_testkit::gateway::OTHER_STAFF_NAME);

    let audit = fte_store::audit::recent(&h.app.pool, 10).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .rev()
        .map(|row| (row.staff.as_str(), row.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            (fte_testkit::gateway::OTHER_STAFF_NAME, "escalation.assign"),
            (fte_testkit::gateway::OTHER_STAFF_NAME, "conversation.reply"),
        ],
        "the refused forgery wrote nothing; the accepted actions are audited"
    );
    assert_eq!(
        audit[0].target_id.as_deref(),
        Some(conversation.to_string().as_str())
    );
}
