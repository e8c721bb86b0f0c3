//! [`GmailSender`]: replies in the customer's Gmail thread, one email per
//! part, found again by `X-FTE-Reply-Id` when an outcome is unknown.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use fte_domain::Channel;

use super::client::MetadataMessage;
use super::compose::{REPLY_ID_HEADER, REPLY_PART_HEADER, ReplyEmail, compose, to_raw};
use super::error::GmailError;
use super::mailbox::Mailbox;
use crate::{EmailThread, OutboundReply, Recipient, ReplySender, SendError, SendReceipt};

/// How far back reconciliation looks in SENT when the reply has no thread.
const RECONCILE_SENT_QUERY: &str = "in:sent newer_than:2d";
const RECONCILE_SENT_MAX: u32 = 50;

/// One email's body: the text part and its HTML rendering.
pub(crate) struct EmailBody {
    /// text/plain.
    pub(crate) text: String,
    /// text/html.
    pub(crate) html: String,
}

impl EmailBody {
    /// A reply written as plain text (the email channel's format), with
    /// its lists and addresses rendered as HTML beside it.
    pub(crate) fn of_text(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            html: crate::html::email_document(text),
        }
    }

    /// A reply written in the Markdown subset (the web form's format): the
    /// text part reads it as plain text, the HTML part renders it.
    pub(crate) fn of_markdown(markdown: &str) -> Self {
        Self {
            text: fte_domain::format::markdown_to_plain(markdown),
            html: crate::html::email_document(markdown),
        }
    }
}

/// The email [`ReplySender`] (also used for web form notifications).
pub struct GmailSender {
    mailbox: Arc<Mailbox>,
    channel: Channel,
}

impl GmailSender {
    /// A sender for the email channel.
    pub fn new(mailbox: Arc<Mailbox>) -> Self {
        Self {
            mailbox,
            channel: Channel::Email,
        }
    }

    /// The same sender reporting itself as `channel` (the web form's
    /// notifications go through Gmail too).
    pub fn for_channel(mailbox: Arc<Mailbox>, channel: Channel) -> Self {
        Self { mailbox, channel }
    }

    /// Sends `parts` as emails to `to`, threaded when `thread` is given.
    pub(crate) async fn send_emails(
        &self,
        to: &str,
        subject: &str,
        thread: Option<&EmailThread>,
        reply_id: &str,
        parts: &[EmailBody],
    ) -> Result<Vec<String>, SendError> {
        let mut ids = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let message = compose(&ReplyEmail {
                from: self.mailbox.address(),
                from_name: self.mailbox.from_name(),
                to,
                subject,
                thread,
                reply_id,
                part: (i + 1, parts.len()),
                body: &part.text,
                html: Some(&part.html),
                date: Utc::now(),
            })?;
            let sent = self
                .mailbox
                .client()
                .send_raw(&to_raw(&message), thread.map(|t| t.thread_id.as_str()))
                .await
                .map_err(GmailError::into_send_error);
            match sent {
                Ok(sent) => ids.push(sent.id),
                Err(e) if !ids.is_empty() => {
                    return Err(SendError::Unknown {
                        reason: format!("{} of {} emails sent, then: {e}", ids.len(), parts.len()),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(ids)
    }

    /// Finds emails carrying `reply_id`, ordered by part number.
    pub(crate) async fn find_sent(
        &self,
        reply_id: &str,
        thread: Option<&EmailThread>,
    ) -> Result<Vec<String>, SendError> {
        let client = self.mailbox.client();
        let candidates: Vec<MetadataMessage> = match thread {
            Some(thread) => client
                .thread_metadata(&thread.thread_id)
                .await
                .map_err(GmailError::into_send_error)?,
            None => {
                let refs = client
                    .list(None, Some(RECONCILE_SENT_QUERY), RECONCILE_SENT_MAX)
                    .await
                    .map_err(GmailError::into_send_error)?;
                let mut messages = Vec::with_capacity(refs.len());
                for r in refs {
                    messages.push(
                        client
                            .reply_metadata(&r.id)
                            .await
                            .map_err(GmailError::into_send_error)?,
                    );
                }
                messages
            }
        };
        let mut found: Vec<(usize, String)> = candidates
            .iter()
            .filter(|m| m.header(REPLY_ID_HEADER).map(str::trim) == Some(reply_id))
            .map(|m| {
                let part = m
                    .header(REPLY_PART_HEADER)
                    .and_then(|p| p.split('/').next())
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(1);
                (part, m.id.clone())
            })
            .collect();
        // Every email carrying the id counts once: after a partial send the
        // worker sends the remaining parts as a new, shorter reply with the
        // same id, so part numbers may repeat.
        found.sort();
        found.dedup_by(|a, b| a.1 == b.1);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }
}

fn email_of(reply: &OutboundReply) -> Result<&str, SendError> {
    match &reply.to {
        Recipient::Email(email) => Ok(email.as_str()),
        Recipient::Phone(_) => Err(SendError::Permanent {
            reason: "email reply addressed to a phone number".into(),
        }),
    }
}

#[async_trait]
impl ReplySender for GmailSender {
    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, reply: &OutboundReply) -> Result<SendReceipt, SendError> {
        let to = email_of(reply)?;
        if reply.parts.is_empty() || reply.parts.iter().any(|p| p.trim().is_empty()) {
            return Err(SendError::Permanent {
                reason: "reply has no parts or an empty part".into(),
            });
        }
        let subject = reply
            .subject
            .as_deref()
            .unwrap_or("Your Orbitask support request");
        let bodies: Vec<EmailBody> = reply.parts.iter().map(|p| EmailBody::of_text(p)).collect();
        let ids = self
            .send_emails(
                to,
                subject,
                reply.thread.as_ref(),
                &reply.idempotency_key,
                &bodies,
            )
            .await?;
        Ok(SendReceipt {
            provider_message_ids: ids,
            used_template: false,
        })
    }

    async fn reconcile(&self, reply: &OutboundReply) -> Result<Option<SendReceipt>, SendError> {
        email_of(reply)?;
        let ids = self
            .find_sent(&reply.idempotency_key, reply.thread.as_ref())
            .await?;
        Ok((!ids.is_empty()).then_some(SendReceipt {
            provider_message_ids: ids,
            used_template: false,
        }))
    }
}
