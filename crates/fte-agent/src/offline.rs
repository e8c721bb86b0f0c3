//! The offline agent: deterministic, no language model. It is the default
//! when no OpenAI key is configured, the fallback when the model fails or
//! runs out of time, and what `fte eval` measures.
//!
//! Steps: triage → hybrid search (and a second, keywords-only search before
//! giving up) → an extractive answer from the most relevant sentences of
//! the best article (numbers and menu paths verbatim, because they are
//! copied, never paraphrased) → escalation notice → channel formatting →
//! post-answer guardrails.

use std::time::Instant;

use chrono::{Duration as ChronoDuration, Utc};
use fte_domain::format::{Recipient, format_reply, split_sentences};
use fte_domain::{Category, Channel, EscalationReason, TokenUsage};
use fte_runtime::metrics;
use fte_store::PgPool;
use serde_json::json;

use crate::embed::cosine;
use crate::guard::reply_violations;
use crate::judge::SemanticJudge;
use crate::relevance::{is_english, rare_uncovered_terms};
use crate::search::{HybridSearch, SearchHit, SearchResults};
use crate::triage::{Intent, Triage, fold, is_injection, looks_like_question, pieces};
use crate::types::{
    Agent, AgentError, AgentOutcome, AgentRequest, EscalationDecision, HistoryRole,
};

/// Hits considered for the answer.
const SEARCH_LIMIT: usize = 10;
/// Earlier contact on another channel within this window is acknowledged.
const CROSS_CHANNEL_WINDOW_HOURS: i64 = 24;
/// A sentence joins the answer when its similarity to the question is at
/// least this share of the best sentence's similarity.
const SENTENCE_KEEP_RATIO: f32 = 0.8;
/// Units below this similarity never join the answer.
const MIN_UNIT_SCORE: f32 = 0.2;

/// The reply to an empty or whitespace-only message, on every channel.
pub const EMPTY_MESSAGE_REPLY: &str = "Thanks for getting in touch. How can I help you today?";

/// Said once when a message (or its subject) tries to instruct the agent.
const INJECTION_DECLINE: &str = "I can't act on instructions written into a message or share anything about how I work internally, but I'm glad to help with Orbitask.";

/// The query for a question in Spanish, Portuguese, German or French
/// carries the English words of its product vocabulary (the articles are
/// English; see [`crate::glossary`]).
fn searchable(query: String) -> String {
    if is_english(&query) {
        return query;
    }
    let terms = crate::glossary::english_terms(&query);
    if terms.is_empty() {
        query
    } else {
        format!("{query} {terms}")
    }
}

/// The deterministic agent.
#[derive(Clone, Debug)]
pub struct OfflineAgent {
    search: HybridSearch,
    /// Answer sentences already embedded (they recur across messages).
    units: std::sync::Arc<crate::embed::EmbeddingCache>,
    /// The semantic layer of escalation triage.
    judge: std::sync::Arc<SemanticJudge>,
    // The history arrives in the request (cut by the worker to what the
    // recipient may see); the pool is kept for the constructor's callers.
    _pool: PgPool,
}

/// What the answer-building steps found, before formatting.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub answer: String,
    pub escalation: Option<EscalationReason>,
    pub resolve: bool,
    pub kb_hit: bool,
    pub category: Option<Category>,
    pub tool_calls: Vec<serde_json::Value>,
}

