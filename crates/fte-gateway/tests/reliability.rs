//! The gateway and the worker's real consumer on one embedded broker (one
//! partition, so every message shares the partition of the poison before
//! it): a poisoned message on each channel is sanitised and answered or
//! dead-lettered with its reason, and the next message is answered within
//! seconds; a burst over the per-customer rate limit is answered in full.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use fte_bus::consumer::{self as bus_consumer, dlq_headers};
use fte_bus::{KafkaPublisher, topics};
use fte_domain::events::InboundSender;
use fte_domain::format::{self, Recipient};
use fte_domain::{Channel, EventEnvelope, InboundMessage};
use fte_testkit::gateway::{TWILIO_TOKEN, TestApp, spawn_app, valid_form};
use fte_worker::agent::{AgentOutcome, AgentRequest, AgentUnavailable, ReplyAgent};
use fte_worker::consumer::{self, ConsumerConfig};
use fte_worker::events::{EventSink, relay_pending};
use fte_worker::{WorkerConfig, WorkerContext};
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Answers every message, except that its infrastructure "fails" for any
/// message containing `POISON`. Keeps every message it was asked.
#[derive(Default)]
struct Agent {
    asked: Mutex<Vec<String>>,
}

const POISON: &str = "crash-the-agent";

#[async_trait]
impl ReplyAgent for Agent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        self.asked.lock().unwrap().push(request.message.clone());
        if request.message.contains(POISON) {
            return Err(AgentUnavailable("model endpoint refused".into()));
        }
        let reference = request.ticket_id.to_string();
        let recipient = Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        Ok(AgentOutcome {
            reply: format::format_reply(request.channel, recipient, "Here is how."),
            escalation: None,
            resolve_ticket: false,
            ticket_category: None,
            sentiment: 0.0,
            usage: fte_domain::TokenUsage::chat(1, 0),
            latency_ms: 1,
            tool_calls: json!([]),
        })
    }
}

/// The worker's consumer and event relay, running until dropped.
struct Worker {
    stop: CancellationToken,
    consumer: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Worker {
    /// Stops the consumer and waits (a minute at most) until it has left
    /// the group, while the broker is still up: a consumer dropped with the
    /// runtime after the broker is gone would wait for it forever.
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(consumer) = self.consumer.take() {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(60), consumer).await;
                })
            });
        }
    }
}

