//! `fte migrate`: the deploy step that applies the schema migrations.

use anyhow::Context;
use fte_runtime::settings::DatabaseSettings;

/// Applies migrations and exits.
pub async fn migrate_only() -> anyhow::Result<()> {
    let database = DatabaseSettings::from_env()?;
    let pool = fte_store::connect(&database)
        .await
        .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
    fte_store::migrate(&pool)
        .await
        .context("Failed to apply migrations")?;
    tracing::info!("migrations applied");
    Ok(())
}
