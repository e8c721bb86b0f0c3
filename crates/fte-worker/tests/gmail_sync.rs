//! The Gmail sync against FakeGmail, a fresh database and (for the
//! consumer) the embedded broker: notifications become `ticket.inbound`
//! events exactly once, synced from the history id we stored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_bus::consumer::{self as bus_consumer, dlq_headers};
use fte_bus::{Bootstrap, BrokerSource, KafkaPublisher, topics};
use fte_channels::gmail::{Mailbox, to_raw};
use fte_channels::{GuardedSender, ReplySender};
use fte_domain::{Channel, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_fakes::gmail::{FakeGmail, FakeOAuth};
use fte_runtime::settings::{GmailSettings, KafkaSettings, Lookup, Profile};
use fte_store::PgPool;
use fte_store::gmail_sync::{NEVER_SYNCED, state};
use fte_testkit::worker::{RecordingEvents, count, harness};
use fte_worker::consumer::ConsumerConfig;
use fte_worker::events::EventSink;
use fte_worker::gmail_sync::{
    self, GmailNotificationEvent, GmailSync, RECENT_INBOX_LIMIT, SyncError,
};
use fte_worker::startup::{self, Worker};
use futures::StreamExt;
use rdkafka::Message;
use tokio_util::sync::CancellationToken;

const MAILBOX: &str = "support@orbitask.example";

struct Setup {
    pool: PgPool,
    fake: FakeGmail,
    mailbox: Arc<Mailbox>,
    events: Arc<RecordingEvents>,
    sync: GmailSync,
}

/// A fresh database, a fake Gmail, and the mailbox built the way the worker
/// builds it: from settings.
async fn setup() -> Setup {
    setup_on(fte_store::testing::fresh_database().await).await
}

async fn setup_on(pool: PgPool) -> Setup {
    let fake = FakeGmail::start(
        MAILBOX,
        FakeOAuth::RefreshToken {
            client_id: "cid".into(),
            client_secret: "csecret".into(),
            refresh_token: "rtoken".into(),
        },
    )
    .await
    .unwrap();
    let (api, token) = (fake.base_url(), fake.token_url());
    let lookup = Lookup::from_fn(move |key| match key {
        "GMAIL_MAILBOX" => Some(MAILBOX.into()),
        "GMAIL_CLIENT_ID" => Some("cid".into()),
        "GMAIL_CLIENT_SECRET" => Some("csecret".into()),
        "GMAIL_REFRESH_TOKEN" => Some("rtoken".into()),
        "GMAIL_API_BASE_URL" => Some(api.clone()),
        "GMAIL_TOKEN_URL" => Some(token.clone()),
        "GMAIL_PUBSUB_TOPIC" => Some("projects/orbit-labs/topics/gmail".into()),
        _ => None,
    });
    let settings = GmailSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let mailbox = startup::gmail_mailbox(&settings)
        .unwrap()
        .expect("Gmail is configured");
    let events = Arc::new(RecordingEvents::default());
    let sink: Arc<dyn EventSink> = events.clone();
    let sync = GmailSync::new(pool.clone(), mailbox.clone(), sink);
    Setup {
        pool,
        fake,
        mailbox,
        events,
        sync,
    }
}

fn customer_mail(n: u32) -> String {
    format!(
        "From: Maria Santos <maria.{n}@customer.example>\r\nTo: {MAILBOX}\r\nSubject: Question {n}\r\nMessage-ID: <q{n}@customer.example>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHow do I turn on two-factor authentication? ({n})\r\n"
    )
}

/// The `ticket.inbound` events the sync queued, oldest first: those the
/// relay published already (it deletes them from the outbox), then those
/// still waiting there.
async fn queued_events(s: &Setup) -> Vec<serde_json::Value> {
    let mut events = s.events.on_topic(topics::TICKETS_INCOMING);
    let waiting: Vec<serde_json::Value> = sqlx::query_scalar(
        "select payload from event_outbox where topic = 'fte.tickets.incoming'
         order by created_at, id",
    )
    .fetch_all(&s.pool)
    .await
    .unwrap();
    events.extend(waiting);
    events.retain(|event| event["event_type"] == "ticket.inbound");
    events
}

/// The Gmail message ids of the `ticket.inbound` events the sync queued.
async fn queued_ids(s: &Setup) -> Vec<String> {
    queued_events(s)
        .await
        .iter()
        .map(|event| {
            event["payload"]["channel_message_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn stored_history_id(pool: &PgPool) -> i64 {
    state(pool, MAILBOX)
        .await
        .unwrap()
        .expect("the mailbox has a sync state")
        .history_id
}

#[tokio::test]
async fn a_synced_email_is_queued_and_published_as_one_ticket_inbound_event() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    let watched_at = stored_history_id(&s.pool).await;
    let (gmail_id, thread_id) = s.fake.deliver_inbound(&customer_mail(1));

    let synced = s.sync.sync(true).await.unwrap();

    assert_eq!(
        synced.from_history_id as i64, watched_at,
        "synced from the watch's id"
    );
    assert_eq!(synced.messages, 1);
    assert!(!synced.full_sync, "an incremental sync, not a full one");
    assert_eq!(queued_ids(&s).await, vec![gmail_id.clone()]);
    let published = s.events.on_topic(topics::TICKETS_INCOMING);
    assert_eq!(published.len(), 1, "the outbox event is relayed right away");
    let event: EventEnvelope<InboundMessage> =
        serde_json::from_value(published[0].clone()).unwrap();
    assert_eq!(event.event_type, "ticket.inbound");
    assert_eq!(event.payload.channel, Channel::Email);
    assert_eq!(event.payload.channel_message_id, gmail_id);
    assert_eq!(event.payload.metadata["thread_id"], thread_id);
    assert_eq!(
        count(&s.pool, "select count(*) from event_outbox").await,
        0,
        "the relayed event leaves the outbox"
    );
    let key = &s.events.published.lock().unwrap()[0].1.clone();
    assert_eq!(key, &event.payload.partition_key(), "keyed by the customer");
}

/// The `email_verified` flag of each `ticket.inbound` event the sync
/// queued, oldest first.
async fn queued_verification(s: &Setup) -> Vec<bool> {
    queued_events(s)
        .await
        .iter()
        .map(|event| {
            event["payload"]["sender"]["email_verified"]
                .as_bool()
                .unwrap_or(false)
        })
        .collect()
}

#[tokio::test]
async fn a_sender_is_proven_only_through_an_authenticated_push_and_gmails_pass() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();

    s.fake.deliver_inbound(&customer_mail(1));
    s.sync.sync(true).await.unwrap();
    s.fake.deliver_inbound_spoofed(&customer_mail(2));
    s.sync.sync(true).await.unwrap();
    s.fake.deliver_inbound(&customer_mail(3));
    s.sync.sync(false).await.unwrap();

    assert_eq!(
        queued_verification(&s).await,
        vec![true, false, false],
        "authenticated push + DMARC pass; a forged From; an unverified push"
    );
}

#[tokio::test]
async fn the_stored_history_id_advances_and_the_next_sync_starts_from_it() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    let (first, _) = s.fake.deliver_inbound(&customer_mail(1));
    let one = s.sync.sync(true).await.unwrap();
    assert_eq!(stored_history_id(&s.pool).await as u64, s.fake.history_id());
    assert_eq!(one.history_id, s.fake.history_id());

    let (second, _) = s.fake.deliver_inbound(&customer_mail(2));
    let two = s.sync.sync(true).await.unwrap();

    assert_eq!(
        two.from_history_id, one.history_id,
        "started from the stored id"
    );
    assert_eq!(two.messages, 1, "only the new email");
    assert_eq!(queued_ids(&s).await, vec![first, second]);
    assert_eq!(stored_history_id(&s.pool).await as u64, s.fake.history_id());

    // A stored id ahead of a message means that message was synced: the
    // sync trusts our row, whatever else it is told.
    s.fake.deliver_inbound(&customer_mail(3));
    fte_store::gmail_sync::store_history_id(&s.pool, MAILBOX, s.fake.history_id())
        .await
        .unwrap();
    let three = s.sync.sync(true).await.unwrap();
    assert_eq!(three.messages, 0, "nothing after the stored id");
}

#[tokio::test]
async fn our_own_sent_messages_are_skipped() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    let reply = format!(
        "From: Orbitask Support <{MAILBOX}>\r\nTo: maria.1@customer.example\r\nSubject: Re: Question 1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHere is how.\r\n"
    );
    s.mailbox
        .client()
        .send_raw(&to_raw(&reply), None)
        .await
        .unwrap();
    let (customer, _) = s.fake.deliver_inbound(&customer_mail(1));
    assert_eq!(s.fake.sent().len(), 1, "the fake holds our SENT reply");

    let synced = s.sync.sync(true).await.unwrap();

    assert_eq!(synced.messages, 1, "only the customer's email");
    assert_eq!(queued_ids(&s).await, vec![customer]);
}

