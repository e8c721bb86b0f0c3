//! The tool-calling agent: a bounded loop of chat model turns and tool
//! calls, under a hard time budget.
//!
//! - Triage runs first; messages that need no model (empty, greeting,
//!   thanks, injection only, escalation only) are answered like the
//!   offline agent does, without spending tokens.
//! - The system prompt holds our rules only; the subject, the history and
//!   the message go to the model as framed data messages, and a subject
//!   that reads as an instruction is withheld ([`crate::prompt`]).
//! - At most `max_iterations` model turns; parallel tool calls run
//!   concurrently; malformed arguments come back to the model as tool
//!   errors it can correct.
//! - When the budget runs out, the model fails (429, 5xx, garbage) or never
//!   answers, the offline agent's answer is returned instead: the customer
//!   always gets a safe reply.
//! - Write tools record effects only (see [`crate::tools`]).

use std::time::{Duration, Instant};

use fte_domain::{EscalationReason, TokenUsage};
use fte_runtime::metrics;
use fte_store::PgPool;
use serde_json::{Value, json};

use crate::chat::{ChatError, ChatMessage, ChatModel, ToolCall};
use crate::earlier::acknowledgement;
use crate::offline::{Draft, OfflineAgent, finish, follow_up_promise};
use crate::prompt::{context_message, customer_message, subject_is_injection, system_prompt};
use crate::search::HybridSearch;
use crate::tools::{
    CreateTicketArgs, EscalateArgs, HistoryArgs, SearchArgs, SendResponseArgs, ToolError,
    TurnEffects, definitions, recent_history, search_knowledge_base,
};
use crate::triage::{Intent, rank, triage};
use crate::types::{Agent, AgentError, AgentOutcome, AgentRequest};

/// The OpenAI tool-calling agent over any [`ChatModel`].
pub struct ToolCallingAgent<M: ChatModel> {
    model: M,
    search: HybridSearch,
    offline: OfflineAgent,
    budget: Duration,
    max_iterations: u32,
}

impl<M: ChatModel> std::fmt::Debug for ToolCallingAgent<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolCallingAgent")
            .field("budget", &self.budget)
            .field("max_iterations", &self.max_iterations)
            .finish_non_exhaustive()
    }
}

