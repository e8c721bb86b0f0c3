//! `fte broker`: an embedded Kafka-protocol broker kept alive for other
//! processes. The broker binds a random loopback port, so its address is
//! written to `FTE_BROKER_ADDRESS_FILE` (default `.fte/broker.addr`), where
//! every other command looks when `KAFKA_BOOTSTRAP_SERVERS` is unset. The file
//! is removed on a clean stop; a stale file is detected and ignored.

use anyhow::Context;
use fte_bus::EmbeddedBroker;
use fte_runtime::settings::KafkaSettings;

/// Runs the broker until SIGTERM / Ctrl-C.
pub async fn run() -> anyhow::Result<()> {
    let settings = KafkaSettings::from_env()?;
    let shutdown = fte_runtime::shutdown::install();
    let broker =
        EmbeddedBroker::start(settings.topic_partitions).context("Failed to start the broker")?;
    let path = &settings.broker_address_file;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create {}", parent.display()))?;
    }
    // Write then rename, so a reader never sees half an address.
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, format!("{}\n", broker.bootstrap_servers()))
        .with_context(|| format!("Failed to write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("Failed to write {}", path.display()))?;
    println!("{}", broker.bootstrap_servers());
    tracing::info!(
        bootstrap = %broker.bootstrap_servers(),
        file = %path.display(),
        partitions = settings.topic_partitions,
        "broker ready"
    );
    shutdown.cancelled().await;
    let _ = std::fs::remove_file(path);
    drop(broker);
    tracing::info!("broker stopped");
    Ok(())
}