#[tokio::test]
async fn a_404_from_history_runs_the_bounded_recent_inbox_sync() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    let total = RECENT_INBOX_LIMIT + 5;
    let ids: Vec<String> = (0..total)
        .map(|n| s.fake.deliver_inbound(&customer_mail(n)).0)
        .collect();
    s.fake.expire_history();

    let synced = s.sync.sync(true).await.unwrap();

    assert!(synced.full_sync, "the 404 switched to the full sync");
    assert_eq!(synced.messages, RECENT_INBOX_LIMIT as usize, "bounded");
    assert_eq!(
        queued_ids(&s).await,
        ids[5..].to_vec(),
        "the newest {RECENT_INBOX_LIMIT}, oldest first"
    );
    assert_eq!(stored_history_id(&s.pool).await as u64, s.fake.history_id());
    let again = s.sync.sync(true).await.unwrap();
    assert!(!again.full_sync, "back to incremental from the stored id");
    assert_eq!(again.messages, 0);
}

/// The cursor a busy earlier run left behind, far ahead of a new mailbox.
const CURSOR_OF_A_BUSY_RUN: i64 = 7342;

async fn move_cursor_to(pool: &PgPool, history_id: i64) {
    sqlx::query("update gmail_sync_state set history_id = $1")
        .bind(history_id)
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cursor_ahead_of_the_mailbox_runs_the_bounded_sync_and_resets_the_cursor() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    move_cursor_to(&s.pool, CURSOR_OF_A_BUSY_RUN).await;
    let ids: Vec<String> = (0..2)
        .map(|n| s.fake.deliver_inbound(&customer_mail(n)).0)
        .collect();

    let synced = s
        .sync
        .sync_notified(true, Some(s.fake.history_id()))
        .await
        .unwrap();

    assert!(
        synced.full_sync,
        "the cursor ahead switched to the full sync"
    );
    assert_eq!(queued_ids(&s).await, ids, "both emails, oldest first");
    assert_eq!(
        stored_history_id(&s.pool).await as u64,
        s.fake.history_id(),
        "the cursor is reset to the mailbox's id, not kept at the larger one"
    );
    let (next, _) = s.fake.deliver_inbound(&customer_mail(3));
    let again = s.sync.sync(true).await.unwrap();
    assert!(
        !again.full_sync,
        "back to incremental from the reset cursor"
    );
    assert_eq!(queued_ids(&s).await.last(), Some(&next));
}

