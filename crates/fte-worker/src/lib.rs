//! # fte-worker
//!
//! The message processor. A tour:
//!
//! - [`handle_event`] (`handle`): the one testable step, in three phases so
//!   that no transaction waits on the agent: a short transaction stores the
//!   (sanitised) message (`accept`: customer identity across channels
//!   ([`identity`], with the sender's trust), the 24-hour conversation, the ticket's state machine,
//!   the channel id that makes the step idempotent) and settles what needs
//!   no agent (`pre_agent`, [`deferral`] for the rate limit, which defers
//!   and never drops); the agent answers outside any transaction (`turn`);
//!   a short transaction writes the outcome (`finish`, idempotent on the
//!   inbound message id), after [`disclosure`] — the one place that decides
//!   what a reply may reveal to a claimed or verified sender — checked it: queued replies ([`reply`]), escalations
//!   ([`escalate`], which staff also use to escalate a ticket by id) and
//!   events ([`events`], through the event outbox). Failures are classified once (`error`:
//!   [`HandleError::is_transient`], with a content-free kind and reason).
//! - [`consumer`]: the at-least-once Kafka loop around the step: one task
//!   per partition (ordered within, concurrent across), offsets stored only
//!   after the step committed, poison messages to the DLQ with their reason,
//!   transient failures retried within a budget ([`retry`]) and then
//!   dead-lettered, stuck partitions reported ([`stall`]), graceful
//!   shutdown.
//! - [`sender`]: one outbox loop per channel, each behind its channel's
//!   circuit breaker: claim due replies (with a fencing token renewed before
//!   each provider call), send, back off, reconcile unknown outcomes so
//!   nothing is ever sent twice.
//! - [`gmail_sync`]: the consumer of the gateway's Gmail notifications:
//!   syncs the support mailbox from its stored history id into
//!   `ticket.inbound` events (through the event outbox).
//! - [`collector`]: the metrics collector, consumer group
//!   `fte-metrics-collector` on `fte.metrics`: the one writer of
//!   `agent_metrics` (idempotent on the event id), the agent-level
//!   Prometheus series, and the consumer lag of every known group.
//! - [`alerts`]: the plan's alert thresholds and the stuck partitions
//!   evaluated every `ALERT_INTERVAL_SECS`; `/health` says `degraded` while
//!   one holds.
//! - [`startup`] and [`health`]: wiring for the `fte-worker` binary and for
//!   `fte run` ([`startup::run`]).
//!
//! The worker talks to the agent through [`agent::ReplyAgent`], a narrow
//! mirror of the agent crate's interface, so tests script outcomes and the
//! binary adapts whichever agent it wires. It must not speak HTTP to
//! providers itself (senders live in `fte-channels`) nor write SQL (that is
//! `fte-store`), and it never holds a transaction across a network call
//! (the agent, Kafka, Gmail, a provider). Logs carry ids, channels and
//! durations, never addresses, numbers, names or message bodies.

mod accept;
pub mod agent;
pub mod agent_adapter;
pub mod alerts;
pub mod collector;
pub mod consumer;
pub mod context;
pub mod deferral;
pub mod disclosure;
mod error;
pub mod escalate;
pub mod events;
mod finish;
pub mod gmail_sync;
mod handle;
pub mod health;
pub mod identity;
mod outcome;
mod pre_agent;
pub mod rates;
pub mod reply;
pub mod retry;
pub mod schedule;
pub mod sender;
mod sequential;
pub mod stall;
pub mod startup;
mod transitions;
mod turn;

pub use context::{RepliesDue, WorkerConfig, WorkerContext};
pub use deferral::RATE_LIMIT_NOTICE;
pub use error::HandleError;
pub use handle::handle_event;
pub use outcome::{Action, Handled, Outcome};
pub use pre_agent::ESCALATED_ACKNOWLEDGEMENT;
