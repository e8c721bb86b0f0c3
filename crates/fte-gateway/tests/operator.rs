//! The operator's tools for stuck messages, end to end on the real
//! PostgreSQL and the embedded broker: a message the worker dead-lettered
//! (its agent was down past the retry budget) is listed, shown and, once
//! the agent is back, replayed into a normal reply; a reply that exhausted
//! its retries is put back with `POST /outbox/{id}/retry` and delivered.
//! And what an attacker or a careless operator gets: 401 without the key,
//! 400/404/422 for bad ids and bodies, 409 for a second replay or a retry
//! of a reply that is not failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use fte_bus::consumer::dlq_headers;
use fte_bus::{KafkaPublisher, topics};
use fte_channels::SendError;
use fte_domain::events::InboundSender;
use fte_domain::{Channel, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_testkit::agents::{NoEvents, RefundAgent};
use fte_testkit::gateway::handoff::{handle, handoff, staff_post};
use fte_testkit::gateway::{STAFF_KEY, STAFF_NAME, TestApp};
use fte_worker::agent::{AgentOutcome, AgentRequest, AgentUnavailable, ReplyAgent};
use fte_worker::consumer::{self, ConsumerConfig};
use fte_worker::retry::RetryPolicy;
use fte_worker::sender::ChannelSender;
use fte_worker::{WorkerConfig, WorkerContext};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const CUSTOMER_PHONE: &str = "+14155550123";

/// The test agent, which can be taken down (infrastructure failure).
#[derive(Default)]
struct Flaky {
    inner: RefundAgent,
    down: AtomicBool,
}

#[async_trait]
impl ReplyAgent for Flaky {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        if self.down.load(Ordering::SeqCst) {
            return Err(AgentUnavailable("the model provider did not answer".into()));
        }
        self.inner.respond(request).await
    }
}

