//! Gmail sync: the consumer of `fte.channels.email.inbound` that turns the
//! gateway's `gmail.notification` events into `ticket.inbound` events.
//!
//! A Pub/Sub push only says "the mailbox changed, its history id is now N".
//! [`GmailSync::sync`] therefore ignores N, lists the history from the id
//! *we* stored (Gmail's advice: a notification's id is already past the
//! change it announces) holding no transaction, then in one short
//! transaction locks the mailbox's `gmail_sync_state` row, writes one
//! `ticket.inbound` event per new customer email to the event outbox and
//! stores the newer of the two history ids; the events are then published
//! like every other outbox event. A sender's address is marked proven
//! (`email_verified`) only when the notification came through an
//! authenticated push and Gmail's `Authentication-Results` show the From
//! domain passed (`ParsedEmail::into_inbound`). Each event's
//! `channel_message_id` is the Gmail message id, so a message synced twice
//! (a crash after the commit, overlapping full syncs) is a no-op in
//! [`handle_event`](crate::handle_event).
//!
//! The stored id is seeded by the start-up `watch()` ([`GmailSync::start_watch`]),
//! so a fresh install answers what arrives from its first watch on, not the
//! mailbox's past.
//! When a notification finds no stored id (the watch failed, or no Pub/Sub
//! topic is configured), the sync does the bounded full sync instead
//! ([`RECENT_INBOX_LIMIT`] newest INBOX messages) rather than trusting the
//! notification's id, which would skip the very email it announces.
//!
//! The bounded full sync also runs when the stored id is no use:
//! `history.list` answers 404 (too old), or it answers with a mailbox
//! history id below the stored one — the cursor belongs to another life of
//! the mailbox (restored, replaced, or a local fake restarted against a
//! kept database) and would never see a new message. A notification whose
//! id is below the stored one is only a hint of that: a late or redelivered
//! notification is legitimately behind, so the mailbox's own id decides.
//! The full sync lists the newest INBOX messages, drops the ids already
//! stored as inbound email, fetches the rest, and *resets* the cursor to the
//! mailbox's current id (after a cursor ahead, never keeping the larger).
//!
//! Notifications are processed one at a time: they are keyed by mailbox,
//! and one mailbox's syncs serialise on its row lock anyway. Offsets are
//! stored only after the sync committed or the notification was
//! dead-lettered (another mailbox, undecodable, a permanent provider or
//! database error, or transient failures past the retry budget — the next
//! notification syncs from the stored id anyway). Logs never carry the
//! mailbox address.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fte_bus::consumer as bus_consumer;
use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_channels::SendError;
pub use fte_channels::gmail::WATCH_RENEWAL_INTERVAL;
use fte_channels::gmail::{GmailError, Mailbox, ParsedEmail};
use fte_domain::{EmailAddress, EventEnvelope};
use fte_store::{PgPool, StoreError, gmail_sync};
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::consumer::{ConsumerConfig, ConsumerError};
use crate::events::{EventSink, relay_soon};
use crate::retry::Ended;
use crate::sequential;

/// The consumer group of the Gmail sync.
pub const GROUP: &str = "fte-gmail-sync";

/// How many INBOX messages the bounded full sync reads (after a 404 from
/// `history.list`, or before the first stored history id).
pub const RECENT_INBOX_LIMIT: u32 = 50;

/// The event type the gateway publishes for a Gmail push.
pub const NOTIFICATION_EVENT: &str = "gmail.notification";

/// The payload of a `gmail.notification` event, as the gateway writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GmailNotificationEvent {
    /// The mailbox that changed (normalised).
    pub email_address: String,
    /// Its history id after the change (logged, never synced from).
    pub history_id: u64,
    /// Pub/Sub's message id.
    pub pubsub_message_id: Option<String>,
    /// Whether the gateway verified the push (OIDC token or push secret);
    /// absent in events written before the field existed: not verified.
    #[serde(default)]
    pub authenticated: bool,
}

/// What one sync did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Synced {
    /// The stored history id the sync started from ([`gmail_sync::NEVER_SYNCED`]
    /// when there was none).
    pub from_history_id: u64,
    /// The history id stored afterwards.
    pub history_id: u64,
    /// `ticket.inbound` events written to the outbox.
    pub messages: usize,
    /// Whether the bounded full sync ran instead of `history.list`.
    pub full_sync: bool,
}

