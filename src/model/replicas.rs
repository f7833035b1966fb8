//! Every replica's version of every key, and the ground truth of which keys differ.
//!
//! Storage is sparse: only keys that some replica has written are stored; every other
//! key is in the shared initial state (version 0) on all replicas. Memory therefore
//! grows with the keys written, never with the key space, so 10^9 keys cost nothing
//! until they are touched.
//!
//! The versions of one key on all replicas sit side by side in one slot, so the oracle
//! question "do the replicas agree on this key?" is answered on every change in O(nodes)
//! and the set of divergent keys is always exact. This module never decides anything:
//! callers apply versions; the table keeps last-writer-wins, measures, and reports.

use super::{Key, KeyRange, NodeId, Version};
use crate::sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// Marks a slot whose replicas all agree.
const CONSISTENT: u64 = u64::MAX;

/// Slot layout: `[diverged_since, latest_acknowledged, version on node 0, node 1, ...]`.
const SINCE: usize = 0;
const LATEST: usize = 1;
const FIRST_REPLICA: usize = 2;

/// What one application of a version did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The replica's version changed (the applied version was newer).
    pub changed: bool,
    /// The key became consistent on all replicas; the value is how long it had been
    /// divergent, in nanoseconds.
    pub healed_after_ns: Option<u64>,
}

/// What [`ReplicaTable::audit`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audit {
    /// Keys on which the replicas differ, recounted from the versions.
    pub divergent: u64,
    /// Some key's latest acknowledged version is on no replica.
    pub lost_acknowledged: bool,
}

/// All replicas' versions of every written key, plus the divergence oracle.
pub struct ReplicaTable {
    nodes: usize,
    slot_of: BTreeMap<Key, u32>,
    slots: Vec<u64>,
    /// The key of each slot, in slot order (slots are never freed).
    slot_keys: Vec<Key>,
    /// The keys on which replicas currently disagree: the oracle's answer, kept exact
    /// on every change so that questions about divergence cost O(divergent keys).
    divergent: BTreeSet<Key>,
    /// Integral of the divergent-key count over time, in key-nanoseconds.
    divergence_key_ns: u128,
    last_change: SimTime,
}

