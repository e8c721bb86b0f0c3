//! A web form ticket as a conversation, against a real PostgreSQL, the
//! embedded broker and the worker's real step: the access key handed out at
//! submit opens the ticket's thread; the customer writes follow-ups that
//! travel the submission's durable path and are answered in the same
//! ticket; the customer's status wording goes answered → with our team →
//! resolved; and the ticket id alone, a wrong key, or another ticket's key
//! reveal and accept nothing.

use fte_bus::topics;
use fte_domain::{EscalationReason, EventEnvelope, InboundMessage};
use fte_testkit::gateway::handoff::{handle, handoff, resolve};
use fte_testkit::gateway::{Options, STAFF_KEY, TestApp, spawn_app, spawn_app_with, valid_form};
use fte_worker::Action;
use serde_json::{Value, json};
use uuid::Uuid;

/// Every `ticket.inbound` event on `fte.tickets.incoming` so far.
async fn inbound_events(app: &TestApp, wanted: usize) -> Vec<EventEnvelope<InboundMessage>> {
    let events = app.events(topics::TICKETS_INCOMING, wanted).await;
    assert_eq!(events.len(), wanted, "{events:?}");
    events
        .into_iter()
        .map(|event| serde_json::from_value(event).expect("a ticket.inbound event"))
        .collect()
}

async fn view(app: &TestApp, ticket: &str, key: &str) -> Value {
    let answer = app
        .get_with_key(&format!("/support/ticket/{ticket}"), key)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

fn roles(view: &Value) -> Vec<&str> {
    view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect()
}

async fn follow_up(
    app: &TestApp,
    ticket: &str,
    key: Option<&str>,
    text: &str,
) -> fte_testkit::gateway::Answer {
    app.post_with_key(
        &format!("/support/ticket/{ticket}/messages"),
        &json!({ "message": text }),
        key,
    )
    .await
}

#[tokio::test]
async fn a_follow_up_is_answered_in_the_same_ticket_and_the_wording_goes_answered_with_team_resolved()
 {
    let h = handoff().await;
    let app = &h.app;
    let (ticket, key) = app.submit_ticket(&valid_form()).await;

    // The submission reaches Kafka; the worker's step answers it.
    let first = handle(&h, &inbound_events(app, 1).await[0]).await;
    assert_eq!(first.action, Action::Answered);
    let answered = view(app, &ticket, &key).await;
    assert_eq!(answered["access"], "thread");
    assert_eq!(answered["status"], "processing", "the plan's state is kept");
    assert_eq!(answered["customer_status"], "answered", "{answered}");
    assert_eq!(answered["status_label"], "Answered");
    assert_eq!(answered["can_reply"], true);
    assert!(answered["estimate"].is_null(), "nothing more is awaited");
    assert_eq!(roles(&answered), ["customer", "agent"]);
    let reply = answered["messages"][1]["content"].as_str().unwrap();
    assert!(reply.starts_with("Hello Maria,"), "{reply}");
    assert!(
        !reply.contains("Ticket:"),
        "no ticket line on the web: {reply}"
    );

    // The customer replies in the thread.
    let posted = follow_up(
        app,
        &ticket,
        Some(&key),
        "Thanks! Does that also work on mobile?",
    )
    .await;
    assert_eq!(posted.status, 202, "{}", posted.text);
    let message_id = posted.json()["message_id"].as_str().unwrap().to_owned();
    let waiting = view(app, &ticket, &key).await;
    assert_eq!(waiting["customer_status"], "in_progress");
    assert_eq!(waiting["estimate"]["kind"], "bot", "{waiting}");
    assert_eq!(roles(&waiting), ["customer", "agent", "customer"]);

    // Its event went the submission's way: Kafka, with the ticket and the
    // submission's sender; the worker answers it in the same ticket.
    let events = inbound_events(app, 2).await;
    let event = events
        .iter()
        .find(|e| e.payload.channel_message_id == message_id)
        .expect("the follow-up's event");
    assert_eq!(
        event.payload.ticket_id.map(|t| t.to_string()),
        Some(ticket.clone())
    );
    assert_eq!(
        event.payload.sender.email.as_deref(),
        Some("maria.santos@example.com")
    );
    assert_eq!(
        event.payload.subject.as_deref(),
        Some("Cannot export my board")
    );
    let second = handle(&h, event).await;
    assert_eq!(second.action, Action::Answered);
    assert_eq!(second.ticket_id, first.ticket_id, "the same ticket");
    assert_eq!(second.conversation_id, first.conversation_id);
    let again = view(app, &ticket, &key).await;
    assert_eq!(again["customer_status"], "answered");
    assert_eq!(roles(&again), ["customer", "agent", "customer", "agent"]);

    // A refund request goes to a person: "With our team", with the promise.
    let posted = follow_up(
        app,
        &ticket,
        Some(&key),
        "I was charged twice, I want a refund",
    )
    .await;
    assert_eq!(posted.status, 202, "{}", posted.text);
    let events = inbound_events(app, 3).await;
    let refund = events
        .iter()
        .find(|e| e.payload.content.contains("refund"))
        .unwrap();
    let third = handle(&h, refund).await;
    assert_eq!(third.action, Action::Escalated(EscalationReason::Refund));
    let escalated = view(app, &ticket, &key).await;
    assert_eq!(escalated["status"], "escalated");
    assert_eq!(escalated["customer_status"], "with_team", "{escalated}");
    assert_eq!(escalated["status_label"], "With our team");
    assert_eq!(
        escalated["can_reply"], true,
        "the customer may add to the case"
    );
    assert_eq!(escalated["estimate"]["kind"], "team", "{escalated}");
    assert!(escalated["estimate"]["by"].is_string(), "{escalated}");

    // Staff resolve it: "Resolved", and the thread takes no more messages.
    let queue = app
        .get_as_staff("/escalations?status=pending", Some(STAFF_KEY))
        .await
        .json();
    let escalation = queue["items"][0]["id"].as_str().unwrap();
    let resolved = resolve(app, escalation).await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    let closed = view(app, &ticket, &key).await;
    assert_eq!(closed["customer_status"], "resolved");
    assert_eq!(closed["can_reply"], false);
    let refused = follow_up(app, &ticket, Some(&key), "One more thing about the refund").await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.json()["error"], "ticket_resolved");
}

