//! Retrieval for the offline agent: the query it searches (with the
//! glossary's English terms for other languages), the search with its
//! keywords-only and English-only retries, the parts of a question the
//! retrieved articles do not cover, and the category an article's slug
//! implies.

use fte_domain::Category;
use serde_json::json;

use crate::relevance::{is_english, rare_uncovered_terms, uncounted_amounts};
use crate::search::{HybridSearch, SearchHit, SearchResults};
use crate::triage::{fold, looks_like_question, pieces};
use crate::types::AgentError;

/// Hits considered for the answer.
const SEARCH_LIMIT: usize = 10;

/// A wish for something the product does not do ("I'd love a dark mode",
/// "it would be great if…", "please add…").
static WISH: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b(?:(?:i|we)(?:'d| would) (?:really )?(?:love|like) (?:a|an|to have|to see|it if|if)\b|(?:i|we) wish\b|would be (?:nice|great|cool|awesome|helpful|useful)|please add\b|any plans? (?:to|for)\b|features?\b|me encantaria|gostaria muito|ich wurde mir .*wunschen|j'aimerais beaucoup)")
        .expect("valid pattern")
});

/// Asking where or how to put a wish forward.
static PUT_FORWARD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b(?:suggest|suggestion|propose|upvote|vote|wishlist|roadmap|sugerir|sugerencia|sugestao|vorschlag|vorschlagen|suggerer|proposer|propon|propor)\w*")
        .expect("valid pattern")
});

/// The query for a message that wishes for a feature and asks where to
/// suggest it ("I'd love a dark mode. Where can I suggest it?") names what
/// it asks about: the question itself says only "it", and the wished-for
/// feature, which the knowledge base does not describe, drowns the request.
fn with_feature_request_terms(query: String) -> String {
    let folded = fold(&query);
    if WISH.is_match(&folded) && PUT_FORWARD.is_match(&folded) {
        format!("{query} suggest a new feature request")
    } else {
        query
    }
}

