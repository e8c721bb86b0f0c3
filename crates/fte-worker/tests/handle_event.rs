//! `handle_event` against a fresh PostgreSQL: idempotency, identity across
//! channels (the sample tickets' variations), the 24-hour conversation
//! rule, escalation, rate limiting and WhatsApp "MORE".

use fte_domain::{Channel, EscalationReason};
use fte_store::{conversations, customers, outbox};
use fte_testkit::worker::{Script, count, harness, inbound, proven};
use fte_worker::{Action, ESCALATED_ACKNOWLEDGEMENT, Outcome, RATE_LIMIT_NOTICE, handle_event};

fn handled(outcome: Outcome) -> fte_worker::Handled {
    match outcome {
        Outcome::Handled(h) => h,
        Outcome::Duplicate => panic!("expected the message to be handled, got a duplicate"),
    }
}

#[tokio::test]
async fn the_same_message_delivered_twice_yields_one_reply() {
    let h = harness().await;
    let event = inbound(
        Channel::Email,
        "gmail-1",
        Some("maria.santos@example.com"),
        None,
        Some("Maria Santos"),
        "My reset link does not work",
    );
    let first = handled(handle_event(&h.ctx, &event).await.unwrap());
    let second = handle_event(&h.ctx, &event).await.unwrap();

    assert_eq!(second, Outcome::Duplicate, "a redelivery is a no-op");
    assert_eq!(first.action, Action::Answered);
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        1
    );
    assert_eq!(h.agent.requests().len(), 1, "the agent ran once");
    let replies = outbox::replies_of_conversation(&h.pool, first.conversation_id.as_uuid())
        .await
        .unwrap();
    assert_eq!(replies[0].status, "pending");
    let parts = replies[0].payload["parts"][0].as_str().unwrap();
    assert!(
        parts.starts_with("Hi Maria,"),
        "email greeting by first name"
    );
    let status: String = sqlx::query_scalar("select status from tickets where id = $1")
        .bind(first.ticket_id.as_uuid())
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(status, "processing");
}

#[tokio::test]
async fn email_addresses_differing_in_case_resolve_to_one_customer() {
    // S001 / S019.
    let h = harness().await;
    let a = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-s001",
                Some("maria.santos@example.com"),
                None,
                Some("Maria Santos"),
                "reset link",
            ),
        )
        .await
        .unwrap(),
    );
    let b = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-s019",
                Some("  Maria.Santos@Example.com "),
                None,
                Some("Maria Santos"),
                "it worked",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        a.customer_id, b.customer_id,
        "S001 and S019 are one customer"
    );
    assert_eq!(
        a.conversation_id, b.conversation_id,
        "within 24 h: one conversation"
    );
    assert_eq!(count(&h.pool, "select count(*) from customers").await, 1);
}

#[tokio::test]
async fn phone_numbers_written_differently_resolve_to_one_customer() {
    // S021 / S023 and S030 / S031.
    let h = harness().await;
    let pairs = [
        ("+34 612 345 678", "+34612345678"),
        ("+1 (555) 010-0142", "whatsapp:+15550100142"),
    ];
    for (i, (first, second)) in pairs.iter().enumerate() {
        let a = handled(
            handle_event(
                &h.ctx,
                &inbound(
                    Channel::Whatsapp,
                    &format!("SMa{i}"),
                    None,
                    Some(first),
                    None,
                    "hi",
                ),
            )
            .await
            .unwrap(),
        );
        let b = handled(
            handle_event(
                &h.ctx,
                &inbound(
                    Channel::Whatsapp,
                    &format!("SMb{i}"),
                    None,
                    Some(second),
                    None,
                    "again",
                ),
            )
            .await
            .unwrap(),
        );
        assert_eq!(
            a.customer_id, b.customer_id,
            "`{first}` and `{second}` are one customer"
        );
    }
    assert_eq!(count(&h.pool, "select count(*) from customers").await, 2);
    let stored: Vec<String> = sqlx::query_scalar(
        "select identifier_value from customer_identifiers order by identifier_value",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        vec!["+15550100142", "+34612345678"],
        "stored in E.164"
    );
}

