//! What a claim can trigger, against a real PostgreSQL: the inbound counts a
//! rate limit keys on, and the daily cap on emails to addresses that never
//! proved themselves.

use std::time::Duration;

use chrono::Utc;
use fte_domain::{Channel, Trust};
use fte_store::customers::IdentifierKind::Email;
use fte_store::email_sends::{self, EmailAllowance};
use fte_store::identity::{Presentation, Presented, resolve};
use fte_store::messages::{self, InboundKey, NewInbound, NewOutbound};
use fte_store::testing::fresh_database;
use fte_store::{conversations, outbox};
use sqlx::PgPool;
use uuid::Uuid;

/// Stores one inbound message from `email` (proven or claimed) and records
/// its sender; returns the customer and the link.
async fn inbound(pool: &PgPool, email: &str, proven: bool) -> (Uuid, Uuid) {
    let reference = Uuid::new_v4().to_string();
    let mut tx = pool.begin().await.unwrap();
    let channel = if proven {
        Channel::Email
    } else {
        Channel::WebForm
    };
    let resolution = resolve(
        &mut tx,
        &Presentation {
            identifiers: &[Presented {
                kind: Email,
                value: email,
                proven,
            }],
            channel,
            reference: &reference,
            name: None,
        },
    )
    .await
    .unwrap();
    let conversation =
        conversations::start_conversation(&mut *tx, resolution.customer_id, channel.as_str())
            .await
            .unwrap();
    let id = messages::insert_inbound(
        &mut *tx,
        &NewInbound {
            id: None,
            conversation_id: conversation.id,
            ticket_id: None,
            channel: channel.as_str(),
            content: "How do I reset my password?",
            channel_message_id: &reference,
            metadata: serde_json::json!({}),
        },
    )
    .await
    .unwrap()
    .unwrap();
    let link = resolution.link(Email).unwrap();
    messages::record_sender(&mut *tx, id, link.link.id, resolution.sender_trust(Email))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (resolution.customer_id, link.link.id)
}

#[tokio::test]
async fn claims_of_a_verified_address_never_spend_the_customers_verified_allowance() {
    let pool = fresh_database().await;
    let (customer, link) = inbound(&pool, "victim@example.com", true).await;
    for _ in 0..11 {
        let (same, _) = inbound(&pool, "victim@example.com", false).await;
        assert_eq!(same, customer, "claims resolve to the customer");
    }
    let since = Utc::now() - chrono::Duration::minutes(1);

    let verified =
        messages::inbound_count_since_keyed(&pool, InboundKey::VerifiedCustomer(customer), since)
            .await
            .unwrap();
    let claimed = messages::inbound_count_since_keyed(&pool, InboundKey::Identifier(link), since)
        .await
        .unwrap();
    let everything =
        messages::inbound_count_since_keyed(&pool, InboundKey::Customer(customer), since)
            .await
            .unwrap();

    assert_eq!(
        verified, 1,
        "only the proven email counts for the verified customer"
    );
    assert_eq!(
        claimed, 11,
        "the eleven forms spend the claimed address's own allowance"
    );
    assert_eq!(everything, 12);
    assert_eq!(
        InboundKey::for_sender(customer, Some((link, Trust::Claimed))),
        InboundKey::Identifier(link)
    );
    assert_eq!(
        InboundKey::for_sender(customer, Some((link, Trust::Verified))),
        InboundKey::VerifiedCustomer(customer)
    );
}

/// A reply row in the outbox (the cap is keyed by it).
async fn reply_row(pool: &PgPool) -> Uuid {
    let customer = fte_store::customers::create_customer(pool, None)
        .await
        .unwrap();
    let conversation = conversations::start_conversation(pool, customer, "web_form")
        .await
        .unwrap();
    let message_id = messages::insert_outbound(
        pool,
        &NewOutbound {
            conversation_id: conversation.id,
            channel: "web_form",
            role: "agent",
            content: "Here is how to reset it.",
            tokens_used: None,
            latency_ms: None,
            tool_calls: serde_json::json!([]),
            metadata: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    outbox::enqueue_reply(
        pool,
        &outbox::NewReply {
            message_id,
            conversation_id: conversation.id,
            ticket_id: None,
            channel: "web_form",
            payload: serde_json::json!({}),
        },
    )
    .await
    .unwrap()
}

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test]
async fn an_address_that_never_proved_itself_gets_at_most_the_cap_per_day() {
    let pool = fresh_database().await;
    let mut outcomes = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..5 {
        let row = reply_row(&pool).await;
        rows.push(row);
        outcomes.push(
            email_sends::reserve(&pool, row, "Stranger@Example.com", 3, DAY)
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        outcomes,
        [
            EmailAllowance::Allowed,
            EmailAllowance::Allowed,
            EmailAllowance::Allowed,
            EmailAllowance::Capped,
            EmailAllowance::Capped
        ]
    );
    assert_eq!(
        email_sends::reserve(&pool, rows[0], "stranger@example.com", 3, DAY)
            .await
            .unwrap(),
        EmailAllowance::Allowed,
        "a retried reply keeps its reservation"
    );
    let claimed = outbox::claim_due(&pool, "web_form", 10, 300).await.unwrap();
    let fourth = claimed.iter().find(|c| c.id == rows[3]).expect("claimed");
    assert!(
        !outbox::mark_suppressed(&pool, rows[3], uuid::Uuid::new_v4(), "email cap")
            .await
            .unwrap(),
        "only the claim's holder settles the reply"
    );
    assert!(
        outbox::mark_suppressed(&pool, rows[3], fourth.claim_token, "email cap")
            .await
            .unwrap()
    );
    let (status, delivery): (String, String) = sqlx::query_as(
        "select r.status, m.delivery_status from reply_outbox r
         join messages m on m.id = r.message_id where r.id = $1",
    )
    .bind(rows[3])
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), delivery.as_str()),
        ("suppressed", "suppressed")
    );
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from email_sends where recipient_hash like '%stranger%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0, "addresses are stored as digests only");
}

#[tokio::test]
async fn an_address_that_proved_itself_is_never_capped() {
    let pool = fresh_database().await;
    inbound(&pool, "customer@example.com", true).await;
    for _ in 0..5 {
        let row = reply_row(&pool).await;
        assert_eq!(
            email_sends::reserve(&pool, row, "customer@example.com", 3, DAY)
                .await
                .unwrap(),
            EmailAllowance::Allowed
        );
    }
}

#[tokio::test]
async fn concurrent_reservations_never_exceed_the_cap() {
    let pool = fresh_database().await;
    let mut rows = Vec::new();
    for _ in 0..8 {
        rows.push(reply_row(&pool).await);
    }
    let tasks: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let pool = pool.clone();
            tokio::spawn(async move {
                email_sends::reserve(&pool, row, "burst@example.com", 3, DAY)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        allowed += usize::from(task.await.unwrap() == EmailAllowance::Allowed);
    }
    assert_eq!(allowed, 3);
}
