//! The `fte-worker` binary (wired in `startup`).
fn main() {}
