//! # fte-agent
//!
//! The support agent: it turns one customer message into a reply shaped
//! for the channel, an optional escalation and a few ticket effects. It is
//! the only crate that links `async-openai` and the local embedding model.
//!
//! ## Tour
//!
//! - [`triage`], [`rules`] and [`sentiment`]: deterministic rules *before*
//!   any model — the precise (hard) escalation rules of
//!   `context/escalation-rules.md` in five languages, greetings, thanks,
//!   empty messages and prompt injection; [`judge`]: the semantic layer that
//!   recognises indirect escalations against labelled exemplars (offline).
//! - [`relevance`] and [`followup`]: whether the knowledge base answers the
//!   question at all, and reading a short follow-up with the conversation.
//! - [`guard`]: rules *after* the model — no money, no internals, no foreign
//!   ids, the channel's length; a reply that breaks one becomes a safe
//!   escalation.
//! - [`embed`]: the [`Embedder`] trait with [`LocalMiniLm`] (pure Rust, candle)
//!   and [`OpenAiEmbedder`].
//! - [`knowledge`]: importing `kb/` (front matter, chunking, idempotent by
//!   content hash) and [`search`]: hybrid search (pgvector cosine + PostgreSQL
//!   full text, fused by reciprocal rank fusion).
//! - [`kb_check`]: the knowledge base's agreement with the product facts.
//! - [`offline`]: the deterministic [`OfflineAgent`], the default without an
//!   OpenAI key, and the fallback of the tool-calling agent.
//! - [`earlier`]: acknowledging earlier contact (another channel today, or
//!   the conversation of "last week" the message refers to).
//! - [`chat`], [`tools`], [`prompt`], [`tool_agent`]: the OpenAI tool-calling
//!   loop ([`ToolCallingAgent`]) over a [`ChatModel`].
//! - [`eval`]: [`run_eval`], the sample tickets and the tuning and held-out
//!   evaluation sets replayed through the offline agent (`fte eval`).
//! - [`usage`]: [`Metered`], which adds the embedding tokens a turn spent at
//!   a remote embedder to its outcome's [`TokenUsage`](fte_domain::TokenUsage)
//!   (the chat models report their prompt and completion tokens themselves).
//!
//! ## The interface the worker calls
//!
//! ```text
//! let agent: Arc<dyn Agent> = agent_from_settings(&settings, pool).await?;
//! let outcome = agent.respond(&AgentRequest { .. }).await?;
//! // send outcome.reply.messages; keep outcome.reply.deferred for "MORE";
//! // commit outcome.escalation / resolve_ticket / ticket_category in the
//! // worker's own transaction.
//! ```
//!
//! ## What this crate must not do
//!
//! It never writes CRM rows: tools that *write* (create a ticket, escalate,
//! send the response) only record their effect in the [`AgentOutcome`], and
//! the worker commits those effects in its own transaction, which keeps the
//! worker's step idempotent. It reads the knowledge base; the customer's
//! history arrives in the request. It never logs message bodies, names,
//! emails or phone numbers (tool-call logs carry lengths, scores and slugs).
//!
//! ## Why the offline agent is extractive
//!
//! Without a model, the safest answer is the knowledge base's own words:
//! sentences are chosen by similarity to the question and copied, so every
//! number and menu path stays exactly as the product facts state it.
//! `fte eval` measures it on the 56 sample tickets and on an independent
//! set split into a tuning and a held-out half (`context/eval/`).

pub mod chat;
pub mod earlier;
pub mod embed;
pub mod eval;
pub mod followup;
pub mod glossary;
pub mod guard;
pub mod judge;
pub mod kb_check;
pub mod knowledge;
pub mod offline;
pub mod prompt;
pub mod relevance;
pub mod rules;
pub mod search;
pub mod sentiment;
pub(crate) mod text;
pub mod tool_agent;
pub mod tools;
pub mod triage;
mod turn_tokens;
mod types;
pub mod usage;

use std::sync::Arc;

pub use chat::{ChatModel, OpenAiChatModel};
pub use embed::{Embedder, LocalMiniLm, OpenAiEmbedder};
pub use eval::{EvalReport, EvalSet, SetReport, run_eval};
pub use knowledge::{ImportReport, import_knowledge_base};
pub use offline::OfflineAgent;
pub use search::{HybridSearch, SearchHit};
pub use tool_agent::ToolCallingAgent;
pub use types::{
    Agent, AgentError, AgentOutcome, AgentRequest, EscalationDecision, HistoryEntry, HistoryRole,
};
pub use usage::Metered;

use fte_runtime::settings::{AgentSettings, EmbeddingProvider};
use sqlx::PgPool;

/// The embedder the settings ask for: the local MiniLM model (default) or
/// OpenAI's embeddings.
pub fn embedder_from_settings(settings: &AgentSettings) -> anyhow::Result<Arc<dyn Embedder>> {
    Ok(match settings.embedding_provider {
        EmbeddingProvider::Local => Arc::new(LocalMiniLm::load(&settings.minilm_dir())?),
        EmbeddingProvider::OpenAi => Arc::new(OpenAiEmbedder::from_settings(settings)?),
    })
}

/// The agent the settings describe: the tool-calling agent over OpenAI when
/// `OPENAI_API_KEY` is set, else the deterministic offline agent, either
/// [`Metered`] so its outcomes carry every token the turn spent. Fails when
/// the embedding model cannot be loaded.
pub async fn agent_from_settings(
    settings: &AgentSettings,
    pool: PgPool,
) -> anyhow::Result<Arc<dyn Agent>> {
    let embedder = embedder_from_settings(settings)?;
    let search = HybridSearch::new(pool.clone(), embedder);
    let offline = OfflineAgent::new(search.clone(), pool.clone());
    if settings.openai_api_key.is_none() {
        tracing::info!(
            "agent.mode" = "offline",
            "no OPENAI_API_KEY: using the offline agent"
        );
        return Ok(Arc::new(Metered(offline)));
    }
    let model = OpenAiChatModel::from_settings(settings)?;
    tracing::info!(
        "agent.mode" = "openai",
        "using the OpenAI tool-calling agent"
    );
    Ok(Arc::new(Metered(ToolCallingAgent::new(
        model,
        search,
        pool,
        offline,
        settings.time_budget(),
        settings.max_iterations,
    ))))
}
