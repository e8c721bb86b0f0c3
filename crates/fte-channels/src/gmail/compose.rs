//! Writing a reply as an RFC 2822 message: threading headers, our
//! `X-FTE-Reply-Id` for reconciliation, and a UTF-8 text/plain body — with
//! its HTML rendering beside it as multipart/alternative when there is one —
//! in base64 so any character survives any relay.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use chrono::{DateTime, Utc};

use crate::EmailThread;

/// The header that carries the outbox id, so a reply can be found again.
pub const REPLY_ID_HEADER: &str = "X-FTE-Reply-Id";
/// The header that says which part of a multi-email reply this is (`1/2`).
pub const REPLY_PART_HEADER: &str = "X-FTE-Reply-Part";

/// One email to write.
#[derive(Clone, Debug)]
pub struct ReplyEmail<'a> {
    /// Our mailbox (From).
    pub from: &'a str,
    /// The display name shown with our mailbox.
    pub from_name: &'a str,
    /// The customer (To).
    pub to: &'a str,
    /// The customer's subject; "Re: " is added once when answering a thread.
    pub subject: &'a str,
    /// The thread being answered, if any.
    pub thread: Option<&'a EmailThread>,
    /// The outbox id.
    pub reply_id: &'a str,
    /// 1-based part number and the number of parts.
    pub part: (usize, usize),
    /// The body text.
    pub body: &'a str,
    /// The same body as an HTML document, sent as the alternative part.
    pub html: Option<&'a str>,
    /// The Date header.
    pub date: DateTime<Utc>,
}

/// "Re: " + subject, without doubling an existing "Re:" (any case, or
/// localised "AW:" / "SV:" are left as they are and get one "Re: ").
pub fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    if let Some(rest) = trimmed
        .get(..3)
        .filter(|prefix| prefix.eq_ignore_ascii_case("re:"))
        .map(|_| &trimmed[3..])
    {
        format!("Re: {}", rest.trim_start())
    } else if trimmed.is_empty() {
        "Re: your message".to_owned()
    } else {
        format!("Re: {trimmed}")
    }
}

/// A header value safe to write: ASCII as is, anything else as an RFC 2047
/// encoded word; line breaks removed so no header can be injected.
fn header_text(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if clean.is_ascii() {
        clean
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(clean.as_bytes()))
    }
}

fn header_token(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect()
}

/// The domain of our mailbox, for our Message-IDs.
fn domain(mailbox: &str) -> &str {
    mailbox
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("fte.local")
}

/// The full message text (CRLF line endings).
pub fn compose(email: &ReplyEmail<'_>) -> String {
    let (part, total) = email.part;
    // Only an answer in a thread is a "Re:"; a new conversation keeps its subject.
    let subject = match email.thread {
        Some(_) => reply_subject(email.subject),
        None => email.subject.to_owned(),
    };
    let mut headers = vec![
        format!(
            "From: {} <{}>",
            header_text(email.from_name),
            header_token(email.from)
        ),
        format!("To: <{}>", header_token(email.to)),
        format!("Subject: {}", header_text(&subject)),
        format!("Date: {}", email.date.to_rfc2822()),
        format!(
            "Message-ID: <fte.{}.{part}@{}>",
            header_token(email.reply_id),
            domain(email.from)
        ),
    ];
    if let Some(thread) = email.thread {
        let original = header_token(&thread.in_reply_to_message_id);
        let mut references: Vec<String> =
            thread.references.iter().map(|r| header_token(r)).collect();
        if !references.contains(&original) {
            references.push(original.clone());
        }
        headers.push(format!("In-Reply-To: {original}"));
        headers.push(format!("References: {}", references.join(" ")));
    }
    headers.push(format!(
        "{REPLY_ID_HEADER}: {}",
        header_token(email.reply_id)
    ));
    headers.push(format!("{REPLY_PART_HEADER}: {part}/{total}"));
    headers.push("MIME-Version: 1.0".into());
    let mut out = String::new();
    match email.html {
        None => {
            headers.push("Content-Type: text/plain; charset=UTF-8".into());
            headers.push("Content-Transfer-Encoding: base64".into());
            out.push_str(&headers.join("\r\n"));
            out.push_str("\r\n\r\n");
            push_base64(&mut out, email.body);
        }
        Some(html) => {
            // base64 never contains "-", so the boundary cannot occur in a part.
            let boundary = format!("fte-alt-{}-{part}", header_token(email.reply_id));
            headers.push(format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\""
            ));
            out.push_str(&headers.join("\r\n"));
            out.push_str("\r\n\r\n");
            for (content_type, text) in [("text/plain", email.body), ("text/html", html)] {
                out.push_str(&format!(
                    "--{boundary}\r\nContent-Type: {content_type}; charset=UTF-8\r\n\
                     Content-Transfer-Encoding: base64\r\n\r\n"
                ));
                push_base64(&mut out, text);
            }
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
    out
}

/// `text` with CRLF line endings, base64 in 76-character lines.
fn push_base64(out: &mut String, text: &str) {
    let body = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let encoded = STANDARD.encode(body.as_bytes());
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
}

/// The message as Gmail's `raw` field wants it: base64url.
pub fn to_raw(message: &str) -> String {
    URL_SAFE.encode(message.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_is_added_once() {
        assert_eq!(reply_subject("Export help"), "Re: Export help");
        assert_eq!(reply_subject("RE: Export help"), "Re: Export help");
        assert_eq!(reply_subject("re:Export"), "Re: Export");
        assert_eq!(reply_subject("ééé"), "Re: ééé");
        assert_eq!(reply_subject("Ré"), "Re: Ré");
    }

    #[test]
    fn header_injection_is_impossible() {
        assert_eq!(header_text("Hi\r\nBcc: x@y.example"), "HiBcc: x@y.example");
        assert!(header_text("Ação").starts_with("=?UTF-8?B?"));
    }
}
