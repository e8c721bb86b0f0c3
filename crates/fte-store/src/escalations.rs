//! The human handoff: the staff queue of escalations, assigning and
//! resolving them, the facts a staff reply needs to reach the customer on
//! their current channel, and the overdue count per channel.
//!
//! The worker raises escalations (`conversations::insert_escalation`); this
//! module is what staff do with them. Resolving closes the escalation, its
//! ticket and its conversation in one transaction (the conversation state
//! machine goes escalated → resolved, never back to active): the customer's
//! next message starts a fresh conversation that the bot answers, with the
//! whole history still in the customer's memory.
//!
//! An escalation is *overdue* while it is unresolved and its
//! `expected_response_by` (set by the worker from the plan's promised human
//! response time) has passed.

use chrono::{DateTime, Utc};
use fte_domain::Channel;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// Which escalations a listing returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Raised and not yet taken by anyone.
    Pending,
    /// Taken by a staff member, not resolved.
    Assigned,
    /// Closed.
    Resolved,
    /// Pending or assigned: everything still waiting for a person.
    Open,
}

impl StatusFilter {
    /// Parses `pending`, `assigned`, `resolved` or `open`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "assigned" => Some(Self::Assigned),
            "resolved" => Some(Self::Resolved),
            "open" => Some(Self::Open),
            _ => None,
        }
    }

    fn statuses(self) -> &'static [&'static str] {
        match self {
            Self::Pending => &["pending"],
            Self::Assigned => &["assigned"],
            Self::Resolved => &["resolved"],
            Self::Open => &["pending", "assigned"],
        }
    }
}

/// One escalation as staff see it, with the customer's display fields.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EscalationView {
    /// Escalation id.
    pub id: Uuid,
    /// The escalated ticket.
    pub ticket_id: Uuid,
    /// The conversation the customer is waiting in.
    pub conversation_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// Where the customer wrote when it was escalated.
    pub channel: String,
    /// The escalation rule that fired.
    pub reason: String,
    /// pending, assigned or resolved.
    pub status: String,
    /// The staff member who took it.
    pub assigned_to: Option<String>,
    /// Summary, customer, channel and reason, as the worker recorded them.
    pub full_context: serde_json::Value,
    /// When a person promised to answer by.
    pub expected_response_by: Option<DateTime<Utc>>,
    /// What staff wrote when closing it.
    pub resolution_notes: Option<String>,
    /// The staff member who closed it.
    pub resolved_by: Option<String>,
    /// Raised.
    pub created_at: DateTime<Utc>,
    /// Taken.
    pub assigned_at: Option<DateTime<Utc>>,
    /// Closed.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The customer's name, when known.
    pub customer_name: Option<String>,
    /// The customer's primary email, when known.
    pub customer_email: Option<String>,
    /// The customer's primary phone, when known.
    pub customer_phone: Option<String>,
    /// The customer's plan tier, when known.
    pub customer_plan: Option<String>,
    /// Seconds the customer has waited (until resolution, once resolved).
    pub wait_secs: i64,
    /// Unresolved and past `expected_response_by`.
    pub overdue: bool,
}

/// One page of a listing.
#[derive(Clone, Debug)]
pub struct EscalationPage {
    /// The escalations of this page, oldest first.
    pub items: Vec<EscalationView>,
    /// How many match the filter in all.
    pub total: i64,
}

/// Why a staff action on an escalation was refused.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// No escalation (or conversation) has this id.
    #[error("not found")]
    NotFound,
    /// The escalation is already resolved.
    #[error("the escalation is already resolved")]
    AlreadyResolved,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for HandoffError {
    fn from(error: sqlx::Error) -> Self {
        HandoffError::Store(StoreError::Database(error))
    }
}

const VIEW_COLUMNS: &str =
    "e.id, e.ticket_id, e.conversation_id, e.customer_id, e.channel, e.reason,
    e.status, e.assigned_to, e.full_context, e.expected_response_by, e.resolution_notes,
    e.resolved_by, e.created_at, e.assigned_at, e.resolved_at,
    c.name as customer_name, c.email as customer_email, c.phone as customer_phone,
    c.plan as customer_plan,
    floor(extract(epoch from coalesce(e.resolved_at, now()) - e.created_at))::int8 as wait_secs,
    (e.status <> 'resolved' and e.expected_response_by is not null
        and e.expected_response_by < now()) as overdue";

