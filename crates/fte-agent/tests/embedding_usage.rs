//! Embedding tokens billed by a remote (OpenAI-compatible) embeddings
//! endpoint reach the outcome of the agent turn that spent them.

use std::sync::Arc;

use axum::routing::post;
use axum::{Json, Router};
use fte_agent::usage::count_embedding_tokens;
use fte_agent::{Agent, AgentError, AgentOutcome, AgentRequest, Embedder, Metered, OpenAiEmbedder};
use fte_domain::format::FormattedReply;
use fte_domain::{Channel, ConversationId, CustomerId, TicketId, TokenUsage};
use fte_fakes::FakeServer;
use fte_runtime::settings::{AgentSettings, Lookup};
use serde_json::{Value, json};

/// Prompt tokens the fake bills per text.
const TOKENS_PER_TEXT: u32 = 9;

/// An embeddings endpoint answering one small vector per input and billing
/// [`TOKENS_PER_TEXT`] per input, as OpenAI's `usage` does.
async fn fake_embeddings() -> FakeServer {
    async fn embeddings(Json(body): Json<Value>) -> Json<Value> {
        let inputs = body["input"].as_array().map_or(1, Vec::len);
        let data: Vec<Value> = (0..inputs)
            .map(|index| json!({"object": "embedding", "index": index, "embedding": [0.6, 0.8]}))
            .collect();
        let tokens = inputs as u32 * TOKENS_PER_TEXT;
        Json(json!({
            "object": "list",
            "model": "text-embedding-3-small",
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
        }))
    }
    FakeServer::start(Router::new().route("/v1/embeddings", post(embeddings)))
        .await
        .expect("start the fake embeddings endpoint")
}

fn embedder(server: &FakeServer) -> Arc<dyn Embedder> {
    let base = format!("{}/v1", server.base_url());
    let lookup = Lookup::from_fn(move |key| match key {
        "OPENAI_API_KEY" => Some("sk-test".to_owned()),
        "OPENAI_BASE_URL" => Some(base.clone()),
        "EMBEDDING_PROVIDER" => Some("openai".to_owned()),
        _ => None,
    });
    let settings = AgentSettings::from_lookup(&lookup).unwrap();
    Arc::new(OpenAiEmbedder::from_settings(&settings).unwrap())
}

/// An agent that searches twice (one query embedded each time) and answers
/// with a model that billed 100 prompt and 20 completion tokens.
struct Searching {
    embedder: Arc<dyn Embedder>,
}

#[async_trait::async_trait]
impl Agent for Searching {
    async fn respond(&self, _request: &AgentRequest) -> Result<AgentOutcome, AgentError> {
        self.embedder.embed(&["first query".to_owned()]).await?;
        self.embedder.embed(&["second query".to_owned()]).await?;
        Ok(AgentOutcome {
            reply: FormattedReply {
                messages: vec!["Here is how.".into()],
                deferred: None,
            },
            escalation: None,
            resolve_ticket: false,
            ticket_category: None,
            sentiment: 0.0,
            usage: TokenUsage::chat(100, 20),
            latency_ms: 1,
            tool_calls: json!([]),
            kb_hit: true,
        })
    }
}

fn request() -> AgentRequest {
    AgentRequest {
        customer_id: CustomerId::new(),
        conversation_id: ConversationId::new(),
        ticket_id: TicketId::new(),
        channel: Channel::WebForm,
        customer_first_name: None,
        plan: None,
        human_response_hours: 4,
        subject: None,
        message: "How do I export my tasks?".into(),
        history: Vec::new(),
    }
}

#[tokio::test]
async fn the_openai_embedder_reports_the_tokens_its_response_billed() {
    let server = fake_embeddings().await;
    let embedder = embedder(&server);
    let texts = vec!["one".to_owned(), "two".to_owned(), "three".to_owned()];

    let (vectors, tokens) = count_embedding_tokens(embedder.embed(&texts)).await;

    assert_eq!(vectors.unwrap().len(), 3);
    assert_eq!(
        tokens,
        3 * TOKENS_PER_TEXT,
        "usage.prompt_tokens of the call"
    );
}

#[tokio::test]
async fn a_metered_turn_carries_its_embedding_tokens_beside_the_chat_tokens() {
    let server = fake_embeddings().await;
    let agent = Metered(Searching {
        embedder: embedder(&server),
    });

    let outcome = agent.respond(&request()).await.unwrap();

    assert_eq!(
        outcome.usage,
        TokenUsage {
            prompt: 100,
            completion: 20,
            embedding: 2 * TOKENS_PER_TEXT,
        },
        "two searches of one query each, billed to this turn"
    );
    let again = agent.respond(&request()).await.unwrap();
    assert_eq!(
        again.usage.embedding,
        2 * TOKENS_PER_TEXT,
        "a second turn starts from zero"
    );
}
