//! Databases: a fresh, migrated one per test (`fte_store::testing`), a copy
//! of any database as a template, and a one-number query.

use sqlx::{Connection, Executor, PgPool};

pub use fte_store::testing::{TEST_DATABASE_PREFIX, fresh_database, server_url, with_database};

/// A new database copied from `template` (which nobody may be connected
/// to; a copy still being closed is waited for, up to about 10 s).
pub async fn copy_of(template: &str) -> PgPool {
    let server = server_url();
    let mut admin = sqlx::PgConnection::connect(&with_database(&server, "postgres"))
        .await
        .expect("PostgreSQL runs (scripts/pg.sh start)");
    let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let mut attempt = 0;
    loop {
        let created = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "create database {name} template {template}"
            )))
            .await;
        match created {
            Ok(_) => break,
            Err(_) if attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Err(error) => panic!("copy the database {template}: {error}"),
        }
    }
    admin.close().await.ok();
    PgPool::connect(&with_database(&server, &name))
        .await
        .expect("connect to the copy")
}

/// The single number `sql` selects (a `count(*)`, usually).
pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|error| panic!("the query runs: {error}"))
}
