//! The metrics collector: consumer group [`GROUP`] on `fte.metrics`, run by
//! every worker process next to the message consumer.
//!
//! It is the one writer of `agent_metrics`: each `agent.turn` event becomes
//! one row per figure, keyed by the event's id, so a redelivered event is a
//! no-op ([`record`]). A newly recorded turn also moves the Prometheus
//! series the dashboard reads (`fte_agent_turns_total`,
//! `fte_agent_turn_latency_seconds`, `fte_agent_failed_tool_calls_total`,
//! `fte_model_tokens_total{channel,kind}`, `fte_model_cost_usd_total`),
//! labelled by channel, outcome and token kind only. Events of other types are counted
//! as `ignored` and skipped; undecodable ones go to the dead-letter queue; a
//! database failure is retried and the offset left alone (at least once).
//!
//! Every `lag_interval` it also measures the consumer lag of the known groups
//! ([`KNOWN_GROUPS`] plus the message consumer's) into
//! `fte_kafka_consumer_lag` and the `consumer_lag` table, which the gateway's
//! `/metrics/summary` and both processes' alerts read.

use std::sync::Arc;
use std::time::Duration;

use fte_bus::consumer as bus_consumer;
use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_domain::{Channel, EventEnvelope, TokenUsage};
use fte_store::metrics::TurnRecord;
use fte_store::{PgPool, StoreError};
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::consumer::{ConsumerConfig, ConsumerError};
use crate::retry::Ended;
use crate::sequential;

/// The collector's consumer group.
pub const GROUP: &str = "fte-metrics-collector";

/// The event type the worker publishes after each agent turn.
pub const TURN_EVENT: &str = "agent.turn";

/// Groups whose lag the collector measures besides the message consumer's
/// (which comes from `KAFKA_CONSUMER_GROUP`): the Gmail sync and itself.
pub const KNOWN_GROUPS: [(&str, &str); 2] = [
    (crate::gmail_sync::GROUP, topics::EMAIL_INBOUND),
    (GROUP, topics::METRICS),
];

/// The payload of an `agent.turn` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnEvent {
    /// The channel of the message.
    pub channel: Channel,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// The agent's turn latency.
    pub latency_ms: u32,
    /// Chat tokens spent (prompt + completion).
    pub tokens_used: u32,
    /// Of those, prompt (input) tokens (absent in events written before the
    /// split was recorded).
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Of those, completion (output) tokens.
    #[serde(default)]
    pub completion_tokens: u32,
    /// Tokens billed by a remote embedder during the turn.
    #[serde(default)]
    pub embedding_tokens: u32,
    /// What the turn's tokens cost at the worker's prices
    /// (`MODEL_PRICE_*_PER_MTOK`), in micro-dollars.
    #[serde(default)]
    pub cost_micro_usd: f64,
    /// Tool calls made.
    pub tool_calls: u32,
    /// Knowledge base searches run (absent in events written before it existed).
    #[serde(default)]
    pub kb_searches: u32,
    /// Searches whose best result was above the relevance threshold.
    #[serde(default)]
    pub kb_hits: u32,
    /// Tool calls that failed (invalid arguments, unknown tool).
    #[serde(default)]
    pub failed_tool_calls: u32,
    /// Whether the turn escalated the ticket.
    pub escalated: bool,
    /// Sentiment of the message on -1..1.
    pub sentiment: f32,
}

/// What the agent level counts in a turn's tool-call log (the JSON array the
/// agents write into `messages.tool_calls`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ToolCallCounts {
    /// Entries naming a tool.
    pub tool_calls: u32,
    /// `search_knowledge_base` calls that ran.
    pub kb_searches: u32,
    /// Of those, searches whose entry says `"hit": true`.
    pub kb_hits: u32,
    /// Calls whose `outcome` is not `ok`.
    pub failed_tool_calls: u32,
}

impl ToolCallCounts {
    /// Counts the entries of `log`; anything that is not an array counts nothing.
    pub fn of(log: &serde_json::Value) -> Self {
        let mut counts = Self::default();
        for entry in log.as_array().into_iter().flatten() {
            let Some(tool) = entry.get("tool").and_then(|t| t.as_str()) else {
                // Guard and fallback notes are not tool calls.
                continue;
            };
            counts.tool_calls += 1;
            let failed = entry
                .get("outcome")
                .and_then(|o| o.as_str())
                .is_some_and(|o| o != "ok");
            if failed {
                counts.failed_tool_calls += 1;
            } else if tool == "search_knowledge_base" {
                counts.kb_searches += 1;
                if entry.get("hit").and_then(|h| h.as_bool()) == Some(true) {
                    counts.kb_hits += 1;
                }
            }
        }
        counts
    }
}

