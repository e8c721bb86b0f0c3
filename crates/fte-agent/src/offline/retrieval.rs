//! Retrieval for the offline agent: the query it searches (with the
//! glossary's English terms for other languages), the search and its
//! keywords-only second try, the parts of a question the retrieved articles
//! do not cover, and the category an article's slug implies.

use fte_domain::Category;
use serde_json::json;

use crate::relevance::{is_english, rare_uncovered_terms};
use crate::search::{HybridSearch, SearchHit, SearchResults};
use crate::triage::{fold, looks_like_question, pieces};
use crate::types::AgentError;

/// Hits considered for the answer.
const SEARCH_LIMIT: usize = 10;

/// The query for a question in Spanish, Portuguese, German or French
/// carries the English words of its product vocabulary (the articles are
/// English; see [`crate::glossary`]).
pub(super) fn searchable(query: String) -> String {
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

/// The key terms of an English question that the retrieved articles
/// never mention and that are names or rare terms to the embedding
/// model (see [`crate::relevance`]); empty for other languages.
pub(super) fn coverage_gaps(
    search: &HybridSearch,
    question: &str,
    results: &SearchResults,
) -> Vec<String> {
    if !results.is_hit() || !is_english(question) {
        return Vec::new();
    }
    let articles = results.top_articles(3);
    let hits: Vec<&SearchHit> = articles.iter().flatten().copied().collect();
    let embedder = search.embedder();
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
pub(super) async fn search_twice(
    search: &HybridSearch,
    question: &str,
    subject: Option<&str>,
) -> Result<(SearchResults, Vec<serde_json::Value>), AgentError> {
    let first = search.search(question, SEARCH_LIMIT).await?;
    let mut log = vec![search_log(question, &first, 1)];
    if first.is_hit() {
        return Ok((first, log));
    }
    let rephrased = keywords_only(question, subject);
    if rephrased.is_empty() || rephrased == question {
        return Ok((first, log));
    }
    let second = search.search(&rephrased, SEARCH_LIMIT).await?;
    log.push(search_log(&rephrased, &second, 2));
    Ok(if second.best_similarity > first.best_similarity {
        (second, log)
    } else {
        (first, log)
    })
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

pub(super) fn keyword_set(text: &str) -> Vec<String> {
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

pub(super) fn category_of(slug: &str) -> Category {
    match slug.split('/').next().unwrap_or_default() {
        "billing" => Category::Billing,
        _ if slug.ends_with("feature-requests") => Category::Feedback,
        "service" | "workspaces" => Category::General,
        _ => Category::Technical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_drop_stopwords_and_add_the_subject() {
        assert_eq!(
            keywords_only("What uptime do you guarantee?", Some("Uptime")),
            "uptime guarantee"
        );
    }
}