/// Why a sync read the recent INBOX instead of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FullSync {
    /// No id stored yet.
    First,
    /// `history.list` answered 404.
    TooOld,
    /// The stored id is ahead of the mailbox's.
    Ahead,
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// PostgreSQL failed; nothing was stored.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// Gmail failed; nothing was stored.
    #[error("gmail: {0}")]
    Gmail(#[from] GmailError),
}

impl SyncError {
    /// Whether retrying later may succeed (database or provider outage,
    /// credentials an operator may fix); otherwise the notification is
    /// dead-lettered — the next notification syncs from the stored id.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Store(error) => error.is_transient(),
            SyncError::Gmail(GmailError::Provider(SendError::Permanent { .. })) => false,
            SyncError::Gmail(GmailError::Provider(_)) => true,
            SyncError::Gmail(GmailError::Auth(_) | GmailError::Malformed(_)) => true,
            SyncError::Gmail(
                GmailError::NotFound | GmailError::HistoryTooOld | GmailError::HistoryAhead,
            ) => false,
        }
    }

    /// A short kind for dead-letter headers and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::Store(error) => error.failure_kind().as_str(),
            SyncError::Gmail(GmailError::Provider(_)) => "gmail_provider",
            SyncError::Gmail(GmailError::Auth(_)) => "gmail_auth",
            SyncError::Gmail(GmailError::Malformed(_)) => "gmail_malformed",
            SyncError::Gmail(GmailError::NotFound) => "gmail_not_found",
            SyncError::Gmail(GmailError::HistoryTooOld) => "gmail_history_too_old",
            SyncError::Gmail(GmailError::HistoryAhead) => "gmail_history_ahead",
        }
    }

    /// A readable, content-free reason (the provider's errors carry status
    /// codes and API reasons, never mail content).
    pub fn reason(&self) -> String {
        match self {
            SyncError::Store(error) => error.reason(),
            SyncError::Gmail(error) => error.to_string(),
        }
    }
}

/// The support mailbox's sync: the pool, the mailbox and where the outbox
/// events are published right after a commit.
#[derive(Clone)]
pub struct GmailSync {
    pool: PgPool,
    mailbox: Arc<Mailbox>,
    events: Arc<dyn EventSink>,
    key: String,
}

impl GmailSync {
    /// The sync of `mailbox`, storing its state in `pool`.
    pub fn new(pool: PgPool, mailbox: Arc<Mailbox>, events: Arc<dyn EventSink>) -> Self {
        let key = normalise(mailbox.address());
        Self {
            pool,
            mailbox,
            events,
            key,
        }
    }

    /// The mailbox's key in `gmail_sync_state` (its normalised address).
    pub fn mailbox_key(&self) -> &str {
        &self.key
    }

    /// Whether a notification for `address` is about our mailbox.
    pub fn owns(&self, address: &str) -> bool {
        normalise(address) == self.key
    }

    /// Syncs the mailbox from its stored history id (see the module doc),
    /// then publishes the new events. `push_authenticated` says whether the
    /// notification that started the sync was a verified push: without
    /// one, no sender counts as proven. Nothing is stored when it fails.
    pub async fn sync(&self, push_authenticated: bool) -> Result<Synced, SyncError> {
        self.sync_notified(push_authenticated, None).await
    }