/// Escalations with a status in `filter`, oldest first, `limit` from
/// `offset`, and how many match in all.
pub async fn list(
    conn: &mut PgConnection,
    filter: StatusFilter,
    limit: i64,
    offset: i64,
) -> Result<EscalationPage, StoreError> {
    let statuses = filter.statuses();
    let total: i64 =
        sqlx::query_scalar("select count(*) from escalations where status = any($1::text[])")
            .bind(statuses)
            .fetch_one(&mut *conn)
            .await?;
    let sql = format!(
        "select {VIEW_COLUMNS}
         from escalations e join customers c on c.id = e.customer_id
         where e.status = any($1::text[])
         order by e.created_at, e.id
         limit $2 offset $3"
    );
    let items = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(statuses)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    Ok(EscalationPage { items, total })
}

/// One escalation with its customer's display fields.
pub async fn escalation(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<EscalationView>, StoreError> {
    let sql = format!(
        "select {VIEW_COLUMNS}
         from escalations e join customers c on c.id = e.customer_id
         where e.id = $1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(executor)
        .await?)
}

/// Locks the escalation and returns its status, or `NotFound`.
async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<String, HandoffError> {
    let status: Option<String> =
        sqlx::query_scalar("select status from escalations where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    status.ok_or(HandoffError::NotFound)
}

/// Gives the escalation to `staff` (taking it over from whoever had it) and
/// records who handles the conversation. Refused once resolved.
pub async fn assign(
    conn: &mut PgConnection,
    id: Uuid,
    staff: &str,
) -> Result<EscalationView, HandoffError> {
    if lock(conn, id).await? == "resolved" {
        return Err(HandoffError::AlreadyResolved);
    }
    let conversation_id: Uuid = sqlx::query_scalar(
        "update escalations set status = 'assigned', assigned_to = $2, assigned_at = now(),
             updated_at = now()
         where id = $1
         returning conversation_id",
    )
    .bind(id)
    .bind(staff)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("update conversations set escalated_to = $2, updated_at = now() where id = $1")
        .bind(conversation_id)
        .bind(staff)
        .execute(&mut *conn)
        .await?;
    escalation(&mut *conn, id)
        .await?
        .ok_or(HandoffError::NotFound)
}

/// Closes the escalation (notes, who, when), resolves its ticket with the
/// same notes, and resolves its conversation as resolved by a human — all in
/// the caller's transaction. Refused when already resolved.
pub async fn resolve(
    conn: &mut PgConnection,
    id: Uuid,
    staff: &str,
    notes: &str,
) -> Result<EscalationView, HandoffError> {
    if lock(conn, id).await? == "resolved" {
        return Err(HandoffError::AlreadyResolved);
    }
    let (ticket_id, conversation_id): (Uuid, Uuid) = sqlx::query_as(
        "update escalations set status = 'resolved', resolution_notes = $2, resolved_by = $3,
             resolved_at = now(), updated_at = now()
         where id = $1
         returning ticket_id, conversation_id",
    )
    .bind(id)
    .bind(notes)
    .bind(staff)
    .fetch_one(&mut *conn)
    .await?;
    // The ticket state machine allows escalated → resolved (and a ticket
    // still processing may be resolved too); a resolved one stays as it is.
    sqlx::query(
        "update tickets set status = 'resolved', resolution_notes = $2, resolved_at = now(),
             updated_at = now()
         where id = $1 and status in ('escalated', 'processing')",
    )
    .bind(ticket_id)
    .bind(notes)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update conversations set status = 'resolved', resolution_type = 'human',
             ended_at = now(), updated_at = now()
         where id = $1 and status <> 'resolved'",
    )
    .bind(conversation_id)
    .execute(&mut *conn)
    .await?;
    escalation(&mut *conn, id)
        .await?
        .ok_or(HandoffError::NotFound)
}

/// Everything a staff reply needs to reach the customer where they are.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReplyTarget {
    /// The conversation.
    pub conversation_id: Uuid,
    /// active, escalated or resolved.
    pub status: String,
    /// The channel of the customer's latest message: the reply goes there.
    pub current_channel: String,
    /// The customer.
    pub customer_id: Uuid,
    /// The customer's name (for the greeting), when known.
    pub customer_name: Option<String>,
    /// The customer's email (primary, else any email identifier).
    pub email: Option<String>,
    /// The customer's phone (primary, else any phone identifier).
    pub phone: Option<String>,
    /// The conversation's newest unresolved ticket, else its newest ticket.
    pub ticket_id: Option<Uuid>,
    /// That ticket's subject.
    pub subject: Option<String>,
    /// When the customer last wrote on the current channel.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// That message's channel metadata (Gmail thread ids for email).
    pub last_inbound_metadata: Option<serde_json::Value>,
}

