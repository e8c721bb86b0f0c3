//! Whether the knowledge base answers a question at all: the best chunk's
//! cosine similarity must be high enough, and the question's key terms must
//! appear in the retrieved articles.
//!
//! Why key terms: a small embedding model puts "Is there a Linux desktop
//! app?" close to the desktop app article and "Does Orbitask integrate with
//! Salesforce?" close to the integrations article, because most of the
//! words match. The one word that matters — Linux, Salesforce — appears in
//! no retrieved article, and that is what says the facts do not cover it.
//! The check applies to English questions (the articles are English); a
//! question in another language is judged on similarity alone.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::search::SearchHit;
use crate::triage::fold;

/// Words that carry no topic: function words, support chit-chat and the
/// product's own name.
const GENERIC: &[&str] = &[
    // Chat shorthand: how people write, never what they ask about.
    "lol",
    "pls",
    "plz",
    "thx",
    "asap",
    "btw",
    "rn",
    "smth",
    "sth",
    "tbh",
    "imo",
    "idk",
    "omg",
    "wks",
    "wk",
    "hrs",
    "hr",
    "mins",
    "yrs",
    "mos",
    "msg",
    "msgs",
    "u",
    "ur",
    "ppl",
    "bc",
    "cuz",
    "the",
    "and",
    "for",
    "are",
    "is",
    "was",
    "were",
    "been",
    "being",
    "does",
    "did",
    "doing",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "must",
    "how",
    "what",
    "when",
    "where",
    "which",
    "why",
    "who",
    "whom",
    "whose",
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
    "with",
    "without",
    "from",
    "into",
    "onto",
    "about",
    "after",
    "before",
    "again",
    "any",
    "all",
    "some",
    "each",
    "every",
    "other",
    "another",
    "such",
    "only",
    "own",
    "same",
    "than",
    "too",
    "very",
    "just",
    "also",
    "still",
    "yet",
    "not",
    "no",
    "nor",
    "but",
    "or",
    "so",
    "if",
    "then",
    "else",
    "you",
    "your",
    "yours",
    "our",
    "ours",
    "we",
    "us",
    "they",
    "them",
    "their",
    "she",
    "her",
    "him",
    "his",
    "its",
    "it's",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "me",
    "my",
    "mine",
    "myself",
    "one",
    "ones",
    "has",
    "have",
    "had",
    "having",
    "get",
    "got",
    "gets",
    "getting",
    "make",
    "makes",
    "made",
    "want",
    "wants",
    "need",
    "needs",
    "like",
    "know",
    "tell",
    "please",
    "thanks",
    "thank",
    "hello",
    "hey",
    "team's",
    "orbitask",
    "way",
    "ways",
    "possible",
    "thing",
    "things",
    "stuff",
    "anyone",
    "someone",
    "something",
    "anything",
    "everything",
    "help",
    "let",
    "use",
    "using",
    "used",
    "able",
    "ok",
    "okay",
    "yes",
    "yeah",
    "really",
    "actually",
    "right",
    "now",
    "today",
    "currently",
    "much",
    "many",
    "more",
    "most",
    "lot",
    "lots",
    "well",
    "good",
    "dont",
    "don't",
    "doesnt",
    "doesn't",
    "cant",
    "can't",
    "isnt",
    "isn't",
    "im",
    "ive",
    "pls",
    "plz",
    "u",
    "ur",
    "r",
    "ppl",
    "people",
    "guys",
    "hi",
    "there's",
    "what's",
    "whats",
    "where's",
    "wheres",
    "how's",
    "it",
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "be",
    "do",
    "an",
    "a",
    "as",
    "up",
    "out",
    "off",
    "over",
    "under",
    "via",
    "per",
    "again",
    "ever",
    "even",
    "way",
    "kind",
    "try",
    "trying",
    "tried",
    "see",
    "look",
    "find",
    "happen",
    "happens",
    "work",
    "works",
    // The support channels themselves.
    "whatsapp",
    "email",
    "form",
    "chat",
    "support",
];

