//! Stuck partitions: a partition that holds unfinished messages and whose
//! committed offset has not moved for longer than
//! `WORKER_STUCK_PARTITION_SECS`.
//!
//! The consumer tells the [`LaneWatch`] when it reads a message of a
//! partition and when one is finished (handled or dead-lettered), and
//! whether that moved the partition's offset: messages of different
//! customers finish out of order, and the offset moves only once the oldest
//! unfinished one is done, so one message that hangs holds its partition's
//! offset however many others go by. With bounded retries no message should
//! hold an offset for longer than the retry budget; one that still does — a
//! step that hangs, a dependency that never answers — is reported three
//! ways: the in-process alert [`PARTITION_STUCK`] (an `alert_started` log
//! line, `degraded` in `/health`), `/ready` turning false, and the gauge
//! `fte_partition_stuck_seconds{group,partition}`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fte_runtime::alerts::Firing;
pub use fte_runtime::alerts::PARTITION_STUCK;

#[derive(Clone, Copy, Debug)]
struct Lane {
    /// Messages read and not finished.
    pending: usize,
    /// When the partition's offset last moved, or it became busy.
    moved_at: Instant,
}

/// Progress of each partition's lane in one consumer.
#[derive(Debug)]
pub struct LaneWatch {
    group: String,
    topic: String,
    stuck_after: Duration,
    lanes: Mutex<BTreeMap<i32, Lane>>,
}

/// A partition that holds messages and does not move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stuck {
    /// The partition.
    pub partition: i32,
    /// Messages waiting in its lane.
    pub pending: usize,
    /// Since its lane last moved.
    pub still_for: Duration,
}

impl LaneWatch {
    /// A watch of `group` on `topic` that calls a lane stuck after
    /// `stuck_after` without progress.
    pub fn new(group: impl Into<String>, topic: impl Into<String>, stuck_after: Duration) -> Self {
        Self {
            group: group.into(),
            topic: topic.into(),
            stuck_after,
            lanes: Mutex::new(BTreeMap::new()),
        }
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, BTreeMap<i32, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A message of `partition` was read.
    pub fn received(&self, partition: i32) {
        let mut lanes = self.lanes();
        let lane = lanes.entry(partition).or_insert(Lane {
            pending: 0,
            moved_at: Instant::now(),
        });
        if lane.pending == 0 {
            lane.moved_at = Instant::now();
        }
        lane.pending += 1;
    }

    /// A message of `partition` was finished (handled or dead-lettered);
    /// `advanced` when that moved the partition's offset.
    pub fn finished(&self, partition: i32, advanced: bool) {
        let mut lanes = self.lanes();
        if let Some(lane) = lanes.get_mut(&partition) {
            lane.pending = lane.pending.saturating_sub(1);
            if advanced {
                lane.moved_at = Instant::now();
            }
        }
    }

    /// `partition`'s messages will not be finished here (it was taken
    /// away, or the consumer stops): it no longer counts.
    pub fn forget(&self, partition: i32) {
        self.lanes().remove(&partition);
    }

    /// The partitions stuck now, and the gauge refreshed for every lane.
    pub fn stuck(&self) -> Vec<Stuck> {
        let lanes = self.lanes();
        let gauge = &fte_runtime::metrics::global().partition_stuck;
        let mut stuck = Vec::new();
        for (partition, lane) in lanes.iter() {
            let still_for = if lane.pending > 0 {
                lane.moved_at.elapsed()
            } else {
                Duration::ZERO
            };
            gauge
                .with_label_values(&[&self.group, &partition.to_string()])
                .set(i64::try_from(still_for.as_secs()).unwrap_or(i64::MAX));
            if lane.pending > 0 && still_for > self.stuck_after {
                stuck.push(Stuck {
                    partition: *partition,
                    pending: lane.pending,
                    still_for,
                });
            }
        }
        stuck
    }

    /// The stuck partitions as alerts for the alert book.
    pub fn firing(&self) -> Vec<Firing> {
        self.stuck()
            .into_iter()
            .map(|s| Firing {
                name: PARTITION_STUCK,
                scope: format!("{}/{}/{}", self.group, self.topic, s.partition),
                reason: format!(
                    "partition {} of {} holds {} message(s) and has not moved for {} s, above {} s",
                    s.partition,
                    self.topic,
                    s.pending,
                    s.still_for.as_secs(),
                    self.stuck_after.as_secs()
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_with_messages_that_does_not_move_is_stuck_and_one_that_moves_is_not() {
        let watch = LaneWatch::new("g", "t", Duration::from_millis(300));
        watch.received(0);
        watch.received(1);
        watch.finished(1, true);
        watch.received(2);
        watch.received(2);
        watch.received(4);
        watch.received(4);
        std::thread::sleep(Duration::from_millis(400));
        // Partition 2 finishes its oldest message: its offset moves.
        watch.finished(2, true);
        // Partition 4 finishes a newer message behind one that hangs.
        watch.finished(4, false);
        let stuck = watch.stuck();
        assert_eq!(stuck.len(), 2, "{stuck:?}");
        assert_eq!(stuck[0].partition, 0, "partition 1 is empty, 2 just moved");
        assert_eq!(stuck[0].pending, 1);
        assert_eq!(
            (stuck[1].partition, stuck[1].pending),
            (4, 1),
            "finishing out of order does not move an offset"
        );
        let firing = watch.firing();
        assert_eq!(firing[0].name, PARTITION_STUCK);
        assert_eq!(firing[0].scope, "g/t/0");
        watch.finished(0, true);
        watch.finished(2, true);
        watch.finished(4, true);
        assert!(watch.stuck().is_empty(), "all moved and are empty");
        watch.received(3);
        watch.forget(3);
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            watch.stuck().is_empty(),
            "a forgotten partition never counts"
        );
    }
}