impl OfflineAgent {
    /// An offline agent over `search`.
    pub fn new(search: HybridSearch, pool: PgPool) -> Self {
        Self {
            search,
            units: std::sync::Arc::default(),
            judge: std::sync::Arc::default(),
            _pool: pool,
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
        let question = triage.answerable.trim();
        if !question.is_empty() {
            // A subject that tries to instruct the agent says nothing about the topic.
            let subject = request.subject.as_deref().filter(|s| !is_injection(s));
            // A short follow-up is read with the customer's previous message.
            let query = searchable(crate::followup::retrieval_query(request, question));
            let (mut results, searches) = self.search_twice(&query, subject).await?;
            draft.tool_calls.extend(searches);
            let mut query = Some(query);
            // Parts that turn on a name the knowledge base never mentions
            // go to a person; the rest is searched again and answered.
            let gaps = self.coverage_gaps(question, &results);
            let mut uncovered = !gaps.is_empty();
            if uncovered {
                let kept: Vec<String> = pieces(question)
                    .into_iter()
                    .filter(|piece| !gaps.iter().any(|term| fold(piece).contains(term.as_str())))
                    .collect();
                query = None;
                if !kept.is_empty() {
                    let rest =
                        searchable(crate::followup::retrieval_query(request, &kept.join(" ")));
                    let (again, searches) = self.search_twice(&rest, subject).await?;
                    draft.tool_calls.extend(searches);
                    results = again;
                    query = Some(rest);
                }
            }
            match query {
                Some(query) if results.is_hit() => {
                    draft.kb_hit = true;
                    answer = self
                        .extract_answer(&query, &results, request.channel)
                        .await?;
                    draft.category = results.hits.first().map(|hit| category_of(&hit.slug));
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
                escalation_notice(reason),
                follow_up_promise(request.human_response_hours)
            ));
        }
        draft.answer = parts.join("\n\n");
        draft.escalation = escalation;
        Ok(draft)
    }

    /// The key terms of an English question that the retrieved articles
    /// never mention and that are names or rare terms to the embedding
    /// model (see [`crate::relevance`]); empty for other languages.
    fn coverage_gaps(&self, question: &str, results: &SearchResults) -> Vec<String> {
        if !results.is_hit() || !is_english(question) {
            return Vec::new();
        }
        let articles = results.top_articles(3);
        let hits: Vec<&SearchHit> = articles.iter().flatten().copied().collect();
        let embedder = self.search.embedder();
        // The words that matter are those of what is asked, not of the
        // story around it ("Ugh, I deleted the wrong project").
        let asked: Vec<String> = pieces(question)
            .into_iter()
            .filter(|piece| looks_like_question(piece))
            .collect();
        let asked = if asked.is_empty() {
            question.to_owned()
        } else {
            asked.join(" ")
        };
        let mut gaps = rare_uncovered_terms(&asked, &hits, |word| embedder.knows_word(word));
        // A name written with a capital inside a sentence ("like Zoom") is
        // a proper noun, however common the word.
        let names: Vec<String> = asked
            .split_whitespace()
            .skip(1)
            .filter(|w| w.starts_with(|c: char| c.is_uppercase()))
            .map(|w| fold(w.trim_matches(|c: char| !c.is_alphanumeric())))
            .collect();
        let (_, missing) = crate::relevance::uncovered_terms(&asked, &hits);
        for term in missing {
            if names.contains(&term) && !gaps.contains(&term) {
                gaps.push(term);
            }
        }
        tracing::debug!(
            relevance.similarity = results.best_similarity,
            relevance.gaps = gaps.len(),
            "relevance check"
        );
        gaps
    }

    /// The search, then a keywords-only rephrasing (plus the subject) when
    /// the first misses. Returns the better result and the tool-call log.
    async fn search_twice(
        &self,
        question: &str,
        subject: Option<&str>,
    ) -> Result<(SearchResults, Vec<serde_json::Value>), AgentError> {
        let first = self.search.search(question, SEARCH_LIMIT).await?;
        let mut log = vec![search_log(question, &first, 1)];
        if first.is_hit() {
            return Ok((first, log));
        }
        let rephrased = keywords_only(question, subject);
        if rephrased.is_empty() || rephrased == question {
            return Ok((first, log));
        }
        let second = self.search.search(&rephrased, SEARCH_LIMIT).await?;
        log.push(search_log(&rephrased, &second, 2));
        Ok(if second.best_similarity > first.best_similarity {
            (second, log)
        } else {
            (first, log)
        })
    }

    /// The most relevant sentences of the best articles, in article order;
    /// a numbered step of the best article pulls in its whole list (a
    /// how-to is its steps).
    async fn extract_answer(
        &self,
        question: &str,
        results: &SearchResults,
        channel: Channel,
    ) -> Result<String, AgentError> {
        // A message asking several things ("the limits per plan, how to
        // create them, and also sprints") may draw on one article per part.
        let parts = question_parts(question);
        let multi_part = parts.len() >= MULTI_PART_MIN;
        let articles = results.top_articles(if multi_part { parts.len().max(3) } else { 3 });
        let Some(best) = articles.first() else {
            return Ok(String::new());
        };
        let best_article_score = best[0].score;
        let mut units: Vec<Unit> = Vec::new();
        let mut lists = 0;
        for (rank, article) in articles.iter().enumerate() {
            // Other articles compete only when the search ranked them
            // nearly as high (a message with several questions).
            if rank > 0 && article[0].score < best_article_score * 0.8 {
                continue;
            }
            units.extend(answer_units(article, rank, &mut lists));
        }
        if units.is_empty() {
            return Ok(String::new());
        }
        let part_count = if multi_part { parts.len() } else { 0 };
        let mut texts: Vec<String> = vec![question.to_owned()];
        texts.extend(resolve_pronouns(&parts[..part_count]));
        texts.extend(units.iter().map(|u| u.context.clone()));
        // The message and its parts are new; the article sentences recur.
        let asked = texts.len() - units.len();
        let embedder = self.search.embedder().as_ref();
        let mut vectors = embedder.embed(&texts[..asked]).await?;
        vectors.extend(self.units.embed(embedder, &texts[asked..]).await?);
        let (query, rest) = vectors.split_first().expect("the question was embedded");
        let (part_vectors, unit_vectors) = rest.split_at(part_count);
        let question_words = keyword_set(question);
        let how_to = HOW_TO.is_match(&fold(question));
        let lead = units.iter().filter(|u| u.article == 0).count() * 2 / 5;
        let scores: Vec<f32> = units
            .iter()
            .enumerate()
            .zip(unit_vectors)
            .map(|((index, unit), vector)| {
                let overlap = keyword_set(&unit.text)
                    .iter()
                    .filter(|w| question_words.contains(w))
                    .count() as f32;
                let mut score = cosine(query, vector) + 0.04 * overlap.min(4.0);
                if unit.article == 0 {
                    score += 0.05;
                    // Articles lead with the main answer (units of the best
                    // article come first in `units`).
                    if index < lead.max(2) {
                        score += 0.06;
                    }
                }
                if how_to && unit.list.is_some() {
                    score += 0.08;
                }
                score
            })
            .collect();
        let best_score = scores.iter().copied().fold(f32::MIN, f32::max);
        // A message asking several things is answered part by part, in the
        // order asked, with each part's best unit: no part goes unanswered
        // because another part's article ranked higher, and the channel's
        // formatting cuts a long answer (WhatsApp's "Reply MORE").
        let mut by_part: Vec<usize> = Vec::new();
        for (part, vector) in parts.iter().zip(part_vectors) {
            // A "how to" part is answered by where to click or what to do.
            let part_how_to = HOW_TO.is_match(&fold(part));
            let best_for_part = (0..units.len())
                .filter(|&i| !is_signpost(&units[i].text))
                .map(|i| {
                    // The whole question keeps a part like "all the limits
                    // per plan" on the message's subject.
                    let mut similarity = cosine(vector, &unit_vectors[i]) + 0.5 * scores[i];
                    if part_how_to && (units[i].list.is_some() || units[i].text.contains(" > ")) {
                        similarity += 0.08;
                    }
                    // With one unit per part, the one with the specifics
                    // (numbers, plans, menu paths) answers; an intro does not.
                    if has_specifics(&units[i].text) || names_a_plan(&units[i].text) {
                        similarity += 0.1;
                    }
                    (i, similarity)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let Some((i, similarity)) = best_for_part else {
                continue;
            };
            let repeats = by_part.iter().any(|&j| {
                j == i
                    || fold(&units[j].text) == fold(&units[i].text)
                    || (!numbers_in(&units[i].text).is_empty()
                        && numbers_in(&units[j].text) == numbers_in(&units[i].text))
            });
            if similarity >= PART_MIN_SCORE && !repeats {
                by_part.push(i);
            }
        }
        if by_part.len() >= 2 {
            let texts: Vec<String> = by_part.iter().map(|&i| units[i].text.clone()).collect();
            return Ok(join_units(&texts));
        }
        // A few units always (the best one is often a generic intro), more
        // while they stay close to the best.
        let (min_units, max_units) = match channel {
            Channel::Whatsapp => (3, 5),
            Channel::Email | Channel::WebForm => (4, 6),
        };
        let mut ranked: Vec<usize> = (0..units.len()).collect();
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        let mut chosen: Vec<usize> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for i in ranked {
            let key = fold(&units[i].text);
            let numbers = numbers_in(&units[i].text);
            let repeats_numbers = !numbers.is_empty()
                && chosen
                    .iter()
                    .any(|&j| numbers_in(&units[j].text) == numbers);
            if seen.contains(&key) || repeats_numbers || is_signpost(&units[i].text) {
                continue;
            }
            let close = scores[i] >= best_score * SENTENCE_KEEP_RATIO;
            let floor = scores[i] >= MIN_UNIT_SCORE;
            if chosen.len() < max_units && (close || (chosen.len() < min_units && floor)) {
                seen.push(key);
                chosen.push(i);
            }
        }
        // Whole numbered lists of the best article; its steps replace any
        // other article's steps (two lists of the same how-to confuse).
        let lists: Vec<usize> = chosen
            .iter()
            .filter(|&&i| units[i].article == 0)
            .filter_map(|&i| units[i].list)
            .collect();
        if !lists.is_empty() {
            chosen.retain(|&i| units[i].article == 0 || units[i].list.is_none());
        }
        for (i, unit) in units.iter().enumerate() {
            if unit.list.is_some_and(|l| lists.contains(&l)) && !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        // On WhatsApp every character counts: an article's opening summary
        // without any specifics (numbers, menu paths, commands) gives way
        // when the answer would not fit one message.
        if channel == Channel::Whatsapp
            && chosen.first() == Some(&0)
            && !has_specifics(&units[0].text)
        {
            let length: usize = chosen
                .iter()
                .map(|&i| units[i].text.chars().count() + 4)
                .sum();
            if length > 280 && chosen.len() > 1 {
                chosen.remove(0);
            }
        }
        let mut out: Vec<String> = Vec::new();
        let mut step = 0;
        let mut previous_list: Option<usize> = None;
        for i in chosen {
            let unit = &units[i];
            match unit.list {
                Some(list) => {
                    step = if previous_list == Some(list) {
                        step + 1
                    } else {
                        1
                    };
                    previous_list = Some(list);
                    out.push(format!("{step}. {}", unit.text));
                }
                None => {
                    previous_list = None;
                    out.push(unit.text.clone());
                }
            }
        }
        Ok(join_units(&out))
    }
}

/// Sentences that talk about the article rather than the product ("Here
/// is how", "work through these three checks") or ask the reader a
/// rhetorical question: true in an article, noise in an answer.
static SIGNPOST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(?:here is how|here's how|here are|these (?:\w+ )?(?:checks|steps|tips)|this (?:article|page|guide)|follow these|read on)\b")
        .expect("valid pattern")
});

fn is_signpost(text: &str) -> bool {
    text.trim_end().ends_with('?') || SIGNPOST.is_match(text)
}

fn has_specifics(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_ascii_digit() || matches!(c, '"' | '/' | '@'))
        || text.contains(" > ")
}

/// A question splits into at least this many parts before each part is
/// answered on its own (two parts are usually one question with a detail).
const MULTI_PART_MIN: usize = 3;
/// A part's best unit joins the answer from this score up (its cosine
/// similarity with the part plus half its score for the whole question).
const PART_MIN_SCORE: f32 = 0.55;

/// The parts of a question that asks several things: split at sentence
/// ends, commas, semicolons and "and", keeping parts with at least one
/// keyword ("all the limits per plan", "how to create them", "sprints").
fn question_parts(question: &str) -> Vec<String> {
    static SPLIT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)[?!.;,]+(?:\s+|$)|\s+(?:and also|and|also|plus)\s+")
            .expect("valid pattern")
    });
    SPLIT
        .split(question)
        .map(str::trim)
        .filter(|part| !keyword_set(part).is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parts as embedded: a part that refers back with a pronoun ("how to
/// create them") carries the first part's keywords, because a message
/// asking several things names its subject first ("everything about
/// automations, …, how to create them").
fn resolve_pronouns(parts: &[String]) -> Vec<String> {
    const PRONOUNS: &[&str] = &["them", "it", "they", "those", "these", "one", "ones"];
    let subject = parts
        .first()
        .map(|p| keyword_set(p).join(" "))
        .unwrap_or_default();
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| {
            let refers_back = fold(part).split_whitespace().any(|w| PRONOUNS.contains(&w));
            if index > 0 && refers_back && !subject.is_empty() {
                format!("{part} ({subject})")
            } else {
                part.clone()
            }
        })
        .collect()
}

fn names_a_plan(text: &str) -> bool {
    ["Free", "Team", "Business", "Enterprise"]
        .iter()
        .any(|plan| {
            text.split(|c: char| !c.is_alphanumeric())
                .any(|w| w == *plan)
        })
}

/// The numbers of a text, to spot two units stating the same figures.
fn numbers_in(text: &str) -> Vec<String> {
    let mut numbers: Vec<String> = text
        .split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .map(|n| n.trim_matches([',', '.']))
        .filter(|n| n.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    numbers.sort();
    numbers.dedup();
    numbers
}

static HOW_TO: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b(?:how (?:do|can|to|should)|what are the steps|como (?:hago|puedo|faco|posso)|wie kann|comment)\b")
        .expect("valid pattern")
});

