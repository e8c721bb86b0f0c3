//! The at-least-once consumer of `fte.tickets.incoming`.
//!
//! One reader takes messages from the group's stream; each message becomes
//! a step of its own, run concurrently with the others (at most
//! `concurrency` at once). Order is kept where it matters: a customer's
//! messages share a key, and a message whose key already has a step in
//! progress waits behind it, so one customer's messages are handled one
//! after the other while other customers on the same partition go ahead
//! (with a model that thinks for a second, a lane per partition would answer
//! one customer per partition per second). The reader never blocks: a
//! partition with `lane_capacity` unfinished messages is paused and resumed
//! once half of them are done, so the consumer keeps polling and stays in
//! its group.
//!
//! Offsets are stored contiguously: only up to just before the oldest
//! message of the partition that is not finished, so a committed offset
//! never passes a message still being handled (or dead-lettered); a crash
//! redelivers everything after it and the step answers
//! [`Outcome::Duplicate`](crate::Outcome::Duplicate) for what was done.
//! Undecodable or permanently failing messages go to `fte.dlq` at once with
//! their origin, kind and reason in headers; transient failures (database
//! unreachable, agent down) are retried with backoff within a budget
//! ([`RetryPolicy`]: `WORKER_RETRY_MAX_ATTEMPTS`, `WORKER_RETRY_MAX_SECS`)
//! and then dead-lettered too, so no message holds its partition's offset
//! for longer than the budget; a partition whose offset still does not move
//! is reported by the [`LaneWatch`] (alert, `/ready`, gauge).
//!
//! On shutdown (SIGTERM: Kubernetes deleting the pod) the reader stops and
//! pauses every assigned partition, so nothing more is fetched; the steps in
//! progress finish (within the grace period) and no waiting one starts; the
//! offsets of what was handled are committed synchronously, the producer
//! flushed, and the consumer leaves its group. With the cooperative-sticky
//! assignment only this worker's partitions move, at once, and the worker
//! that takes them starts exactly after what this one committed. Only a
//! worker that dies without leaving (`kill -9`) is noticed after the
//! session timeout, and only its unfinished messages are redone.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use fte_bus::consumer as bus_consumer;
use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_domain::{EventEnvelope, InboundMessage};
use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, TopicPartitionList};
use tokio::sync::Semaphore;
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
    /// Messages handled at once, across partitions and keys
    /// (`WORKER_CONCURRENCY`).
    pub concurrency: usize,
    /// How long in-flight messages may take at shutdown.
    pub shutdown_grace: Duration,
    /// Retries of a transient failure (and the backoff of dead-letter
    /// publishing while the broker is away).
    pub retry: RetryPolicy,
    /// How often consumer lag is measured into `fte_kafka_consumer_lag`.
    pub lag_interval: Duration,
    /// Unfinished messages (in progress or waiting) of one partition at
    /// which it is paused; it resumes at half.
    pub lane_capacity: usize,
    /// Progress of each partition's committed offset (stuck partitions
    /// raise an alert and turn `/ready` false); shared with the probes and
    /// the alerts.
    pub lanes: Arc<LaneWatch>,
}

