//! [`GmailError`]: how a Gmail call failed, and the same failure as a
//! [`SendError`] for the reply sender.

use crate::SendError;

/// A Gmail call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GmailError {
    /// `history.list` answered 404: the stored history id is too old; run a
    /// bounded full sync with `Mailbox::recent_inbox` and store its id.
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
