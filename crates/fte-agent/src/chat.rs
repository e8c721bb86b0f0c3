//! The chat model boundary: [`ChatModel`] (what the tool-calling loop
//! needs) and [`OpenAiChatModel`] (any OpenAI-compatible chat completions
//! endpoint, through async-openai).
//!
//! Requests are built as JSON (async-openai's "bring your own types") so
//! the strict tool schemas of [`crate::tools`] go out exactly as written.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use fte_domain::TokenUsage;
use fte_runtime::settings::AgentSettings;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// One tool call requested by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCall {
    /// The id the tool's answer must carry.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, as the JSON text the model wrote (may be malformed).
    pub arguments: String,
}

/// A message of the conversation with the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatMessage {
    /// Instructions.
    System(String),
    /// The customer's message (as data).
    User(String),
    /// The model's turn.
    Assistant {
        /// Text, if any.
        content: Option<String>,
        /// Tool calls, if any.
        tool_calls: Vec<ToolCall>,
    },
    /// A tool's answer.
    Tool {
        /// The call it answers.
        tool_call_id: String,
        /// The answer (JSON text).
        content: String,
    },
}

impl ChatMessage {
    /// The chat completions wire form.
    pub fn to_json(&self) -> Value {
        match self {
            ChatMessage::System(text) => json!({"role": "system", "content": text}),
            ChatMessage::User(text) => json!({"role": "user", "content": text}),
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => {
                let mut message = json!({"role": "assistant", "content": content});
                if !tool_calls.is_empty() {
                    message["tool_calls"] = tool_calls
                        .iter()
                        .map(|call| {
                            json!({
                                "id": call.id,
                                "type": "function",
                                "function": {"name": call.name, "arguments": call.arguments}
                            })
                        })
                        .collect();
                }
                message
            }
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => json!({"role": "tool", "tool_call_id": tool_call_id, "content": content}),
        }
    }
}

/// The model's answer to one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatResponse {
    /// Text, if any.
    pub content: Option<String>,
    /// Tool calls, if any (several means parallel calls).
    pub tool_calls: Vec<ToolCall>,
    /// Tokens the request used: prompt and completion apart, as the
    /// response's `usage` reports them (no embeddings).
    pub usage: TokenUsage,
}

/// Why a model request failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The endpoint answered with an error (rate limit, server error…).
    #[error("chat model error: {0}")]
    Api(String),
    /// The request took longer than its timeout.
    #[error("chat model timed out after {0:?}")]
    Timeout(Duration),
    /// The response could not be understood.
    #[error("chat model response malformed: {0}")]
    Malformed(String),
}

/// A chat completions model with tools.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// Sends the conversation and the tool definitions; returns the model's turn.
    async fn complete(
        &self,
        messages: &[ChatMessage],
        tools: &[Value],
    ) -> Result<ChatResponse, ChatError>;
}

/// An OpenAI-compatible chat completions endpoint.
#[derive(Clone)]
pub struct OpenAiChatModel {
    client: Client<OpenAIConfig>,
    model: String,
    timeout: Duration,
}

impl std::fmt::Debug for OpenAiChatModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiChatModel")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OpenAiChatModel {
    /// A model at `base_url` (for example `https://api.openai.com/v1`).
    pub fn new(base_url: Option<&str>, api_key: &str, model: &str, timeout: Duration) -> Self {
        let mut config = OpenAIConfig::new().with_api_key(api_key);
        if let Some(base) = base_url {
            config = config.with_api_base(base.trim_end_matches('/'));
        }
        Self {
            client: Client::with_config(config),
            model: model.to_owned(),
            timeout,
        }
    }

    /// From `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL` and
    /// `OPENAI_TIMEOUT_MS`. Fails without a key.
    pub fn from_settings(settings: &AgentSettings) -> Result<Self, ChatError> {
        let key = settings
            .openai_api_key
            .as_ref()
            .ok_or_else(|| ChatError::Api("OPENAI_API_KEY is not set".into()))?;
        Ok(Self::new(
            settings.openai_base_url.as_deref(),
            key.expose_secret(),
            &settings.openai_model,
            settings.openai_timeout(),
        ))
    }
}