/// Why the loop gave up (the offline answer is used instead).
#[derive(Debug, thiserror::Error)]
enum LoopError {
    #[error(transparent)]
    Model(#[from] ChatError),
    #[error("no answer after {0} model turns")]
    NoAnswer(u32),
    #[error(transparent)]
    Agent(#[from] AgentError),
}

struct LoopState {
    effects: TurnEffects,
    usage: TokenUsage,
    log: Vec<Value>,
}

impl<M: ChatModel> ToolCallingAgent<M> {
    /// An agent over `model`; `offline` answers when the model cannot.
    pub fn new(
        model: M,
        search: HybridSearch,
        _pool: PgPool,
        offline: OfflineAgent,
        budget: Duration,
        max_iterations: u32,
    ) -> Self {
        Self {
            model,
            search,
            offline,
            budget,
            max_iterations: max_iterations.max(1),
        }
    }

    async fn run_loop(
        &self,
        request: &AgentRequest,
        state: &mut LoopState,
    ) -> Result<(), LoopError> {
        let tools = definitions();
        if subject_is_injection(request) {
            tracing::warn!(
                security = true,
                channel = %request.channel,
                "the ticket subject reads as an instruction; withheld from the model"
            );
            state.log.push(json!({"guard": "subject_withheld"}));
        }
        // Our rules alone in the system prompt; everything the customer's
        // side wrote (subject, history, message) as framed data.
        let mut messages = vec![
            ChatMessage::System(system_prompt(request)),
            ChatMessage::User(context_message(request)),
            ChatMessage::User(customer_message(request)),
        ];
        for _ in 0..self.max_iterations {
            let asked = Instant::now();
            let response = self.model.complete(&messages, &tools).await?;
            // Where the turn's time goes, beside the tool entries' own `ms`.
            state.log.push(json!({"model_ms": millis(asked.elapsed())}));
            state.usage = state.usage.plus(response.usage);
            if response.tool_calls.is_empty() {
                // A plain answer without send_response is accepted as the answer.
                if let Some(content) = response.content {
                    state.effects.response.get_or_insert(content);
                    return Ok(());
                }
                continue;
            }
            messages.push(ChatMessage::Assistant {
                content: response.content.clone(),
                tool_calls: response.tool_calls.clone(),
            });
            let results = futures::future::join_all(response.tool_calls.iter().map(|call| async {
                let started = Instant::now();
                let result = self.execute(call, request).await;
                (result, started.elapsed())
            }))
            .await;
            for (call, (result, took)) in response.tool_calls.iter().zip(results) {
                let (content, effect, outcome) = match result {
                    Ok((content, effect)) => (content, effect, "ok"),
                    Err(ToolFailure::Arguments(reason)) => (
                        json!({"error": format!("invalid arguments: {reason}")}).to_string(),
                        None,
                        "invalid_arguments",
                    ),
                    Err(ToolFailure::Unknown) => (
                        json!({"error": "unknown tool"}).to_string(),
                        None,
                        "unknown_tool",
                    ),
                    Err(ToolFailure::Agent(error)) => return Err(error.into()),
                };
                metrics::global()
                    .agent_tool_calls
                    .with_label_values(&[tool_label(&call.name), outcome])
                    .inc();
                let mut entry = json!({
                    "tool": tool_label(&call.name),
                    "outcome": outcome,
                    "ms": millis(took),
                });
                if let Some(Effect::Searched(hit)) = &effect {
                    // Whether the search found a result above the threshold
                    // (the knowledge base hit rate counts these).
                    entry["hit"] = json!(hit);
                }
                state.log.push(entry);
                if let Some(effect) = effect {
                    apply(&mut state.effects, effect);
                }
                messages.push(ChatMessage::Tool {
                    tool_call_id: call.id.clone(),
                    content,
                });
            }
            if state.effects.response.is_some() {
                return Ok(());
            }
        }
        Err(LoopError::NoAnswer(self.max_iterations))
    }

    async fn execute(
        &self,
        call: &ToolCall,
        request: &AgentRequest,
    ) -> Result<(String, Option<Effect>), ToolFailure> {
        let parse_error = |e: serde_json::Error| ToolFailure::Arguments(e.to_string());
        match call.name.as_str() {
            "search_knowledge_base" => {
                let args: SearchArgs =
                    serde_json::from_str(&call.arguments).map_err(parse_error)?;
                let answer = search_knowledge_base(&self.search, &args)
                    .await
                    .map_err(|error| match error {
                        ToolError::Arguments(reason) => ToolFailure::Arguments(reason),
                        ToolError::Agent(error) => ToolFailure::Agent(error),
                    })?;
                Ok((
                    answer.for_model().to_string(),
                    Some(Effect::Searched(answer.relevant)),
                ))
            }
            "create_ticket" => {
                let args: CreateTicketArgs =
                    serde_json::from_str(&call.arguments).map_err(parse_error)?;
                Ok((
                    json!({"recorded": true}).to_string(),
                    Some(Effect::Ticket(args)),
                ))
            }
            "get_customer_history" => {
                let args: HistoryArgs =
                    serde_json::from_str(&call.arguments).map_err(parse_error)?;
                // The request's history is already cut to what this
                // reply's recipient may see.
                let entries = recent_history(&request.history, args.limit);
                Ok((json!({"messages": entries}).to_string(), None))
            }
            "escalate_to_human" => {
                let args: EscalateArgs =
                    serde_json::from_str(&call.arguments).map_err(parse_error)?;
                Ok((
                    json!({"recorded": true, "tell_the_customer": follow_up_promise(request.human_response_hours)})
                        .to_string(),
                    Some(Effect::Escalate(args)),
                ))
            }
            "send_response" => {
                let args: SendResponseArgs =
                    serde_json::from_str(&call.arguments).map_err(parse_error)?;
                if args.message.trim().is_empty() {
                    return Err(ToolFailure::Arguments("message is empty".into()));
                }
                Ok((
                    json!({"sent": true}).to_string(),
                    Some(Effect::Respond(args.message)),
                ))
            }
            _ => Err(ToolFailure::Unknown),
        }
    }
}

enum ToolFailure {
    Arguments(String),
    Unknown,
    Agent(AgentError),
}

enum Effect {
    Searched(bool),
    Ticket(CreateTicketArgs),
    Escalate(EscalateArgs),
    Respond(String),
}

fn apply(effects: &mut TurnEffects, effect: Effect) {
    match effect {
        Effect::Searched(hit) => effects.kb_hit |= hit,
        Effect::Ticket(args) => {
            effects.category = Some(args.category);
            effects.priority = Some(args.priority);
        }
        Effect::Escalate(args) => {
            // One escalation per ticket: the first reason in table order.
            let keep = effects
                .escalation
                .as_ref()
                .is_some_and(|(current, _)| rank(*current) <= rank(args.reason));
            if !keep {
                effects.escalation = Some((args.reason, args.summary));
            }
        }
        Effect::Respond(text) => {
            effects.response.get_or_insert(text);
        }
    }
}

/// Whole milliseconds, for the turn's log.
fn millis(took: Duration) -> u64 {
    u64::try_from(took.as_millis()).unwrap_or(u64::MAX)
}

/// Tool names as metric labels: only known names, so a model inventing
/// tools cannot grow the label set.
fn tool_label(name: &str) -> &'static str {
    crate::tools::TOOL_NAMES
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("unknown")
}

#[async_trait::async_trait]
impl<M: ChatModel> Agent for ToolCallingAgent<M> {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentError> {
        let started = Instant::now();
        let triage = triage(&request.message);
        metrics::global()
            .sentiment
            .with_label_values(&[request.channel.as_str()])
            .observe(f64::from(triage.sentiment));
        let needs_model = triage.intent == Intent::Question && !triage.answerable.trim().is_empty();
        if !needs_model {
            let draft = self.offline.draft(request, &triage).await?;
            return Ok(finish(
                request,
                draft,
                triage.sentiment,
                started,
                TokenUsage::ZERO,
            ));
        }