#[tokio::test]
async fn a_web_form_by_email_after_whatsapp_by_phone_is_not_merged_on_the_name() {
    // S030 then S047: same name, different identifiers.
    let h = harness().await;
    let whatsapp = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Whatsapp,
                "SM30",
                None,
                Some("+1 (555) 010-0142"),
                Some("Emma Brown"),
                "slack?",
            ),
        )
        .await
        .unwrap(),
    );
    let web = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::WebForm,
                "web-47",
                Some("emma.brown@example.com"),
                None,
                Some("Emma Brown"),
                "slack channel",
            ),
        )
        .await
        .unwrap(),
    );
    assert_ne!(
        whatsapp.customer_id, web.customer_id,
        "a name never merges customers"
    );
}

#[tokio::test]
async fn a_message_carrying_email_and_phone_links_both_to_one_customer() {
    let h = harness().await;
    let whatsapp = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Whatsapp,
                "SM1",
                None,
                Some("+15550100142"),
                None,
                "hi",
            ),
        )
        .await
        .unwrap(),
    );
    let web = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::WebForm,
                "web-1",
                Some("Emma.Brown@example.com"),
                Some("+1 555 010 0142"),
                None,
                "following up",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(whatsapp.customer_id, web.customer_id);
    let later = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-1",
                Some("emma.brown@example.com"),
                None,
                None,
                "and by email",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        later.customer_id, whatsapp.customer_id,
        "the email now finds the WhatsApp customer"
    );
    let ids = customers::identifiers(&h.pool, whatsapp.customer_id.as_uuid())
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
}

async fn age_conversation(pool: &fte_store::PgPool, id: uuid::Uuid, seconds: i64) {
    sqlx::query("update conversations set last_message_at = now() - make_interval(secs => $2) where id = $1")
        .bind(id)
        .bind(seconds as f64)
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_message_23h59_after_the_last_continues_the_conversation_on_another_channel() {
    let h = harness().await;
    let first = handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Email,
                "g-1",
                Some("a@example.com"),
                None,
                None,
                "q1",
            )),
        )
        .await
        .unwrap(),
    );
    age_conversation(
        &h.pool,
        first.conversation_id.as_uuid(),
        23 * 3600 + 59 * 60,
    )
    .await;
    let second = handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::WebForm,
                "web-1",
                Some("A@example.com"),
                None,
                None,
                "q2",
            )),
        )
        .await
        .unwrap(),
    );
    assert_eq!(second.conversation_id, first.conversation_id);
    let conversation = conversations::conversation(&h.pool, first.conversation_id.as_uuid())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.initial_channel, "email");
    assert_eq!(conversation.current_channel, "web_form");
    let switches = conversations::switches(&h.pool, first.conversation_id.as_uuid())
        .await
        .unwrap();
    assert_eq!(switches, vec![("email".to_owned(), "web_form".to_owned())]);
    let request = h.agent.requests().pop().unwrap();
    assert_eq!(
        request.history.len(),
        2,
        "the earlier email and its reply are history"
    );
    assert_eq!(request.history[0].channel, Channel::Email);
}

#[tokio::test]
async fn a_message_24h01_after_the_last_starts_a_new_conversation() {
    let h = harness().await;
    let first = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-1",
                Some("a@example.com"),
                None,
                None,
                "q1",
            ),
        )
        .await
        .unwrap(),
    );
    age_conversation(&h.pool, first.conversation_id.as_uuid(), 24 * 3600 + 60).await;
    let second = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-2",
                Some("a@example.com"),
                None,
                None,
                "q2",
            ),
        )
        .await
        .unwrap(),
    );
    assert_ne!(second.conversation_id, first.conversation_id);
    assert_eq!(second.customer_id, first.customer_id);
    assert_ne!(
        second.ticket_id, first.ticket_id,
        "a new conversation gets a new ticket"
    );
}