#[async_trait::async_trait]
impl ChatModel for OpenAiChatModel {
    async fn complete(
        &self,
        messages: &[ChatMessage],
        tools: &[Value],
    ) -> Result<ChatResponse, ChatError> {
        let mut request = json!({
            "model": self.model,
            "messages": messages.iter().map(ChatMessage::to_json).collect::<Vec<_>>(),
            "temperature": 0.2,
        });
        if !tools.is_empty() {
            request["tools"] = Value::Array(tools.to_vec());
            request["tool_choice"] = json!("auto");
            request["parallel_tool_calls"] = json!(true);
        }
        // async-openai retries 429 and 5xx on its own; the timeout bounds
        // the whole attempt, retries included.
        let response: Value =
            tokio::time::timeout(self.timeout, self.client.chat().create_byot(request))
                .await
                .map_err(|_| ChatError::Timeout(self.timeout))?
                .map_err(|e| ChatError::Api(e.to_string()))?;
        parse_response(&response)
    }
}

/// Reads a chat completions response body.
pub fn parse_response(response: &Value) -> Result<ChatResponse, ChatError> {
    let message = response
        .pointer("/choices/0/message")
        .ok_or_else(|| ChatError::Malformed("no choices[0].message".into()))?;
    let content = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty())
        .map(str::to_owned);
    let mut tool_calls = Vec::new();
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = call.get("id").and_then(Value::as_str);
        let name = call.pointer("/function/name").and_then(Value::as_str);
        let arguments = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match (id, name) {
            (Some(id), Some(name)) => tool_calls.push(ToolCall {
                id: id.to_owned(),
                name: name.to_owned(),
                arguments: arguments.to_owned(),
            }),
            _ => return Err(ChatError::Malformed("tool call without id or name".into())),
        }
    }
    let usage = usage(response);
    Ok(ChatResponse {
        content,
        tool_calls,
        usage,
    })
}

/// The response's `usage`: prompt and completion tokens apart. A server
/// that reports only `total_tokens` has its total counted as prompt
/// tokens; one that reports nothing, as none.
fn usage(response: &Value) -> TokenUsage {
    let count = |pointer: &str| {
        response
            .pointer(pointer)
            .and_then(Value::as_u64)
            .map(|t| u32::try_from(t).unwrap_or(u32::MAX))
    };
    match (
        count("/usage/prompt_tokens"),
        count("/usage/completion_tokens"),
    ) {
        (None, None) => TokenUsage::chat(count("/usage/total_tokens").unwrap_or(0), 0),
        (prompt, completion) => TokenUsage::chat(prompt.unwrap_or(0), completion.unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_tool_calls_and_usage_are_read() {
        let body = json!({
            "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "search_knowledge_base", "arguments": "{\"query\":\"x\",\"max_results\":3}"}},
                {"id": "b", "type": "function", "function": {"name": "create_ticket", "arguments": "{}"}}
            ]}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}
        });
        let response = parse_response(&body).unwrap();
        assert_eq!(response.tool_calls.len(), 2);
        assert_eq!(response.tool_calls[1].name, "create_ticket");
        assert_eq!(response.usage, TokenUsage::chat(30, 12));
        assert_eq!(response.content, None);
    }

    #[test]
    fn a_usage_without_the_split_counts_its_total_as_prompt_tokens() {
        let message = json!([{"message": {"role": "assistant", "content": "hi"}}]);
        let total_only = json!({"choices": message, "usage": {"total_tokens": 42}});
        assert_eq!(
            parse_response(&total_only).unwrap().usage,
            TokenUsage::chat(42, 0)
        );
        let none = json!({"choices": message});
        assert_eq!(parse_response(&none).unwrap().usage, TokenUsage::ZERO);
    }

    #[test]
    fn a_body_without_choices_is_malformed() {
        assert!(matches!(
            parse_response(&json!({})),
            Err(ChatError::Malformed(_))
        ));
    }
}
