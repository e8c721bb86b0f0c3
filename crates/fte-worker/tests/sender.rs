//! The outbox sender against a fresh database and recording senders:
//! delivery, backoff, dead-lettering, reconciliation of unknown outcomes,
//! and one channel's outage not holding up another.

use std::sync::Arc;
use std::time::Duration;

use fte_channels::{GuardedSender, ReplySender, SendError};
use fte_domain::Channel;
use fte_fakes::RecordingSender;
use fte_store::PgPool;
use fte_store::outbox;
use fte_testkit::worker::{Harness, count, harness, inbound};
use fte_worker::sender::ChannelSender;
use fte_worker::{Outcome, handle_event};
use tokio_util::sync::CancellationToken;

fn fast_config() -> fte_worker::WorkerConfig {
    fte_worker::WorkerConfig {
        send_backoff_base: Duration::from_millis(20),
        send_backoff_max: Duration::from_millis(100),
        sender_poll_interval: Duration::from_millis(20),
        send_timeout: Duration::from_secs(2),
        ..fte_worker::WorkerConfig::default()
    }
}

fn channel_sender(h: &Harness, sender: Arc<dyn ReplySender>) -> ChannelSender {
    ChannelSender {
        pool: h.pool.clone(),
        sender,
        events: h.events.clone(),
        config: fast_config(),
    }
}

/// Handles one message on `channel` so that one reply is queued; returns
/// the conversation id.
async fn queue_reply(h: &Harness, channel: Channel, id: &str) -> uuid::Uuid {
    let event = match channel {
        Channel::Whatsapp => inbound(channel, id, None, Some("+34612345678"), None, "q"),
        _ => inbound(channel, id, Some("a@example.com"), None, Some("Ann"), "q"),
    };
    match handle_event(&h.ctx, &event).await.unwrap() {
        Outcome::Handled(handled) => handled.conversation_id.as_uuid(),
        Outcome::Duplicate => panic!("a new message"),
    }
}

/// Handles three email messages so that three replies are queued: all
/// from `address`, one conversation, or, without one, each from its own
/// address and conversation.
async fn queue_three_emails(h: &Harness, prefix: &str, address: Option<&str>) {
    for i in 0..3 {
        let own = format!("{prefix}{i}@example.com");
        let event = inbound(
            Channel::Email,
            &format!("g-{prefix}-{i}"),
            Some(address.unwrap_or(&own)),
            None,
            None,
            "q",
        );
        handle_event(&h.ctx, &event).await.unwrap();
    }
}

async fn make_due(pool: &PgPool) {
    sqlx::query("update reply_outbox set next_attempt_at = now()")
        .execute(pool)
        .await
        .unwrap();
}

async fn state(pool: &PgPool, conversation: uuid::Uuid) -> outbox::ReplyState {
    outbox::replies_of_conversation(pool, conversation)
        .await
        .unwrap()
        .pop()
        .expect("one reply")
}

#[tokio::test]
async fn a_sent_reply_records_the_provider_ids_and_an_outbound_event() {
    let h = harness().await;
    let conversation = queue_reply(&h, Channel::Email, "g-1").await;
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    let sender = channel_sender(&h, recorder.clone());

    assert_eq!(sender.send_due().await.unwrap(), 1);
    assert_eq!(sender.send_due().await.unwrap(), 0, "nothing left to claim");

    let reply = state(&h.pool, conversation).await;
    assert_eq!(reply.status, "sent");
    assert_eq!(reply.provider_message_id.as_deref(), Some("rec-email-1"));
    assert_eq!(recorder.sent().len(), 1);
    let sent = &recorder.sent()[0];
    assert_eq!(sent.subject.as_deref(), Some("Re: Question"));
    assert!(sent.parts[0].starts_with("Hi Ann,"));
    assert_eq!(
        count(&h.pool, "select count(*) from messages where direction = 'outbound' and delivery_status = 'sent'").await,
        1
    );
    assert_eq!(h.events.on_topic(fte_bus::topics::EMAIL_OUTBOUND).len(), 1);
}

