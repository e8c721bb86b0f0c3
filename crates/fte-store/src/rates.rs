//! Rates computed from the CRM for gauges and alerts.

use sqlx::PgPool;

use crate::StoreError;

/// The share of tickets opened in the last hour that were escalated, per
/// source channel (channels without tickets in the hour are absent).
pub async fn escalation_rate_last_hour(pool: &PgPool) -> Result<Vec<(String, f64)>, StoreError> {
    let rows = sqlx::query_as::<_, (String, f64)>(
        "select source_channel, avg((status = 'escalated')::int)::float8
         from tickets
         where created_at > now() - interval '1 hour'
         group by source_channel",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}
