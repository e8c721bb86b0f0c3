//! Gmail: OAuth, `watch` and its renewal, history sync into parsed emails,
//! threaded replies, and Pub/Sub push verification.
//!
//! The worker keeps the history id per mailbox (`gmail_sync_state`); this
//! module only turns a stored id into new messages and a new id to store.

mod auth;
mod auth_results;
mod client;
mod compose;
mod jwks;
mod mailbox;
mod parse;
mod push;
mod push_error;
mod sender;
mod strip;

pub use auth::{GMAIL_SCOPE, GmailCredentials, REFRESH_MARGIN, ServiceAccountKey, TokenSource};
pub use auth_results::{GMAIL_AUTHSERV_ID, sender_authenticated};
pub use client::{GmailClient, MessageRef, MetadataMessage, RawMessage, WatchResponse};
pub use compose::{REPLY_ID_HEADER, REPLY_PART_HEADER, ReplyEmail, compose, reply_subject, to_raw};
pub use jwks::JwksCache;
pub use mailbox::{GmailConfig, GmailConfigError, Mailbox, WATCH_RENEWAL_INTERVAL};
pub use parse::{MailParseError, ParsedEmail, parse_raw_email};
pub use push::{GmailNotification, PubSubVerifier, PushAuthMode, decode_push};
pub use push_error::PushError;
pub(crate) use sender::EmailBody;
pub use sender::GmailSender;
pub use strip::{strip_reply_html, strip_reply_text};

use serde::{Deserialize, Deserializer};

use crate::SendError;

/// A Gmail call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GmailError {
    /// `history.list` answered 404: the stored history id is too old; run a
    /// bounded full sync with [`Mailbox::recent_inbox`] and store its id.
    #[error("Gmail history id too old: a full sync is needed")]
    HistoryTooOld,
    /// `history.list` answered with a mailbox history id below the stored
    /// one: the stored id belongs to another life of the mailbox (restored,
    /// replaced, or a local fake restarted) and would never see a new
    /// message; run a bounded full sync and store the mailbox's id.
    #[error("stored Gmail history id is ahead of the mailbox: a full sync is needed")]
    HistoryAhead,
    /// The message or thread does not exist (deleted, or a wrong id).
    #[error("Gmail resource not found")]
    NotFound,
    /// Credentials were refused or could not be used.
    #[error("Gmail authentication failed: {0}")]
    Auth(String),
    /// The provider failed; classified like a send.
    #[error(transparent)]
    Provider(#[from] SendError),
    /// A response was not what the API documents.
    #[error("unexpected Gmail response: {0}")]
    Malformed(String),
}

impl GmailError {
    /// The same failure as a [`SendError`], for the sender.
    pub fn into_send_error(self) -> SendError {
        match self {
            GmailError::Provider(e) => e,
            GmailError::HistoryTooOld => SendError::Permanent {
                reason: "history too old".into(),
            },
            GmailError::HistoryAhead => SendError::Permanent {
                reason: "history id ahead of the mailbox".into(),
            },
            GmailError::NotFound => SendError::Permanent {
                reason: "HTTP 404".into(),
            },
            // Credentials may be fixed by an operator: keep the reply waiting.
            GmailError::Auth(reason) => SendError::Transient {
                reason: format!("authentication: {reason}"),
                retry_after: None,
            },
            GmailError::Malformed(reason) => SendError::Transient {
                reason: format!("malformed response: {reason}"),
                retry_after: None,
            },
        }
    }
}

/// Gmail writes 64-bit ids as JSON strings; accept numbers too.
pub(crate) fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(u64),
        S(String),
    }
    match Either::deserialize(d)? {
        Either::N(n) => Ok(n),
        Either::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

pub(crate) fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(i64),
        S(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::N(n)) => Some(n),
        Some(Either::S(s)) => s.trim().parse().ok(),
    })
}
