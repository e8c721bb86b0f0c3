//! The loop shared by the worker's one-message-at-a-time consumers (the
//! Gmail sync and the metrics collector): poll, handle, store the offset
//! only once the message was handled, copy what cannot be handled to the
//! dead-letter topic, and stop cleanly with a final commit.

use std::time::Duration;

use fte_bus::KafkaPublisher;
use fte_bus::consumer as bus_consumer;
use futures::StreamExt;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use tokio_util::sync::CancellationToken;

use crate::error::ConsumerError;
use crate::retry::RetryPolicy;

/// Consumes until `shutdown`. `handle` returns `true` when the message's
/// offset may be stored; `false` means it stopped mid-retry (shutdown), so
/// the loop ends and the message is redelivered to the next owner. With
/// `tick`, `on_tick` runs at that interval beside the loop.
pub(crate) async fn run<H>(
    consumer: &StreamConsumer,
    shutdown: &CancellationToken,
    tick: Option<Duration>,
    mut on_tick: impl FnMut(),
    mut handle: impl FnMut(OwnedMessage) -> H,
) -> Result<(), ConsumerError>
where
    H: Future<Output = bool>,
{
    let mut ticker = tick.map(tokio::time::interval);
    {
        let mut stream = consumer.stream();
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => break,
                _ = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => {
                    on_tick();
                    continue;
                }
                next = stream.next() => match next {
                    None => break,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "kafka consumer error");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    Some(Ok(message)) => message.detach(),
                },
            };
            let (topic, partition, offset) = (
                message.topic().to_owned(),
                message.partition(),
                message.offset(),
            );
            if !handle(message).await {
                break;
            }
            if let Err(error) = consumer.store_offset(&topic, partition, offset) {
                tracing::warn!(%error, partition, "offset not stored");
            }
        }
    }
    bus_consumer::commit_final(consumer)?;
    consumer.unsubscribe();
    Ok(())
}

/// Waits `delay`; `false` when shutdown came first.
pub(crate) async fn pause(shutdown: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(delay) => true,
    }
}

/// Copies `message` to `fte.dlq` with its origin, its error `kind` and a
/// readable, content-free `reason`, retrying with backoff while the broker
/// does not take it; `true` once it is there, `false` when shutdown came
/// first. `key_from` replaces the message key as
/// [`bus_consumer::dead_letter`] describes. Every consumer of the worker
/// dead-letters through here.
pub(crate) async fn dead_letter(
    publisher: &KafkaPublisher,
    retry: &RetryPolicy,
    message: &OwnedMessage,
    key_from: Option<&str>,
    kind: &str,
    reason: &str,
    shutdown: &CancellationToken,
) -> bool {
    let mut delay = retry.base;
    loop {
        match bus_consumer::dead_letter(publisher, message, key_from, kind, reason).await {
            Ok(()) => {
                tracing::warn!(
                    topic = message.topic(),
                    partition = message.partition(),
                    offset = message.offset(),
                    error.kind = kind,
                    "message dead-lettered"
                );
                return true;
            }
            Err(publish_error) => {
                tracing::warn!(%publish_error, "dead-letter queue unavailable; retrying");
                if !pause(shutdown, delay).await {
                    return false;
                }
                delay = (delay * 2).min(retry.max_delay);
            }
        }
    }
}
