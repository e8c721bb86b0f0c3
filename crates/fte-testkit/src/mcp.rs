//! `spawn_mcp`: the MCP endpoint on a random port over a fresh database
//! holding the real knowledge base (imported once per test binary with the
//! real local model, then copied per test), with an embedded Kafka broker;
//! an `rmcp` client per staff key; the worker's real step with a scripted
//! agent to raise escalations, and its real sender to deliver replies to a
//! recording sender.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use chrono::Utc;
use fte_agent::{Embedder, LocalMiniLm, import_knowledge_base};
use fte_bus::{Bootstrap, KafkaPublisher};
use fte_domain::events::InboundSender;
use fte_domain::format::{self, Recipient};
use fte_domain::handoff::{ResponseHours, follow_up_promise};
use fte_domain::{Channel, EscalationReason, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_mcp::McpContext;
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, KafkaSettings, Lookup, McpSettings};
use fte_worker::agent::{
    AgentOutcome, AgentRequest, AgentUnavailable, EscalationDecision, ReplyAgent,
};
use fte_worker::events::EventSink;
use fte_worker::sender::ChannelSender;
use fte_worker::{Handled, Outcome, WorkerConfig, WorkerContext, handle_event};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgPool};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

/// The staff key the test endpoint accepts.
pub const STAFF_KEY: &str = "mcp-test-staff-key-5b1e";
/// Its owner.
pub const STAFF_NAME: &str = "ana.ruiz";
/// A second staff key.
pub const OTHER_STAFF_KEY: &str = "mcp-test-staff-key-bob-77a0";
/// Its owner.
pub const OTHER_STAFF_NAME: &str = "bob";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The local MiniLM model, loaded once per test binary.
pub static MODEL: LazyLock<Arc<LocalMiniLm>> = LazyLock::new(|| {
    let dir = std::env::var_os("FTE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models"))
        .join("all-minilm-l6-v2");
    Arc::new(LocalMiniLm::load(&dir).expect("the local model is installed: run scripts/models.sh"))
});

/// A database with the real `kb/` imported, built once per test binary;
/// every test copies it.
static KB_TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn kb_template() -> String {
    KB_TEMPLATE
        .get_or_init(|| async {
            let pool = fte_store::testing::fresh_database().await;
            import_knowledge_base(&pool, MODEL.as_ref(), &repo_root().join("kb"), |_, _| {})
                .await
                .expect("the knowledge base imports");
            let name: String = sqlx::query_scalar("select current_database()")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            name
        })
        .await
        .clone()
}

/// A fresh copy of the knowledge-base database.
pub async fn database_with_kb() -> PgPool {
    let template = kb_template().await;
    let server = fte_store::testing::server_url();
    let mut admin =
        sqlx::PgConnection::connect(&fte_store::testing::with_database(&server, "postgres"))
            .await
            .expect("PostgreSQL runs (scripts/pg.sh start)");
    let name = format!(
        "{}{}",
        fte_store::testing::TEST_DATABASE_PREFIX,
        uuid::Uuid::new_v4().simple()
    );
    let mut attempt = 0;
    loop {
        let created = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "create database {name} template {template}"
            )))
            .await;
        match created {
            Ok(_) => break,
            Err(_) if attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Err(error) => panic!("copy the knowledge-base database: {error}"),
        }
    }
    admin.close().await.ok();
    PgPool::connect(&fte_store::testing::with_database(&server, &name))
        .await
        .expect("connect to the copy")
}

/// A running MCP endpoint.
pub struct McpApp {
    /// `http://127.0.0.1:port/mcp`.
    pub url: String,
    /// Its database.
    pub pool: PgPool,
    /// What its tools use.
    pub ctx: McpContext,
    /// The embedded broker.
    pub bootstrap: Bootstrap,
    /// The worker's step over the same database, with [`Agent`].
    pub worker: WorkerContext,
    shutdown: CancellationToken,
}

impl Drop for McpApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The endpoint with default settings.
pub async fn spawn_mcp() -> McpApp {
    spawn_mcp_with(&[]).await
}

