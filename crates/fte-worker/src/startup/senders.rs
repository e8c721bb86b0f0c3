//! The reply senders: one guarded sender per enabled channel, the
//! provider's when its credentials are configured (a recording sender in
//! builds with the `recording-senders` feature otherwise), and the Gmail
//! mailbox they share with the Gmail sync.

use std::sync::Arc;
use std::time::Duration;

use fte_channels::gmail::{GmailConfig, GmailSender, Mailbox};
use fte_channels::twilio::{TwilioConfig, TwilioSender};
use fte_channels::web::WebReplySender;
use fte_channels::{GuardedSender, ReplySender};
use fte_domain::Channel;
use fte_runtime::settings::{
    ChannelSettings, EnabledChannels, GmailSettings, TwilioSettings, WebReplySettings,
};

use super::error::StartupError;

fn guard(sender: Arc<dyn ReplySender>, threshold: u32, cooldown_secs: u64) -> Arc<GuardedSender> {
    Arc::new(GuardedSender::new(
        sender,
        threshold,
        Duration::from_secs(cooldown_secs),
    ))
}

/// One guarded sender per enabled channel (every channel when
/// `CHANNELS_ENABLED` is unset): the provider's when its credentials are
/// configured. A channel without them is refused — except in a dev build
/// with the `recording-senders` feature, where its replies are recorded in
/// memory, logged and shown as `recording` on `/health` and
/// `fte_channel_recording`.
pub fn channel_senders(
    gmail: &GmailSettings,
    twilio: &TwilioSettings,
    web: &WebReplySettings,
) -> Result<Vec<Arc<GuardedSender>>, StartupError> {
    let channels = ChannelSettings {
        enabled: EnabledChannels::default(),
        gmail: gmail.clone(),
        twilio: twilio.clone(),
        web: web.clone(),
    };
    senders_for(gmail_mailbox(gmail)?, &channels)
}

/// The support mailbox when Gmail is configured, `None` when it is not;
/// an error when its configuration is invalid.
pub fn gmail_mailbox(gmail: &GmailSettings) -> Result<Option<Arc<Mailbox>>, StartupError> {
    match GmailConfig::from_settings(gmail) {
        Ok(config) => Ok(Some(Arc::new(Mailbox::new(config)))),
        Err(fte_channels::gmail::GmailConfigError::NotConfigured) => Ok(None),
        Err(error) => Err(StartupError::Channel {
            channel: Channel::Email,
            reason: error.to_string(),
        }),
    }
}

/// [`channel_senders`] over an already built mailbox (shared with the
/// Gmail sync, so both use one token cache).
pub(super) fn senders_for(
    mailbox: Option<Arc<Mailbox>>,
    channels: &ChannelSettings,
) -> Result<Vec<Arc<GuardedSender>>, StartupError> {
    let (gmail, twilio, web) = (&channels.gmail, &channels.twilio, &channels.web);
    let missing = channels.missing();
    let unconfigured = |channel: Channel| {
        let vars = missing
            .iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, vars)| vars.join(", "))
            .unwrap_or_default();
        without_credentials(channel, &vars)
    };
    let gmail_sender = mailbox.map(|mailbox| Arc::new(GmailSender::new(mailbox)));
    let mut senders = Vec::new();
    for channel in Channel::ALL {
        let metrics = fte_runtime::metrics::global();
        if !channels.enabled.contains(channel) {
            tracing::info!(
                channel = channel.as_str(),
                "channel disabled (CHANNELS_ENABLED)"
            );
            metrics
                .channel_state
                .with_label_values(&[channel.as_str()])
                .set(0);
            continue;
        }
        let (sender, threshold, cooldown): (Arc<dyn ReplySender>, _, _) = match channel {
            Channel::Email => match &gmail_sender {
                Some(sender) => {
                    tracing::info!(channel = "email", "replies go through Gmail");
                    (
                        sender.clone(),
                        gmail.breaker_threshold,
                        gmail.breaker_cooldown_secs,
                    )
                }
                None => (
                    unconfigured(channel)?,
                    gmail.breaker_threshold,
                    gmail.breaker_cooldown_secs,
                ),
            },
            Channel::Whatsapp => match TwilioConfig::from_settings(twilio) {
                Ok(config) => {
                    tracing::info!(channel = "whatsapp", "replies go through Twilio");
                    (
                        Arc::new(TwilioSender::new(config)) as Arc<dyn ReplySender>,
                        twilio.breaker_threshold,
                        twilio.breaker_cooldown_secs,
                    )
                }
                Err(fte_channels::twilio::TwilioConfigError::NotConfigured) => (
                    unconfigured(channel)?,
                    twilio.breaker_threshold,
                    twilio.breaker_cooldown_secs,
                ),
                Err(error) => {
                    return Err(StartupError::Channel {
                        channel,
                        reason: error.to_string(),
                    });
                }
            },
            Channel::WebForm => match WebReplySender::from_settings(web, gmail_sender.clone()) {
                Ok(sender) => {
                    tracing::info!(channel = "web_form", notify = ?web.notify, "web replies are posted to the status page");
                    (
                        Arc::new(sender) as Arc<dyn ReplySender>,
                        gmail.breaker_threshold,
                        gmail.breaker_cooldown_secs,
                    )
                }
                Err(error) => {
                    return Err(StartupError::Channel {
                        channel,
                        reason: error.to_string(),
                    });
                }
            },
        };
        metrics
            .channel_recording
            .with_label_values(&[channel.as_str()])
            .set(i64::from(sender.records_only()));
        senders.push(guard(sender, threshold, cooldown));
    }
    Ok(senders)
}

/// The sender of an enabled channel without provider credentials: a
/// recording sender in builds with the `recording-senders` feature (the
/// production profile never gets here: its settings refuse an incomplete
/// channel), else a start-up error naming what is missing.
#[cfg(feature = "recording-senders")]
fn without_credentials(
    channel: Channel,
    _missing: &str,
) -> Result<Arc<dyn ReplySender>, StartupError> {
    tracing::warn!(
        channel = channel.as_str(),
        "no provider credentials: replies are recorded in memory, not delivered"
    );
    Ok(Arc::new(fte_fakes::RecordingSender::new(channel)))
}

/// See the `recording-senders` variant: without the feature a channel
/// without credentials stops start-up.
#[cfg(not(feature = "recording-senders"))]
fn without_credentials(
    channel: Channel,
    missing: &str,
) -> Result<Arc<dyn ReplySender>, StartupError> {
    Err(StartupError::Channel {
        channel,
        reason: format!(
            "enabled but without provider credentials ({missing}): set them, or remove {channel} \
             from CHANNELS_ENABLED"
        ),
    })
}
