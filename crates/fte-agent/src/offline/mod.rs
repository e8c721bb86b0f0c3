//! The offline agent: deterministic, no language model. It is the default
//! when no OpenAI key is configured, the fallback when the model fails or
//! runs out of time, and what `fte eval` measures.
//!
//! Steps: triage → hybrid search (then a keywords-only search, and for a
//! question in another language one with its English product words, before
//! giving up) → an extractive answer from the most relevant sentences of
//! the best article (numbers and menu paths verbatim, because they are
//! copied, never paraphrased) → escalation notice → channel formatting →
//! post-answer guardrails.
//!
//! Its parts: `retrieval` (the searches and what they leave uncovered),
//! `units` (articles cut into sentences, steps and table rows),
//! `extract` (the answer chosen from those units) and `reply` (the
//! escalation notice, channel formatting and post-answer guardrails).

mod extract;
mod kb_words;
mod reply;
mod retrieval;
mod units;

use std::time::Instant;

use fte_domain::{Category, EscalationReason, TokenUsage};
use fte_runtime::metrics;
use fte_store::PgPool;
use serde_json::json;

use crate::judge::SemanticJudge;
use crate::search::HybridSearch;
use crate::triage::{Intent, Triage, fold, is_injection, pieces};
use crate::types::{Agent, AgentError, AgentOutcome, AgentRequest};

pub use crate::earlier::cross_channel_note;
pub(crate) use reply::{Draft, finish};
pub use reply::{escalation_notice, follow_up_promise};
pub use retrieval::keywords_only;

/// The reply to an empty or whitespace-only message, on every channel.
pub const EMPTY_MESSAGE_REPLY: &str = "Thanks for getting in touch. How can I help you today?";

/// Said once when a message (or its subject) tries to instruct the agent.
const INJECTION_DECLINE: &str = "I can't act on instructions written into a message or share anything about how I work internally, but I'm glad to help with Orbitask.";

/// The deterministic agent.
#[derive(Clone, Debug)]
pub struct OfflineAgent {
    search: HybridSearch,
    /// Answer sentences already embedded (they recur across messages).
    units: std::sync::Arc<crate::embed::EmbeddingCache>,
    /// The semantic layer of escalation triage.
    judge: std::sync::Arc<SemanticJudge>,
    /// The words the knowledge base uses, to correct misspelt words toward
    /// them (re-read within a minute of an import). The history arrives in
    /// the request (cut by the worker to what the recipient may see), so
    /// the pool serves only this.
    kb_words: std::sync::Arc<kb_words::KbWords>,
    pool: PgPool,
}

impl OfflineAgent {
    /// An offline agent over `search`.
    pub fn new(search: HybridSearch, pool: PgPool) -> Self {
        Self {
            search,
            units: std::sync::Arc::default(),
            judge: std::sync::Arc::default(),
            kb_words: std::sync::Arc::default(),
            pool,
        }
    }

    /// The search it uses.
    pub fn search(&self) -> &HybridSearch {
        &self.search
    }