impl ReplicaTable {
    pub fn new(nodes: usize) -> ReplicaTable {
        assert!(nodes >= 2, "anti-entropy needs at least two replicas");
        ReplicaTable {
            nodes,
            slot_of: BTreeMap::new(),
            slots: Vec::new(),
            slot_keys: Vec::new(),
            divergent: BTreeSet::new(),
            divergence_key_ns: 0,
            last_change: SimTime::ZERO,
        }
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Number of keys stored (written by at least one replica): the sparse state's size.
    pub fn stored_keys(&self) -> u64 {
        self.slot_of.len() as u64
    }

    /// Version of `key` on `node` (0 if never written there).
    pub fn version(&self, node: NodeId, key: Key) -> Version {
        self.slot_of
            .get(&key)
            .map_or(0, |&slot| self.slot(slot)[FIRST_REPLICA + node])
    }

    /// Latest acknowledged version of `key` (0 if never written).
    pub fn latest(&self, key: Key) -> Version {
        self.slot_of.get(&key).map_or(0, |&slot| self.slot(slot)[LATEST])
    }

    /// Number of keys on which the replicas currently disagree (exact ground truth).
    pub fn divergent_keys(&self) -> u64 {
        self.divergent.len() as u64
    }

    /// Integral of the divergent-key count up to `now`, in key-nanoseconds.
    pub fn divergence_key_ns(&self, now: SimTime) -> u128 {
        self.divergence_key_ns + u128::from(self.divergent_keys()) * u128::from(now.since(self.last_change))
    }

    /// Records a client write acknowledged by `coordinator` at `now`. Versions are global
    /// write sequence numbers, so every new write is the newest version of its key.
    pub fn client_write(&mut self, coordinator: NodeId, key: Key, version: Version, now: SimTime) -> Applied {
        let slot = self.slot_index(key);
        let stride = self.stride();
        let latest = &mut self.slots[slot * stride + LATEST];
        assert!(version > *latest, "write versions must increase");
        *latest = version;
        self.apply(coordinator, key, version, now)
    }

    /// Applies `version` of `key` to `node` if it is newer than what the node holds
    /// (last writer wins); an older or equal version is ignored, so a replica can never
    /// be made older.
    pub fn apply(&mut self, node: NodeId, key: Key, version: Version, now: SimTime) -> Applied {
        let slot = self.slot_index(key);
        let stride = self.stride();
        let base = slot * stride;
        let current = self.slots[base + FIRST_REPLICA + node];
        if version <= current {
            return Applied {
                changed: false,
                healed_after_ns: None,
            };
        }
        self.slots[base + FIRST_REPLICA + node] = version;
        Applied {
            changed: true,
            healed_after_ns: self.update_oracle(key, base, now),
        }
    }

    /// Sets `node`'s version of `key` to `version` even if that is older: for modelled
    /// faults that lose or corrupt data (a crashed node's lost writes, bitrot) and for
    /// tests that break a repair on purpose. The oracle follows, exactly as for
    /// [`apply`](Self::apply); the acknowledged-latest version is untouched, so a lost
    /// acknowledged write stays detectable.
    pub fn set_version(&mut self, node: NodeId, key: Key, version: Version, now: SimTime) -> Applied {
        let slot = self.slot_index(key);
        let base = slot * self.stride();
        let current = self.slots[base + FIRST_REPLICA + node];
        if version == current {
            return Applied {
                changed: false,
                healed_after_ns: None,
            };
        }
        self.slots[base + FIRST_REPLICA + node] = version;
        Applied {
            changed: true,
            healed_after_ns: self.update_oracle(key, base, now),
        }
    }

    /// Re-derives whether `key` (slot at `base`) is divergent after one of its versions
    /// changed; returns how long it had been divergent if it just healed.
    fn update_oracle(&mut self, key: Key, base: usize, now: SimTime) -> Option<u64> {
        let replicas = &self.slots[base + FIRST_REPLICA..base + self.stride()];
        let agree = replicas.iter().all(|&v| v == replicas[0]);
        let since = self.slots[base + SINCE];
        if agree && since != CONSISTENT {
            self.advance_integral(now);
            self.divergent.remove(&key);
            self.slots[base + SINCE] = CONSISTENT;
            return Some(now.nanos() - since);
        }
        if !agree && since == CONSISTENT {
            self.advance_integral(now);
            self.divergent.insert(key);
            self.slots[base + SINCE] = now.nanos();
        }
        None
    }

    /// The key stored in slot `slot` (`0..stored_keys()`, in order of first write).
    pub fn key_at_slot(&self, slot: u64) -> Key {
        self.slot_keys[slot as usize]
    }

    /// Every replica's version of `key`, by node.
    pub fn versions(&self, key: Key) -> Vec<Version> {
        match self.slot_of.get(&key) {
            Some(&slot) => self.slot(slot)[FIRST_REPLICA..].to_vec(),
            None => vec![0; self.nodes],
        }
    }

    /// One pass over every stored slot, in memory order: the recount of divergent keys
    /// and whether any acknowledged write is on no replica. The cheap form of
    /// [`recount_divergent`](Self::recount_divergent) and
    /// [`lost_acknowledged_write`](Self::lost_acknowledged_write), for checks at every
    /// sample point; those two find the offending key once something is wrong.
    pub fn audit(&self) -> Audit {
        let mut audit = Audit {
            divergent: 0,
            lost_acknowledged: false,
        };
        for slot in self.slots.chunks_exact(self.stride()) {
            let versions = &slot[FIRST_REPLICA..];
            audit.divergent += u64::from(versions.iter().any(|&v| v != versions[0]));
            audit.lost_acknowledged |= !versions.contains(&slot[LATEST]);
        }
        audit
    }

    /// The first key on which the oracle and the replicas disagree about divergence
    /// (`None` is the healthy answer); with whether the replicas really differ on it.
    pub fn oracle_mismatch(&self) -> Option<(Key, bool)> {
        self.slot_of.iter().find_map(|(&key, &slot)| {
            let versions = &self.slot(slot)[FIRST_REPLICA..];
            let differ = versions.iter().any(|&v| v != versions[0]);
            (differ != self.divergent.contains(&key)).then_some((key, differ))
        })
    }

    /// The first divergent key, if any.
    pub fn first_divergent(&self) -> Option<Key> {
        self.divergent.first().copied()
    }

    /// The (key, version) records `node` holds in `range`, in key order, skipping keys in
    /// the initial state.
    pub fn records(&self, node: NodeId, range: KeyRange) -> impl Iterator<Item = (Key, Version)> + '_ {
        self.slot_of
            .range(range.start..range.end)
            .map(move |(&key, &slot)| (key, self.slot(slot)[FIRST_REPLICA + node]))
            .filter(|&(_, version)| version > 0)
    }