/// English function words, to tell an English question from one in
/// Spanish, Portuguese, German or French.
const ENGLISH_MARKERS: &[&str] = &[
    "the", "is", "are", "do", "does", "how", "what", "can", "i", "my", "you", "your", "to", "on",
    "and", "of", "in", "there", "where", "when", "which", "it", "we", "our", "with", "for",
    // Frequent in English questions and not words of the other four languages
    // served, so a short question with few function words still reads as
    // English ("Does Orbitask have a built-in video feature like Zoom?").
    "have", "has", "like", "this", "that", "from", "any", "would", "should", "why", "who",
];

/// Function words of Spanish, Portuguese, German and French that are not
/// English words.
const OTHER_MARKERS: &[&str] = &[
    "el", "la", "los", "las", "de", "del", "que", "y", "es", "como", "donde", "puedo", "mi", "un",
    "una", "por", "para", "se", "hay", "os", "da", "na", "em", "um", "uma", "e", "onde", "posso",
    "meu", "minha", "nao", "com", "der", "das", "und", "ist", "ich", "wie", "wir", "kann", "nicht",
    "mit", "fur", "ein", "eine", "gibt", "wo", "le", "les", "des", "du", "et", "est", "je", "nous",
    "vous", "pour", "une", "comment", "ou", "peut", "pas", "mon", "ma", "sur",
];

/// Whether `text` reads as English: a fifth of its words are English
/// function words, or it has more of them than of the other languages'
/// ("csv improt with 25k rows keeps failling").
pub fn is_english(text: &str) -> bool {
    let folded = fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let english = words.iter().filter(|w| ENGLISH_MARKERS.contains(w)).count();
    let other = words.iter().filter(|w| OTHER_MARKERS.contains(w)).count();
    english >= 1 && (english * 5 >= words.len() || english > other)
}

/// Whether `text` reads as German: two or more of its most common short
/// words (German writes every noun with a capital, which matters to what
/// counts as a name).
pub fn looks_german(text: &str) -> bool {
    const MARKERS: &[&str] = &[
        "und", "ist", "der", "die", "das", "nicht", "wie", "ich", "wir", "kann", "gibt", "es",
        "mit", "fur", "auf", "ein", "eine", "den", "dem", "unser", "unsere", "wo", "bei",
    ];
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| MARKERS.contains(w))
        .count()
        >= 2
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_owned())
        .filter(|w| !w.is_empty())
}

/// The question's key terms: content words of three letters or more (or
/// with a digit, like "n8n"), generic words left out.
pub fn key_terms(question: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in words(&fold(question)) {
        let long_enough = word.chars().count() >= 3 || word.chars().any(|c| c.is_ascii_digit());
        if long_enough
            && !GENERIC.contains(&word.as_str())
            && !word.chars().all(|c| c.is_ascii_digit())
            && !out.contains(&word)
        {
            out.push(word);
        }
    }
    out
}

fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s", "ly"] {
        if let Some(stripped) = word.strip_suffix(suffix)
            && stripped.chars().count() >= 3
        {
            return stripped;
        }
    }
    word
}

/// A typo apart: one letter missing, extra or different, or two neighbours
/// swapped ("attachmnets", "clinets"), by optimal string alignment.
fn one_edit_apart(a: &str, b: &str) -> bool {
    strsim::osa_distance(a, b) <= 1
}

/// The vocabulary of the articles the hits belong to.
pub fn vocabulary(hits: &[&SearchHit]) -> HashSet<String> {
    let mut vocabulary = HashSet::new();
    for hit in hits {
        for text in [&hit.title, &hit.content] {
            for word in words(&fold(text)) {
                vocabulary.insert(word);
            }
        }
    }
    vocabulary
}

/// Words customers write for what the articles name otherwise, that the
/// embedding model's vocabulary does not hold either (so they would read as
/// names): (the customer's word, the articles' words). A term, or its stem
/// ("logins"), is covered when one of its article words is.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("login", &["sign", "signed"]),
    ("logon", &["sign", "signed"]),
    ("signin", &["sign", "signed"]),
    ("signup", &["sign", "register"]),
    ("mfa", &["two", "factor", "2fa"]),
    ("otp", &["code", "codes", "authenticator"]),
    ("pwd", &["password"]),
    ("passwd", &["password"]),
    ("acct", &["account"]),
    ("coworker", &["teammate", "member", "members", "colleague"]),
    ("roundup", &["digest", "summary"]),
    ("recap", &["digest", "summary"]),
    ("todo", &["task", "tasks"]),
    ("subtask", &["subtasks", "checklist"]),
];