#[tokio::test]
async fn an_escalated_conversation_stays_escalated_and_acknowledges_once() {
    let h = harness().await;
    h.agent.then(Script::Escalate(EscalationReason::Refund));
    let first = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Whatsapp,
                "SM1",
                None,
                Some("+34612345678"),
                None,
                "refund please",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(first.action, Action::Escalated(EscalationReason::Refund));
    let conversation = first.conversation_id.as_uuid();

    // Acknowledged at escalation: the next message is stored, not answered.
    let second = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Whatsapp,
                "SM2",
                None,
                Some("+34612345678"),
                None,
                "hello??",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(second.action, Action::StoredWhileEscalated);
    // Once the acknowledgement interval has passed, one acknowledgement.
    sqlx::query("update conversations set metadata = metadata - 'escalation_ack_at' where id = $1")
        .bind(conversation)
        .execute(&h.pool)
        .await
        .unwrap();
    let third = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Whatsapp,
                "SM3",
                None,
                Some("+34612345678"),
                None,
                "anyone?",
            ),
        )
        .await
        .unwrap(),
    );
    let fourth = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Whatsapp,
                "SM4",
                None,
                Some("+34612345678"),
                None,
                "??",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(third.action, Action::Acknowledged);
    assert_eq!(fourth.action, Action::StoredWhileEscalated);
    assert_eq!(
        h.agent.requests().len(),
        1,
        "the agent never answers an escalated conversation"
    );
    assert!(
        [&second, &third, &fourth]
            .iter()
            .all(|h| h.conversation_id == first.conversation_id && h.ticket_id == first.ticket_id),
        "later messages stay in the escalated conversation and ticket"
    );
    let replies = outbox::replies_of_conversation(&h.pool, conversation)
        .await
        .unwrap();
    assert_eq!(
        replies.len(),
        2,
        "the escalation reply and one acknowledgement"
    );
    assert_eq!(replies[1].payload["parts"][0], ESCALATED_ACKNOWLEDGEMENT);
    let (ticket, convo): (String, String) = sqlx::query_as(
        "select t.status::text, c.status::text from tickets t join conversations c on c.id = t.conversation_id where t.id = $1",
    )
    .bind(first.ticket_id.as_uuid())
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        (ticket.as_str(), convo.as_str()),
        ("escalated", "escalated")
    );
    assert_eq!(count(&h.pool, "select count(*) from escalations").await, 1);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        4
    );
    let events = h.events.on_topic(fte_bus::topics::ESCALATIONS);
    assert_eq!(events.len(), 1);
    let context = &events[0]["payload"]["full_context"];
    assert_eq!(context["reason"], "refund");
    assert_eq!(context["channel"], "whatsapp");
    assert_eq!(context["customer_id"], first.customer_id.to_string());
    assert!(context["summary"].as_str().is_some());
    assert_eq!(h.events.on_topic(fte_bus::topics::METRICS).len(), 1);
}

#[tokio::test]
async fn resolving_moves_ticket_and_conversation_and_the_next_message_starts_afresh() {
    let h = harness().await;
    let first = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-1",
                Some("a@example.com"),
                None,
                None,
                "q",
            ),
        )
        .await
        .unwrap(),
    );
    h.agent.then(Script::Resolve);
    let second = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-2",
                Some("a@example.com"),
                None,
                None,
                "thanks, fixed",
            ),
        )
        .await
        .unwrap(),
    );
    assert_eq!(second.action, Action::Resolved);
    assert_eq!(second.ticket_id, first.ticket_id);
    let status: String = sqlx::query_scalar("select status from tickets where id = $1")
        .bind(first.ticket_id.as_uuid())
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(status, "resolved");
    let third = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-3",
                Some("a@example.com"),
                None,
                None,
                "new issue",
            ),
        )
        .await
        .unwrap(),
    );
    assert_ne!(
        third.conversation_id, first.conversation_id,
        "a resolved conversation is not continued"
    );
}

/// Publishes the due events of the outbox into `h.events` and returns every
/// follow-up of a deferred message published so far (each step also
/// publishes what is due right after its commit).
async fn due_follow_ups(
    h: &fte_testkit::worker::Harness,
) -> Vec<fte_domain::EventEnvelope<fte_domain::InboundMessage>> {
    fte_worker::events::relay_pending(&h.pool, h.events.as_ref(), 100)
        .await
        .unwrap();
    h.events
        .on_topic(fte_bus::topics::TICKETS_INCOMING)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .filter(
            |e: &fte_domain::EventEnvelope<fte_domain::InboundMessage>| {
                e.payload.metadata[fte_worker::deferral::FOLLOW_UP] == true
            },
        )
        .collect()
}

