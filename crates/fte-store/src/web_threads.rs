//! The web form's conversation view: a ticket's access key, its thread
//! (only the web form messages of that ticket), follow-up messages the
//! customer writes into it, and the queue figures behind the response
//! estimate.
//!
//! A web ticket's messages are its customer messages (`messages.ticket_id`,
//! set by the worker as it stores them, or by the gateway for a follow-up
//! into a ticket the worker has taken) and the replies queued for it
//! (`reply_outbox.ticket_id`, set by the worker and the staff reply).
//! Messages that another channel added to the same conversation are never
//! part of the thread.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// The access key of a new web ticket (its sha256 only), the sender the
/// submission carried, and its message until the worker stores it.
#[derive(Clone, Debug)]
pub struct NewWebAccess<'a> {
    /// The ticket.
    pub ticket_id: Uuid,
    /// sha256 of the access key handed to the submitter.
    pub access_key_hash: [u8; 32],
    /// The inbound event's sender object.
    pub sender: serde_json::Value,
    /// The id the worker will store the message with.
    pub message_id: Uuid,
    /// The message (trimmed).
    pub message: &'a str,
}

/// Stores the access rows of a batch of new web tickets, in the transaction
/// that created them.
pub async fn insert_access(
    conn: &mut PgConnection,
    rows: &[NewWebAccess<'_>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.ticket_id).collect();
    let hashes: Vec<Vec<u8>> = rows.iter().map(|r| r.access_key_hash.to_vec()).collect();
    let senders: Vec<&serde_json::Value> = rows.iter().map(|r| &r.sender).collect();
    let message_ids: Vec<Uuid> = rows.iter().map(|r| r.message_id).collect();
    let messages: Vec<&str> = rows.iter().map(|r| r.message).collect();
    sqlx::query(
        "insert into web_ticket_access (ticket_id, access_key_hash, sender, first_message_id,
                                        first_message)
         select * from unnest($1::uuid[], $2::bytea[], $3::jsonb[], $4::uuid[], $5::text[])",
    )
    .bind(&ids)
    .bind(&hashes)
    .bind(&senders)
    .bind(&message_ids)
    .bind(&messages)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A ticket as its status page and thread need it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ThreadTicket {
    /// Ticket id.
    pub id: Uuid,
    /// The plan's state: open, processing, resolved or escalated.
    pub status: String,
    /// Its conversation, once known.
    pub conversation_id: Option<Uuid>,
    /// Its customer, once known.
    pub customer_id: Option<Uuid>,
    /// The subject the ticket was opened with.
    pub subject: Option<String>,
    /// Where the ticket was opened.
    pub source_channel: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change of the ticket row.
    pub updated_at: DateTime<Utc>,
    /// sha256 of the access key (web form tickets only).
    pub access_key_hash: Option<Vec<u8>>,
    /// The sender the submission carried (web form tickets only).
    pub sender: Option<serde_json::Value>,
    /// When a person promised to answer, while an escalation is open.
    pub expected_response_by: Option<DateTime<Utc>>,
}

const TICKET_QUERY: &str = "select t.id, t.status, t.conversation_id, t.customer_id, t.subject,
        t.source_channel, t.created_at, t.updated_at, a.access_key_hash, a.sender,
        (select e.expected_response_by from escalations e
         where e.ticket_id = t.id and e.status <> 'resolved') as expected_response_by
     from tickets t left join web_ticket_access a on a.ticket_id = t.id
     where t.id = $1";

/// The ticket `id` with its access row, or `None`.
pub async fn ticket(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<ThreadTicket>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(TICKET_QUERY))
        .bind(id)
        .fetch_optional(executor)
        .await?)
}

/// The ticket `id`, its row locked until the transaction ends (a follow-up
/// and a state change never interleave).
pub async fn ticket_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ThreadTicket>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TICKET_QUERY} for update of t"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// One message of a ticket's thread.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ThreadMessage {
    /// Message id.
    pub id: Uuid,
    /// customer, agent or system.
    pub role: String,
    /// inbound or outbound.
    pub direction: String,
    /// The text.
    pub content: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// The web form messages of ticket `id`, oldest first: the customer's and
