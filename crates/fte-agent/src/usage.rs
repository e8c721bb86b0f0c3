//! Which turn spent the embedding tokens: [`Metered`] wraps any agent and
//! adds to its outcome the tokens a remote embedder billed while that turn
//! ran.
//!
//! The embedder is shared by every turn of the process (and by the
//! knowledge base import), so it cannot keep a per-turn count itself. A
//! task-local counter scoped around one `respond` can: every embedding call
//! a turn makes runs inside that turn's task (the searches and the offline
//! agent's sentence embeddings are awaited, never spawned), and calls made
//! outside any turn (the import, benchmarks) find no counter and count
//! nowhere. The local model bills nothing and never reports.

pub use crate::turn_tokens::count_embedding_tokens;
use crate::types::{Agent, AgentError, AgentOutcome, AgentRequest};

/// An agent whose outcomes include the embedding tokens of their turn.
#[derive(Debug)]
pub struct Metered<A>(pub A);

#[async_trait::async_trait]
impl<A: Agent> Agent for Metered<A> {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentError> {
        let (outcome, embedding) = count_embedding_tokens(self.0.respond(request)).await;
        let mut outcome = outcome?;
        outcome.usage.embedding = outcome.usage.embedding.saturating_add(embedding);
        Ok(outcome)
    }
}
