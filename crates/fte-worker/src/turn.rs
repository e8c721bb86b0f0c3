//! Phase 2 of a message: the agent's turn, outside any transaction. The
//! context is read from the database on the pool (each read takes a
//! connection only for its own query), then the agent thinks for as long as
//! it needs — up to `AGENT_TIME_BUDGET_MS` with a model — holding no
//! connection and no lock.
//!
//! [`agent_request`] is the one place where what the agent sees is put
//! together, under the disclosure rules ([`disclosure`](crate::disclosure)):
//! a claimed sender's request holds only what that sender may see. The
//! sender's deferred messages of the conversation not yet answered (they
//! went over the rate limit) are folded into the message, in the order they
//! were written, so that one answer covers them all.

use std::collections::HashSet;

use chrono::Utc;
use fte_domain::{Channel, ConversationId, CustomerId, TicketId, Trust};
use fte_store::messages::{self, ConversationDigest, PendingInbound};
use fte_store::web_threads;
use uuid::Uuid;

use crate::HandleError;
use crate::accept::Turn;
use crate::agent::{AgentOutcome, AgentRequest, HistoryEntry, HistoryRole};
use crate::context::WorkerContext;
use crate::disclosure::{Audience, Disclosure, Earlier, split_history};
use crate::identity::Sender;

/// What the agent answered, the deferred messages the answer covers, and
/// what the answer may disclose.
pub(crate) struct Thought {
    /// The agent's outcome.
    pub(crate) outcome: AgentOutcome,
    /// Deferred messages of the conversation folded into this turn (the
    /// message itself excluded).
    pub(crate) covers: Vec<Uuid>,
    /// What the reply may reveal to its recipient.
    pub(crate) disclosure: Disclosure,
}

/// Reads the turn's context and asks the agent.
pub(crate) async fn think(ctx: &WorkerContext, turn: &Turn) -> Result<Thought, HandleError> {
    let (request, covers, disclosure) = agent_request(ctx, turn).await?;
    let outcome = ctx.agent.respond(&request).await?;
    Ok(Thought {
        outcome,
        covers,
        disclosure,
    })
}

/// How far back the history reaches: conversations beyond the latest
/// messages are summarised up to this many days back.
pub const HISTORY_REACH_DAYS: i64 = 90;
/// Earlier conversations summarised at most.
const MAX_DIGESTS: i64 = 10;
/// Words of a conversation's opening message kept in its summary.
const SUMMARY_WORDS: usize = 30;

/// An earlier conversation as one history entry.
fn summary(digest: ConversationDigest) -> Option<Earlier> {
    let channel: Channel = digest.channel.parse().ok()?;
    let opening = digest
        .opening
        .as_deref()
        .map(|text| {
            let words: Vec<&str> = text.split_whitespace().take(SUMMARY_WORDS).collect();
            format!("; the customer opened with: \"{}\"", words.join(" "))
        })
        .unwrap_or_default();
    Some(Earlier {
        id: digest.conversation_id,
        entry: HistoryEntry {
            role: HistoryRole::Summary,
            channel,
            content: format!(
                "Earlier conversation on {channel} from {} to {}, {} messages{opening}",
                digest.started_at.format("%-d %B %Y"),
                digest.last_at.format("%-d %B %Y"),
                digest.messages,
            ),
            created_at: digest.last_at,
        },
    })
}

/// Whether a deferred message was sent under the same rate-limit key as
/// the message answered now, so that one answer to this sender may cover
/// it: the customer's verified messages for a verified sender, the claimed
/// messages through the same identifier for a claimed one.
fn same_sender(pending: &PendingInbound, sender: &Sender) -> bool {
    let trust = pending.sender_trust.as_deref();
    if sender.is_verified() {
        trust == Some(Trust::Verified.as_str())
    } else {
        trust == Some(Trust::Claimed.as_str())
            && sender.identifier_id.is_some()
            && pending.sender_identifier_id == sender.identifier_id
    }
}

