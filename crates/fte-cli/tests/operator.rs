//! `fte dlq` and `fte outbox` as an operator runs them: separate processes
//! against a database and a running broker. A dead letter is listed,
//! shown and replayed once; a failed reply is listed and put back for the
//! sender. Both are audited under the operator's name.
//!
//! The broker is embedded in this test and published through an address
//! file, as `fte broker` publishes its own.

use std::process::{Command, Output};

use fte_bus::consumer::dlq_headers;
use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_store::PgPool;
use fte_store::testing::{fresh_database, server_url, with_database};
use serde_json::Value;
use uuid::Uuid;

const OPERATOR: &str = "olga.ops";

async fn broker() -> Bootstrap {
    let kafka = fte_testkit::broker::settings_with(&[("KAFKA_TOPIC_PARTITIONS", "1")]);
    Bootstrap::resolve(&kafka).await.unwrap()
}

/// `fte` with `args` against `pool`'s database and `bootstrap`'s broker.
fn fte(pool: &PgPool, bootstrap: Option<&Bootstrap>, args: &[&str]) -> Output {
    let database = pool
        .connect_options()
        .get_database()
        .expect("the test database has a name")
        .to_owned();
    // The broker is found as a running `fte broker` is: through its
    // address file.
    let address_file = match bootstrap {
        Some(bootstrap) => {
            let file = std::env::temp_dir().join(format!("fte-operator-{}.addr", Uuid::new_v4()));
            std::fs::write(&file, &bootstrap.servers).unwrap();
            file
        }
        None => "/nonexistent/fte-broker.addr".into(),
    };
    let output = Command::new(env!("CARGO_BIN_EXE_fte"))
        .args(args)
        .env("DATABASE_URL", with_database(&server_url(), &database))
        .env("FTE_PROFILE", "dev")
        .env("FTE_OPERATOR", OPERATOR)
        .env("FTE_BROKER_ADDRESS_FILE", &address_file)
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run fte");
    if bootstrap.is_some() {
        let _ = std::fs::remove_file(&address_file);
    }
    output
}

fn stdout(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

async fn audited(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from staff_audit where action = $1 and staff = $2")
        .bind(action)
        .bind(OPERATOR)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn fte_dlq_lists_shows_and_replays_a_dead_letter_once() {
    let pool = fresh_database().await;
    let bootstrap = broker().await;
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let payload = br#"{"event_type":"ticket.inbound","note":"the original bytes"}"#;
    let delivery = publisher
        .publish(
            topics::DLQ,
            "customer-7",
            payload,
            &[
                (dlq_headers::TOPIC, topics::TICKETS_INCOMING),
                (dlq_headers::PARTITION, "0"),
                (dlq_headers::OFFSET, "12"),
                (dlq_headers::ERROR, "agent_unavailable"),
                (dlq_headers::REASON, "still failing after 10 attempts"),
            ],
        )
        .await
        .unwrap();
    let id = format!("{}-{}", delivery.partition, delivery.offset);

    let listed = stdout(&fte(&pool, Some(&bootstrap), &["dlq", "list"]));
    let row = listed
        .lines()
        .find(|line| line.starts_with(&id))
        .unwrap_or_else(|| panic!("a row for {id}: {listed}"));
    for cell in [
        topics::TICKETS_INCOMING,
        "agent_unavailable",
        "customer-7",
        " no ",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(
        !listed.contains("original bytes"),
        "no payload in a listing: {listed}"
    );

    let shown: Value = serde_json::from_str(&stdout(&fte(
        &pool,
        Some(&bootstrap),
        &["dlq", "show", &id],
    )))
    .unwrap();
    assert_eq!(shown["payload"], String::from_utf8_lossy(payload).as_ref());
    assert_eq!(shown["reason"], "still failing after 10 attempts");

    let replayed: Value = serde_json::from_str(&stdout(&fte(
        &pool,
        Some(&bootstrap),
        &["dlq", "replay", &id, "--json"],
    )))
    .unwrap();
    assert_eq!(replayed["replayed"][0]["id"], id.as_str());
    assert_eq!(replayed["replayed"][0]["topic"], topics::TICKETS_INCOMING);

    let again = fte(&pool, Some(&bootstrap), &["dlq", "replay", &id]);
    assert!(!again.status.success(), "a second replay is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("replayed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let all = stdout(&fte(&pool, Some(&bootstrap), &["dlq", "replay", "--all"]));
    assert!(
        all.contains(&format!("skipped {id}: already_replayed")),
        "{all}"
    );

    assert_eq!(audited(&pool, "dlq.list").await, 1);
    assert_eq!(audited(&pool, "dlq.read").await, 1);
    assert_eq!(audited(&pool, "dlq.replay").await, 1);

    // Without a running broker the command says so instead of reading an
    // empty one of its own.
    let alone = fte(&pool, None, &["dlq", "list"]);
    assert!(!alone.status.success());
    assert!(
        String::from_utf8_lossy(&alone.stderr).contains("fte broker"),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
}

/// A WhatsApp reply that exhausted its retries; returns its outbox id.
async fn failed_reply(pool: &PgPool) -> Uuid {
    sqlx::query_scalar(
        "with c as (insert into customers default values returning id),
              v as (insert into conversations (customer_id, initial_channel, current_channel)
                    select id, 'whatsapp', 'whatsapp' from c returning id),
              m as (insert into messages (conversation_id, channel, direction, role, content,
                                          delivery_status)
                    select id, 'whatsapp', 'outbound', 'agent', 'Open Settings.', 'failed'
                    from v returning id, conversation_id)
         insert into reply_outbox (message_id, conversation_id, channel, payload, status,
                                   attempts, last_error)
         select id, conversation_id, 'whatsapp', '{}', 'failed', 5,
                'transient provider failure: 503'
         from m returning id",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn fte_outbox_lists_failed_replies_and_puts_them_back() {
    let pool = fresh_database().await;
    let first = failed_reply(&pool).await;
    let second = failed_reply(&pool).await;

    let listed = stdout(&fte(&pool, None, &["outbox", "list"]));
    for id in [first, second] {
        let row = listed
            .lines()
            .find(|line| line.starts_with(&id.to_string()))
            .unwrap_or_else(|| panic!("a row for {id}: {listed}"));
        assert!(
            row.contains("whatsapp") && row.contains("transient"),
            "{row}"
        );
    }
    assert!(!listed.contains("Open Settings"), "no bodies: {listed}");

    let retried = stdout(&fte(&pool, None, &["outbox", "retry", &first.to_string()]));
    assert!(
        retried.contains(&format!("reply {first} is pending again")),
        "{retried}"
    );
    let refused = fte(&pool, None, &["outbox", "retry", &first.to_string()]);
    assert!(!refused.status.success(), "only a failed reply is retried");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not failed"));

    let all = stdout(&fte(&pool, None, &["outbox", "retry", "--all-failed"]));
    assert!(
        all.contains(&format!("reply {second} is pending again")),
        "{all}"
    );
    let rows: Vec<(String, i32, String)> = sqlx::query_as(
        "select r.status, r.attempts, m.delivery_status from reply_outbox r
         join messages m on m.id = r.message_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("pending".to_owned(), 0, "pending".to_owned()),
            ("pending".to_owned(), 0, "pending".to_owned())
        ]
    );
    // Two retries and the refused one in between.
    assert_eq!(audited(&pool, "outbox.retry").await, 3);
    assert_eq!(audited(&pool, "outbox.failed.list").await, 1);
}
