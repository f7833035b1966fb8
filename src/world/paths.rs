//! The world's side of the repair paths before anti-entropy: acknowledgements at a
//! consistency level, hinted handoff (a hint stored for each replica that missed a
//! write's deadline, replayed later) and client reads with blocking read repair.
//!
//! The rules (docs/repair-paths.md has the reasons and sources):
//! - A write at ONE keeps today's rule: the coordinator's own apply, or the first
//!   replica to apply a forwarded write, acknowledges it. At QUORUM or ALL every
//!   replica applies it as it arrives, and it is acknowledged (the replica table's
//!   acknowledged-latest version moves up) when its level's count of replicas have
//!   applied it before its deadline (`write_timeout` after it was made); a write that
//!   never gets there was never acknowledged. Acknowledgements themselves are not lost.
//! - A replica misses a write when its message is lost, it is down or cut off, or the
//!   message arrives after the deadline: with hints on, the coordinator stores a hint
//!   for it (`model::hints`), replayed after the replay delay, one per replay interval,
//!   while the replica is up and reachable; a replayed hint is applied at once (its
//!   delivery latency is small beside the replay delay).
//! - A read contacts as many replicas as its level waits for, the first reachable ones
//!   from a random rotation of the key's replicas; it returns the newest version they
//!   hold and is stale if that is older than the key's newest acknowledged version.
//!   At QUORUM or ALL it compares what it got and writes the newest version to the
//!   contacted replicas that lacked it before answering (blocking read repair); at ONE
//!   there is nothing to compare. Reads are instantaneous in virtual time.
//! - Attribution: every heal of a key (the oracle's `healed_after_ns`) is counted by
//!   exactly one path: replication, hint replay, read repair or anti-entropy; with the
//!   keys still divergent, they add up to the episodes begun (checked as an invariant).

use super::cluster::{RecordChange, Replica};
use super::{Event, World};
use crate::model::hints::Hints;
use crate::model::paths::{ConsistencyLevel, PathsConfig};
use crate::model::tombstones::Tombstones;
use crate::model::workload::{ClientWrite, Workload, WorkloadConfig};
use crate::model::{Column, Key, NodeId, Version};
use crate::sim::{SimTime, StreamId, stream};
use crate::world::MESSAGE_HEADER_BYTES;
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use std::collections::{BTreeMap, BTreeSet};

/// A client read: its key, the node its client chose, and whether a test placed it
/// (a placed read does not draw the next one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRead {
    pub key: Key,
    pub coordinator: NodeId,
    pub scripted: bool,
}

impl ClientRead {
    fn drawn(read: ClientWrite) -> ClientRead {
        ClientRead {
            key: read.key,
            coordinator: read.coordinator,
            scripted: false,
        }
    }
}

/// A write at QUORUM or ALL waiting for its level.
struct PendingWrite {
    key: Key,
    acks: usize,
    needed: usize,
}

/// The state of the paths in one world (inert when the scenario configures none).
pub(super) struct Paths {
    config: PathsConfig,
    /// Whether acknowledgements are followed message by message: a level above ONE,
    /// or hints on (which need to know who missed a write).
    track: bool,
    /// Replication messages whose acknowledgement a coordinator awaits before the
    /// write's deadline, by (version, receiver).
    awaiting: BTreeSet<(Version, NodeId)>,
    /// Writes at QUORUM or ALL not yet acknowledged, by version.
    pending: BTreeMap<Version, PendingWrite>,
    pub(super) hints: Option<Hints>,
    /// The read stream (`None`: no reads).
    reads: Option<Workload>,
    /// Which replica a read contacts first.
    read_replicas_rng: ChaCha12Rng,
    /// Deletes' tombstones (`None`: no deletes).
    pub(super) tombstones: Option<Tombstones>,
}

impl Paths {
    pub(super) fn new(
        config: PathsConfig,
        writes: &WorkloadConfig,
        (nodes, key_count, end): (usize, u64, SimTime),
        record_bytes: u64,
        seed: u64,
    ) -> Paths {
        let hints = config
            .hints
            .clone()
            .map(|h| Hints::new(h, nodes, record_bytes + MESSAGE_HEADER_BYTES, seed));
        let reads = config.reads.as_ref().map(|r| {
            let stream_config = WorkloadConfig {
                writes_per_s: r.reads_per_s,
                keys: writes.keys.clone(),
                stop_at: end.after(1),
            };
            Workload::reads(stream_config, key_count, nodes, seed)
        });
        let tombstones = config.deletes.clone().map(|d| Tombstones::new(d, seed));
        Paths {
            track: config.write_level != ConsistencyLevel::One || hints.is_some(),
            config,
            awaiting: BTreeSet::new(),
            pending: BTreeMap::new(),
            hints,
            reads,
            read_replicas_rng: stream(seed, StreamId::ReadReplicas),
            tombstones,
        }
    }

