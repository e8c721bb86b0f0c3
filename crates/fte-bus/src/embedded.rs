//! The embedded broker: librdkafka's mock cluster on its own thread, with
//! every topic of the plan created, and the fault injection the tests and the
//! chaos harness use.
//!
//! A cluster can have several brokers (the scale harness runs three). The
//! mock cluster does not elect leaders when a broker goes down, so this
//! module does what a real cluster's controller does on a controlled
//! shutdown: it keeps track of which broker leads each partition and
//! coordinates each known consumer group, and before stopping a broker it
//! moves those to the brokers still up. Consumer group state lives in the
//! cluster, not in one broker, so a coordinator move keeps the group's
//! members and offsets.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::{MockCluster, MockCoordinator};

use crate::{BusError, topics};

/// The shape of an embedded cluster.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Brokers, with ids `1..=brokers`.
    pub brokers: i32,
    /// Partitions of every topic.
    pub partitions: i32,
    /// Consumer groups whose coordinator is pinned, so that stopping a
    /// broker can move it (groups not named are placed by the mock's hash and
    /// may sit on a stopped broker).
    pub groups: Vec<String>,
}

impl ClusterSpec {
    /// One broker, `partitions` per topic: what local runs and tests use.
    pub fn single(partitions: i32) -> Self {
        Self {
            brokers: 1,
            partitions,
            groups: Vec::new(),
        }
    }
}

/// Requests the embedded broker can be told to fail (fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultedRequest {
    /// Produce requests fail with `NOT_LEADER_FOR_PARTITION` (retriable:
    /// producers retry within their delivery timeout).
    Produce,
    /// Fetch requests fail with `NOT_LEADER_FOR_PARTITION` (consumers
    /// refresh metadata and fetch again).
    Fetch,
    /// Offset commits fail with `REQUEST_TIMED_OUT` (retriable).
    OffsetCommit,
}

type Reply = mpsc::Sender<Result<(), String>>;

enum Command {
    Stop,
    /// Every broker refuses connections (`true`) or accepts them again.
    SetAllDown(bool, Reply),
    /// One broker stops after handing its leaderships over.
    StopBroker(i32, Reply),
    /// A stopped broker accepts connections again.
    StartBroker(i32, Reply),
    FailRequests(FaultedRequest, usize, Reply),
}

/// Who leads what, as this module set it.
struct Placement {
    brokers: i32,
    up: Vec<bool>,
    leaders: BTreeMap<(&'static str, i32), i32>,
    coordinators: BTreeMap<String, i32>,
}

impl Placement {
    fn new(spec: &ClusterSpec) -> Self {
        let brokers = spec.brokers.max(1);
        let mut leaders = BTreeMap::new();
        for (t, topic) in topics::ALL.iter().enumerate() {
            for partition in 0..spec.partitions {
                // Spread leaderships over the brokers, as a real cluster does.
                let index = i32::try_from(t).unwrap_or(0) + partition;
                leaders.insert((*topic, partition), index.rem_euclid(brokers) + 1);
            }
        }
        let coordinators = spec
            .groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                let index = i32::try_from(i).unwrap_or(0);
                (group.clone(), index.rem_euclid(brokers) + 1)
            })
            .collect();
        Self {
            brokers,
            up: vec![true; usize::try_from(brokers).unwrap_or(1)],
            leaders,
            coordinators,
        }
    }

    fn index(&self, broker: i32) -> Result<usize, String> {
        if (1..=self.brokers).contains(&broker) {
            Ok(usize::try_from(broker - 1).unwrap_or(0))
        } else {
            Err(format!(
                "no broker {broker} (the cluster has brokers 1 to {})",
                self.brokers
            ))
        }
    }

    /// The brokers still up other than `leaving`, in id order.
    fn successors(&self, leaving: i32) -> Vec<i32> {
        (1..=self.brokers)
            .filter(|&b| b != leaving && self.up[usize::try_from(b - 1).unwrap_or(0)])
            .collect()
    }

    fn apply(&self, cluster: &MockCluster<'_, impl rdkafka::ClientContext>) -> Result<(), String> {
        for ((topic, partition), broker) in &self.leaders {
            set_leader(cluster, topic, *partition, *broker)?;
        }
        for (group, broker) in &self.coordinators {
            set_coordinator(cluster, group, *broker)?;
        }
        Ok(())
    }

    /// Moves what `leaving` leads or coordinates to the brokers still up
    /// (round robin), then marks it down. Refuses to stop the last broker up.
    fn stop(
        &mut self,
        leaving: i32,
        cluster: &MockCluster<'_, impl rdkafka::ClientContext>,
    ) -> Result<(), String> {
        let index = self.index(leaving)?;
        if !self.up[index] {
            return Ok(());
        }
        let successors = self.successors(leaving);
        if successors.is_empty() {
            return Err(format!(
                "broker {leaving} is the last one up; use `down` to stop the whole cluster"
            ));
        }
        let mut next = successors.iter().cycle();
        for ((topic, partition), broker) in &mut self.leaders {
            if *broker == leaving {
                let to = *next.next().unwrap_or(&successors[0]);
                set_leader(cluster, topic, *partition, to)?;
                *broker = to;
            }
        }
        for (group, broker) in &mut self.coordinators {
            if *broker == leaving {
                let to = *next.next().unwrap_or(&successors[0]);
                set_coordinator(cluster, group, to)?;
                *broker = to;
            }
        }
        cluster.broker_down(leaving).map_err(|e| e.to_string())?;
        self.up[index] = false;
        Ok(())
    }

    fn start(
        &mut self,
        broker: i32,
        cluster: &MockCluster<'_, impl rdkafka::ClientContext>,
    ) -> Result<(), String> {
        let index = self.index(broker)?;
        cluster.broker_up(broker).map_err(|e| e.to_string())?;
        self.up[index] = true;
        Ok(())
    }
}