    /// Answers without counting metrics or formatting: the core the
    /// tool-calling agent's fallback and the evaluation share.
    pub(crate) async fn draft(
        &self,
        request: &AgentRequest,
        triage: &Triage,
    ) -> Result<Draft, AgentError> {
        let mut draft = Draft::default();
        match &triage.intent {
            Intent::Empty => {
                draft.answer = EMPTY_MESSAGE_REPLY.into();
                draft.category = Some(Category::General);
                return Ok(draft);
            }
            Intent::Greeting => {
                draft.answer = "Hello! How can I help you with Orbitask today?".into();
                draft.category = Some(Category::General);
                return Ok(draft);
            }
            Intent::Thanks { resolved } => {
                draft.answer = if *resolved {
                    "You're welcome, and I'm glad it works now. I'll close this ticket; just write again if you need anything else.".into()
                } else {
                    "You're welcome! If there is anything else I can help with, just let me know."
                        .into()
                };
                draft.resolve = *resolved;
                return Ok(draft);
            }
            Intent::Injection => {
                draft.answer =
                    format!("{INJECTION_DECLINE} What are you trying to do with Orbitask?");
                return Ok(draft);
            }
            Intent::Question => {}
        }

        let mut escalation = triage.escalation;
        let mut answer = String::new();
        // Misspelt words are searched for as the one word meant (English
        // only: the model's vocabulary is English).
        let question = triage.answerable.trim();
        let corrected = if !question.is_empty() && crate::relevance::is_english(question) {
            let kb_words = self.kb_words.get(&self.pool).await?;
            let embedder = self.search.embedder();
            crate::relevance::corrected_spelling(
                question,
                |word| embedder.knows_word(word),
                &kb_words,
            )
        } else {
            question.to_owned()
        };
        let question = corrected.as_str();
        if !question.is_empty() {
            // A subject that tries to instruct the agent says nothing about the topic.
            let subject = request.subject.as_deref().filter(|s| !is_injection(s));
            // A short follow-up is read with the customer's previous message.
            let query = retrieval::searchable(crate::followup::retrieval_query(request, question));
            let found = retrieval::search_until_hit(&self.search, &query, subject).await?;
            draft.tool_calls.extend(found.log);
            let mut results = found.results;
            // Parts that turn on a name the knowledge base never mentions
            // go to a person; the rest is searched again and answered.
            let gaps = retrieval::coverage_gaps(&self.search, question, &results);
            let mut query = Some(found.english.unwrap_or(query));
            let mut uncovered = !gaps.is_empty();
            if uncovered {
                let kept: Vec<String> = pieces(question)
                    .into_iter()
                    .filter(|piece| !gaps.iter().any(|term| fold(piece).contains(term.as_str())))
                    .collect();
                query = None;
                if !kept.is_empty() {
                    let rest = retrieval::searchable(crate::followup::retrieval_query(
                        request,
                        &kept.join(" "),
                    ));
                    let again = retrieval::search_until_hit(&self.search, &rest, subject).await?;
                    draft.tool_calls.extend(again.log);
                    results = again.results;
                    query = Some(again.english.unwrap_or(rest));
                }
            }
            match query {
                Some(query) if results.is_hit() => {
                    draft.kb_hit = true;
                    answer = extract::extract_answer(
                        &self.search,
                        &self.units,
                        &query,
                        &results,
                        request.channel,
                    )
                    .await?;
                    draft.category = results
                        .hits
                        .first()
                        .map(|hit| retrieval::category_of(&hit.slug));
                }
                _ => uncovered = true,
            }
            if uncovered && escalation.is_none() {
                escalation = Some(EscalationReason::SearchFailed);
            }
        }
        if let Some(reason) = escalation {
            draft.category = draft.category.or(Some(match reason {
                EscalationReason::Pricing | EscalationReason::Refund => Category::Billing,
                _ => Category::General,
            }));
            draft
                .tool_calls
                .push(json!({"tool": "escalate_to_human", "reason": reason.as_str()}));
        }
        let mut parts: Vec<String> = Vec::new();
        if let Some(note) = crate::earlier::acknowledgement(request) {
            parts.push(note);
        }
        if triage.injection {
            parts.push(INJECTION_DECLINE.to_owned());
        }
        if !answer.is_empty() {
            parts.push(answer.clone());
        }
        if let Some(reason) = escalation {
            let opener = if answer.is_empty() {
                ""
            } else {
                "About the rest of your message: "
            };
            parts.push(format!(
                "{opener}{} {}",
                reply::escalation_notice(reason),
                follow_up_promise(request.human_response_hours)
            ));
        }
        draft.answer = parts.join("\n\n");
        draft.escalation = escalation;
        Ok(draft)
    }
}

#[async_trait::async_trait]
impl Agent for OfflineAgent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentError> {
        let started = Instant::now();
        let triage = self
            .judge
            .triage(self.search.embedder().as_ref(), request)
            .await?;
        metrics::global()
            .sentiment
            .with_label_values(&[request.channel.as_str()])
            .observe(f64::from(triage.sentiment));
        let draft = self.draft(request, &triage).await?;
        Ok(finish(
            request,
            draft,
            triage.sentiment,
            started,
            TokenUsage::ZERO,
        ))
    }
}