/// The query for a question in Spanish, Portuguese, German or French
/// carries the English words of its product vocabulary (the articles are
/// English; see [`crate::glossary`]); a feature wish asked where to suggest
/// carries the words of that request.
pub(super) fn searchable(query: String) -> String {
    let query = with_feature_request_terms(query);
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

/// The parts of a question the retrieved articles do not cover: for an
/// English question, its key terms that the articles never mention and that
/// are names or rare terms to the embedding model (see
/// [`crate::relevance`]); for a question in another language, only its
/// names, acronyms and numbers ([`names_in`]) and the acronyms of the
/// product words it uses ([`crate::glossary`]): its other words are not the
/// articles' language. What the customer named themselves (a column, a
/// colleague: [`crate::relevance::user_named`]) is never a gap.
pub(super) fn coverage_gaps(
    search: &HybridSearch,
    question: &str,
    results: &SearchResults,
) -> Vec<String> {
    if !results.is_hit() {
        return Vec::new();
    }
    let articles = results.top_articles(3);
    let hits: Vec<&SearchHit> = articles.iter().flatten().copied().collect();
    let asked = asked_part(question);
    let vocabulary = crate::relevance::vocabulary(&hits);
    let (candidates, names) = if is_english(question) {
        let embedder = search.embedder();
        let mut rare = rare_uncovered_terms(&asked, &vocabulary, |word| embedder.knows_word(word));
        // An amount the articles give for something else is no answer, nor
        // an article that shares no word with what a question asks.
        let unanswered = crate::relevance::unanswered_piece_terms(&asked, &vocabulary);
        for thing in uncounted_amounts(&asked, &hits)
            .into_iter()
            .chain(unanswered)
        {
            if !rare.contains(&thing) {
                rare.push(thing);
            }
        }
        // A name written with a capital inside a sentence ("like Zoom") is
        // a proper noun, however common the word.
        let mut names: Vec<String> = sentence_inner_words(&asked)
            .filter(|w| w.starts_with(|c: char| c.is_uppercase()))
            .map(|w| fold(w.trim_matches(|c: char| !c.is_alphanumeric())))
            // A possessive names the same thing: "Google's app".
            .map(|w| match w.strip_suffix("'s") {
                Some(owner) => owner.to_owned(),
                None => w,
            })
            .filter(|w| !is_calendar_word(w))
            .collect();
        names.extend(platform_words(&asked));
        names.extend(supported_words(&asked));
        (rare, names)
    } else {
        let names: Vec<String> = names_in(question).iter().map(|w| fold(w)).collect();
        // The acronym of a product word the message uses ("inteligencia
        // artificial" is AI, "autenticación de dos factores" 2FA) must be
        // the articles' too, like a name (however short).
        let acronyms: Vec<String> = crate::glossary::english_terms(question)
            .split_whitespace()
            .filter(|term| {
                term.chars().filter(char::is_ascii_alphabetic).count() >= 2
                    && !term.chars().any(|c| c.is_ascii_lowercase())
            })
            .map(fold)
            .filter(|term| !crate::relevance::covered(term, &vocabulary))
            .collect();
        (acronyms, names)
    };
    // What the customer named themselves (a column, a colleague) is theirs,
    // not a subject the articles should mention.
    let own = crate::relevance::user_named(&asked);
    let names: Vec<String> = names.into_iter().filter(|n| !own.contains(n)).collect();
    let mut gaps: Vec<String> = candidates
        .into_iter()
        .filter(|term| !own.contains(term))
        .collect();
    if !names.is_empty() {
        let (_, missing) = crate::relevance::uncovered_terms(&names.join(" "), &vocabulary);
        for term in missing {
            if names.contains(&term) && !gaps.contains(&term) {
                gaps.push(term);
            }
        }
    }
    tracing::debug!(
        relevance.similarity = results.best_similarity,
        relevance.gaps = gaps.len(),
        "relevance check"
    );
    gaps
}

/// The words of `text` that do not open a sentence (a capital there says
/// nothing of a name: "…if that changes anything. We're on Team").
fn sentence_inner_words(text: &str) -> impl Iterator<Item = &str> {
    let mut opens = true;
    text.split_whitespace().filter(move |word| {
        let inner = !opens;
        opens = word.ends_with(['.', '!', '?', ':']);
        inner
    })
}

/// The words naming the platform or product of an existence question
/// ("is there a linux desktop app?", "do you have an apple watch app?",
/// "any jira cloud integration?"): each must be found in the articles, or
/// the answer would be about another platform. Folded.
fn platform_words(asked: &str) -> Vec<String> {
    static EXISTENCE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(?:is there|are there|do you (?:have|offer|support)|does (?:orbitask|it|the app) (?:have|offer|support|work (?:on|with))|have you got|any)\s+(?:an?\s+|any\s+)?((?:[a-z0-9.+#-]+\s+){1,3}?)(?:app|apps|application|client|integration|integrations|plugin|plug-in|extension|add-on|addon|version|connector)\b",
        )
        .expect("valid pattern")
    });
    let folded = fold(asked);
    let mut out = Vec::new();
    for found in EXISTENCE.captures_iter(&folded) {
        for word in found[1].split_whitespace() {
            let word = word.trim_matches(|c: char| !c.is_alphanumeric());
            if word.len() >= 2 && !out.iter().any(|w| w == word) {
                out.push(word.to_owned());
            }
        }
    }
    out
}

/// The thing a "does it support…" question asks for ("does the Timeline
/// view support baselines?", "can Orbitask handle sub-projects?"): its
/// first one or two words after the verb, articles and pronouns left out.
/// The articles must name it, or the answer would be about the feature
/// that supports something else. Folded.
fn supported_words(asked: &str) -> Vec<String> {
    static SUPPORTS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(?:does|do|can|will|could) (?:orbitask|it|you|the [a-z]+(?: view| app| integration)?) (?:support|handle|offer)s? ((?:[a-z0-9-]+\s*){1,3})",
        )
        .expect("valid pattern")
    });
    const SKIP: &[&str] = &[
        "a",
        "an",
        "the",
        "any",
        "some",
        "it",
        "that",
        "this",
        "these",
        "those",
        "them",
        "more",
        "my",
        "our",
        "your",
        "their",
        "something",
        "anything",
        "me",
        "us",
    ];
    const STOP: &[&str] = &[
        "for", "on", "in", "with", "from", "to", "of", "at", "by", "and", "or", "like", "i", "we",
        "so", "if", "as", "yet", "now", "too", "natively", "already",
    ];
    let folded = fold(asked);
    let mut out = Vec::new();
    for found in SUPPORTS.captures_iter(&folded) {
        let words = found[1]
            .split_whitespace()
            .skip_while(|w| SKIP.contains(w))
            .take_while(|w| !STOP.contains(w) && !SKIP.contains(w))
            .take(2);
        for word in words {
            let word = word.trim_matches(|c: char| !c.is_alphanumeric());
            if word.len() >= 3 && !out.iter().any(|w| w == word) {
                out.push(word.to_owned());
            }
        }
    }
    out
}