fn whatsapp(id: &str, text: &str) -> EventEnvelope<InboundMessage> {
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel: Channel::Whatsapp,
            channel_message_id: id.to_owned(),
            sender: InboundSender {
                phone: Some(CUSTOMER_PHONE.to_owned()),
                phone_verified: true,
                name: Some("Emma Brown".into()),
                ..InboundSender::default()
            },
            subject: None,
            content: text.to_owned(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: json!({}),
        },
    )
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Waits until `sql` counts `wanted`.
async fn until_count(app: &TestApp, sql: &str, wanted: i64) {
    let started = Instant::now();
    loop {
        let n = count(app, sql).await;
        if n == wanted {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{sql}: {n}, wanted {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn staff_get(app: &TestApp, path: &str) -> fte_testkit::gateway::Answer {
    app.get_as_staff(path, Some(STAFF_KEY)).await
}

/// Waits until `GET /dlq` lists `wanted` dead letters.
async fn dead_letters(app: &TestApp, wanted: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let answer = staff_get(app, "/dlq").await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let items = answer.json()["items"].as_array().unwrap().clone();
        if items.len() >= wanted {
            return items;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} dead letters, wanted {wanted}",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const REPLIES: &str = "select count(*) from reply_outbox";

#[tokio::test]
async fn a_dead_letter_is_listed_shown_and_replayed_into_one_normal_reply() {
    let h = handoff().await;
    let app = &h.app;
    let agent = Arc::new(Flaky::default());
    let ctx = WorkerContext {
        pool: app.pool.clone(),
        agent: agent.clone(),
        events: Arc::new(NoEvents),
        config: WorkerConfig::default(),
    };
    let publisher = KafkaPublisher::new(&app.bootstrap).unwrap();
    let mut config = ConsumerConfig::new(format!("fte-test-{}", uuid::Uuid::new_v4().simple()));
    config.retry = RetryPolicy {
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        max_attempts: 2,
        max_elapsed: Duration::from_secs(5),
    };
    let shutdown = CancellationToken::new();
    let worker = consumer::run(
        ctx,
        &app.bootstrap,
        publisher.clone(),
        config,
        shutdown.clone(),
    );
    let scenario = async {
        let first = whatsapp("SM-dlq-1", "How do I export my board as CSV?");
        agent.down.store(true, Ordering::SeqCst);
        publisher
            .publish_json(topics::TICKETS_INCOMING, CUSTOMER_PHONE, &first)
            .await
            .unwrap();

        // Dead-lettered once the retry budget ran out; listed without content.
        let items = dead_letters(app, 1).await;
        assert_eq!(items.len(), 1, "{items:?}");
        let letter = &items[0];
        assert_eq!(letter["origin_topic"], topics::TICKETS_INCOMING);
        assert_eq!(letter["error"], "agent_unavailable");
        assert_eq!(letter["replayable"], true);
        assert_eq!(letter["key"], CUSTOMER_PHONE);
        assert!(letter["replayed_at"].is_null());
        assert!(letter.get("payload").is_none(), "{letter}");
        let listing = staff_get(app, "/dlq").await.text;
        assert!(!listing.contains("export my board"), "{listing}");
        let id = letter["id"].as_str().unwrap().to_owned();
        assert_eq!(count(app, REPLIES).await, 0);

        // Shown with its headers and the original payload.
        let detail = staff_get(app, &format!("/dlq/{id}")).await;
        assert_eq!(detail.status, 200, "{}", detail.text);
        let detail = detail.json();
        assert_eq!(detail["payload_encoding"], "utf8");
        let payload: Value = serde_json::from_str(detail["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload["payload"]["channel_message_id"], "SM-dlq-1");
        let headers = detail["headers"].as_array().unwrap();
        assert!(headers.iter().any(|h| h["name"] == dlq_headers::REASON));

        // The cause fixed, the replay becomes a normal reply.
        agent.down.store(false, Ordering::SeqCst);
        let replayed =
            staff_post(app, "/dlq/replay", &json!({ "ids": [id] }), Some(STAFF_KEY)).await;
        assert_eq!(replayed.status, 200, "{}", replayed.text);
        let report = replayed.json();
        assert_eq!(report["replayed"][0]["id"], id.as_str());
        assert_eq!(report["replayed"][0]["topic"], topics::TICKETS_INCOMING);
        until_count(app, REPLIES, 1).await;
        assert_eq!(
            count(
                app,
                "select count(*) from messages where channel_message_id = 'SM-dlq-1'"
            )
            .await,
            1
        );

        // A second replay of the same dead letter is refused.
        let again = staff_post(app, "/dlq/replay", &json!({ "ids": [id] }), Some(STAFF_KEY)).await;
        assert_eq!(again.status, 409, "{}", again.text);
        assert_eq!(again.json()["error"], "already_replayed");
        let listed = dead_letters(app, 1).await;
        assert_eq!(listed[0]["replayed_by"], STAFF_NAME);

        // A copy of an answered message, dead-lettered and replayed, is not
        // answered twice: the worker deduplicates on the channel message id.
        let second = whatsapp("SM-dlq-2", "Can I invite guests to a board?");
        publisher
            .publish_json(topics::TICKETS_INCOMING, CUSTOMER_PHONE, &second)
            .await
            .unwrap();
        until_count(app, REPLIES, 2).await;
        publisher
            .publish(
                topics::DLQ,
                CUSTOMER_PHONE,
                &serde_json::to_vec(&second).unwrap(),
                &[
                    (dlq_headers::TOPIC, topics::TICKETS_INCOMING),
                    (dlq_headers::PARTITION, "0"),
                    (dlq_headers::OFFSET, "1"),
                    (dlq_headers::ERROR, "database_unavailable"),
                    (dlq_headers::REASON, "still failing after 10 attempts"),
                ],
            )
            .await
            .unwrap();
        let all = staff_post(app, "/dlq/replay", &json!({ "all": true }), Some(STAFF_KEY)).await;
        assert_eq!(all.status, 200, "{}", all.text);
        let report = all.json();
        assert_eq!(report["replayed"].as_array().unwrap().len(), 1, "{report}");
        assert_eq!(report["skipped"][0]["id"], id.as_str());
        assert_eq!(report["skipped"][0]["reason"], "already_replayed");
        // A later message of the same customer (same partition, in order)
        // is answered after the replay was handled: two replies became three.
        let third = whatsapp("SM-dlq-3", "Is there a dark mode?");
        publisher
            .publish_json(topics::TICKETS_INCOMING, CUSTOMER_PHONE, &third)
            .await
            .unwrap();
        until_count(app, REPLIES, 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            count(app, REPLIES).await,
            3,
            "the replayed copy was answered again"
        );
        assert_eq!(agent.inner.asked(), 3);

        // Every read and replay is audited under the key's owner.
        assert_eq!(
            count(
                app,
                &format!(
                    "select count(*) from staff_audit where action = 'dlq.replay' \
                     and staff = '{STAFF_NAME}' and route = '/dlq/replay'"
                )
            )
            .await,
            2
        );
        assert!(
            count(
                app,
                "select count(*) from staff_audit where action = 'dlq.read'"
            )
            .await
                >= 1
        );
        shutdown.cancel();
    };
    let (stopped, ()) = tokio::join!(worker, scenario);
    stopped.unwrap();
}

#[tokio::test]
async fn the_dead_letter_endpoints_refuse_what_they_cannot_do() {
    let app = fte_testkit::gateway::spawn_app().await;
    for path in ["/dlq", "/dlq/0-0", "/outbox/failed"] {
        assert_eq!(app.get_as_staff(path, None).await.status, 401, "{path}");
        assert_eq!(
            app.get_as_staff(path, Some("not-a-key")).await.status,
            401,
            "{path}"
        );
    }
    for (body, key) in [
        (json!({ "all": true }), None),
        (json!({ "all": true }), Some("x")),
    ] {
        assert_eq!(
            staff_post(&app, "/dlq/replay", &body, key).await.status,
            401
        );
    }
    assert_eq!(
        staff_post(
            &app,
            &format!("/outbox/{}/retry", uuid::Uuid::new_v4()),
            &json!({}),
            None
        )
        .await
        .status,
        401
    );

    let unknown = staff_get(&app, "/dlq/0-4096").await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    for bad in ["abc", "0-", "-1", "1-2-3", "0-99999999999999999999"] {
        let answer = staff_get(&app, &format!("/dlq/{bad}")).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
        assert_eq!(answer.json()["error"], "invalid_dead_letter_id");
    }
    for query in [
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "limit=0",
        "limit=1001",
    ] {
        let answer = staff_get(&app, &format!("/dlq?{query}")).await;
        assert_eq!(answer.status, 422, "{query}: {}", answer.text);
    }
    // A window that ends before it starts holds nothing.
    let empty = staff_get(
        &app,
        "/dlq?since=2026-12-05T10:00:00Z&until=2026-12-05T09:00:00Z",
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.json()["items"], json!([]));
    for body in [
        json!({}),
        json!({ "all": false }),
        json!({ "ids": [] }),
        json!({ "ids": ["zero"] }),
        json!({ "ids": ["0-1"], "all": true }),
        json!({ "since": "not a time" }),
    ] {
        let answer = staff_post(&app, "/dlq/replay", &body, Some(STAFF_KEY)).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text);
    }
    let unknown = staff_post(
        &app,
        "/dlq/replay",
        &json!({ "ids": ["0-4096"] }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let extra = staff_post(
        &app,
        "/dlq/replay",
        &json!({ "all": true, "x": 1 }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(extra.status, 422, "{}", extra.text);

    // A failed reply's dead letter has no topic to go back to.
    let publisher = KafkaPublisher::new(&app.bootstrap).unwrap();
    let delivery = publisher
        .publish(
            topics::DLQ,
            "conversation",
            b"{}",
            &[
                (dlq_headers::TOPIC, "reply_outbox"),
                (dlq_headers::ERROR, "send_failed"),
                (dlq_headers::REASON, "permanent failure: 400"),
            ],
        )
        .await
        .unwrap();
    let id = format!("{}-{}", delivery.partition, delivery.offset);
    let refused = staff_post(
        &app,
        "/dlq/replay",
        &json!({ "ids": [id] }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.json()["error"], "not_replayable");
    assert!(refused.text.contains("outbox retry"), "{}", refused.text);
    let ranged = staff_post(
        &app,
        "/dlq/replay",
        &json!({ "since": "2000-01-01T00:00:00Z" }),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(ranged.status, 200, "{}", ranged.text);
    assert_eq!(ranged.json()["skipped"][0]["reason"], "not_replayable");
    assert_eq!(ranged.json()["replayed"], json!([]));

    for bad in ["nope", "123"] {
        let answer = staff_post(
            &app,
            &format!("/outbox/{bad}/retry"),
            &json!({}),
            Some(STAFF_KEY),
        )
        .await;
        assert_eq!(answer.status, 400, "{}", answer.text);
    }
    let missing = staff_post(
        &app,
        &format!("/outbox/{}/retry", uuid::Uuid::new_v4()),
        &json!({}),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.text);
    assert_eq!(staff_get(&app, "/outbox/failed?limit=0").await.status, 422);
}

fn failing_sender(app: &TestApp, recorder: &Arc<RecordingSender>) -> ChannelSender {
    ChannelSender {
        pool: app.pool.clone(),
        sender: recorder.clone(),
        events: Arc::new(NoEvents),
        config: WorkerConfig {
            max_send_attempts: 1,
            ..WorkerConfig::default()
        },
    }
}

#[tokio::test]
async fn a_reply_that_exhausted_its_retries_is_re_driven_and_delivered_once() {
    let h = handoff().await;
    let app = &h.app;
    handle(&h, &whatsapp("SM-retry-1", "How do I reset my password?")).await;
    let recorder = Arc::new(RecordingSender::new(Channel::Whatsapp));
    recorder.fail_next(SendError::Transient {
        reason: "503 from the provider".into(),
        retry_after: None,
    });
    assert_eq!(failing_sender(app, &recorder).send_due().await.unwrap(), 1);

    let listed = staff_get(app, "/outbox/failed").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", listed.text);
    assert_eq!(items[0]["channel"], "whatsapp");
    assert_eq!(items[0]["attempts"], 1);
    assert_eq!(items[0]["last_error_kind"], "transient");
    assert!(!listed.text.contains(CUSTOMER_PHONE), "{}", listed.text);
    assert!(
        !listed.text.contains("Settings"),
        "no reply body: {}",
        listed.text
    );
    let id = items[0]["id"].as_str().unwrap().to_owned();

    let retried = staff_post(
        app,
        &format!("/outbox/{id}/retry"),
        &json!({}),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(retried.status, 200, "{}", retried.text);
    assert_eq!(retried.json()["status"], "pending");
    let again = staff_post(
        app,
        &format!("/outbox/{id}/retry"),
        &json!({}),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.json()["error"], "not_failed");

    fte_testkit::gateway::handoff::deliver(app, &recorder).await;
    assert_eq!(recorder.sent().len(), 1);
    assert_eq!(
        count(
            app,
            "select count(*) from reply_outbox where status = 'sent'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            app,
            "select count(*) from messages where direction = 'outbound' and delivery_status = 'sent'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            app,
            &format!(
                "select count(*) from staff_audit where action = 'outbox.retry' \
                 and target_id = '{id}' and staff = '{STAFF_NAME}' and status in (200, 409)"
            )
        )
        .await,
        2,
        "the retry and the refused second one"
    );
    assert_eq!(
        staff_get(app, "/outbox/failed").await.json()["items"],
        json!([])
    );
}

#[tokio::test]
async fn a_reply_whose_last_outcome_was_unknown_is_reconciled_not_sent_twice() {
    let h = handoff().await;
    let app = &h.app;
    handle(&h, &whatsapp("SM-retry-2", "How do I reset my password?")).await;
    let recorder = Arc::new(RecordingSender::new(Channel::Whatsapp));
    // The provider took it, but the answer was lost.
    recorder.accept_then_fail(SendError::Unknown {
        reason: "connection reset".into(),
    });
    failing_sender(app, &recorder).send_due().await.unwrap();
    assert_eq!(recorder.sent().len(), 1);
    let items = staff_get(app, "/outbox/failed").await.json()["items"].clone();
    assert_eq!(items[0]["last_error_kind"], "unknown", "{items}");
    let id = items[0]["id"].as_str().unwrap().to_owned();

    let retried = staff_post(
        app,
        &format!("/outbox/{id}/retry"),
        &json!({}),
        Some(STAFF_KEY),
    )
    .await;
    assert_eq!(retried.json()["status"], "unknown", "{}", retried.text);
    fte_testkit::gateway::handoff::deliver(app, &recorder).await;
    assert_eq!(
        recorder.sent().len(),
        1,
        "asked the provider; not sent again"
    );
    assert_eq!(
        count(
            app,
            "select count(*) from reply_outbox where status = 'sent'"
        )
        .await,
        1
    );
}