/// What the agent is asked: the message (with the sender's deferred
/// messages of the conversation folded in), the customer and ticket it
/// belongs to, and the customer's latest messages on every channel (oldest
/// first, at most `WORKER_HISTORY_LIMIT`, the messages answered now left
/// out; when there are more, the conversations before them up to
/// [`HISTORY_REACH_DAYS`] back as one summary each) as far as the reply's audience may see them
/// ([`disclosure`](crate::disclosure)). Also returns the ids of the
/// deferred messages folded in and the disclosure that guards the reply.
pub(crate) async fn agent_request(
    ctx: &WorkerContext,
    turn: &Turn,
) -> Result<(AgentRequest, Vec<Uuid>, Disclosure), HandleError> {
    let audience = Audience::of(&turn.sender);
    let deferred: Vec<PendingInbound> = messages::deferred_pending(&ctx.pool, turn.conversation_id)
        .await?
        .into_iter()
        .filter(|m| m.id == turn.message_id || same_sender(m, &turn.sender))
        .collect();
    let covers: Vec<Uuid> = deferred
        .iter()
        .map(|m| m.id)
        .filter(|id| *id != turn.message_id)
        .collect();
    let message = if covers.is_empty() {
        turn.message.content.clone()
    } else {
        let mut texts: Vec<&str> = deferred
            .iter()
            .map(|m| {
                if m.id == turn.message_id {
                    turn.message.content.as_str()
                } else {
                    m.content.as_str()
                }
            })
            .collect();
        if !deferred.iter().any(|m| m.id == turn.message_id) {
            texts.push(&turn.message.content);
        }
        texts.join("\n\n")
    };
    let mut answered = covers.clone();
    answered.push(turn.message_id);
    let mut earlier: Vec<Earlier> = messages::customer_history(
        &ctx.pool,
        turn.customer.id,
        &answered,
        ctx.config.history_limit,
    )
    .await?
    .into_iter()
    .filter_map(|row| {
        Some(Earlier {
            id: row.id,
            entry: HistoryEntry {
                role: if row.direction == "inbound" {
                    HistoryRole::Customer
                } else {
                    HistoryRole::Agent
                },
                channel: row.channel.parse().ok()?,
                content: row.content,
                created_at: row.created_at,
            },
        })
    })
    .collect();
    if earlier.len() as i64 >= ctx.config.history_limit
        && let Some(oldest) = earlier.first().map(|e| e.entry.created_at)
    {
        let since = Utc::now() - chrono::Duration::days(HISTORY_REACH_DAYS);
        let digests =
            messages::conversation_digests(&ctx.pool, turn.customer.id, since, oldest, MAX_DIGESTS)
                .await?;
        let summaries: Vec<Earlier> = digests.into_iter().filter_map(summary).collect();
        earlier.splice(0..0, summaries);
    }
    // A submitter may see their own ticket's web form thread (what the
    // status page already shows them), nothing else.
    let own: HashSet<Uuid> =
        if audience == Audience::Submitter && turn.message.channel == Channel::WebForm {
            web_threads::thread_messages(&ctx.pool, turn.ticket_id)
                .await?
                .into_iter()
                .map(|m| m.id)
                .collect()
        } else {
            HashSet::new()
        };
    let mut written = vec![message.as_str()];
    written.extend(turn.message.subject.as_deref());
    let (history, disclosure) = split_history(audience, earlier, &own, &written);
    let reply = turn.reply_to();
    // The plan is the customer's account detail: a submitter's request
    // goes without it (the default response promise applies).
    let plan = match audience {
        Audience::Owner => turn.customer.plan.clone(),
        Audience::Submitter => None,
    };
    let request = AgentRequest {
        customer_id: CustomerId(turn.customer.id),
        conversation_id: ConversationId(turn.conversation_id),
        ticket_id: TicketId(turn.ticket_id),
        channel: turn.message.channel,
        customer_first_name: reply.first_name(),
        human_response_hours: ctx.config.response_hours.for_plan(plan.as_deref()),
        plan,
        subject: turn.message.subject.clone(),
        message,
        history,
    };
    Ok((request, covers, disclosure))
}