#[tokio::test]
async fn a_late_notification_behind_a_valid_cursor_keeps_the_incremental_sync() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    let stale = s.fake.history_id();
    s.fake.deliver_inbound(&customer_mail(1));
    s.sync.sync(true).await.unwrap();
    let (next, _) = s.fake.deliver_inbound(&customer_mail(2));

    let synced = s.sync.sync_notified(true, Some(stale)).await.unwrap();

    assert!(
        !synced.full_sync,
        "the mailbox confirms the cursor: no full sync"
    );
    assert_eq!(queued_ids(&s).await.last(), Some(&next));
}

#[tokio::test]
async fn a_first_notification_without_a_stored_id_runs_the_bounded_sync() {
    let s = setup().await;
    let (gmail_id, _) = s.fake.deliver_inbound(&customer_mail(1));

    let synced = s.sync.sync(true).await.unwrap();

    assert_eq!(synced.from_history_id, NEVER_SYNCED);
    assert!(synced.full_sync);
    assert_eq!(queued_ids(&s).await, vec![gmail_id]);
    assert_eq!(stored_history_id(&s.pool).await as u64, s.fake.history_id());
}

#[tokio::test]
async fn a_gmail_outage_is_transient_and_stores_nothing() {
    let s = setup().await;
    s.sync.start_watch().await.unwrap();
    let before = stored_history_id(&s.pool).await;
    s.fake.deliver_inbound(&customer_mail(1));
    s.fake.go_down().await;

    let error = s.sync.sync(true).await.expect_err("Gmail is down");

    assert!(matches!(error, SyncError::Gmail(_)), "{error:?}");
    assert!(error.is_transient(), "an outage is retried: {error:?}");
    assert_eq!(
        stored_history_id(&s.pool).await,
        before,
        "the id did not move"
    );
    assert!(queued_ids(&s).await.is_empty());
    s.fake.come_back().await.unwrap();
    assert_eq!(
        s.sync.sync(true).await.unwrap().messages,
        1,
        "synced once back"
    );
}