/// A sentence, list item or table of an article: `text` is shown,
/// `context` (heading and text) is what is compared with the question.
#[derive(Debug)]
struct Unit {
    text: String,
    context: String,
    list: Option<usize>,
    article: usize,
}

/// Cuts an article's chunks into answer units. A line ending in ":" keeps
/// the bullets that follow it ("write the task key in: the commit message;
/// the PR title"), a table becomes one line per row, and numbered steps
/// carry their list's id (unique across articles through `lists`).
fn answer_units(hits: &[&SearchHit], article: usize, lists: &mut usize) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut heading = String::new();
    let mut in_list = false;
    let mut open_colon: Option<usize> = None;
    let mut causes_ahead = false;
    let mut table: Vec<Vec<String>> = Vec::new();
    let push = |units: &mut Vec<Unit>, heading: &str, text: String, list: Option<usize>| {
        let context = if heading.is_empty() {
            text.clone()
        } else {
            format!("{heading}. {text}")
        };
        units.push(Unit {
            text,
            context,
            list,
            article,
        });
    };
    let flush_table = |units: &mut Vec<Unit>, heading: &str, table: &mut Vec<Vec<String>>| {
        if table.len() >= 2 {
            let header = &table[0];
            let rows: Vec<String> = table[1..]
                .iter()
                .map(|row| match (row.first(), header.get(1), row.get(1)) {
                    (Some(key), Some(what), Some(value)) => table_cell(key, what, value),
                    _ => row.join(" "),
                })
                .collect();
            let text = format!("{}.", rows.join("; "));
            push(units, heading, text, None);
        }
        table.clear();
    };
    for hit in hits {
        for line in hit.content.lines() {
            let line = line.trim();
            if line.starts_with('|') {
                let cells: Vec<String> = line
                    .trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_owned())
                    .collect();
                if !cells
                    .iter()
                    .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
                {
                    table.push(cells);
                }
                continue;
            }
            flush_table(&mut units, &heading, &mut table);
            if line.is_empty() {
                continue;
            }
            if let Some(title) = line.strip_prefix('#') {
                heading = title.trim_start_matches('#').trim().to_owned();
                in_list = false;
                causes_ahead = false;
                open_colon = None;
                continue;
            }
            if let Some(item) = numbered_item(line) {
                if !in_list {
                    *lists += 1;
                    in_list = true;
                }
                open_colon = None;
                push(&mut units, &heading, item.to_owned(), Some(*lists));
                continue;
            }
            in_list = false;
            // A paragraph led by a bold statement under "one of two causes"
            // is a possible cause, not a fact about this customer.
            let owned: String;
            let line = match bold_lead(line) {
                Some((lead, rest)) => {
                    owned = if causes_ahead {
                        format!("One possible cause: {}. {rest}", lowercase_first(lead))
                    } else {
                        format!("{lead}. {rest}")
                    };
                    owned.trim_end()
                }
                None => {
                    let folded_line = fold(line);
                    if folded_line.contains("cause") || folded_line.contains("reason") {
                        causes_ahead = true;
                    }
                    line
                }
            };
            let bullet = line.starts_with(['-', '*', '•']);
            let text = line.trim_start_matches(['-', '*', '•']).trim();
            if bullet {
                if let Some(index) = open_colon {
                    let unit: &mut Unit = &mut units[index];
                    unit.text.push(' ');
                    unit.text.push_str(text);
                    unit.context.push(' ');
                    unit.context.push_str(text);
                    continue;
                }
            } else {
                open_colon = None;
            }
            for sentence in split_sentences(text) {
                if sentence.split_whitespace().count() >= 3 {
                    push(&mut units, &heading, sentence.to_owned(), None);
                }
            }
            if text.ends_with(':') && !units.is_empty() {
                open_colon = Some(units.len() - 1);
            }
        }
        flush_table(&mut units, &heading, &mut table);
    }
    units
}