/// Whether `term` appears in `vocabulary`: as is, by stem, one typo away,
/// or by a [synonym](SYNONYMS) the articles use.
pub fn covered(term: &str, vocabulary: &HashSet<String>) -> bool {
    if vocabulary.contains(term) {
        return true;
    }
    let term_stem = stem(term);
    if SYNONYMS
        .iter()
        .find(|(word, _)| *word == term || *word == term_stem)
        .is_some_and(|(_, theirs)| theirs.iter().any(|w| vocabulary.contains(*w)))
    {
        return true;
    }
    let long = term.chars().count() >= 5;
    vocabulary.iter().any(|word| {
        stem(word) == term_stem || (long && word.chars().count() >= 4 && one_edit_apart(word, term))
    })
}

/// The key terms of `question` that articles of this [`vocabulary`] never
/// mention.
pub fn uncovered_terms(question: &str, vocabulary: &HashSet<String>) -> (usize, Vec<String>) {
    let terms = key_terms(question);
    let missing = terms
        .iter()
        .filter(|t| !covered(t, vocabulary))
        .cloned()
        .collect();
    (terms.len(), missing)
}

/// The key terms of `question` that articles of this [`vocabulary`] never
/// mention and that the embedding model does not know as common words: names and
/// rare terms ("Salesforce", "n8n", "SDK") — the words a question about
/// something the knowledge base does not cover turns on.
pub fn rare_uncovered_terms(
    question: &str,
    vocabulary: &HashSet<String>,
    knows_word: impl Fn(&str) -> Option<bool>,
) -> Vec<String> {
    let (_, missing) = uncovered_terms(question, vocabulary);
    missing
        .into_iter()
        .filter(|term| {
            !is_person_noun(term) && !unprefixed(term, 4).any(|rest| covered(rest, vocabulary))
        })
        .filter(|term| is_rare(term, &knows_word))
        .collect()
}

/// Who a customer mentions beside a question ("what to give our new
/// bookkeeper", "invite my clients"): the people of their own world, not a
/// subject an article would name. A question about them asks what the
/// product lets them do, which the retrieved article answers or not by its
/// other words.
const PERSON_NOUNS: &[&str] = &[
    "bookkeeper",
    "accountant",
    "contractor",
    "freelancer",
    "intern",
    "client",
    "customer",
    "consultant",
    "assistant",
    "designer",
    "developer",
    "manager",
    "boss",
    "supervisor",
    "volunteer",
    "student",
    "teacher",
    "agency",
    "vendor",
    "supplier",
    "editor",
    "writer",
    "translator",
    "photographer",
    "marketer",
    "recruiter",
    "tutor",
    "nanny",
    "cleaner",
];

/// Whether `term` (or its plural) names a kind of person ([`PERSON_NOUNS`]).
pub fn is_person_noun(term: &str) -> bool {
    PERSON_NOUNS.contains(&term)
        || term
            .strip_suffix('s')
            .is_some_and(|stem| PERSON_NOUNS.contains(&stem))
}

