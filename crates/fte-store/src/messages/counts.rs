//! Counts over a customer's messages that limits and acknowledgements
//! read: the agent's answers, replies of a kind, and inbound messages per
//! customer or per sender ([`InboundKey`]).

use chrono::{DateTime, Utc};
use fte_domain::Trust;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// The agent's answers to the customer (all channels) since `since`: how
/// many, and when the oldest was written.
pub async fn answers_since(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
    let row = sqlx::query_as(
        "select count(*), min(m.created_at) from messages m
         join conversations c on c.id = m.conversation_id
         where c.customer_id = $1 and m.direction = 'outbound' and m.role = 'agent'
           and m.created_at >= $2",
    )
    .bind(customer_id)
    .bind(since)
    .fetch_one(executor)
    .await?;
    Ok(row)
}

/// Whether a reply of `kind` (`metadata.kind`) went to the customer (any
/// conversation) since `since`.
pub async fn reply_kind_since(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    kind: &str,
    since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let found = sqlx::query_scalar(
        "select exists(select 1 from messages m join conversations c on c.id = m.conversation_id
                       where c.customer_id = $1 and m.direction = 'outbound'
                         and m.metadata->>'kind' = $2 and m.created_at >= $3)",
    )
    .bind(customer_id)
    .bind(kind)
    .bind(since)
    .fetch_one(executor)
    .await?;
    Ok(found)
}

/// How many inbound messages the customer sent since `since` (all channels).
pub async fn inbound_count_since(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let count = sqlx::query_scalar(
        "select count(*) from messages m join conversations c on c.id = m.conversation_id
         where c.customer_id = $1 and m.direction = 'inbound' and m.created_at >= $2",
    )
    .bind(customer_id)
    .bind(since)
    .fetch_one(executor)
    .await?;
    Ok(count)
}

/// Whose inbound messages a per-sender limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundKey {
    /// The customer's messages that came through a verified link: what the
    /// customer's own verified channels share, and no claim can add to.
    VerifiedCustomer(Uuid),
    /// The claimed messages that came through this link only: a claim of
    /// someone's email spends its own allowance, not the customer's.
    Identifier(Uuid),
    /// Every inbound message of the customer (messages stored before
    /// senders were recorded).
    Customer(Uuid),
}

impl InboundKey {
    /// The key for a message from `customer_id` through `link` (its id and
    /// the sender's trust), or the whole customer when the link is unknown.
    pub fn for_sender(customer_id: Uuid, link: Option<(Uuid, Trust)>) -> Self {
        match link {
            Some((_, Trust::Verified)) => InboundKey::VerifiedCustomer(customer_id),
            Some((id, Trust::Claimed)) => InboundKey::Identifier(id),
            None => InboundKey::Customer(customer_id),
        }
    }
}

/// Inbound messages under `key` stored since `since`.
pub async fn inbound_count_since_keyed(
    executor: impl PgExecutor<'_>,
    key: InboundKey,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let count =
        match key {
            InboundKey::VerifiedCustomer(customer_id) => sqlx::query_scalar(
                "select count(*) from messages m join conversations c on c.id = m.conversation_id
                 where c.customer_id = $1 and m.direction = 'inbound'
                   and m.sender_trust = 'verified' and m.created_at >= $2",
            )
            .bind(customer_id)
            .bind(since)
            .fetch_one(executor)
            .await?,
            InboundKey::Identifier(identifier_id) => {
                sqlx::query_scalar(
                    "select count(*) from messages
                 where sender_identifier_id = $1 and direction = 'inbound'
                   and sender_trust = 'claimed' and created_at >= $2",
                )
                .bind(identifier_id)
                .bind(since)
                .fetch_one(executor)
                .await?
            }
            InboundKey::Customer(customer_id) => {
                inbound_count_since(executor, customer_id, since).await?
            }
        };
    Ok(count)
}
