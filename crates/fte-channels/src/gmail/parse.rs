//! A raw RFC 2822 message from Gmail (`messages.get?format=raw`) turned into
//! what the agent needs: the sender, the threading headers and only the new
//! text. Parsing uses mail-parser, which decodes transfer encodings and
//! charsets (ISO-8859-1, windows-1252, …) and converts HTML-only bodies.

use chrono::{DateTime, TimeZone, Utc};
use fte_domain::{Channel, EmailAddress, InboundMessage, events::InboundSender};
use mail_parser::{HeaderValue, MessageParser, PartType};
use serde_json::json;

use super::strip::{strip_reply_html, strip_reply_text};

/// Why a raw message could not be used. Contents are never included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailParseError {
    /// Not a MIME message at all.
    #[error("not a parsable MIME message")]
    Unparsable,
    /// No usable `From` address.
    #[error("message has no valid From address")]
    MissingSender,
    /// Neither a text nor an HTML body with any new text.
    #[error("message has no text body")]
    EmptyBody,
}

/// One customer email, parsed.
#[derive(Clone, PartialEq)]
pub struct ParsedEmail {
    /// Gmail's message id.
    pub gmail_id: String,
    /// Gmail's thread id.
    pub thread_id: String,
    /// The sender.
    pub from: EmailAddress,
    /// The sender's display name, if any.
    pub from_name: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// The `Message-ID` header, with angle brackets.
    pub message_id: Option<String>,
    /// The `References` chain, each with angle brackets.
    pub references: Vec<String>,
    /// Only the new text: quotes and signature removed.
    pub text: String,
    /// Whether the text came from an HTML-only body.
    pub from_html: bool,
    /// When Gmail received it.
    pub received_at: DateTime<Utc>,
}

impl std::fmt::Debug for ParsedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedEmail")
            .field("gmail_id", &self.gmail_id)
            .field("thread_id", &self.thread_id)
            .field("text_chars", &self.text.chars().count())
            .finish_non_exhaustive()
    }
}

fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|ids| ids.iter().map(|id| bracketed(id)).collect())
        .unwrap_or_default()
}

/// Parses a raw message. `internal_date_ms` is Gmail's `internalDate`
/// (milliseconds since the epoch); the `Date` header is used when absent.
pub fn parse_raw_email(
    gmail_id: &str,
    thread_id: &str,
    raw: &[u8],
    internal_date_ms: Option<i64>,
) -> Result<ParsedEmail, MailParseError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailParseError::Unparsable)?;
    // mail-parser accepts nearly anything; a message without headers is not mail.
    if message.headers().is_empty() {
        return Err(MailParseError::Unparsable);
    }
    let sender = message
        .from()
        .and_then(|a| a.first())
        .ok_or(MailParseError::MissingSender)?;
    let from = sender
        .address()
        .and_then(|a| EmailAddress::parse(a).ok())
        .ok_or(MailParseError::MissingSender)?;
    let from_name = sender
        .name()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);

    // For an HTML-only message mail-parser lists the HTML part as the text
    // body too, so look at what the part really is.
    let body = message
        .text_part(0)
        .or_else(|| message.html_part(0))
        .map(|part| &part.body);
    let (text, from_html) = match body {
        Some(PartType::Text(text)) => (strip_reply_text(text), false),
        Some(PartType::Html(html)) => {
            let cleaned = strip_reply_html(html);
            let text = mail_parser::decoders::html::html_to_text(&cleaned);
            (strip_reply_text(&text), true)
        }
        _ => return Err(MailParseError::EmptyBody),
    };
    if text.trim().is_empty() {
        return Err(MailParseError::EmptyBody);
    }

    let received_at = internal_date_ms
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .or_else(|| {
            message
                .date()
                .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
        })
        .unwrap_or_else(Utc::now);

    Ok(ParsedEmail {
        gmail_id: gmail_id.to_owned(),
        thread_id: thread_id.to_owned(),
        from,
        from_name,
        subject: message.subject().map(|s| s.trim().to_owned()),
        message_id: message.message_id().map(bracketed),
        references: id_list(message.references()),
        text,
        from_html,
        received_at,
    })
}

impl ParsedEmail {
    /// The `ticket.inbound` event for this email, [sanitised] so the CRM can
    /// store it: NUL characters removed, the subject and the sender's name
    /// cut to their columns. The metadata carries what a threaded reply
    /// needs: `thread_id`, `message_id` and `references`.
    ///
    /// [sanitised]: InboundMessage::sanitised
    pub fn into_inbound(self) -> InboundMessage {
        InboundMessage {
            channel: Channel::Email,
            channel_message_id: self.gmail_id,
            sender: InboundSender {
                email: Some(self.from.as_str().to_owned()),
                phone: None,
                name: self.from_name,
            },
            subject: self.subject,
            content: self.text,
            received_at: self.received_at,
            ticket_id: None,
            metadata: json!({
                "thread_id": self.thread_id,
                "message_id": self.message_id,
                "references": self.references,
                "from_html": self.from_html,
            }),
        }
        .sanitised()
    }
}