    /// The scenario's gc_grace, or Cassandra's default without deletes.
    pub(super) fn gc_grace_ns(&self) -> u64 {
        self.config
            .deletes
            .as_ref()
            .map_or(crate::model::paths::DEFAULT_GC_GRACE_NS, |d| d.gc_grace_ns)
    }

    /// Whether writes wait for more than one replica.
    pub(super) fn above_one(&self) -> bool {
        self.config.write_level != ConsistencyLevel::One
    }
}

impl World {
    /// Schedules the first read, if the scenario has reads.
    pub(super) fn schedule_first_read(&mut self) {
        if let Some(reads) = self.paths.reads.as_mut()
            && let Some(at) = reads.next_arrival(SimTime::ZERO)
        {
            let read = reads.next_write(at);
            self.queue.push(at, Event::ClientRead(ClientRead::drawn(read)));
        }
    }

    /// A write of `version` of `key` by `coordinator` was just made; `local` says whether
    /// the coordinator applied it itself. Writes at QUORUM or ALL start waiting for
    /// their level.
    pub(super) fn write_begins(&mut self, key: Key, version: Version, local: bool) {
        if !self.paths.above_one() {
            return;
        }
        let needed = self
            .paths
            .config
            .write_level
            .block_for(self.cluster.ring.replication_factor());
        self.paths
            .pending
            .insert(version, PendingWrite { key, acks: 0, needed });
        if local {
            self.acknowledged(version);
        }
    }

    /// The replication message of `version` to `to` was sent and arrives at `at`
    /// (`None`: it was lost on the way or dropped at once by a fault).
    pub(super) fn replication_sent(
        &mut self,
        (coordinator, to): (NodeId, NodeId),
        (key, version): (Key, Version),
        at: Option<SimTime>,
    ) {
        if !self.paths.track {
            return;
        }
        let deadline = self.paths.config.write_deadline(self.now);
        match at {
            Some(at) if at <= deadline => {
                self.paths.awaiting.insert((version, to));
            }
            _ => self.replica_missed((coordinator, to), (key, version), deadline),
        }
    }

    /// Every message of `version` has been sent: a write at QUORUM or ALL that can no
    /// longer reach its level is given up (never acknowledged).
    pub(super) fn write_sent(&mut self, version: Version) {
        self.settle(version);
    }

    /// A replication message reached `to`: `applied` says whether the replica applied
    /// it (it was up and reachable). Counts its acknowledgement, or its miss.
    pub(super) fn replication_arrived(
        &mut self,
        (coordinator, to): (NodeId, NodeId),
        (key, version): (Key, Version),
        written: SimTime,
        applied: bool,
    ) {
        if !self.paths.track || !self.paths.awaiting.remove(&(version, to)) {
            return;
        }
        if applied {
            self.acknowledged(version);
        } else {
            let deadline = self.paths.config.write_deadline(written);
            self.replica_missed((coordinator, to), (key, version), deadline);
        }
        self.settle(version);
    }

    /// One more replica applied `version` in time.
    fn acknowledged(&mut self, version: Version) {
        let Some(write) = self.paths.pending.get_mut(&version) else {
            return;
        };
        write.acks += 1;
        if write.acks >= write.needed {
            let key = write.key;
            self.paths.pending.remove(&version);
            self.cluster.replicas.acknowledge(key, version);
            self.counters.paths.writes_acknowledged += 1;
        }
    }

    /// Forgets a pending write none of whose messages is still awaited.
    fn settle(&mut self, version: Version) {
        if self.paths.pending.contains_key(&version)
            && self
                .paths
                .awaiting
                .range((version, 0)..=(version, NodeId::MAX))
                .next()
                .is_none()
        {
            self.paths.pending.remove(&version);
        }
    }

    /// `to` did not acknowledge `version` of `key` by `deadline`: with hints on, the
    /// coordinator stores a hint for it.
    fn replica_missed(
        &mut self,
        (coordinator, to): (NodeId, NodeId),
        (key, version): (Key, Version),
        deadline: SimTime,
    ) {
        let down_since = self.faults.down_since(to);
        let coordinator_down = self.faults.is_down(coordinator);
        let Some(hints) = self.paths.hints.as_mut() else {
            return;
        };
        if coordinator_down {
            // The coordinator crashed while the write was in flight: the hint it would
            // have stored is lost with it.
            hints.counters.lost_to_crash += 1;
            return;
        }
        if let Some(at) = hints.store((coordinator, to), (key, version), deadline, down_since) {
            self.queue.push(
                at,
                Event::HintReplay {
                    coordinator,
                    target: to,
                },
            );
        }
    }

