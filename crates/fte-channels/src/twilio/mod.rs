//! WhatsApp through Twilio: webhook signature verification, inbound and
//! status callback parsing, and the Messages API sender.

mod client;
mod inbound;
mod signature;

pub use client::{MAX_BODY_CHARS, SESSION_WINDOW, TwilioConfig, TwilioConfigError, TwilioSender};
pub use inbound::{
    DeliveryStatus, StatusUpdate, TwilioParseError, parse_form, parse_inbound,
    parse_status_callback,
};
pub use signature::{compute_signature, verify_signature};
