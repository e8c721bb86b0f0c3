//! The at-least-once consumer of `fte.tickets.incoming`.
//!
//! One reader takes messages from the group's stream and hands each to the
//! lane of its partition: a task that processes that partition's messages
//! one after the other (a customer's messages share a key, hence a
//! partition, hence stay in order), while lanes of different partitions
//! run concurrently, at most `concurrency` steps at once. The reader never
//! blocks on a busy lane: a partition whose lane is full is paused and
//! resumed once the lane has room, so the consumer keeps polling and stays
//! in its group.
//!
//! A lane stores a message's offset only after [`handle_event`] committed
//! (or the message was dead-lettered): a crash in between redelivers it and
//! the step answers [`Outcome::Duplicate`](crate::Outcome::Duplicate).
//! Undecodable or permanently failing messages go to `fte.dlq` at once with
//! their origin, kind and reason in headers; transient failures (database
//! unreachable, agent down) are retried with backoff within a budget
//! ([`RetryPolicy`]: `WORKER_RETRY_MAX_ATTEMPTS`, `WORKER_RETRY_MAX_SECS`)
//! and then dead-lettered too, so no message holds its partition for
//! longer than the budget; a lane that still does not move is reported
//! by the [`LaneWatch`] (alert, `/ready`, gauge).
//!
//! On shutdown (SIGTERM: Kubernetes deleting the pod) the reader stops and
//! pauses every assigned partition, so nothing more is fetched; each lane
//! finishes the message it holds (within the grace period) and starts no
//! other; the offsets of what was handled are committed synchronously, the
//! producer flushed, and the consumer leaves its group. With the
//! cooperative-sticky assignment only this worker's partitions move, at
//! once, and the worker that takes them starts exactly after what this
//! one handled: nothing is redone. Only a worker that dies without
//! leaving (`kill -9`) is noticed after the session timeout, and only its
//! unfinished messages are redone.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use fte_bus::consumer as bus_consumer;
use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_domain::{EventEnvelope, InboundMessage};
use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, TopicPartitionList};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use crate::error::ConsumerError;
use crate::retry::{Ended, RetryPolicy};
use crate::stall::LaneWatch;
use crate::{HandleError, WorkerContext, handle_event};

/// How the consumer runs.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    /// The consumer group (`KAFKA_CONSUMER_GROUP`).
    pub group: String,
    /// Steps running at once across partitions (`WORKER_CONCURRENCY`).
    pub concurrency: usize,
    /// How long in-flight messages may take at shutdown.
    pub shutdown_grace: Duration,
    /// Retries of a transient failure (and the backoff of dead-letter
    /// publishing while the broker is away).
    pub retry: RetryPolicy,
    /// How often consumer lag is measured into `fte_kafka_consumer_lag`.
    pub lag_interval: Duration,
    /// Messages queued per partition before the partition is paused.
    pub lane_capacity: usize,
    /// Progress of each partition's lane (stuck partitions raise an alert
    /// and turn `/ready` false); shared with the probes and the alerts.
    pub lanes: Arc<LaneWatch>,
}

impl ConsumerConfig {
    /// Defaults for `group`: concurrency 8, 25 s grace, retries from
    /// 200 ms to 30 s apart, at most 10 attempts within 300 s, lag every
    /// 15 s, 64 queued messages per partition, a partition stuck after
    /// 120 s without progress.
    pub fn new(group: impl Into<String>) -> Self {
        let group = group.into();
        Self {
            lanes: Arc::new(LaneWatch::new(
                group.clone(),
                topics::TICKETS_INCOMING,
                Duration::from_secs(fte_runtime::settings::DEFAULT_STUCK_PARTITION_SECS),
            )),
            group,
            concurrency: 8,
            shutdown_grace: Duration::from_secs(25),
            retry: RetryPolicy {
                base: Duration::from_millis(200),
                max_delay: Duration::from_secs(30),
                max_attempts: fte_runtime::settings::DEFAULT_RETRY_MAX_ATTEMPTS,
                max_elapsed: Duration::from_secs(fte_runtime::settings::DEFAULT_RETRY_MAX_SECS),
            },
            lag_interval: Duration::from_secs(15),
            lane_capacity: 64,
        }
    }
}

