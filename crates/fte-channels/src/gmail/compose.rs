//! Writing a reply as an RFC 5322 message with `lettre`'s builder: threading
//! headers, our `X-FTE-Reply-Id` for reconciliation, and a UTF-8 text/plain
//! body with its HTML rendering beside it as multipart/alternative when
//! there is one. lettre folds long headers, writes non-ASCII header text as
//! RFC 2047 encoded words of at most 75 characters, quotes display names and
//! picks each part's transfer encoding; what is ours is the threading and
//! that no header value can carry a line break.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::{EmailThread, SendError};

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

/// `value` on one line: line breaks removed so no header can be injected
/// (lettre encodes text, but a CR or LF is ASCII and would pass as is).
fn one_line(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// `value` without whitespace or control characters, for ids.
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

/// A header of ours (`X-FTE-…`) with a plain text value.
#[derive(Clone)]
pub(crate) struct ReplyIdHeader(pub(crate) String);

impl Header for ReplyIdHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(REPLY_ID_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), header_token(&self.0))
    }
}

/// The full message (CRLF line endings). An address lettre cannot read is
/// a permanent failure: the same reply can never be sent as it is.
pub fn compose(email: &ReplyEmail<'_>) -> Result<Vec<u8>, SendError> {
    let (part, total) = email.part;
    let permanent = |what: &str| SendError::Permanent {
        reason: format!("the email cannot be written: {what}"),
    };
    let from = Mailbox::new(
        Some(one_line(email.from_name)),
        email
            .from
            .parse()
            .map_err(|_| permanent("invalid From address"))?,
    );
    let to = Mailbox::new(
        None,
        email
            .to
            .parse()
            .map_err(|_| permanent("invalid To address"))?,
    );
    // Only an answer in a thread is a "Re:"; a new conversation keeps its subject.
    let subject = match email.thread {
        Some(_) => reply_subject(email.subject),
        None => email.subject.to_owned(),
    };
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(&subject))
        .date(SystemTime::from(email.date))
        .message_id(Some(format!(
            "<fte.{}.{part}@{}>",
            header_token(email.reply_id),
            domain(email.from)
        )));
    if let Some(thread) = email.thread {
        let original = header_token(&thread.in_reply_to_message_id);
        let mut references: Vec<String> =
            thread.references.iter().map(|r| header_token(r)).collect();
        if !references.contains(&original) {
            references.push(original.clone());
        }
        builder = builder
            .in_reply_to(original)
            .references(references.join(" "));
    }
    let builder = builder
        .header(ReplyIdHeader(email.reply_id.to_owned()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(REPLY_PART_HEADER),
            format!("{part}/{total}"),
        ));
    let body = email.body.to_owned();
    let message = match email.html {
        None => builder.singlepart(SinglePart::plain(body)),
        // The boundary comes from the outbox id, so a reply written twice
        // is the same text twice (the scale harness finds duplicates by
        // it); nobody can put it in a body, the id is drawn after the
        // customer wrote.
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .boundary(format!("fte-alt-{}-{part}", header_token(email.reply_id)))
                .singlepart(SinglePart::plain(body))
                .singlepart(SinglePart::html(html.to_owned())),
        ),
    }
    .map_err(|_| permanent("lettre refused the message"))?;
    Ok(message.formatted())
}

/// The message as Gmail's `raw` field wants it: base64url.
pub fn to_raw(message: impl AsRef<[u8]>) -> String {
    URL_SAFE.encode(message)
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    fn email<'a>(thread: Option<&'a EmailThread>) -> ReplyEmail<'a> {
        ReplyEmail {
            from: "support@orbitask.example",
            from_name: "Orbitask Support",
            to: "maria.santos@example.com",
            subject: "Export help",
            thread,
            reply_id: "3f0c9a52-9a7e-4f51-a9f3-4d8b1f6c2e10",
            part: (1, 2),
            body: "Hello Maria,\nline two",
            html: Some("<p>Hello Maria,</p>"),
            date: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    fn header_lines(raw: &[u8]) -> Vec<String> {
        let text = String::from_utf8(raw.to_vec()).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap().to_owned();
        head.split("\r\n").map(str::to_owned).collect()
    }

    #[test]
    fn re_is_added_once() {
        assert_eq!(reply_subject("Export help"), "Re: Export help");
        assert_eq!(reply_subject("RE: Export help"), "Re: Export help");
        assert_eq!(reply_subject("re:Export"), "Re: Export");
        assert_eq!(reply_subject("ééé"), "Re: ééé");
        assert_eq!(reply_subject("Ré"), "Re: Ré");
    }

    #[test]
    fn a_threaded_reply_carries_its_threading_ids_and_both_bodies() {
        let thread = EmailThread {
            thread_id: "t1".into(),
            in_reply_to_message_id: "<orig@mail.example>".into(),
            references: vec!["<first@mail.example>".into()],
        };
        let raw = compose(&email(Some(&thread))).unwrap();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Re: Export help"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("orig@mail.example"));
        let references = parsed.references().as_text_list().unwrap();
        assert_eq!(references, ["first@mail.example", "orig@mail.example"]);
        assert_eq!(
            parsed.message_id(),
            Some("fte.3f0c9a52-9a7e-4f51-a9f3-4d8b1f6c2e10.1@orbitask.example")
        );
        assert_eq!(
            parsed.header_raw(REPLY_ID_HEADER).map(str::trim),
            Some("3f0c9a52-9a7e-4f51-a9f3-4d8b1f6c2e10")
        );
        assert_eq!(
            parsed.header_raw(REPLY_PART_HEADER).map(str::trim),
            Some("1/2")
        );
        assert_eq!(
            parsed.body_text(0).unwrap().trim_end(),
            "Hello Maria,\r\nline two"
        );
        assert_eq!(
            parsed.body_html(0).unwrap().trim_end(),
            "<p>Hello Maria,</p>"
        );
    }

    #[test]
    fn a_long_non_ascii_subject_is_folded_into_short_encoded_words() {
        let subject = "Überweisung für das Jahresabo – Rückerstattung gewünscht ".repeat(6);
        let subject = subject.trim_end();
        let mut one = email(None);
        one.subject = subject;
        let raw = compose(&one).unwrap();
        for line in header_lines(&raw) {
            assert!(
                line.len() <= 78,
                "a header line of {} characters: {line}",
                line.len()
            );
            for word in line.split_whitespace().filter(|w| w.starts_with("=?")) {
                assert!(
                    word.len() <= 75,
                    "an encoded word of {} characters",
                    word.len()
                );
            }
        }
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some(subject));
    }

    #[test]
    fn no_header_can_be_injected() {
        let mut one = email(None);
        one.subject = "Hi\r\nBcc: x@y.example";
        one.from_name = "Support\r\nBcc: z@y.example";
        let raw = compose(&one).unwrap();
        assert!(
            !header_lines(&raw)
                .iter()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc")),
            "{:?}",
            header_lines(&raw)
        );
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("HiBcc: x@y.example"));
    }

    #[test]
    fn an_address_that_cannot_be_written_is_a_permanent_failure() {
        let mut one = email(None);
        one.to = "not an address";
        assert!(matches!(compose(&one), Err(SendError::Permanent { .. })));
    }
}
