//! What the gateway reads and writes: the tickets of web form submissions,
//! webhook receipts, delivery status callbacks and the read models of the
//! status page and the staff API.
//!
//! A web form submission is stored by the gateway as its ticket (open, with
//! no customer or conversation yet), its access row and its outbox event,
//! and answered once that is committed. The worker takes the event like any
//! channel's message: it resolves the sender under the rules of
//! [`crate::identity`] (a claimed email still finds the existing customer
//! but never proves, overwrites or captures anything; a name never merges
//! two customers), continues the customer's conversation or starts one,
//! stores the message under the id the event announced, and fills in the
//! ticket's customer and conversation ([`crate::conversations::ensure_ticket`]).
//! Resolving the customer at the gateway as well cost six more rows (about
//! twenty index entries) per submission on the path the customer waits on:
//! in one sitting of `loadtest/bench-gateway.sh` that path took 3,600–3,900
//! submissions a second and 320–350 µs of PostgreSQL's CPU each, this one
//! 6,500–7,300 and 125–140 µs.

use chrono::{DateTime, Utc};
use fte_domain::{
    Category, Channel, ConversationId, EmailAddress, PhoneNumber, Priority, TicketId,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// The ticket of a validated web form submission.
#[derive(Clone, Debug)]
pub struct NewWebTicket<'a> {
    /// The id the customer will be shown.
    pub ticket_id: TicketId,
    /// Subject (trimmed).
    pub subject: &'a str,
    /// Category.
    pub category: Category,
    /// Priority.
    pub priority: Priority,
}

/// Opens the tickets of a batch of web form submissions with one statement,
/// in the caller's transaction (the gateway's group commit, which also
/// stores their access rows and events). Each is `open`, with no customer
/// or conversation until the worker takes its message.
pub async fn open_web_tickets(
    conn: &mut PgConnection,
    batch: &[NewWebTicket<'_>],
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = batch.iter().map(|t| t.ticket_id.as_uuid()).collect();
    let subjects: Vec<&str> = batch.iter().map(|t| t.subject).collect();
    let categories: Vec<&str> = batch.iter().map(|t| t.category.as_str()).collect();
    let priorities: Vec<&str> = batch.iter().map(|t| t.priority.as_str()).collect();
    sqlx::query(
        "insert into tickets (id, source_channel, subject, category, priority, status)
         select id, 'web_form', subject, category, priority, 'open'
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
              as t (id, subject, category, priority)",
    )
    .bind(&ids)
    .bind(&subjects)
    .bind(&categories)
    .bind(&priorities)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a webhook's provider id; `false` when it was already recorded (a
/// retry). Run it in the transaction that commits only after the publish.
pub async fn record_receipt(
    executor: impl PgExecutor<'_>,
    channel: Channel,
    channel_message_id: &str,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "insert into inbound_receipts (channel, channel_message_id) values ($1, $2)
         on conflict (channel, channel_message_id) do nothing",
    )
    .bind(channel.as_str())
    .bind(channel_message_id)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Sets the delivery status of the outbound message the provider knows as
/// `channel_message_id`; returns how many rows changed (0 when unknown).
pub async fn update_delivery_status(
    executor: impl PgExecutor<'_>,
    channel: Channel,
    channel_message_id: &str,
    status: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "update messages set delivery_status = $3, updated_at = now()
         where channel = $1 and direction = 'outbound' and channel_message_id = $2",
    )
    .bind(channel.as_str())
    .bind(channel_message_id)
    .bind(status)
    .execute(executor)
    .await?
    .rows_affected())
}

/// A ticket as the status page shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TicketView {
    /// Ticket id.
    pub id: Uuid,
    /// open, processing, resolved or escalated.
    pub status: String,
    /// Its conversation, once known.
    pub conversation_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change of the ticket or of its conversation's messages.
    pub last_updated: DateTime<Utc>,
}

/// The ticket `id`, or `None`.
pub async fn ticket(pool: &PgPool, id: TicketId) -> Result<Option<TicketView>, StoreError> {
    Ok(sqlx::query_as(
        "select t.id, t.status, t.conversation_id, t.created_at,
                greatest(t.updated_at,
                         coalesce((select max(m.created_at) from messages m
                                   where m.conversation_id = t.conversation_id),
                                  t.updated_at)) as last_updated
         from tickets t where t.id = $1",
    )
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?)
}

/// A stored message.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageView {
    /// Message id.
    pub id: Uuid,
    /// customer, agent or system.
    pub role: String,
    /// The channel it travelled on.
    pub channel: String,
    /// inbound or outbound.
    pub direction: String,
    /// The text.
    pub content: String,
    /// Delivery state.
    pub delivery_status: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// Every message of a conversation, oldest first.
pub async fn conversation_messages(
    pool: &PgPool,
    conversation_id: Uuid,
) -> Result<Vec<MessageView>, StoreError> {
    Ok(sqlx::query_as(
        "select id, role, channel, direction, content, delivery_status, created_at
         from messages where conversation_id = $1 order by created_at, id",
    )
    .bind(conversation_id)
    .fetch_all(pool)
    .await?)
}

