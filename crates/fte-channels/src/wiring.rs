//! [`ChannelSenders`]: the three senders built from settings, each behind
//! its circuit breaker, with disabled channels reported as such. The
//! worker's startup calls this once; the local run swaps in recording
//! senders for the channels that come back disabled.

use std::sync::Arc;
use std::time::Duration;

use fte_domain::Channel;
use fte_runtime::settings::{GmailSettings, TwilioSettings, WebReplySettings};

use crate::gmail::{GmailConfig, GmailConfigError, GmailSender, Mailbox};
use crate::twilio::{TwilioConfig, TwilioConfigError, TwilioSender};
use crate::web::{SmtpConfigError, WebReplySender};
use crate::{ChannelState, EmailThread, GuardedSender, ReplySender};

/// Why the senders could not be built (a channel that is merely not
/// configured is not an error: it is disabled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WiringError {
    /// Gmail settings are present but unusable.
    #[error(transparent)]
    Gmail(#[from] GmailConfigError),
    /// Twilio settings are present but unusable.
    #[error(transparent)]
    Twilio(#[from] TwilioConfigError),
    /// SMTP notification settings are unusable.
    #[error(transparent)]
    Smtp(#[from] SmtpConfigError),
}

/// The outbound side of every channel.
pub struct ChannelSenders {
    /// Gmail replies; `None` when Gmail is disabled.
    pub email: Option<Arc<GuardedSender>>,
    /// WhatsApp replies; `None` when Twilio is disabled.
    pub whatsapp: Option<Arc<GuardedSender>>,
    /// Web form notifications (always present; may notify nobody).
    pub web: Arc<GuardedSender>,
    /// The support mailbox, for sync and watch renewal; `None` when disabled.
    pub mailbox: Option<Arc<Mailbox>>,
}

impl ChannelSenders {
    /// Builds every configured sender and publishes each channel's state on
    /// `fte_channel_state` (disabled ones as 0).
    pub fn from_settings(
        gmail: &GmailSettings,
        twilio: &TwilioSettings,
        web: &WebReplySettings,
    ) -> Result<Self, WiringError> {
        let mailbox = match GmailConfig::from_settings(gmail) {
            Ok(config) => Some(Arc::new(Mailbox::new(config))),
            Err(GmailConfigError::NotConfigured) => None,
            Err(e) => return Err(e.into()),
        };
        let guard = |inner: Arc<dyn ReplySender>, threshold: u32, cooldown_secs: u64| {
            Arc::new(GuardedSender::new(
                inner,
                threshold,
                Duration::from_secs(cooldown_secs),
            ))
        };
        let email = mailbox.as_ref().map(|m| {
            guard(
                Arc::new(GmailSender::new(m.clone())),
                gmail.breaker_threshold,
                gmail.breaker_cooldown_secs,
            )
        });
        let whatsapp = match TwilioConfig::from_settings(twilio) {
            Ok(config) => Some(guard(
                Arc::new(TwilioSender::new(config)),
                twilio.breaker_threshold,
                twilio.breaker_cooldown_secs,
            )),
            Err(TwilioConfigError::NotConfigured) => None,
            Err(e) => return Err(e.into()),
        };
        let web_gmail = mailbox
            .as_ref()
            .map(|m| Arc::new(GmailSender::for_channel(m.clone(), Channel::WebForm)));
        let web = guard(
            Arc::new(WebReplySender::from_settings(web, web_gmail)?),
            gmail.breaker_threshold,
            gmail.breaker_cooldown_secs,
        );
        let senders = Self {
            email,
            whatsapp,
            web,
            mailbox,
        };
        for channel in Channel::ALL {
            senders.state(channel).publish(channel);
        }
        Ok(senders)
    }

    /// The sender of `channel`, if the channel is enabled.
    pub fn sender(&self, channel: Channel) -> Option<Arc<dyn ReplySender>> {
        let guarded = match channel {
            Channel::Email => self.email.clone(),
            Channel::Whatsapp => self.whatsapp.clone(),
            Channel::WebForm => Some(self.web.clone()),
        }?;
        Some(guarded)
    }

    /// The state of `channel` now.
    pub fn state(&self, channel: Channel) -> ChannelState {
        let guarded = match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Whatsapp => self.whatsapp.as_ref(),
            Channel::WebForm => Some(&self.web),
        };
        guarded.map_or(ChannelState::Disabled, |g| g.state())
    }
}

impl EmailThread {
    /// The thread of an inbound email, from the metadata that
    /// [`ParsedEmail::into_inbound`](crate::gmail::ParsedEmail::into_inbound)
    /// writes (`thread_id`, `message_id`, `references`).
    pub fn from_inbound_metadata(metadata: &serde_json::Value) -> Option<Self> {
        let thread_id = metadata.get("thread_id")?.as_str()?.to_owned();
        let message_id = metadata.get("message_id")?.as_str()?.to_owned();
        let references = metadata
            .get("references")
            .and_then(|r| r.as_array())
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            thread_id,
            in_reply_to_message_id: message_id,
            references,
        })
    }
}