    /// The hint queue from `coordinator` to `target` may replay its next hint.
    pub(super) fn hint_replay(&mut self, coordinator: NodeId, target: NodeId) {
        let reachable = !self.faults.is_down(target) && !self.faults.separated(coordinator, target);
        let Some(hints) = self.paths.hints.as_mut() else {
            return;
        };
        let (hint, next) = hints.replay((coordinator, target), self.now, reachable);
        if let Some(next) = next {
            self.queue.push(next, Event::HintReplay { coordinator, target });
        }
        let Some(hint) = hint else {
            return;
        };
        // The replay's bytes share the link with repair streams (the hint itself is
        // applied as it is sent: its latency is not modelled).
        let bytes = hints.hint_bytes();
        self.network.occupy_link(coordinator, target, bytes, self.now);
        let to = self.cluster.replica(target, hint.key).expect("hints go to replicas");
        let change = RecordChange::Hint {
            to,
            source: coordinator,
        };
        let (cluster, mut env) = self.change_env();
        cluster
            .apply(change, hint.key, hint.version, &mut env)
            .expect("a hint never lowers");
    }

    /// A coordinator crashed: the hints it held are lost.
    pub(super) fn hints_crash(&mut self, node: NodeId) {
        if let Some(hints) = self.paths.hints.as_mut() {
            hints.crash(node);
        }
    }

    /// A client read arrives: the next one is scheduled, this one contacts its replicas,
    /// counts a stale answer and repairs what it compared.
    pub(super) fn client_read(&mut self, read: ClientRead) {
        if let Some(reads) = self.paths.reads.as_mut()
            && !read.scripted
            && let Some(at) = reads.next_arrival(self.now)
            && at <= self.params.end
        {
            let next = reads.next_write(at);
            self.queue.push(at, Event::ClientRead(ClientRead::drawn(next)));
        }
        let key = read.key;
        self.counters.paths.reads += 1;
        let ring = std::sync::Arc::clone(&self.cluster.ring);
        let replicas = ring.replicas_of(key);
        let rf = replicas.len();
        let level = self.paths.config.read_level;
        let needed = level.block_for(rf);
        // The coordinator the client chose, or the next node up.
        let Some(coordinator) = (0..self.params.nodes)
            .map(|i| (read.coordinator + i) % self.params.nodes)
            .find(|&n| !self.faults.is_down(n))
        else {
            self.counters.paths.reads_unavailable += 1;
            return;
        };
        let first = self.paths.read_replicas_rng.random_range(0..rf);
        let contacted: Vec<Column> = (0..rf)
            .map(|i| Column((first + i) % rf))
            .filter(|&column| {
                let node = replicas[column.0];
                !self.faults.is_down(node) && !self.faults.separated(coordinator, node)
            })
            .take(needed)
            .collect();
        if contacted.len() < needed {
            self.counters.paths.reads_unavailable += 1;
            return;
        }
        let versions: Vec<Version> = contacted
            .iter()
            .map(|&c| self.cluster.replicas.version(c, key))
            .collect();
        let newest = versions.iter().copied().max().unwrap_or(0);
        if newest < self.cluster.replicas.latest(key) {
            self.counters.paths.reads_stale += 1;
        }
        if needed < 2 {
            return;
        }
        let holder = contacted
            .iter()
            .zip(&versions)
            .find(|&(_, &v)| v == newest)
            .map_or(replicas[0], |(&c, _)| replicas[c.0]);
        for (&column, &version) in contacted.iter().zip(&versions) {
            if version == newest {
                continue;
            }
            let to = Replica {
                node: replicas[column.0],
                column,
            };
            let change = RecordChange::ReadRepair { to, source: holder };
            let (cluster, mut env) = self.change_env();
            let applied = cluster
                .apply(change, key, newest, &mut env)
                .expect("a read repair never lowers");
            debug_assert!(applied.changed, "a read repairs only replicas older than what it read");
        }
    }

    /// Divergence episodes counted by no path and not open: zero in a correct run.
    pub(super) fn unattributed_divergences(&self) -> Option<(u64, u64)> {
        let c = &self.counters;
        let accounted = c.healed_by_replication
            + c.lost_writes_covered
            + c.keys_repaired
            + c.repairs_raced_replication
            + c.paths.healed_by_hint
            + c.paths.healed_by_read_repair
            + c.paths.healed_by_purge
            + self.cluster.replicas.divergent_keys();
        let begun = self.cluster.replicas.divergences_begun();
        (accounted != begun).then_some((begun, accounted))
    }
}