impl ConsumerConfig {
    /// Defaults for `group`: concurrency 64, 25 s grace, retries from
    /// 200 ms to 30 s apart, at most 10 attempts within 300 s, lag every
    /// 15 s, a partition paused at 64 unfinished messages, a partition stuck
    /// after 120 s without its offset moving.
    pub fn new(group: impl Into<String>) -> Self {
        let group = group.into();
        Self {
            lanes: Arc::new(LaneWatch::new(
                group.clone(),
                topics::TICKETS_INCOMING,
                Duration::from_secs(fte_runtime::settings::DEFAULT_STUCK_PARTITION_SECS),
            )),
            group,
            concurrency: fte_runtime::settings::DEFAULT_WORKER_CONCURRENCY,
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

/// Shared by the reader and the steps.
struct Shared {
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
    let shared = Arc::new(Shared {
        ctx,
        consumer: consumer.clone(),
        publisher: publisher.clone(),
        permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
        config: config.clone(),
        stop: shutdown.clone(),
    });
    let mut dispatcher = Dispatcher {
        shared,
        partitions: HashMap::new(),
        steps: JoinSet::new(),
    };
    let mut lag_tick = tokio::time::interval(config.lag_interval);
    let mut assignment_tick = tokio::time::interval(Duration::from_secs(1));
    {
        let mut stream = consumer.stream();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = lag_tick.tick() => measure_lag(&consumer, &config.group),
                _ = assignment_tick.tick() => record_assignment(&consumer, &config.group),
                Some(done) = dispatcher.steps.join_next(), if !dispatcher.steps.is_empty() => {
                    dispatcher.finished(done);
                }
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
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        while let Some(done) = dispatcher.steps.join_next().await {
            dispatcher.finished(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            grace_secs = config.shutdown_grace.as_secs(),
            "in-flight messages did not finish in time; they will be redelivered"
        );
        dispatcher.steps.abort_all();
    }
    for partition in dispatcher.partitions.keys() {
        config.lanes.forget(*partition);
    }
    drop(dispatcher);
    bus_consumer::commit_final(&consumer)?;
    publisher.flush(Duration::from_secs(10))?;
    consumer.unsubscribe();
    set_assigned(&config.group, 0);
    // Dropping the last handle closes the consumer: it leaves the group, so
    // its partitions move now rather than after the session timeout.
    drop(consumer);
    tracing::info!("consumer stopped and left its group");
    Ok(())
}

fn set_assigned(group: &str, partitions: usize) {
    fte_runtime::metrics::global()
        .kafka_assigned_partitions
        .with_label_values(&[group, topics::TICKETS_INCOMING])
        .set(i64::try_from(partitions).unwrap_or(i64::MAX));
}

/// Sets `fte_kafka_assigned_partitions` from the consumer's assignment (a
/// local call: no request to the broker).
fn record_assignment(consumer: &StreamConsumer, group: &str) {
    match consumer.assignment() {
        Ok(assignment) => {
            let held = assignment
                .elements_for_topic(topics::TICKETS_INCOMING)
                .len();
            set_assigned(group, held);
        }
        Err(error) => tracing::debug!(%error, "assignment not read"),
    }
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

/// What a step reports when it ends.
struct Done {
    partition: i32,
    offset: i64,
    key: Option<Vec<u8>>,
    /// Handled or dead-lettered: its offset may be committed. `false` when
    /// shutdown came first (not started, or stopped mid-retry).
    settled: bool,
}

/// What the reader knows of one partition.
#[derive(Default)]
struct Partition {
    /// Offsets read and not settled, oldest first: the oldest bounds what
    /// may be committed.
    unsettled: BTreeSet<i64>,
    /// The newest offset read.
    newest: Option<i64>,
    /// The offset last stored for commit (or just before the one reading
    /// started at).
    stored: Option<i64>,
    /// Keys with a step in progress, each with the messages waiting behind
    /// it, in order.
    busy: HashMap<Vec<u8>, VecDeque<OwnedMessage>>,
    paused: bool,
}

impl Partition {
    /// Books `offset` as read and not settled.
    fn read(&mut self, offset: i64) {
        if self.newest.is_none_or(|newest| offset <= newest) {
            // The first message, or one read again from an earlier offset
            // (the partition was taken away and given back before its next
            // owner committed past this): reading starts at the committed
            // offset, so everything before it counts as stored, and what
            // this reader stored or read before says nothing any more.
            self.newest = None;
            self.stored = Some(offset - 1);
        }
        self.unsettled.insert(offset);
        self.newest = Some(self.newest.map_or(offset, |newest| newest.max(offset)));
    }

    /// Books `offset` as settled; the offset to store, when everything up
    /// to a newer one than the last stored is now settled.
    fn settle(&mut self, offset: i64) -> Option<i64> {
        self.unsettled.remove(&offset);
        let committable = match self.unsettled.first() {
            Some(oldest) => Some(oldest - 1).filter(|o| *o >= 0),
            None => self.newest,
        }?;
        self.stored
            .is_none_or(|stored| committable > stored)
            .then_some(committable)
    }
}

/// Turns messages into steps without ever blocking the poll loop
/// (librdkafka must be polled at least every `max.poll.interval.ms` or the
/// consumer leaves its group), keeps each key's messages in order, and
/// stores each partition's offset as far as it is settled.
struct Dispatcher {
    shared: Arc<Shared>,
    partitions: HashMap<i32, Partition>,
    steps: JoinSet<Done>,
}

impl Dispatcher {
    fn dispatch(&mut self, message: OwnedMessage) {
        let (number, offset) = (message.partition(), message.offset());
        self.shared.config.lanes.received(number);
        let capacity = self.shared.config.lane_capacity.max(1);
        let partition = self.partitions.entry(number).or_default();
        partition.read(offset);
        let key = message.key().map(<[u8]>::to_vec);
        let ready = match &key {
            // A message without a key (none is produced so) waits for no one.
            None => Some(message),
            Some(key) => match partition.busy.get_mut(key) {
                Some(waiting) => {
                    waiting.push_back(message);
                    None
                }
                None => {
                    partition.busy.insert(key.clone(), VecDeque::new());
                    Some(message)
                }
            },
        };
        let pause = !partition.paused && partition.unsettled.len() >= capacity;
        if pause {
            partition.paused = true;
        }
        if let Some(message) = ready {
            self.start(message, key);
        }
        if pause {
            self.set_paused(number, true);
        }
    }

    fn start(&mut self, message: OwnedMessage, key: Option<Vec<u8>>) {
        let shared = self.shared.clone();
        self.steps.spawn(async move {
            let settled = step(&shared, &message).await;
            Done {
                partition: message.partition(),
                offset: message.offset(),
                key,
                settled,
            }
        });
    }

    /// Books a step's end: the partition's offset moves as far as it is
    /// settled, and the next message of the same key starts.
    fn finished(&mut self, done: Result<Done, tokio::task::JoinError>) {
        let done = match done {
            Ok(done) => done,
            // Only an aborted step (the grace period ran out) or a panic
            // ends so; its offset stays unsettled and it is redelivered.
            Err(error) => {
                tracing::error!(%error, "a message step ended abnormally");
                return;
            }
        };
        let stopping = self.shared.stop.is_cancelled();
        let capacity = self.shared.config.lane_capacity.max(1);
        let Some(partition) = self.partitions.get_mut(&done.partition) else {
            return;
        };
        let mut advanced = false;
        if done.settled {
            if let Some(offset) = partition.settle(done.offset) {
                match self.shared.consumer.store_offset(
                    topics::TICKETS_INCOMING,
                    done.partition,
                    offset,
                ) {
                    Ok(()) => {
                        partition.stored = Some(offset);
                        advanced = true;
                    }
                    // The partition was taken away: its new owner goes on
                    // from the committed offset.
                    Err(error) => {
                        tracing::warn!(%error, partition = done.partition, "offset not stored");
                    }
                }
            }
            self.shared.config.lanes.finished(done.partition, advanced);
        }
        let next = done.key.as_ref().and_then(|key| {
            let waiting = partition.busy.get_mut(key)?;
            let next = if stopping || !done.settled {
                // Not started: unsettled, so redelivered to the next owner.
                waiting.clear();
                None
            } else {
                waiting.pop_front()
            };
            if next.is_none() {
                partition.busy.remove(key);
            }
            next
        });
        let resume = partition.paused && !stopping && partition.unsettled.len() <= capacity / 2;
        if resume {
            partition.paused = false;
        }
        if let Some(message) = next {
            self.start(message, done.key);
        }
        if resume {
            self.set_paused(done.partition, false);
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

/// One message's step: waits for a permit (or shutdown), then handles it;
/// `true` when its offset may be committed.
async fn step(shared: &Shared, message: &OwnedMessage) -> bool {
    let permit = tokio::select! {
        biased;
        () = shared.stop.cancelled() => return false,
        permit = shared.permits.clone().acquire_owned() => permit,
    };
    let Ok(_permit) = permit else {
        return false;
    };
    if shared.stop.is_cancelled() {
        return false;
    }
    process(shared, message).await
}

/// Handles one message; `true` when its offset may be stored (handled or
/// dead-lettered), `false` when shutdown interrupted a retry.
async fn process(shared: &Shared, message: &OwnedMessage) -> bool {
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
async fn dead_letter(shared: &Shared, message: &OwnedMessage, kind: &str, reason: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::Partition;

    /// Settles `offset` and stores what it allows, as the dispatcher does.
    fn settle(partition: &mut Partition, offset: i64) -> Option<i64> {
        let store = partition.settle(offset);
        if store.is_some() {
            partition.stored = store;
        }
        store
    }

    #[test]
    fn the_stored_offset_waits_for_the_oldest_unsettled_message() {
        let mut partition = Partition::default();
        for offset in 10..14 {
            partition.read(offset);
        }
        // 11 and 12 finish before 10: nothing may be committed yet.
        assert_eq!(settle(&mut partition, 11), None);
        assert_eq!(settle(&mut partition, 12), None);
        // 10 finishes: everything up to 12 is settled, 13 still runs.
        assert_eq!(settle(&mut partition, 10), Some(12));
        assert_eq!(settle(&mut partition, 13), Some(13));
        // Settling again moves nothing backwards.
        partition.read(14);
        partition.read(15);
        assert_eq!(settle(&mut partition, 15), None);
        assert_eq!(settle(&mut partition, 14), Some(15));
    }

    #[test]
    fn a_partition_read_again_from_earlier_forgets_what_it_had_stored() {
        let mut partition = Partition::default();
        for offset in 0..6 {
            partition.read(offset);
            assert_eq!(settle(&mut partition, offset), Some(offset));
        }
        // Given back from offset 3: storing 5 again before 3 and 4 are
        // handled would skip them.
        partition.read(3);
        partition.read(4);
        assert_eq!(settle(&mut partition, 4), None);
        assert_eq!(settle(&mut partition, 3), Some(4));
    }

    #[test]
    fn offset_zero_unsettled_allows_no_commit() {
        let mut partition = Partition::default();
        partition.read(0);
        partition.read(1);
        assert_eq!(settle(&mut partition, 1), None);
        assert_eq!(settle(&mut partition, 0), Some(1));
    }
}
