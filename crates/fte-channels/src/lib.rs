//! # fte-channels
//!
//! Everything that speaks to the customer-facing providers, and nothing else:
//!
//! - [`ReplySender`]: the one trait for outbound replies ([`OutboundReply`] in,
//!   [`SendReceipt`] or a classified [`SendError`] out, plus `reconcile` after
//!   an unknown outcome), implemented by [`twilio::TwilioSender`],
//!   [`gmail::GmailSender`] and [`web::WebReplySender`];
//! - [`CircuitBreaker`] and [`GuardedSender`]: per-channel graceful
//!   degradation, reported as [`ChannelState`] on `fte_channel_state`;
//! - [`twilio`]: webhook signature verification and parsing of inbound
//!   messages and status callbacks;
//! - [`gmail`]: OAuth (service account or refresh token), `watch`,
//!   history sync, MIME parsing with quote and signature stripping, the
//!   sender's `Authentication-Results`, threaded replies, and Pub/Sub push
//!   verification and decoding;
//! - [`web`]: email notifications for web form replies (Gmail or SMTP);
//! - [`html`]: the HTML part of our emails, rendered safely from a reply's
//!   small Markdown subset;
//! - [`challenge`]: server-side verification of the web form's bot
//!   challenge (Turnstile or hCaptcha `siteverify`);
//! - [`web_identity`]: the web form's identity token (HMAC of the email
//!   with the embedding site's shared secret);
//! - [`ChannelSenders`]: every sender built from settings, guarded, with
//!   disabled channels reported;
//! - [`outbound`]: addressing a reply (recipient, Gmail thread, subject),
//!   shared by the worker's agent replies and the gateway's staff replies.
//!
//! It must not touch the database or Kafka: the worker stores Gmail history
//! ids and outbox rows, the gateway publishes. Every provider base URL is
//! configurable so tests run against `fte-fakes`. Logs carry ids, channel,
//! status and durations — never addresses, numbers, names or bodies.

mod breaker;
pub mod challenge;
mod guarded;
pub mod html;
pub mod http;
pub mod outbound;
mod sender;
mod wiring;

pub mod gmail;
pub mod twilio;
pub mod web;
pub mod web_identity;

pub use breaker::{BreakerState, ChannelState, CircuitBreaker};
pub use guarded::GuardedSender;
pub use sender::{EmailThread, OutboundReply, Recipient, ReplySender, SendError, SendReceipt};
pub use wiring::{ChannelSenders, WiringError};
