//! # fte-gateway
//!
//! The HTTP edge of the system (axum). It verifies every inbound message,
//! stores what must be queryable at once, and answers "accepted" only once
//! the message is durable. It also serves the staff API, the embeddable web
//! form, the OpenAPI document and the operators' probes.
//!
//! - [`router`] builds the whole application from an [`AppState`]; tests call
//!   it through [`startup::serve`].
//! - [`startup`] is the one place that wires real dependencies (pool,
//!   publisher, webhook verification) from settings, and starts the outbox
//!   relay.
//! - [`extract`] and [`auth`] hold the verifying extractors (`TwilioForm`,
//!   `PubSubPush`, `StaffAuth`): handlers cannot forget verification.
//! - [`error`] is the one error type (`ApiError`) and the `AppJson` wrapper.
//! - [`routes`]: `support` (web form submit), `ticket` (a ticket's status,
//!   and its thread for the holder of its access key), `thread` (the
//!   customer's follow-ups), `webhooks`, `staff`, `widget` (the script, its
//!   configuration, the demo page, the favicon), `probes`, `metrics`
//!   (`GET /metrics/summary`, and the monitor that evaluates the in-process
//!   alerts `/health` reports as `degraded`).
//! - [`ticket_access`]: the per-ticket access key of web form tickets;
//!   [`challenge`]: the web form's bot challenge; [`estimate`]: the response
//!   estimate from the current queue and escalation state.
//!
//! ## Durability: what a 2xx means
//!
//! - **Web form** (`POST /support/submit`): the ticket and its access row
//!   (which hold the whole submission: sender, subject, message) commit in
//!   one PostgreSQL transaction, group-committed with other submissions
//!   ([`submit`]), together with the batch's row of tickets still to
//!   publish; then the events are published at once. If Kafka is down, the
//!   request still answers 200: the committed rows *are* the durability
//!   guarantee, and the relay ([`outbox::relay`], every second, `for update
//!   skip locked`) rebuilds the events from them and publishes them when the
//!   broker is back. A crash between commit and publish is covered the same
//!   way, so a 200 is never lost and a ticket is never orphaned. The
//!   customer can follow the ticket immediately because it is already in
//!   the database; the worker resolves the customer and stores the message
//!   when it takes the event.
//! - **Web form follow-ups** (`POST /support/ticket/{id}/messages`): the
//!   same path — the message and its outbox events commit together, then
//!   publish — answered 202 once committed.
//! - **Webhooks** (WhatsApp, Gmail): 200 only after Kafka acknowledged the
//!   message (acks=all); otherwise 503 + Retry-After and the provider
//!   retries. The WhatsApp receipt (dedupe by `MessageSid`) is inserted in a
//!   transaction committed only after the publish, so nothing is
//!   half-written.
//!
//! Delivery to the worker is at-least-once; it deduplicates on the channel
//! message id (the web form's is the ticket id).
//!
//! It never links the agent and never talks to providers' send APIs: replies
//! are the worker's job. Logs carry ids, routes and reason kinds — never
//! names, addresses, phone numbers, bodies or secrets.

pub mod auth;
pub mod challenge;
pub mod error;
pub mod estimate;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod local;
pub mod middleware;
pub mod openapi;
pub mod outbox;
pub mod ratelimit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod submit;
pub mod ticket_access;

pub use error::ApiError;
pub use routes::router;
pub use state::AppState;