#[tokio::test]
async fn more_than_ten_messages_in_a_window_get_one_notice_and_one_answer_covering_the_rest() {
    let mut h = harness().await;
    h.ctx.config.rate_limit_window = std::time::Duration::from_secs(2);
    let mut actions = Vec::new();
    for i in 0..13 {
        let event = inbound(
            Channel::Whatsapp,
            &format!("SM{i}"),
            None,
            Some("+34612345678"),
            None,
            &format!("question {i}"),
        );
        actions.push(handled(handle_event(&h.ctx, &event).await.unwrap()).action);
    }
    assert!(
        actions[..10].iter().all(|a| *a == Action::Answered),
        "{actions:?}"
    );
    assert_eq!(actions[10], Action::RateLimitNotice);
    assert_eq!(actions[11..], [Action::RateLimited, Action::RateLimited]);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        13,
        "every message is stored on the conversation"
    );
    let notices = count(
        &h.pool,
        &format!(
            "select count(*) from reply_outbox where payload->'parts'->>0 = '{}'",
            RATE_LIMIT_NOTICE.replace('\'', "''")
        ),
    )
    .await;
    assert_eq!(notices, 1, "exactly one notice");
    assert!(
        due_follow_ups(&h).await.is_empty(),
        "the follow-up waits for the window"
    );

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let follow_ups = due_follow_ups(&h).await;
    assert_eq!(follow_ups.len(), 1, "one follow-up for the burst");
    let answered = handled(handle_event(&h.ctx, &follow_ups[0]).await.unwrap());
    assert_eq!(answered.action, Action::Answered);
    let asked = h.agent.requests().pop().unwrap();
    assert_eq!(
        asked.message, "question 10\n\nquestion 11\n\nquestion 12",
        "one answer covers the three deferred messages, in order"
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'
             and not metadata ? 'processed_at'"
        )
        .await,
        0,
        "nothing is left unanswered"
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where metadata ? 'covered_by'"
        )
        .await,
        2
    );
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        12,
        "ten answers, one notice, one covering answer"
    );
    assert_eq!(
        handle_event(&h.ctx, &follow_ups[0]).await.unwrap(),
        Outcome::Duplicate,
        "a redelivered follow-up changes nothing"
    );
}

#[tokio::test]
async fn the_next_answer_covers_deferred_messages_and_their_follow_up_is_a_duplicate() {
    let mut h = harness().await;
    h.ctx.config.rate_limit_window = std::time::Duration::from_secs(1);
    h.ctx.config.rate_limit_max = 1;
    let send = |i: usize| {
        inbound(
            Channel::Email,
            &format!("g-{i}"),
            Some("a@example.com"),
            None,
            None,
            &format!("ask {i}"),
        )
    };
    assert_eq!(
        handled(handle_event(&h.ctx, &send(0)).await.unwrap()).action,
        Action::Answered
    );
    assert_eq!(
        handled(handle_event(&h.ctx, &send(1)).await.unwrap()).action,
        Action::RateLimitNotice
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The customer writes again before the follow-up is handled.
    assert_eq!(
        handled(handle_event(&h.ctx, &send(2)).await.unwrap()).action,
        Action::Answered
    );
    assert_eq!(h.agent.requests().pop().unwrap().message, "ask 1\n\nask 2");
    let follow_ups = due_follow_ups(&h).await;
    assert_eq!(follow_ups.len(), 1);
    assert_eq!(
        handle_event(&h.ctx, &follow_ups[0]).await.unwrap(),
        Outcome::Duplicate,
        "already covered"
    );
    assert_eq!(h.agent.requests().len(), 2);
}

#[tokio::test]
async fn whatsapp_more_sends_the_deferred_rest_of_a_long_answer() {
    let h = harness().await;
    let long = "First, open the Orbitask app and go to Settings. ".repeat(12);
    h.agent.then(Script::Answer(long));
    let first = handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Whatsapp,
                "SM1",
                None,
                Some("+34612345678"),
                None,
                "how?",
            )),
        )
        .await
        .unwrap(),
    );
    let more = handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Whatsapp,
                "SM2",
                None,
                Some("+34612345678"),
                None,
                " More ",
            )),
        )
        .await
        .unwrap(),
    );
    assert_eq!(more.action, Action::SentDeferred);
    assert_eq!(h.agent.requests().len(), 1, "MORE does not go to the agent");
    let replies = outbox::replies_of_conversation(&h.pool, first.conversation_id.as_uuid())
        .await
        .unwrap();
    assert_eq!(replies.len(), 2);
    let first_part = replies[0].payload["parts"][0].as_str().unwrap();
    assert!(
        first_part.contains("Reply MORE"),
        "the first reply offers MORE"
    );
    assert!(first_part.chars().count() <= 300);
    let rest = replies[1].payload["parts"][0].as_str().unwrap();
    assert!(rest.contains("Settings"));
}

