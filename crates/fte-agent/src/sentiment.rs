//! Per-message sentiment on -1..1 from a small multilingual lexicon
//! (English, Spanish, Portuguese, German, French).
//!
//! The shape follows VADER: word valences are summed (a negation just
//! before a word flips and damps it; shouting in capitals and "!!" add
//! weight) and the sum is squashed with `x / sqrt(x² + 15)`. It is a
//! signal for the dashboard and the anger rule, not a judgement: problem
//! words ("broken", "not working") are mild on purpose, so a customer who
//! only describes a fault is not mistaken for an angry one.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::text::fold;

/// At or below this, the anger rule escalates (escalation-rules.md).
pub const ANGER_THRESHOLD: f32 = -0.5;

static LEXICON: LazyLock<HashMap<&'static str, f32>> = LazyLock::new(|| {
    let entries: &[(&str, f32)] = &[
        // Positive
        ("thanks", 1.5),
        ("thank", 1.5),
        ("thx", 1.0),
        ("great", 2.0),
        ("good", 1.5),
        ("love", 2.5),
        ("awesome", 2.5),
        ("perfect", 2.5),
        ("excellent", 2.5),
        ("helpful", 1.5),
        ("amazing", 2.5),
        ("nice", 1.5),
        ("happy", 2.0),
        ("works", 0.5),
        ("worked", 1.0),
        ("fixed", 1.0),
        ("solved", 1.0),
        ("appreciate", 2.0),
        ("please", 0.3),
        ("gracias", 1.5),
        ("genial", 2.0),
        ("excelente", 2.5),
        ("perfecto", 2.5),
        ("bueno", 1.5),
        ("obrigado", 1.5),
        ("obrigada", 1.5),
        ("otimo", 2.0),
        ("perfeito", 2.5),
        ("bom", 1.0),
        ("danke", 1.5),
        ("super", 2.0),
        ("toll", 2.0),
        ("prima", 2.0),
        ("gut", 1.5),
        ("merci", 1.5),
        ("parfait", 2.5),
        ("bien", 1.0),
        // Mildly negative: describing a problem
        ("broken", -0.7),
        ("failing", -0.5),
        ("failed", -0.5),
        ("error", -0.5),
        ("problem", -0.4),
        ("issue", -0.3),
        ("slow", -0.5),
        ("stuck", -0.5),
        ("wrong", -0.3),
        ("missing", -0.4),
        ("confused", -0.5),
        ("lost", -0.4),
        ("locked", -0.3),
        ("annoying", -1.5),
        ("roto", -0.7),
        ("problema", -0.4),
        ("falla", -0.5),
        ("erro", -0.5),
        ("kaputt", -0.7),
        ("fehler", -0.5),
        ("panne", -0.5),
        ("probleme", -0.4),
        // Strongly negative: emotion and abuse
        ("frustrated", -2.0),
        ("frustrating", -2.0),
        ("angry", -2.5),
        ("furious", -3.0),
        ("annoyed", -1.8),
        ("disappointed", -2.0),
        ("terrible", -2.5),
        ("awful", -2.5),
        ("horrible", -2.5),
        ("worst", -3.0),
        ("hate", -3.0),
        ("useless", -2.5),
        ("garbage", -3.0),
        ("crap", -2.5),
        ("ridiculous", -2.0),
        ("unacceptable", -2.5),
        ("pathetic", -3.0),
        ("scam", -3.0),
        ("stupid", -2.5),
        ("idiot", -3.0),
        ("idiots", -3.0),
        ("shit", -3.0),
        ("fuck", -3.5),
        ("fucking", -3.5),
        ("incompetent", -3.0),
        ("nobody", -0.8),
        ("again", -0.3),
        ("still", -0.3),
        ("frustrado", -2.0),
        ("enojado", -2.5),
        ("terrible", -2.5),
        ("horrible", -2.5),
        ("basura", -3.0),
        ("inutil", -2.5),
        ("mierda", -3.5),
        ("estafa", -3.0),
        ("pesimo", -3.0),
        ("irritado", -2.0),
        ("lixo", -3.0),
        ("merda", -3.5),
        ("porcaria", -3.0),
        ("pessimo", -3.0),
        ("wutend", -2.5),
        ("verargert", -2.0),
        ("schrecklich", -2.5),
        ("furchtbar", -2.5),
        ("nutzlos", -2.5),
        ("scheisse", -3.5),
        ("mull", -2.5),
        ("unverschamt", -3.0),
        ("enerve", -2.0),
        ("furieux", -3.0),
        ("nul", -2.0),
        ("merde", -3.5),
        ("inutile", -2.5),
        ("arnaque", -3.0),
        ("honteux", -3.0),
    ];
    entries.iter().copied().collect()
});

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "dont", "don't", "doesn't", "doesnt", "isn't", "isnt", "didn't", "didnt",
    "nao", "nunca", "nicht", "kein", "keine", "pas", "jamais", "ni",
];

/// Sentiment of `text` on -1..1; 0 for empty or neutral text.
pub fn sentiment(text: &str) -> f32 {
    let mut total = 0.0_f32;
    let mut previous: Vec<String> = Vec::new();
    for raw in text.split_whitespace() {
        // "f***ing" and friends are abuse however they are spelled.
        let starred = raw.contains('*') && raw.chars().next().is_some_and(char::is_alphabetic);
        let word: String = fold(raw)
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'')
            .collect();
        let mut valence = if starred {
            -3.0
        } else {
            LEXICON.get(word.as_str()).copied().unwrap_or(0.0)
        };
        if valence != 0.0 {
            let negated = previous
                .iter()
                .rev()
                .take(3)
                .any(|w| NEGATIONS.contains(&w.as_str()));
            if negated {
                valence *= -0.5;
            }
            let letters: Vec<char> = raw.chars().filter(|c| c.is_alphabetic()).collect();
            if letters.len() > 2 && letters.iter().all(|c| c.is_uppercase()) {
                valence *= 1.5;
            }
        }
        total += valence;
        previous.push(word);
    }
    let exclamations = text.matches('!').count().min(3) as f32;
    if total != 0.0 && exclamations >= 2.0 {
        total += total.signum() * 0.3 * exclamations;
    }
    let score = total / (total * total + 15.0).sqrt();
    score.clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_questions_score_near_zero() {
        let s = sentiment("How do I export one project to CSV?");
        assert!(s.abs() < 0.1, "{s}");
    }

    #[test]
    fn describing_a_fault_is_not_anger() {
        let s = sentiment(
            "Our webhook deliveries started failing last night and the reset link doesn't work, it's broken.",
        );
        assert!(s > ANGER_THRESHOLD, "{s}");
        assert!(s < 0.0, "{s}");
    }

    #[test]
    fn abuse_is_at_or_below_the_anger_threshold_in_each_language() {
        for text in [
            "this app is f***ing useless, nothing syncs",
            "Your product is garbage and I am furious",
            "Esta aplicación es una basura, inútil",
            "Isso é um lixo, péssimo",
            "Das ist Scheiße und nutzlos",
            "C'est de la merde, une arnaque",
        ] {
            let s = sentiment(text);
            assert!(s <= ANGER_THRESHOLD, "{text}: {s}");
        }
    }

    #[test]
    fn thanks_are_positive_and_negation_flips() {
        assert!(sentiment("Thanks, great help!") > 0.5);
        assert!(sentiment("merci, parfait") > 0.5);
        assert!(sentiment("this is not good") < 0.0);
    }
}
