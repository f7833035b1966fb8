//! Modelled faults: node crashes and restarts, network partitions over time windows,
//! duplicated and reordered replication messages, and bitrot (silent corruption of
//! stored records). This module holds the fault schedule, the fault state at the
//! current instant, the random decisions, and the per-fault-kind accounting; the world
//! calls into it from a few marked places and makes every change of replica state.
//!
//! Randomness comes only from the dedicated streams `StreamId::FaultMessages` and
//! `StreamId::Bitrot`, drawn only when the scenario configures the fault that needs
//! them, so a scenario without `[faults]` produces exactly the outputs it did before
//! faults existed.
//!
//! Must not know: the event queue, sessions, strategies.

use super::replicas::ReplicaTable;
use super::{Column, Key, NodeId};
use crate::sim::{SimTime, StreamId, stream};
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Exp};
use std::collections::{BTreeMap, BTreeSet};

/// A node down from `down_at` until `up_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashWindow {
    pub node: NodeId,
    pub down_at: SimTime,
    pub up_at: SimTime,
}

/// A partition from `start` until `end`: the `isolated` nodes on one side, the rest on
/// the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionWindow {
    pub start: SimTime,
    pub end: SimTime,
    pub isolated: Vec<NodeId>,
}

/// The faults of a scenario (`[faults]`); the default is none at all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultConfig {
    pub crashes: Vec<CrashWindow>,
    pub partitions: Vec<PartitionWindow>,
    /// Probability that a delivered replication message is delivered a second time.
    pub duplicate_probability: f64,
    /// Probability that a replication message is held back by up to `reorder_delay_ns_max`.
    pub reorder_probability: f64,
    pub reorder_delay_ns_max: u64,
    /// Silent corruptions of stored records per second, over the whole cluster.
    pub bitrot_per_s: f64,
}

impl FaultConfig {
    /// True when no fault is configured.
    pub fn is_none(&self) -> bool {
        self.crashes.is_empty()
            && self.partitions.is_empty()
            && self.duplicate_probability == 0.0
            && self.reorder_probability == 0.0
            && self.bitrot_per_s == 0.0
    }

    /// True when a fault can leave replicas stale or corrupted (not just late or doubled).
    pub fn can_lose_data(&self) -> bool {
        !self.crashes.is_empty() || !self.partitions.is_empty() || self.bitrot_per_s > 0.0
    }
}

/// A scheduled change of the fault state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultEvent {
    Crash { node: NodeId },
    Restart { node: NodeId },
    PartitionStart { index: usize },
    PartitionEnd { index: usize },
}

/// The faults that leave a replica's record stale or wrong, for attribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    Crash,
    Partition,
    Bitrot,
}

/// Per-run accounting of the faults: what each kind created, and what anti-entropy
/// repaired of it. All counts are exact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounters {
    pub crashes: u64,
    /// Client writes whose chosen coordinator was down, redirected to the next node up.
    pub writes_redirected: u64,
    /// Replication messages lost because their receiver was down.
    pub lost_to_crash: u64,
    /// Records left stale by a crash that anti-entropy later repaired.
    pub repaired_after_crash: u64,
    /// Anti-entropy sessions aborted by a crash or a partition (and restarted later).
    pub sessions_aborted: u64,
    pub partitions: u64,
    /// Replication messages lost because a partition separated sender and receiver.
    pub lost_to_partition: u64,
    pub repaired_after_partition: u64,
    /// Longest time, over the partitions that ended, from a partition's end until every
    /// key divergent at that instant had healed.
    pub partition_heal_ns_max: u64,
    /// Partitions that ended with divergent keys not all healed by the end of the run.
    pub partitions_unhealed: u64,
    pub duplicated_messages: u64,
    pub reordered_messages: u64,
    /// Records silently corrupted.
    pub bitrot_corruptions: u64,
    /// Bitrot draws that hit the only copy of a version (or nothing) and were skipped.
    pub bitrot_skipped: u64,
    pub bitrot_repaired: u64,
}

/// A partition that ended and whose divergent keys are still healing.
struct Healing {
    ended: SimTime,
    pending: BTreeSet<Key>,
}

