//! Messages, inbound and outbound, and the agent's per-turn metrics.
//!
//! The partial unique index on `(channel, direction, channel_message_id)`
//! makes storing an inbound message the idempotency check of the whole
//! pipeline: [`insert_inbound`] returns `None` for a message already stored,
//! and `metadata.processed_at` ([`mark_processed`]) says the worker wrote
//! its outcome. A message over the customer's rate limit is stored
//! `deferred_at` ([`mark_deferred`]) and answered later together with the
//! conversation's other deferred messages ([`deferred_pending`],
//! [`mark_covered`]).
//!
//! This module stores messages and their state; what the agent reads of
//! earlier messages is in `history`, the counts limits read in `counts`.

use chrono::{DateTime, Utc};
use fte_domain::Trust;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

mod counts;
mod history;

pub use counts::{
    InboundKey, answers_since, inbound_count_since, inbound_count_since_keyed, reply_kind_since,
};
pub use history::{ConversationDigest, HistoryRow, conversation_digests, customer_history};

/// An inbound message already stored, found by the channel's own id.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct StoredInbound {
    /// Id.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Whether the worker has handled it (`metadata.processed_at` is set).
    /// The gateway stores web form messages itself before publishing them,
    /// unprocessed.
    pub processed: bool,
    /// Whether it waits, over the rate limit, for a later answer
    /// (`metadata.deferred_at` is set).
    pub deferred: bool,
}