/// A paragraph that opens with a bold sentence: the sentence (without its
/// full stop) and the rest.
fn bold_lead(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("**")?;
    let end = rest.find("**")?;
    let lead = rest[..end].trim().trim_end_matches(['.', ':']);
    (!lead.is_empty()).then(|| (lead, rest[end + 2..].trim()))
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One row of a two-column table as a phrase: "Team: 100 GB storage" when
/// the value is a bare figure the column names, else "SAML single sign-on:
/// Enterprise only" (the column's name would only repeat the value).
fn table_cell(key: &str, column: &str, value: &str) -> String {
    let bare_figure = value.chars().next().is_some_and(|c| c.is_ascii_digit());
    if bare_figure && !fold(value).contains(&fold(column)) {
        format!("{key}: {value} {}", column.to_lowercase())
    } else {
        format!("{key}: {value}")
    }
}

fn numbered_item(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix(". ").map(str::trim)
}

fn join_units(units: &[String]) -> String {
    let mut out = String::new();
    for (i, unit) in units.iter().enumerate() {
        if i > 0 {
            let is_step = unit.chars().next().is_some_and(|c| c.is_ascii_digit());
            let prev_step = units[i - 1]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit());
            out.push_str(if is_step || prev_step { "\n" } else { " " });
        }
        out.push_str(unit);
    }
    out
}

const STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "and",
    "or",
    "to",
    "of",
    "in",
    "on",
    "for",
    "is",
    "are",
    "do",
    "does",
    "i",
    "my",
    "me",
    "we",
    "our",
    "you",
    "your",
    "can",
    "how",
    "what",
    "when",
    "where",
    "which",
    "why",
    "it",
    "this",
    "that",
    "with",
    "be",
    "there",
    "any",
    "there",
    "hi",
    "hello",
    "please",
    "also",
    "would",
    "like",
    "want",
    "need",
    "should",
    "will",
    "get",
    "have",
    "has",
    "just",
    "about",
    "from",
    "at",
    "by",
    "as",
    "if",
    "not",
    "all",
    "so",
    "but",
    "still",
    "anymore",
    "yesterday",
];

fn keyword_set(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !STOPWORDS.contains(w))
        .map(|w| w.trim_end_matches('s').to_owned())
        .collect()
}

/// The rephrased second search: the question's content words, plus the
/// subject's (a subject often names the topic the body only implies).
pub fn keywords_only(question: &str, subject: Option<&str>) -> String {
    let mut words: Vec<String> = Vec::new();
    let subject = subject
        .map(|s| s.trim_start_matches("Re:").trim_start_matches("RE:").trim())
        .filter(|s| !s.is_empty() && *s != "(no subject)");
    for source in subject.into_iter().chain(std::iter::once(question)) {
        for word in fold(source).split(|c: char| !c.is_alphanumeric() && c != '-') {
            if word.len() > 2 && !STOPWORDS.contains(&word) && !words.iter().any(|w| w == word) {
                words.push(word.to_owned());
            }
        }
    }
    words.join(" ")
}

