//! The enabled channels with their providers' settings, and the production
//! rule that an enabled channel is a fully configured one: in the
//! production profile an enabled channel without every credential it needs
//! stops start-up with one error naming each missing variable, so replies
//! can never be "sent" into a recording sender that delivers nothing.

use fte_domain::Channel;

use super::channels::{GmailSettings, TwilioSettings, WebReplyNotify, WebReplySettings};
use super::enabled::EnabledChannels;
use super::lookup::{Lookup, Profile, SettingsError};

/// Every channel's settings, read together so that what one channel needs
/// from another (web form notifications through Gmail) is checked once.
#[derive(Clone, Debug)]
pub struct ChannelSettings {
    /// `CHANNELS_ENABLED`.
    pub enabled: EnabledChannels,
    /// Gmail.
    pub gmail: GmailSettings,
    /// Twilio WhatsApp.
    pub twilio: TwilioSettings,
    /// Web form reply notifications.
    pub web: WebReplySettings,
}

impl ChannelSettings {
    /// Reads every channel's settings. In production each enabled channel
    /// must be complete: the error names every missing variable.
    pub fn from_lookup(lookup: &Lookup<'_>, profile: Profile) -> Result<Self, SettingsError> {
        let settings = Self {
            enabled: EnabledChannels::from_lookup(lookup)?,
            gmail: GmailSettings::from_lookup(lookup, profile)?,
            twilio: TwilioSettings::from_lookup(lookup, profile)?,
            web: WebReplySettings::from_lookup(lookup)?,
        };
        if profile.is_production() {
            settings.require_complete()?;
        }
        Ok(settings)
    }

    /// The variables an enabled channel still lacks, per channel.
    pub fn missing(&self) -> Vec<(Channel, Vec<&'static str>)> {
        let mut out = Vec::new();
        for channel in self.enabled.iter() {
            let missing = match channel {
                Channel::Email => gmail_missing(&self.gmail),
                Channel::Whatsapp => twilio_missing(&self.twilio),
                Channel::WebForm => self.web_missing(),
            };
            if !missing.is_empty() {
                out.push((channel, missing));
            }
        }
        out
    }

    fn web_missing(&self) -> Vec<&'static str> {
        // The SMTP variables are checked by WebReplySettings itself.
        if self.web.notify == WebReplyNotify::Gmail && !self.enabled.contains(Channel::Email) {
            vec!["WEB_REPLY_NOTIFY (gmail needs the email channel: use smtp or none)"]
        } else {
            Vec::new()
        }
    }

    fn require_complete(&self) -> Result<(), SettingsError> {
        match self.missing().into_iter().next() {
            None => Ok(()),
            Some((channel, missing)) => Err(SettingsError::ChannelIncomplete {
                channel: channel.as_str(),
                missing: missing.join(", "),
            }),
        }
    }
}

fn gmail_missing(gmail: &GmailSettings) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !gmail.has_credentials() {
        missing.push("GMAIL_SERVICE_ACCOUNT_JSON (or GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET and GMAIL_REFRESH_TOKEN)");
    }
    if gmail.mailbox.is_none() {
        missing.push("GMAIL_MAILBOX");
    }
    if gmail.pubsub_topic.is_none() {
        missing.push("GMAIL_PUBSUB_TOPIC");
    }
    if gmail.pubsub_audience.is_none() {
        missing.push("GMAIL_PUBSUB_AUDIENCE");
    }
    // Without it any Google-signed token for the audience would pass.
    if gmail.pubsub_service_account.is_none() {
        missing.push("GMAIL_PUBSUB_SERVICE_ACCOUNT");
    }
    missing
}

fn twilio_missing(twilio: &TwilioSettings) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if twilio.account_sid.is_none() {
        missing.push("TWILIO_ACCOUNT_SID");
    }
    if twilio.auth_token.is_none() {
        missing.push("TWILIO_AUTH_TOKEN");
    }
    if twilio.whatsapp_number.is_none() {
        missing.push("TWILIO_WHATSAPP_NUMBER");
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn production_names_every_variable_an_enabled_channel_lacks() {
        let err = ChannelSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap_err();
        let text = err.to_string();
        for var in [
            "email",
            "GMAIL_SERVICE_ACCOUNT_JSON",
            "GMAIL_MAILBOX",
            "GMAIL_PUBSUB_AUDIENCE",
            "GMAIL_PUBSUB_SERVICE_ACCOUNT",
            "CHANNELS_ENABLED",
        ] {
            assert!(text.contains(var), "{var} not named in: {text}");
        }
        let err = ChannelSettings::from_lookup(
            &lookup(&[
                ("CHANNELS_ENABLED", "whatsapp"),
                ("TWILIO_ACCOUNT_SID", "AC1"),
            ]),
            Profile::Production,
        )
        .unwrap_err();
        assert!(err.to_string().contains("TWILIO_AUTH_TOKEN"), "{err}");
    }

    #[test]
    fn production_refuses_an_oidc_push_without_its_service_account() {
        let vars = [
            ("CHANNELS_ENABLED", "email"),
            ("GMAIL_MAILBOX", "support@orbitlabs.example"),
            ("GMAIL_SERVICE_ACCOUNT_JSON", "{}"),
            ("GMAIL_PUBSUB_TOPIC", "projects/p/topics/t"),
            (
                "GMAIL_PUBSUB_AUDIENCE",
                "https://support.example/webhooks/gmail",
            ),
        ];
        let err = ChannelSettings::from_lookup(&lookup(&vars), Profile::Production).unwrap_err();
        assert!(
            err.to_string().contains("GMAIL_PUBSUB_SERVICE_ACCOUNT"),
            "{err}"
        );
        let mut complete = vars.to_vec();
        complete.push((
            "GMAIL_PUBSUB_SERVICE_ACCOUNT",
            "push@p.iam.gserviceaccount.com",
        ));
        ChannelSettings::from_lookup(&lookup(&complete), Profile::Production).unwrap();
    }

    #[test]
    fn production_web_form_alone_needs_a_notification_path_other_than_gmail() {
        let only_web = [("CHANNELS_ENABLED", "web_form")];
        let err =
            ChannelSettings::from_lookup(&lookup(&only_web), Profile::Production).unwrap_err();
        assert!(err.to_string().contains("WEB_REPLY_NOTIFY"), "{err}");
        let quiet = [
            ("CHANNELS_ENABLED", "web_form"),
            ("WEB_REPLY_NOTIFY", "none"),
        ];
        let settings = ChannelSettings::from_lookup(&lookup(&quiet), Profile::Production).unwrap();
        assert!(!settings.enabled.contains(Channel::Email));
    }

    #[test]
    fn dev_accepts_enabled_channels_without_credentials() {
        let settings = ChannelSettings::from_lookup(&lookup(&[]), Profile::Dev).unwrap();
        assert_eq!(
            settings.missing().len(),
            2,
            "email and whatsapp lack credentials"
        );
    }
}