/// Shared by the reader and the lanes.
struct Lanes {
    ctx: WorkerContext,
    consumer: Arc<StreamConsumer>,
    publisher: KafkaPublisher,
    config: ConsumerConfig,
    permits: Arc<Semaphore>,
    stop: CancellationToken,
}

/// Consumes until `shutdown` is cancelled, then drains and commits.
pub async fn run(
    ctx: WorkerContext,
    bootstrap: &Bootstrap,
    publisher: KafkaPublisher,
    config: ConsumerConfig,
    shutdown: CancellationToken,
) -> Result<(), ConsumerError> {
    let consumer = Arc::new(bus_consumer::at_least_once(
        bootstrap,
        &config.group,
        &[topics::TICKETS_INCOMING],
    )?);
    tracing::info!(group = %config.group, concurrency = config.concurrency, "consumer started");
    let shared = Arc::new(Lanes {
        ctx,
        consumer: consumer.clone(),
        publisher: publisher.clone(),
        permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
        config: config.clone(),
        stop: shutdown.clone(),
    });
    let mut dispatcher = Dispatcher {
        shared,
        lanes: HashMap::new(),
        held: HashMap::new(),
        tasks: JoinSet::new(),
    };
    let mut lag_tick = tokio::time::interval(config.lag_interval);
    let mut release_tick = tokio::time::interval(Duration::from_millis(50));
    {
        let mut stream = consumer.stream();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = lag_tick.tick() => measure_lag(&consumer, &config.group),
                _ = release_tick.tick(), if !dispatcher.held.is_empty() => dispatcher.release_held(),
                next = stream.next() => match next {
                    None => break,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "kafka consumer error");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Some(Ok(message)) => dispatcher.dispatch(message.detach()),
                },
            }
        }
    }
    tracing::info!("consumer stopping: finishing in-flight messages");
    if let Err(error) = bus_consumer::stop_fetching(&consumer) {
        tracing::warn!(%error, "partitions not paused for the drain");
    }
    let Dispatcher {
        lanes, mut tasks, ..
    } = dispatcher;
    drop(lanes);
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            grace_secs = config.shutdown_grace.as_secs(),
            "in-flight messages did not finish in time; they will be redelivered"
        );
        tasks.abort_all();
    }
    bus_consumer::commit_final(&consumer)?;
    publisher.flush(Duration::from_secs(10))?;
    consumer.unsubscribe();
    // Dropping the last handle closes the consumer: it leaves the group, so
    // its partitions move now rather than after the session timeout.
    drop(consumer);
    tracing::info!("consumer stopped and left its group");
    Ok(())
}

fn measure_lag(consumer: &Arc<StreamConsumer>, group: &str) {
    let consumer = consumer.clone();
    let group = group.to_owned();
    // librdkafka's metadata calls block.
    tokio::task::spawn_blocking(move || {
        if let Err(error) = bus_consumer::measure_lag(
            &consumer,
            &group,
            topics::TICKETS_INCOMING,
            Duration::from_secs(5),
        ) {
            tracing::debug!(%error, "consumer lag not measured");
        }
    });
}

/// Hands messages to partition lanes without ever blocking the poll loop
/// (librdkafka must be polled at least every `max.poll.interval.ms` or the
/// consumer leaves its group): a partition whose lane is full is paused and
/// its messages are held, in order, until the lane has room.
struct Dispatcher {
    shared: Arc<Lanes>,
    lanes: HashMap<i32, mpsc::Sender<OwnedMessage>>,
    held: HashMap<i32, VecDeque<OwnedMessage>>,
    tasks: JoinSet<()>,
}

impl Dispatcher {
    fn lane(&mut self, partition: i32) -> mpsc::Sender<OwnedMessage> {
        self.lanes
            .entry(partition)
            .or_insert_with(|| {
                let (tx, rx) = mpsc::channel(self.shared.config.lane_capacity.max(1));
                self.tasks.spawn(lane(self.shared.clone(), rx));
                tx
            })
            .clone()
    }

