//! `fte cost` as an operator runs it: a separate process on a database with
//! recorded agent turns prints the tokens, the cost and the cost per
//! resolved conversation and per escalation.

use std::process::{Command, Output};

use chrono::Utc;
use fte_domain::{ModelPrices, TokenUsage};
use fte_store::PgPool;
use fte_store::metrics::{TurnRecord, record_turn};
use fte_store::testing::{fresh_database, server_url, with_database};
use serde_json::Value;
use uuid::Uuid;

async fn conversation(pool: &PgPool, escalated: bool) -> Uuid {
    let customer: Uuid = sqlx::query_scalar("insert into customers default values returning id")
        .fetch_one(pool)
        .await
        .unwrap();
    let conversation: Uuid = sqlx::query_scalar(
        "insert into conversations (customer_id, initial_channel, current_channel)
         values ($1, 'whatsapp', 'whatsapp') returning id",
    )
    .bind(customer)
    .fetch_one(pool)
    .await
    .unwrap();
    if escalated {
        sqlx::query(
            "with t as (insert into tickets (customer_id, conversation_id, source_channel, status)
                        values ($1, $2, 'whatsapp', 'escalated') returning id)
             insert into escalations (ticket_id, conversation_id, customer_id, channel, reason)
             select t.id, $2, $1, 'whatsapp', 'refund' from t",
        )
        .bind(customer)
        .bind(conversation)
        .execute(pool)
        .await
        .unwrap();
    }
    conversation
}

async fn turn(pool: &PgPool, conversation_id: Uuid, usage: TokenUsage, days_ago: i64) {
    let prices = ModelPrices::new(0.15, 0.60, 0.02).unwrap();
    record_turn(
        pool,
        &TurnRecord {
            event_id: Uuid::now_v7(),
            occurred_at: Utc::now() - chrono::Duration::days(days_ago),
            channel: "whatsapp",
            conversation_id,
            ticket_id: Uuid::new_v4(),
            latency_ms: 900,
            tokens_used: usage.chat_total(),
            usage,
            cost_micro_usd: prices.cost_micro_usd(&usage),
            tool_calls: 2,
            kb_searches: 1,
            kb_hits: 1,
            failed_tool_calls: 0,
            escalated: false,
            sentiment: 0.0,
        },
    )
    .await
    .unwrap();
}

/// `fte cost` with `args` against the database `pool` is on.
fn fte_cost(pool: &PgPool, args: &[&str]) -> Output {
    let database = pool
        .connect_options()
        .get_database()
        .expect("the test database has a name")
        .to_owned();
    Command::new(env!("CARGO_BIN_EXE_fte"))
        .arg("cost")
        .args(args)
        .env("DATABASE_URL", with_database(&server_url(), &database))
        .env("FTE_PROFILE", "dev")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run fte cost")
}

/// Two resolved conversations (1,000 prompt and 200 completion tokens each:
/// 270 micro-dollars), one escalated (2,000 and 400: 540), ten days ago; and
/// one turn forty days ago.
async fn seeded() -> PgPool {
    let pool = fresh_database().await;
    for _ in 0..2 {
        let resolved = conversation(&pool, false).await;
        turn(&pool, resolved, TokenUsage::chat(1000, 200), 10).await;
    }
    let escalated = conversation(&pool, true).await;
    turn(&pool, escalated, TokenUsage::chat(2000, 400), 10).await;
    let old = conversation(&pool, false).await;
    turn(&pool, old, TokenUsage::chat(50_000, 5_000), 40).await;
    pool
}

#[tokio::test]
async fn fte_cost_prints_the_cost_per_resolution_and_per_escalation_of_the_window() {
    let pool = seeded().await;

    let output = fte_cost(&pool, &["--window", "30d"]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Model cost over the last 30d"), "{stdout}");
    let whatsapp = stdout
        .lines()
        .find(|line| line.starts_with("whatsapp"))
        .unwrap_or_else(|| panic!("a whatsapp row: {stdout}"));
    let cells: Vec<&str> = whatsapp.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "whatsapp", "3", "4000", "800", "0", "0.001080", "2", "0.000270", "1", "0.000540",
            "0.000540"
        ],
        "turns, tokens, cost, resolved and per resolved, escalated and per escalation, all-in: {stdout}"
    );
    let email = stdout
        .lines()
        .find(|line| line.starts_with("email"))
        .unwrap();
    assert!(email.ends_with(" -"), "no resolution, no figure: {stdout}");
    // 0.00108 $ over 30 days, for 365 days.
    assert!(stdout.contains("$0.01 a year"), "{stdout}");
}

#[tokio::test]
async fn fte_cost_json_is_the_summary_section_and_a_bad_window_is_refused() {
    let pool = seeded().await;

    let output = fte_cost(&pool, &["--window", "60d", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let overall = &report["cost"]["overall"];
    assert_eq!(
        overall["turns"], 4,
        "the forty-day-old turn is inside 60d: {report}"
    );
    assert_eq!(overall["tokens"]["prompt"], 54_000.0, "{report}");
    assert_eq!(overall["resolved_conversations"], 3, "{report}");

    let refused = fte_cost(&pool, &["--window", "30m"]);
    assert!(!refused.status.success(), "minutes are not a window");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("24h or 30d"),
        "the error says what a window is: {stderr}"
    );
}