/// The fault state of one run.
pub struct Faults {
    config: FaultConfig,
    nodes: usize,
    down: Vec<bool>,
    /// Indices of the partitions in force.
    active_partitions: Vec<usize>,
    message_rng: ChaCha12Rng,
    bitrot_rng: ChaCha12Rng,
    bitrot_interarrival: Option<Exp<f64>>,
    /// Records left stale or corrupted by a fault, until repaired or overwritten.
    marks: BTreeMap<(Key, NodeId), FaultKind>,
    healing: Vec<Healing>,
    /// When each node last crashed, losing every tree it kept in memory.
    last_crash: Vec<Option<SimTime>>,
    pub counters: FaultCounters,
}

impl Faults {
    pub fn new(config: FaultConfig, nodes: usize, seed: u64) -> Faults {
        let bitrot_interarrival = (config.bitrot_per_s > 0.0)
            .then(|| Exp::new(config.bitrot_per_s / 1e9).expect("validated positive finite rate"));
        Faults {
            config,
            nodes,
            down: vec![false; nodes],
            active_partitions: Vec::new(),
            message_rng: stream(seed, StreamId::FaultMessages),
            bitrot_rng: stream(seed, StreamId::Bitrot),
            bitrot_interarrival,
            marks: BTreeMap::new(),
            healing: Vec::new(),
            last_crash: vec![None; nodes],
            counters: FaultCounters::default(),
        }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Every scheduled fault event, in the order the world should queue them.
    pub fn schedule(&self) -> Vec<(SimTime, FaultEvent)> {
        let mut events = Vec::new();
        for c in &self.config.crashes {
            events.push((c.down_at, FaultEvent::Crash { node: c.node }));
            events.push((c.up_at, FaultEvent::Restart { node: c.node }));
        }
        for (index, p) in self.config.partitions.iter().enumerate() {
            events.push((p.start, FaultEvent::PartitionStart { index }));
            events.push((p.end, FaultEvent::PartitionEnd { index }));
        }
        // Stable: equal instants keep the order of the scenario file.
        events.sort_by_key(|&(at, _)| at);
        events
    }

    /// Applies a scheduled change of state at `now`.
    pub fn apply(&mut self, event: FaultEvent, now: SimTime) {
        match event {
            FaultEvent::Crash { node } => {
                self.down[node] = true;
                self.last_crash[node] = Some(now);
                self.counters.crashes += 1;
            }
            FaultEvent::Restart { node } => self.down[node] = false,
            FaultEvent::PartitionStart { index } => {
                self.active_partitions.push(index);
                self.counters.partitions += 1;
            }
            FaultEvent::PartitionEnd { index } => self.active_partitions.retain(|&i| i != index),
        }
    }

    /// When `node` last crashed (losing every tree it kept in memory), if ever.
    pub fn last_crash(&self, node: NodeId) -> Option<SimTime> {
        self.last_crash[node]
    }

    /// The node groups cut off from the rest by the partitions in force (two nodes are
    /// separated when one is in a group and the other is not).
    pub fn isolated_groups(&self) -> Vec<Vec<NodeId>> {
        self.active_partitions
            .iter()
            .map(|&i| self.config.partitions[i].isolated.clone())
            .collect()
    }

    pub fn is_down(&self, node: NodeId) -> bool {
        self.down[node]
    }

    /// When `node` went down, if it is down now (hinted handoff's window).
    pub fn down_since(&self, node: NodeId) -> Option<SimTime> {
        if self.down[node] { self.last_crash[node] } else { None }
    }

    /// Whether a partition in force separates `a` from `b`.
    pub fn separated(&self, a: NodeId, b: NodeId) -> bool {
        self.active_partitions.iter().any(|&i| {
            let isolated = &self.config.partitions[i].isolated;
            isolated.contains(&a) != isolated.contains(&b)
        })
    }

    /// True when every node is up and no partition is in force: anti-entropy sessions,
    /// which involve every replica, can run.
    pub fn all_clear(&self) -> bool {
        self.active_partitions.is_empty() && !self.down.contains(&true)
    }

    /// The node that coordinates a write whose client chose `chosen`: the first node up
    /// from `chosen` on (a client retries elsewhere). `None` if every node is down.
    /// Deterministic, so no random number is drawn for it.
    pub fn coordinator(&mut self, chosen: NodeId) -> Option<NodeId> {
        let node = (0..self.nodes)
            .map(|i| (chosen + i) % self.nodes)
            .find(|&n| !self.down[n])?;
        if node != chosen {
            self.counters.writes_redirected += 1;
        }
        Some(node)
    }

    /// Whether a replication message from `from` to `to` is lost at this instant (the
    /// receiver down, or a partition between them); counts and marks the loss.
    pub fn drops_replication(&mut self, from: NodeId, to: NodeId, key: Key) -> bool {
        let kind = if self.down[to] {
            FaultKind::Crash
        } else if self.separated(from, to) {
            FaultKind::Partition
        } else {
            return false;
        };
        match kind {
            FaultKind::Crash => self.counters.lost_to_crash += 1,
            _ => self.counters.lost_to_partition += 1,
        }
        self.marks.insert((key, to), kind);
        true
    }

    /// Extra delivery instants of a replication message due at `arrives`: its arrival
    /// may be held back (reordering), and it may be delivered a second time. Draws from
    /// the fault stream only when those faults are configured.
    pub fn deliveries(&mut self, arrives: SimTime) -> (SimTime, Option<SimTime>) {
        let mut first = arrives;
        if self.config.reorder_probability > 0.0 && self.message_rng.random_bool(self.config.reorder_probability) {
            first = arrives.after(self.message_rng.random_range(1..=self.config.reorder_delay_ns_max));
            self.counters.reordered_messages += 1;
        }
        let mut second = None;
        if self.config.duplicate_probability > 0.0 && self.message_rng.random_bool(self.config.duplicate_probability) {
            second = Some(first.after(self.message_rng.random_range(0..=self.config.reorder_delay_ns_max)));
            self.counters.duplicated_messages += 1;
        }
        (first, second)
    }

    /// The instant of the next corruption after `now`, if bitrot is configured.
    pub fn next_bitrot(&mut self, now: SimTime) -> Option<SimTime> {
        let gap_ns = self.bitrot_interarrival.as_ref()?.sample(&mut self.bitrot_rng);
        Some(now.after((gap_ns.round() as u64).max(1)))
    }

    /// Chooses the record bitrot corrupts now: a random stored key in a random replica
    /// column (`node_of(key, column)` names its node), provided another replica holds
    /// the same version (rot of the only copy of a version would be unrecoverable data
    /// loss, outside what aesim models; such draws are skipped and counted). Returns
    /// `(column, key)`; the caller corrupts it.
    pub fn bitrot_target(
        &mut self,
        replicas: &ReplicaTable,
        node_of: impl Fn(Key, Column) -> NodeId,
    ) -> Option<(Column, Key)> {
        let column = self.bitrot_rng.random_range(0..replicas.nodes());
        let stored = replicas.stored_keys();
        let slot = self.bitrot_rng.random_range(0..stored.max(1));
        let target = (stored > 0).then(|| replicas.key_at_slot(slot)).and_then(|key| {
            let versions = replicas.versions(key);
            let mine = versions[column];
            let copied = versions.iter().enumerate().any(|(n, &v)| n != column && v == mine);
            (mine > 0 && copied).then_some((Column(column), key))
        });
        match target {
            Some((column, key)) => {
                self.counters.bitrot_corruptions += 1;
                self.marks.insert((key, node_of(key, column)), FaultKind::Bitrot);
            }
            None => self.counters.bitrot_skipped += 1,
        }
        target
    }

    /// `node`'s record of `key` was replaced by a newer write or replication: whatever
    /// a fault did to it no longer matters.
    pub fn superseded(&mut self, key: Key, node: NodeId) {
        if !self.marks.is_empty() {
            self.marks.remove(&(key, node));
        }
    }

    /// Anti-entropy repaired `node`'s record of `key`: credit the fault that broke it.
    pub fn repaired(&mut self, key: Key, node: NodeId) {
        if self.marks.is_empty() {
            return;
        }
        match self.marks.remove(&(key, node)) {
            Some(FaultKind::Crash) => self.counters.repaired_after_crash += 1,
            Some(FaultKind::Partition) => self.counters.repaired_after_partition += 1,
            Some(FaultKind::Bitrot) => self.counters.bitrot_repaired += 1,
            None => {}
        }
    }

    /// A partition ended at `now` with `divergent` keys: time how long they take to heal.
    pub fn partition_ended(&mut self, now: SimTime, divergent: impl Iterator<Item = Key>) {
        let pending: BTreeSet<Key> = divergent.collect();
        if pending.is_empty() {
            return;
        }
        self.healing.push(Healing { ended: now, pending });
    }

    /// `key` became consistent on every replica at `now`.
    pub fn healed(&mut self, key: Key, now: SimTime) {
        if self.healing.is_empty() {
            return;
        }
        for h in &mut self.healing {
            if h.pending.remove(&key) && h.pending.is_empty() {
                let took = now.since(h.ended);
                self.counters.partition_heal_ns_max = self.counters.partition_heal_ns_max.max(took);
            }
        }
        self.healing.retain(|h| !h.pending.is_empty());
    }

    /// The counters at the end of the run (partitions still healing counted as such).
    pub fn finish(&self) -> FaultCounters {
        let mut counters = self.counters.clone();
        counters.partitions_unhealed = self.healing.len() as u64;
        counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> FaultConfig {
        FaultConfig {
            crashes: vec![CrashWindow {
                node: 1,
                down_at: SimTime::from_secs(1),
                up_at: SimTime::from_secs(2),
            }],
            partitions: vec![PartitionWindow {
                start: SimTime::from_secs(3),
                end: SimTime::from_secs(4),
                isolated: vec![2],
            }],
            ..FaultConfig::default()
        }
    }

    #[test]
    fn crash_and_partition_state() {
        let mut faults = Faults::new(config(), 3, 1);
        let schedule = faults.schedule();
        assert_eq!(schedule.len(), 4);
        assert!(faults.all_clear());
        faults.apply(schedule[0].1, SimTime::from_secs(1));
        assert_eq!(faults.last_crash(1), Some(SimTime::from_secs(1)));
        assert_eq!(faults.last_crash(0), None);
        assert!(faults.is_down(1) && !faults.all_clear());
        assert_eq!(faults.coordinator(1), Some(2));
        assert_eq!(faults.counters.writes_redirected, 1);
        assert!(faults.drops_replication(0, 1, 7));
        assert!(!faults.drops_replication(0, 2, 7));
        faults.apply(schedule[1].1, SimTime::from_secs(2));
        faults.apply(schedule[2].1, SimTime::from_secs(3));
        assert!(faults.separated(0, 2) && !faults.separated(0, 1));
        assert!(faults.drops_replication(2, 1, 8));
        faults.repaired(7, 1);
        faults.superseded(8, 1);
        faults.repaired(8, 1);
        assert_eq!(faults.counters.repaired_after_crash, 1);
        assert_eq!(faults.counters.repaired_after_partition, 0);
        faults.apply(schedule[3].1, SimTime::from_secs(4));
        assert!(faults.all_clear());
        faults.partition_ended(SimTime::from_secs(4), [5, 6].into_iter());
        faults.healed(5, SimTime::from_secs(5));
        assert_eq!(faults.finish().partitions_unhealed, 1);
        faults.healed(6, SimTime::from_secs(7));
        assert_eq!(faults.finish().partition_heal_ns_max, 3_000_000_000);
        assert_eq!(faults.finish().partitions_unhealed, 0);
    }

    #[test]
    fn no_faults_draw_nothing() {
        let mut faults = Faults::new(FaultConfig::default(), 2, 1);
        let at = SimTime::from_secs(1);
        assert_eq!(faults.deliveries(at), (at, None));
        assert_eq!(faults.next_bitrot(at), None);
        assert!(FaultConfig::default().is_none());
    }
}
