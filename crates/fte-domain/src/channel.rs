//! The three channels customers reach us on, and the format limits of each
//! (from the brand voice: email ≤ 500 words, WhatsApp ≤ 300 characters,
//! web form ≤ 300 words).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A customer-facing channel. The wire and database spelling is
/// [`Channel::as_str`]: `email`, `whatsapp`, `web_form`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Gmail: the support mailbox.
    Email,
    /// WhatsApp through Twilio.
    Whatsapp,
    /// The embeddable web support form.
    WebForm,
}

impl Channel {
    /// Every channel, in a stable order (for metrics and health reports).
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Whatsapp, Channel::WebForm];

    /// The spelling used in the database, in events and in metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Whatsapp => "whatsapp",
            Channel::WebForm => "web_form",
        }
    }

    /// The short name used in per-channel Kafka topic names
    /// (`fte.channels.<topic_segment>.inbound`).
    pub const fn topic_segment(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Whatsapp => "whatsapp",
            Channel::WebForm => "web",
        }
    }

    /// The reply limits of this channel: the brand voice's rules, so they are
    /// not configuration (no environment variable or table can loosen them;
    /// the formatter and the reply guard enforce them).
    pub const fn limits(self) -> ChannelLimits {
        match self {
            Channel::Email => ChannelLimits::Words(500),
            Channel::Whatsapp => ChannelLimits::Characters(300),
            Channel::WebForm => ChannelLimits::Words(300),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A channel name that is not one of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown channel `{0}` (expected email, whatsapp or web_form)")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "email" | "gmail" => Ok(Channel::Email),
            "whatsapp" => Ok(Channel::Whatsapp),
            "web_form" | "web" => Ok(Channel::WebForm),
            other => Err(UnknownChannel(other.to_owned())),
        }
    }
}

/// How long one reply on a channel may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelLimits {
    /// At most this many whitespace-separated words per message.
    Words(usize),
    /// At most this many Unicode scalar values per message.
    Characters(usize),
}

impl ChannelLimits {
    /// Whether `text` fits in one message.
    pub fn fits(self, text: &str) -> bool {
        match self {
            ChannelLimits::Words(max) => text.split_whitespace().count() <= max,
            ChannelLimits::Characters(max) => text.chars().count() <= max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>(), Ok(channel));
            let json = serde_json::to_string(&channel).unwrap();
            assert_eq!(json, format!("\"{}\"", channel.as_str()));
        }
    }

    #[test]
    fn unknown_channels_are_refused() {
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn whatsapp_limit_counts_characters_not_bytes() {
        let limits = Channel::Whatsapp.limits();
        assert!(limits.fits(&"é".repeat(300)));
        assert!(!limits.fits(&"é".repeat(301)));
    }

    #[test]
    fn email_limit_counts_words() {
        let limits = Channel::Email.limits();
        assert!(limits.fits(&"word ".repeat(500)));
        assert!(!limits.fits(&"word ".repeat(501)));
    }
}
