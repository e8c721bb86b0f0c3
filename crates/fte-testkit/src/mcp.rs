//! `spawn_mcp`: the MCP endpoint on a random port over a fresh database
//! holding the real knowledge base (imported once per test binary with the
//! real local model, then copied per test), with an embedded Kafka broker;
//! an `rmcp` client per staff key; the worker's real step with the refund
//! bot to raise escalations, and its real sender to deliver replies to a
//! recording sender.

use std::collections::HashMap;
use std::sync::Arc;

use fte_agent::Embedder;
use fte_bus::{Bootstrap, KafkaPublisher};
use fte_domain::{Channel, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_mcp::McpContext;
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, Lookup, McpSettings};
use fte_worker::{Handled, WorkerConfig, WorkerContext};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub use crate::agents::DEFAULT_ANSWER as BOT_ANSWER;
use crate::agents::{NoEvents, RefundAgent};
use crate::kb::{MODEL, database_with_kb};
pub use crate::worker::{response_hours, whatsapp_number};

/// The staff key the test endpoint accepts.
pub const STAFF_KEY: &str = "mcp-test-staff-key-5b1e";
/// Its owner.
pub const STAFF_NAME: &str = "ana.ruiz";
/// A second staff key.
pub const OTHER_STAFF_KEY: &str = "mcp-test-staff-key-bob-77a0";
/// Its owner.
pub const OTHER_STAFF_NAME: &str = "bob";

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
    /// The worker's step over the same database, with the refund bot.
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
    let bootstrap = crate::broker::embedded().await;
    let publisher = KafkaPublisher::new(&bootstrap).expect("a publisher");
    let mut settings: HashMap<String, String> = HashMap::from([(
        "STAFF_API_KEYS".to_owned(),
        crate::staff_api_keys(&[(STAFF_NAME, STAFF_KEY), (OTHER_STAFF_NAME, OTHER_STAFF_KEY)]),
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
        agent: Arc::new(RefundAgent::default()),
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
        crate::worker::handle(&self.worker, event).await
    }

    /// Delivers every due reply through the worker's sender to `recorder`.
    pub async fn deliver(&self, recorder: &Arc<RecordingSender>) {
        crate::worker::deliver(&self.pool, recorder).await
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

/// A customer's message on `channel` as the gateway publishes it, with
/// what its channel proves (see [`crate::worker::customer_message`]).
pub fn message(
    channel: Channel,
    customer: &str,
    id: &str,
    text: &str,
) -> EventEnvelope<InboundMessage> {
    crate::worker::channel_proven(crate::worker::customer_message(channel, customer, id, text))
}