fn kafka_settings() -> KafkaSettings {
    fte_testkit::broker::group_settings()
}

async fn notify(publisher: &KafkaPublisher, mailbox: &str, history_id: u64) {
    let envelope = EventEnvelope::new(
        "gmail.notification",
        Utc::now(),
        GmailNotificationEvent {
            email_address: mailbox.into(),
            history_id,
            pubsub_message_id: Some("pubsub-1".into()),
            authenticated: true,
        },
    );
    publisher
        .publish_json(topics::EMAIL_INBOUND, mailbox, &envelope)
        .await
        .unwrap();
}

/// Every message on `topic` (read by a new group) until `quiet` passes
/// without a new one, waiting at most 60 s for the first `expected`.
async fn read_all(
    bootstrap: &Bootstrap,
    topic: &str,
    expected: usize,
    quiet: Duration,
) -> Vec<(Vec<u8>, Option<String>)> {
    let group = format!("fte-test-reader-{}", uuid::Uuid::new_v4().simple());
    let consumer = bus_consumer::at_least_once(bootstrap, &group, &[topic]).unwrap();
    let mut stream = consumer.stream();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let wait = if seen.len() >= expected {
            quiet
        } else {
            deadline.saturating_duration_since(tokio::time::Instant::now())
        };
        match tokio::time::timeout(wait, stream.next()).await {
            Ok(Some(Ok(m))) => seen.push((
                m.payload().unwrap_or_default().to_vec(),
                bus_consumer::header(&m, dlq_headers::ERROR).map(str::to_owned),
            )),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_notification_delivered_twice_yields_exactly_one_ticket_inbound_event_on_kafka() {
    let s = setup().await;
    let bootstrap = Bootstrap::resolve(&kafka_settings()).await.unwrap();
    assert_eq!(bootstrap.source, BrokerSource::Embedded);
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    // The consumer publishes through Kafka, as in production.
    let sink: Arc<dyn EventSink> = Arc::new(publisher.clone());
    let sync = GmailSync::new(s.pool.clone(), s.mailbox.clone(), sink);
    sync.start_watch().await.unwrap();
    let (first, _) = s.fake.deliver_inbound(&customer_mail(1));
    // Poison first: undecodable, and a mailbox that is not ours.
    publisher
        .publish(topics::EMAIL_INBOUND, MAILBOX, b"{not json", &[])
        .await
        .unwrap();
    notify(
        &publisher,
        "someone.else@orbitask.example",
        s.fake.history_id(),
    )
    .await;
    // Twice, as Pub/Sub may redeliver; the ids they carry are not ours to
    // sync from (one is far ahead of the mailbox).
    notify(&publisher, MAILBOX, s.fake.history_id() + 1_000).await;
    notify(&publisher, MAILBOX, s.fake.history_id()).await;

    let shutdown = CancellationToken::new();
    let mut config = ConsumerConfig::new(gmail_sync::GROUP);
    config.retry.base = Duration::from_millis(50);
    let bootstrap = Arc::new(bootstrap);
    let task = tokio::spawn({
        let (bootstrap, publisher, stop) = (bootstrap.clone(), publisher.clone(), shutdown.clone());
        async move {
            gmail_sync::run(sync, &bootstrap, publisher, config, stop)
                .await
                .expect("the sync stops cleanly")
        }
    });
    // The first email reaches the topic (read_all waits up to 60 s).
    let first_seen = read_all(
        &bootstrap,
        topics::TICKETS_INCOMING,
        1,
        Duration::from_millis(100),
    )
    .await;
    assert!(!first_seen.is_empty(), "the email was never synced");
    // A later email and notification: processed in order, so both earlier
    // notifications are done once this one is.
    let (second, _) = s.fake.deliver_inbound(&customer_mail(2));
    notify(&publisher, MAILBOX, s.fake.history_id()).await;

    // Both, and then 5 s in which no duplicate arrives.
    let inbound = read_all(
        &bootstrap,
        topics::TICKETS_INCOMING,
        2,
        Duration::from_secs(5),
    )
    .await;
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for (payload, _) in &inbound {
        let event: EventEnvelope<InboundMessage> = serde_json::from_slice(payload).unwrap();
        assert_eq!(event.event_type, "ticket.inbound");
        *per_id.entry(event.payload.channel_message_id).or_default() += 1;
    }
    assert_eq!(
        per_id,
        HashMap::from([(first, 1), (second, 1)]),
        "each email exactly once on fte.tickets.incoming"
    );
    let dead = read_all(&bootstrap, topics::DLQ, 2, Duration::from_secs(1)).await;
    let mut errors: Vec<Option<String>> = dead.into_iter().map(|(_, e)| e).collect();
    errors.sort();
    assert_eq!(
        errors,
        vec![Some("foreign_mailbox".into()), Some("undecodable".into())],
        "poison notifications are dead-lettered"
    );
    assert!(
        queued_ids(&s).await.is_empty(),
        "nothing left in the outbox: both events were published"
    );
    shutdown.cancel();
    task.await.unwrap();
}

/// The whole worker (`startup::run`, with the Gmail sync and the message
/// consumer) on the harness's database, the fake Gmail of `s`, and a fresh
/// embedded broker; returns once the watch is recorded.
struct Running {
    publisher: KafkaPublisher,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), startup::StartupError>>,
}

async fn run_worker(h: &fte_testkit::worker::Harness, s: &Setup, group: &str) -> Running {
    let bootstrap = Arc::new(Bootstrap::resolve(&kafka_settings()).await.unwrap());
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let sink: Arc<dyn EventSink> = Arc::new(publisher.clone());
    let senders = Channel::ALL
        .iter()
        .map(|c| {
            let sender: Arc<dyn ReplySender> = Arc::new(RecordingSender::new(*c));
            Arc::new(GuardedSender::new(sender, 1, Duration::from_secs(60)))
        })
        .collect();
    let mut ctx = h.ctx.clone();
    ctx.events = sink.clone();
    let worker = Worker {
        ctx,
        bootstrap,
        publisher: publisher.clone(),
        senders,
        enabled: Default::default(),
        readiness: Default::default(),
        consumer: ConsumerConfig::new(group),
        probe_addr: None,
        gmail: Some(GmailSync::new(h.pool.clone(), s.mailbox.clone(), sink)),
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(startup::run(worker, shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while state(&h.pool, MAILBOX).await.unwrap().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watch was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Running {
        publisher,
        shutdown,
        task,
    }
}

async fn wait_for_answers(pool: &PgPool, expected: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(
        pool,
        "select count(*) from messages where role = 'agent' and channel = 'email'",
    )
    .await
        < expected
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the email was never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_running_worker_starts_the_watch_and_answers_an_email_announced_by_a_notification() {
    let h = harness().await;
    let s = setup_on(h.pool.clone()).await;
    let running = run_worker(&h, &s, "fte-test-gmail-run").await;
    assert_eq!(s.fake.watches().len(), 1, "one watch at start-up");

    let (gmail_id, _) = s.fake.deliver_inbound(&customer_mail(1));
    notify(&running.publisher, MAILBOX, s.fake.history_id()).await;

    wait_for_answers(&h.pool, 1).await;
    let stored: Vec<String> = sqlx::query_scalar(
        "select channel_message_id from messages where role = 'customer' and channel = 'email'",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(stored, vec![gmail_id], "the customer's email, stored once");
    running.shutdown.cancel();
    running
        .task
        .await
        .unwrap()
        .expect("the worker stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poisoned_email_is_synced_sanitised_and_answered_and_the_next_one_follows() {
    let h = harness().await;
    let s = setup_on(h.pool.clone()).await;
    let running = run_worker(&h, &s, "fte-test-gmail-poison").await;
    let poisoned = format!(
        "From: {} <maria.1@customer.example>\r\nTo: {MAILBOX}\r\nSubject: {}\r\nMessage-ID: <p1@customer.example>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nWhere is the\0 export button?\r\n",
        "N".repeat(300),
        "s".repeat(600)
    );
    s.fake.deliver_inbound(&poisoned);
    notify(&running.publisher, MAILBOX, s.fake.history_id()).await;
    wait_for_answers(&h.pool, 1).await;
    let subject: i32 = sqlx::query_scalar("select char_length(subject) from tickets")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(
        subject, 500,
        "the 600-character subject is cut to its column"
    );
    let name: i32 = sqlx::query_scalar("select char_length(name) from customers")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert!(name <= 255, "the name fits its column");

    // The same customer writes again: answered within seconds.
    let started = std::time::Instant::now();
    s.fake.deliver_inbound(&customer_mail(1));
    notify(&running.publisher, MAILBOX, s.fake.history_id()).await;
    wait_for_answers(&h.pool, 2).await;
    eprintln!(
        "the next email was answered {:?} after its notification",
        started.elapsed()
    );
    running.shutdown.cancel();
    running
        .task
        .await
        .unwrap()
        .expect("the worker stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_mailbox_behind_the_stored_cursor_still_gets_its_email_answered() {
    let h = harness().await;
    // A first run answers an email, and leaves the cursor of a busy day.
    let before = setup_on(h.pool.clone()).await;
    let running = run_worker(&h, &before, "fte-test-gmail-restart-1").await;
    let (first_id, _) = before.fake.deliver_inbound(&customer_mail(1));
    notify(&running.publisher, MAILBOX, before.fake.history_id()).await;
    wait_for_answers(&h.pool, 1).await;
    running.shutdown.cancel();
    running
        .task
        .await
        .unwrap()
        .expect("the worker stops cleanly");
    move_cursor_to(&h.pool, CURSOR_OF_A_BUSY_RUN).await;
    before.fake.go_down().await;

    // The fake mailbox starts over (history ids from 1000) on the same database.
    let after = setup_on(h.pool.clone()).await;
    let running = run_worker(&h, &after, "fte-test-gmail-restart-2").await;
    let (second_id, _) = after.fake.deliver_inbound(&customer_mail(2));
    assert!(
        after.fake.history_id() < CURSOR_OF_A_BUSY_RUN as u64,
        "the restarted mailbox is behind the stored cursor"
    );
    assert_ne!(
        second_id, first_id,
        "a restarted mailbox never reuses an id"
    );
    notify(&running.publisher, MAILBOX, after.fake.history_id()).await;

    wait_for_answers(&h.pool, 2).await;
    assert!(
        stored_history_id(&h.pool).await < CURSOR_OF_A_BUSY_RUN,
        "the cursor was reset to the restarted mailbox's id"
    );
    // A notification with the cursor ahead again finds the email stored:
    // the full sync does not queue it a second time.
    move_cursor_to(&h.pool, CURSOR_OF_A_BUSY_RUN).await;
    let synced = after
        .sync
        .sync_notified(true, Some(after.fake.history_id()))
        .await
        .unwrap();
    assert!(synced.full_sync);
    assert_eq!(synced.messages, 0, "the stored email is not queued again");
    running.shutdown.cancel();
    running
        .task
        .await
        .unwrap()
        .expect("the worker stops cleanly");
}
