//! The escalation-rate gauge reads the last hour's tickets per channel.
//! Ticket ids are UUIDv7, as the product writes them.

use fte_store::testing::fresh_database;

async fn ticket(pool: &sqlx::PgPool, channel: &str, status: &str, age: &str) {
    sqlx::query(
        "insert into tickets (id, source_channel, status, created_at)
         values ($4, $1, $2, now() - $3::interval)",
    )
    .bind(channel)
    .bind(status)
    .bind(age)
    .bind(uuid::Uuid::now_v7())
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_escalation_rate_gauge_is_the_share_of_the_last_hours_tickets_escalated() {
    let pool = fresh_database().await;
    ticket(&pool, "email", "escalated", "5 minutes").await;
    ticket(&pool, "email", "resolved", "10 minutes").await;
    ticket(&pool, "email", "processing", "20 minutes").await;
    ticket(&pool, "email", "open", "30 minutes").await;
    // Older than an hour: not counted.
    ticket(&pool, "email", "escalated", "2 hours").await;
    ticket(&pool, "whatsapp", "escalated", "1 minute").await;

    fte_worker::rates::refresh(&pool).await.unwrap();

    let gauge = &fte_runtime::metrics::global().escalation_rate;
    assert_eq!(gauge.with_label_values(&["email"]).get(), 0.25);
    assert_eq!(gauge.with_label_values(&["whatsapp"]).get(), 1.0);
    assert_eq!(
        gauge.with_label_values(&["web_form"]).get(),
        0.0,
        "no tickets, no escalations"
    );
}
