//! The outbox sender: one loop per channel delivering committed replies.
//!
//! Each round claims due `reply_outbox` rows of its channel (`for update
//! skip locked`, pending → sending, one attempt counted) and sends them
//! (different conversations concurrently, one conversation's in order)
//! through that channel's [`ReplySender`] — in production a
//! [`fte_channels::GuardedSender`], so a failing provider opens its own
//! circuit and never slows another channel, whose loop is separate.
//!
//! What happens next depends on the classified outcome:
//!
//! - sent: the row is `sent` with the provider's ids, the message's
//!   delivery status `sent`, and an event goes to the channel's outbound
//!   topic;
//! - transient or open circuit: back to `pending`, due after an exponential
//!   backoff with jitter (or the provider's `retry_after`); an open circuit
//!   does not count as an attempt;
//! - permanent, or the last allowed attempt: `failed`, message `failed`, and
//!   an event on `fte.dlq`;
//! - unknown (including a timeout): `unknown`. Before anything is sent
//!   again the provider is asked ([`ReplySender::reconcile`]); only what it
//!   did not receive is sent. A reply is never sent twice;
//! - over the email cap: a reply that goes out by email (an email reply, a
//!   web form notification) to an address that never proved itself is
//!   reserved against `EMAIL_UNVERIFIED_DAILY_CAP` first
//!   (`fte_store::email_sends`); past it the row is `suppressed` and a
//!   `reply.suppressed` event goes to the channel's outbound topic. A web
//!   form reply stays on the ticket's status page either way. Anyone can
//!   type an address into the form: the cap is what keeps the system from
//!   becoming a way to mail strangers.
//!
//! Every claim carries a fencing token. Right before it asks or sends, a
//! loop renews its claim; a claim that is no longer current (the batch
//! outlived the lease and another replica claimed the reply) means hands
//! off, and every state change is made with the token, so a late sender
//! can never overwrite the current holder's outcome. The lease
//! (`sending_lease`) must exceed two provider calls (`send_timeout` each);
//! [`ChannelSender::run`] refuses a configuration where it does not.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_bus::consumer::dlq_headers;
use fte_channels::{OutboundReply, Recipient, ReplySender, SendError, SendReceipt};
use fte_domain::{Channel, EventEnvelope};
use fte_store::email_sends::{self, EmailAllowance};
use fte_store::event_outbox::QueuedEvent;
use fte_store::outbox::{self, ClaimedReply};
use fte_store::{PgPool, StoreError, messages};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::WorkerConfig;
use crate::context::EMAIL_CAP_WINDOW;
use crate::events::{EventSink, relay_soon};

/// Replies claimed per round.
pub const BATCH: i64 = 10;
/// Why a reply was suppressed (the outbox row's `last_error`, the event's
/// `reason`).
pub const SUPPRESSED_EMAIL_CAP: &str = "email_cap";

/// What a channel's loop needs.
#[derive(Clone)]
pub struct ChannelSender {
    /// The CRM database.
    pub pool: PgPool,
    /// The channel's sender (guarded by its circuit breaker in production).
    pub sender: Arc<dyn ReplySender>,
    /// Where delivery and dead-letter events go.
    pub events: Arc<dyn EventSink>,
    /// Attempts, timeouts and backoff.
    pub config: WorkerConfig,
}

impl ChannelSender {
    fn channel(&self) -> Channel {
        self.sender.channel()
    }