fn search_log(query: &str, results: &SearchResults, attempt: u32) -> serde_json::Value {
    // Never the query text: it is the customer's words.
    json!({
        "tool": "search_knowledge_base",
        "attempt": attempt,
        "query_chars": query.chars().count(),
        "hits": results.hits.len(),
        "hit": results.is_hit(),
        "best_similarity": (results.best_similarity * 1000.0).round() / 1000.0,
        "articles": results.top_articles(3).iter().map(|g| g[0].slug.clone()).collect::<Vec<_>>(),
    })
}

fn category_of(slug: &str) -> Category {
    match slug.split('/').next().unwrap_or_default() {
        "billing" => Category::Billing,
        _ if slug.ends_with("feature-requests") => Category::Feedback,
        "service" | "workspaces" => Category::General,
        _ => Category::Technical,
    }
}

/// What the customer is told about the escalated part, per reason.
pub fn escalation_notice(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::Pricing => {
            "Questions about prices and quotes are answered by our billing team, so I've passed yours to a person there."
        }
        EscalationReason::Refund => {
            "Refunds and charges are handled by our billing team, so I've passed your request to a person there."
        }
        EscalationReason::Legal => {
            "This needs our legal and security team, so I've passed it to a person there."
        }
        EscalationReason::Anger => {
            "I'm sorry this has been so frustrating. I've asked a person from our support team to take this over."
        }
        EscalationReason::HumanRequest => {
            "Of course. I've asked a person from our support team to take over."
        }
        EscalationReason::SearchFailed => {
            "I couldn't find a reliable answer to this in our documentation, so I've passed your question to a person rather than guess."
        }
        EscalationReason::AccountSecurity => {
            "To keep your account safe, I can't change or share account details here, so I've passed this to our account security team."
        }
    }
}