#[tokio::test]
async fn the_ticket_id_alone_shows_the_status_but_no_message_content() {
    let app = spawn_app().await;
    let (ticket, _key) = app.submit_ticket(&valid_form()).await;

    let answer = app.get(&format!("/support/ticket/{ticket}")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["access"], "status");
    assert_eq!(body["messages"], json!([]));
    assert_eq!(body["can_reply"], false);
    assert!(body["status"].is_string() && body["customer_status"].is_string());
    assert!(
        !answer.text.contains("CSV export"),
        "no message content without the key: {}",
        answer.text
    );
}

#[tokio::test]
async fn a_wrong_key_or_another_ticket_s_key_opens_nothing_and_writes_nothing() {
    let app = spawn_app().await;
    let (victim, _) = app.submit_ticket(&valid_form()).await;
    let mut other = valid_form();
    other["email"] = json!("attacker@example.com");
    let (_, attacker_key) = app.submit_ticket(&other).await;
    let path = format!("/support/ticket/{victim}");

    for key in [
        attacker_key.as_str(),
        "not-the-key",
        "A".repeat(43).as_str(),
    ] {
        let read = app.get_with_key(&path, key).await;
        assert_eq!(read.status, 403, "{}", read.text);
        assert_eq!(read.json()["error"], "access_denied");
        assert!(!read.text.contains("CSV export"));
        let write = follow_up(&app, &victim, Some(key), "Show me my previous messages").await;
        assert_eq!(write.status, 403, "{}", write.text);
    }
    let keyless = follow_up(&app, &victim, None, "Show me my previous messages").await;
    assert_eq!(keyless.status, 403, "{}", keyless.text);
    assert_eq!(keyless.json()["error"], "access_key_required");
    let overlong = app.get_with_key(&path, &"k".repeat(500)).await;
    assert_eq!(overlong.status, 400, "{}", overlong.text);
    assert_eq!(
        app.count("select count(*) from messages where content like 'Show me%'")
            .await,
        0,
        "nothing was stored"
    );
}

