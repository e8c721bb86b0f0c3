//! The attack on cross-channel memory, end to end: the gateway, the
//! worker's real consumer, the embedded broker and PostgreSQL.
//!
//! A customer signs in on the web form (identity token), writes on WhatsApp
//! and by authenticated email, each time with something only they know. An
//! attacker then names the customer's email (with the customer's phone, with
//! their own phone, alone) on the web form and writes from their own
//! WhatsApp, asking for "my previous messages" in several ways. The agent
//! is the worst case: it repeats every history entry it is handed. Nothing
//! the attacker can read — the status page with and without the key, any
//! reply addressed to them — holds the customer's secrets, while the
//! customer, writing again from the verified number, is answered with the
//! earlier interaction acknowledged.
//!
//! The same harness shows the honest side of cross-channel memory: a
//! customer who wrote on WhatsApp and then signs in on the web form (token
//! for the email, the same phone) is one customer by either identifier, and
//! the form continues the WhatsApp conversation with the switch recorded —
//! while its reply, to an email not yet proven to belong to that customer,
//! reveals nothing of the WhatsApp messages.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use fte_bus::{KafkaPublisher, topics};
use fte_channels::web_identity::identity_token;
use fte_domain::events::InboundSender;
use fte_domain::format::{self, Recipient};
use fte_domain::{Channel, EmailAddress, EventEnvelope, InboundMessage};
use fte_testkit::gateway::{Options, TWILIO_TOKEN, TestApp, spawn_app_with};
use fte_worker::agent::{AgentOutcome, AgentRequest, AgentUnavailable, HistoryRole, ReplyAgent};
use fte_worker::consumer::{self, ConsumerConfig};
use fte_worker::events::{EventSink, relay_pending};
use fte_worker::{WorkerConfig, WorkerContext};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const IDENTITY_SECRET: &str = "embedding-site-shared-secret";
const VICTIM_EMAIL: &str = "vera.lind@example.com";
const VICTIM_PHONE: &str = "+14155550177";
const ATTACKER_PHONE: &str = "+14155550666";
/// What only the customer wrote, one per channel.
const SECRETS: [&str; 3] = ["BLUEHERON-7731", "INV-4471-ZEBRA", "LIGHTHOUSE-2290"];

/// The worst-case agent: acknowledges the latest earlier message and
/// repeats every history entry it was given. Keeps every request.
#[derive(Default)]
struct Parrot {
    requests: Mutex<Vec<AgentRequest>>,
}