    /// The records in `from`'s `range` that are newer than `to`'s: exactly what `to`
    /// would change if `from` streamed the whole range to it.
    pub fn newer_records(&self, from: NodeId, to: NodeId, range: KeyRange) -> Vec<(Key, Version)> {
        self.slot_of
            .range(range.start..range.end)
            .filter_map(|(&key, &slot)| {
                let versions = &self.slot(slot)[FIRST_REPLICA..];
                (versions[from] > versions[to]).then_some((key, versions[from]))
            })
            .collect()
    }

    /// Counts divergent keys from scratch by comparing replicas; equals
    /// [`divergent_keys`](Self::divergent_keys) unless the oracle is broken.
    pub fn recount_divergent(&self) -> u64 {
        self.slot_of
            .values()
            .filter(|&&slot| {
                let versions = &self.slot(slot)[FIRST_REPLICA..];
                versions.iter().any(|&v| v != versions[0])
            })
            .count() as u64
    }

    /// Divergent keys in `range`, with the instant each diverged, in key order.
    pub fn divergent_in(&self, range: KeyRange) -> impl Iterator<Item = (Key, SimTime)> + '_ {
        self.divergent.range(range.start..range.end).map(|&key| {
            let since = self.slot(self.slot_of[&key])[SINCE];
            debug_assert_ne!(since, CONSISTENT, "the divergent set matches the slots");
            (key, SimTime::from_nanos(since))
        })
    }

    /// Number of divergent keys in `range`.
    pub fn divergent_count_in(&self, range: KeyRange) -> u64 {
        self.divergent.range(range.start..range.end).count() as u64
    }

    /// The first key whose latest acknowledged version is on no replica: a lost
    /// acknowledged write. `None` is the healthy answer.
    pub fn lost_acknowledged_write(&self) -> Option<(Key, Version)> {
        self.slot_of.iter().find_map(|(&key, &slot)| {
            let values = self.slot(slot);
            let latest = values[LATEST];
            let held = values[FIRST_REPLICA..].contains(&latest);
            (!held).then_some((key, latest))
        })
    }

    fn stride(&self) -> usize {
        FIRST_REPLICA + self.nodes
    }

    fn slot(&self, slot: u32) -> &[u64] {
        let base = slot as usize * self.stride();
        &self.slots[base..base + self.stride()]
    }

    fn slot_index(&mut self, key: Key) -> usize {
        let next = self.slot_of.len() as u32;
        let slot = *self.slot_of.entry(key).or_insert(next) as usize;
        if slot == next as usize {
            self.slot_keys.push(key);
            self.slots.push(CONSISTENT);
            self.slots.extend(std::iter::repeat_n(0, self.stride() - 1));
        }
        slot
    }

    fn advance_integral(&mut self, now: SimTime) {
        self.divergence_key_ns = self.divergence_key_ns(now);
        self.last_change = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    #[test]
    fn tracks_divergence_and_heal_latency() {
        let mut table = ReplicaTable::new(2);
        let w = table.client_write(0, 42, 1, t(1));
        assert_eq!(
            w,
            Applied {
                changed: true,
                healed_after_ns: None
            }
        );
        assert_eq!(table.divergent_keys(), 1);
        assert_eq!(table.version(0, 42), 1);
        assert_eq!(table.version(1, 42), 0);
        let healed = table.apply(1, 42, 1, t(4));
        assert_eq!(healed.healed_after_ns, Some(3_000_000_000));
        assert_eq!(table.divergent_keys(), 0);
        assert_eq!(table.divergence_key_ns(t(10)), 3_000_000_000);
    }

    #[test]
    fn last_writer_wins_and_never_goes_back() {
        let mut table = ReplicaTable::new(3);
        table.client_write(0, 5, 1, t(0));
        table.client_write(1, 5, 2, t(0));
        assert!(!table.apply(1, 5, 1, t(1)).changed);
        assert_eq!(table.version(1, 5), 2);
        assert_eq!(table.newer_records(1, 0, KeyRange::new(0, 10)), vec![(5, 2)]);
        assert_eq!(table.newer_records(0, 1, KeyRange::new(0, 10)), vec![]);
        assert_eq!(table.recount_divergent(), 1);
        assert_eq!(table.lost_acknowledged_write(), None);
    }

    #[test]
    fn records_skip_initial_state() {
        let mut table = ReplicaTable::new(2);
        table.client_write(1, 3, 1, t(0));
        table.client_write(0, 7, 2, t(0));
        let on_zero: Vec<_> = table.records(0, KeyRange::new(0, 100)).collect();
        assert_eq!(on_zero, vec![(7, 2)]);
        assert_eq!(table.stored_keys(), 2);
    }
}
