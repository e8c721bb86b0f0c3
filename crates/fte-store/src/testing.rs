//! A fresh, migrated database per test.
//!
//! The first test in a run builds a template database (migrations applied
//! once, under an advisory lock so concurrent test processes agree); every
//! test then gets its own copy, which takes a few milliseconds. The server is
//! `TEST_DATABASE_URL`, else the local development server of
//! [`DatabaseSettings`]. `scripts/test.sh` drops the copies before each run.

use fte_runtime::settings::{DatabaseSettings, Lookup, Profile};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};

use crate::MIGRATOR;

/// The prefix of every database a test creates.
pub const TEST_DATABASE_PREFIX: &str = "fte_test_";

/// The server URL tests use (any database on it).
pub fn server_url() -> String {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        return url;
    }
    let lookup = Lookup::env();
    DatabaseSettings::from_lookup(&lookup, Profile::Dev)
        .expect("database settings for tests")
        .expose_url()
        .to_owned()
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let root = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in MIGRATOR.iter() {
        hasher.update(migration.version.to_le_bytes());
        hasher.update(&*migration.checksum);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("fte_template_{hex}")
}

async fn ensure_template(admin: &mut PgConnection, server: &str) -> String {
    let name = template_name();
    // Serialise template creation across concurrent test processes.
    admin
        .execute("select pg_advisory_lock(728361)")
        .await
        .expect("take the template lock");
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut *admin)
            .await
            .expect("look up the template");
    if !exists {
        let building = format!("{name}_building");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "drop database if exists {building}"
            )))
            .await
            .expect("drop a half-built template");
        admin
            .execute(sqlx::AssertSqlSafe(format!("create database {building}")))
            .await
            .expect("create the template");
        {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect(&with_database(server, &building))
                .await
                .expect("connect to the template");
            MIGRATOR
                .run(&pool)
                .await
                .expect("migrations apply to an empty database");
            pool.close().await;
        }
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "alter database {building} rename to {name}"
            )))
            .await
            .expect("publish the template");
    }
    admin
        .execute("select pg_advisory_unlock(728361)")
        .await
        .expect("release the template lock");
    name
}

/// A new database with every migration applied, and a pool on it.
pub async fn fresh_database() -> PgPool {
    let server = server_url();
    let mut admin = PgConnection::connect(&with_database(&server, "postgres"))
        .await
        .expect("tests need PostgreSQL: run scripts/pg.sh start (scripts/test.sh does)");
    let template = ensure_template(&mut admin, &server).await;
    let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
    // Concurrent copies of one template can collide briefly; retry.
    let mut attempt = 0;
    loop {
        match admin
            .execute(sqlx::AssertSqlSafe(format!(
                "create database {name} template {template}"
            )))
            .await
        {
            Ok(_) => break,
            Err(error) if attempt < 20 => {
                attempt += 1;
                let _ = error;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Err(error) => panic!("copy the template: {error}"),
        }
    }
    admin.close().await.ok();
    PgPoolOptions::new()
        .max_connections(10)
        .connect(&with_database(&server, &name))
        .await
        .expect("connect to the fresh database")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/fte?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