    /// [`sync`](Self::sync) for a notification that announced
    /// `notified_history_id` (logged when it is behind the stored id: the
    /// mailbox's answer decides whether the cursor is ahead).
    pub async fn sync_notified(
        &self,
        push_authenticated: bool,
        notified_history_id: Option<u64>,
    ) -> Result<Synced, SyncError> {
        // Gmail is asked outside any transaction: a slow API never holds a
        // connection or the mailbox's lock.
        let stored = gmail_sync::history_id(&self.pool, &self.key).await?;
        let behind = notified_history_id.filter(|notified| *notified < stored);
        let (emails, latest, full_sync) = if stored == gmail_sync::NEVER_SYNCED {
            let (emails, latest) = self.recent_unknown().await?;
            (emails, latest, Some(FullSync::First))
        } else {
            match self.mailbox.fetch_new_messages(stored).await {
                Ok((emails, latest)) => (emails, latest, None),
                Err(GmailError::HistoryTooOld) => {
                    tracing::info!(
                        history.id = stored,
                        "stored Gmail history id too old; bounded full sync"
                    );
                    let (emails, latest) = self.recent_unknown().await?;
                    (emails, latest, Some(FullSync::TooOld))
                }
                Err(GmailError::HistoryAhead) => {
                    tracing::warn!(
                        history.id = stored,
                        notification.history_id = behind,
                        "stored Gmail history id is ahead of the mailbox; bounded full sync and cursor reset"
                    );
                    let (emails, latest) = self.recent_unknown().await?;
                    (emails, latest, Some(FullSync::Ahead))
                }
                Err(error) => return Err(error.into()),
            }
        };
        let messages = emails.len();
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        // A sync that committed meanwhile may have moved the id on.
        let current = gmail_sync::lock_history_id(&mut tx, &self.key).await?;
        for email in emails {
            enqueue_inbound(&mut tx, email, push_authenticated).await?;
        }
        let history_id = match full_sync {
            // The stored id (and anything a concurrent sync stored from
            // it) is of another mailbox life: the mailbox's id replaces it.
            Some(FullSync::Ahead) => latest,
            _ => latest.max(current),
        };
        gmail_sync::store_history_id(&mut *tx, &self.key, history_id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        relay_soon(&self.pool, self.events.as_ref()).await;
        Ok(Synced {
            from_history_id: stored,
            history_id,
            messages,
            full_sync: full_sync.is_some(),
        })
    }

    /// The bounded full sync: the newest [`RECENT_INBOX_LIMIT`] INBOX
    /// messages that are not stored yet, and the mailbox's current id.
    async fn recent_unknown(&self) -> Result<(Vec<ParsedEmail>, u64), SyncError> {
        let (mut refs, latest) = self.mailbox.recent_inbox_refs(RECENT_INBOX_LIMIT).await?;
        let ids: Vec<String> = refs.iter().map(|item| item.id.clone()).collect();
        let known: HashSet<String> = gmail_sync::known_message_ids(&self.pool, &ids)
            .await?
            .into_iter()
            .collect();
        refs.retain(|item| !known.contains(&item.id));
        Ok((self.mailbox.fetch(refs).await?, latest))
    }

    /// Starts the push watch once and records it: its expiry, and its
    /// history id when the mailbox has none stored yet.
    pub async fn start_watch(&self) -> Result<(), SyncError> {
        let watch = self.mailbox.watch().await?;
        let seeded = gmail_sync::record_watch(
            &self.pool,
            &self.key,
            watch.history_id,
            expiry(watch.expiration),
        )
        .await?;
        tracing::info!(history.id = watch.history_id, seeded, "Gmail watch started");
        Ok(())
    }

    /// Spawns the watch renewal: first after `first_in`, then every
    /// [`WATCH_RENEWAL_INTERVAL`] (every minute while it fails), recording
    /// each renewal; it stops with `shutdown`.
    pub fn spawn_watch_renewal(
        &self,
        first_in: Duration,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        let pool = self.pool.clone();
        let key = self.key.clone();
        let renewals =
            self.mailbox
                .clone()
                .renew_watch_loop(WATCH_RENEWAL_INTERVAL, move |watch| {
                    let (pool, key) = (pool.clone(), key.clone());
                    tokio::spawn(async move {
                        if let Err(error) = gmail_sync::record_watch(
                            &pool,
                            &key,
                            watch.history_id,
                            expiry(watch.expiration),
                        )
                        .await
                        {
                            tracing::warn!(%error, "Gmail watch expiry not recorded");
                        }
                    });
                });
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = async { tokio::time::sleep(first_in).await; renewals.await } => {}
            }
        })
    }
}

async fn enqueue_inbound(
    tx: &mut sqlx::PgConnection,
    email: ParsedEmail,
    push_authenticated: bool,
) -> Result<(), StoreError> {
    let inbound = email.into_inbound(push_authenticated);
    let key = inbound.partition_key();
    let envelope = EventEnvelope::new("ticket.inbound", inbound.received_at, inbound);
    let payload = serde_json::to_value(&envelope).unwrap_or_default();
    let id = gmail_sync::enqueue_synced_event(&mut *tx, topics::TICKETS_INCOMING, &key, &payload)
        .await?;
    tracing::info!(
        channel = "email",
        gmail.message_id = %envelope.payload.channel_message_id,
        event.id = %id,
        sender.verified = envelope.payload.sender.email_verified,
        "inbound email queued"
    );
    Ok(())
}