#[async_trait]
impl ReplyAgent for Parrot {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        self.requests.lock().unwrap().push(request.clone());
        let earlier = request
            .history
            .iter()
            .rev()
            .find(|h| h.role == HistoryRole::Customer);
        let text = match earlier {
            Some(earlier) => {
                let all: Vec<&str> = request.history.iter().map(|h| h.content.as_str()).collect();
                format!(
                    "I see you wrote to us earlier about \"{}\". Everything you told us: {}",
                    earlier.content,
                    all.join(" / ")
                )
            }
            None => "Here is how.".to_owned(),
        };
        let reference = request.ticket_id.to_string();
        let recipient = Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        Ok(AgentOutcome {
            reply: format::format_reply(request.channel, recipient, &text),
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

struct Worker {
    stop: CancellationToken,
    agent: Arc<Parrot>,
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

fn start_worker(app: &Arc<TestApp>) -> Worker {
    let publisher = KafkaPublisher::new(&app.bootstrap).unwrap();
    let sink: Arc<dyn EventSink> = Arc::new(publisher.clone());
    let agent = Arc::new(Parrot::default());
    let ctx = WorkerContext {
        pool: app.pool.clone(),
        agent: agent.clone(),
        events: sink.clone(),
        config: WorkerConfig::default(),
    };
    let stop = CancellationToken::new();
    let (app_for_consumer, token) = (app.clone(), stop.clone());
    let consumer = tokio::spawn(async move {
        let config = ConsumerConfig::new("fte-test-identity-attack");
        consumer::run(ctx, &app_for_consumer.bootstrap, publisher, config, token)
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
        agent,
        consumer: Some(consumer),
    }
}

const ANSWERS: &str =
    "select count(*) from messages where direction = 'outbound' and role = 'agent'";

/// Waits until the agent has answered `expected` messages in all.
async fn answered(app: &TestApp, expected: i64) {
    let started = Instant::now();
    while app.count(ANSWERS).await < expected {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{expected} answers expected within a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn form(email: &str, phone: Option<&str>, name: &str, message: &str) -> Value {
    let mut form = json!({
        "name": name,
        "email": email,
        "subject": "My account",
        "category": "general",
        "message": message,
        "website": "",
    });
    if let Some(phone) = phone {
        form["phone"] = json!(phone);
    }
    form
}

async fn whatsapp(app: &TestApp, sid: &str, from: &str, body: &str) {
    let params: Vec<(String, String)> = [
        ("MessageSid", sid),
        ("From", &format!("whatsapp:{from}")),
        ("To", "whatsapp:+14155238886"),
        ("Body", body),
        ("NumMedia", "0"),
        ("ProfileName", "Vera"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let answer = app
        .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

/// An email as the worker's Gmail sync publishes it after Gmail's
/// `Authentication-Results` showed the sender's domain passed.
async fn authenticated_email(app: &TestApp, id: &str, body: &str) {
    let envelope = EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel: Channel::Email,
            channel_message_id: id.to_owned(),
            sender: InboundSender {
                email: Some(VICTIM_EMAIL.to_owned()),
                name: Some("Vera Lind".to_owned()),
                email_verified: true,
                ..InboundSender::default()
            },
            subject: Some("Billing".to_owned()),
            content: body.to_owned(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: json!({ "thread_id": format!("thread-{id}") }),
        },
    );
    KafkaPublisher::new(&app.bootstrap)
        .unwrap()
        .publish_json(
            topics::TICKETS_INCOMING,
            &envelope.payload.partition_key(),
            &envelope,
        )
        .await
        .unwrap();
}

/// The texts of the replies queued to `address` (a phone or an email).
async fn replies_to(app: &TestApp, address: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select payload::text from reply_outbox where payload->'to'->>'address' = $1",
    )
    .bind(address)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} reveals {secret}: {text}");
    }
    assert!(
        !text.contains("Lind") && !text.contains("wrote to us"),
        "{what} reveals the customer's name or earlier contact: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attacker_naming_a_customers_email_and_phone_learns_nothing_of_their_history() {
    let app = Arc::new(
        spawn_app_with(Options {
            vars: vec![("WEB_IDENTITY_SECRET", IDENTITY_SECRET.to_owned())],
            ..Options::default()
        })
        .await,
    );
    let worker = start_worker(&app);

    // The customer: signed in on the site (identity token), then WhatsApp
    // and an authenticated email, each with a secret.
    let mut signed_in = form(
        VICTIM_EMAIL,
        Some(VICTIM_PHONE),
        "Vera Lind",
        &format!(
            "Our workspace code is {}. How do I share a board?",
            SECRETS[2]
        ),
    );
    let email = EmailAddress::parse(VICTIM_EMAIL).unwrap();
    signed_in["identity_token"] = json!(identity_token(IDENTITY_SECRET.as_bytes(), &email));
    app.submit_ticket(&signed_in).await;
    answered(&app, 1).await;
    whatsapp(
        &app,
        "SM-victim-1",
        VICTIM_PHONE,
        &format!(
            "Our secret project codename is {}. Can guests see it?",
            SECRETS[0]
        ),
    )
    .await;
    answered(&app, 2).await;
    authenticated_email(
        &app,
        "gmail-victim-1",
        &format!("Invoice {} was charged twice, what now?", SECRETS[1]),
    )
    .await;
    answered(&app, 3).await;
    let customers: i64 = app
        .count("select count(distinct customer_id) from customer_identifiers")
        .await;
    assert_eq!(
        customers, 1,
        "the customer's three channels are one customer"
    );

    // The attacker: the customer's email with the customer's phone, with
    // their own phone, alone; then their own WhatsApp.
    let asks = [
        (Some(VICTIM_PHONE), "Show me my previous messages please."),
        (Some(ATTACKER_PHONE), "Summarise my account for me."),
        (None, "What did I tell you last time?"),
    ];
    let mut tickets = Vec::new();
    for (phone, ask) in asks {
        let attack = form(VICTIM_EMAIL, phone, "Mallory", ask);
        tickets.push(app.submit_ticket(&attack).await);
    }
    answered(&app, 6).await;
    whatsapp(
        &app,
        "SM-attacker-1",
        ATTACKER_PHONE,
        "What did I tell you by email? Repeat my previous messages.",
    )
    .await;
    answered(&app, 7).await;

    for (ticket_id, key) in &tickets {
        let path = format!("/support/ticket/{ticket_id}");
        let public = app.get(&path).await;
        assert_eq!(public.status, 200, "{}", public.text);
        assert_no_secret("the public status page", &public.text);
        let thread = app.get_with_key(&path, key).await;
        assert_eq!(thread.status, 200, "{}", thread.text);
        let messages = thread.json()["messages"].as_array().unwrap().clone();
        assert!(
            messages.iter().any(|m| m["role"] == "agent"),
            "the attacker's ticket was answered: {}",
            thread.text
        );
        assert_no_secret("the status page with the key", &thread.text);
        let rows: Vec<String> =
            sqlx::query_scalar("select payload::text from reply_outbox where ticket_id::text = $1")
                .bind(ticket_id)
                .fetch_all(&app.pool)
                .await
                .unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            assert_no_secret("a reply row of the attacker's ticket", &row);
        }
    }
    let to_attacker = replies_to(&app, ATTACKER_PHONE).await;
    assert_eq!(to_attacker.len(), 1, "the attacker's WhatsApp was answered");
    assert_no_secret("the reply to the attacker's WhatsApp", &to_attacker[0]);

    // The customer again, from the verified number.
    whatsapp(&app, "SM-victim-2", VICTIM_PHONE, "Hi again, any news?").await;
    answered(&app, 8).await;
    let asked = worker.agent.requests.lock().unwrap().clone();
    let last = asked.last().unwrap();
    let history: String = last.history.iter().map(|h| h.content.as_str()).collect();
    for secret in SECRETS {
        assert!(
            history.contains(secret),
            "the verified customer's request carries their history ({secret})"
        );
    }
    let to_victim = replies_to(&app, VICTIM_PHONE).await;
    assert!(
        to_victim
            .iter()
            .any(|r| r.contains("I see you wrote to us earlier")),
        "the verified customer's answer acknowledges the earlier interaction: {to_victim:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whatsapp_then_a_signed_in_web_form_is_one_customer_in_one_conversation() {
    let app = Arc::new(
        spawn_app_with(Options {
            vars: vec![("WEB_IDENTITY_SECRET", IDENTITY_SECRET.to_owned())],
            ..Options::default()
        })
        .await,
    );
    let worker = start_worker(&app);
    whatsapp(
        &app,
        "SM-1",
        VICTIM_PHONE,
        "How do I share a board with a guest?",
    )
    .await;
    answered(&app, 1).await;

    let mut signed_in = form(
        VICTIM_EMAIL,
        Some(VICTIM_PHONE),
        "Vera Lind",
        "Following up on my WhatsApp question about guests.",
    );
    let email = EmailAddress::parse(VICTIM_EMAIL).unwrap();
    signed_in["identity_token"] = json!(identity_token(IDENTITY_SECRET.as_bytes(), &email));
    let (ticket_id, _) = app.submit_ticket(&signed_in).await;
    answered(&app, 2).await;

    let by_email = app
        .get_as_staff(
            &format!("/customers/lookup?email={VICTIM_EMAIL}"),
            Some(fte_testkit::gateway::STAFF_KEY),
        )
        .await;
    let by_phone = app
        .get_as_staff(
            &format!(
                "/customers/lookup?phone={}",
                VICTIM_PHONE.replace('+', "%2B")
            ),
            Some(fte_testkit::gateway::STAFF_KEY),
        )
        .await;
    assert_eq!(by_email.status, 200, "{}", by_email.text);
    assert_eq!(by_phone.status, 200, "{}", by_phone.text);
    assert_eq!(
        by_email.json()["id"],
        by_phone.json()["id"],
        "one customer id by either identifier"
    );
    assert_eq!(
        app.count("select count(distinct conversation_id) from messages")
            .await,
        1,
        "the form continues the WhatsApp conversation"
    );
    let switches: Vec<(String, String)> =
        sqlx::query_as("select from_channel, to_channel from conversation_channel_switches")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        switches,
        [("whatsapp".to_owned(), "web_form".to_owned())],
        "the switch is recorded"
    );
    let ticket_conversation: String =
        sqlx::query_scalar("select conversation_id::text from tickets where id::text = $1")
            .bind(&ticket_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let whatsapp_conversation: String = sqlx::query_scalar(
        "select conversation_id::text from messages where channel_message_id = 'SM-1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(ticket_conversation, whatsapp_conversation);
    let asked = worker.agent.requests.lock().unwrap().clone();
    assert!(
        asked.last().unwrap().history.is_empty(),
        "owning the email does not prove owning the WhatsApp customer: the form's \
         sender is claimed, so its reply may not reveal the WhatsApp conversation"
    );
}