/// A customer as the staff API shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CustomerView {
    /// Customer id.
    pub id: Uuid,
    /// Name, when known.
    pub name: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// Primary phone.
    pub phone: Option<String>,
    /// Plan tier.
    pub plan: Option<String>,
    /// Whether name, email and phone were last written by a verified message.
    pub profile_verified: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

const CUSTOMER_COLUMNS: &str =
    "c.id, c.name, c.email, c.phone, c.plan, c.profile_verified, c.created_at";

/// The customer `id` survives as (itself, or the customer it was merged
/// into), or `None` for an unknown id.
pub async fn customer_view(pool: &PgPool, id: Uuid) -> Result<Option<CustomerView>, StoreError> {
    let Some(survivor) = crate::merges::surviving(pool, id).await? else {
        return Ok(None);
    };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CUSTOMER_COLUMNS} from customers c where c.id = $1"
    )))
    .bind(survivor)
    .fetch_optional(pool)
    .await?)
}

/// The customer with this email (identifier, or primary address of a
/// customer that was not merged away).
pub async fn customer_by_email(
    pool: &PgPool,
    email: &EmailAddress,
) -> Result<Option<CustomerView>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "with linked as (select customer_id from customer_identifiers
                         where identifier_type = 'email' and identifier_value = $1)
         select {CUSTOMER_COLUMNS} from customers c
         where c.id in (select customer_id from linked)
            or (c.email = $1 and c.merged_into is null)
         order by c.id in (select customer_id from linked) desc
         limit 1"
    )))
    .bind(email.as_str())
    .fetch_optional(pool)
    .await?)
}

/// The customer with this phone (WhatsApp or phone identifier, or primary
/// phone of a customer that was not merged away).
pub async fn customer_by_phone(
    pool: &PgPool,
    phone: &PhoneNumber,
) -> Result<Option<CustomerView>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "with linked as (select customer_id from customer_identifiers
                         where identifier_type in ('phone', 'whatsapp')
                           and identifier_value in ($1, $2))
         select {CUSTOMER_COLUMNS} from customers c
         where c.id in (select customer_id from linked)
            or (c.phone = $1 and c.merged_into is null)
         order by c.id in (select customer_id from linked) desc, c.created_at
         limit 1"
    )))
    .bind(phone.as_str())
    .bind(phone.as_whatsapp_address())
    .fetch_optional(pool)
    .await?)
}

/// A conversation's headline.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversationView {
    /// Conversation id.
    pub id: Uuid,
    /// Its customer.
    pub customer_id: Uuid,
    /// Where it started.
    pub initial_channel: String,
    /// Where replies go.
    pub current_channel: String,
    /// active, escalated or resolved.
    pub status: String,
    /// Latest sentiment, -1..1.
    pub sentiment_score: Option<f64>,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Latest message.
    pub last_message_at: DateTime<Utc>,
    /// How many messages it holds.
    pub message_count: i64,
}

const CONVERSATION_COLUMNS: &str = "v.id, v.customer_id, v.initial_channel, v.current_channel,
    v.status, v.sentiment_score::float8 as sentiment_score, v.started_at, v.last_message_at,
    (select count(*) from messages m where m.conversation_id = v.id) as message_count";

/// The conversation `id`, or `None`.
pub async fn conversation(
    pool: &PgPool,
    id: ConversationId,
) -> Result<Option<ConversationView>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CONVERSATION_COLUMNS} from conversations v where v.id = $1"
    )))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?)
}

/// A customer's conversations, latest activity first.
pub async fn customer_conversations(
    pool: &PgPool,
    customer_id: Uuid,
) -> Result<Vec<ConversationView>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CONVERSATION_COLUMNS} from conversations v
         where v.customer_id = $1 order by v.last_message_at desc"
    )))
    .bind(customer_id)
    .fetch_all(pool)
    .await?)
}

/// One channel's figures, computed from the CRM tables.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChannelFigures {
    /// The channel.
    pub channel: String,
    /// Conversations that started on it.
    pub total_conversations: i64,
    /// Escalations raised on it.
    pub escalations: i64,
    /// Mean agent reply latency (outbound messages), when any.
    pub avg_latency_ms: Option<f64>,
    /// Mean conversation sentiment, when any was scored.
    pub avg_sentiment: Option<f64>,
}

/// Figures for every channel (zeros for a channel without traffic), in
/// [`Channel::ALL`] order.
pub async fn channel_figures(pool: &PgPool) -> Result<Vec<ChannelFigures>, StoreError> {
    let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    Ok(sqlx::query_as(
        "select c.channel,
                (select count(*) from conversations v where v.initial_channel = c.channel)
                    as total_conversations,
                (select count(*) from escalations e where e.channel = c.channel) as escalations,
                (select avg(m.latency_ms)::float8 from messages m
                 where m.channel = c.channel and m.direction = 'outbound'
                   and m.latency_ms is not null) as avg_latency_ms,
                (select avg(v.sentiment_score)::float8 from conversations v
                 where v.initial_channel = c.channel and v.sentiment_score is not null)
                    as avg_sentiment
         from unnest($1::text[]) with ordinality as c(channel, position)
         order by c.position",
    )
    .bind(names)
    .fetch_all(pool)
    .await?)
}