/// The endpoint with extra settings (`STAFF_RATE_LIMIT_PER_MINUTE`, …).
pub async fn spawn_mcp_with(vars: &[(&str, &str)]) -> McpApp {
    let pool = database_with_kb().await;
    let lookup = Lookup::from_fn(|key| match key {
        "FTE_BROKER_ADDRESS_FILE" => Some("/nonexistent/fte-broker.addr".into()),
        "KAFKA_TOPIC_PARTITIONS" => Some("1".into()),
        "KAFKA_DELIVERY_TIMEOUT_MS" => Some("1500".into()),
        _ => None,
    });
    let kafka = KafkaSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let bootstrap = Bootstrap::resolve(&kafka).await.unwrap();
    let publisher = KafkaPublisher::new(&bootstrap).unwrap();
    let mut settings: HashMap<String, String> = HashMap::from([(
        "STAFF_API_KEYS".to_owned(),
        format!(
            "{STAFF_NAME}:{:x},{OTHER_STAFF_NAME}:{:x}",
            Sha256::digest(STAFF_KEY.as_bytes()),
            Sha256::digest(OTHER_STAFF_KEY.as_bytes())
        ),
    )]);
    settings.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let settings = Lookup::from_fn(move |key| settings.get(key).cloned());
    let api = ApiSettings::from_lookup(&settings, Profile::Dev).expect("valid settings");
    let mcp = McpSettings::from_lookup(&settings, Profile::Dev).expect("valid settings");
    let embedder: Arc<dyn Embedder> = MODEL.clone();
    let mut ctx = McpContext::new(pool.clone(), embedder, Some(publisher));
    ctx.response_hours = response_hours();
    let shutdown = CancellationToken::new();
    let app = fte_mcp::http::standalone(ctx.clone(), &api, &mcp, shutdown.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    let worker = WorkerContext {
        pool: pool.clone(),
        agent: Arc::new(Agent),
        events: Arc::new(NoEvents),
        config: WorkerConfig {
            response_hours: response_hours(),
            ..WorkerConfig::default()
        },
    };
    McpApp {
        url,
        pool,
        ctx,
        bootstrap,
        worker,
        shutdown,
    }
}

/// Customers without a plan are promised a person within 6 business hours.
pub fn response_hours() -> ResponseHours {
    ResponseHours {
        free: 6,
        ..ResponseHours::default()
    }
}

/// A client is `RunningService<RoleClient, ()>`.
pub type Client = RunningService<RoleClient, ()>;

impl McpApp {
    /// An `rmcp` client over streamable HTTP with `key` as its bearer token.
    pub async fn client(&self, key: &str) -> Client {
        let config =
            StreamableHttpClientTransportConfig::with_uri(self.url.clone()).auth_header(key);
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .expect("the MCP handshake succeeds")
    }

    /// Runs the worker's step on a customer's message.
    pub async fn handle(&self, event: &EventEnvelope<InboundMessage>) -> Handled {
        match handle_event(&self.worker, event)
            .await
            .expect("the step succeeds")
        {
            Outcome::Handled(handled) => handled,
            Outcome::Duplicate => panic!("a new message was taken for a duplicate"),
        }
    }

    /// Delivers every due reply through the worker's sender to `recorder`.
    pub async fn deliver(&self, recorder: &Arc<RecordingSender>) {
        let sender = ChannelSender {
            pool: self.pool.clone(),
            sender: recorder.clone(),
            events: Arc::new(NoEvents),
            config: WorkerConfig::default(),
        };
        while sender.send_due().await.expect("a delivery round") > 0 {}
    }

    /// The audit trail, oldest first, as `(staff, action)`.
    pub async fn audit(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = fte_store::audit::recent(&self.pool, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.staff, r.action))
            .collect();
        rows.reverse();
        rows
    }
}

/// Calls `tool` with `arguments` (a JSON object).
pub async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool} answers (a result or a tool error): {e}"))
}

/// Calls `tool` and returns its structured content, failing on a tool error.
pub async fn call_ok(client: &Client, tool: &'static str, arguments: Value) -> Value {
    let result = call(client, tool, arguments).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {:?}",
        result.content
    );
    result
        .structured_content
        .unwrap_or_else(|| panic!("{tool} returns structured content"))
}

/// The text of a tool result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// A distinct, valid WhatsApp number per customer name.
pub fn whatsapp_number(customer: &str) -> String {
    let digits: u64 = customer.bytes().map(u64::from).sum::<u64>() % 10_000;
    format!("+1415555{digits:04}")
}

/// A customer's message on `channel`, as the gateway publishes it.
pub fn message(
    channel: Channel,
    customer: &str,
    id: &str,
    text: &str,
) -> EventEnvelope<InboundMessage> {
    let sender = match channel {
        Channel::Whatsapp => InboundSender {
            email: None,
            phone: Some(whatsapp_number(customer)),
            name: Some("Maria Santos".into()),
            email_verified: false,
            phone_verified: true,
        },
        _ => InboundSender {
            email: Some(format!("{customer}@example.com")),
            phone: None,
            name: Some("Maria Santos".into()),
            email_verified: channel == Channel::Email,
            phone_verified: false,
        },
    };
    let metadata = match channel {
        Channel::Email => json!({
            "thread_id": format!("thread-{customer}"),
            "message_id": format!("<{id}@mail.example.com>"),
            "references": [],
        }),
        _ => json!({}),
    };
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel,
            channel_message_id: id.to_owned(),
            sender,
            subject: (channel != Channel::Whatsapp).then(|| "Charged twice".to_owned()),
            content: text.to_owned(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata,
        },
    )
}

/// The bot of these tests: escalates a message asking for a refund,
/// answers anything else with a fixed sentence.
pub struct Agent;

/// What the bot answers when it does not escalate.
pub const BOT_ANSWER: &str = "Open Settings, then Security, and follow the steps.";

#[async_trait]
impl ReplyAgent for Agent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        let reference = request.ticket_id.to_string();
        let recipient = Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        let escalation = request
            .message
            .contains("refund")
            .then(|| EscalationDecision {
                reason: EscalationReason::Refund,
                summary: "asks for a refund of a duplicate charge".into(),
            });
        let text = match &escalation {
            Some(_) => format!(
                "I've passed this to our billing team. {}",
                follow_up_promise(request.human_response_hours)
            ),
            None => BOT_ANSWER.to_owned(),
        };
        Ok(AgentOutcome {
            reply: format::format_reply(request.channel, recipient, &text),
            escalation,
            resolve_ticket: false,
            ticket_category: None,
            sentiment: 0.0,
            usage: fte_domain::TokenUsage::ZERO,
            latency_ms: 1,
            tool_calls: json!([]),
        })
    }
}

/// The worker's events are not under test here.
pub struct NoEvents;

#[async_trait]
impl EventSink for NoEvents {
    async fn publish(
        &self,
        _topic: &str,
        _key: &str,
        _payload: &[u8],
        _headers: &[(&str, &str)],
    ) -> Result<(), String> {
        Ok(())
    }
}
