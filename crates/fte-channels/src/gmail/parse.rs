//! A raw RFC 2822 message from Gmail (`messages.get?format=raw`) turned into
//! what the agent needs: the sender, the threading headers and only the new
//! text. Parsing uses mail-parser, which decodes transfer encodings and
//! charsets (ISO-8859-1, windows-1252, …) and converts HTML-only bodies.
//! Whether Gmail authenticated the sender comes from its
//! `Authentication-Results` header ([`super::auth_results`]).

use chrono::{DateTime, TimeZone, Utc};
use fte_domain::{Channel, EmailAddress, InboundMessage, events::InboundSender};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};
use serde_json::json;

use super::auth_results::sender_authenticated;
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
    /// An automatic message (an out-of-office notice, a mailing list, a
    /// delivery report): answering it could start a loop of automatic
    /// replies, so it is not a customer's message (RFC 3834).
    #[error("message is an automatic reply or bulk mail")]
    Automatic,
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
    /// Whether Gmail's `Authentication-Results` show the From domain passed
    /// DMARC (or an aligned DKIM or SPF check).
    pub sender_authenticated: bool,
}

impl std::fmt::Debug for ParsedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedEmail")
            .field("gmail_id", &self.gmail_id)
            .field("thread_id", &self.thread_id)
            .field("text_chars", &self.text.chars().count())
            .field("sender_authenticated", &self.sender_authenticated)
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

/// Whether the message says it was sent automatically: `Auto-Submitted`
/// other than `no`, `Precedence: bulk|junk|list|auto_reply`, or the
/// `X-Autoreply`/`X-Autorespond` headers some mailers set instead, or it is
/// a delivery report (`multipart/report`).
fn is_automatic(message: &mail_parser::Message<'_>) -> bool {
    let header = |name: &'static str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| !v.is_empty() && v != "no");
    let precedence = header("Precedence")
        .is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"));
    let autoreply = header("X-Autoreply").is_some() || header("X-Autorespond").is_some();
    let report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    auto_submitted || precedence || autoreply || report
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
    if is_automatic(&message) {
        return Err(MailParseError::Automatic);
    }
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
        // No body, or nothing but a quote: an empty message, which the
        // agent answers by asking how it can help.
        _ => (String::new(), false),
    };

    let received_at = internal_date_ms
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .or_else(|| {
            message
                .date()
                .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
        })
        .unwrap_or_else(Utc::now);

    // The topmost header is the receiving server's own; mail-parser's
    // `header_raw` would return the bottom one, which the sender wrote.
    let topmost_results = message
        .headers_raw()
        .find(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| value);
    let from_domain = from.as_str().rsplit_once('@').map_or("", |(_, d)| d);
    let sender_authenticated = sender_authenticated(topmost_results, from_domain);

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
        sender_authenticated,
    })
}

impl ParsedEmail {
    /// The `ticket.inbound` event for this email, [sanitised] so the CRM can
    /// store it: NUL characters removed, the subject and the sender's name
    /// cut to their columns. The metadata carries what a threaded reply
    /// needs: `thread_id`, `message_id` and `references`.
    ///
    /// The sender's address counts as proven (`email_verified`) only when
    /// the sync was started by an authenticated Pub/Sub push
    /// (`push_authenticated`) and Gmail authenticated the sender.
    ///
    /// [sanitised]: InboundMessage::sanitised
    pub fn into_inbound(self, push_authenticated: bool) -> InboundMessage {
        InboundMessage {
            channel: Channel::Email,
            channel_message_id: self.gmail_id,
            sender: InboundSender {
                email: Some(self.from.as_str().to_owned()),
                phone: None,
                name: self.from_name,
                email_verified: push_authenticated && self.sender_authenticated,
                phone_verified: false,
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