/// Names the customer gave things of their own, which no article can know:
/// a column, list or tag they named ("the Review column", "our 'Backlog'
/// list") and the person they hand work to ("assign it to Priya",
/// "@Tom"). Folded, as [`key_terms`] gives them. Boards and projects are
/// left out: "my Trello board" names another product.
pub fn user_named(asked: &str) -> Vec<String> {
    static CONTAINER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"["'“‘]?\b([A-Z][\w-]*)["'”’]?\s+(?i:column|lane|stage|status|tag|label|section|folder|list|field)s?\b"#)
            .expect("valid pattern")
    });
    static PERSON: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?i:assign|assigns|assigned|assigning|reassign|reassigned|hand|hands|handed|give|gives|given|invite|invites|invited|delegate|delegates|mention|mentions)\s+(?:[\w'-]+\s+){0,3}?(?i:to|for)\s+@?([A-Z][a-z]+)\b")
            .expect("valid pattern")
    });
    static HANDLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"@([A-Za-z][a-z]+)\b").expect("valid pattern"));
    let mut out: Vec<String> = Vec::new();
    for pattern in [&*CONTAINER, &*PERSON, &*HANDLE] {
        for found in pattern.captures_iter(asked) {
            let name = fold(&found[1]);
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Prefixes that make a new word of a known one: "reupload", "unassign",
/// "nonprofit", "multiselect".
const PREFIXES: &[&str] = &[
    "re", "un", "pre", "non", "mis", "co", "auto", "multi", "sub", "de", "dis",
];

/// What `term` is after each of the [`PREFIXES`] it starts with (and a
/// hyphen after it), when that is at least `min_chars` long: "reupload"
/// gives "upload", "co-owner" "owner".
fn unprefixed(term: &str, min_chars: usize) -> impl Iterator<Item = &str> {
    PREFIXES.iter().filter_map(move |prefix| {
        term.strip_prefix(prefix)
            .map(|rest| rest.trim_start_matches('-'))
            .filter(|rest| rest.chars().count() >= min_chars)
    })
}

/// The product's everyday nouns: a question names them whatever it asks
/// about, so they say nothing of whether an article answers it.
const EVERYDAY_NOUNS: &[&str] = &[
    "project",
    "projects",
    "task",
    "tasks",
    "workspace",
    "workspaces",
    "account",
    "accounts",
    "team",
    "teams",
    "plan",
    "plans",
    "app",
    "apps",
    "board",
    "boards",
    "user",
    "users",
    "member",
    "members",
    "setting",
    "settings",
    "feature",
    "features",
    "option",
    "options",
];

/// The words of each question piece that asks about something the
/// retrieved articles never mention: at least two words of its own (beside
/// the product's everyday nouns), none of them in the articles. "Can I give
/// each project its own colour?" beside a question about the trash finds
/// the trash article, which says nothing of giving or colours.
pub fn unanswered_piece_terms(asked: &str, vocabulary: &HashSet<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in crate::text::pieces(asked) {
        // A piece that points back ("if it stays declined, what happens?")
        // asks about what the message said before it, not in its own words.
        if !crate::text::looks_like_question(&piece) || crate::text::points_back(&piece) {
            continue;
        }
        let terms: Vec<String> = key_terms(&piece)
            .into_iter()
            .filter(|t| !EVERYDAY_NOUNS.contains(&t.as_str()))
            .collect();
        if terms.len() >= 2 && terms.iter().all(|t| !covered(t, vocabulary)) {
            for term in terms {
                if !out.contains(&term) {
                    out.push(term);
                }
            }
        }
    }
    out
}

/// What an amount question counts: the one or two words after "how many" or
/// "the maximum number of" ("how many projects", "max number of custom
/// fields").
static AMOUNT_OF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:how many|max(?:imum)? (?:number|amount) of|limit (?:on|to|for) (?:the )?(?:number of )?)\s+([a-z][a-z'-]*)(?:\s+([a-z][a-z'-]*))?")
        .expect("valid pattern")
});

/// The unit of an amount: "per page", "per project".
static PER_UNIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bper ([a-z]{3,})").expect("valid pattern"));

/// The role counted things take: "invite as guests", "add as an admin".
static AS_ROLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bas (?:an? )?([a-z]{3,})").expect("valid pattern"));

/// Words for the same counted thing: a limit on members answers "how many
/// people", one on attempts "how many times".
const SAME_COUNT: &[&[&str]] = &[
    &[
        "people",
        "person",
        "persons",
        "user",
        "member",
        "teammate",
        "colleague",
        "employee",
        "seat",
        "staff",
        "collaborator",
        "coworker",
    ],
    &["time", "attempt", "try", "tries"],
    &["file", "attachment", "upload"],
];

/// Words that hold an amount: a figure or "unlimited" (the articles write
/// their limits in figures; "one or two projects" in prose is no limit).
fn is_amount(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit()) || word == "unlimited"
}

