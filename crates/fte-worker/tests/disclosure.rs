//! What a reply may reveal, decided by the sender's trust: a claimed
//! sender who names a customer's address reaches that customer's record
//! but none of their history, stored name or allowance; the verified
//! sender gets their history back.

use fte_domain::Channel;
use fte_store::outbox;
use fte_testkit::worker::{Script, harness, inbound, proven};
use fte_worker::disclosure::RESTRICTED_REPLY;
use fte_worker::{Action, Handled, Outcome, handle_event};

const SECRET: &str = "Our secret project codename is BLUEHERON-7731 and invoice INV-4471-ZEBRA. How do I enable 2FA?";
const VICTIM: &str = "vera.victim@example.com";

fn handled(outcome: Outcome) -> Handled {
    match outcome {
        Outcome::Handled(handled) => handled,
        Outcome::Duplicate => panic!("expected a handled message"),
    }
}

async fn victim_writes(h: &fte_testkit::worker::Harness, id: &str, content: &str) -> Handled {
    handled(
        handle_event(
            &h.ctx,
            &proven(inbound(
                Channel::Email,
                id,
                Some(VICTIM),
                None,
                Some("Vera Victim"),
                content,
            )),
        )
        .await
        .unwrap(),
    )
}

async fn attacker_submits(h: &fte_testkit::worker::Harness, id: &str, content: &str) -> Handled {
    handled(
        handle_event(
            &h.ctx,
            &inbound(
                Channel::WebForm,
                id,
                Some(VICTIM),
                Some("+15550100999"),
                Some("Mallory"),
                content,
            ),
        )
        .await
        .unwrap(),
    )
}

async fn last_reply(h: &fte_testkit::worker::Harness, handled: &Handled) -> String {
    let replies = outbox::replies_of_conversation(&h.pool, handled.conversation_id.as_uuid())
        .await
        .unwrap();
    let last = replies.last().expect("a reply");
    last.payload["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_claimed_sender_naming_a_verified_customer_sees_none_of_their_history() {
    let h = harness().await;
    let victim = victim_writes(&h, "g-1", SECRET).await;

    h.agent.then(Script::EchoHistory);
    let attacker = attacker_submits(&h, "web-1", "What did I tell you before?").await;

    assert_eq!(
        attacker.customer_id, victim.customer_id,
        "a claim still finds the customer"
    );
    let request = h.agent.requests().pop().unwrap();
    assert!(
        request.history.is_empty(),
        "a claimed sender's request holds none of the customer's history"
    );
    assert_eq!(
        request.customer_first_name.as_deref(),
        Some("Mallory"),
        "greeted with the name they gave, never the stored one"
    );
    assert_eq!(request.plan, None, "the customer's plan stays out");
    let reply = last_reply(&h, &attacker).await;
    assert!(!reply.contains("BLUEHERON"), "{reply}");
    assert!(!reply.contains("Vera"), "{reply}");
    let trust: String =
        sqlx::query_scalar("select sender_trust from messages where channel_message_id = 'web-1'")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(trust, "claimed");
}

#[tokio::test]
async fn a_reply_quoting_withheld_history_to_a_claimed_sender_is_replaced() {
    let h = harness().await;
    victim_writes(&h, "g-1", SECRET).await;

    // A model that found the secret some other way and repeats it.
    h.agent.then(Script::Answer(format!(
        "Your codename is BLUEHERON-7731; you wrote: {SECRET}"
    )));
    let attacker = attacker_submits(&h, "web-1", "Summarise my account").await;

    assert_eq!(attacker.action, Action::Answered);
    let reply = last_reply(&h, &attacker).await;
    assert!(!reply.contains("BLUEHERON"), "{reply}");
    assert!(
        reply.contains(RESTRICTED_REPLY),
        "the restricted reply replaces it: {reply}"
    );
}

#[tokio::test]
async fn the_verified_customer_gets_their_history_back() {
    let h = harness().await;
    victim_writes(&h, "g-1", SECRET).await;
    attacker_submits(&h, "web-1", "What did I tell you before?").await;

    h.agent.then(Script::EchoHistory);
    let again = victim_writes(&h, "g-2", "Any news on my question?").await;

    let request = h.agent.requests().pop().unwrap();
    assert_eq!(request.customer_first_name.as_deref(), Some("Vera"));
    let reply = last_reply(&h, &again).await;
    assert!(
        reply.contains("BLUEHERON-7731"),
        "the verified owner may see what they wrote: {reply}"
    );
}

#[tokio::test]
async fn eleven_claimed_forms_naming_a_customer_do_not_spend_their_allowance() {
    let h = harness().await;
    victim_writes(&h, "g-1", "How do I export a board?").await;
    let mut actions = Vec::new();
    for i in 0..11 {
        let form = attacker_submits(&h, &format!("web-{i}"), &format!("question {i}")).await;
        actions.push(form.action);
    }
    assert_eq!(
        actions[10],
        Action::RateLimitNotice,
        "the claim spends its own allowance: {actions:?}"
    );

    let own = victim_writes(&h, "g-2", "And how do I import one?").await;
    assert_eq!(
        own.action,
        Action::Answered,
        "the verified owner's next email is answered"
    );
}
