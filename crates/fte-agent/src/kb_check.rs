//! The knowledge base's agreement with `context/product-facts.md`, the same
//! rules as `scripts/check_kb.py` (its docstring states them), in Rust so
//! the test suite fails when an article drifts from the facts:
//! coverage of every fact, known fact ids, no money wording, menu paths
//! that exist in the listed facts, and numbers (with their unit word) that
//! the listed facts state.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::knowledge::Article;

/// The product facts by id (`F001` → text).
pub type Facts = BTreeMap<String, String>;

static FACT_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^- (F\d{3}) (.+)$").expect("valid pattern"));

static MONEY: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"[$€£¥]", "currency symbol"),
        (r"\b(?:USD|EUR|GBP)\b", "currency code"),
        (r"(?i)discount", "\"discount\""),
        (r"(?i)coupon", "\"coupon\""),
        (r"(?i)%\s*off\b", "\"% off\""),
        (
            r"(?i)\b\d[\d,.]*\s*(?:dollars?|euros?|pounds?|cents?)\b",
            "amount of money",
        ),
        (
            r"(?i)\bper (?:seat|user|member) per (?:month|year)\b",
            "price wording",
        ),
    ]
    .into_iter()
    .map(|(p, label)| (Regex::new(p).expect("valid pattern"), label))
    .collect()
});

/// A number (see check_kb.py rule 6). The "not glued to a word" checks on
/// both sides are done by hand: the regex crate has no look-around.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d+(?:[.,:]\d+)*(?:–\d+)?(?:st|nd|rd|th)?%?").expect("valid pattern")
});
/// The unit word right after a number (after spaces or one hyphen).
static UNIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:\s+|-)([A-Za-z][A-Za-z'-]*)").expect("valid pattern"));

/// The numbers of `text` with their end offset and unit word.
fn numbers(text: &str) -> Vec<(String, usize, Option<String>)> {
    let mut out = Vec::new();
    for m in NUMBER.find_iter(text) {
        let glued_left = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || ".,:/–-".contains(c));
        let glued_right = text[m.end()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if glued_left || glued_right {
            continue;
        }
        let unit = UNIT.captures(&text[m.end()..]).map(|c| c[1].to_owned());
        out.push((m.as_str().to_owned(), m.end(), unit));
    }
    out
}

static LIST_MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(\s*)\d+\.\s").expect("valid pattern"));
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9][A-Za-z0-9'.,:%–-]*").expect("valid pattern"));
static CLAUSE_CUT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r",\s|;\s|\.\s|\.$|:\s|\s—\s|\s\(e\.g\.").expect("valid pattern"));
static LAST_SEGMENT_STOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[,;:.!?"(]|\s(?:is|are|gives|lists|shows|opens|and|or|with|the|a|an|which|where|that|can)\b"#)
        .expect("valid pattern")
});

/// Reads the facts from the text of `product-facts.md`.
pub fn parse_facts(text: &str) -> Facts {
    text.lines()
        .filter_map(|line| {
            let caps = FACT_LINE.captures(line.trim())?;
            Some((caps[1].to_owned(), caps[2].to_owned()))
        })
        .collect()
}

fn normalise_word(word: &str) -> String {
    let word = word
        .to_lowercase()
        .trim_matches(|c| matches!(c, '\'' | '.' | ',' | ':' | ';'))
        .to_owned();
    if word.len() > 3 && word.ends_with('s') {
        word[..word.len() - 1].to_owned()
    } else {
        word
    }
}

/// Number → the word lists (up to three words) that follow each occurrence.
fn number_occurrences(text: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (number, end, _) in numbers(text) {
        let following: Vec<String> = WORD
            .find_iter(&text[end..])
            .take(3)
            .map(|m| normalise_word(m.as_str()))
            .collect();
        out.entry(number).or_default().push(following);
    }
    out
}

fn clauses_with_paths(line: &str) -> Vec<&str> {
    CLAUSE_CUT
        .split(line)
        .filter(|clause| clause.contains(" > "))
        .collect()
}

fn fact_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for clause in clauses_with_paths(text) {
        let parts: Vec<&str> = clause.split(" > ").collect();
        let first = parts[0]
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_owned();
        let last = LAST_SEGMENT_STOP
            .split(parts[parts.len() - 1])
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let mut segments = vec![first];
        segments.extend(
            parts[1..parts.len() - 1]
                .iter()
                .map(|p| p.trim().to_owned()),
        );
        segments.push(last);
        if segments.iter().all(|s| !s.is_empty()) {
            paths.push(segments);
        }
    }
    paths
}