/// The counted things of an English amount question (`asked`) that no
/// figure in `hits` counts: "how many projects can I make on Free?" over an
/// article saying "up to 5 members" and "up to 10 guests per project" asks
/// for a number the articles do not give. The thing must come within four
/// words after a figure ("10 failed sign-in attempts", "unlimited custom
/// fields") or four before it ("the page size defaults to 50"). The
/// article's other figure is not an answer to send.
pub fn uncounted_amounts(asked: &str, hits: &[&SearchHit]) -> Vec<String> {
    let folded = fold(asked);
    let mut asked_for: Vec<Vec<String>> = Vec::new();
    for found in AMOUNT_OF.captures_iter(&folded) {
        let things: Vec<String> = [found.get(1), found.get(2)]
            .into_iter()
            .flatten()
            .map(|m| m.as_str().to_owned())
            .filter(|w| w.chars().count() >= 3 && !GENERIC.contains(&w.as_str()))
            .collect();
        if !things.is_empty() {
            asked_for.push(things);
        }
    }
    // "How many tasks per page": the unit counts too; so does the role the
    // counted things take ("how many clients can I invite as guests").
    if let Some(last) = asked_for.last_mut() {
        for found in PER_UNIT.captures_iter(&folded) {
            last.push(found[1].to_owned());
        }
        for found in AS_ROLE.captures_iter(&folded) {
            if !GENERIC.contains(&&found[1]) {
                last.push(found[1].to_owned());
            }
        }
    }
    if asked_for.is_empty() {
        return Vec::new();
    }
    // The words each figure of the articles counts.
    let mut counted: HashSet<String> = HashSet::new();
    for hit in hits {
        let text = fold(&hit.content);
        let tokens: Vec<&str> = text
            .split(|c: char| {
                c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '|' | '*')
            })
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            if is_amount(token) {
                let window = i.saturating_sub(4)..(i + 5).min(tokens.len());
                for j in window.filter(|&j| j != i) {
                    // "10 custom fields per project" counts fields, not projects.
                    if j > 0 && matches!(tokens[j - 1], "per" | "each" | "every" | "a") {
                        continue;
                    }
                    for part in tokens[j].split('-') {
                        counted.insert(count_stem(part).to_owned());
                    }
                }
            }
        }
    }
    let is_counted = |word: &str| {
        let stem = count_stem(word);
        counted.contains(stem)
            || SAME_COUNT.iter().any(|same| {
                same.contains(&stem) && same.iter().any(|other| counted.contains(*other))
            })
    };
    asked_for
        .into_iter()
        .filter(|things| !things.iter().any(|w| is_counted(w)))
        .filter_map(|things| things.into_iter().next())
        .collect()
}

/// A counted word without its plural ending: "projects" and "project",
/// "tries" stays as it is (it is in [`SAME_COUNT`]).
fn count_stem(word: &str) -> &str {
    if word.ends_with("ss") || word == "tries" {
        return word;
    }
    word.strip_suffix('s')
        .filter(|w| w.len() >= 3)
        .unwrap_or(word)
}

/// A term the model does not know, and that is neither an inflection of a
/// word it knows ("buzzes", "renamed") nor a typo of one (one letter
/// missing, extra, different or two swapped: "limt", "anywher", "improt").
fn is_rare(term: &str, knows_word: &impl Fn(&str) -> Option<bool>) -> bool {
    if term.contains('\'') || term.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    if knows_word(term) != Some(false) {
        return false;
    }
    let chars: Vec<char> = term.chars().collect();
    if chars.len() < 4 || !chars.iter().all(|c| c.is_ascii_lowercase()) {
        return true;
    }
    let stem_known = is_inflection_of_known(term, knows_word);
    // A known word with a prefix ("reupload", "unarchive", "nonprofit").
    let prefixed = unprefixed(term, 5).any(|rest| knows_word(rest) == Some(true));
    if stem_known || prefixed {
        return false;
    }
    // A typo of a word the model knows, or of its plural ("clinets").
    !typo_variants(&chars).any(|variant| {
        knows_word(&variant) == Some(true)
            || variant
                .strip_suffix('s')
                .is_some_and(|stem| stem.len() >= 3 && knows_word(stem) == Some(true))
    })
}

/// Whether `word` is a word the model knows with an ending added
/// ("buzzes", "renamed", "sendings").
fn is_inflection_of_known(word: &str, knows_word: &impl Fn(&str) -> Option<bool>) -> bool {
    [
        "es", "s", "ed", "d", "ing", "ly", "able", "ible", "ness", "ment", "er", "ers",
    ]
    .iter()
    .any(|suffix| {
        word.strip_suffix(suffix)
            .is_some_and(|stem| stem.len() >= 3 && knows_word(stem) == Some(true))
    })
}

