//! Gmail: OAuth, `watch` and its renewal, history sync into parsed emails,
//! threaded replies, and Pub/Sub push verification.
//!
//! The worker keeps the history id per mailbox (`gmail_sync_state`); this
//! module only turns a stored id into new messages and a new id to store.

mod auth;
mod auth_results;
mod client;
mod compose;
mod de;
mod error;
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
pub(crate) use compose::ReplyIdHeader;
pub use compose::{REPLY_ID_HEADER, REPLY_PART_HEADER, ReplyEmail, compose, reply_subject, to_raw};
pub use error::GmailError;
pub use jwks::JwksCache;
pub use mailbox::{GmailConfig, GmailConfigError, Mailbox, WATCH_RENEWAL_INTERVAL};
pub use parse::{MailParseError, ParsedEmail, parse_raw_email};
pub use push::{GmailNotification, PubSubVerifier, PushAuthMode, decode_push};
pub use push_error::PushError;
pub(crate) use sender::EmailBody;
pub use sender::GmailSender;
pub use strip::{strip_reply_html, strip_reply_text};
