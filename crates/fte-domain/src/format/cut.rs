//! Where a reply is cut to fit a channel: at a sentence end, else a word
//! boundary, for a character budget (WhatsApp), and paragraphs packed into
//! parts of at most a word budget (email and web form).

use super::markdown::split_sentences;

pub(super) fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Cuts `text` so the head has at most `max_chars` characters: at the last
/// sentence end when that keeps at least half of the budget, else at the
/// last word boundary, else (one enormous word) mid-word.
pub(super) fn cut_at_boundary(text: &str, max_chars: usize) -> (&str, &str) {
    let limit_byte = text
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| i);
    let window = &text[..limit_byte];
    let sentence_end = window
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            matches!(c, '.' | '?' | '!' | '\n')
                && text[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
                && !(c == '.' && ends_with_list_number(&text[..i]))
        })
        .map(|(i, c)| i + c.len_utf8());
    if let Some(end) = sentence_end.filter(|&end| text[..end].chars().count() * 2 >= max_chars) {
        return (&text[..end], &text[end..]);
    }
    if let Some(space) = window.rfind(char::is_whitespace).filter(|&i| i > 0) {
        return (&text[..space], &text[space..]);
    }
    (window, &text[limit_byte..])
}

/// Whether `before` ends with a line that is only a step number ("2" of
/// "2. Open…"): the dot after it does not end a sentence.
fn ends_with_list_number(before: &str) -> bool {
    let line = before.rsplit('\n').next().unwrap_or(before).trim();
    !line.is_empty() && line.chars().all(|c| c.is_ascii_digit())
}

/// Packs paragraphs (then sentences, then words) into parts of at most
/// `budget` words each. Always returns at least one part.
pub(super) fn pack_words(text: &str, budget: usize) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if word_count(paragraph) <= budget {
            units.push(paragraph.to_owned());
            continue;
        }
        for sentence in split_sentences(paragraph) {
            if word_count(sentence) <= budget {
                units.push(sentence.to_owned());
            } else {
                let words: Vec<&str> = sentence.split_whitespace().collect();
                units.extend(words.chunks(budget).map(|c| c.join(" ")));
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for unit in units {
        if !current.is_empty() && word_count(&current) + word_count(&unit) > budget {
            parts.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(&unit);
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}