/// the replies queued for this ticket, never another channel's or another
/// ticket's. Until the worker has stored the submission's message, the
/// access row's copy stands in for it (under the same id).
pub async fn thread_messages(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Vec<ThreadMessage>, StoreError> {
    Ok(sqlx::query_as(
        "select a.first_message_id as id, 'customer' as role, 'inbound' as direction,
                a.first_message as content, a.created_at
         from web_ticket_access a
         where a.ticket_id = $1 and a.first_message is not null
         union
         select m.id, m.role, m.direction, m.content, m.created_at
         from messages m
         where m.ticket_id = $1 and m.channel = 'web_form'
         union
         select m.id, m.role, m.direction, m.content, m.created_at
         from reply_outbox r join messages m on m.id = r.message_id
         where r.ticket_id = $1 and m.channel = 'web_form'
         order by created_at, id",
    )
    .bind(id)
    .fetch_all(executor)
    .await?)
}

/// The worker has stored message `message_id` of ticket `id`: when it is
/// the submission's own, the access row's copy is dropped, so the text is
/// kept in one place. Run it in the transaction that stores the message.
pub async fn message_stored(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    message_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "update web_ticket_access set first_message = null, updated_at = now()
         where ticket_id = $1 and first_message_id = $2 and first_message is not null",
    )
    .bind(id)
    .bind(message_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A customer's follow-up message in a ticket's thread.
#[derive(Clone, Debug)]
pub struct NewFollowUp<'a> {
    /// The new message's id (also its channel message id, the worker's
    /// idempotency key).
    pub id: Uuid,
    /// The ticket's conversation.
    pub conversation_id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// The text (trimmed).
    pub content: &'a str,
}

/// Stores a follow-up as an unprocessed inbound web form message (the
/// worker adopts it, as it adopts any message stored before it handled
/// it). Run it in the transaction that enqueues its event.
pub async fn insert_follow_up(
    executor: impl PgExecutor<'_>,
    message: &NewFollowUp<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into messages (id, conversation_id, ticket_id, channel, direction, role, content,
                               channel_message_id, delivery_status)
         values ($1, $2, $3, 'web_form', 'inbound', 'customer', $4, $5, 'received')",
    )
    .bind(message.id)
    .bind(message.conversation_id)
    .bind(message.ticket_id)
    .bind(message.content)
    .bind(message.id.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

/// Backlog counted at most this far: beyond it every estimate is "more
/// than a day" anyway.
pub const BACKLOG_COUNT_CAP: i64 = 100_000;
/// Newest web tickets whose first reply times the typical wait.
pub const WAIT_SAMPLE: i64 = 500;

/// What the response estimate is computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct QueueFigures {
    /// Tickets waiting for the worker (status `open`), counted up to
    /// [`BACKLOG_COUNT_CAP`].
    pub backlog: i64,
    /// Replies the bot sent in the last ten minutes (its recent throughput).
    pub recent_replies: i64,
    /// Median seconds from a web ticket's creation to its first reply, over
    /// the newest [`WAIT_SAMPLE`] web tickets of the last 30 minutes that
    /// have one.
    pub recent_wait_secs: Option<f64>,
}

/// The current queue: backlog, recent throughput and recent waits. Each part
/// reads a bounded number of index entries, so its cost does not grow with
/// the history (unbounded, it took 210 ms once 200,000 tickets had come in
/// within the half hour).
pub async fn queue_figures(pool: &PgPool) -> Result<QueueFigures, StoreError> {
    Ok(sqlx::query_as(
        "select
             (select count(*) from (select 1 from tickets where status = 'open' limit $1) o)
                 as backlog,
             (select count(*) from messages
              where direction = 'outbound' and role = 'agent' and author is null
                and created_at > now() - interval '10 minutes') as recent_replies,
             (select percentile_cont(0.5) within group (order by w.secs)
              from (select extract(epoch from (
                               (select min(r.created_at) from reply_outbox r
                                where r.ticket_id = t.id) - t.created_at))::float8 as secs
                    from tickets t
                    where t.source_channel = 'web_form'
                      and t.created_at > now() - interval '30 minutes'
                    order by t.created_at desc
                    limit $2) w
              where w.secs is not null) as recent_wait_secs",
    )
    .bind(BACKLOG_COUNT_CAP)
    .bind(WAIT_SAMPLE)
    .fetch_one(pool)
    .await?)
}