#[tokio::test]
async fn a_permanent_failure_fails_the_reply_and_dead_letters_it() {
    let h = harness().await;
    let conversation = queue_reply(&h, Channel::Whatsapp, "SM1").await;
    let recorder = Arc::new(RecordingSender::new(Channel::Whatsapp));
    recorder.fail_next(SendError::Permanent {
        reason: "400 21211".into(),
    });
    let sender = channel_sender(&h, recorder.clone());

    sender.send_due().await.unwrap();

    let reply = state(&h.pool, conversation).await;
    assert_eq!(reply.status, "failed");
    assert!(recorder.sent().is_empty());
    let dead = h.events.on_topic(fte_bus::topics::DLQ);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["payload"]["origin"], "reply_outbox");
    assert_eq!(dead[0]["payload"]["channel"], "whatsapp");
    let published = h.events.published.lock().unwrap().clone();
    let at = published
        .iter()
        .position(|(topic, _, _)| topic == fte_bus::topics::DLQ)
        .unwrap();
    let headers = h.events.headers.lock().unwrap()[at].clone();
    for (name, value) in [
        ("fte.origin.topic", "reply_outbox"),
        ("fte.error", "send_failed"),
        ("fte.error.reason", "400 21211"),
    ] {
        assert!(
            headers.iter().any(|(n, v)| n == name && v == value),
            "dead letter header {name}={value} in {headers:?}"
        );
    }
    make_due(&h.pool).await;
    assert_eq!(
        sender.send_due().await.unwrap(),
        0,
        "a failed reply is never retried"
    );
}