/// The inbound message with the channel's own id, read without a lock (the
/// worker locks its conversation first, then the message: see
/// [`inbound_for_update`]).
pub async fn inbound(
    executor: impl PgExecutor<'_>,
    channel: &str,
    channel_message_id: &str,
) -> Result<Option<StoredInbound>, StoreError> {
    let row = sqlx::query_as(
        "select id, conversation_id, metadata ? 'processed_at' as processed,
                metadata ? 'deferred_at' as deferred from messages
         where channel = $1 and direction = 'inbound' and channel_message_id = $2",
    )
    .bind(channel)
    .bind(channel_message_id)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// The inbound message with the channel's own id, locked for update.
///
/// Lock order: a transaction that locks a conversation and messages of it
/// locks the conversation first. A turn's outcome marks the messages it
/// covers as answered while holding the conversation; a message locked
/// before its conversation deadlocked against it.
pub async fn inbound_for_update(
    executor: impl PgExecutor<'_>,
    channel: &str,
    channel_message_id: &str,
) -> Result<Option<StoredInbound>, StoreError> {
    let row = sqlx::query_as(
        "select id, conversation_id, metadata ? 'processed_at' as processed,
                metadata ? 'deferred_at' as deferred from messages
         where channel = $1 and direction = 'inbound' and channel_message_id = $2
         for update",
    )
    .bind(channel)
    .bind(channel_message_id)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// The inbound message `id`, locked for update (the worker's final step
/// checks it was not handled meanwhile).
pub async fn inbound_by_id_for_update(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<StoredInbound>, StoreError> {
    let row = sqlx::query_as(
        "select id, conversation_id, metadata ? 'processed_at' as processed,
                metadata ? 'deferred_at' as deferred from messages
         where id = $1 and direction = 'inbound'
         for update",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// Marks stored inbound messages as handled by the worker; those already
/// handled keep their first time.
pub async fn mark_processed(executor: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set metadata = metadata || jsonb_build_object('processed_at', now()),
             updated_at = now()
         where id = any($1) and direction = 'inbound' and not metadata ? 'processed_at'",
    )
    .bind(ids)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks a stored inbound message as deferred: over the rate limit, it
/// waits for an answer that covers it.
pub async fn mark_deferred(executor: impl PgExecutor<'_>, id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set metadata = metadata || jsonb_build_object('deferred_at', now()),
             updated_at = now()
         where id = $1 and direction = 'inbound' and not metadata ? 'deferred_at'",
    )
    .bind(id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A deferred message waiting for its answer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingInbound {
    /// Id.
    pub id: Uuid,
    /// The text.
    pub content: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// The link it came through, when recorded.
    pub sender_identifier_id: Option<Uuid>,
    /// Its sender's trust (`claimed` or `verified`), when recorded.
    pub sender_trust: Option<String>,
}

/// The conversation's deferred messages not yet answered, oldest first.
pub async fn deferred_pending(
    executor: impl PgExecutor<'_>,
    conversation_id: Uuid,
) -> Result<Vec<PendingInbound>, StoreError> {
    let rows = sqlx::query_as(
        "select id, content, created_at, sender_identifier_id, sender_trust from messages
         where conversation_id = $1 and direction = 'inbound'
           and metadata ? 'deferred_at' and not metadata ? 'processed_at'
         order by created_at, id",
    )
    .bind(conversation_id)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// Marks not yet handled messages `ids` as answered by the answer to
/// message `by` (`metadata.covered_by`) and handled.
pub async fn mark_covered(
    executor: impl PgExecutor<'_>,
    ids: &[Uuid],
    by: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set metadata = metadata
                 || jsonb_build_object('covered_by', $2::uuid, 'processed_at', now()),
             updated_at = now()
         where id = any($1) and direction = 'inbound' and not metadata ? 'processed_at'",
    )
    .bind(ids)
    .bind(by)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks every deferred message of the conversation not yet handled as
/// covered by message `by` (a person owns the conversation now).
pub async fn cover_deferred(
    executor: impl PgExecutor<'_>,
    conversation_id: Uuid,
    by: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set metadata = metadata
                 || jsonb_build_object('covered_by', $2::uuid, 'processed_at', now()),
             updated_at = now()
         where conversation_id = $1 and direction = 'inbound' and id <> $2
           and metadata ? 'deferred_at' and not metadata ? 'processed_at'",
    )
    .bind(conversation_id)
    .bind(by)
    .execute(executor)
    .await?;
    Ok(())
}

/// A customer message to store.
#[derive(Clone, Debug)]
pub struct NewInbound<'a> {
    /// The id the gateway announced for it (a web form message), else
    /// `None` for a new one.
    pub id: Option<Uuid>,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The web form ticket whose thread shows it.
    pub ticket_id: Option<Uuid>,
    /// The channel spelling.
    pub channel: &'a str,
    /// The text.
    pub content: &'a str,
    /// The channel's own id (idempotency key).
    pub channel_message_id: &'a str,
    /// Channel extras (never contact details).
    pub metadata: serde_json::Value,
}

/// Stores an inbound message, not yet handled (the worker marks it with
/// [`mark_processed`] when its outcome is written); `None` when it was
/// already stored.
pub async fn insert_inbound(
    executor: impl PgExecutor<'_>,
    message: &NewInbound<'_>,
) -> Result<Option<Uuid>, StoreError> {
    let id = sqlx::query_scalar(
        "insert into messages (id, conversation_id, channel, direction, role, content,
             channel_message_id, delivery_status, metadata, ticket_id, created_at, updated_at)
         values (coalesce($6, gen_random_uuid()), $1, $2, 'inbound', 'customer', $3, $4, 'received',
                 $5, $7, clock_timestamp(), clock_timestamp())
         on conflict (channel, direction, channel_message_id)
             where channel_message_id is not null do nothing
         returning id",
    )
    .bind(message.conversation_id)
    .bind(message.channel)
    .bind(message.content)
    .bind(message.channel_message_id)
    .bind(&message.metadata)
    .bind(message.id)
    .bind(message.ticket_id)
    .fetch_optional(executor)
    .await?;
    Ok(id)
}

/// An outbound message to store (the reply row the outbox points at).
#[derive(Clone, Debug)]
pub struct NewOutbound<'a> {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The channel spelling.
    pub channel: &'a str,
    /// `agent` or `system`.
    pub role: &'a str,
    /// The text as sent (parts joined).
    pub content: &'a str,
    /// Model tokens spent.
    pub tokens_used: Option<i32>,
    /// Time the agent took.
    pub latency_ms: Option<i32>,
    /// Tool calls made.
    pub tool_calls: serde_json::Value,
    /// Extras.
    pub metadata: serde_json::Value,
}

/// Stores an outbound message with delivery status `pending`.
///
/// Messages take the wall clock (`clock_timestamp()`), not the transaction
/// start, so a reply sorts after the message it answers in history.
pub async fn insert_outbound(
    executor: impl PgExecutor<'_>,
    message: &NewOutbound<'_>,
) -> Result<Uuid, StoreError> {
    let id = sqlx::query_scalar(
        "insert into messages (conversation_id, channel, direction, role, content,
             tokens_used, latency_ms, tool_calls, metadata, created_at, updated_at)
         values ($1, $2, 'outbound', $3, $4, $5, $6, $7, $8, clock_timestamp(), clock_timestamp())
         returning id",
    )
    .bind(message.conversation_id)
    .bind(message.channel)
    .bind(message.role)
    .bind(message.content)
    .bind(message.tokens_used)
    .bind(message.latency_ms)
    .bind(&message.tool_calls)
    .bind(&message.metadata)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// Sets the sentiment of a stored message (clamped to -1..1).
pub async fn set_sentiment(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    sentiment: f64,
) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set sentiment = round($2::numeric, 2), updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(sentiment.clamp(-1.0, 1.0))
    .execute(executor)
    .await?;
    Ok(())
}

/// Records a delivery outcome of an outbound message, with the provider's
/// first message id when there is one.
pub async fn set_delivery(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    provider_message_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set delivery_status = $2,
             channel_message_id = coalesce(channel_message_id, $3), updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(provider_message_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records the link an inbound message came through (the reply address:
/// the email of a web form or an email, the phone of a WhatsApp message)
/// and its sender's trust (`fte_store::identity::Resolution::sender_trust`),
/// so limits can be keyed on it.
pub async fn record_sender(
    executor: impl PgExecutor<'_>,
    message_id: Uuid,
    identifier_id: Uuid,
    trust: Trust,
) -> Result<(), StoreError> {
    sqlx::query(
        "update messages set sender_identifier_id = $2, sender_trust = $3, updated_at = now()
         where id = $1",
    )
    .bind(message_id)
    .bind(identifier_id)
    .bind(trust.as_str())
    .execute(executor)
    .await?;
    Ok(())
}