fn path_matches(parts: &[&str], fact_path: &[String]) -> bool {
    let n = parts.len() - 1;
    if n < 1 || fact_path.len() <= n {
        return false;
    }
    if parts[0].split_whitespace().last() != Some(fact_path[0].as_str()) {
        return false;
    }
    if (1..n).any(|i| parts[i].trim() != fact_path[i]) {
        return false;
    }
    let Some(rest) = parts[n].strip_prefix(fact_path[n].as_str()) else {
        return false;
    };
    rest.chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// Every problem of the knowledge base, one line each (`slug: problem`);
/// empty when it agrees with the facts.
pub fn check_articles(articles: &[Article], facts: &Facts) -> Vec<String> {
    let mut problems = Vec::new();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let paths: BTreeMap<&str, Vec<Vec<String>>> = facts
        .iter()
        .map(|(id, text)| (id.as_str(), fact_paths(text)))
        .collect();
    let fact_numbers: BTreeMap<&str, BTreeMap<String, Vec<Vec<String>>>> = facts
        .iter()
        .map(|(id, text)| (id.as_str(), number_occurrences(text)))
        .collect();
    for article in articles {
        let slug = &article.slug;
        let mut problem = |p: String| problems.push(format!("{slug}: {p}"));
        let listed: Vec<&str> = article
            .facts
            .iter()
            .map(String::as_str)
            .filter(|id| {
                let known = facts.contains_key(*id);
                if !known {
                    problem(format!("unknown fact id {id}"));
                }
                known
            })
            .collect();
        if listed.is_empty() {
            problem("lists no known fact".into());
        }
        covered.extend(listed.iter().copied());
        let content = format!("{}\n{}", article.title, article.body);
        for (pattern, label) in MONEY.iter() {
            if let Some(m) = pattern.find(&content) {
                problem(format!("money: {label} {:?}", m.as_str()));
            }
        }
        // Menu paths.
        let own: Vec<&Vec<String>> = listed.iter().flat_map(|id| &paths[id]).collect();
        let plain = content.replace(['*', '_', '`'], "");
        for line in plain.lines() {
            for clause in clauses_with_paths(line) {
                let parts: Vec<&str> = clause.split(" > ").collect();
                if !own.iter().any(|p| path_matches(&parts, p)) {
                    problem(format!(
                        "menu path {:?} is not in its listed facts",
                        clause.trim()
                    ));
                }
            }
        }
        // Numbers and their units.
        let mut allowed: BTreeMap<&str, Vec<&Vec<String>>> = BTreeMap::new();
        for id in &listed {
            for (number, follows) in &fact_numbers[id] {
                allowed.entry(number.as_str()).or_default().extend(follows);
            }
        }
        let scanned = LIST_MARKER.replace_all(&content, "$1");
        let mut seen = BTreeSet::new();
        for (number, _, unit) in numbers(&scanned) {
            if !seen.insert((number.clone(), unit.clone())) {
                continue;
            }
            match allowed.get(number.as_str()) {
                None => problem(format!(
                    "number {number:?} does not occur in the listed facts"
                )),
                Some(follows) => {
                    if let Some(unit) = unit {
                        let unit = normalise_word(&unit);
                        if !follows.iter().any(|f| f.contains(&unit)) {
                            problem(format!(
                                "number {number:?}: the listed facts never say it with {unit:?}"
                            ));
                        }
                    }
                }
            }
        }
    }
    for id in facts.keys() {
        if !covered.contains(id.as_str()) {
            problems.push(format!("{id}: no article lists this fact"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        parse_facts(
            "- F001 Password reset: on the sign-in page choose \"Forgot password?\"; the emailed reset link expires after 30 minutes and can be used once.\n- F003 Two-factor authentication (2FA) is turned on in Profile > Security > Two-factor authentication, with any TOTP authenticator app.",
        )
    }

    fn article(facts: &[&str], body: &str) -> Article {
        Article {
            slug: "account/x".into(),
            title: "X".into(),
            category: "account".into(),
            facts: facts.iter().map(|f| (*f).to_owned()).collect(),
            body: body.into(),
        }
    }

    #[test]
    fn agreeing_articles_pass() {
        let articles = vec![
            article(
                &["F001"],
                "1. Choose \"Forgot password?\".\n\nThe link expires after 30 minutes.",
            ),
            article(
                &["F003"],
                "Open Profile > Security > Two-factor authentication.",
            ),
        ];
        assert_eq!(check_articles(&articles, &facts()), Vec::<String>::new());
    }

    #[test]
    fn drift_in_numbers_paths_money_and_ids_is_reported() {
        let articles = vec![
            article(
                &["F001"],
                "The link expires after 60 minutes. It expires after 30 hours.",
            ),
            article(&["F003"], "Open Profile > Settings > 2FA. It costs $5."),
            article(&["F999"], "Nothing."),
        ];
        let problems = check_articles(&articles, &facts()).join("\n");
        for expected in [
            "\"60\"",
            "\"30\": the listed facts never say it with \"hour\"",
            "menu path",
            "currency symbol",
            "unknown fact id F999",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected} in:\n{problems}"
            );
        }
    }

    #[test]
    fn uncovered_facts_are_reported() {
        let articles = vec![article(&["F001"], "The link expires after 30 minutes.")];
        let problems = check_articles(&articles, &facts());
        assert!(
            problems.iter().any(|p| p.starts_with("F003")),
            "{problems:?}"
        );
    }
}
