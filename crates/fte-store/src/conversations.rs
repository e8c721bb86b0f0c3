//! Conversations, their channel switches, and the tickets and escalations
//! the worker attaches to them.
//!
//! State changes are written with the expected current state in the `where`
//! clause, so a transition the caller checked against the domain state
//! machine cannot overwrite a state someone else changed meanwhile: the
//! function reports `false` and nothing is written.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// A conversation as the worker needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversationRow {
    /// Id.
    pub id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// Where it started.
    pub initial_channel: String,
    /// Where the latest inbound message came from.
    pub current_channel: String,
    /// `active`, `escalated` or `resolved`.
    pub status: String,
    /// The latest message's time.
    pub last_message_at: DateTime<Utc>,
    /// Worker bookkeeping (deferred WhatsApp text, acknowledgement times).
    pub metadata: serde_json::Value,
}

const CONVERSATION_COLUMNS: &str =
    "id, customer_id, initial_channel, current_channel, status, last_message_at, metadata";

/// The conversation a new message of the customer continues, locked for
/// update: their escalated conversation, whatever its age (the person who
/// owns the case sees every new message), else their newest non-resolved
/// conversation whose last message is younger than `window_secs`.
pub async fn open_conversation(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    window_secs: i64,
) -> Result<Option<ConversationRow>, StoreError> {
    let sql = format!(
        "select {CONVERSATION_COLUMNS} from conversations
         where customer_id = $1
           and (status = 'escalated'
                or (status <> 'resolved' and last_message_at > now() - make_interval(secs => $2)))
         order by status = 'escalated' desc, last_message_at desc limit 1
         for update"
    );
    let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(customer_id)
        .bind(window_secs as f64)
        .fetch_optional(executor)
        .await?;
    Ok(row)
}