#[tokio::test]
async fn transient_failures_back_off_and_give_up_after_the_last_attempt() {
    let h = harness().await;
    let conversation = queue_reply(&h, Channel::Email, "g-1").await;
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    let mut sender = channel_sender(&h, recorder.clone());
    sender.config.max_send_attempts = 3;
    sender.config.send_backoff_base = Duration::from_secs(60);
    sender.config.send_backoff_max = Duration::from_secs(600);
    for _ in 0..3 {
        recorder.fail_next(SendError::Transient {
            reason: "503".into(),
            retry_after: None,
        });
    }

    sender.send_due().await.unwrap();
    let reply = state(&h.pool, conversation).await;
    assert_eq!((reply.status.as_str(), reply.attempts), ("pending", 1));
    let wait: f64 = sqlx::query_scalar(
        "select extract(epoch from next_attempt_at - now())::float8 from reply_outbox",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert!(
        (25.0..=61.0).contains(&wait),
        "backoff with jitter, got {wait}s"
    );
    assert_eq!(
        sender.send_due().await.unwrap(),
        0,
        "not due before its backoff"
    );

    make_due(&h.pool).await;
    sender.send_due().await.unwrap();
    make_due(&h.pool).await;
    sender.send_due().await.unwrap();
    let reply = state(&h.pool, conversation).await;
    assert_eq!((reply.status.as_str(), reply.attempts), ("failed", 3));
    assert!(recorder.sent().is_empty());
    assert_eq!(h.events.on_topic(fte_bus::topics::DLQ).len(), 1);
}

#[tokio::test]
async fn an_unknown_outcome_is_reconciled_and_never_sent_twice() {
    let h = harness().await;
    let conversation = queue_reply(&h, Channel::Whatsapp, "SM1").await;
    let recorder = Arc::new(RecordingSender::new(Channel::Whatsapp));
    // The provider took it, but the answer was lost.
    recorder.accept_then_fail(SendError::Unknown {
        reason: "connection reset".into(),
    });
    let sender = channel_sender(&h, recorder.clone());

    sender.send_due().await.unwrap();
    assert_eq!(state(&h.pool, conversation).await.status, "unknown");
    make_due(&h.pool).await;
    sender.send_due().await.unwrap();

    let reply = state(&h.pool, conversation).await;
    assert_eq!(reply.status, "sent", "reconciliation found it delivered");
    assert_eq!(
        recorder.sent().len(),
        1,
        "the reply reached the customer once"
    );
}

#[tokio::test]
async fn an_unknown_outcome_that_never_arrived_is_sent_after_reconciling() {
    let h = harness().await;
    let conversation = queue_reply(&h, Channel::Email, "g-1").await;
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    recorder.fail_next(SendError::Unknown {
        reason: "timeout".into(),
    });
    let sender = channel_sender(&h, recorder.clone());

    sender.send_due().await.unwrap();
    make_due(&h.pool).await;
    sender.send_due().await.unwrap();

    assert_eq!(state(&h.pool, conversation).await.status, "sent");
    assert_eq!(recorder.sent().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_provider_down_does_not_hold_up_another_channel() {
    let h = harness().await;
    let whatsapp_conversation = queue_reply(&h, Channel::Whatsapp, "SM1").await;
    let email_conversation = queue_reply(&h, Channel::Email, "g-1").await;
    let whatsapp = Arc::new(RecordingSender::new(Channel::Whatsapp));
    for _ in 0..50 {
        whatsapp.fail_next(SendError::Transient {
            reason: "503".into(),
            retry_after: None,
        });
    }
    let email = Arc::new(RecordingSender::new(Channel::Email));
    let guarded = |s: Arc<RecordingSender>| -> Arc<dyn ReplySender> {
        Arc::new(GuardedSender::new(s, 2, Duration::from_millis(200)))
    };
    let mut whatsapp_loop = channel_sender(&h, guarded(whatsapp.clone()));
    whatsapp_loop.config.max_send_attempts = 1000;
    let email_loop = channel_sender(&h, guarded(email.clone()));
    let shutdown = CancellationToken::new();
    let tasks = [
        tokio::spawn(whatsapp_loop.run(shutdown.clone())),
        tokio::spawn(email_loop.run(shutdown.clone())),
    ];

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state(&h.pool, email_conversation).await.status != "sent" {
        assert!(tokio::time::Instant::now() < deadline, "email was held up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let down = state(&h.pool, whatsapp_conversation).await;
    assert_ne!(down.status, "sent", "WhatsApp is still down");
    assert!(whatsapp.sent().is_empty());
    assert_eq!(email.sent().len(), 1);

    shutdown.cancel();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("sender loops stop on shutdown")
            .unwrap();
    }
}

/// Queues `n` web form replies to a@example.com (one per message).
async fn web_replies(h: &Harness, n: usize) -> Vec<uuid::Uuid> {
    let mut conversations = Vec::new();
    for i in 0..n {
        conversations.push(queue_reply(h, Channel::WebForm, &format!("web-{i}")).await);
    }
    conversations
}

#[tokio::test]
async fn an_address_that_never_proved_itself_is_emailed_at_most_the_daily_cap() {
    let h = harness().await;
    web_replies(&h, 4).await;
    let recorder = Arc::new(RecordingSender::new(Channel::WebForm).emailing());
    let sender = channel_sender(&h, recorder.clone());

    while sender.send_due().await.unwrap() > 0 {}

    assert_eq!(recorder.sent().len(), 3, "the default cap is 3 a day");
    let statuses: Vec<String> =
        sqlx::query_scalar("select status from reply_outbox order by status")
            .fetch_all(&h.pool)
            .await
            .unwrap();
    assert_eq!(statuses, ["sent", "sent", "sent", "suppressed"]);
    assert_eq!(
        count(&h.pool, "select count(*) from messages where direction = 'outbound' and delivery_status = 'suppressed'").await,
        1,
        "the reply itself stays stored (the status page shows it)"
    );
    let suppressed: Vec<_> = h
        .events
        .on_topic(fte_bus::topics::WEB_OUTBOUND)
        .into_iter()
        .filter(|e| e["event_type"] == "reply.suppressed")
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["payload"]["reason"], "email_cap");
}

#[tokio::test]
async fn a_proven_address_and_a_sender_that_emails_nobody_are_never_capped() {
    let h = harness().await;
    web_replies(&h, 4).await;
    sqlx::query(
        "update customer_identifiers set verified = true, trust_source = 'gmail_authenticated'
         where identifier_value = 'a@example.com'",
    )
    .execute(&h.pool)
    .await
    .unwrap();
    let proven = Arc::new(RecordingSender::new(Channel::WebForm).emailing());
    let sender = channel_sender(&h, proven.clone());
    while sender.send_due().await.unwrap() > 0 {}
    assert_eq!(proven.sent().len(), 4, "the address proved itself");

    let other = harness().await;
    web_replies(&other, 4).await;
    let status_page_only = Arc::new(RecordingSender::new(Channel::WebForm));
    let sender = channel_sender(&other, status_page_only.clone());
    while sender.send_due().await.unwrap() > 0 {}
    assert_eq!(status_page_only.sent().len(), 4, "no email, no cap");
}

/// One provider shared by two senders: every delivery is recorded by the
/// reply's idempotency key, so a duplicate shows.
#[derive(Default)]
struct Provider {
    deliveries: std::sync::Mutex<Vec<String>>,
}

/// A sender of [`Provider`] whose first send waits at a gate (a slow
/// provider call) while the rest of its batch waits behind it.
struct SlowSender {
    provider: Arc<Provider>,
    gate: Option<Arc<tokio::sync::Semaphore>>,
    started: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl ReplySender for SlowSender {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(
        &self,
        reply: &fte_channels::OutboundReply,
    ) -> Result<fte_channels::SendReceipt, SendError> {
        self.started.notify_one();
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.unwrap();
        }
        self.provider
            .deliveries
            .lock()
            .unwrap()
            .push(reply.idempotency_key.clone());
        Ok(receipt_for(reply))
    }

    async fn reconcile(
        &self,
        reply: &fte_channels::OutboundReply,
    ) -> Result<Option<fte_channels::SendReceipt>, SendError> {
        let delivered = self
            .provider
            .deliveries
            .lock()
            .unwrap()
            .contains(&reply.idempotency_key);
        Ok(delivered.then(|| receipt_for(reply)))
    }
}

/// The receipt a test provider gives for `reply`.
fn receipt_for(reply: &fte_channels::OutboundReply) -> fte_channels::SendReceipt {
    fte_channels::SendReceipt {
        provider_message_ids: vec![format!("p-{}", reply.idempotency_key)],
        used_template: false,
    }
}

/// A sender whose first call is slow: it waits until `others` more replies
/// reached the provider, or `patience` ran out. It records the order in
/// which replies reached the provider.
struct SlowFirstSender {
    others: usize,
    patience: Duration,
    calls: std::sync::atomic::AtomicUsize,
    slowed: std::sync::Mutex<Option<String>>,
    delivered: std::sync::Mutex<Vec<String>>,
    arrived: tokio::sync::Notify,
}

impl SlowFirstSender {
    fn new(others: usize, patience: Duration) -> Self {
        Self {
            others,
            patience,
            calls: std::sync::atomic::AtomicUsize::new(0),
            slowed: std::sync::Mutex::new(None),
            delivered: std::sync::Mutex::new(Vec::new()),
            arrived: tokio::sync::Notify::new(),
        }
    }
}

#[async_trait::async_trait]
impl ReplySender for SlowFirstSender {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(
        &self,
        reply: &fte_channels::OutboundReply,
    ) -> Result<fte_channels::SendReceipt, SendError> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            *self.slowed.lock().unwrap() = Some(reply.idempotency_key.clone());
            let others_arrived = async {
                loop {
                    let arrived = self.arrived.notified();
                    if self.delivered.lock().unwrap().len() >= self.others {
                        return;
                    }
                    arrived.await;
                }
            };
            let _ = tokio::time::timeout(self.patience, others_arrived).await;
        }
        self.delivered
            .lock()
            .unwrap()
            .push(reply.idempotency_key.clone());
        self.arrived.notify_waiters();
        Ok(receipt_for(reply))
    }

    async fn reconcile(
        &self,
        _reply: &fte_channels::OutboundReply,
    ) -> Result<Option<fte_channels::SendReceipt>, SendError> {
        Ok(None)
    }
}

#[tokio::test]
async fn one_slow_provider_call_does_not_hold_back_other_conversations_replies() {
    let h = harness().await;
    queue_three_emails(&h, "side", None).await;
    // The first call returns once the other two reached the provider (or
    // after 20 s, when they wait behind it).
    let provider = Arc::new(SlowFirstSender::new(2, Duration::from_secs(20)));
    let mut sender = channel_sender(&h, provider.clone());
    // The first call may wait on a loaded machine: it must not time out.
    sender.config.send_timeout = Duration::from_secs(30);
    sender.config.sending_lease = Duration::from_secs(120);

    assert_eq!(
        sender.send_due().await.unwrap(),
        3,
        "one round claims all three"
    );

    let slowed = provider
        .slowed
        .lock()
        .unwrap()
        .clone()
        .expect("a first call");
    let delivered = provider.delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), 3);
    assert_eq!(
        delivered.last(),
        Some(&slowed),
        "the other conversations' replies went out while the first call waited"
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from reply_outbox where status = 'sent'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn one_conversation_s_replies_reach_the_provider_in_order() {
    let h = harness().await;
    queue_three_emails(&h, "order", Some("order@example.com")).await;
    let conversation: uuid::Uuid =
        sqlx::query_scalar("select distinct conversation_id from reply_outbox")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    let queued: Vec<String> = outbox::replies_of_conversation(&h.pool, conversation)
        .await
        .unwrap()
        .iter()
        .map(|reply| {
            reply.payload["idempotency_key"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(queued.len(), 3);
    // The first call waits a while for later replies to overtake it; none
    // may.
    let provider = Arc::new(SlowFirstSender::new(2, Duration::from_millis(500)));
    let sender = channel_sender(&h, provider.clone());

    assert_eq!(sender.send_due().await.unwrap(), 3);

    assert_eq!(
        provider.slowed.lock().unwrap().as_deref(),
        Some(queued[0].as_str()),
        "the oldest reply goes first"
    );
    assert_eq!(
        *provider.delivered.lock().unwrap(),
        queued,
        "a slow first call does not let a later reply overtake it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_senders_and_an_expired_lease_deliver_each_reply_once() {
    let h = harness().await;
    // Three replies of one conversation: a sender delivers them one after
    // another, so two wait behind the first's provider call.
    queue_three_emails(&h, "fence", Some("fence@example.com")).await;
    assert_eq!(
        count(
            &h.pool,
            "select count(distinct conversation_id) from reply_outbox"
        )
        .await,
        1
    );
    let provider = Arc::new(Provider::default());
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let started = Arc::new(tokio::sync::Notify::new());
    let slow = channel_sender(
        &h,
        Arc::new(SlowSender {
            provider: provider.clone(),
            gate: Some(gate.clone()),
            started: started.clone(),
        }),
    );
    // Sender A claims all three and is stuck in its first provider call.
    let a = tokio::spawn(async move { slow.send_due().await });
    started.notified().await;
    // Meanwhile the lease of the two replies still queued behind it runs
    // out (their claim is as old as the batch), and sender B claims them.
    let expired = sqlx::query(
        "update reply_outbox set updated_at = now() - interval '1 hour'
         where status = 'sending' and id not in (
             select id from reply_outbox where status = 'sending'
             order by updated_at desc limit 1)",
    )
    .execute(&h.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(expired, 2, "two claims of A's batch ran out");
    let fast = channel_sender(
        &h,
        Arc::new(SlowSender {
            provider: provider.clone(),
            gate: None,
            started: Arc::new(tokio::sync::Notify::new()),
        }),
    );
    assert_eq!(
        fast.send_due().await.unwrap(),
        2,
        "B claims the expired two"
    );
    // A's slow call returns; A must leave the two B now holds alone.
    gate.add_permits(10);
    a.await.unwrap().unwrap();

    let mut deliveries = provider.deliveries.lock().unwrap().clone();
    deliveries.sort();
    let mut unique = deliveries.clone();
    unique.dedup();
    assert_eq!(
        deliveries.len(),
        3,
        "three replies, three deliveries: {deliveries:?}"
    );
    assert_eq!(
        unique.len(),
        3,
        "no reply was delivered twice: {deliveries:?}"
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from reply_outbox where status = 'sent'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn a_state_change_without_the_current_claim_writes_nothing() {
    let h = harness().await;
    queue_reply(&h, Channel::Email, "g-token").await;
    let claimed = outbox::claim_due(&h.pool, "email", 10, 300).await.unwrap();
    let row = &claimed[0];
    let stale = uuid::Uuid::new_v4();
    assert!(!outbox::renew_claim(&h.pool, row.id, stale).await.unwrap());
    assert!(
        !outbox::mark_sent(&h.pool, row.id, stale, &["x".into()])
            .await
            .unwrap()
    );
    assert!(
        !outbox::mark_failed(&h.pool, row.id, stale, "x")
            .await
            .unwrap()
    );
    assert!(
        !outbox::reschedule(
            &h.pool,
            row.id,
            stale,
            "pending",
            chrono::Utc::now(),
            "x",
            false
        )
        .await
        .unwrap()
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from reply_outbox where status = 'sending'"
        )
        .await,
        1,
        "the claim holder's row is untouched"
    );
    assert!(
        outbox::renew_claim(&h.pool, row.id, row.claim_token)
            .await
            .unwrap()
    );
    assert!(
        outbox::mark_sent(&h.pool, row.id, row.claim_token, &["p-1".into()])
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_reply_committed_by_a_step_wakes_the_sender_of_the_same_process() {
    let mut h = harness().await;
    // A poll so slow that only the wake-up can deliver within the test.
    h.ctx.config = fte_worker::WorkerConfig {
        sender_poll_interval: Duration::from_secs(3600),
        ..fast_config()
    };
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    let sender = ChannelSender {
        pool: h.pool.clone(),
        sender: recorder.clone(),
        events: h.events.clone(),
        config: h.ctx.config.clone(),
    };
    let stop = CancellationToken::new();
    let running = tokio::spawn(sender.run(stop.clone()));
    // The loop has found nothing and waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(recorder.sent().is_empty());

    for id in ["g-wake-1", "g-wake-2"] {
        // Counted before: the woken sender may deliver while the handling
        // is still finishing (it relays events after the wake-up).
        let sent_before = recorder.sent().len();
        queue_reply(&h, Channel::Email, id).await;
        let waited = tokio::time::timeout(Duration::from_secs(30), async {
            while recorder.sent().len() == sent_before {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the reply to {id} waited for the poll");
    }
    stop.cancel();
    running.await.unwrap();
}
