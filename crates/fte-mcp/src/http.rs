//! Streamable HTTP at `/mcp`, for staff only.
//!
//! Every request passes, in this order: the staff rate limit per client IP
//! (wrong keys count too, as on the staff API: `STAFF_RATE_LIMIT_PER_MINUTE`),
//! then the staff bearer key (`StaffAuth::from_headers`, the staff API's own
//! check: 401 without a key or with a wrong one, in the staff API's error
//! shape), and only then the MCP service, which finds the staff member on
//! the request for the audit. There is no way around the key: no key is
//! accepted unless configured, and production refuses to start without
//! staff keys (`ApiSettings`).
//!
//! The endpoint is stateless (no MCP session to steal or leak between
//! keys): each POST carries one JSON-RPC message and gets one JSON answer.
//! The `Host` header must be one of `MCP_ALLOWED_HOSTS` (a defence against
//! DNS rebinding), and bodies are capped at `API_BODY_LIMIT_BYTES`.
//!
//! `fte mcp --http` runs as a Deployment of its own in a cluster, so
//! [`standalone`] adds the kubelet's probes beside `/mcp`: `/live` (the
//! process answers; nothing outside it is checked) and `/ready` (PostgreSQL
//! answers within [`READY_TIMEOUT`]). They sit outside the guards — the
//! kubelet has no staff key and calls by pod address — and reveal nothing.
//! `fte run` mounts [`router`] alone: the gateway beside it has its own.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use fte_gateway::auth::StaffAuth;
use fte_gateway::ratelimit::{RateLimiter, enforce};
use fte_runtime::settings::{ApiSettings, McpSettings, StaffKey};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{McpContext, SupportServer};

/// The path of the endpoint.
pub const PATH: &str = "/mcp";

/// How long `/ready` waits for PostgreSQL before answering 503.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Guard {
    keys: Arc<[StaffKey]>,
    limiter: Arc<RateLimiter>,
    trust_proxy: bool,
}

/// The `/mcp` route with its guards, ready to serve or to merge into
/// another router (`fte run` merges it into the gateway's). Serve it with
/// connection info (`into_make_service_with_connect_info::<SocketAddr>`)
/// so the rate limit sees each client's address. `shutdown` ends requests
/// in flight.
pub fn router(
    ctx: McpContext,
    api: &ApiSettings,
    mcp: &McpSettings,
    shutdown: CancellationToken,
) -> Router {
    let guard = Guard {
        keys: api.staff_keys.clone().into(),
        limiter: Arc::new(RateLimiter::new(
            api.staff_rate_limit_per_minute,
            Duration::from_secs(60),
        )),
        trust_proxy: api.trust_proxy,
    };
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(mcp.allowed_hosts.clone())
        .with_max_request_body_bytes(api.body_limit_bytes)
        .with_cancellation_token(shutdown);
    let service = StreamableHttpService::new(
        move || Ok(SupportServer::per_request(ctx.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(PATH, service)
        .route_layer(middleware::from_fn_with_state(guard.clone(), authenticate))
        .route_layer(middleware::from_fn_with_state(guard, limit))
}

/// [`router`] with the probes `/live` and `/ready` beside it: what
/// `fte mcp --http` serves.
pub fn standalone(
    ctx: McpContext,
    api: &ApiSettings,
    mcp: &McpSettings,
    shutdown: CancellationToken,
) -> Router {
    let pool = ctx.pool.clone();
    router(ctx, api, mcp, shutdown).merge(probes(pool))
}

/// `/live` and `/ready` for the kubelet.
pub fn probes(pool: PgPool) -> Router {
    Router::new()
        .route("/live", get(|| async { Json(json!({"status": "live"})) }))
        .route("/ready", get(ready))
        .with_state(pool)
}

async fn ready(State(pool): State<PgPool>) -> Response {
    let ping = tokio::time::timeout(
        READY_TIMEOUT,
        sqlx::query_scalar::<_, i32>("select 1").fetch_one(&pool),
    )
    .await;
    match ping {
        Ok(Ok(_)) => Json(json!({"status": "ready"})).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "not_ready": ["postgres"]})),
        )
            .into_response(),
    }
}

async fn limit(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match enforce(&guard.limiter, &request, guard.trust_proxy) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn authenticate(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    match StaffAuth::from_headers(request.headers(), request.uri().path(), &guard.keys) {
        Ok(staff) => {
            request.extensions_mut().insert(staff);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}