#[tokio::test]
async fn an_event_without_any_identity_is_refused_as_permanent() {
    let h = harness().await;
    let event = inbound(
        Channel::WebForm,
        "web-x",
        Some("not an email"),
        None,
        None,
        "hi",
    );
    let error = handle_event(&h.ctx, &event).await.unwrap_err();
    assert!(!error.is_transient(), "no retry can fix a missing identity");
    assert_eq!(count(&h.pool, "select count(*) from messages").await, 0);
}

#[tokio::test]
async fn an_agent_failure_is_transient_and_the_retry_answers_the_stored_message_once() {
    let h = harness().await;
    h.agent.then(Script::Fail);
    let event = inbound(
        Channel::Email,
        "g-1",
        Some("a@example.com"),
        None,
        None,
        "q",
    );
    let error = handle_event(&h.ctx, &event).await.unwrap_err();
    assert!(error.is_transient());
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        1,
        "phase 1 committed: the message is stored"
    );
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        0,
        "nothing was answered"
    );
    let retried = handled(handle_event(&h.ctx, &event).await.unwrap());
    assert_eq!(
        retried.action,
        Action::Answered,
        "the retry runs the agent again"
    );
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        1,
        "the retry adopts the stored message"
    );
    assert_eq!(
        handle_event(&h.ctx, &event).await.unwrap(),
        Outcome::Duplicate,
        "after phase 3 a redelivery is a duplicate"
    );
}

