//! Web form tickets as the gateway's group commit stores them, and the
//! event outbox beside them, against a real PostgreSQL. (Who the sender is
//! is decided later by the worker, under the rules `identity.rs` tests.)

use fte_domain::{Category, Priority, TicketId};
use fte_store::testing::fresh_database;
use fte_store::tickets::{self, NewWebTicket};

#[tokio::test]
async fn a_batch_of_web_tickets_is_stored_open_with_no_customer_until_the_worker_takes_them() {
    let pool = fresh_database().await;
    let batch = [
        NewWebTicket {
            ticket_id: TicketId::new(),
            subject: "Cannot export my board",
            category: Category::Technical,
            priority: Priority::High,
        },
        NewWebTicket {
            ticket_id: TicketId::new(),
            subject: "Invoice address",
            category: Category::Billing,
            priority: Priority::Low,
        },
    ];
    let mut tx = pool.begin().await.unwrap();
    tickets::open_web_tickets(&mut tx, &batch).await.unwrap();
    tickets::open_web_tickets(&mut tx, &[]).await.unwrap();
    tx.commit().await.unwrap();

    for ticket in &batch {
        let row: (
            String,
            String,
            String,
            String,
            Option<uuid::Uuid>,
            Option<uuid::Uuid>,
        ) = sqlx::query_as(
            "select status, source_channel, category, priority, customer_id, conversation_id
                 from tickets where id = $1 and subject = $2",
        )
        .bind(ticket.ticket_id.as_uuid())
        .bind(ticket.subject)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            row,
            (
                "open".to_owned(),
                "web_form".to_owned(),
                ticket.category.as_str().to_owned(),
                ticket.priority.as_str().to_owned(),
                None,
                None
            )
        );
    }
    let customers: i64 = sqlx::query_scalar("select count(*) from customers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(customers, 0);
}

#[tokio::test]
async fn events_of_a_batch_are_enqueued_in_input_order_one_row_for_every_topic() {
    let pool = fresh_database().await;
    let payloads = [r#"{"n": 1}"#, r#"{"n": 2}"#];
    let ids = fte_store::outbox::enqueue_events(
        &pool,
        "fte.a",
        &["fte.b", "fte.c"],
        &[("k1", payloads[0]), ("k2", payloads[1])],
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    for (id, (key, n)) in ids.iter().zip([("k1", 1), ("k2", 2)]) {
        let (stored_key, payload): (String, serde_json::Value) =
            sqlx::query_as("select message_key, payload from event_outbox where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(stored_key, key);
        assert_eq!(payload["n"], n, "stored as JSON, not as a string");
    }
    let claimed = fte_store::outbox::claim_due_events(
        &pool,
        10,
        std::time::Duration::ZERO,
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 2, "one row per event, not per topic");
    for event in &claimed {
        assert_eq!(
            event.topics().collect::<Vec<_>>(),
            ["fte.a", "fte.b", "fte.c"]
        );
    }
}
