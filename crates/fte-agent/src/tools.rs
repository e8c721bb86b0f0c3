//! The tools the model may call, with strict JSON schemas.
//!
//! Tools that *read* (`search_knowledge_base`, `get_customer_history`) read
//! the knowledge base and the request's history. Tools that *write*
//! (`create_ticket`, `escalate_to_human`, `send_response`) do not write:
//! they record their effect in [`TurnEffects`], which becomes the
//! [`AgentOutcome`](crate::AgentOutcome) the worker commits in its own
//! transaction.
//!
//! The two read tools' logic — [`search_knowledge_base`] and
//! [`recent_history`] — is public: the MCP server (`fte-mcp`) serves the
//! same tools to staff and calls these functions rather than a copy.

use fte_domain::{Category, EscalationReason, Priority};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::search::HybridSearch;
use crate::types::{AgentError, HistoryEntry, HistoryRole};

/// Passages a search returns at most.
pub const MAX_SEARCH_RESULTS: u32 = 5;
/// History messages `get_customer_history` returns at most.
pub const MAX_HISTORY_MESSAGES: u32 = 20;

/// Every tool name; the guardrails refuse a reply that mentions one.
pub const TOOL_NAMES: [&str; 5] = [
    "search_knowledge_base",
    "create_ticket",
    "get_customer_history",
    "escalate_to_human",
    "send_response",
];

/// The tool definitions in the chat completions format (`strict: true`:
/// every property required, no additional properties).
pub fn definitions() -> Vec<Value> {
    let reasons: Vec<&str> = EscalationReason::ALL.iter().map(|r| r.as_str()).collect();
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let priorities: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
    vec![
        function(
            "search_knowledge_base",
            "Search the Orbitask knowledge base. Returns the most relevant article passages with scores. Search before answering any product question; if nothing relevant comes back, rephrase once with keywords.",
            json!({
                "query": {"type": "string", "description": "What to look for, in English keywords or a short question."},
                "max_results": {"type": "integer", "description": "How many passages to return (1-5)."}
            }),
        ),
        function(
            "create_ticket",
            "Record the ticket's category and priority for this conversation.",
            json!({
                "category": {"type": "string", "enum": categories},
                "priority": {"type": "string", "enum": priorities}
            }),
        ),
        function(
            "get_customer_history",
            "The customer's earlier messages on every channel (oldest first), reaching back 90 days: conversations before the latest messages come as one summary each. Use it to notice a follow-up, a contact on another channel, or an earlier conversation the customer refers to (\"last week\").",
            json!({
                "limit": {"type": "integer", "description": "How many recent messages (1-20)."}
            }),
        ),
        function(
            "escalate_to_human",
            "Hand the conversation to a person. Use for the escalation triggers only, with exactly one reason.",
            json!({
                "reason": {"type": "string", "enum": reasons},
                "summary": {"type": "string", "description": "One or two sentences for the person taking over; no contact details."}
            }),
        ),
        function(
            "send_response",
            "Send the final answer to the customer. Call it exactly once, last. Write only the answer: the greeting, signature and channel format are added for you.",
            json!({
                "message": {"type": "string", "description": "The answer in plain sentences; numbered steps for how-tos."}
            }),
        ),
    ]
}

fn function(name: &str, description: &str, properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    json!({
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "strict": true,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false
            }
        }
    })
}

/// Arguments of `search_knowledge_base`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// The query.
    pub query: String,
    /// 1–5.
    pub max_results: u32,
}

/// Arguments of `create_ticket`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketArgs {
    /// The category.
    pub category: Category,
    /// The priority.
    pub priority: Priority,
}

/// Arguments of `get_customer_history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// 1–20.
    pub limit: u32,
}

/// Arguments of `escalate_to_human`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateArgs {
    /// The reason.
    pub reason: EscalationReason,
    /// For the person taking over.
    pub summary: String,
}

/// Arguments of `send_response`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendResponseArgs {
    /// The answer.
    pub message: String,
}

/// Why a read tool could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments are unusable (the caller can correct them).
    #[error("invalid arguments: {0}")]
    Arguments(String),
    /// The knowledge base or the embedding model failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
}

/// One passage `search_knowledge_base` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Passage {
    /// The article's slug (`category/slug`).
    pub slug: String,
    /// The article's title.
    pub title: String,
    /// The chunk's text.
    pub passage: String,
    /// Cosine similarity with the query, to three decimals (0 when only the
    /// full-text side found it).
    pub score: f64,
}

/// What `search_knowledge_base` answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KnowledgeAnswer {
    /// Whether the best passage is relevant enough to answer from
    /// ([`crate::search::RELEVANCE_THRESHOLD`]).
    pub relevant: bool,
    /// Passages, best first.
    pub passages: Vec<Passage>,
}

impl KnowledgeAnswer {
    /// The answer as the model sees it: passages without their slug (the
    /// model has no use for internal names and must not repeat them).
    pub fn for_model(&self) -> Value {
        let passages: Vec<Value> = self
            .passages
            .iter()
            .map(|p| json!({"title": p.title, "passage": p.passage, "score": p.score}))
            .collect();
        json!({"relevant": self.relevant, "passages": passages})
    }
}