/// What is asked: the pieces that read as questions (the story around
/// them — "Ugh, I deleted the wrong project", a signature — is left out),
/// or the whole text when none does.
pub(super) fn asked_part(question: &str) -> String {
    let asked: Vec<String> = pieces(question)
        .into_iter()
        .filter(|piece| looks_like_question(piece))
        .collect();
    if asked.is_empty() {
        question.to_owned()
    } else {
        asked.join(" ")
    }
}

/// What [`search_until_hit`] found.
pub(super) struct Retrieved {
    /// The better result.
    pub results: SearchResults,
    /// The tool-call log of every attempt.
    pub log: Vec<serde_json::Value>,
    /// The English-only query, when its result is the one kept (a question
    /// in another language): the answer's sentences are chosen against it.
    pub english: Option<String>,
}

/// The search, then a keywords-only rephrasing (plus the subject) when
/// the first misses, and for a question in Spanish, Portuguese, German or
/// French a third try with only the English words of its product
/// vocabulary and its names and numbers: the articles and the embedding
/// model are English, so a mixed query scores low even on the right article.
pub(super) async fn search_until_hit(
    search: &HybridSearch,
    question: &str,
    subject: Option<&str>,
) -> Result<Retrieved, AgentError> {
    let first = search.search(question, SEARCH_LIMIT).await?;
    let mut log = vec![search_log(question, &first, 1)];
    if first.is_hit() {
        return Ok(Retrieved {
            results: first,
            log,
            english: None,
        });
    }
    let mut best = first;
    let rephrased = keywords_only(question, subject);
    if !rephrased.is_empty() && rephrased != question {
        let second = search.search(&rephrased, SEARCH_LIMIT).await?;
        log.push(search_log(&rephrased, &second, 2));
        if second.best_similarity > best.best_similarity {
            best = second;
        }
    }
    let mut english = None;
    if !best.is_hit()
        && let Some(translated) = english_only(question, subject)
    {
        let third = search.search(&translated, SEARCH_LIMIT).await?;
        log.push(search_log(&translated, &third, 3));
        if third.best_similarity > best.best_similarity {
            best = third;
            english = Some(translated);
        }
    }
    Ok(Retrieved {
        results: best,
        log,
        english,
    })
}

/// A question in another language reduced to English: the glossary's terms
/// for its product words (and its subject's) and its [names](names_in).
/// `None` for an English question or one without product words.
pub(super) fn english_only(question: &str, subject: Option<&str>) -> Option<String> {
    if is_english(question) {
        return None;
    }
    let mut text = question.to_owned();
    if let Some(subject) = subject {
        text.push(' ');
        text.push_str(subject);
    }
    let terms = crate::glossary::english_terms(&text);
    if terms.is_empty() {
        return None;
    }
    let mut out = vec![terms];
    out.extend(names_in(question));
    // Numbers need no translation either ("Windows 8.1", "25k rows").
    for word in asked_part(question).split_whitespace() {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.chars().any(|c| c.is_ascii_digit()) && !out.iter().any(|w| w == word) {
            out.push(word.to_owned());
        }
    }
    Some(out.join(" "))
}

/// Months and weekdays, written with a capital in English (and German)
/// but never the name of a product or a platform ("the juniors who start in
/// January"). Folded, in the five languages.
fn is_calendar_word(folded: &str) -> bool {
    const CALENDAR: &[&str] = &[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "januar",
        "februar",
        "marz",
        "juni",
        "juli",
        "oktober",
        "dezember",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "janeiro",
        "fevereiro",
        "marco",
        "maio",
        "junho",
        "julho",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
        "segunda",
        "terca",
        "quarta",
        "quinta",
        "sexta",
        "janvier",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    ];
    CALENDAR.contains(&folded)
}

