//! The human handoff driven from an MCP client (`rmcp` over streamable
//! HTTP): the worker's real step escalates a customer's message; staff find
//! it with `list_escalations`, take it, reply, and the worker's real sender
//! delivers the reply on the customer's channel; then they resolve it. And
//! the plan's tools on a ticket: open it, read the history, escalate it,
//! answer it. Every call is audited under the key's owner.

use std::sync::Arc;
use std::time::Duration;

use fte_channels::Recipient;
use fte_domain::{Channel, EscalationReason};
use fte_fakes::RecordingSender;
use fte_testkit::mcp::{
    STAFF_KEY, STAFF_NAME, call, call_ok, message, spawn_mcp, text, whatsapp_number,
};
use fte_worker::Action;
use serde_json::json;

#[tokio::test]
async fn staff_take_an_escalation_answer_on_whatsapp_and_resolve_it() {
    let app = spawn_mcp().await;
    let recorder = Arc::new(RecordingSender::new(Channel::Whatsapp));
    let escalated = app
        .handle(&message(
            Channel::Whatsapp,
            "maria",
            "wa-1",
            "I was charged twice, I want a refund",
        ))
        .await;
    assert_eq!(
        escalated.action,
        Action::Escalated(EscalationReason::Refund)
    );
    app.deliver(&recorder).await;
    let told = recorder.sent().len();
    assert_eq!(told, 1, "the customer was told a person will follow up");

    let client = app.client(STAFF_KEY).await;
    let queue = call_ok(&client, "list_escalations", json!({})).await;
    assert_eq!(queue["total"], 1, "{queue}");
    let item = &queue["items"][0];
    assert_eq!(item["reason"], "refund");
    assert_eq!(item["channel"], "whatsapp");
    assert_eq!(item["status"], "pending");
    assert_eq!(item["customer"]["phone"], whatsapp_number("maria"));
    assert_eq!(
        item["full_context"]["summary"],
        "asks for a refund of a duplicate charge"
    );
    let escalation = item["id"].as_str().unwrap().to_owned();
    let conversation = item["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(conversation, escalated.conversation_id.to_string());

    let taken = call_ok(
        &client,
        "assign_escalation",
        json!({ "escalation_id": escalation }),
    )
    .await;
    assert_eq!(taken["status"], "assigned");
    assert_eq!(taken["assigned_to"], STAFF_NAME, "taken by the key's owner");

    let answer = "Hi Maria, I have refunded the duplicate charge; it shows on your card within 5 working days.";
    let queued = call_ok(
        &client,
        "reply_to_customer",
        json!({ "conversation_id": conversation, "message": answer }),
    )
    .await;
    assert_eq!(queued["channel"], "whatsapp");
    app.deliver(&recorder).await;
    let sent = recorder.sent();
    assert_eq!(sent.len(), told + 1, "the staff reply went out once");
    let reply = sent.last().unwrap();
    match &reply.to {
        Recipient::Phone(phone) => assert_eq!(phone.as_str(), whatsapp_number("maria")),
        Recipient::Email(_) => panic!("a WhatsApp customer is answered on WhatsApp"),
    }
    let delivered = reply.parts.join(" ");
    assert!(
        delivered.contains("refunded the duplicate charge"),
        "{delivered}"
    );

    let closed = call_ok(
        &client,
        "resolve_escalation",
        json!({ "escalation_id": escalation, "resolution_notes": "Refunded the duplicate charge." }),
    )
    .await;
    assert_eq!(closed["status"], "resolved");
    assert_eq!(closed["resolved_by"], STAFF_NAME);
    assert_eq!(
        call_ok(&client, "list_escalations", json!({ "status": "open" })).await["total"],
        0
    );

    let audit = app.audit().await;
    for action in [
        "escalation.list",
        "escalation.assign",
        "conversation.reply",
        "escalation.resolve",
    ] {
        assert!(
            audit.contains(&(STAFF_NAME.to_owned(), action.to_owned())),
            "{action} audited under {STAFF_NAME}: {audit:?}"
        );
    }
    // The assignment and the resolution reached fte.escalations.
    let mut pending = i64::MAX;
    for _ in 0..100 {
        pending =
            sqlx::query_scalar("select count(*) from event_outbox where topic = 'fte.escalations'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0, "every escalation event was published");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_plan_tools_open_escalate_and_answer_a_ticket_by_email() {
    let app = spawn_mcp().await;
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    let asked = app
        .handle(&message(
            Channel::Email,
            "helen",
            "em-1",
            "How do I turn on two-factor authentication?",
        ))
        .await;
    assert_eq!(asked.action, Action::Answered);
    app.deliver(&recorder).await;
    let client = app.client(STAFF_KEY).await;

    let customer = call_ok(
        &client,
        "lookup_customer",
        json!({ "email": "helen@example.com" }),
    )
    .await;
    let customer_id = customer["id"].as_str().unwrap().to_owned();
    assert_eq!(customer_id, asked.customer_id.to_string());

    // The customer's open conversation already has a ticket: it is returned.
    let ticket = call_ok(
        &client,
        "create_ticket",
        json!({
            "customer_id": customer_id,
            "channel": "whatsapp",
            "subject": "Called about two-factor authentication",
            "priority": "high",
        }),
    )
    .await;
    assert_eq!(ticket["created"], false, "{ticket}");
    assert_eq!(ticket["ticket_id"], asked.ticket_id.to_string());
    assert_eq!(
        ticket["channel"], "email",
        "replies stay on the current channel"
    );
    let ticket_id = asked.ticket_id.to_string();
    let priority: String = sqlx::query_scalar("select priority from tickets where id = $1")
        .bind(asked.ticket_id.as_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(priority, "high");

    let history = call_ok(
        &client,
        "get_customer_history",
        json!({ "customer_id": customer_id }),
    )
    .await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{history}");
    assert_eq!(messages[0]["role"], "customer");
    assert_eq!(messages[0]["channel"], "email");
    assert_eq!(
        messages[0]["content"],
        "How do I turn on two-factor authentication?"
    );
    assert_eq!(messages[1]["role"], "agent");

    // The bot is answering: a person may not talk over it.
    let refused = call(
        &client,
        "send_response",
        json!({ "ticket_id": ticket_id, "message": "Hello" }),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(
        refused.structured_content.as_ref().unwrap()["error"],
        "not_escalated",
        "{}",
        text(&refused)
    );

    let escalation = call_ok(
        &client,
        "escalate_to_human",
        json!({
            "ticket_id": ticket_id,
            "reason": "human_request",
            "summary": "Asked on the phone for a person to walk them through 2FA.",
        }),
    )
    .await;
    assert_eq!(escalation["status"], "pending");
    assert_eq!(escalation["reason"], "human_request");
    assert_eq!(escalation["ticket_id"], ticket_id);
    assert_eq!(escalation["channel"], "email");
    let again = call(
        &client,
        "escalate_to_human",
        json!({ "ticket_id": ticket_id, "reason": "anger", "summary": "again" }),
    )
    .await;
    assert_eq!(again.is_error, Some(true));
    assert!(
        text(&again).contains("cannot be escalated"),
        "{}",
        text(&again)
    );

    let sent = call_ok(
        &client,
        "send_response",
        json!({
            "ticket_id": ticket_id,
            "message": "Open Profile > Security > Two-factor authentication and scan the code.",
        }),
    )
    .await;
    assert_eq!(sent["channel"], "email");
    assert_eq!(sent["ticket_id"], ticket_id);
    app.deliver(&recorder).await;
    let email = recorder.sent().pop().unwrap();
    assert!(
        email.parts.join(" ").contains("Two-factor authentication"),
        "{:?}",
        email.parts
    );
    assert_eq!(
        email.thread.as_ref().map(|t| t.thread_id.as_str()),
        Some("thread-helen"),
        "answered in the customer's Gmail thread"
    );

    // Once resolved, a new ticket starts a new conversation.
    call_ok(
        &client,
        "resolve_escalation",
        json!({ "escalation_id": escalation["id"], "resolution_notes": "Walked through 2FA." }),
    )
    .await;
    let fresh = call_ok(
        &client,
        "create_ticket",
        json!({
            "customer_id": customer_id,
            "channel": "whatsapp",
            "subject": "Follow-up call",
            "category": "technical",
        }),
    )
    .await;
    assert_eq!(fresh["created"], true, "{fresh}");
    assert_eq!(fresh["status"], "open");
    assert_eq!(fresh["channel"], "whatsapp");
    assert_ne!(fresh["conversation_id"], escalation["conversation_id"]);

    let audit = app.audit().await;
    for action in [
        "customer.lookup",
        "ticket.create",
        "customer.history.read",
        "ticket.escalate",
        "conversation.reply",
    ] {
        assert!(
            audit.contains(&(STAFF_NAME.to_owned(), action.to_owned())),
            "{action} audited under {STAFF_NAME}: {audit:?}"
        );
    }
    client.cancel().await.unwrap();
}