/// Runs `search_knowledge_base`: refuses an empty query, keeps
/// `max_results` within 1–[`MAX_SEARCH_RESULTS`], and counts the search as
/// a hit or a miss.
pub async fn search_knowledge_base(
    search: &HybridSearch,
    args: &SearchArgs,
) -> Result<KnowledgeAnswer, ToolError> {
    if args.query.trim().is_empty() {
        return Err(ToolError::Arguments("query is empty".into()));
    }
    let limit = args.max_results.clamp(1, MAX_SEARCH_RESULTS) as usize;
    let results = search.search(&args.query, limit).await?;
    let passages = results
        .hits
        .iter()
        .map(|hit| Passage {
            slug: hit.slug.clone(),
            title: hit.title.clone(),
            passage: hit.content.clone(),
            score: (hit.similarity.unwrap_or(0.0) * 1000.0).round() / 1000.0,
        })
        .collect();
    Ok(KnowledgeAnswer {
        relevant: results.is_hit(),
        passages,
    })
}

/// `get_customer_history`: the summaries of earlier conversations (up to
/// 90 days back), then the latest `limit` messages of `history` (kept
/// within 1–[`MAX_HISTORY_MESSAGES`]), oldest first.
pub fn recent_history(history: &[HistoryEntry], limit: u32) -> Vec<HistoryEntry> {
    let limit = limit.clamp(1, MAX_HISTORY_MESSAGES) as usize;
    let (summaries, messages): (Vec<&HistoryEntry>, Vec<&HistoryEntry>) =
        history.iter().partition(|h| h.role == HistoryRole::Summary);
    summaries
        .into_iter()
        .chain(
            messages[messages.len().saturating_sub(limit)..]
                .iter()
                .copied(),
        )
        .cloned()
        .collect()
}

/// The effects the write tools recorded during one turn.
#[derive(Debug, Default, Clone)]
pub struct TurnEffects {
    /// From `create_ticket`.
    pub category: Option<Category>,
    /// From `create_ticket`.
    pub priority: Option<Priority>,
    /// From `escalate_to_human` (the first reason in table order wins).
    pub escalation: Option<(EscalationReason, String)>,
    /// From `send_response`.
    pub response: Option<String>,
    /// Whether any search was relevant enough.
    pub kb_hit: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_definition_is_strict_and_requires_all_its_properties() {
        let defs = definitions();
        assert_eq!(defs.len(), TOOL_NAMES.len());
        for (def, name) in defs.iter().zip(TOOL_NAMES) {
            let function = &def["function"];
            assert_eq!(function["name"], name);
            assert_eq!(function["strict"], true);
            let params = &function["parameters"];
            assert_eq!(params["additionalProperties"], false);
            let mut props: Vec<&String> =
                params["properties"].as_object().unwrap().keys().collect();
            let mut required: Vec<String> = params["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            props.sort();
            required.sort();
            assert_eq!(
                props.into_iter().cloned().collect::<Vec<_>>(),
                required,
                "{name}"
            );
        }
    }

    #[test]
    fn recent_history_keeps_the_latest_entries_within_bounds() {
        let entries: Vec<HistoryEntry> = (0..30)
            .map(|i| HistoryEntry {
                role: crate::HistoryRole::Customer,
                channel: fte_domain::Channel::Email,
                content: format!("m{i}"),
                created_at: chrono::Utc::now(),
            })
            .collect();
        let last = |n: u32| -> Vec<String> {
            recent_history(&entries, n)
                .iter()
                .map(|e| e.content.clone())
                .collect()
        };
        assert_eq!(last(2), ["m28", "m29"]);
        assert_eq!(last(0), ["m29"], "at least one");
        assert_eq!(last(500).len(), MAX_HISTORY_MESSAGES as usize);
        assert_eq!(recent_history(&entries[..3], 10).len(), 3);
    }

    #[test]
    fn recent_history_keeps_every_summary_before_the_latest_messages() {
        let mut entries = vec![HistoryEntry {
            role: HistoryRole::Summary,
            channel: fte_domain::Channel::Whatsapp,
            content: "Earlier conversation".into(),
            created_at: chrono::Utc::now(),
        }];
        entries.extend((0..5).map(|i| HistoryEntry {
            role: HistoryRole::Customer,
            channel: fte_domain::Channel::Email,
            content: format!("m{i}"),
            created_at: chrono::Utc::now(),
        }));
        let kept: Vec<String> = recent_history(&entries, 2)
            .into_iter()
            .map(|e| e.content)
            .collect();
        assert_eq!(kept, ["Earlier conversation", "m3", "m4"]);
    }

    #[test]
    fn malformed_arguments_are_refused() {
        assert!(
            serde_json::from_str::<EscalateArgs>(r#"{"reason":"bored","summary":"x"}"#).is_err()
        );
        assert!(serde_json::from_str::<SearchArgs>(r#"{"query":"x"}"#).is_err());
        assert!(serde_json::from_str::<SendResponseArgs>(r#"{"message":"x","extra":1}"#).is_err());
    }
}