/// When a person will answer: the request's promised business hours (per
/// plan tier, from settings; by default 1 for Business and Enterprise, 4
/// otherwise, as company-profile.md says).
pub fn follow_up_promise(hours: u32) -> String {
    fte_domain::handoff::follow_up_promise(hours)
}

/// "I see you wrote to us by email earlier about …" when the customer wrote
/// on another channel within the last 24 hours.
pub fn cross_channel_note(request: &AgentRequest) -> Option<String> {
    let since = Utc::now() - ChronoDuration::hours(CROSS_CHANNEL_WINDOW_HOURS);
    let earlier = request.history.iter().rev().find(|h| {
        h.role == HistoryRole::Customer
            && h.channel != request.channel
            && h.created_at >= since
            && !h.content.trim().is_empty()
    })?;
    let channel = match earlier.channel {
        Channel::Email => "email",
        Channel::Whatsapp => "WhatsApp",
        Channel::WebForm => "the web form",
    };
    let words: Vec<&str> = earlier.content.split_whitespace().take(10).collect();
    let mut topic = words.join(" ");
    topic = topic.trim_end_matches(['.', '?', '!', ',']).to_owned();
    if earlier.content.split_whitespace().count() > 10 {
        topic.push('…');
    }
    Some(format!(
        "I see you wrote to us by {channel} earlier about \"{topic}\"."
    ))
}

/// Shapes a draft for the channel and applies the post-answer guardrails;
/// shared with the tool-calling agent.
pub(crate) fn finish(
    request: &AgentRequest,
    mut draft: Draft,
    sentiment: f32,
    started: Instant,
    usage: TokenUsage,
) -> AgentOutcome {
    let ticket_reference = request.ticket_id.to_string();
    let recipient = Recipient {
        first_name: request.customer_first_name.as_deref(),
        ticket_reference: &ticket_reference,
    };
    let mut reply = format_reply(request.channel, recipient, &draft.answer);
    let violations = reply_violations(&reply, request.channel, &ticket_reference);
    if let Some(violation) = violations.first() {
        tracing::warn!(guard.violation = violation.as_str(), channel = %request.channel, "reply replaced by a safe escalation");
        let reason = draft
            .escalation
            .unwrap_or_else(|| violation.escalation_reason());
        draft.escalation = Some(reason);
        draft.resolve = false;
        draft.tool_calls.push(json!({"guard": violation.as_str()}));
        let safe = format!(
            "Thanks for your message. {} {}",
            escalation_notice(reason),
            follow_up_promise(request.human_response_hours)
        );
        reply = format_reply(request.channel, recipient, &safe);
    }
    let escalation = draft.escalation.map(|reason| EscalationDecision {
        reason,
        summary: escalation_summary(reason, request, &draft),
    });
    AgentOutcome {
        reply,
        escalation,
        resolve_ticket: draft.resolve,
        ticket_category: draft.category,
        sentiment,
        usage,
        latency_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        tool_calls: serde_json::Value::Array(draft.tool_calls),
        kb_hit: draft.kb_hit,
    }
}