    /// Runs rounds until `shutdown`; a round in progress finishes first.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.config.sending_lease <= self.config.send_timeout * 2 {
            tracing::error!(
                channel = self.channel().as_str(),
                lease_secs = self.config.sending_lease.as_secs(),
                send_timeout_secs = self.config.send_timeout.as_secs(),
                "the sending lease must exceed two provider calls; reply sender not started"
            );
            return;
        }
        tracing::info!(channel = self.channel().as_str(), "reply sender started");
        let mut due = self.config.replies_due.subscribe();
        while !shutdown.is_cancelled() {
            let idle = match self.send_due().await {
                Ok(0) => true,
                Ok(_) => false,
                Err(error) => {
                    tracing::warn!(channel = self.channel().as_str(), %error, "reply round failed");
                    true
                }
            };
            if idle {
                // Replies of other processes (and retries coming due) are
                // found by the poll; this process's own wake the loop.
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(self.config.sender_poll_interval) => {}
                    Ok(()) = due.changed() => {}
                }
            }
        }
        tracing::info!(channel = self.channel().as_str(), "reply sender stopped");
    }

    /// One round: claims up to [`BATCH`] due replies and delivers them,
    /// conversations side by side and each conversation's in order;
    /// returns how many were claimed.
    pub async fn send_due(&self) -> Result<usize, StoreError> {
        let claimed = outbox::claim_due(
            &self.pool,
            self.channel().as_str(),
            BATCH,
            self.config.sending_lease.as_secs() as i64,
        )
        .await?;
        let n = claimed.len();
        // Different conversations go out side by side, so one slow provider
        // call or commit does not hold back the rest of the batch; one
        // conversation's replies keep their order.
        let rounds = by_conversation(claimed).into_iter().map(|rows| async move {
            for row in rows {
                self.deliver(row).await?;
            }
            Ok::<(), StoreError>(())
        });
        let results = futures::future::join_all(rounds).await;
        if n > 0 {
            relay_soon(&self.pool, self.events.as_ref()).await;
        }
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(n)
    }

    async fn deliver(&self, row: ClaimedReply) -> Result<(), StoreError> {
        let reply: OutboundReply = match serde_json::from_value(row.payload.clone()) {
            Ok(reply) => reply,
            Err(_) => return self.fail(&row, "undecodable payload").await,
        };
        // The claim may have run out while earlier replies of the batch were
        // sent; renewing it now covers the calls below.
        if !outbox::renew_claim(&self.pool, row.id, row.claim_token).await? {
            self.lost_claim(&row);
            return Ok(());
        }
        let mut already: Vec<String> = Vec::new();
        let mut to_send = reply.clone();
        if row.outcome_unknown {
            match self.timed(self.sender.reconcile(&reply)).await {
                Ok(Some(receipt))
                    if receipt.provider_message_ids.len() >= reply.parts.len()
                        || receipt.used_template =>
                {
                    return self.sent(&row, &reply, receipt).await;
                }
                Ok(Some(partial)) => {
                    // Only the first parts arrived: send the rest.
                    let arrived = partial.provider_message_ids.len();
                    to_send.parts = reply.parts[arrived..].to_vec();
                    already = partial.provider_message_ids;
                }
                Ok(None) => {}
                Err(error) => return self.retry_or_fail(&row, &error, "unknown").await,
            }
        }
        if self.sender.sends_email()
            && let Recipient::Email(address) = &reply.to
        {
            let allowance = email_sends::reserve(
                &self.pool,
                row.id,
                address.as_str(),
                self.config.email_unverified_daily_cap,
                EMAIL_CAP_WINDOW,
            )
            .await?;
            if allowance == EmailAllowance::Capped {
                return self.suppress(&row, &reply).await;
            }
        }
        match self.timed(self.sender.send(&to_send)).await {
            Ok(mut receipt) => {
                already.append(&mut receipt.provider_message_ids);
                receipt.provider_message_ids = already;
                self.sent(&row, &reply, receipt).await
            }
            Err(SendError::Permanent { reason }) => self.fail(&row, &reason).await,
            Err(error @ SendError::Unknown { .. }) => {
                self.retry_or_fail(&row, &error, "unknown").await
            }
            Err(error) => self.retry_or_fail(&row, &error, "pending").await,
        }
    }

    /// Bounds a provider call; running out of time means the outcome is
    /// unknown (the request may have arrived).
    async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, SendError>>,
    ) -> Result<T, SendError> {
        match tokio::time::timeout(self.config.send_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Unknown {
                reason: format!("no answer within {:?}", self.config.send_timeout),
            }),
        }
    }

    async fn sent(
        &self,
        row: &ClaimedReply,
        reply: &OutboundReply,
        receipt: SendReceipt,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if !outbox::mark_sent(
            &mut *tx,
            row.id,
            row.claim_token,
            &receipt.provider_message_ids,
        )
        .await?
        {
            self.lost_claim(row);
            return Ok(());
        }
        messages::set_delivery(
            &mut *tx,
            row.message_id,
            "sent",
            receipt.provider_message_ids.first().map(String::as_str),
        )
        .await?;
        let event = EventEnvelope::new(
            "reply.sent",
            Utc::now(),
            json!({
                "outbox_id": row.id,
                "message_id": row.message_id,
                "conversation_id": row.conversation_id,
                "ticket_id": row.ticket_id,
                "channel": reply.channel.as_str(),
                "parts": reply.parts.len(),
                "provider_message_ids": receipt.provider_message_ids,
                "used_template": receipt.used_template,
                "attempts": row.attempts,
            }),
        );
        commit_with_event(tx, fte_bus::topics::outbound(reply.channel), row, &event).await?;
        tracing::info!(
            conversation.id = %row.conversation_id,
            outbox.id = %row.id,
            channel = reply.channel.as_str(),
            attempts = row.attempts,
            "reply sent"
        );
        Ok(())
    }

    /// Settles a reply that must not go out by email (the cap), with its
    /// event; the stored reply stays where it is (the status page).
    async fn suppress(&self, row: &ClaimedReply, reply: &OutboundReply) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if !outbox::mark_suppressed(&mut *tx, row.id, row.claim_token, SUPPRESSED_EMAIL_CAP).await?
        {
            self.lost_claim(row);
            return Ok(());
        }
        let event = EventEnvelope::new(
            "reply.suppressed",
            Utc::now(),
            json!({
                "outbox_id": row.id,
                "message_id": row.message_id,
                "conversation_id": row.conversation_id,
                "ticket_id": row.ticket_id,
                "channel": reply.channel.as_str(),
                "reason": SUPPRESSED_EMAIL_CAP,
            }),
        );
        commit_with_event(tx, fte_bus::topics::outbound(reply.channel), row, &event).await?;
        tracing::warn!(
            security = true,
            conversation.id = %row.conversation_id,
            outbox.id = %row.id,
            channel = reply.channel.as_str(),
            reason = SUPPRESSED_EMAIL_CAP,
            "reply not emailed: the address never proved itself and is over its daily cap"
        );
        Ok(())
    }

    async fn retry_or_fail(
        &self,
        row: &ClaimedReply,
        error: &SendError,
        status: &str,
    ) -> Result<(), StoreError> {
        let circuit_open = matches!(error, SendError::CircuitOpen { .. });
        if !circuit_open && row.attempts >= self.config.max_send_attempts {
            return self.fail(row, &error.to_string()).await;
        }
        let delay = error
            .retry_after()
            .unwrap_or_else(|| self.backoff(row.attempts));
        let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        if !outbox::reschedule(
            &self.pool,
            row.id,
            row.claim_token,
            status,
            next,
            &error.to_string(),
            circuit_open,
        )
        .await?
        {
            self.lost_claim(row);
            return Ok(());
        }
        tracing::warn!(
            conversation.id = %row.conversation_id,
            outbox.id = %row.id,
            channel = self.channel().as_str(),
            outcome = error.outcome(),
            retry_in_ms = delay.as_millis() as u64,
            "reply rescheduled"
        );
        Ok(())
    }

    /// Exponential backoff from the base, capped, with full jitter over its
    /// upper half so many replies do not retry in lockstep.
    fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let ceiling = self
            .config
            .send_backoff_base
            .saturating_mul(1 << exponent)
            .min(self.config.send_backoff_max);
        let half = ceiling / 2;
        let jitter_ms = half.as_millis() as u64;
        let random = (uuid::Uuid::new_v4().as_u128() % u128::from(jitter_ms.max(1))) as u64;
        half + Duration::from_millis(random)
    }

    /// Logs that another sender holds the reply now; this one leaves it.
    fn lost_claim(&self, row: &ClaimedReply) {
        tracing::warn!(
            conversation.id = %row.conversation_id,
            outbox.id = %row.id,
            channel = self.channel().as_str(),
            "the claim on a reply ran out and another sender holds it; leaving it"
        );
    }

    async fn fail(&self, row: &ClaimedReply, reason: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if !outbox::mark_failed(&mut *tx, row.id, row.claim_token, reason).await? {
            self.lost_claim(row);
            return Ok(());
        }
        messages::set_delivery(&mut *tx, row.message_id, "failed", None).await?;
        let event = EventEnvelope::new(
            "reply.failed",
            Utc::now(),
            json!({
                "origin": "reply_outbox",
                "outbox_id": row.id,
                "message_id": row.message_id,
                "conversation_id": row.conversation_id,
                "ticket_id": row.ticket_id,
                "channel": row.channel,
                "attempts": row.attempts,
                "error": reason,
            }),
        );
        let kind = "send_failed";
        outbox::queue_event(
            &mut *tx,
            &QueuedEvent {
                topic: fte_bus::topics::DLQ,
                key: &row.conversation_id.to_string(),
                payload: &serde_json::to_value(&event).unwrap_or_default(),
                headers: &[
                    (dlq_headers::TOPIC, "reply_outbox"),
                    (dlq_headers::ERROR, kind),
                    (dlq_headers::REASON, reason),
                ],
                available_at: None,
            },
        )
        .await?;
        tx.commit().await?;
        fte_runtime::metrics::global()
            .dlq_messages
            .with_label_values(&["reply_outbox", kind])
            .inc();
        tracing::error!(
            conversation.id = %row.conversation_id,
            outbox.id = %row.id,
            channel = %row.channel,
            attempts = row.attempts,
            "reply failed; dead-lettered"
        );
        Ok(())
    }
}

/// Enqueues `event` for `topic`, keyed by the reply's conversation, and
/// commits it with the row's change in `tx`.
async fn commit_with_event(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    topic: &str,
    row: &ClaimedReply,
    event: &EventEnvelope<serde_json::Value>,
) -> Result<(), StoreError> {
    outbox::enqueue_event(
        &mut *tx,
        topic,
        &row.conversation_id.to_string(),
        &serde_json::to_value(event).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Groups claimed replies by conversation, each group in claim order (due
/// first), the groups in the order of their first reply.
fn by_conversation(claimed: Vec<ClaimedReply>) -> Vec<Vec<ClaimedReply>> {
    let mut groups: Vec<Vec<ClaimedReply>> = Vec::new();
    for row in claimed {
        match groups
            .iter_mut()
            .find(|group| group[0].conversation_id == row.conversation_id)
        {
            Some(group) => group.push(row),
            None => groups.push(vec![row]),
        }
    }
    groups
}
