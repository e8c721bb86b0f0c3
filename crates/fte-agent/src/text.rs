//! A customer message as the rules read it: folded (lowercase, accents
//! of the five languages removed), cut into the pieces triage judges one
//! by one, whether a piece asks something, and the small talk (greetings,
//! thanks, "it works now") that needs no answer from the knowledge base.
//! Triage, the hard rules, sentiment and retrieval all read text this way.

use std::sync::LazyLock;

use regex::Regex;

/// Lowercases and folds the accents of the five languages, so "Rückerstattung",
/// "reembolsó" and "remboursé" match plain patterns.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        if c == 'ß' {
            out.push_str("ss");
            continue;
        }
        out.push(match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            '’' | '‘' => '\'',
            other => other,
        });
    }
    out
}

fn pattern(alternatives: &[&str]) -> Regex {
    Regex::new(&format!(r"\b(?:{})", alternatives.join("|"))).expect("valid triage pattern")
}

pub(crate) static GREETING_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:hi|hello|hey|hiya|yo|good (?:morning|afternoon|evening)|hola|buenos dias|buenas(?: tardes| noches)?|ola|oi|bom dia|boa tarde|boa noite|hallo|guten (?:morgen|tag|abend)|servus|moin|bonjour|bonsoir|salut|coucou)(?: there| team| all| orbitask| everyone| support)?\W*)+$")
        .expect("valid pattern")
});

pub(crate) static THANKS: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&[
        r"thanks?\b",
        r"thank you",
        r"thx",
        r"cheers",
        r"gracias",
        r"obrigad[oa]",
        r"valeu",
        r"danke",
        r"vielen dank",
        r"merci",
    ])
});

pub(crate) static RESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&[
        r"(?:that|it|this|the \w+(?: \w+)?) (?:fixed|solved|worked|works)",
        r"fixed it",
        r"works now",
        r"working now",
        r"all (?:good|sorted|set)",
        r"sorted\b",
        r"problem solved",
        r"resolved",
        r"(?:that|this) (?:was|did) it\b",
        r"(?:i'?m|i am|we'?re|we are) back in\b",
        r"(?:it'?s|its|all) (?:working|fine|ok|okay) (?:now|again)",
        r"funciono",
        r"funciona ahora",
        r"ya funciona",
        r"(?:agora|ja) funciona",
        r"funktioniert (?:jetzt|wieder)",
        r"(?:ca )?(?:marche|fonctionne) (?:maintenant|a nouveau|de nouveau)",
        r"resuelto",
        r"funcionou",
        r"resolvido",
        r"deu certo",
        r"(?:hat|es) funktioniert",
        r"geloest|gelost",
        r"ca marche",
        r"ca fonctionne",
        r"resolu",
    ])
});

static QUESTION_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:also,? |and |but |so |ok,? |btw,? )?(?:how|what|where|when|which|why|who|can|could|do|does|is|are|will|would|should|may|i need to|i want to|como|que|donde|cuando|puedo|wie|was|wo|wann|kann|comment|ou|quand|est-ce|puis-je)\b")
        .expect("valid pattern")
});

/// Where one sentence holds two requests: a comma, semicolon or
/// conjunction followed by a new question ("How do I turn on 2FA, and
/// what's the price difference?"). The question word stays with the clause.
static CLAUSE_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[,;]\s*(?:and |also |but |plus |y |e |et |und )?|\s+(?:and also|and|also|but|plus|y|e|et|und)\s+)(?:how|what|what's|whats|where|when|which|why|who|can|could|do|does|is|are|will|would|should|may|como|que|donde|cuando|puedo|wie|was|wo|wann|kann|comment|ou|quand|est-ce|puis-je|c'est|please|i'd like|i want|i need)\b")
        .expect("valid pattern")
});

/// The pieces of a message that triage judges one by one: its sentences
/// (split at sentence marks and at "; "), each cut again where a new
/// question starts after a comma or a conjunction.
pub fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in fte_domain::format::split_sentences(text)
        .into_iter()
        .flat_map(|s| s.split("; "))
    {
        let mut start = 0;
        for found in CLAUSE_BREAK.find_iter(sentence) {
            // Keep the question word: cut where the separator ends.
            let separator = found.as_str();
            let word_start = separator
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace() || *c == ',' || *c == ';')
                .map_or(0, |(i, c)| i + c.len_utf8());
            let cut = found.start() + word_start;
            if cut > start {
                out.push(sentence[start..found.start()].to_owned());
                start = cut;
            }
        }
        out.push(sentence[start..].to_owned());
    }
    out.into_iter()
        .map(|p| {
            let p = p.trim().trim_matches(|c: char| c == ',' || c == ';').trim();
            ROLE_MARKER.replace(p, "").trim().to_owned()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// A chat-role label opening a piece ("### USER:", "Assistant:"): framing
/// that an injected text puts around the customer's own words.
static ROLE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[#*>\s\[]*(?:user|assistant|human|customer)\]?\s*:\s*")
        .expect("valid pattern")
});

/// Whether a piece asks something: a question mark, or a question word first
/// or right after a lead-in closed by a colon or a dash ("Two quick ones: how
/// many guests can we invite").
pub fn looks_like_question(sentence: &str) -> bool {
    if sentence.contains('?') {
        return true;
    }
    let folded = fold(sentence);
    QUESTION_START.is_match(&folded)
        || folded
            .split_once([':', '—', '–'])
            .is_some_and(|(_, rest)| QUESTION_START.is_match(rest.trim_start()))
}