fn escalation_summary(reason: EscalationReason, request: &AgentRequest, draft: &Draft) -> String {
    let answered = if draft.kb_hit {
        "the covered part was answered from the knowledge base"
    } else {
        "nothing was answered"
    };
    format!(
        "{} on {}: {}; plan {}.",
        reason.as_str(),
        request.channel,
        answered,
        request.plan.as_deref().unwrap_or("unknown")
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_plans_get_the_one_hour_promise() {
        assert!(follow_up_promise(1).contains("within 1 business hour "));
        assert!(follow_up_promise(4).contains("within 4 business hours"));
        assert!(follow_up_promise(8).contains("within 8 business hours"));
        assert!(follow_up_promise(4).contains("Monday–Friday, 08:00–20:00 UTC"));
    }

    #[test]
    fn a_question_asking_several_things_splits_into_its_parts() {
        let parts = question_parts(
            "Can you explain everything about automations, all the limits per plan, how to create them, and also the time tracking feature and sprints and the timeline view?",
        );
        assert_eq!(
            parts,
            vec![
                "Can you explain everything about automations",
                "all the limits per plan",
                "how to create them",
                "the time tracking feature",
                "sprints",
                "the timeline view",
            ]
        );
        assert_eq!(question_parts("How do I reset my password?").len(), 1);
        assert_eq!(
            question_parts("Is the limit 1,000 runs per month?").len(),
            1,
            "a thousands separator is no split"
        );
    }

    #[test]
    fn keywords_drop_stopwords_and_add_the_subject() {
        assert_eq!(
            keywords_only("What uptime do you guarantee?", Some("Uptime")),
            "uptime guarantee"
        );
    }

    #[test]
    fn a_table_row_reads_as_a_phrase_without_repeating_its_column() {
        assert_eq!(
            table_cell("Email and password", "plans", "every plan"),
            "Email and password: every plan"
        );
        assert_eq!(
            table_cell("SAML single sign-on", "plans", "Enterprise only"),
            "SAML single sign-on: Enterprise only"
        );
        assert_eq!(
            table_cell("Team", "Storage", "100 GB"),
            "Team: 100 GB storage"
        );
    }

    #[test]
    fn possible_causes_stay_possible() {
        let hit = SearchHit {
            chunk_id: uuid::Uuid::nil(),
            article_id: uuid::Uuid::nil(),
            slug: "account/reset".into(),
            title: "Reset link".into(),
            content: "The link fails for one of two causes.\n\n**The link is older than 30 minutes.** A reset link expires after 30 minutes.\n\n**The link has already been used.** Each link works once.".into(),
            score: 1.0,
            similarity: Some(0.8),
            text_rank: None,
        };
        let mut lists = 0;
        let texts: Vec<String> = answer_units(&[&hit], 0, &mut lists)
            .into_iter()
            .map(|u| u.text)
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("One possible cause: the link is older than 30 minutes.")),
            "{texts:?}"
        );
        assert!(
            !texts
                .iter()
                .any(|t| t.starts_with("The link has already been used")),
            "a cause is not stated as a fact: {texts:?}"
        );
    }

    #[test]
    fn numbered_items_are_recognised() {
        assert_eq!(
            numbered_item("2. Choose \"Forgot password?\""),
            Some("Choose \"Forgot password?\"")
        );
        assert_eq!(numbered_item("2019 was a year."), None);
    }
}
