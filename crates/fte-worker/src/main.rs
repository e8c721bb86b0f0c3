//! `fte-worker`: the message processor as its own process. Reads settings
//! from the environment, connects, runs until SIGTERM, then drains.

use anyhow::Context;
use fte_runtime::telemetry::{self, LogSettings};
use fte_worker::startup::{self, Worker};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init(&LogSettings::from_env()?);
    let shutdown = fte_runtime::shutdown::install();
    let worker = Worker::from_env()
        .await
        .context("Failed to start the worker")?;
    startup::run(worker, shutdown)
        .await
        .context("The worker stopped with an error")
}
