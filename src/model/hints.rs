//! Hinted handoff's store: the hints each coordinator holds for replicas that missed a
//! write, one FIFO queue per (coordinator, replica), the overload drops and the
//! accounting. The world decides when a replica missed a write, asks for replays and
//! applies them (`world::paths`); this module only keeps hints and counts.
//!
//! Modelling choices (docs/repair-paths.md):
//! - A hint is stored when the write's deadline passes without the replica's
//!   acknowledgement: its replication message was lost, the replica was down or cut
//!   off, or the message arrived after the deadline.
//! - No hint is stored for a replica that has been down longer than the hint window
//!   (Cassandra's `max_hint_window`, 3 h by default).
//! - A hint is dropped instead of stored with a fixed probability (an overloaded
//!   coordinator), drawn from its own stream (`StreamId::HintDrops`).
//! - Hints live on the coordinator until replayed: a crash of the coordinator loses
//!   every hint it holds (hints not yet flushed, or a node replaced after a crash).
//! - Each stored hint costs the record plus a message header, on the coordinator's
//!   storage while held and on the network when replayed.

use super::paths::HintConfig;
use super::{Key, NodeId, Version};
use crate::sim::{SimTime, StreamId, stream};
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use std::collections::{BTreeMap, VecDeque};

/// One stored hint: `version` of `key`, owed to the queue's replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint {
    pub key: Key,
    pub version: Version,
    /// The first instant it may be replayed (stored + replay delay).
    pub due: SimTime,
}

/// What hinted handoff did over a run. All counts are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HintCounters {
    /// Hints stored on a coordinator.
    pub stored: u64,
    /// Hints replayed to their replica (whether or not the replica still needed them).
    pub replayed: u64,
    /// Hints dropped by an overloaded coordinator instead of stored.
    pub dropped: u64,
    /// Hints not stored because the replica had been down longer than the hint window.
    pub refused_window: u64,
    /// Hints lost with their coordinator when it crashed before replaying them.
    pub lost_to_crash: u64,
    /// Bytes of hints replayed over the network.
    pub replay_bytes: u64,
    /// The most bytes of hints one coordinator held at once.
    pub peak_stored_bytes: u64,
}

/// Hints waiting on one coordinator for one replica.
#[derive(Default)]
struct Queue {
    hints: VecDeque<Hint>,
    /// A replay event for this queue is on the world's event queue.
    scheduled: bool,
}

/// Every coordinator's stored hints.
pub struct Hints {
    config: HintConfig,
    /// Bytes one hint occupies (record plus header), stored and on the wire.
    hint_bytes: u64,
    queues: BTreeMap<(NodeId, NodeId), Queue>,
    /// Bytes of hints each coordinator holds now.
    stored_bytes: Vec<u64>,
    drop_rng: ChaCha12Rng,
    pub counters: HintCounters,
}

impl Hints {
    pub fn new(config: HintConfig, nodes: usize, hint_bytes: u64, seed: u64) -> Hints {
        Hints {
            config,
            hint_bytes,
            queues: BTreeMap::new(),
            stored_bytes: vec![0; nodes],
            drop_rng: stream(seed, StreamId::HintDrops),
            counters: HintCounters::default(),
        }
    }

    pub fn config(&self) -> &HintConfig {
        &self.config
    }

    /// The coordinator's hint for `target` that missed `version` of `key` at `missed_at`
    /// (the write's deadline). `target_down_since` is when the replica went down, if it
    /// is down. Returns when to schedule a replay of the queue, if one must be scheduled.
    pub fn store(
        &mut self,
        (coordinator, target): (NodeId, NodeId),
        (key, version): (Key, Version),
        missed_at: SimTime,
        target_down_since: Option<SimTime>,
    ) -> Option<SimTime> {
        if target_down_since.is_some_and(|since| missed_at.since(since) > self.config.window_ns) {
            self.counters.refused_window += 1;
            return None;
        }
        if self.config.drop_probability > 0.0 && self.drop_rng.random_bool(self.config.drop_probability) {
            self.counters.dropped += 1;
            return None;
        }
        self.counters.stored += 1;
        self.stored_bytes[coordinator] += self.hint_bytes;
        self.counters.peak_stored_bytes = self.counters.peak_stored_bytes.max(self.stored_bytes[coordinator]);
        let due = missed_at.after(self.config.replay_delay_ns);
        let queue = self.queues.entry((coordinator, target)).or_default();
        queue.hints.push_back(Hint { key, version, due });
        (!std::mem::replace(&mut queue.scheduled, true)).then_some(due)
    }

