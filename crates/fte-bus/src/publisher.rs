//! The durable publisher: `publish` returns only after the broker has
//! acknowledged the message from all in-sync replicas (acks=all), with
//! idempotence on so retries inside librdkafka never duplicate or reorder.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use serde::Serialize;

use crate::{Bootstrap, BusError};

/// Where an acknowledged message landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
}

/// A Kafka producer tuned for durable, low-latency single publishes.
#[derive(Clone)]
pub struct KafkaPublisher {
    producer: FutureProducer,
    timeout: Duration,
}

impl KafkaPublisher {
    /// Creates the producer. Nothing is sent until the first publish.
    pub fn new(bootstrap: &Bootstrap) -> Result<Self, BusError> {
        let settings = bootstrap.settings();
        let mut config = bootstrap.client_config();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", settings.linger_ms.to_string())
            .set(
                "message.timeout.ms",
                settings.delivery_timeout_ms.to_string(),
            )
            .set(
                "request.timeout.ms",
                settings.delivery_timeout_ms.min(30_000).to_string(),
            )
            .set("socket.connection.setup.timeout.ms", "3000")
            .set("reconnect.backoff.max.ms", "1000");
        let producer: FutureProducer = config.create()?;
        Ok(Self {
            producer,
            timeout: Duration::from_millis(u64::from(settings.delivery_timeout_ms)),
        })
    }

    /// Publishes `payload` under `key` and waits for the acknowledgement.
    pub async fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Delivery, BusError> {
        let mut owned = OwnedHeaders::new_with_capacity(headers.len());
        for (name, value) in headers {
            owned = owned.insert(Header {
                key: name,
                value: Some(*value),
            });
        }
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(payload)
            .headers(owned);
        // The queue timeout bounds waiting for space in librdkafka's local
        // queue; `message.timeout.ms` bounds the delivery itself.
        match self.producer.send(record, self.timeout).await {
            Ok(delivery) => Ok(Delivery {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Err((error, _message)) => Err(BusError::Kafka(error)),
        }
    }

    /// Serialises `event` as JSON and publishes it.
    pub async fn publish_json<T: Serialize>(
        &self,
        topic: &str,
        key: &str,
        event: &T,
    ) -> Result<Delivery, BusError> {
        let payload = serde_json::to_vec(event).map_err(|e| BusError::Encode(e.to_string()))?;
        self.publish(topic, key, &payload, &[]).await
    }

    /// Waits until every queued message is acknowledged (used at shutdown).
    pub fn flush(&self, timeout: Duration) -> Result<(), BusError> {
        self.producer.flush(timeout).map_err(BusError::Kafka)
    }

    /// Asks the cluster for metadata: the health check. Runs off the async
    /// threads because librdkafka's call blocks.
    pub async fn check(&self, timeout: Duration) -> Result<(), BusError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(crate::topics::TICKETS_INCOMING), timeout)
                .map(|_| ())
                .map_err(BusError::Kafka)
        })
        .await
        .map_err(|_| BusError::Timeout(timeout))?
    }
}
