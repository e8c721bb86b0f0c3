//! # fte-fakes
//!
//! Stand-ins for the providers, for tests, the load and chaos harness and
//! the local run:
//!
//! - [`gmail::FakeGmail`]: the Gmail API and Google's token endpoint, with a
//!   mailbox whose history id moves like Gmail's;
//! - [`twilio::FakeTwilio`]: Twilio's Messages API;
//! - [`pubsub`]: a JWKS endpoint with test keys and a Pub/Sub push token signer;
//! - [`smtp::FakeSmtp`]: an SMTP relay that keeps what it receives;
//! - [`challenge::FakeChallenge`]: the web form's bot challenge (Turnstile
//!   and hCaptcha `siteverify`, and a browser script with their API);
//! - [`recording::RecordingSender`]: an in-memory `ReplySender`;
//! - `openai`: a fake OpenAI-compatible server (kept by the agent's owners);
//! - [`responder::FakeModel`]: an OpenAI-compatible model for load runs,
//!   answering every message in one turn after a configurable latency;
//! - [`admin`]: the binary's control plane (take Twilio down for N seconds).
//!
//! Every server binds `127.0.0.1:0`, returns its base URL, and has a handle to
//! inspect and steer it ([`faults::Faults`]: fail with a status, slow down,
//! accept then hang; `go_down`/`come_back`). The `fte-fakes` binary starts
//! them all and prints their URLs as JSON.
//!
//! Nothing here may be linked by production code paths: binaries use fakes
//! only in the local run. Test keys under `testdata/` protect nothing.

pub mod admin;
pub mod challenge;
pub mod faults;
pub mod gmail;
pub mod openai;
pub mod pubsub;
pub mod recording;
pub mod responder;
mod server;
pub mod smtp;
pub mod twilio;

pub use recording::{RecordingSender, guarded_recorders};
pub use server::FakeServer;
