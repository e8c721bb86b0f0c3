//! An article's chunks cut into answer units: sentences (with the
//! heading they sit under), numbered steps carrying their list's id, the
//! bullets a line ending in ":" introduces, and a table as one phrase per
//! row.

use crate::search::SearchHit;
use crate::triage::fold;
use fte_domain::format::split_sentences;

/// A sentence, list item or table of an article: `text` is shown,
/// `context` (heading and text) is what is compared with the question.
#[derive(Debug)]
pub(super) struct Unit {
    pub text: String,
    pub context: String,
    pub list: Option<usize>,
    pub article: usize,
}

/// Cuts an article's chunks into answer units. A line ending in ":" keeps
/// the bullets that follow it ("write the task key in: the commit message;
/// the PR title"), a table becomes one line per row, and numbered steps
/// carry their list's id (unique across articles through `lists`).
pub(super) fn answer_units(hits: &[&SearchHit], article: usize, lists: &mut usize) -> Vec<Unit> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
