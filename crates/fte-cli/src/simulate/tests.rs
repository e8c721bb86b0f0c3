//! The simulations against a gateway and a worker started in this process
//! (fresh database, embedded broker, an agent that answers one fixed text).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fte_bus::{Bootstrap, KafkaPublisher};
use fte_domain::format::{self, Recipient};
use fte_fakes::gmail::{FakeGmail, FakeOAuth};
use fte_gateway::AppState;
use fte_gateway::state::{GmailAuth, TwilioAuth, WebhookAuth};
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, GmailSettings, KafkaSettings, Lookup};
use fte_store::PgPool;
use fte_worker::agent::{AgentOutcome, AgentRequest, AgentUnavailable, ReplyAgent};
use fte_worker::consumer::ConsumerConfig;
use fte_worker::gmail_sync::GmailSync;
use fte_worker::startup::{self, Worker};
use fte_worker::{WorkerConfig, WorkerContext};
use tokio_util::sync::CancellationToken;

use super::*;

const TWILIO_TOKEN: &str = "12345";
const PUBLIC_BASE_URL: &str = "https://support.orbitask.example";
const MAILBOX: &str = "support@orbitask.example";
const ANSWER: &str = "Open Settings, then Security, and turn on two-factor authentication.";

struct FixedAgent;

#[async_trait]
impl ReplyAgent for FixedAgent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        let reference = request.ticket_id.to_string();
        let recipient = Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        Ok(AgentOutcome {
            reply: format::format_reply(request.channel, recipient, ANSWER),
            escalation: None,
            resolve_ticket: false,
            ticket_category: None,
            sentiment: 0.5,
            usage: fte_domain::TokenUsage::ZERO,
            latency_ms: 1,
            tool_calls: serde_json::json!([]),
        })
    }
}

struct Running {
    base_url: String,
    pool: PgPool,
    shutdown: CancellationToken,
    worker: tokio::task::JoinHandle<Result<(), startup::StartupError>>,
    _bootstrap: Arc<Bootstrap>,
}