#[tokio::test]
async fn the_key_also_works_as_a_query_parameter_for_links() {
    let app = spawn_app().await;
    let (ticket, key) = app.submit_ticket(&valid_form()).await;

    let answer = app
        .get(&format!("/support/ticket/{ticket}?access_key={key}"))
        .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["access"], "thread");
    assert_eq!(roles(&answer.json()), ["customer"]);
}

#[tokio::test]
async fn a_ticket_opened_on_another_channel_has_no_key_that_opens_it() {
    let app = spawn_app().await;
    let ticket = Uuid::now_v7();
    sqlx::query(
        "insert into tickets (id, source_channel, status) values ($1, 'email', 'processing')",
    )
    .bind(ticket)
    .execute(&app.pool)
    .await
    .unwrap();
    let (_, some_key) = app.submit_ticket(&valid_form()).await;

    let status_only = app.get(&format!("/support/ticket/{ticket}")).await;
    assert_eq!(status_only.status, 200, "{}", status_only.text);
    let with_key = app
        .get_with_key(&format!("/support/ticket/{ticket}"), &some_key)
        .await;
    assert_eq!(with_key.status, 403, "{}", with_key.text);
    let write = follow_up(&app, &ticket.to_string(), Some(&some_key), "hello there").await;
    assert_eq!(write.status, 403, "{}", write.text);
}

#[tokio::test]
async fn the_thread_shows_only_this_ticket_s_web_form_messages() {
    let app = spawn_app().await;
    let (ticket, key) = app.submit_ticket(&valid_form()).await;
    let (other_ticket, _) = app.submit_ticket(&valid_form()).await;
    app.let_worker_take(2).await;
    let (conversation,): (Uuid,) =
        sqlx::query_as("select conversation_id from tickets where id = $1::uuid")
            .bind(&ticket)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // What a shared conversation may hold beside this ticket's thread: a
    // WhatsApp message and its reply queued for this very ticket, and a web
    // form message of another ticket.
    sqlx::query(
        "with whatsapp as (
             insert into messages (conversation_id, channel, direction, role, content, delivery_status)
             values ($1, 'whatsapp', 'inbound', 'customer', 'BLUEHERON secret on WhatsApp', 'received'),
                    ($1, 'whatsapp', 'outbound', 'agent', 'BLUEHERON answer on WhatsApp', 'sent')
             returning id, direction)
         insert into reply_outbox (message_id, conversation_id, ticket_id, channel, payload, status)
         select id, $1, $2::uuid, 'whatsapp', '{}', 'sent' from whatsapp where direction = 'outbound'",
    )
    .bind(conversation)
    .bind(&ticket)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into messages (conversation_id, ticket_id, channel, direction, role, content, delivery_status)
         values ($1, $2::uuid, 'web_form', 'inbound', 'customer', 'BLUEHERON in another ticket', 'received')",
    )
    .bind(conversation)
    .bind(&other_ticket)
    .execute(&app.pool)
    .await
    .unwrap();

    let thread = view(&app, &ticket, &key).await;

    assert_eq!(roles(&thread), ["customer", "agent"], "{thread}");
    assert!(!thread.to_string().contains("BLUEHERON"), "{thread}");
}

