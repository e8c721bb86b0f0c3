//! The reply's light Markdown turned into each channel's markup: plain
//! text for email, the small subset the status page renders for the web
//! form, WhatsApp's own markup; and sentence splitting.

/// Splits text after ". ", "? ", "! " and line breaks, keeping the marks.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = match c {
            '\n' => true,
            '.' | '?' | '!' => chars.peek().is_none_or(|&(_, next)| next.is_whitespace()),
            _ => false,
        };
        if ends {
            let end = i + c.len_utf8();
            let sentence = text[start..end].trim();
            if !sentence.is_empty() {
                sentences.push(sentence);
            }
            start = end;
        }
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        sentences.push(tail);
    }
    sentences
}

/// Markdown to plain text for email and the web form: headings lose their
/// hashes, emphasis and code marks go, links keep their address, bullets
/// and numbered steps stay as they are (they read well in plain text).
pub fn markdown_to_plain(markdown: &str) -> String {
    let lines: Vec<String> = markdown
        .trim()
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let text = trimmed.trim_start_matches('#');
            let text = if text.len() != trimmed.len() {
                text.trim()
            } else {
                line.trim_end()
            };
            let text = text.replace("**", "").replace("__", "").replace('`', "");
            links_to_text(&text)
        })
        .collect();
    collapse_blank_lines(&lines.join("\n"))
}

/// Markdown to the subset the web form's status page renders: bold
/// (`**x**`), links (`[text](url)`), bullet and numbered lists and
/// paragraphs stay; a heading becomes a bold line, `__x__` becomes `**x**`,
/// code marks go.
pub fn markdown_to_web(markdown: &str) -> String {
    let lines: Vec<String> = markdown
        .trim()
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let heading = trimmed.trim_start_matches('#');
            let text = if heading.len() != trimmed.len() && heading.starts_with(' ') {
                format!("**{}**", heading.trim().replace("**", ""))
            } else {
                line.trim_end().to_owned()
            };
            text.replace("__", "**").replace('`', "")
        })
        .collect();
    collapse_blank_lines(&lines.join("\n"))
}

/// Markdown to WhatsApp text: `**x**` becomes `*x*`, headings and bullets
/// are flattened into plain lines, code marks dropped, blank lines removed
/// (every character counts on this channel).
pub fn markdown_to_whatsapp(markdown: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in markdown.trim().lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let mut text = trimmed.trim_start_matches('#').trim();
        for bullet in ["- ", "* ", "• "] {
            if let Some(rest) = text.strip_prefix(bullet) {
                text = rest.trim();
            }
        }
        let text = text.replace("**", "*").replace("__", "_").replace('`', "");
        out.push(links_to_text(&text));
    }
    out.join("\n")
}

/// `[text](url)` → `text (url)`.
fn links_to_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let Some(end) = after[close + 2..].find(')') else {
            break;
        };
        let text = &after[..close];
        let url = &after[close + 2..close + 2 + end];
        out.push_str(&rest[..open]);
        out.push_str(text);
        out.push_str(" (");
        out.push_str(url);
        out.push(')');
        rest = &after[close + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_drops_heading_marks_and_emphasis_and_keeps_links() {
        let plain = markdown_to_plain(
            "# Title\n\n1. Open **Admin > Import**.\n\n\n\nSee [docs](https://docs.orbitask.example).",
        );
        assert_eq!(
            plain,
            "Title\n\n1. Open Admin > Import.\n\nSee docs (https://docs.orbitask.example)."
        );
    }

    #[test]
    fn sentences_split_on_marks_followed_by_space() {
        assert_eq!(
            split_sentences("Go to status.orbitask.example. Then sign in! Done?"),
            vec!["Go to status.orbitask.example.", "Then sign in!", "Done?"]
        );
    }
}
