//! The rates loop publishes `fte_escalations_overdue{channel}`: unresolved
//! escalations whose promised response time has passed.

use fte_store::testing::fresh_database;
use uuid::Uuid;

async fn escalation(pool: &sqlx::PgPool, channel: &str, status: &str, due_in: &str) {
    let customer: Uuid = sqlx::query_scalar("insert into customers default values returning id")
        .fetch_one(pool)
        .await
        .unwrap();
    let conversation: Uuid = sqlx::query_scalar(
        "insert into conversations (customer_id, initial_channel, current_channel, status)
         values ($1, $2, $2, 'escalated') returning id",
    )
    .bind(customer)
    .bind(channel)
    .fetch_one(pool)
    .await
    .unwrap();
    let ticket: Uuid = sqlx::query_scalar(
        "insert into tickets (conversation_id, customer_id, source_channel, status)
         values ($1, $2, $3, 'escalated') returning id",
    )
    .bind(conversation)
    .bind(customer)
    .bind(channel)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into escalations (ticket_id, conversation_id, customer_id, channel, reason,
             status, expected_response_by)
         values ($1, $2, $3, $4, 'pricing', $5, now() + $6::interval)",
    )
    .bind(ticket)
    .bind(conversation)
    .bind(customer)
    .bind(channel)
    .bind(status)
    .bind(due_in)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_overdue_gauge_counts_unresolved_escalations_past_their_promise_per_channel() {
    let pool = fresh_database().await;
    escalation(&pool, "email", "pending", "-2 hours").await;
    escalation(&pool, "email", "assigned", "-1 minute").await;
    // Still within the promise, or already resolved: not overdue.
    escalation(&pool, "email", "pending", "3 hours").await;
    escalation(&pool, "whatsapp", "resolved", "-5 hours").await;
    escalation(&pool, "web_form", "pending", "-10 minutes").await;

    fte_worker::rates::refresh(&pool).await.unwrap();

    let gauge = &fte_runtime::metrics::global().escalations_overdue;
    assert_eq!(gauge.with_label_values(&["email"]).get(), 2, "email");
    assert_eq!(gauge.with_label_values(&["whatsapp"]).get(), 0, "resolved");
    assert_eq!(gauge.with_label_values(&["web_form"]).get(), 1, "web form");
}
