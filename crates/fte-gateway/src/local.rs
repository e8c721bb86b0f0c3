//! What the gateway knows about the local run's providers: how each channel
//! delivers replies ([`ChannelDelivery`], shown on `/health`) and, when the
//! provider fakes run in this process, what they received
//! ([`OutboundLog`], shown on `/dev/outbox` in the dev profile).
//!
//! The gateway does not link the fakes: `fte run` hands it an
//! [`OutboundLog`] over them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fte_domain::Channel;
use serde::Serialize;

/// How a channel's replies leave the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Through the real provider (or, for the web form, the status page).
    Provider,
    /// Through the real client against an in-process provider fake
    /// (`fte run` without credentials): nothing reaches a customer.
    Fake,
    /// Kept by a recording sender in the worker: nothing leaves the process.
    Recording,
    /// Not in `CHANNELS_ENABLED`: the channel is off.
    Disabled,
}

/// The delivery of every channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelDelivery {
    /// Gmail.
    pub email: Delivery,
    /// Twilio WhatsApp.
    pub whatsapp: Delivery,
    /// The web form's status page (and its notification email).
    pub web_form: Delivery,
}

impl Default for ChannelDelivery {
    fn default() -> Self {
        Self {
            email: Delivery::Provider,
            whatsapp: Delivery::Provider,
            web_form: Delivery::Provider,
        }
    }
}

impl ChannelDelivery {
    /// The delivery of `channel`.
    pub fn of(&self, channel: Channel) -> Delivery {
        match channel {
            Channel::Email => self.email,
            Channel::Whatsapp => self.whatsapp,
            Channel::WebForm => self.web_form,
        }
    }

    /// From whether each provider is configured: an unconfigured Gmail or
    /// Twilio means the worker (built from the same settings) records the
    /// channel's replies instead of delivering them.
    pub fn from_configured(gmail: bool, twilio: bool) -> Self {
        let delivery = |configured| {
            if configured {
                Delivery::Provider
            } else {
                Delivery::Recording
            }
        };
        Self {
            email: delivery(gmail),
            whatsapp: delivery(twilio),
            web_form: Delivery::Provider,
        }
    }
}

impl ChannelDelivery {
    /// The same delivery with every channel outside `enabled` disabled.
    pub fn with_enabled(mut self, enabled: &fte_runtime::settings::EnabledChannels) -> Self {
        for (channel, delivery) in [
            (Channel::Email, &mut self.email),
            (Channel::Whatsapp, &mut self.whatsapp),
            (Channel::WebForm, &mut self.web_form),
        ] {
            if !enabled.contains(channel) {
                *delivery = Delivery::Disabled;
            }
        }
        self
    }
}

/// One message a provider fake received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OutboundRecord {
    /// `email` or `whatsapp`.
    pub channel: String,
    /// The provider's id for it (Gmail message id, Twilio SID).
    pub provider_id: String,
    /// The recipient as the provider got it.
    pub to: String,
    /// The subject (email only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The text as the provider got it.
    pub body: String,
    /// When the fake received it, when it knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
}

/// What the in-process provider fakes received, oldest first.
pub trait OutboundLog: Send + Sync {
    /// Every recorded outbound message.
    fn records(&self) -> Vec<OutboundRecord>;
}

/// A shared [`OutboundLog`].
pub type SharedOutboundLog = Arc<dyn OutboundLog>;
