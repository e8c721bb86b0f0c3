//! One customer's memory across channels and time: a conversation of six
//! days ago is found beyond the latest twenty messages, and while a person
//! owns the customer's case the bot stays silent on every channel.

use fte_domain::{Channel, EscalationReason};
use fte_testkit::worker::{Script, harness, inbound, proven};
use fte_worker::agent::HistoryRole;
use fte_worker::{Action, Handled, Outcome, handle_event};
use uuid::Uuid;

fn handled(outcome: Outcome) -> Handled {
    match outcome {
        Outcome::Handled(handled) => handled,
        Outcome::Duplicate => panic!("expected a handled message"),
    }
}

/// Moves a conversation and its messages `days` into the past.
async fn age(pool: &fte_store::PgPool, conversation: Uuid, days: i32) {
    sqlx::query(
        "update messages set created_at = created_at - make_interval(days => $2)
         where conversation_id = $1",
    )
    .bind(conversation)
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "update conversations set started_at = started_at - make_interval(days => $2),
             last_message_at = last_message_at - make_interval(days => $2)
         where id = $1",
    )
    .bind(conversation)
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_message_about_a_conversation_of_six_days_ago_finds_it_beyond_the_latest_twenty() {
    let mut h = harness().await;
    h.ctx.config.rate_limit_max = 1000;
    let week_ago = handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Whatsapp,
                "SM-old",
                None,
                Some("+34612345678"),
                None,
                "The Gantt export cuts off the last column of my board",
            )),
        )
        .await
        .unwrap(),
    );
    age(&h.pool, week_ago.conversation_id.as_uuid(), 6).await;
    // A busy week since: more messages than the history shows in full.
    for i in 0..12 {
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Whatsapp,
                &format!("SM-{i}"),
                None,
                Some("+34612345678"),
                None,
                &format!("another question {i}"),
            )),
        )
        .await
        .unwrap();
    }

    handle_event(
        &h.ctx,
        &proven(inbound(
            Channel::Whatsapp,
            "SM-ref",
            None,
            Some("+34612345678"),
            None,
            "I contacted you last week about the Gantt export, it still cuts columns",
        )),
    )
    .await
    .unwrap();

    let request = h.agent.requests().pop().unwrap();
    let found = request
        .history
        .iter()
        .filter(|e| e.role == HistoryRole::Summary)
        .find(|e| {
            e.content
                .contains("The Gantt export cuts off the last column")
        });
    let found = found.unwrap_or_else(|| {
        panic!(
            "a summary holds the conversation's opening: {:?}",
            request.history
        )
    });
    assert_eq!(found.channel, Channel::Whatsapp);
    assert!(
        found.content.contains("2 messages"),
        "the question and its answer: {}",
        found.content
    );
    assert_eq!(
        request
            .history
            .iter()
            .filter(|e| e.role != HistoryRole::Summary)
            .count(),
        20,
        "the latest twenty messages in full"
    );
}

#[tokio::test]
async fn while_a_person_owns_the_case_the_bot_is_silent_on_every_channel() {
    let mut h = harness().await;
    // Every message acknowledged, so each one shows where it went.
    h.ctx.config.escalated_ack_interval = std::time::Duration::ZERO;
    h.agent
        .then(Script::Escalate(EscalationReason::HumanRequest));
    let escalated = handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Whatsapp,
                "SM-1",
                None,
                Some("+34612345678"),
                Some("Lucia"),
                "I want to talk to a person",
            )),
        )
        .await
        .unwrap(),
    );
    assert!(matches!(escalated.action, Action::Escalated(_)));
    // Two days later, beyond the continuation window, on two other channels.
    age(&h.pool, escalated.conversation_id.as_uuid(), 2).await;
    let asked = h.agent.requests().len();

    let by_form = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::WebForm,
                "web-1",
                Some("lucia@example.com"),
                Some("+34612345678"),
                Some("Lucia"),
                "Any news on my case?",
            ),
        )
        .await
        .unwrap(),
    );
    let by_email = handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::Email,
                "g-1",
                Some("lucia@example.com"),
                None,
                None,
                "Hello? Still waiting.",
            ),
        )
        .await
        .unwrap(),
    );

    assert_eq!(h.agent.requests().len(), asked, "the bot never answered");
    assert_eq!(by_form.customer_id, escalated.customer_id);
    assert_eq!(by_email.customer_id, escalated.customer_id);
    assert_eq!(
        by_form.conversation_id, escalated.conversation_id,
        "the person who owns the case sees the new message"
    );
    assert_eq!(by_email.conversation_id, escalated.conversation_id);
    assert_eq!(by_form.action, Action::Acknowledged);
    assert_eq!(by_email.action, Action::Acknowledged);
}
