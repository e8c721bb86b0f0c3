//! [`FakeModel`]: an OpenAI-compatible chat completions server for load and
//! chaos runs, standing in for a real model with a configurable latency.
//!
//! Unlike the scripted [`crate::openai::FakeOpenAi`], it answers any number
//! of conversations the same way a well-behaved model would in one turn:
//! parallel calls to `search_knowledge_base` (with the customer's message as
//! the query) and `send_response`. Every answer waits `latency` first, so a
//! run measures the system with a model's round trip in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::FakeServer;

/// The answer the fake model sends (the system adds greeting and signature).
pub const ANSWER: &str = "Thanks for the details. I looked this up in our help center: the guide on this topic walks through it step by step, and the settings it mentions are under Settings in your workspace. Reply here if anything is still unclear.";

struct ModelState {
    latency: Duration,
    requests: AtomicU64,
}

/// The running fake model.
pub struct FakeModel {
    server: FakeServer,
    state: Arc<ModelState>,
}

impl FakeModel {
    /// Starts the fake; every completion is answered after `latency`.
    pub async fn start(latency: Duration) -> std::io::Result<Self> {
        let state = Arc::new(ModelState {
            latency,
            requests: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/v1/chat/completions", post(complete))
            .route("/chat/completions", post(complete))
            .with_state(state.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            state,
        })
    }

    /// The base URL to configure as `OPENAI_BASE_URL` (ends in `/v1`).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.base_url())
    }

    /// Completions requested so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }
}

/// The text of the last `user` message of a chat completions request.
fn last_user_text(body: &Value) -> Option<String> {
    body.get("messages")?
        .as_array()?
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .and_then(|c| match c {
            Value::String(s) => Some(s.clone()),
            // Content parts: join the text parts.
            Value::Array(parts) => Some(
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
}

async fn complete(State(state): State<Arc<ModelState>>, Json(body): Json<Value>) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let Some(question) = last_user_text(&body).filter(|q| !q.trim().is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "messages must contain a user message", "type": "invalid_request_error", "param": "messages", "code": null}})),
        )
            .into_response();
    };
    // The customer's own words, as a model would search them: the text
    // between the agent's data markers, when the message is framed.
    let own = question
        .split_once("<<<")
        .and_then(|(_, rest)| rest.rsplit_once(">>>"))
        .map_or(question.as_str(), |(inside, _)| inside.trim());
    let query: String = own.chars().take(300).collect();
    let calls = json!([
        {"id": format!("call_{n}_search"), "type": "function", "function": {
            "name": "search_knowledge_base",
            "arguments": json!({"query": query, "max_results": 3}).to_string()}},
        {"id": format!("call_{n}_send"), "type": "function", "function": {
            "name": "send_response",
            "arguments": json!({"message": ANSWER}).to_string()}},
    ]);
    Json(json!({
        "id": format!("chatcmpl-fake-{n}"),
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": calls}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 400, "completion_tokens": 60, "total_tokens": 460}
    }))
    .into_response()
}