/// The names in what a question in another language asks: words written
/// with a capital inside a sentence ("Windows", "SAP") and acronyms.
/// German writes every noun with a capital, so there only acronyms count.
pub(super) fn names_in(question: &str) -> Vec<String> {
    let german = crate::relevance::looks_german(question);
    let mut out: Vec<String> = Vec::new();
    for sentence in pieces(&asked_part(question)) {
        for word in sentence.split_whitespace().skip(1) {
            if word.starts_with(['¿', '¡']) {
                continue;
            }
            let word = word.trim_matches(|c: char| !c.is_alphanumeric());
            let acronym = word.chars().filter(|c| c.is_alphabetic()).count() >= 2
                && word.chars().all(|c| !c.is_alphabetic() || c.is_uppercase());
            let capital = !german && word.chars().next().is_some_and(char::is_uppercase);
            let name = (acronym || capital)
                && !word.chars().any(|c| c.is_ascii_digit())
                && !is_calendar_word(&fold(word));
            if name && !out.iter().any(|w| w == word) {
                out.push(word.to_owned());
            }
        }
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
    let subject = crate::followup::subject_topic(subject);
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
    fn a_support_question_names_the_thing_it_asks_for() {
        assert_eq!(
            supported_words("Hi, does the Timeline view support baselines? I mean saving"),
            vec!["baselines"]
        );
        assert_eq!(
            supported_words("can orbitask handle sub-projects for our clients"),
            vec!["sub-projects"]
        );
        assert_eq!(
            supported_words("Does it support two factor logins?"),
            vec!["two", "factor"]
        );
        assert!(supported_words("How do I export a project?").is_empty());
    }

    #[test]
    fn a_capital_opening_a_sentence_is_no_name() {
        let inner: Vec<&str> =
            sentence_inner_words("Hi! Can it sync with Jira? We're on Team. Ask Priya.").collect();
        assert_eq!(
            inner,
            vec!["it", "sync", "with", "Jira?", "on", "Team.", "Priya."]
        );
    }

    #[test]
    fn a_wish_asked_where_to_suggest_searches_for_the_feature_request() {
        for message in [
            "I'd love a dark mode. Where can I suggest it?",
            "It would be great to have a Gantt view, is there a place to vote on that?",
            "we wish the mobile app had widgets. can we propose that somewhere",
        ] {
            assert!(
                searchable(message.to_owned()).ends_with("suggest a new feature request"),
                "{message}"
            );
        }
        // A wish alone, or a suggestion asked about without one, keeps its words.
        for message in [
            "I'd like a copy of last month's invoice.",
            "Can you suggest a way to organise our sprints?",
        ] {
            assert_eq!(searchable(message.to_owned()), message);
        }
    }

    #[test]
    fn keywords_drop_stopwords_and_add_the_subject() {
        assert_eq!(
            keywords_only("What uptime do you guarantee?", Some("Uptime")),
            "uptime guarantee"
        );
    }

    #[test]
    fn a_question_in_another_language_searches_its_english_words_and_names() {
        let query = english_only(
            "Bonjour, l'application de bureau fonctionne-t-elle sous Windows 8.1 ? Merci, Yannick",
            None,
        )
        .expect("product words");
        assert!(query.contains("desktop app"), "{query}");
        assert!(
            query.contains("Windows") && query.contains("8.1"),
            "{query}"
        );
        assert!(
            !query.contains("Yannick"),
            "a signature names nothing: {query}"
        );
        assert_eq!(english_only("How do I export a project?", None), None);
    }

    #[test]
    fn an_existence_question_names_its_platform() {
        assert_eq!(
            platform_words("is there a linux desktop app?"),
            vec!["linux", "desktop"]
        );
        assert_eq!(
            platform_words("Do you have an Apple Watch app?"),
            vec!["apple", "watch"]
        );
        assert!(platform_words("How do I install the desktop app?").is_empty());
    }

    #[test]
    fn german_nouns_are_not_names_but_acronyms_are() {
        let names =
            names_in("Wie viele Gäste kann ein Projekt haben? Gibt es eine Integration mit SAP?");
        assert_eq!(names, vec!["SAP"]);
        let names = names_in("¿Orbitask se integra con Salesforce?");
        assert_eq!(names, vec!["Salesforce"]);
    }

    #[test]
    fn months_and_weekdays_are_not_names() {
        let names = names_in("¿Puedo exportar en Enero o el Lunes con Jira?");
        assert_eq!(names, vec!["Jira"]);
        assert!(is_calendar_word("january"));
        assert!(!is_calendar_word("zapier"));
    }
}
