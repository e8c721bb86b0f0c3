//! [`EvalError`]: why the evaluation could not run.

use crate::knowledge::ImportError;
use crate::types::AgentError;

/// Why the evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A ticket file could not be read or parsed.
    #[error("cannot read the tickets: {0}")]
    Tickets(String),
    /// Importing the knowledge base failed.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The agent failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
}