#[tokio::test]
async fn a_delivery_interrupted_while_the_agent_thinks_is_answered_once_on_redelivery() {
    let h = harness().await;
    h.agent
        .then(Script::Slow(std::time::Duration::from_secs(30)));
    let event = inbound(
        Channel::Whatsapp,
        "SM-interrupted",
        None,
        Some("+34612345678"),
        None,
        "hello?",
    );
    // The process dies while the agent thinks: the step's future is dropped
    // once the agent has the request.
    {
        let step = handle_event(&h.ctx, &event);
        tokio::pin!(step);
        while h.agent.requests().is_empty() {
            tokio::select! {
                _ = &mut step => panic!("the slow turn cannot finish first"),
                () = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
            }
        }
    }
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 0);

    let redelivered = handled(handle_event(&h.ctx, &event).await.unwrap());
    assert_eq!(redelivered.action, Action::Answered);
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
    assert_eq!(h.agent.requests().len(), 2, "the agent ran again");
    assert_eq!(
        handle_event(&h.ctx, &event).await.unwrap(),
        Outcome::Duplicate
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_holds_no_database_connection_while_it_thinks() {
    let mut h = harness().await;
    // A pool of two connections: if a step held one across the agent, four
    // concurrent steps would exhaust it.
    let options = h.pool.connect_options().as_ref().clone();
    let small = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with(options)
        .await
        .unwrap();
    h.ctx.pool = small.clone();
    let gate = h.agent.hold();
    let mut steps = Vec::new();
    for i in 0..4 {
        let ctx = h.ctx.clone();
        let event = inbound(
            Channel::Email,
            &format!("g-held-{i}"),
            Some(&format!("held{i}@example.com")),
            None,
            None,
            "question",
        );
        steps.push(tokio::spawn(
            async move { handle_event(&ctx, &event).await },
        ));
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.agent.requests().len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "every step reached the agent although the pool has two connections"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Every step waits in the agent; a released connection may take a
    // moment to be back in the pool.
    let mut in_use = usize::MAX;
    for _ in 0..50 {
        in_use = small.size() as usize - small.num_idle();
        if in_use == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(in_use, 0, "no connection is held while the agent thinks");
    let ping: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&small)
        .await
        .unwrap();
    assert_eq!(ping, 1);
    gate.release();
    for step in steps {
        assert!(matches!(step.await.unwrap().unwrap(), Outcome::Handled(_)));
    }
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 4);
}

#[tokio::test]
async fn a_web_form_message_stored_by_the_gateway_is_answered_once() {
    let h = harness().await;
    // The gateway's web form transaction: customer, conversation, message
    // (channel id = ticket id) and open ticket.
    let ticket = fte_domain::TicketId::new();
    let customer: uuid::Uuid =
        sqlx::query_scalar("insert into customers (email) values ('w@example.com') returning id")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    sqlx::query("insert into customer_identifiers (customer_id, identifier_type, identifier_value) values ($1, 'email', 'w@example.com')")
        .bind(customer)
        .execute(&h.pool)
        .await
        .unwrap();
    let conversation: uuid::Uuid = sqlx::query_scalar("insert into conversations (customer_id, initial_channel, current_channel) values ($1, 'web_form', 'web_form') returning id")
        .bind(customer)
        .fetch_one(&h.pool)
        .await
        .unwrap();
    sqlx::query("insert into messages (conversation_id, channel, direction, role, content, channel_message_id, delivery_status) values ($1, 'web_form', 'inbound', 'customer', 'help', $2, 'received')")
        .bind(conversation)
        .bind(ticket.to_string())
        .execute(&h.pool)
        .await
        .unwrap();
    sqlx::query("insert into tickets (id, conversation_id, customer_id, source_channel, status) values ($1, $2, $3, 'web_form', 'open')")
        .bind(ticket.as_uuid())
        .bind(conversation)
        .bind(customer)
        .execute(&h.pool)
        .await
        .unwrap();

    let mut event = inbound(
        Channel::WebForm,
        &ticket.to_string(),
        Some("w@example.com"),
        None,
        Some("Wen"),
        "help",
    );
    event.payload.ticket_id = Some(ticket);
    let first = handled(handle_event(&h.ctx, &event).await.unwrap());
    assert_eq!(first.ticket_id, ticket);
    assert_eq!(first.conversation_id.as_uuid(), conversation);
    assert_eq!(
        handle_event(&h.ctx, &event).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'inbound'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_agent_gets_at_most_the_history_limit_across_channels_oldest_first() {
    let mut h = harness().await;
    h.ctx.config.rate_limit_max = 1000;
    for i in 0..12 {
        let channel = if i % 2 == 0 {
            Channel::Email
        } else {
            Channel::WebForm
        };
        handle_event(
            &h.ctx,
            &proven(inbound(
                channel,
                &format!("m-{i}"),
                Some("a@example.com"),
                None,
                None,
                &format!("question {i}"),
            )),
        )
        .await
        .unwrap();
    }
    let last = h.agent.requests().pop().unwrap();
    let (summaries, messages): (Vec<_>, Vec<_>) = last
        .history
        .iter()
        .partition(|e| e.role == fte_worker::agent::HistoryRole::Summary);
    assert_eq!(messages.len(), 20, "22 earlier messages, the limit is 20");
    assert_eq!(
        summaries.len(),
        1,
        "the two before them are summarised as their conversation"
    );
    assert_eq!(
        last.history[0].role,
        fte_worker::agent::HistoryRole::Summary
    );
    assert_eq!(
        last.history.last().unwrap().role,
        fte_worker::agent::HistoryRole::Agent
    );
    assert!(
        last.history
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    assert!(
        last.history.iter().any(|e| e.channel == Channel::Email)
            && last.history.iter().any(|e| e.channel == Channel::WebForm)
    );
    assert!(
        !last.history.iter().any(|e| e.content == "question 11"),
        "the message itself is not history"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_messages_of_one_person_create_one_customer() {
    let h = harness().await;
    let mut tasks = Vec::new();
    for i in 0..5 {
        let ctx = h.ctx.clone();
        let phone = ["+34 612 345 678", "+34612345678", "whatsapp:+34612345678"][i % 3];
        let event = inbound(
            Channel::Whatsapp,
            &format!("SM-race-{i}"),
            None,
            Some(phone),
            None,
            "hi",
        );
        tasks.push(tokio::spawn(
            async move { handle_event(&ctx, &event).await },
        ));
    }
    let mut customers = std::collections::HashSet::new();
    for task in tasks {
        customers
            .insert(handled(task.await.unwrap().expect("no race fails a message")).customer_id);
    }
    assert_eq!(customers.len(), 1, "one person, one customer");
    assert_eq!(count(&h.pool, "select count(*) from customers").await, 1);
    assert_eq!(
        count(&h.pool, "select count(*) from conversations").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_message_handled_concurrently_is_answered_once() {
    let h = harness().await;
    let event = inbound(
        Channel::Email,
        "g-dup",
        Some("a@example.com"),
        None,
        None,
        "q",
    );
    let (a, b) = tokio::join!(handle_event(&h.ctx, &event), handle_event(&h.ctx, &event));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Duplicate)
            .count(),
        1,
        "one delivery wins, the other is a duplicate: {outcomes:?}"
    );
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
}

#[tokio::test]
async fn a_transition_the_state_machine_refuses_writes_no_outcome() {
    let h = harness().await;
    // Staff resolved the announced ticket before the worker got to it.
    let ticket = fte_domain::TicketId::new();
    sqlx::query(
        "insert into tickets (id, source_channel, status) values ($1, 'web_form', 'resolved')",
    )
    .bind(ticket.as_uuid())
    .execute(&h.pool)
    .await
    .unwrap();
    h.agent.then(Script::Escalate(EscalationReason::Legal));
    let mut event = inbound(
        Channel::WebForm,
        &ticket.to_string(),
        Some("a@example.com"),
        None,
        None,
        "gdpr",
    );
    event.payload.ticket_id = Some(ticket);

    let error = handle_event(&h.ctx, &event).await.unwrap_err();

    assert!(
        matches!(error, fte_worker::HandleError::Transition(_)),
        "{error:?}"
    );
    assert!(!error.is_transient(), "dead-lettered, not retried forever");
    let status: String = sqlx::query_scalar("select status from tickets where id = $1")
        .bind(ticket.as_uuid())
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(status, "resolved");
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from messages where direction = 'outbound'"
        )
        .await,
        0,
        "no reply"
    );
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 0);
    assert_eq!(count(&h.pool, "select count(*) from escalations").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_escalated_while_the_agent_thinks_gets_no_bot_answer() {
    let h = harness().await;
    let gate = h.agent.hold();
    let event = inbound(
        Channel::Email,
        "g-race",
        Some("a@example.com"),
        None,
        None,
        "q",
    );
    let step = {
        let (ctx, event) = (h.ctx.clone(), event.clone());
        tokio::spawn(async move { handle_event(&ctx, &event).await })
    };
    while h.agent.requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Meanwhile another message of the customer was escalated.
    sqlx::query("update conversations set status = 'escalated'")
        .execute(&h.pool)
        .await
        .unwrap();
    gate.release();

    let done = handled(step.await.unwrap().unwrap());
    assert_eq!(done.action, Action::StoredWhileEscalated);
    assert_eq!(
        count(&h.pool, "select count(*) from reply_outbox").await,
        0,
        "a person owns the conversation: the bot stays silent"
    );
    assert_eq!(
        handle_event(&h.ctx, &event).await.unwrap(),
        Outcome::Duplicate
    );
}

#[tokio::test]
async fn an_empty_whatsapp_message_reaches_the_agent_and_is_answered() {
    let h = harness().await;
    let event = inbound(
        Channel::Whatsapp,
        "SM-empty",
        None,
        Some("whatsapp:+34612345678"),
        None,
        "",
    );
    let done = handled(handle_event(&h.ctx, &event).await.unwrap());
    assert_eq!(done.action, Action::Answered);
    assert_eq!(h.agent.requests().len(), 1, "the agent decides what to say");
    assert_eq!(h.agent.requests()[0].message, "");
    assert_eq!(count(&h.pool, "select count(*) from reply_outbox").await, 1);
}
