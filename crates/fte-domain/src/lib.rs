//! # fte-domain
//!
//! The vocabulary every other crate speaks, and nothing else: typed ids, the
//! [`Channel`] enum, customer identities parsed once at the edge
//! ([`EmailAddress`], [`PhoneNumber`]) and the [`Trust`] of their links to
//! customers, the ticket and conversation state machines and the customer's
//! wording of a ticket's state ([`CustomerStatus`]), escalation reasons, the
//! versioned Kafka event envelope, the per-channel format limits, text as
//! the CRM can store it ([`text`]), and the arithmetic of what model tokens
//! cost ([`cost`]).
//!
//! This crate performs no IO: no database, no network, no clock reads outside
//! of constructors that take `now` explicitly where it matters. It must stay
//! cheap to depend on, so it links only serde, uuid, chrono and phonenumber.

pub mod channel;
pub mod cost;
pub mod customer_status;
pub mod events;
pub mod format;
pub mod handoff;
pub mod identity;
pub mod ids;
pub mod states;
pub mod text;
pub mod trust;

pub use channel::{Channel, ChannelLimits, UnknownChannel};
pub use cost::{ModelPrices, TokenUsage};
pub use customer_status::{CustomerStatus, LatestMessage};
pub use events::{EVENT_SCHEMA_VERSION, EventEnvelope, InboundMessage};
pub use identity::{EmailAddress, IdentityError, PhoneNumber};
pub use ids::{ConversationId, CustomerId, EscalationId, MessageId, TicketId};
pub use states::{
    Category, ConversationStatus, EscalationReason, InvalidTransition, Priority, TicketStatus,
    UnknownValue,
};
pub use trust::{Trust, TrustSource};
