//! The route table and the layers around it.

pub mod cost;
pub mod customers;
pub mod dead_letters;
pub mod dev;
pub mod dlq_replay;
pub mod escalations;
pub mod failed_replies;
pub mod form;
pub mod metrics;
pub mod probes;
pub mod staff;
pub mod staff_input;
pub mod staff_reply;
pub mod support;
pub mod thread;
pub mod ticket;
pub mod webhooks;
pub mod widget;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{ApiError, AppState, openapi, ratelimit};

/// The whole application.
pub fn router(state: AppState) -> Router {
    let limit_submit = || middleware::from_fn_with_state(state.clone(), ratelimit::limit_submit);
    let support = Router::new()
        .route(
            "/support/submit",
            post(support::submit).layer(limit_submit()),
        )
        .route("/support/config", get(widget::config))
        .route(
            "/support/ticket/{ticket_id}",
            get(ticket::ticket_status).layer(middleware::from_fn_with_state(
                state.clone(),
                ratelimit::limit_status,
            )),
        )
        .route(
            "/support/ticket/{ticket_id}/messages",
            post(thread::post_message).layer(limit_submit()),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            web_form_enabled,
        ))
        .layer(cors(&state));
    let webhooks = Router::new()
        .route("/webhooks/whatsapp", post(webhooks::whatsapp))
        .route("/webhooks/whatsapp/status", post(webhooks::whatsapp_status))
        .route("/webhooks/gmail", post(webhooks::gmail))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit_webhooks,
        ));
    let staff = Router::new()
        .route("/conversations/{id}", get(staff::conversation))
        .route("/customers/lookup", get(staff::customer_lookup))
        .route("/customers/{id}", get(customers::customer))
        .route("/customers/{id}/merge", post(customers::merge))
        .route(
            "/customers/{id}/identifiers/{identifier_id}/unlink",
            post(customers::unlink),
        )
        .route("/metrics/channels", get(staff::channel_metrics))
        .route("/metrics/summary", get(metrics::summary))
        .route("/escalations", get(escalations::list))
        .route("/escalations/{id}/assign", post(escalations::assign))
        .route("/escalations/{id}/resolve", post(escalations::resolve))
        .route("/conversations/{id}/reply", post(staff_reply::reply))
        .route("/dlq", get(dead_letters::list))
        .route("/dlq/replay", post(dlq_replay::replay))
        .route("/dlq/{id}", get(dead_letters::show))
        .route("/outbox/failed", get(failed_replies::list))
        .route("/outbox/{id}/retry", post(failed_replies::retry))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::audit_requests,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit_staff,
        ));
    Router::new()
        .merge(support)
        .merge(webhooks)
        .merge(staff)
        .route("/widget/fte-support-form.js", get(widget::script))
        .route("/demo", get(widget::demo))
        .route("/favicon.ico", get(widget::favicon_ico))
        .route("/favicon.svg", get(widget::favicon_svg))
        .merge(openapi::docs())
        .route("/dev/outbox", get(dev::outbox))
        .route("/dev/outbox.html", get(dev::outbox_page))
        .route("/live", get(probes::live))
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .route("/metrics", get(probes::metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.api.body_limit_bytes))
        .layer(middleware::from_fn(method_not_allowed_as_json))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(middleware::from_fn(crate::middleware::record_metrics))
        .with_state(state)
}

/// CORS for the web form's endpoints: the origins in
/// `CORS_ALLOWED_ORIGINS` and, in the dev profile, every loopback origin
/// (a page served by `npm run dev` or any local port); no credentials; the
/// ticket access key and idempotency key headers may be sent and
/// `Retry-After` read.
fn cors(state: &AppState) -> CorsLayer {
    let configured: Vec<HeaderValue> = state
        .api
        .cors_allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin.trim_end_matches('/')).ok())
        .collect();
    let loopback = !state.profile.is_production();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            configured.contains(origin) || (loopback && is_loopback_origin(origin))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static(crate::ticket_access::ACCESS_KEY_HEADER),
            HeaderName::from_static(crate::idempotency::HEADER),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// `http(s)://localhost[:port]`, `127.x.x.x` or `[::1]`.
fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => rest.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Answers 503 (with Retry-After) when a request exceeds
/// `API_REQUEST_TIMEOUT_MS`. Work in flight is dropped: open transactions
/// roll back, and committed web form events are published by the relay.
async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = Duration::from_millis(state.api.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_ms = state.api.request_timeout_ms,
                "request timed out"
            );
            ApiError::unavailable("The request took too long; please retry.").into_response()
        }
    }
}

/// axum answers a wrong method with an empty 405; give it the error shape
/// (keeping `Allow`). Done here rather than with a method fallback so CORS
/// preflight requests still reach the CORS layer.
async fn method_not_allowed_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != axum::http::StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut json = ApiError::MethodNotAllowed.into_response();
    if let Some(allow) = allow {
        json.headers_mut().insert(header::ALLOW, allow);
    }
    json
}

/// The web form's routes answer 404 while `CHANNELS_ENABLED` leaves it out.
async fn web_form_enabled(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.channels.contains(fte_domain::Channel::WebForm) {
        next.run(request).await
    } else {
        ApiError::NotFound("The web form channel is disabled on this deployment.".into())
            .into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("No such endpoint; see /docs.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_are_recognised_and_look_alikes_are_not() {
        for origin in [
            "http://localhost:5173",
            "http://LOCALHOST",
            "http://127.0.0.1:8080",
            "https://127.0.0.2",
            "http://[::1]:3000",
        ] {
            assert!(
                is_loopback_origin(&HeaderValue::from_static(origin)),
                "{origin}"
            );
        }
        for origin in [
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://example.com",
            "null",
            "file://",
            "http://[::2]:80",
        ] {
            assert!(
                !is_loopback_origin(&HeaderValue::from_static(origin)),
                "{origin}"
            );
        }
    }
}