/// Locks the conversation (so the worker cannot change it under the reply)
/// and reads what a staff reply needs; `None` for an unknown id.
pub async fn reply_target(
    conn: &mut PgConnection,
    conversation_id: Uuid,
) -> Result<Option<ReplyTarget>, StoreError> {
    let locked: Option<Uuid> =
        sqlx::query_scalar("select id from conversations where id = $1 for update")
            .bind(conversation_id)
            .fetch_optional(&mut *conn)
            .await?;
    if locked.is_none() {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "select v.id as conversation_id, v.status, v.current_channel, v.customer_id,
                c.name as customer_name,
                coalesce(c.email, (select i.identifier_value from customer_identifiers i
                    where i.customer_id = c.id and i.identifier_type = 'email'
                    order by i.created_at limit 1)) as email,
                coalesce(c.phone, (select i.identifier_value from customer_identifiers i
                    where i.customer_id = c.id and i.identifier_type in ('phone', 'whatsapp')
                    order by i.created_at limit 1)) as phone,
                t.id as ticket_id, t.subject,
                m.created_at as last_inbound_at, m.metadata as last_inbound_metadata
         from conversations v
         join customers c on c.id = v.customer_id
         left join lateral (select id, subject from tickets
                            where conversation_id = v.id
                            order by (status = 'resolved'), created_at desc limit 1) t on true
         left join lateral (select created_at, metadata from messages
                            where conversation_id = v.id and direction = 'inbound'
                              and channel = v.current_channel
                            order by created_at desc limit 1) m on true
         where v.id = $1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A reply written by a staff member.
#[derive(Clone, Debug)]
pub struct NewStaffReply<'a> {
    /// The message id (the caller's, so it can key the delivery).
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The channel it goes out on.
    pub channel: &'a str,
    /// Who wrote it (stored as the message's author).
    pub staff: &'a str,
    /// The text as delivered (parts joined by blank lines).
    pub content: &'a str,
    /// How many channel messages it was split into.
    pub parts: usize,
}

/// Stores a staff reply as an outbound `agent` message with its author. The
/// caller enqueues its delivery in the same transaction.
pub async fn insert_staff_reply(
    executor: impl PgExecutor<'_>,
    reply: &NewStaffReply<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into messages (id, conversation_id, channel, direction, role, content, author,
             metadata, created_at, updated_at)
         values ($1, $2, $3, 'outbound', 'agent', $4, $5, $6, clock_timestamp(), clock_timestamp())",
    )
    .bind(reply.id)
    .bind(reply.conversation_id)
    .bind(reply.channel)
    .bind(reply.content)
    .bind(reply.staff)
    .bind(serde_json::json!({ "staff": reply.staff, "parts": reply.parts }))
    .execute(executor)
    .await?;
    Ok(())
}

/// Unresolved escalations past their promised response time, per channel
/// (zero for a channel without any), in [`Channel::ALL`] order.
pub async fn overdue_by_channel(
    executor: impl PgExecutor<'_>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    Ok(sqlx::query_as(
        "select c.channel,
                (select count(*) from escalations e
                 where e.channel = c.channel and e.status <> 'resolved'
                   and e.expected_response_by < now()) as overdue
         from unnest($1::text[]) with ordinality as c(channel, position)
         order by c.position",
    )
    .bind(names)
    .fetch_all(executor)
    .await?)
}