    fn dispatch(&mut self, message: OwnedMessage) {
        let partition = message.partition();
        self.shared.config.lanes.received(partition);
        if let Some(queue) = self.held.get_mut(&partition) {
            queue.push_back(message);
            return;
        }
        match self.lane(partition).try_send(message) {
            Ok(()) => {}
            Err(TrySendError::Full(message)) => {
                self.set_paused(partition, true);
                self.held.insert(partition, VecDeque::from([message]));
            }
            // A lane closes only while stopping; the message is redelivered.
            Err(TrySendError::Closed(_)) => {
                self.lanes.remove(&partition);
                self.shared.config.lanes.forget(partition);
            }
        }
    }

    fn release_held(&mut self) {
        let partitions: Vec<i32> = self.held.keys().copied().collect();
        for partition in partitions {
            let lane = self.lane(partition);
            let Some(queue) = self.held.get_mut(&partition) else {
                continue;
            };
            while let Some(message) = queue.pop_front() {
                match lane.try_send(message) {
                    Ok(()) => {}
                    Err(TrySendError::Full(message)) => {
                        queue.push_front(message);
                        break;
                    }
                    Err(TrySendError::Closed(_)) => {
                        queue.clear();
                        break;
                    }
                }
            }
            if queue.is_empty() {
                self.held.remove(&partition);
                self.set_paused(partition, false);
            }
        }
    }

    fn set_paused(&self, partition: i32, paused: bool) {
        let mut list = TopicPartitionList::new();
        list.add_partition(topics::TICKETS_INCOMING, partition);
        let result = if paused {
            self.shared.consumer.pause(&list)
        } else {
            self.shared.consumer.resume(&list)
        };
        match result {
            Ok(()) => tracing::debug!(partition, paused, "partition flow control"),
            Err(error) => tracing::warn!(partition, paused, %error, "cannot change partition flow"),
        }
    }
}

/// One partition's messages, in order.
async fn lane(shared: Arc<Lanes>, mut rx: mpsc::Receiver<OwnedMessage>) {
    while let Some(message) = rx.recv().await {
        if shared.stop.is_cancelled() {
            // Not started: its offset stays unstored and it is redelivered.
            break;
        }
        let Ok(_permit) = shared.permits.clone().acquire_owned().await else {
            break;
        };
        if process(&shared, &message).await {
            shared.config.lanes.finished(message.partition());
            if let Err(error) =
                shared
                    .consumer
                    .store_offset(message.topic(), message.partition(), message.offset())
            {
                tracing::warn!(%error, partition = message.partition(), "offset not stored");
            }
        } else {
            // Stopped while retrying: leave this and later offsets unstored.
            break;
        }
    }
}

/// Handles one message; `true` when its offset may be stored (handled or
/// dead-lettered), `false` when shutdown interrupted a retry.
async fn process(shared: &Lanes, message: &OwnedMessage) -> bool {
    let event: EventEnvelope<InboundMessage> =
        match serde_json::from_slice(message.payload().unwrap_or_default()) {
            Ok(event) => event,
            Err(_) => {
                let reason = "the payload is not a ticket.inbound event";
                return dead_letter(shared, message, "undecodable", reason).await;
            }
        };
    let retried = shared
        .config
        .retry
        .run(
            &shared.stop,
            || handle_event(&shared.ctx, &event),
            HandleError::is_transient,
            |error, attempt, delay| {
                tracing::warn!(
                    partition = message.partition(),
                    offset = message.offset(),
                    error.kind = error.kind(),
                    error = %error,
                    attempt,
                    retry_in_ms = delay.as_millis() as u64,
                    "transient failure; retrying"
                );
            },
        )
        .await;
    match retried.ended(HandleError::reason) {
        Ended::Done(_) => true,
        Ended::Stopped => false,
        Ended::Failed(error, reason) => {
            tracing::error!(
                partition = message.partition(),
                offset = message.offset(),
                error.kind = error.kind(),
                error = %error,
                "message cannot be processed; dead-lettering it"
            );
            dead_letter(shared, message, error.kind(), &reason).await
        }
    }
}

/// Copies the message to `fte.dlq` with its origin, `kind` and `reason`;
/// `true` once it is there.
async fn dead_letter(shared: &Lanes, message: &OwnedMessage, kind: &str, reason: &str) -> bool {
    crate::sequential::dead_letter(
        &shared.publisher,
        &shared.config.retry,
        message,
        None,
        kind,
        reason,
        &shared.stop,
    )
    .await
}