fn normalise(address: &str) -> String {
    EmailAddress::parse(address)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| address.trim().to_ascii_lowercase())
}

fn expiry(expiration_ms: Option<i64>) -> Option<DateTime<Utc>> {
    expiration_ms.and_then(DateTime::from_timestamp_millis)
}

/// Consumes `fte.channels.email.inbound` in `config.group` until
/// `shutdown`, syncing the mailbox for each notification of ours (retry
/// delays from `config`), then commits the stored offsets.
pub async fn run(
    sync: GmailSync,
    bootstrap: &Bootstrap,
    publisher: KafkaPublisher,
    config: ConsumerConfig,
    shutdown: CancellationToken,
) -> Result<(), ConsumerError> {
    let consumer = bus_consumer::at_least_once(bootstrap, &config.group, &[topics::EMAIL_INBOUND])?;
    tracing::info!(group = %config.group, "Gmail sync started");
    crate::sequential::run(
        &consumer,
        &shutdown,
        None,
        || {},
        |message| {
            let (sync, publisher, config, shutdown) = (&sync, &publisher, &config, &shutdown);
            async move { process(sync, publisher, config, &message, shutdown).await }
        },
    )
    .await?;
    tracing::info!("Gmail sync stopped");
    Ok(())
}

/// Handles one notification; `true` when its offset may be stored.
async fn process(
    sync: &GmailSync,
    publisher: &KafkaPublisher,
    config: &ConsumerConfig,
    message: &OwnedMessage,
    shutdown: &CancellationToken,
) -> bool {
    let event: EventEnvelope<GmailNotificationEvent> =
        match serde_json::from_slice(message.payload().unwrap_or_default()) {
            Ok(event) => event,
            Err(_) => {
                let reason = "the payload is not a gmail.notification event";
                return dead_letter(publisher, config, message, "undecodable", reason, shutdown)
                    .await;
            }
        };
    if event.event_type != NOTIFICATION_EVENT {
        let reason = "the event type is not gmail.notification";
        return dead_letter(
            publisher,
            config,
            message,
            "unknown_event_type",
            reason,
            shutdown,
        )
        .await;
    }
    if !sync.owns(&event.payload.email_address) {
        let reason = "the notification is about another mailbox";
        return dead_letter(
            publisher,
            config,
            message,
            "foreign_mailbox",
            reason,
            shutdown,
        )
        .await;
    }
    let retried = config
        .retry
        .run(
            shutdown,
            || sync.sync_notified(event.payload.authenticated, Some(event.payload.history_id)),
            SyncError::is_transient,
            |error, attempt, delay| {
                tracing::warn!(
                    event.id = %event.event_id,
                    error.kind = error.kind(),
                    error = %error,
                    attempt,
                    retry_in_ms = delay.as_millis() as u64,
                    "Gmail sync failed; retrying"
                );
            },
        )
        .await;
    let (error, reason) = match retried.ended(SyncError::reason) {
        Ended::Done(synced) => {
            tracing::info!(
                channel = "email",
                event.id = %event.event_id,
                notification.history_id = event.payload.history_id,
                history.from = synced.from_history_id,
                history.id = synced.history_id,
                messages = synced.messages,
                full_sync = synced.full_sync,
                "Gmail mailbox synced"
            );
            return true;
        }
        Ended::Stopped => return false,
        Ended::Failed(error, reason) => (error, reason),
    };
    tracing::error!(event.id = %event.event_id, error.kind = error.kind(), error = %error, "Gmail sync failed; dead-lettering the notification");
    dead_letter(publisher, config, message, error.kind(), &reason, shutdown).await
}

/// Copies the notification to `fte.dlq` with its origin, retrying while the
/// broker does not take it; `true` once it is there.
async fn dead_letter(
    publisher: &KafkaPublisher,
    config: &ConsumerConfig,
    message: &OwnedMessage,
    kind: &str,
    reason: &str,
    shutdown: &CancellationToken,
) -> bool {
    // The key is the mailbox address: keep it out of the dead letter's key.
    sequential::dead_letter(
        publisher,
        &config.retry,
        message,
        Some(topics::EMAIL_INBOUND),
        kind,
        reason,
        shutdown,
    )
    .await
}
