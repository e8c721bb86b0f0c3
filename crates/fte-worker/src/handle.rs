//! [`handle_event`]: the one step that turns an inbound message into stored
//! rows and queued replies.
//!
//! The story of a message, in three phases so that no transaction waits on
//! the agent:
//!
//! 1. one short transaction ([`accept`](crate::accept)) refuses what can
//!    never be processed (the message is first [sanitised]: NUL characters
//!    removed, subject and name cut to their columns), deduplicates on the
//!    channel's own id, resolves the
//!    customer, continues or starts the conversation, stores the message,
//!    takes its ticket to `processing` and settles what needs no agent (an
//!    escalated conversation's acknowledgement, the rate limit's deferral,
//!    WhatsApp "MORE");
//! 2. the agent answers outside any transaction, on a context read from the
//!    database ([`turn`](crate::turn));
//! 3. one short transaction writes the outcome, idempotent on the inbound
//!    message id ([`finish`](crate::finish)).
//!
//! A redelivery after phase 1 committed but before phase 3 finds the message
//! stored and not handled, and runs the agent again: exactly one reply is
//! written. A redelivery after phase 3 is a [`Outcome::Duplicate`].
//! Publishing happens after each commit, from the event outbox.
//!
//! [sanitised]: fte_domain::InboundMessage::sanitised

use std::time::Instant;

use fte_domain::{Channel, EVENT_SCHEMA_VERSION, EventEnvelope, InboundMessage};

use crate::HandleError;
use crate::accept::{Accepted, accept};
use crate::agent::AgentOutcome;
use crate::context::WorkerContext;
use crate::finish::{Finished, finish};
use crate::identity::Identity;
use crate::outcome::{Action, Handled, Outcome};
use crate::turn::think;

/// Handles one inbound message event. Idempotent: a redelivered event
/// returns [`Outcome::Duplicate`] once its outcome is written and changes
/// nothing. No transaction is open while the agent thinks; events are
/// published after each commit.
pub async fn handle_event(
    ctx: &WorkerContext,
    event: &EventEnvelope<InboundMessage>,
) -> Result<Outcome, HandleError> {
    if event.schema_version != EVENT_SCHEMA_VERSION {
        return Err(HandleError::UnsupportedVersion(event.schema_version));
    }
    // Every edge sanitises; a message from an older or foreign producer is
    // sanitised again here, so nothing the database must refuse reaches it.
    let message = event.payload.clone().sanitised();
    if let Some(problem) = fte_domain::text::channel_message_id_problem(&message.channel_message_id)
    {
        return Err(HandleError::Invalid(problem));
    }
    let identity = Identity::of(&message.sender)?;
    let started = Instant::now();
    let channel = message.channel;

    let accepted = accept_retrying_conflicts(ctx, message, identity).await?;
    let mut phases = Phases {
        accept: started.elapsed(),
        ..Phases::default()
    };
    let (handled, agent) = match accepted {
        Accepted::Duplicate => return Ok(duplicate(channel)),
        Accepted::Settled(handled) => (handled, None),
        Accepted::Agent(turn) => {
            let thinking = Instant::now();
            let thought = think(ctx, &turn).await?;
            phases.agent = thinking.elapsed();
            let finishing = Instant::now();
            let finished = finish(ctx, &turn, &thought).await?;
            phases.finish = finishing.elapsed();
            match finished {
                Finished::Duplicate => return Ok(duplicate(channel)),
                Finished::Done(action) => (turn.handled(action), Some(thought.outcome)),
            }
        }
    };
    record(channel, &handled, agent.as_ref(), started, phases);
    ctx.config.replies_due.raise();
    crate::events::relay_soon(&ctx.pool, ctx.events.as_ref()).await;
    Ok(Outcome::Handled(handled))
}

/// Tries the acceptance transaction again, at once and a few times only,
/// when PostgreSQL aborted it for a conflict with a concurrent one
/// (deadlock, serialization failure): two first messages of one person
/// resolving the same identifiers at the same moment. Nothing of an
/// aborted attempt was committed, so the retry starts clean; any other
/// failure goes to the consumer's own bounded retry as before.
async fn accept_retrying_conflicts(
    ctx: &WorkerContext,
    message: InboundMessage,
    identity: Identity,
) -> Result<Accepted, HandleError> {
    const ATTEMPTS: u32 = 4;
    let mut attempt = 1;
    loop {
        match accept(ctx, message.clone(), identity.clone()).await {
            Err(HandleError::Store(error))
                if attempt < ATTEMPTS
                    && error.failure_kind() == fte_store::FailureKind::Conflict =>
            {
                tracing::info!(
                    attempt,
                    "acceptance conflicted with a concurrent one; retrying"
                );
                // Staggered by attempt and by message, so the two sides of
                // a deadlock do not meet again.
                let spread = message
                    .channel_message_id
                    .bytes()
                    .map(u64::from)
                    .sum::<u64>()
                    % 7;
                tokio::time::sleep(std::time::Duration::from_millis(
                    15 * u64::from(attempt) + 5 * spread,
                ))
                .await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn duplicate(channel: Channel) -> Outcome {
    metric_processed(channel, "duplicate");
    tracing::info!(channel = channel.as_str(), "duplicate message skipped");
    Outcome::Duplicate
}

fn metric_processed(channel: Channel, outcome: &str) {
    fte_runtime::metrics::global()
        .messages_processed
        .with_label_values(&[channel.as_str(), outcome])
        .inc();
}

/// How long each phase of a handled message took.
#[derive(Default)]
struct Phases {
    accept: std::time::Duration,
    agent: std::time::Duration,
    finish: std::time::Duration,
}

/// Metrics and the log line of a handled message.
fn record(
    channel: Channel,
    handled: &Handled,
    agent: Option<&AgentOutcome>,
    started: Instant,
    phases: Phases,
) {
    let elapsed = started.elapsed();
    let m = fte_runtime::metrics::global();
    metric_processed(channel, handled.action.label());
    m.message_processing
        .with_label_values(&[channel.as_str()])
        .observe(elapsed.as_secs_f64());
    if let Action::Escalated(reason) = &handled.action {
        m.escalations
            .with_label_values(&[channel.as_str(), reason.as_str()])
            .inc();
    }
    if let Some(outcome) = agent {
        m.agent_tokens
            .with_label_values(&[channel.as_str()])
            .inc_by(u64::from(outcome.usage.chat_total()));
        m.sentiment
            .with_label_values(&[channel.as_str()])
            .observe(f64::from(outcome.sentiment));
    }
    tracing::info!(
        conversation.id = %handled.conversation_id,
        ticket.id = %handled.ticket_id,
        channel = channel.as_str(),
        action = handled.action.label(),
        duration_ms = elapsed.as_millis() as u64,
        accept_ms = phases.accept.as_millis() as u64,
        agent_ms = phases.agent.as_millis() as u64,
        finish_ms = phases.finish.as_millis() as u64,
        "message handled"
    );
}