/// Shortest misspelt word worth correcting: shorter words are too often
/// one letter from several real ones ("form", "from", "firm").
const MIN_CORRECTED_CHARS: usize = 6;

/// `text` with each misspelt word replaced by the one word of the
/// knowledge base (`kb_words`) that is a typo away ("automaticaly" →
/// "automatically", "attatch" → "attach"): the embedding model splits an
/// unknown word into pieces that mean little, and the full text search
/// never matches it. Only words written in lower case of six letters or
/// more that neither the model nor the knowledge base knows, that are no
/// inflection of a word the model knows, and that have exactly one
/// spelling a typo away in the knowledge base are changed; names the
/// articles use ("zapier"), numbers and anything ambiguous stay as written.
pub fn corrected_spelling(
    text: &str,
    knows_word: impl Fn(&str) -> Option<bool>,
    kb_words: &HashSet<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_alphanumeric()) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '\''))
            .unwrap_or(rest.len());
        let word = &rest[..end];
        match correction(word, &knows_word, kb_words) {
            Some(fixed) => out.push_str(&fixed),
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn correction(
    word: &str,
    knows_word: &impl Fn(&str) -> Option<bool>,
    kb_words: &HashSet<String>,
) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < MIN_CORRECTED_CHARS
        || !chars.iter().all(|c| c.is_ascii_lowercase())
        || knows_word(word) != Some(false)
        || kb_words.contains(word)
    {
        return None;
    }
    if is_inflection_of_known(word, knows_word) {
        return None;
    }
    let mut known: Vec<String> = typo_variants(&chars)
        .filter(|variant| variant.len() >= MIN_CORRECTED_CHARS - 1)
        .filter(|variant| kb_words.contains(variant))
        .collect();
    known.sort_unstable();
    known.dedup();
    match known.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// Every spelling one typo away: a letter missing, extra or different, or
/// two neighbours swapped.
fn typo_variants(chars: &[char]) -> impl Iterator<Item = String> + '_ {
    let swapped = (1..chars.len()).map(move |i| {
        let mut v = chars.to_vec();
        v.swap(i - 1, i);
        v.into_iter().collect::<String>()
    });
    one_edit_variants(chars).chain(swapped)
}

