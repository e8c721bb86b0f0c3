//! # fte-agent
//!
//! The support agent: it turns one customer message into a reply shaped
//! for the channel, an optional escalation and a few ticket effects. It is
//! the only crate that links `async-openai` and the local embedding model.
//!
//! ## Tour
//!
//! - [`triage`] and [`sentiment`]: deterministic rules *before* any model —
//!   the escalation reasons of `context/escalation-rules.md` in five
//!   languages, greetings, thanks, empty messages and prompt injection.
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
//! - [`chat`], [`tools`], [`prompt`], [`tool_agent`]: the OpenAI tool-calling
//!   loop ([`ToolCallingAgent`]) over a [`ChatModel`].
//! - [`eval`]: [`run_eval`], the sample tickets replayed through the offline
//!   agent (`fte eval`).
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
//! worker's step idempotent. It reads the knowledge base and the customer's
//! history. It never logs message bodies, names, emails or phone numbers.

pub mod embed;
pub mod eval;
pub mod guard;
pub mod kb_check;
pub mod knowledge;
pub mod offline;
pub mod search;
pub mod sentiment;
pub mod tools;
pub mod triage;
mod types;

pub use embed::{Embedder, LocalMiniLm, OpenAiEmbedder};
pub use eval::{EvalReport, run_eval};
pub use knowledge::{ImportReport, import_knowledge_base};
pub use offline::OfflineAgent;
pub use search::{HybridSearch, SearchHit};
pub use types::{
    Agent, AgentError, AgentOutcome, AgentRequest, EscalationDecision, HistoryEntry, HistoryRole,
};