#[tokio::test]
async fn a_follow_up_needs_a_message_of_at_most_5000_characters_and_nothing_else() {
    let app = spawn_app().await;
    let (ticket, key) = app.submit_ticket(&valid_form()).await;
    let path = format!("/support/ticket/{ticket}/messages");

    for (body, field) in [
        (json!({ "message": "   " }), "message"),
        (json!({}), "message"),
        (json!({ "message": "x".repeat(5001) }), "message"),
        (json!({ "message": "nul\u{0} inside" }), "message"),
        (
            json!({ "message": "fine", "email": "x@example.com" }),
            "email",
        ),
    ] {
        let answer = app.post_with_key(&path, &body, Some(&key)).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text);
        assert_eq!(answer.json()["fields"][0]["field"], field, "{body}");
    }
    let short = app
        .post_with_key(&path, &json!({ "message": "ok" }), Some(&key))
        .await;
    assert_eq!(
        short.status, 202,
        "a short follow-up is fine: {}",
        short.text
    );
    let broken = app
        .post_raw(
            &path,
            b"{\"message\": ".to_vec(),
            &[
                ("content-type", "application/json"),
                ("x-ticket-access-key", key.as_str()),
            ],
        )
        .await;
    assert_eq!(broken.status, 400, "{}", broken.text);
}

#[tokio::test]
async fn follow_ups_share_the_submission_rate_limit() {
    let app = spawn_app_with(Options {
        vars: vec![("SUBMIT_RATE_LIMIT_PER_MINUTE", "3".into())],
        ..Options::default()
    })
    .await;
    let (ticket, key) = app.submit_ticket(&valid_form()).await;
    for _ in 0..2 {
        assert_eq!(
            follow_up(&app, &ticket, Some(&key), "one more")
                .await
                .status,
            202
        );
    }

    let limited = follow_up(&app, &ticket, Some(&key), "and another").await;

    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.header("retry-after").is_some());
}

#[tokio::test]
async fn the_estimate_grows_with_the_queue() {
    let app = spawn_app().await;
    // 300 tickets wait and the bot answered nothing recently: 10 s each.
    sqlx::query(
        "insert into tickets (source_channel, status)
         select 'email', 'open' from generate_series(1, 300)",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let answer = app.submit(&valid_form()).await;

    let body = answer.json();
    let secs = body["estimate"]["within_secs"].as_u64().unwrap();
    assert!(secs >= 3000, "{body}");
    assert_eq!(
        body["estimated_response_time"], "Usually within about 51 minutes",
        "{body}"
    );
}

#[tokio::test]
async fn the_widget_config_names_no_challenge_by_default_and_local_origins_may_call() {
    let app = spawn_app().await;

    let config = app.get("/support/config").await;
    assert_eq!(config.status, 200, "{}", config.text);
    assert_eq!(config.json(), json!({ "challenge": null }));

    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/support/ticket/x/messages"),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-ticket-access-key",
        )
        .send()
        .await
        .unwrap();
    let headers = preflight.headers();
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("http://localhost:5173"),
        "the dev profile allows loopback origins"
    );
    let allowed = headers
        .get("access-control-allow-headers")
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .unwrap_or_default();
    assert!(allowed.contains("x-ticket-access-key"), "{allowed}");
}

#[tokio::test]
async fn a_message_the_worker_has_not_stored_yet_opens_only_with_its_own_ticket_s_key() {
    let app = spawn_app().await;
    let mut victim = valid_form();
    victim["message"] = json!("GREYHERON my invoice address is wrong, please help me change it.");
    let (victim_ticket, victim_key) = app.submit_ticket(&victim).await;
    // A stranger with a ticket of their own, naming the victim's email.
    let (_, stranger_key) = app.submit_ticket(&valid_form()).await;

    let status_only = app.get(&format!("/support/ticket/{victim_ticket}")).await;
    assert_eq!(status_only.status, 200, "{}", status_only.text);
    assert!(
        !status_only.text.contains("GREYHERON"),
        "{}",
        status_only.text
    );
    let borrowed = app
        .get_with_key(&format!("/support/ticket/{victim_ticket}"), &stranger_key)
        .await;
    assert_eq!(borrowed.status, 403, "{}", borrowed.text);
    assert!(!borrowed.text.contains("GREYHERON"));
    let write = follow_up(&app, &victim_ticket, Some(&stranger_key), "hello there").await;
    assert_eq!(write.status, 403, "{}", write.text);

    let own = view(&app, &victim_ticket, &victim_key).await;
    assert_eq!(roles(&own), ["customer"], "{own}");
    assert!(own.to_string().contains("GREYHERON"));
}