/// The gateway (Twilio signatures checked against [`PUBLIC_BASE_URL`]) and
/// the worker, on one embedded broker and a fresh database.
async fn start(gmail: Option<&FakeGmail>) -> Running {
    let pool = fte_store::testing::fresh_database().await;
    let kafka = KafkaSettings::from_lookup(
        &Lookup::from_fn(|key| match key {
            "FTE_BROKER_ADDRESS_FILE" => Some("/nonexistent/fte-broker.addr".into()),
            "KAFKA_TOPIC_PARTITIONS" => Some("1".into()),
            "KAFKA_SESSION_TIMEOUT_MS" => Some("6000".into()),
            "KAFKA_MAX_POLL_INTERVAL_MS" => Some("7000".into()),
            _ => None,
        }),
        Profile::Dev,
    )
    .unwrap();
    let bootstrap = Arc::new(Bootstrap::resolve(&kafka).await.unwrap());
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let api = ApiSettings::from_lookup(
        &Lookup::from_fn(|key| match key {
            "PUBLIC_BASE_URL" => Some(PUBLIC_BASE_URL.into()),
            "SUBMIT_RATE_LIMIT_PER_MINUTE" => Some("100".into()),
            _ => None,
        }),
        Profile::Dev,
    )
    .unwrap();
    let state = AppState::new(
        pool.clone(),
        publisher.clone(),
        api,
        Profile::Dev,
        WebhookAuth {
            twilio: TwilioAuth::Signed(TWILIO_TOKEN.to_owned().into()),
            gmail: GmailAuth::Unverified,
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(fte_gateway::startup::serve(
        listener,
        state,
        shutdown.clone(),
    ));

    // No provider credentials: replies are recorded, never delivered.
    let senders = fte_fakes::guarded_recorders();
    let config = WorkerConfig {
        sender_poll_interval: Duration::from_millis(100),
        ..WorkerConfig::default()
    };
    let worker = Worker {
        ctx: WorkerContext {
            pool: pool.clone(),
            agent: Arc::new(FixedAgent),
            events: Arc::new(publisher.clone()),
            config,
        },
        bootstrap: bootstrap.clone(),
        publisher: publisher.clone(),
        senders,
        enabled: Default::default(),
        readiness: Default::default(),
        consumer: ConsumerConfig::new("fte-test-simulate"),
        probe_addr: None,
        gmail: gmail.map(|fake| {
            let (api, token) = (fake.base_url(), fake.token_url());
            let lookup = Lookup::from_fn(move |key| match key {
                "GMAIL_MAILBOX" => Some(MAILBOX.into()),
                "GMAIL_CLIENT_ID" => Some("cid".into()),
                "GMAIL_CLIENT_SECRET" => Some("csecret".into()),
                "GMAIL_REFRESH_TOKEN" => Some("rtoken".into()),
                "GMAIL_API_BASE_URL" => Some(api.clone()),
                "GMAIL_TOKEN_URL" => Some(token.clone()),
                "GMAIL_PUBSUB_TOPIC" => Some("projects/fte-local/topics/gmail".into()),
                _ => None,
            });
            let settings = GmailSettings::from_lookup(&lookup, Profile::Dev).unwrap();
            let mailbox = startup::gmail_mailbox(&settings).unwrap().unwrap();
            GmailSync::new(pool.clone(), mailbox, Arc::new(publisher.clone()))
        }),
    };
    let worker = tokio::spawn(startup::run(worker, shutdown.clone()));
    Running {
        base_url,
        pool,
        shutdown,
        worker,
        _bootstrap: bootstrap,
    }
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        self.worker
            .await
            .unwrap()
            .expect("the worker stops cleanly");
    }
}

async fn agent_messages_on(pool: &PgPool, channel: &str) -> i64 {
    sqlx::query_scalar("select count(*) from messages where role = 'agent' and channel = $1")
        .bind(channel)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn whatsapp_message() -> WhatsappMessage {
    WhatsappMessage {
        from: "+34 612 345 678".into(),
        body: "hi how do i turn on 2fa?".into(),
        name: Some("Maria".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simulate_whatsapp_posts_a_signed_webhook_that_the_agent_answers() {
    let app = start(None).await;
    let client = reqwest::Client::new();

    let forged = whatsapp(
        &client,
        &app.base_url,
        PUBLIC_BASE_URL,
        Some("not-the-token"),
        &whatsapp_message(),
    )
    .await
    .unwrap();
    let status = whatsapp(
        &client,
        &app.base_url,
        PUBLIC_BASE_URL,
        Some(TWILIO_TOKEN),
        &whatsapp_message(),
    )
    .await
    .unwrap();

    assert_eq!(
        forged,
        reqwest::StatusCode::FORBIDDEN,
        "a wrong token is refused"
    );
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "the signed webhook is accepted"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while agent_messages_on(&app.pool, "whatsapp").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent never answered the WhatsApp message"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(agent_messages_on(&app.pool, "whatsapp").await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simulate_web_submits_the_form_and_prints_the_agents_reply() {
    let app = start(None).await;
    let client = reqwest::Client::new();
    let submission = WebSubmission {
        email: "maria.santos@example.com".into(),
        name: "Maria Santos".into(),
        subject: "Two-factor authentication".into(),
        message: "How do I turn on two-factor authentication for my account?".into(),
        category: "technical".into(),
    };

    let outcome = web(&client, &app.base_url, &submission, Duration::from_secs(60))
        .await
        .unwrap();

    let reply = outcome.reply.expect("the agent replied within the wait");
    assert!(reply.contains(ANSWER), "the reply is the agent's: {reply}");
    let ticket: uuid::Uuid = outcome.ticket_id.parse().expect("a ticket id");
    let stored: i64 = sqlx::query_scalar("select count(*) from tickets where id = $1")
        .bind(ticket)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the printed ticket id is the stored ticket");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simulate_web_reports_a_refused_form() {
    let app = start(None).await;
    let client = reqwest::Client::new();
    let submission = WebSubmission {
        email: "not an email".into(),
        name: "Maria Santos".into(),
        subject: "Two-factor authentication".into(),
        message: "How do I turn on two-factor authentication for my account?".into(),
        category: "technical".into(),
    };

    let error = web(&client, &app.base_url, &submission, Duration::from_secs(1))
        .await
        .expect_err("an invalid email is refused");

    assert!(error.to_string().contains("422"), "{error}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simulate_email_delivers_to_the_fake_gmail_and_the_push_gets_the_email_answered() {
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
    let app = start(Some(&fake)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    // The customer writes once the worker watches the mailbox.
    while fte_store::gmail_sync::state(&app.pool, MAILBOX)
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watch never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = reqwest::Client::new();
    let message = EmailMessage {
        from: "Maria Santos <maria.santos@example.com>".into(),
        subject: "Two-factor authentication".into(),
        body: "How do I turn on two-factor authentication?".into(),
    };

    let outcome = email(
        &client,
        &app.base_url,
        &fake.base_url(),
        MAILBOX,
        None,
        &message,
    )
    .await
    .unwrap();

    assert_eq!(
        outcome.push_status,
        reqwest::StatusCode::OK,
        "the push is accepted"
    );
    assert!(
        fake.messages()
            .iter()
            .any(|m| m.id == outcome.gmail_message_id),
        "the email is in the fake mailbox"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while agent_messages_on(&app.pool, "email").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent never answered the email"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stored: Vec<String> = sqlx::query_scalar(
        "select channel_message_id from messages where role = 'customer' and channel = 'email'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        vec![outcome.gmail_message_id],
        "the simulated email, once"
    );
    app.stop().await;
}
