//! The fake mailbox: its messages (with the MIME parsing the fake needs to
//! show them), history ids, tokens and watches behind one lock; storing a
//! message, and delivering an inbound one with Gmail's
//! `Authentication-Results` verdict.

use std::sync::{Arc, Mutex, MutexGuard};

use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;

use crate::faults::Faults;

/// A message in the fake mailbox.
#[derive(Clone, Debug, Serialize)]
pub struct StoredMessage {
    /// Gmail id.
    pub id: String,
    /// Thread id.
    pub thread_id: String,
    /// Labels (`INBOX`, `SENT`, `UNREAD`).
    pub label_ids: Vec<String>,
    /// The RFC 2822 text.
    pub raw: String,
    /// The history id at which it was added.
    pub history_id: u64,
    /// Receipt time in ms.
    pub internal_date: i64,
}

impl StoredMessage {
    /// The value of header `name` (unfolded; case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        headers_of(&self.raw)
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The decoded text/plain body of a message we sent (the text part of
    /// a multipart/alternative message), read by `mail-parser`.
    pub fn body_text(&self) -> String {
        self.part("text/plain").unwrap_or_default()
    }

    /// The decoded text/html part of a message we sent, if it has one.
    pub fn body_html(&self) -> Option<String> {
        self.part("text/html")
    }

    /// The first part of type `wanted` (`text/plain`), decoded from its
    /// transfer encoding and charset.
    fn part(&self, wanted: &str) -> Option<String> {
        let message = MessageParser::default().parse(self.raw.as_bytes())?;
        message.parts.iter().find_map(|part| {
            let content_type = part.content_type()?;
            let full = format!("{}/{}", content_type.ctype(), content_type.subtype()?);
            full.eq_ignore_ascii_case(wanted)
                .then(|| part.text_contents().map(str::to_owned))
                .flatten()
        })
    }
}

/// Header lines of an RFC 2822 text, unfolded.
pub(super) fn headers_of(raw: &str) -> Vec<(String, String)> {
    let normalised = raw.replace("\r\n", "\n");
    let head = normalised
        .split_once("\n\n")
        .map(|(h, _)| h)
        .unwrap_or(&normalised);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

/// How the token endpoint authenticates callers.
#[derive(Clone, Debug)]
pub enum FakeOAuth {
    /// The refresh-token grant with these values.
    RefreshToken {
        /// Expected client id.
        client_id: String,
        /// Expected client secret.
        client_secret: String,
        /// Expected refresh token.
        refresh_token: String,
    },
    /// The JWT-bearer grant, assertion verified with this public key (PEM).
    ServiceAccount {
        /// Public key of the service account.
        public_key_pem: String,
        /// Expected `iss`.
        client_email: String,
    },
}

pub(super) struct State_ {
    pub(super) history_id: u64,
    pub(super) oldest_history_id: u64,
    /// Message ids count up from here: the start time in milliseconds,
    /// shifted, so a restarted fake never hands out an id of an earlier
    /// one (Gmail's ids are unique for the mailbox's life, and the worker
    /// deduplicates on them), while its history ids start over at 1000 like
    /// a mailbox the stored cursor does not belong to.
    pub(super) id_base: u64,
    pub(super) next_id: u64,
    pub(super) messages: Vec<StoredMessage>,
    pub(super) tokens: Vec<(String, bool)>,
    pub(super) token_requests: u32,
    pub(super) token_lifetime_secs: u64,
    pub(super) watches: Vec<String>,
    pub(super) deleted: Vec<String>,
}

pub(super) struct Inner {
    pub(super) mailbox: String,
    pub(super) oauth: FakeOAuth,
    pub(super) token_path: String,
    pub(super) state: Mutex<State_>,
    pub(super) faults: Faults,
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(super) type Shared = Arc<Inner>;

pub(super) fn sent_of(inner: &Inner) -> Vec<StoredMessage> {
    inner
        .lock()
        .messages
        .iter()
        .filter(|m| m.label_ids.iter().any(|l| l == "SENT"))
        .cloned()
        .collect()
}

/// The first message id of a fake started now (16 hex digits, like
/// Gmail's): a million ids per millisecond between two starts.
pub(super) fn id_base() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_millis() as u64)
        .unwrap_or_default();
    millis << 20
}

pub(super) fn store(
    inner: &Inner,
    raw: &str,
    thread_id: Option<String>,
    labels: &[&str],
) -> StoredMessage {
    let mut state = inner.lock();
    state.history_id += 1;
    state.next_id += 1;
    let id = format!("{:016x}", state.id_base + state.next_id);
    let in_reply_to = headers_of(raw)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("In-Reply-To"))
        .map(|(_, v)| v);
    let thread_id = thread_id
        .or_else(|| {
            let wanted = in_reply_to?;
            state
                .messages
                .iter()
                .find(|m| m.header("Message-ID").as_deref() == Some(wanted.as_str()))
                .map(|m| m.thread_id.clone())
        })
        .unwrap_or_else(|| id.clone());
    let message = StoredMessage {
        id,
        thread_id,
        label_ids: labels.iter().map(|l| (*l).to_owned()).collect(),
        raw: raw.to_owned(),
        history_id: state.history_id,
        internal_date: chrono::Utc::now().timestamp_millis(),
    };
    state.messages.push(message.clone());
    message
}

/// What Gmail's receiving server concluded about the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SenderVerdict {
    /// DKIM, SPF and DMARC pass for the From domain.
    Pass,
    /// SPF and DMARC fail for the From domain.
    Fail,
}

/// The `Authentication-Results` value Gmail would write for `raw`'s sender.
pub fn authentication_results(raw: &str, verdict: SenderVerdict) -> String {
    let from = headers_of(raw)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("From"))
        .map(|(_, v)| v)
        .unwrap_or_default();
    let address = match (from.rfind('<'), from.rfind('>')) {
        (Some(start), Some(end)) if start < end => from[start + 1..end].trim().to_owned(),
        _ => from.trim().to_owned(),
    }
    .to_ascii_lowercase();
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
    match verdict {
        SenderVerdict::Pass => format!(
            "mx.google.com;\r\n       dkim=pass header.i=@{domain} header.s=fake header.b=ZmFrZQ;\r\n       spf=pass (google.com: domain of {address} designates 192.0.2.10 as permitted sender) smtp.mailfrom={address};\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from={domain}"
        ),
        SenderVerdict::Fail => format!(
            "mx.google.com;\r\n       spf=fail (google.com: domain of {address} does not designate 198.51.100.66 as permitted sender) smtp.mailfrom={address};\r\n       dmarc=fail (p=NONE sp=NONE dis=NONE) header.from={domain}"
        ),
    }
}

pub(super) fn deliver(inner: &Inner, raw: &str, verdict: SenderVerdict) -> (String, String) {
    let received = format!(
        "Authentication-Results: {}\r\n{raw}",
        authentication_results(raw, verdict)
    );
    let m = store(inner, &received, None, &["INBOX", "UNREAD"]);
    (m.id, m.thread_id)
}
