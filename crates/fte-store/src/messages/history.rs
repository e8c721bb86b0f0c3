//! What the agent reads of earlier messages: a customer's history across
//! conversations, newest last, and a digest of each earlier conversation.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// One message of a customer's history.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HistoryRow {
    /// Id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The channel spelling.
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `customer`, `agent` or `system`.
    pub role: String,
    /// The text.
    pub content: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// The customer's latest `limit` messages across every conversation and
/// channel, oldest first, leaving out `exclude` (the messages being
/// answered).
pub async fn customer_history(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    exclude: &[Uuid],
    limit: i64,
) -> Result<Vec<HistoryRow>, StoreError> {
    let mut rows: Vec<HistoryRow> = sqlx::query_as(
        "select m.id, m.conversation_id, m.channel, m.direction, m.role, m.content, m.created_at
         from messages m join conversations c on c.id = m.conversation_id
         where c.customer_id = $1 and m.id <> all($2)
         order by m.created_at desc, m.id desc
         limit $3",
    )
    .bind(customer_id)
    .bind(exclude)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// An earlier conversation of a customer, summarised.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversationDigest {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Where it started (channel spelling).
    pub channel: String,
    /// Its first message's time.
    pub started_at: DateTime<Utc>,
    /// Its last message's time (within the digest).
    pub last_at: DateTime<Utc>,
    /// How many messages it held.
    pub messages: i64,
    /// The customer's first message in it, if any.
    pub opening: Option<String>,
}

/// The customer's conversations with messages stored between `since` and
/// `before` (exclusive), one digest each, oldest first, at most `limit`
/// (the most recent ones): what lies beyond the latest messages the
/// history shows in full.
pub async fn conversation_digests(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    since: DateTime<Utc>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ConversationDigest>, StoreError> {
    let mut rows: Vec<ConversationDigest> = sqlx::query_as(
        "select c.id as conversation_id, c.initial_channel as channel,
                min(m.created_at) as started_at, max(m.created_at) as last_at,
                count(*) as messages,
                (array_agg(m.content order by m.created_at)
                     filter (where m.direction = 'inbound'))[1] as opening
         from conversations c join messages m on m.conversation_id = c.id
         where c.customer_id = $1 and m.created_at >= $2 and m.created_at < $3
         group by c.id, c.initial_channel
         order by max(m.created_at) desc
         limit $4",
    )
    .bind(customer_id)
    .bind(since)
    .bind(before)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.reverse();
    Ok(rows)
}