fn set_leader(
    cluster: &MockCluster<'_, impl rdkafka::ClientContext>,
    topic: &str,
    partition: i32,
    broker: i32,
) -> Result<(), String> {
    cluster
        .partition_leader(topic, partition, Some(broker))
        .map_err(|e| e.to_string())
}

fn set_coordinator(
    cluster: &MockCluster<'_, impl rdkafka::ClientContext>,
    group: &str,
    broker: i32,
) -> Result<(), String> {
    cluster
        .coordinator(MockCoordinator::Group(group.to_owned()), broker)
        .map_err(|e| e.to_string())
}

/// A Kafka-protocol broker inside this process (librdkafka's mock cluster),
/// with every topic of the plan created. It lives on its own thread; dropping
/// the handle stops it and loses its contents.
pub struct EmbeddedBroker {
    servers: String,
    brokers: i32,
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a one-broker cluster and creates every topic with `partitions`.
    pub fn start(partitions: i32) -> Result<Self, BusError> {
        Self::start_cluster(ClusterSpec::single(partitions))
    }

    /// Starts a cluster of `spec.brokers` brokers, creates every topic (with
    /// a replication factor of up to three) and spreads the partition
    /// leaderships and the named groups' coordinators over the brokers.
    pub fn start_cluster(spec: ClusterSpec) -> Result<Self, BusError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, BusError>>();
        let (commands, command_rx) = mpsc::channel::<Command>();
        let brokers = spec.brokers.max(1);
        let partitions = spec.partitions;
        let thread = std::thread::Builder::new()
            .name("fte-embedded-broker".into())
            .spawn(move || {
                let cluster = match MockCluster::new(brokers) {
                    Ok(cluster) => cluster,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error.into()));
                        return;
                    }
                };
                for topic in topics::ALL {
                    if let Err(error) = cluster.create_topic(topic, spec.partitions, brokers.min(3))
                    {
                        let _ = ready_tx.send(Err(BusError::CreateTopic {
                            topic: topic.to_owned(),
                            reason: error.to_string(),
                        }));
                        return;
                    }
                }
                let mut placement = Placement::new(&spec);
                if brokers > 1
                    && let Err(reason) = placement.apply(&cluster)
                {
                    let _ = ready_tx.send(Err(BusError::Embedded(reason)));
                    return;
                }
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                serve(&cluster, &mut placement, &command_rx);
            })
            .map_err(|e| BusError::Embedded(e.to_string()))?;
        let servers = ready_rx.recv().map_err(|_| {
            BusError::Embedded("the broker thread stopped during start-up".into())
        })??;
        tracing::info!(bootstrap = %servers, brokers, partitions,
            "embedded Kafka-protocol broker started");
        Ok(Self {
            servers,
            brokers,
            commands,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:port[,127.0.0.1:port…]` of the brokers.
    pub fn bootstrap_servers(&self) -> &str {
        &self.servers
    }

    /// How many brokers the cluster has.
    pub fn brokers(&self) -> i32 {
        self.brokers
    }

    /// Takes every broker down (connections refused) or brings them back
    /// up: fault injection for tests and the chaos harness.
    pub fn set_down(&self, down: bool) -> Result<(), BusError> {
        self.ask(|reply| Command::SetAllDown(down, reply))
    }

    /// Stops broker `id` (1-based) the way a controlled shutdown does: its
    /// partition leaderships and group coordinators move to the brokers still
    /// up, then it refuses connections. Stopping the last broker up is refused.
    pub fn stop_broker(&self, id: i32) -> Result<(), BusError> {
        self.ask(|reply| Command::StopBroker(id, reply))
    }

    /// Lets a stopped broker accept connections again (leaderships stay
    /// where they moved).
    pub fn start_broker(&self, id: i32) -> Result<(), BusError> {
        self.ask(|reply| Command::StartBroker(id, reply))
    }

    /// The next `count` requests of kind `request` fail with a retriable
    /// error: fault injection for the chaos harness.
    pub fn fail_requests(&self, request: FaultedRequest, count: usize) -> Result<(), BusError> {
        self.ask(|reply| Command::FailRequests(request, count, reply))
    }

    fn ask(&self, command: impl FnOnce(Reply) -> Command) -> Result<(), BusError> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(command(tx))
            .map_err(|_| BusError::Embedded("the broker has stopped".into()))?;
        rx.recv()
            .map_err(|_| BusError::Embedded("the broker has stopped".into()))?
            .map_err(BusError::Embedded)
    }
}

/// The broker thread's loop: one command at a time until `Stop`.
fn serve(
    cluster: &MockCluster<'_, impl rdkafka::ClientContext>,
    placement: &mut Placement,
    commands: &mpsc::Receiver<Command>,
) {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    while let Ok(command) = commands.recv() {
        match command {
            Command::Stop => break,
            Command::SetAllDown(down, reply) => {
                // -1: every broker.
                let result = if down {
                    cluster.broker_down(-1)
                } else {
                    cluster.broker_up(-1)
                };
                if result.is_ok() {
                    placement.up.iter_mut().for_each(|up| *up = !down);
                }
                let _ = reply.send(result.map_err(|e| e.to_string()));
            }
            Command::StopBroker(id, reply) => {
                let _ = reply.send(placement.stop(id, cluster));
            }
            Command::StartBroker(id, reply) => {
                let _ = reply.send(placement.start(id, cluster));
            }
            Command::FailRequests(request, count, reply) => {
                let (key, error) = match request {
                    FaultedRequest::Produce => (
                        RDKafkaApiKey::Produce,
                        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    ),
                    FaultedRequest::Fetch => (
                        RDKafkaApiKey::Fetch,
                        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    ),
                    FaultedRequest::OffsetCommit => (
                        RDKafkaApiKey::OffsetCommit,
                        RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                    ),
                };
                cluster.request_errors(key, &vec![error; count]);
                let _ = reply.send(Ok(()));
            }
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaderships_spread_over_the_brokers_and_groups_get_coordinators() {
        let spec = ClusterSpec {
            brokers: 3,
            partitions: 4,
            groups: vec!["a".into(), "b".into(), "c".into()],
        };
        let placement = Placement::new(&spec);
        let mut per_broker = [0usize; 3];
        for broker in placement.leaders.values() {
            per_broker[usize::try_from(*broker - 1).unwrap()] += 1;
        }
        let total = topics::ALL.len() * 4;
        assert_eq!(per_broker.iter().sum::<usize>(), total);
        assert!(
            per_broker.iter().all(|&n| n >= total / 3 - 1),
            "{per_broker:?}"
        );
        let mut coordinators: Vec<i32> = placement.coordinators.values().copied().collect();
        coordinators.sort_unstable();
        assert_eq!(coordinators, [1, 2, 3]);
    }

    #[test]
    fn a_stopped_broker_leads_nothing_and_the_last_one_up_cannot_stop() {
        let spec = ClusterSpec {
            brokers: 3,
            partitions: 2,
            groups: vec!["g1".into(), "g2".into()],
        };
        let cluster = MockCluster::new(3).unwrap();
        for topic in topics::ALL {
            cluster.create_topic(topic, 2, 3).unwrap();
        }
        let mut placement = Placement::new(&spec);
        placement.apply(&cluster).unwrap();
        placement.stop(2, &cluster).unwrap();
        assert!(placement.leaders.values().all(|&b| b != 2));
        assert!(placement.coordinators.values().all(|&b| b != 2));
        placement.stop(1, &cluster).unwrap();
        assert!(placement.leaders.values().all(|&b| b == 3));
        let refused = placement.stop(3, &cluster).unwrap_err();
        assert!(refused.contains("last one up"), "{refused}");
        assert!(
            placement
                .stop(4, &cluster)
                .unwrap_err()
                .contains("no broker 4")
        );
        placement.start(2, &cluster).unwrap();
        placement.stop(3, &cluster).unwrap();
        assert!(placement.leaders.values().all(|&b| b == 2));
    }
}
