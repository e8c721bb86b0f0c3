//! The agent's turns as the metrics collector stores them: one
//! `agent_metrics` row per figure of an `agent.turn` event, the event id
//! making a redelivered event a no-op.

use chrono::{DateTime, Utc};
use fte_domain::TokenUsage;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// The label of the row that aggregates every channel.
pub const OVERALL: &str = "overall";

/// The largest value `agent_metrics.metric_value` (numeric(14, 4)) holds.
const MAX_METRIC_VALUE: f64 = 9_999_999_999.0;

/// `agent_metrics.metric_name` of each figure of a turn.
pub mod names {
    /// The agent's turn latency in milliseconds.
    pub const RESPONSE_LATENCY_MS: &str = "response_latency_ms";
    /// Chat tokens spent (prompt + completion).
    pub const TOKENS_USED: &str = "tokens_used";
    /// Chat prompt (input) tokens.
    pub const PROMPT_TOKENS: &str = "prompt_tokens";
    /// Chat completion (output) tokens.
    pub const COMPLETION_TOKENS: &str = "completion_tokens";
    /// Tokens billed by a remote embedder.
    pub const EMBEDDING_TOKENS: &str = "embedding_tokens";
    /// What the turn's tokens cost when they were spent, in micro-dollars
    /// (the column keeps four decimals: a dollar amount would round a
    /// typical turn to nothing).
    pub const MODEL_COST_MICRO_USD: &str = "model_cost_micro_usd";
    /// Sentiment of the customer's message on -1..1.
    pub const SENTIMENT: &str = "sentiment";
    /// Tool calls made.
    pub const TOOL_CALLS: &str = "tool_calls";
    /// Knowledge base searches run.
    pub const KB_SEARCHES: &str = "kb_searches";
    /// Searches whose best result was above the relevance threshold.
    pub const KB_HITS: &str = "kb_hits";
    /// Tool calls that failed (bad arguments, unknown tool).
    pub const FAILED_TOOL_CALLS: &str = "failed_tool_calls";
    /// 1 when the turn escalated, else 0.
    pub const ESCALATED: &str = "escalated";
}

/// One agent turn, as the `agent.turn` event carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct TurnRecord<'a> {
    /// The event's id: a second record of the same id is ignored.
    pub event_id: Uuid,
    /// When the turn happened.
    pub occurred_at: DateTime<Utc>,
    /// `email`, `whatsapp` or `web_form`.
    pub channel: &'a str,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Turn latency in milliseconds.
    pub latency_ms: u32,
    /// Chat tokens spent (prompt + completion).
    pub tokens_used: u32,
    /// Billed tokens by kind (all 0 for events written before the split).
    pub usage: TokenUsage,
    /// What they cost when spent, in micro-dollars.
    pub cost_micro_usd: f64,
    /// Tool calls made.
    pub tool_calls: u32,
    /// Knowledge base searches run.
    pub kb_searches: u32,
    /// Searches with a result above the threshold.
    pub kb_hits: u32,
    /// Failed tool calls.
    pub failed_tool_calls: u32,
    /// Whether the turn escalated.
    pub escalated: bool,
    /// Sentiment on -1..1.
    pub sentiment: f64,
}

/// Writes the turn's figures, one `agent_metrics` row each. Returns `false`
/// when the event was already recorded (nothing is written then).
pub async fn record_turn(
    executor: impl PgExecutor<'_>,
    turn: &TurnRecord<'_>,
) -> Result<bool, StoreError> {
    let figures: [(&str, f64); 12] = [
        (names::RESPONSE_LATENCY_MS, f64::from(turn.latency_ms)),
        (names::TOKENS_USED, f64::from(turn.tokens_used)),
        (names::PROMPT_TOKENS, f64::from(turn.usage.prompt)),
        (names::COMPLETION_TOKENS, f64::from(turn.usage.completion)),
        (names::EMBEDDING_TOKENS, f64::from(turn.usage.embedding)),
        (
            names::MODEL_COST_MICRO_USD,
            // Inside numeric(14, 4); a cost is never negative.
            if turn.cost_micro_usd.is_finite() {
                turn.cost_micro_usd.clamp(0.0, MAX_METRIC_VALUE)
            } else {
                0.0
            },
        ),
        (names::SENTIMENT, turn.sentiment.clamp(-1.0, 1.0)),
        (names::TOOL_CALLS, f64::from(turn.tool_calls)),
        (names::KB_SEARCHES, f64::from(turn.kb_searches)),
        (names::KB_HITS, f64::from(turn.kb_hits)),
        (names::FAILED_TOOL_CALLS, f64::from(turn.failed_tool_calls)),
        (names::ESCALATED, if turn.escalated { 1.0 } else { 0.0 }),
    ];
    let (metric_names, values): (Vec<&str>, Vec<f64>) = figures.into_iter().unzip();
    let dimensions = serde_json::json!({
        "conversation_id": turn.conversation_id,
        "ticket_id": turn.ticket_id,
    });
    let inserted = sqlx::query(
        "insert into agent_metrics
             (event_id, metric_name, metric_value, channel, dimensions, recorded_at)
         select $1, f.name, f.value::numeric, $2, $3, $4
         from unnest($5::text[], $6::float8[]) as f(name, value)
         on conflict (event_id, metric_name) where event_id is not null do nothing",
    )
    .bind(turn.event_id)
    .bind(turn.channel)
    .bind(dimensions)
    .bind(turn.occurred_at)
    .bind(metric_names)
    .bind(values)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}