        let mut state = LoopState {
            effects: TurnEffects::default(),
            usage: TokenUsage::ZERO,
            log: Vec::new(),
        };
        // Leave room for the offline fallback inside the budget.
        let model_budget = self.budget.mul_f32(0.8);
        let outcome = tokio::time::timeout(model_budget, self.run_loop(request, &mut state)).await;
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(LoopError::Agent(error))) => return Err(error),
            Ok(Err(error)) => Some(error.to_string()),
            Err(_) => Some(format!(
                "time budget of {} ms spent",
                model_budget.as_millis()
            )),
        };
        // Tokens are counted once, by the worker that commits the turn
        // (`fte_agent_tokens_total`, and per kind by the metrics collector).

        let draft = match (failure, state.effects.response.clone()) {
            (None, Some(response)) => {
                model_draft(request, &triage, state.effects, response, state.log)
            }
            (failure, _) => {
                let reason = failure.unwrap_or_else(|| "no response".into());
                tracing::warn!(agent.fallback = %reason, channel = %request.channel, "model turn failed; answering offline");
                let mut draft = self.offline.draft(request, &triage).await?;
                let mut log = state.log;
                log.push(json!({"fallback": "offline"}));
                log.append(&mut draft.tool_calls);
                draft.tool_calls = log;
                draft
            }
        };
        Ok(finish(
            request,
            draft,
            triage.sentiment,
            started,
            state.usage,
        ))
    }
}

/// The model's answer as a draft: triage's escalation wins over the
/// model's when it comes first in table order; the follow-up promise and
/// the cross-channel acknowledgement are ensured.
fn model_draft(
    request: &AgentRequest,
    triage: &crate::triage::Triage,
    effects: TurnEffects,
    response: String,
    log: Vec<Value>,
) -> Draft {
    let model_reason = effects.escalation.as_ref().map(|(reason, _)| *reason);
    let escalation: Option<EscalationReason> = match (triage.escalation, model_reason) {
        (Some(a), Some(b)) => Some(if rank(a) <= rank(b) { a } else { b }),
        (a, b) => a.or(b),
    };
    let mut answer = response;
    if let Some(note) = acknowledgement(request)
        && !answer.contains("wrote to us")
    {
        answer = format!("{note}\n\n{answer}");
    }
    if escalation.is_some() && !answer.contains("business hour") {
        answer = format!(
            "{answer}\n\n{}",
            follow_up_promise(request.human_response_hours)
        );
    }
    Draft {
        answer,
        escalation,
        resolve: false,
        kb_hit: effects.kb_hit,
        category: effects.category,
        tool_calls: log,
    }
}