/// Starts the consumer (retrying a transient failure 3 times, 50 ms apart
/// at first) and a relay that publishes the worker's events every 200 ms.
fn start_worker(app: &Arc<TestApp>, config: WorkerConfig) -> Worker {
    let publisher = KafkaPublisher::new(&app.bootstrap).unwrap();
    let sink: Arc<dyn EventSink> = Arc::new(publisher.clone());
    let ctx = WorkerContext {
        pool: app.pool.clone(),
        agent: Arc::new(Agent::default()),
        events: sink.clone(),
        config,
    };
    let stop = CancellationToken::new();
    let mut consumer_config = ConsumerConfig::new("fte-test-reliability");
    consumer_config.retry.base = Duration::from_millis(50);
    consumer_config.retry.max_attempts = 3;
    let (app_for_consumer, token) = (app.clone(), stop.clone());
    let consumer = tokio::spawn(async move {
        let bootstrap = &app_for_consumer.bootstrap;
        consumer::run(ctx, bootstrap, publisher, consumer_config, token)
            .await
            .expect("the consumer stops cleanly");
    });
    let (pool, token) = (app.pool.clone(), stop.clone());
    tokio::spawn(async move {
        while !token.is_cancelled() {
            let _ = relay_pending(&pool, sink.as_ref(), 500).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    Worker {
        stop,
        consumer: Some(consumer),
    }
}

/// Waits until `sql` counts at least `expected`, at most `limit`.
async fn wait_for(app: &TestApp, sql: &str, expected: i64, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let n = app.count(sql).await;
        if n >= expected {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "`{sql}` reached {n}, not {expected}, within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The dead letters on `fte.dlq`: each one's kind and reason headers.
async fn dead_letters(app: &TestApp, wanted: usize) -> Vec<(String, String)> {
    let group = format!("reliability-dlq-{}", uuid::Uuid::new_v4().simple());
    let consumer = bus_consumer::at_least_once(&app.bootstrap, &group, &[topics::DLQ]).unwrap();
    let mut stream = consumer.stream();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < wanted {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(Ok(message))) => seen.push((
                bus_consumer::header(&message, dlq_headers::ERROR)
                    .unwrap_or_default()
                    .to_owned(),
                bus_consumer::header(&message, dlq_headers::REASON)
                    .unwrap_or_default()
                    .to_owned(),
            )),
            _ => break,
        }
    }
    seen
}

/// Publishes `message` on `fte.tickets.incoming` as a producer that skips
/// the gateway's checks would (an older gateway, a replay tool).
async fn publish_raw(app: &TestApp, envelope: &EventEnvelope<InboundMessage>) {
    let publisher = KafkaPublisher::new(&app.bootstrap).unwrap();
    publisher
        .publish_json(
            topics::TICKETS_INCOMING,
            &envelope.payload.partition_key(),
            envelope,
        )
        .await
        .unwrap();
}

fn raw_message(
    channel: Channel,
    id: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> EventEnvelope<InboundMessage> {
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel,
            channel_message_id: id.to_owned(),
            sender: InboundSender {
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
                name: Some(format!("Ana\0 {}", "é".repeat(300))),
                ..InboundSender::default()
            },
            subject: (channel != Channel::Whatsapp).then(|| format!("\0{}", "s".repeat(600))),
            content: "Where is\0 the export button?".into(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: json!({ "thread_id": "t\0-1" }),
        },
    )
}

const ANSWERED: &str =
    "select count(*) from messages where direction = 'outbound' and role = 'agent'";

fn whatsapp(sid: &str, from: &str, body: &str, name: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", sid),
        ("From", from),
        ("To", "whatsapp:+14155238886"),
        ("Body", body),
        ("NumMedia", "0"),
        ("ProfileName", name),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poisoned_messages_on_every_channel_never_stall_the_partition() {
    let app = Arc::new(spawn_app().await);
    let _worker = start_worker(&app, WorkerConfig::default());

    // WhatsApp through the signed webhook: a NUL in the body, a 300-character
    // profile name. Sanitised at the edge, answered.
    let long_name = format!("\0{}", "N".repeat(300));
    let poisoned = whatsapp(
        "SM-p1",
        "whatsapp:+14155550100",
        "export\0 help",
        &long_name,
    );
    let accepted = app
        .post_twilio("/webhooks/whatsapp", &poisoned, Some(TWILIO_TOKEN))
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    // The same poison from producers that skip the edge, on every channel:
    // the worker sanitises again before storing.
    publish_raw(
        &app,
        &raw_message(Channel::Whatsapp, "SM-raw", None, Some("+14155550100")),
    )
    .await;
    publish_raw(
        &app,
        &raw_message(Channel::Email, "gmail-raw", Some("emma@example.com"), None),
    )
    .await;
    publish_raw(
        &app,
        &raw_message(Channel::WebForm, "web-raw", Some("ana@example.com"), None),
    )
    .await;
    // Poison no sanitising can save: an event of an unknown version, one
    // without any identity, and one whose agent turn keeps failing.
    let mut unknown_version =
        raw_message(Channel::Email, "gmail-v99", Some("emma@example.com"), None);
    unknown_version.schema_version = 99;
    publish_raw(&app, &unknown_version).await;
    publish_raw(
        &app,
        &raw_message(Channel::WebForm, "web-nobody", Some("not an address"), None),
    )
    .await;
    let mut failing = raw_message(
        Channel::Email,
        "gmail-fails",
        Some("emma@example.com"),
        None,
    );
    failing.payload.content = format!("please {POISON}");
    publish_raw(&app, &failing).await;

    wait_for(&app, ANSWERED, 4, Duration::from_secs(60)).await;
    let subjects: Vec<i32> = sqlx::query_scalar(
        "select char_length(subject) from tickets where subject is not null order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(
        subjects.contains(&500),
        "a 600-character subject is cut to 500: {subjects:?}"
    );
    let names: Vec<i32> =
        sqlx::query_scalar("select char_length(name) from customers where name is not null")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(
        names.iter().all(|n| *n <= 255),
        "names fit their column: {names:?}"
    );

    let mut dead = dead_letters(&app, 3).await;
    dead.sort();
    let kinds: Vec<&str> = dead.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["agent_unavailable", "invalid", "unsupported_version"],
        "each poison dead-lettered with its kind: {dead:?}"
    );
    assert!(
        dead[0].1.starts_with("still failing after 3 attempts"),
        "a transient failure is retried a bounded number of times: {}",
        dead[0].1
    );
    assert_eq!(dead[1].1, "the sender has no valid email or phone");
    for (_, reason) in &dead {
        assert!(
            !reason.contains("export") && !reason.contains(POISON),
            "no content in {reason}"
        );
    }

    // The partition moved on: the next messages on every channel are answered.
    let before = app.count(ANSWERED).await;
    let next = whatsapp("SM-next", "whatsapp:+14155550100", "and the API?", "Emma");
    assert_eq!(
        app.post_twilio("/webhooks/whatsapp", &next, Some(TWILIO_TOKEN))
            .await
            .status,
        200
    );
    assert_eq!(app.submit(&valid_form()).await.status, 200);
    let took = wait_for(&app, ANSWERED, before + 2, Duration::from_secs(30)).await;
    eprintln!("the next two messages were answered {took:?} after they were accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_40_web_forms_from_one_customer_is_answered_in_full() {
    let app = Arc::new(
        fte_testkit::gateway::spawn_app_with(fte_testkit::gateway::Options {
            vars: vec![("SUBMIT_RATE_LIMIT_PER_MINUTE", "1000".into())],
            ..fte_testkit::gateway::Options::default()
        })
        .await,
    );
    let _worker = start_worker(
        &app,
        WorkerConfig {
            // Long enough that the whole burst lands in one window even on a
            // slow machine: the count is of messages stored within the window.
            rate_limit_window: Duration::from_secs(15),
            ..WorkerConfig::default()
        },
    );
    for i in 0..40 {
        let mut form = valid_form();
        form["subject"] = json!(format!("Question number {i}"));
        form["message"] = json!(format!("This is my question number {i}, please help."));
        let answer = app.submit(&form).await;
        assert_eq!(answer.status, 200, "submission {i}: {}", answer.text);
    }

    wait_for(
        &app,
        "select count(*) from messages where direction = 'inbound' and metadata ? 'processed_at'",
        40,
        Duration::from_secs(120),
    )
    .await;
    let unanswered = app
        .count(
            "select count(*) from tickets t where not exists (
                 select 1 from messages m where m.conversation_id = t.conversation_id
                 and m.direction = 'outbound' and m.role = 'agent')",
        )
        .await;
    assert_eq!(
        unanswered, 0,
        "every one of the 40 tickets has the agent's answer"
    );
    assert_eq!(
        app.count("select count(*) from messages where metadata->>'kind' = 'rate_limit_notice'")
            .await,
        1,
        "one please-wait notice for the burst"
    );
    assert!(
        app.count(
            "select count(*) from messages where direction = 'inbound' and metadata ? 'deferred_at'"
        )
        .await
            >= 29,
        "the burst beyond the limit was deferred, not dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_15_whatsapp_messages_is_answered_or_covered_in_full() {
    let app = Arc::new(spawn_app().await);
    let _worker = start_worker(
        &app,
        WorkerConfig {
            rate_limit_window: Duration::from_secs(3),
            ..WorkerConfig::default()
        },
    );
    for i in 0..15 {
        let params = whatsapp(
            &format!("SM-burst-{i:02}"),
            "whatsapp:+14155550123",
            &format!("question {i}"),
            "Emma",
        );
        let answer = app
            .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
            .await;
        assert_eq!(answer.status, 200, "message {i}: {}", answer.text);
    }

    wait_for(
        &app,
        "select count(*) from messages where direction = 'inbound' and metadata ? 'processed_at'",
        15,
        Duration::from_secs(90),
    )
    .await;
    let answers = app.count(ANSWERED).await;
    let covered = app
        .count("select count(*) from messages where metadata ? 'covered_by'")
        .await;
    assert_eq!(
        answers + covered,
        15,
        "each message has its own answer or is covered by one ({answers} answers, {covered} covered)"
    );
    assert!(covered > 0, "the surplus was folded into one answer");
    assert_eq!(
        app.count("select count(*) from messages where metadata->>'kind' = 'rate_limit_notice'")
            .await,
        1
    );
}