/// What [`record`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Its rows were written and the Prometheus series moved.
    New,
    /// The event was recorded before: nothing changed.
    Duplicate,
}

/// Writes the turn's `agent_metrics` rows and, the first time only, moves
/// the Prometheus series.
pub async fn record(
    pool: &PgPool,
    event: &EventEnvelope<TurnEvent>,
) -> Result<Recorded, StoreError> {
    let turn = &event.payload;
    let channel = turn.channel.as_str();
    let inserted = fte_store::metrics::record_turn(
        pool,
        &TurnRecord {
            event_id: event.event_id,
            occurred_at: event.occurred_at,
            channel,
            conversation_id: turn.conversation_id,
            ticket_id: turn.ticket_id,
            latency_ms: turn.latency_ms,
            tokens_used: turn.tokens_used,
            usage: TokenUsage {
                prompt: turn.prompt_tokens,
                completion: turn.completion_tokens,
                embedding: turn.embedding_tokens,
            },
            cost_micro_usd: turn.cost_micro_usd,
            tool_calls: turn.tool_calls,
            kb_searches: turn.kb_searches,
            kb_hits: turn.kb_hits,
            failed_tool_calls: turn.failed_tool_calls,
            escalated: turn.escalated,
            sentiment: f64::from(turn.sentiment),
        },
    )
    .await?;
    let m = fte_runtime::metrics::global();
    if !inserted {
        m.metrics_events.with_label_values(&["duplicate"]).inc();
        return Ok(Recorded::Duplicate);
    }
    m.metrics_events.with_label_values(&["recorded"]).inc();
    let outcome = if turn.escalated {
        "escalated"
    } else {
        "answered"
    };
    m.agent_turns.with_label_values(&[channel, outcome]).inc();
    m.agent_turn_latency
        .with_label_values(&[channel])
        .observe(f64::from(turn.latency_ms) / 1000.0);
    m.agent_failed_tool_calls
        .with_label_values(&[channel])
        .inc_by(u64::from(turn.failed_tool_calls));
    for (kind, tokens) in [
        ("prompt", turn.prompt_tokens),
        ("completion", turn.completion_tokens),
        ("embedding", turn.embedding_tokens),
    ] {
        m.model_tokens
            .with_label_values(&[channel, kind])
            .inc_by(u64::from(tokens));
    }
    if turn.cost_micro_usd.is_finite() && turn.cost_micro_usd > 0.0 {
        m.model_cost_usd
            .with_label_values(&[channel])
            .inc_by(turn.cost_micro_usd / fte_domain::cost::MICRO_USD_PER_USD);
    }
    Ok(Recorded::New)
}