fn one_edit_variants(chars: &[char]) -> impl Iterator<Item = String> + '_ {
    let deletions =
        (0..chars.len()).map(move |i| chars[..i].iter().chain(&chars[i + 1..]).collect::<String>());
    let edits = (0..=chars.len()).flat_map(move |i| {
        ('a'..='z').flat_map(move |letter| {
            let insertion: String = chars[..i]
                .iter()
                .chain(std::iter::once(&letter))
                .chain(&chars[i..])
                .collect();
            let substitution = (i < chars.len()).then(|| {
                chars[..i]
                    .iter()
                    .chain(std::iter::once(&letter))
                    .chain(&chars[i + 1..])
                    .collect::<String>()
            });
            std::iter::once(insertion).chain(substitution)
        })
    });
    deletions.chain(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(text: &str) -> HashSet<String> {
        words(&fold(text)).collect()
    }

    #[test]
    fn key_terms_leave_out_function_words_and_keep_names() {
        assert_eq!(
            key_terms("Does Orbitask integrate with Salesforce natively?"),
            vec!["integrate", "salesforce", "natively"]
        );
        assert_eq!(key_terms("And n8n?"), vec!["n8n"]);
    }

    #[test]
    fn typos_plurals_and_tenses_are_covered() {
        let v = vocab(
            "Your account is locked after 10 failed sign-in attempts. Attachments up to 250 MB.",
        );
        assert!(covered("acount", &v));
        assert!(covered("attachment", &v));
        // Two neighbouring letters swapped.
        assert!(covered("attachmnets", &v));
        assert!(covered("atempts", &v));
        assert!(!covered("attachmnetz", &v));
        assert!(covered("locks", &v));
        assert!(!covered("linux", &v));
        assert!(!covered("salesforce", &v));
        // The customer's word for the articles' one.
        assert!(covered("logins", &v));
        assert!(!covered("roundup", &v));
        assert!(covered(
            "roundup",
            &vocab("One daily digest email per day.")
        ));
    }

    fn hit(content: &str) -> SearchHit {
        SearchHit {
            chunk_id: uuid::Uuid::nil(),
            article_id: uuid::Uuid::nil(),
            slug: "a".into(),
            title: String::new(),
            content: content.into(),
            score: 1.0,
            similarity: Some(0.6),
            text_rank: None,
        }
    }

    #[test]
    fn an_amount_the_articles_do_not_count_is_a_gap() {
        let members = hit("The Free plan allows up to 5 members per workspace. \
                           Each project can have up to 10 guests.");
        let hits = [&members];
        assert_eq!(
            uncounted_amounts("how many projects can i make on the free plan?", &hits),
            vec!["projects"]
        );
        assert!(uncounted_amounts("How many members can we have on Free?", &hits).is_empty());
        assert!(uncounted_amounts("how many people can join for free?", &hits).is_empty());
        assert!(uncounted_amounts("How many guests per project?", &hits).is_empty());
        let fields = hit("The Team plan allows 10 custom fields per project.");
        assert_eq!(
            uncounted_amounts("how many projects can we have?", &[&fields]),
            vec!["projects"]
        );
        assert!(uncounted_amounts("Where do I invite people?", &hits).is_empty());
        let fields = hit("The Team plan allows 10 custom fields per project; \
                          Business and Enterprise allow unlimited custom fields.");
        assert!(
            uncounted_amounts(
                "What's the max number of custom fields on Business?",
                &[&fields]
            )
            .is_empty()
        );
        let locked = hit("Your account is locked after 10 failed sign-in attempts.");
        assert!(uncounted_amounts("how many times can I get it wrong?", &[&locked]).is_empty());
        let pages = hit("The page size defaults to 50 and is at most 200.");
        assert!(
            uncounted_amounts(
                "How many tasks can I pull per page from a list endpoint?",
                &[&pages]
            )
            .is_empty()
        );
    }

    #[test]
    fn the_role_counted_things_take_counts_too() {
        let guests = hit("Guests are free, and each project can have up to 10 guests.");
        assert!(
            uncounted_amounts(
                "how many clients can i invite as guests to one project",
                &[&guests]
            )
            .is_empty()
        );
        assert_eq!(
            uncounted_amounts("how many clients can i invite to one project", &[&guests]),
            vec!["clients"],
            "without the role, clients are not what the figure counts"
        );
    }

    #[test]
    fn people_of_the_customer_s_world_and_prefixed_article_words_are_no_gap() {
        let roles = hit(
            "Every workspace has four roles: Owner, Admin, Member and Guest. \
                         Attach files by upload, or add live links from Google Drive.",
        );
        let hits = [&roles];
        let knows_nothing = |_: &str| Some(false);
        assert!(
            rare_uncovered_terms(
                "what permission levels are there, trying to work out what to give our new bookkeeper",
                &vocabulary(&hits),
                knows_nothing
            )
            .iter()
            .all(|t| t != "bookkeeper")
        );
        assert!(
            rare_uncovered_terms(
                "do i have to download it and reupload",
                &vocabulary(&hits),
                knows_nothing
            )
            .iter()
            .all(|t| t != "reupload"),
            "upload is the article's word"
        );
        assert_eq!(
            rare_uncovered_terms(
                "can i sync with salesforce",
                &vocabulary(&hits),
                knows_nothing
            ),
            vec!["sync", "salesforce"],
            "a product the articles never name stays a gap"
        );
        assert!(is_person_noun("clients"));
        assert!(!is_person_noun("salesforce"));
    }

    #[test]
    fn what_customers_named_themselves_is_theirs() {
        assert_eq!(
            user_named(
                "Can it hand a task to Priya whenever someone drags it into the Review column?"
            ),
            vec!["review", "priya"]
        );
        assert_eq!(
            user_named("assign new bugs to @Tom in our 'Backlog' list"),
            vec!["backlog", "tom"]
        );
        assert!(
            user_named("Does Orbitask integrate with Salesforce natively?").is_empty(),
            "a product is not something the customer named"
        );
        assert!(user_named("Can I send notifications to Slack?").is_empty());
        assert!(user_named("Is there a Linux desktop app?").is_empty());
        assert!(user_named("Can I import my Trello board?").is_empty());
    }

    #[test]
    fn a_question_sharing_no_word_with_the_articles_is_unanswered() {
        let trash = hit("Deleted tasks stay in the Trash for 30 days, then they are removed.");
        let hits = [&trash];
        assert_eq!(
            unanswered_piece_terms(
                "how long do deleted tasks stay in the trash? and can i give each project its own colour",
                &vocabulary(&hits)
            ),
            vec!["give", "colour"]
        );
        // Its own words are the article's, or it points back to the message.
        assert!(
            unanswered_piece_terms("How long do deleted tasks stay?", &vocabulary(&hits))
                .is_empty()
        );
        assert!(
            unanswered_piece_terms(
                "If it stays declined, does anything happen?",
                &vocabulary(&hits)
            )
            .is_empty()
        );
    }

    #[test]
    fn names_are_rare_and_typos_of_common_words_are_not() {
        let common = ["limit", "anywhere", "login", "app", "desktop"];
        let knows = |w: &str| Some(common.contains(&w));
        assert!(is_rare("salesforce", &knows));
        assert!(is_rare("n8n", &knows));
        assert!(!is_rare("limt", &knows), "a typo of limit");
        assert!(!is_rare("anywher", &knows), "a typo of anywhere");
        assert!(!is_rare("logins", &knows), "a plural of login");
        assert!(!is_rare("14k", &knows), "a figure");
        assert!(!is_rare("desktop", &knows));
        assert!(!is_rare("lmiit", &knows), "two letters swapped in limit");
        assert!(!is_rare("desktops", &knows), "a plural");
        assert!(!is_rare("apps", &knows), "a plural");
        assert!(!is_rare("lmiits", &knows), "a typo of a plural");
        assert!(!is_rare("relogin", &knows), "a prefix on a known word");
    }

    #[test]
    fn a_misspelt_word_takes_the_one_known_spelling_a_typo_away() {
        let common = [
            "automatically",
            "reminder",
            "calendar",
            "export",
            "project",
            "form",
            "from",
            "sending",
            "sent",
            "send",
            "rapier",
        ];
        let knows = |w: &str| Some(common.contains(&w));
        let kb: HashSet<String> = [
            "automatically",
            "reminder",
            "calendar",
            "export",
            "project",
            "zapier",
            "send",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(
            corrected_spelling("can it send a remidner automaticaly?", knows, &kb),
            "can it send a reminder automatically?"
        );
        assert_eq!(
            corrected_spelling("Calender (the one in Gmail), exprot: how?", knows, &kb),
            "Calender (the one in Gmail), export: how?",
            "a capitalised word may be a name"
        );
        assert_eq!(
            corrected_spelling("Salesforce n8n frm", knows, &kb),
            "Salesforce n8n frm",
            "unknown words without a near spelling, and short ones, stay"
        );
        assert_eq!(
            corrected_spelling("sendings", knows, &kb),
            "sendings",
            "an inflection of a known word is no typo"
        );
        assert_eq!(
            corrected_spelling("is zapier free", knows, &kb),
            "is zapier free",
            "a name the articles use is no typo of a word the model knows"
        );
        // Without a vocabulary (a remote embedder) nothing changes.
        assert_eq!(
            corrected_spelling("automaticaly", |_: &str| None, &kb),
            "automaticaly"
        );
    }

    #[test]
    fn english_is_told_from_the_other_languages() {
        assert!(is_english("is there a linux desktop app?"));
        assert!(is_english("How do I export a project?"));
        assert!(!is_english("¿Orbitask tiene una pizarra digital?"));
        assert!(!is_english("Wie kündige ich unser Abo?"));
        assert!(!is_english("Comment changer la langue de l'interface ?"));
        assert!(is_english(
            "Does Orbitask have a built-in video conferencing feature like Zoom?"
        ));
        assert!(!is_english("Você tem um app para Linux?"));
        assert!(
            is_english("csv improt with 25k rows keeps failling"),
            "more English function words than any other language's"
        );
        assert!(!is_english(
            "Unsere Kartenzahlung ist fehlgeschlagen, wie oft?"
        ));
    }
}
