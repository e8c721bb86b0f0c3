//! A fake OpenAI-compatible chat completions endpoint that plays a script.
//!
//! Each `POST /v1/chat/completions` (or `/chat/completions`) takes the next
//! scripted reply: a model turn with text or tool calls, an error status
//! (429, 500) or a slow answer. When the script is empty the last reply
//! repeats, so "always 429" is one entry. Every request body is recorded,
//! so tests can check what the agent sent back (tool results, errors).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::FakeServer;

/// One scripted reply.
#[derive(Clone, Debug)]
pub struct ScriptedReply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl ScriptedReply {
    /// A model turn with text only.
    pub fn text(content: &str, tokens: u32) -> Self {
        Self::turn(json!({"role": "assistant", "content": content}), tokens)
    }

    /// A model turn calling tools: `(id, name, arguments JSON text)`;
    /// several calls are parallel calls.
    pub fn tool_calls(calls: &[(&str, &str, &str)], tokens: u32) -> Self {
        let calls: Vec<Value> = calls
            .iter()
            .map(|(id, name, arguments)| {
                json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
            })
            .collect();
        Self::turn(
            json!({"role": "assistant", "content": null, "tool_calls": calls}),
            tokens,
        )
    }

    fn turn(message: Value, tokens: u32) -> Self {
        Self {
            status: 200,
            body: json!({
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": "fake-model",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": tokens / 2, "completion_tokens": tokens - tokens / 2, "total_tokens": tokens}
            }),
            delay: Duration::ZERO,
        }
    }

    /// An error status with an OpenAI-style error body (429, 500, …).
    pub fn error(status: u16) -> Self {
        Self {
            status,
            body: json!({"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}}),
            delay: Duration::ZERO,
        }
    }

    /// The same reply, answered after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct Script {
    replies: VecDeque<ScriptedReply>,
    last: Option<ScriptedReply>,
    requests: Vec<Value>,
}

/// The running fake.
pub struct FakeOpenAi {
    server: FakeServer,
    script: Arc<Mutex<Script>>,
}

impl FakeOpenAi {
    /// Starts the fake with `replies` queued.
    pub async fn start(replies: Vec<ScriptedReply>) -> std::io::Result<Self> {
        let script = Arc::new(Mutex::new(Script {
            replies: replies.into(),
            ..Script::default()
        }));
        let router = Router::new()
            .route("/v1/chat/completions", post(complete))
            .route("/chat/completions", post(complete))
            .with_state(script.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            script,
        })
    }

    /// The base URL to configure as `OPENAI_BASE_URL` (ends in `/v1`).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.base_url())
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .requests
            .clone()
    }
}

async fn complete(State(script): State<Arc<Mutex<Script>>>, Json(body): Json<Value>) -> Response {
    let reply = {
        let mut script = script.lock().unwrap_or_else(|p| p.into_inner());
        script.requests.push(body);
        let next = script.replies.pop_front().or_else(|| script.last.clone());
        if let Some(reply) = &next {
            script.last = Some(reply.clone());
        }
        next
    };
    let Some(reply) = reply else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "script is empty").into_response();
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(reply.body)).into_response()
}
