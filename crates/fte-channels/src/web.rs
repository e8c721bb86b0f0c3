//! Web form replies. The worker has already stored the reply for the ticket
//! status page; this sender only tells the customer by email, through the
//! Gmail mailbox or an SMTP relay (`WEB_REPLY_NOTIFY=gmail|smtp|none`). The
//! reply is written in the status page's Markdown subset, so the email
//! carries it as plain text with its HTML rendering beside it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fte_domain::Channel;
use fte_runtime::settings::{WebReplyNotify, WebReplySettings};
use lettre::message::{Mailbox as LettreMailbox, Message, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::gmail::{EmailBody, GmailSender, ReplyIdHeader, reply_subject};
use crate::{OutboundReply, Recipient, ReplySender, SendError, SendReceipt};

/// Where notifications go out.
pub enum Notifier {
    /// Through the support mailbox.
    Gmail(Arc<GmailSender>),
    /// Through an SMTP relay.
    Smtp(Box<SmtpNotifier>),
    /// Nowhere: the status page is the only copy.
    None,
}

/// An SMTP relay from `SMTP_URL`.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: LettreMailbox,
}

/// Why the SMTP notifier could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpConfigError {
    /// `SMTP_URL` is not a valid relay URL.
    #[error("SMTP_URL is not a valid smtp:// or smtps:// URL")]
    InvalidUrl,
    /// `SMTP_FROM` is not an address.
    #[error("SMTP_FROM is not a valid address")]
    InvalidFrom,
    /// `WEB_REPLY_NOTIFY=smtp` without the variables.
    #[error("SMTP_URL and SMTP_FROM are required for WEB_REPLY_NOTIFY=smtp")]
    NotConfigured,
}

impl SmtpNotifier {
    /// A notifier for the relay at `url` (`smtp://host:port`, `smtps://…`,
    /// credentials in the URL), sending as `from`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, SmtpConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| SmtpConfigError::InvalidUrl)?
            .timeout(Some(timeout))
            .build();
        let from = from.parse().map_err(|_| SmtpConfigError::InvalidFrom)?;
        Ok(Self { transport, from })
    }

    async fn send(
        &self,
        to: &str,
        subject: &str,
        reply_id: &str,
        body: EmailBody,
    ) -> Result<(), SendError> {
        let to: LettreMailbox = to.parse().map_err(|_| SendError::Permanent {
            reason: "recipient is not a valid address".into(),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ReplyIdHeader(reply_id.to_owned()))
            .multipart(MultiPart::alternative_plain_html(body.text, body.html))
            .map_err(|_| SendError::Permanent {
                reason: "notification could not be built".into(),
            })?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                SendError::Permanent {
                    reason: "SMTP relay refused the message".into(),
                }
            } else if e.is_transient() {
                SendError::Transient {
                    reason: "SMTP relay deferred the message".into(),
                    retry_after: None,
                }
            } else if e.is_timeout() {
                SendError::Unknown {
                    reason: "SMTP relay timed out".into(),
                }
            } else {
                SendError::Transient {
                    reason: "SMTP connection failed".into(),
                    retry_after: None,
                }
            }
        })
    }
}

/// The web form [`ReplySender`].
pub struct WebReplySender {
    notifier: Notifier,
}

impl WebReplySender {
    /// A sender that notifies through `notifier`.
    pub fn new(notifier: Notifier) -> Self {
        Self { notifier }
    }

    /// The sender the settings ask for; `gmail` needs the Gmail sender (pass
    /// `None` when Gmail is disabled, which falls back to no notification).
    pub fn from_settings(
        settings: &WebReplySettings,
        gmail: Option<Arc<GmailSender>>,
    ) -> Result<Self, SmtpConfigError> {
        let notifier = match settings.notify {
            WebReplyNotify::Gmail => match gmail {
                Some(gmail) => Notifier::Gmail(gmail),
                None => {
                    tracing::warn!(
                        "WEB_REPLY_NOTIFY=gmail but Gmail is disabled: web replies are not emailed"
                    );
                    Notifier::None
                }
            },
            WebReplyNotify::Smtp => {
                let (Some(url), Some(from)) = (&settings.smtp_url, &settings.smtp_from) else {
                    return Err(SmtpConfigError::NotConfigured);
                };
                Notifier::Smtp(Box::new(SmtpNotifier::new(
                    url.expose_secret(),
                    from,
                    Duration::from_millis(settings.timeout_ms),
                )?))
            }
            WebReplyNotify::None => Notifier::None,
        };
        Ok(Self::new(notifier))
    }

    fn subject(reply: &OutboundReply) -> String {
        match (&reply.subject, &reply.ticket_reference) {
            (Some(subject), _) => reply_subject(subject),
            (None, Some(ticket)) => format!("Your Orbitask support request (Ticket: {ticket})"),
            (None, None) => "Your Orbitask support request".to_owned(),
        }
    }
}

#[async_trait]
impl ReplySender for WebReplySender {
    fn channel(&self) -> Channel {
        Channel::WebForm
    }

    fn sends_email(&self) -> bool {
        !matches!(self.notifier, Notifier::None)
    }

    async fn send(&self, reply: &OutboundReply) -> Result<SendReceipt, SendError> {
        let Recipient::Email(to) = &reply.to else {
            return Err(SendError::Permanent {
                reason: "web form reply needs an email recipient".into(),
            });
        };
        let body = reply.parts.join("\n\n");
        if body.trim().is_empty() {
            return Err(SendError::Permanent {
                reason: "reply is empty".into(),
            });
        }
        let subject = Self::subject(reply);
        let body = EmailBody::of_markdown(&body);
        let ids = match &self.notifier {
            Notifier::Gmail(gmail) => {
                gmail
                    .send_emails(to.as_str(), &subject, None, &reply.idempotency_key, &[body])
                    .await?
            }
            Notifier::Smtp(smtp) => {
                smtp.send(to.as_str(), &subject, &reply.idempotency_key, body)
                    .await?;
                Vec::new()
            }
            Notifier::None => Vec::new(),
        };
        Ok(SendReceipt {
            provider_message_ids: ids,
            used_template: false,
        })
    }

    /// Gmail notifications are found by `X-FTE-Reply-Id` in SENT. An SMTP
    /// relay cannot be asked, so the outcome stays unknown; with no
    /// notifier there is nothing to reconcile.
    async fn reconcile(&self, reply: &OutboundReply) -> Result<Option<SendReceipt>, SendError> {
        match &self.notifier {
            Notifier::Gmail(gmail) => {
                let ids = gmail.find_sent(&reply.idempotency_key, None).await?;
                Ok((!ids.is_empty()).then_some(SendReceipt {
                    provider_message_ids: ids,
                    used_template: false,
                }))
            }
            Notifier::Smtp(_) => Err(SendError::Unknown {
                reason: "an SMTP relay cannot be asked whether it delivered".into(),
            }),
            Notifier::None => Ok(Some(SendReceipt::default())),
        }
    }
}