/// Consumes `fte.metrics` in group [`GROUP`] until `shutdown`, measuring
/// lag every `config.lag_interval` for [`KNOWN_GROUPS`] and `message_group`.
pub async fn run(
    pool: PgPool,
    bootstrap: Arc<Bootstrap>,
    publisher: KafkaPublisher,
    config: ConsumerConfig,
    message_group: String,
    shutdown: CancellationToken,
) -> Result<(), ConsumerError> {
    let consumer = bus_consumer::at_least_once(&bootstrap, &config.group, &[topics::METRICS])?;
    tracing::info!(group = %config.group, "metrics collector started");
    let mut groups: Vec<(String, &'static str)> = vec![(message_group, topics::TICKETS_INCOMING)];
    groups.extend(KNOWN_GROUPS.iter().map(|(g, t)| ((*g).to_owned(), *t)));
    crate::sequential::run(
        &consumer,
        &shutdown,
        Some(config.lag_interval),
        || {
            let (bootstrap, pool, groups) = (bootstrap.clone(), pool.clone(), groups.clone());
            tokio::spawn(async move { measure_lag(&bootstrap, &pool, &groups).await });
        },
        |message| {
            let (pool, publisher, config, shutdown) = (&pool, &publisher, &config, &shutdown);
            async move { process(pool, publisher, config, &message, shutdown).await }
        },
    )
    .await?;
    tracing::info!("metrics collector stopped");
    Ok(())
}

/// The envelope's header, read before the payload's type is known.
#[derive(Deserialize)]
struct Header {
    event_type: String,
}

/// Handles one event; `true` when its offset may be stored.
async fn process(
    pool: &PgPool,
    publisher: &KafkaPublisher,
    config: &ConsumerConfig,
    message: &OwnedMessage,
    shutdown: &CancellationToken,
) -> bool {
    let payload = message.payload().unwrap_or_default();
    let Ok(header) = serde_json::from_slice::<Header>(payload) else {
        let reason = "the payload is not an event envelope";
        return dead_letter(publisher, config, message, "undecodable", reason, shutdown).await;
    };
    if header.event_type != TURN_EVENT {
        fte_runtime::metrics::global()
            .metrics_events
            .with_label_values(&["ignored"])
            .inc();
        return true;
    }
    let event: EventEnvelope<TurnEvent> = match serde_json::from_slice(payload) {
        Ok(event) => event,
        Err(_) => {
            let reason = "the payload is not an agent.turn event";
            return dead_letter(publisher, config, message, "undecodable", reason, shutdown).await;
        }
    };
    let retried = config
        .retry
        .run(
            shutdown,
            || record(pool, &event),
            StoreError::is_transient,
            |error, attempt, delay| {
                tracing::warn!(
                    event.id = %event.event_id,
                    error = %error,
                    attempt,
                    retry_in_ms = delay.as_millis() as u64,
                    "metrics event not recorded; retrying"
                );
            },
        )
        .await;
    let (error, reason) = match retried.ended(StoreError::reason) {
        Ended::Done(_) => return true,
        Ended::Stopped => return false,
        Ended::Failed(error, reason) => (error, reason),
    };
    let kind = error.failure_kind().as_str();
    dead_letter(publisher, config, message, kind, &reason, shutdown).await
}

async fn dead_letter(
    publisher: &KafkaPublisher,
    config: &ConsumerConfig,
    message: &OwnedMessage,
    kind: &str,
    reason: &str,
    shutdown: &CancellationToken,
) -> bool {
    fte_runtime::metrics::global()
        .metrics_events
        .with_label_values(&["rejected"])
        .inc();
    sequential::dead_letter(
        publisher,
        &config.retry,
        message,
        None,
        kind,
        reason,
        shutdown,
    )
    .await
}

/// Measures each group's lag on its topic and stores it (for the gateway
/// and the alerts); a group or topic that cannot be measured is skipped
/// with a debug line. Returns when every group was tried.
pub async fn measure_lag(bootstrap: &Arc<Bootstrap>, pool: &PgPool, groups: &[(String, &str)]) {
    for (group, topic) in groups {
        let (b, g, t) = (bootstrap.clone(), group.clone(), (*topic).to_owned());
        // librdkafka's metadata calls block.
        let measured = tokio::task::spawn_blocking(move || {
            bus_consumer::group_lag(&b, &g, &t, Duration::from_secs(5))
        })
        .await;
        match measured {
            Ok(Ok(lags)) if !lags.is_empty() => {
                if let Err(error) =
                    fte_store::metrics::store_consumer_lag(pool, group, topic, &lags).await
                {
                    tracing::warn!(%error, group, topic, "consumer lag not stored");
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::debug!(%error, group, topic, "consumer lag not measured"),
            Err(error) => tracing::warn!(%error, "consumer lag task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tool_call_counts_read_both_agents_logs() {
        // The offline agent's searches carry a hit flag; the tool agent logs
        // each call with its outcome; guard and fallback notes are not calls.
        let log = json!([
            {"tool": "search_knowledge_base", "attempt": 1, "hits": 3, "hit": false},
            {"tool": "search_knowledge_base", "attempt": 2, "hits": 3, "hit": true},
            {"tool": "search_knowledge_base", "outcome": "ok", "hit": true},
            {"tool": "create_ticket", "outcome": "invalid_arguments"},
            {"tool": "unknown", "outcome": "unknown_tool"},
            {"tool": "escalate_to_human", "reason": "pricing"},
            {"guard": "discount_offer"},
            {"fallback": "offline"}
        ]);
        assert_eq!(
            ToolCallCounts::of(&log),
            ToolCallCounts {
                tool_calls: 6,
                kb_searches: 3,
                kb_hits: 2,
                failed_tool_calls: 2,
            }
        );
        assert_eq!(ToolCallCounts::of(&json!({})), ToolCallCounts::default());
    }
}
