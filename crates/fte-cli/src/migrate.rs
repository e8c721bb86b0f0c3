//! `fte migrate`: the deploy step that applies the schema migrations, and the
//! connect-and-migrate every database command of `fte` starts with.

use anyhow::Context;
use fte_runtime::settings::DatabaseSettings;

/// A pool on the database of the environment, migrated.
pub async fn connect_and_migrate() -> anyhow::Result<fte_store::PgPool> {
    let database = DatabaseSettings::from_env()?;
    let pool = fte_store::connect(&database)
        .await
        .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
    fte_store::migrate(&pool)
        .await
        .context("Failed to apply migrations")?;
    Ok(pool)
}

/// Applies migrations and exits.
pub async fn migrate_only() -> anyhow::Result<()> {
    connect_and_migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}
