//! The cost section of `GET /metrics/summary`: what the agent's model tokens
//! cost over the window, per channel and overall, and per resolved
//! conversation and per escalation. `fte cost` prints the same body.
//!
//! The costs were priced by the worker when the tokens were spent
//! (`MODEL_PRICE_*_PER_MTOK`), so the gateway needs no prices of its own;
//! how conversations are sorted into resolved and escalated is
//! `fte_store::cost`'s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fte_store::PgPool;
use fte_store::cost::{self as store_cost, CostTotals};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Tokens by kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenFigures {
    /// Chat prompt (input) tokens.
    pub prompt: f64,
    /// Chat completion (output) tokens.
    pub completion: f64,
    /// Tokens billed by a remote embedder (0 with the local model).
    pub embedding: f64,
}

/// The cost level of one channel, or of every channel (`overall`).
/// Per-conversation figures are absent when there is no conversation to
/// divide by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CostLevel {
    /// Agent turns recorded.
    pub turns: i64,
    /// Their tokens.
    pub tokens: TokenFigures,
    /// What the tokens cost, in US dollars.
    pub model_cost_usd: f64,
    /// Conversations with turns in the window that no person took (the
    /// bot's resolutions, including answered ones the customer did not
    /// come back to).
    pub resolved_conversations: i64,
    /// Conversations with turns in the window that were escalated.
    pub escalated_conversations: i64,
    /// The model cost of a resolved conversation's turns, on average.
    pub cost_per_resolved_conversation_usd: Option<f64>,
    /// The model cost of an escalated conversation's turns, on average
    /// (the person's time is not in it).
    pub cost_per_escalation_usd: Option<f64>,
    /// Every token of the window over the resolutions: the figure to set
    /// against a per-resolution price.
    pub cost_per_resolution_all_in_usd: Option<f64>,
}

impl From<&CostTotals> for CostLevel {
    fn from(totals: &CostTotals) -> Self {
        Self {
            turns: totals.turns,
            tokens: TokenFigures {
                prompt: totals.prompt_tokens,
                completion: totals.completion_tokens,
                embedding: totals.embedding_tokens,
            },
            model_cost_usd: totals.cost_usd,
            resolved_conversations: totals.resolved_conversations,
            escalated_conversations: totals.escalated_conversations,
            cost_per_resolved_conversation_usd: totals.cost_per_resolved_conversation(),
            cost_per_escalation_usd: totals.cost_per_escalation(),
            cost_per_resolution_all_in_usd: totals.cost_per_resolution_all_in(),
        }
    }
}

/// The cost level since `since`, keyed by channel and `overall`.
pub async fn cost_section(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<BTreeMap<String, CostLevel>, fte_store::StoreError> {
    Ok(store_cost::cost_level(pool, since)
        .await?
        .iter()
        .map(|totals| (totals.channel.clone(), totals.into()))
        .collect())
}
