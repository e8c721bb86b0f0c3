//! # fte-fakes
//!
//! Provider fakes for tests, the load and chaos harness and the local run.
//! Filled in by the next commit.