    /// Bytes of one hint, stored and replayed.
    pub fn hint_bytes(&self) -> u64 {
        self.hint_bytes
    }

    /// The replay event of the queue (coordinator, target) fired at `now`: the hint to
    /// replay now if the front one is due, and when the queue's next replay should be
    /// scheduled (`None`: the queue is empty and nothing is scheduled). `reachable` says
    /// whether the replica can be reached now; if not, the queue waits a replay delay.
    pub fn replay(
        &mut self,
        (coordinator, target): (NodeId, NodeId),
        now: SimTime,
        reachable: bool,
    ) -> (Option<Hint>, Option<SimTime>) {
        let Some(queue) = self.queues.get_mut(&(coordinator, target)) else {
            return (None, None);
        };
        let Some(front) = queue.hints.front().copied() else {
            queue.scheduled = false;
            return (None, None);
        };
        if !reachable {
            return (None, Some(now.after(self.config.replay_delay_ns)));
        }
        if front.due > now {
            return (None, Some(front.due));
        }
        queue.hints.pop_front();
        self.counters.replayed += 1;
        self.counters.replay_bytes += self.hint_bytes;
        self.stored_bytes[coordinator] -= self.hint_bytes;
        let next = match queue.hints.front() {
            Some(next) => Some(next.due.max(now.after(self.config.replay_interval_ns))),
            None => {
                queue.scheduled = false;
                None
            }
        };
        (Some(front), next)
    }

    /// The coordinator crashed: every hint it holds is lost. (Its queues' scheduled
    /// replays find them empty.)
    pub fn crash(&mut self, coordinator: NodeId) {
        for (_, queue) in self.queues.range_mut((coordinator, 0)..=(coordinator, NodeId::MAX)) {
            self.counters.lost_to_crash += queue.hints.len() as u64;
            queue.hints.clear();
        }
        self.stored_bytes[coordinator] = 0;
    }

    /// Hints stored and not yet replayed, over all coordinators.
    pub fn pending(&self) -> u64 {
        self.queues.values().map(|q| q.hints.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(drop_probability: f64) -> Hints {
        let config = HintConfig {
            window_ns: 3_600_000_000_000,
            replay_delay_ns: 10_000_000_000,
            replay_interval_ns: 1_000_000,
            drop_probability,
        };
        Hints::new(config, 3, 164, 1)
    }

    fn t(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    #[test]
    fn hints_replay_in_order_after_the_delay_and_respect_the_window() {
        let mut h = hints(0.0);
        assert_eq!(h.store((0, 1), (5, 1), t(2), None), Some(t(12)));
        assert_eq!(h.store((0, 1), (6, 2), t(3), None), None, "already scheduled");
        assert_eq!(h.counters.peak_stored_bytes, 328);
        // Down for two hours: stored; down for four: refused.
        assert!(h.store((0, 2), (7, 3), t(3), Some(t(0))).is_some());
        assert_eq!(h.store((1, 2), (7, 3), t(4 * 3600), Some(t(0))), None);
        assert_eq!(h.counters.refused_window, 1);
        assert_eq!(h.replay((0, 1), t(12), false), (None, Some(t(22))));
        let (hint, next) = h.replay((0, 1), t(22), true);
        assert_eq!(hint.map(|h| h.key), Some(5));
        assert_eq!(next, Some(t(22).after(1_000_000)));
        let (hint, next) = h.replay((0, 1), t(23), true);
        assert_eq!((hint.map(|h| h.key), next), (Some(6), None));
        assert_eq!(h.counters.replayed, 2);
        h.crash(0);
        assert_eq!(h.counters.lost_to_crash, 1, "the hint for node 2");
        assert_eq!(h.pending(), 0);
    }

    #[test]
    fn overload_drops_about_its_share() {
        let mut h = hints(0.25);
        for i in 0..4_000 {
            h.store((0, 1), (i, i + 1), t(1), None);
        }
        let dropped = h.counters.dropped;
        assert!((900..1_100).contains(&dropped), "{dropped}");
        assert_eq!(h.counters.stored + dropped, 4_000);
    }
}