/// Whether any conversation of the customer is escalated: a person owns
/// the case, so the bot stays silent on every channel.
pub async fn has_escalated(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> Result<bool, StoreError> {
    let escalated = sqlx::query_scalar(
        "select exists(select 1 from conversations where customer_id = $1 and status = 'escalated')",
    )
    .bind(customer_id)
    .fetch_one(executor)
    .await?;
    Ok(escalated)
}

/// Starts a conversation on `channel`.
pub async fn start_conversation(
    executor: impl PgExecutor<'_>,
    customer_id: Uuid,
    channel: &str,
) -> Result<ConversationRow, StoreError> {
    let sql = format!(
        "insert into conversations (customer_id, initial_channel, current_channel)
         values ($1, $2, $2) returning {CONVERSATION_COLUMNS}"
    );
    let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(customer_id)
        .bind(channel)
        .fetch_one(executor)
        .await?;
    Ok(row)
}

/// One conversation.
pub async fn conversation(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<ConversationRow>, StoreError> {
    let sql = format!("select {CONVERSATION_COLUMNS} from conversations where id = $1");
    let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(executor)
        .await?;
    Ok(row)
}

/// One conversation, locked for update.
pub async fn conversation_for_update(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<ConversationRow>, StoreError> {
    let sql = format!("select {CONVERSATION_COLUMNS} from conversations where id = $1 for update");
    let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(executor)
        .await?;
    Ok(row)
}

/// Records an inbound message on `channel`: the current channel moves there
/// and `last_message_at` moves forward (never back).
pub async fn touch(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    channel: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update conversations set current_channel = $2,
             last_message_at = greatest(last_message_at, now()), updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(channel)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records that the conversation moved from one channel to another.
pub async fn record_switch(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    from: &str,
    to: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into conversation_channel_switches (conversation_id, from_channel, to_channel)
         values ($1, $2, $3)",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .execute(executor)
    .await?;
    Ok(())
}

/// Every switch of a conversation as `(from, to)`, oldest first.
pub async fn switches(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query_as(
        "select from_channel, to_channel from conversation_channel_switches
         where conversation_id = $1 order by created_at, id",
    )
    .bind(id)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// Moves the conversation from `from` to `to`; `resolution_type` and
/// `ended_at` are set when `to` is `resolved`. Returns whether it moved.
pub async fn set_status(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    from: &str,
    to: &str,
    resolution_type: Option<&str>,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update conversations set status = $3,
             resolution_type = coalesce($4, resolution_type),
             ended_at = case when $3 = 'resolved' then now() else ended_at end,
             updated_at = now()
         where id = $1 and status = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(resolution_type)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Stores the latest sentiment (clamped to -1..1).
pub async fn set_sentiment(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    sentiment: f64,
) -> Result<(), StoreError> {
    sqlx::query(
        "update conversations set sentiment_score = round($2::numeric, 2), updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(sentiment.clamp(-1.0, 1.0))
    .execute(executor)
    .await?;
    Ok(())
}

/// Sets (`Some`) or removes (`None`) one key of the conversation metadata.
pub async fn set_metadata(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    key: &str,
    value: Option<serde_json::Value>,
) -> Result<(), StoreError> {
    sqlx::query(
        "update conversations set metadata = case when $3::jsonb is null then metadata - $2
             else metadata || jsonb_build_object($2::text, $3::jsonb) end,
             updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(key)
    .bind(value)
    .execute(executor)
    .await?;
    Ok(())
}

/// A ticket as the worker needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TicketRow {
    /// Id.
    pub id: Uuid,
    /// The conversation, once attached.
    pub conversation_id: Option<Uuid>,
    /// The customer, once known.
    pub customer_id: Option<Uuid>,
    /// `open`, `processing`, `resolved` or `escalated`.
    pub status: String,
}

/// One ticket, locked for update.
pub async fn ticket_for_update(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<TicketRow>, StoreError> {
    let row = sqlx::query_as(
        "select id, conversation_id, customer_id, status from tickets where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// The newest ticket of a conversation that is not resolved, locked.
pub async fn unresolved_ticket(
    executor: impl PgExecutor<'_>,
    conversation_id: Uuid,
) -> Result<Option<TicketRow>, StoreError> {
    let row = sqlx::query_as(
        "select id, conversation_id, customer_id, status from tickets
         where conversation_id = $1 and status <> 'resolved'
         order by created_at desc limit 1 for update",
    )
    .bind(conversation_id)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// What a new ticket is made of.
#[derive(Clone, Debug)]
pub struct NewTicket<'a> {
    /// The id to use (the gateway's, when it announced one).
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// Where it came from.
    pub source_channel: &'a str,
    /// Subject, if any.
    pub subject: Option<&'a str>,
    /// Category spelling, if known.
    pub category: Option<&'a str>,
    /// Priority spelling.
    pub priority: &'a str,
}

/// Creates an `open` ticket (or keeps an existing one with the same id) and
/// attaches it to the conversation and customer where it had none.
pub async fn ensure_ticket(
    conn: &mut sqlx::PgConnection,
    ticket: &NewTicket<'_>,
) -> Result<TicketRow, StoreError> {
    // The upsert locks the row it returns, as `for update` would: a new
    // row is this transaction's own, an existing one is updated.
    let row = sqlx::query_as(
        "insert into tickets (id, conversation_id, customer_id, source_channel, subject, category, priority)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (id) do update set
             conversation_id = coalesce(tickets.conversation_id, excluded.conversation_id),
             customer_id = coalesce(tickets.customer_id, excluded.customer_id),
             updated_at = now()
         returning id, conversation_id, customer_id, status",
    )
    .bind(ticket.id)
    .bind(ticket.conversation_id)
    .bind(ticket.customer_id)
    .bind(ticket.source_channel)
    .bind(ticket.subject)
    .bind(ticket.category)
    .bind(ticket.priority)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row)
}

/// Moves a ticket from `from` to `to`, stamping `resolved_at` or
/// `escalated_at`. Returns whether it moved.
pub async fn set_ticket_status(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    from: &str,
    to: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update tickets set status = $3,
             resolved_at = case when $3 = 'resolved' then now() else resolved_at end,
             escalated_at = case when $3 = 'escalated' then now() else escalated_at end,
             updated_at = now()
         where id = $1 and status = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets the ticket's category when it has none.
pub async fn set_ticket_category(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    category: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update tickets set category = coalesce(category, $2), updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(category)
    .execute(executor)
    .await?;
    Ok(())
}

/// Sets the ticket's priority (a staff member's call).
pub async fn set_ticket_priority(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    priority: &str,
) -> Result<(), StoreError> {
    sqlx::query("update tickets set priority = $2, updated_at = now() where id = $1")
        .bind(id)
        .bind(priority)
        .execute(executor)
        .await?;
    Ok(())
}

/// An escalation to record.
#[derive(Clone, Debug)]
pub struct NewEscalation<'a> {
    /// The ticket (one escalation per ticket).
    pub ticket_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// The channel it happened on.
    pub channel: &'a str,
    /// The reason spelling.
    pub reason: &'a str,
    /// Summary, customer, channel and reason for staff.
    pub full_context: serde_json::Value,
    /// When a person should have answered.
    pub expected_response_by: Option<DateTime<Utc>>,
}

/// Records an escalation; returns its id, or `None` when the ticket already
/// had one.
pub async fn insert_escalation(
    executor: impl PgExecutor<'_>,
    escalation: &NewEscalation<'_>,
) -> Result<Option<Uuid>, StoreError> {
    let id = sqlx::query_scalar(
        "insert into escalations (ticket_id, conversation_id, customer_id, channel, reason,
             full_context, expected_response_by)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (ticket_id) do nothing
         returning id",
    )
    .bind(escalation.ticket_id)
    .bind(escalation.conversation_id)
    .bind(escalation.customer_id)
    .bind(escalation.channel)
    .bind(escalation.reason)
    .bind(&escalation.full_context)
    .bind(escalation.expected_response_by)
    .fetch_optional(executor)
    .await?;
    Ok(id)
}
