//! The rates the alerts and gauges read every 30 s: the newest tickets and
//! turns of the window, never more than the sample, against a real
//! PostgreSQL.

use chrono::{Duration, Utc};
use fte_domain::TicketId;
use fte_store::rates::{self, ChannelOutcomes};
use fte_store::testing::fresh_database;
use sqlx::PgPool;

/// A ticket opened `minutes_ago` with a UUIDv7 id of that moment, as the
/// product writes them.
async fn ticket(pool: &PgPool, channel: &str, status: &str, minutes_ago: i64) {
    sqlx::query(
        "insert into tickets (id, source_channel, status, created_at, escalated_at)
         values ($1, $2, $3, now() - make_interval(mins => $4),
                 case when $3 = 'escalated' then now() end)",
    )
    .bind(TicketId::new().as_uuid())
    .bind(channel)
    .bind(status)
    .bind(i32::try_from(minutes_ago).unwrap())
    .execute(pool)
    .await
    .unwrap();
}

fn outcome(channel: &str, tickets: i64, escalated: i64) -> ChannelOutcomes {
    ChannelOutcomes {
        channel: channel.into(),
        tickets,
        escalated,
    }
}

#[tokio::test]
async fn escalations_are_counted_per_channel_over_the_window_only() {
    let pool = fresh_database().await;
    ticket(&pool, "email", "escalated", 90).await;
    ticket(&pool, "email", "escalated", 5).await;
    ticket(&pool, "email", "resolved", 4).await;
    ticket(&pool, "whatsapp", "open", 3).await;
    // Escalated earlier, resolved by a person since: it went to a human.
    ticket(&pool, "whatsapp", "resolved", 2).await;
    sqlx::query("update tickets set escalated_at = now() where source_channel = 'whatsapp' and status = 'resolved'")
        .execute(&pool)
        .await
        .unwrap();

    let hour_ago = Utc::now() - Duration::hours(1);
    let found = rates::recent_escalations(&pool, hour_ago, rates::RATE_SAMPLE)
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![outcome("email", 2, 1), outcome("whatsapp", 2, 1)],
        "the ticket of 90 minutes ago is outside the hour"
    );
    assert_eq!(found[0].escalation_rate(), 0.5);
    assert_eq!(outcome("web_form", 0, 0).escalation_rate(), 0.0);
}

#[tokio::test]
async fn only_the_newest_tickets_of_the_sample_are_read() {
    let pool = fresh_database().await;
    // Older escalations, then three answered tickets.
    for minutes in [50, 40, 30] {
        ticket(&pool, "web_form", "escalated", minutes).await;
    }
    for minutes in [3, 2, 1] {
        ticket(&pool, "web_form", "resolved", minutes).await;
    }
    let hour_ago = Utc::now() - Duration::hours(1);
    assert_eq!(
        rates::recent_escalations(&pool, hour_ago, 3).await.unwrap(),
        vec![outcome("web_form", 3, 0)]
    );
    assert_eq!(
        rates::recent_escalations(&pool, hour_ago, 6).await.unwrap(),
        vec![outcome("web_form", 6, 3)]
    );
}

#[tokio::test]
async fn turn_latency_is_the_p95_of_the_newest_turns_of_each_channel() {
    let pool = fresh_database().await;
    for (channel, value, minutes_ago) in [
        ("email", 1_000.0, 120),
        ("email", 200.0, 3),
        ("email", 400.0, 2),
        ("whatsapp", 900.0, 1),
    ] {
        sqlx::query(
            "insert into agent_metrics (metric_name, metric_value, channel, recorded_at)
             values ('response_latency_ms', $1, $2, now() - make_interval(mins => $3))",
        )
        .bind(value)
        .bind(channel)
        .bind(minutes_ago)
        .execute(&pool)
        .await
        .unwrap();
    }
    let hour_ago = Utc::now() - Duration::hours(1);
    let p95 = rates::recent_turn_latency_p95(&pool, hour_ago, rates::RATE_SAMPLE)
        .await
        .unwrap();
    assert_eq!(p95.len(), 2, "{p95:?}");
    assert_eq!(p95[0].0, "email");
    assert!(
        (p95[0].1 - 390.0).abs() < 1e-6,
        "the turn of two hours ago is outside the window: {p95:?}"
    );
    assert_eq!(p95[1], ("whatsapp".to_owned(), 900.0));
}
