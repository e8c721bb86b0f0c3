//! Keeping only what the customer newly wrote: quoted replies ("On … wrote:",
//! "> " lines, Outlook's "-----Original Message-----" and "From: … Sent: …"
//! blocks, Gmail's and Outlook's HTML quote containers) and signatures ("-- ",
//! "Sent from my iPhone") are removed.

/// Lines that start a signature: everything from here on is dropped.
const SIGNATURE_STARTS: &[&str] = &[
    "sent from my iphone",
    "sent from my ipad",
    "sent from my android",
    "sent from my samsung",
    "sent from my mobile",
    "sent from mail for windows",
    "sent from outlook",
    "get outlook for",
    "sent from yahoo mail",
    "enviado desde mi iphone",
];

/// Lines that start a quoted earlier message.
const QUOTE_SEPARATORS: &[&str] = &[
    "-----original message-----",
    "----- original message -----",
    "________________________________",
    "-------- forwarded message --------",
    "---------- forwarded message ---------",
];

fn is_attribution(line: &str, next: Option<&str>) -> bool {
    let lower = line.trim().to_lowercase();
    let ends_wrote = |s: &str| {
        let s = s.trim_end();
        s.ends_with("wrote:") || s.ends_with("a écrit :") || s.ends_with("escribió:")
    };
    if lower.starts_with("on ") || lower.starts_with("le ") || lower.starts_with("el ") {
        if ends_wrote(&lower) {
            return true;
        }
        // Gmail wraps long attribution lines: "On Mon, … <addr>\nwrote:".
        if let Some(next) = next {
            return ends_wrote(&next.trim().to_lowercase()) && next.trim().len() < 40;
        }
    }
    false
}

fn is_outlook_header(line: &str, next: Option<&str>) -> bool {
    let lower = line.trim().to_lowercase();
    let next = next.map(|n| n.trim().to_lowercase()).unwrap_or_default();
    (lower.starts_with("from:") || lower.starts_with("*from:*"))
        && (next.starts_with("sent:")
            || next.starts_with("date:")
            || next.starts_with("*sent:*")
            || next.starts_with("to:"))
}

/// The new text of a plain-text email body.
pub fn strip_reply_text(body: &str) -> String {
    let normalised = body.replace("\r\n", "\n");
    let lines: Vec<&str> = normalised.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).copied();
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        if *line == "-- " || trimmed == "--" || trimmed == "—" {
            break;
        }
        if SIGNATURE_STARTS.iter().any(|s| lower.starts_with(s)) {
            break;
        }
        if QUOTE_SEPARATORS.iter().any(|s| lower.starts_with(s)) {
            break;
        }
        if is_attribution(line, next) || is_outlook_header(line, next) {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        kept.push(line.trim_end());
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    while kept.first().is_some_and(|l| l.trim().is_empty()) {
        kept.remove(0);
    }
    kept.join("\n")
}

/// Removes quote containers from an HTML body before it becomes text:
/// Gmail's `<div class="gmail_quote">`, `<blockquote>` and Outlook's
/// `<div id="appendonsend">` / `<div id="divRplyFwdMsg">` (everything after
/// them is the quoted message).
pub fn strip_reply_html(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let cut_markers = [
        "<div class=\"gmail_quote",
        "<div class=gmail_quote",
        "<div id=\"appendonsend\"",
        "<div id=\"divrplyfwdmsg\"",
        "<hr id=\"stopspelling\"",
        "<div class=\"yahoo_quoted",
    ];
    let mut cut = html.len();
    for marker in cut_markers {
        if let Some(pos) = lower.find(marker) {
            cut = cut.min(pos);
        }
    }
    let mut out = html[..cut].to_owned();
    // Remove any remaining blockquotes (nested ones included).
    loop {
        let lower = out.to_ascii_lowercase();
        let Some(start) = lower.find("<blockquote") else {
            break;
        };
        let mut depth = 0usize;
        let mut pos = start;
        let mut end = out.len();
        while let Some(rel) = lower[pos..].find("blockquote") {
            let at = pos + rel;
            // Byte checks: `at` may follow a multi-byte character.
            let bytes = lower.as_bytes();
            let closing = at >= 2 && &bytes[at - 2..at] == b"</";
            let opening = !closing && at >= 1 && bytes[at - 1] == b'<';
            if opening {
                depth += 1;
            } else if closing {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = lower[at..]
                        .find('>')
                        .map(|g| at + g + 1)
                        .unwrap_or(out.len());
                    break;
                }
            }
            pos = at + "blockquote".len();
        }
        out.replace_range(start..end, "");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_attribution_and_quotes_are_dropped() {
        let body = "Thanks, that worked!\n\nOne more thing: can I export to CSV?\n\nOn Mon, 23 Nov 2026 at 10:02, Orbitask Support <support@orbitlabs.example>\nwrote:\n> Hi Maria,\n> Go to Settings > Export.\n";
        assert_eq!(
            strip_reply_text(body),
            "Thanks, that worked!\n\nOne more thing: can I export to CSV?"
        );
    }

    #[test]
    fn signatures_and_outlook_blocks_are_dropped() {
        let body = "Hello,\nMy invoice is wrong.\n-- \nMaria Santos\nACME";
        assert_eq!(strip_reply_text(body), "Hello,\nMy invoice is wrong.");
        let body = "Still broken.\n\nSent from my iPhone\n\nFrom: Orbitask Support\nSent: Monday";
        assert_eq!(strip_reply_text(body), "Still broken.");
        let body =
            "See below.\r\n\r\nFrom: Orbitask Support <s@x.example>\r\nSent: Monday\r\nold text";
        assert_eq!(strip_reply_text(body), "See below.");
    }

    #[test]
    fn html_quote_containers_are_removed() {
        let html = "<div>New question</div><blockquote>old <blockquote>older</blockquote> tail</blockquote><p>after</p><div class=\"gmail_quote\">quoted</div>";
        assert_eq!(
            strip_reply_html(html),
            "<div>New question</div><p>after</p>"
        );
    }
}
