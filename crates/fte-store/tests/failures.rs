//! Database failures against a real PostgreSQL are classified once: what
//! the server refuses for the value's sake is permanent, with a reason that
//! carries no value; an unreachable server is transient.

use fte_store::conversations::{NewTicket, ensure_ticket};
use fte_store::{FailureKind, StoreError};

#[tokio::test]
async fn values_the_columns_cannot_hold_are_permanent_with_a_content_free_reason() {
    let pool = fte_store::testing::fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    let subject = format!("secret-{}", "x".repeat(600));
    let too_long = ensure_ticket(
        &mut conn,
        &NewTicket {
            id: uuid::Uuid::now_v7(),
            conversation_id: uuid::Uuid::now_v7(),
            customer_id: uuid::Uuid::now_v7(),
            source_channel: "email",
            subject: Some(&subject),
            category: None,
            priority: "medium",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(too_long.failure_kind(), FailureKind::Data, "{too_long:?}");
    assert!(!too_long.is_transient());
    assert_eq!(too_long.reason(), "database_data sqlstate=22001");

    let nul: StoreError = sqlx::query("insert into customers (name) values ($1)")
        .bind("Ana\0 secret")
        .execute(&pool)
        .await
        .map(|_| ())
        .unwrap_err()
        .into();
    assert_eq!(nul.failure_kind(), FailureKind::Data, "{nul:?}");
    assert!(!nul.reason().contains("secret"));

    sqlx::query("insert into customers (email) values ('a@example.com')")
        .execute(&pool)
        .await
        .unwrap();
    let duplicate: StoreError =
        sqlx::query("insert into customers (email) values ('a@example.com')")
            .execute(&pool)
            .await
            .map(|_| ())
            .unwrap_err()
            .into();
    assert_eq!(duplicate.failure_kind(), FailureKind::Integrity);
    assert!(
        duplicate
            .reason()
            .starts_with("database_integrity sqlstate=23505 constraint=")
    );
    assert!(!duplicate.reason().contains("a@example.com"));
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(300))
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let error: StoreError = sqlx::query("select 1")
        .execute(&pool)
        .await
        .map(|_| ())
        .unwrap_err()
        .into();
    assert_eq!(error.failure_kind(), FailureKind::Unavailable, "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_session_the_server_ends_is_unreachable_not_a_fault() {
    // What every session sees when PostgreSQL restarts: 57P01
    // (terminating connection due to administrator command).
    let pool = fte_store::testing::fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    let error: StoreError = sqlx::query("select pg_terminate_backend(pg_backend_pid())")
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .unwrap_err()
        .into();
    assert!(error.is_unavailable(), "{error:?}");
    // A refused query is not.
    let refused: StoreError = sqlx::query("select 1/0")
        .execute(&pool)
        .await
        .map(|_| ())
        .unwrap_err()
        .into();
    assert!(!refused.is_unavailable(), "{refused:?}");
}

#[tokio::test]
async fn ride_through_waits_out_a_short_outage_but_not_a_refusal_or_a_long_one() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let unreachable = || StoreError::Database(sqlx::Error::PoolTimedOut);

    let calls = AtomicUsize::new(0);
    let back_on_the_third = fte_store::ride_through(Duration::from_secs(2), || async {
        if calls.fetch_add(1, Ordering::SeqCst) < 2 {
            Err(unreachable())
        } else {
            Ok("committed")
        }
    })
    .await;
    assert_eq!(back_on_the_third.unwrap(), "committed");
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let calls = AtomicUsize::new(0);
    let refused = fte_store::ride_through(Duration::from_secs(2), || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err::<(), _>(StoreError::Database(sqlx::Error::RowNotFound))
    })
    .await;
    assert!(refused.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is not retried");

    let started = Instant::now();
    let long = fte_store::ride_through(Duration::from_millis(300), || async {
        Err::<(), _>(unreachable())
    })
    .await;
    assert!(long.unwrap_err().is_unavailable());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "gives up once the budget is spent"
    );
}
