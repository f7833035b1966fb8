//! Deletes and their tombstones: which client writes are deletes, when each tombstone
//! is purged, and the resurrections that follow a purge on a replica set where one
//! replica missed the delete. The world applies the purges to the replica table and
//! asks here whether a repaired version brings a deleted value back (`world::deletes`).
//!
//! Modelling choices (docs/repair-paths.md):
//! - A delete is a write whose version is a tombstone: it replicates, is lost, hinted
//!   and repaired exactly like any other version (last writer wins).
//! - Every replica compacts at the same instants, every `compaction_interval`: a
//!   compaction purges the tombstones older than `gc_grace` (Cassandra's
//!   `gc_grace_seconds`, 10 days by default), so a tombstone lives between gc_grace and
//!   gc_grace + compaction_interval. A replica holding the tombstone forgets the key
//!   (version 0, the initial state); a replica holding a newer write keeps it; a replica
//!   that missed the delete keeps the old value. Purges are computed per compaction
//!   from a version-ordered map, not one event per tombstone.
//! - Once a key's tombstone is purged, a repair (anti-entropy, read repair, a hint)
//!   that writes a version older than that tombstone brings the deleted value back: a
//!   resurrection, counted once per key and located (time, range, the replica that
//!   still held the value).

use super::paths::DeleteConfig;
use super::{Key, NodeId, Version};
use crate::sim::{SimTime, StreamId, stream};
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use std::collections::BTreeMap;

/// A deleted value brought back by a repair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resurrection {
    pub time: SimTime,
    pub key: Key,
    /// The piece of the ring the key is in (0 without a ring).
    pub range: usize,
    /// The replica that missed the delete and still held the value.
    pub node: NodeId,
    /// How long after the delete it came back.
    pub after_delete_ns: u64,
}

/// What deletes did over a run. All counts are exact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteCounters {
    /// Client writes that were deletes.
    pub deletes: u64,
    /// Tombstones purged (keys whose delete passed gc_grace at a compaction).
    pub purged: u64,
    /// Divergence episodes a purge ended (the replicas that never had the key and the
    /// ones that forgot it now agree).
    pub healed_by_purge: u64,
    pub resurrections: Vec<Resurrection>,
}

/// The tombstones of one run.
pub struct Tombstones {
    config: DeleteConfig,
    rng: ChaCha12Rng,
    /// Tombstones not yet purged, by version (so in order of deletion): key, when.
    live: BTreeMap<Version, (Key, SimTime)>,
    /// Each key's newest purged tombstone: its version and when it was deleted.
    purged: BTreeMap<Key, (Version, SimTime)>,
    pub counters: DeleteCounters,
}

impl Tombstones {
    pub fn new(config: DeleteConfig, seed: u64) -> Tombstones {
        Tombstones {
            config,
            rng: stream(seed, StreamId::Deletes),
            live: BTreeMap::new(),
            purged: BTreeMap::new(),
            counters: DeleteCounters::default(),
        }
    }

    pub fn config(&self) -> &DeleteConfig {
        &self.config
    }

    /// Draws whether the next workload write is a delete.
    pub fn draw_delete(&mut self) -> bool {
        self.config.fraction > 0.0 && self.rng.random_bool(self.config.fraction)
    }

    /// `version` of `key`, written at `now`, is a tombstone.
    pub fn deleted(&mut self, key: Key, version: Version, now: SimTime) {
        self.counters.deletes += 1;
        self.live.insert(version, (key, now));
    }

    /// The tombstones a compaction at `now` purges (older than gc_grace), oldest first;
    /// they are remembered as purged.
    pub fn purge_due(&mut self, now: SimTime) -> Vec<(Key, Version)> {
        let mut due = Vec::new();
        while let Some((&version, &(key, at))) = self.live.first_key_value() {
            if at.after(self.config.gc_grace_ns) > now {
                break;
            }
            self.live.pop_first();
            self.counters.purged += 1;
            self.purged.insert(key, (version, at));
            due.push((key, version));
        }
        due
    }

    /// A repair wrote `version` of `key`, held by `node`, at `now`, while the newest
    /// version any replica holds is `newest_held`: a resurrection if the key's tombstone
    /// was purged and the version is older than it, unless a write newer than the delete
    /// made the key live again (it wins wherever it arrives, whatever the order of a
    /// session's streams). Counted once per key.
    pub fn repaired(
        &mut self,
        key: Key,
        version: Version,
        newest_held: Version,
        (node, range): (NodeId, usize),
        now: SimTime,
    ) -> bool {
        let Some(&(tombstone, deleted_at)) = self.purged.get(&key) else {
            return false;
        };
        if version >= tombstone || newest_held >= tombstone {
            return false;
        }
        self.purged.remove(&key);
        self.counters.resurrections.push(Resurrection {
            time: now,
            key,
            range,
            node,
            after_delete_ns: now.since(deleted_at),
        });
        true
    }

    /// The next compaction after `now`.
    pub fn next_compaction(&self, now: SimTime) -> SimTime {
        now.after(self.config.compaction_interval_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tombstones_are_purged_after_gc_grace_and_an_older_repair_is_a_resurrection() {
        let config = DeleteConfig {
            fraction: 0.0,
            gc_grace_ns: 10_000_000_000,
            compaction_interval_ns: 1_000_000_000,
        };
        let mut t = Tombstones::new(config, 1);
        assert!(!t.draw_delete(), "fraction 0 never deletes");
        t.deleted(7, 5, SimTime::from_secs(1));
        t.deleted(8, 6, SimTime::from_secs(3));
        assert_eq!(t.purge_due(SimTime::from_secs(10)), vec![]);
        assert_eq!(t.purge_due(SimTime::from_secs(11)), vec![(7, 5)]);
        assert!(
            !t.repaired(8, 4, 4, (0, 0), SimTime::from_secs(12)),
            "key 8 not purged yet"
        );
        assert!(
            !t.repaired(7, 9, 9, (0, 0), SimTime::from_secs(12)),
            "a newer write is no zombie"
        );
        assert!(
            !t.repaired(7, 4, 9, (2, 3), SimTime::from_secs(12)),
            "an older value is no zombie while a replica holds a write newer than the delete"
        );
        assert!(t.repaired(7, 4, 4, (2, 3), SimTime::from_secs(12)));
        assert!(
            !t.repaired(7, 4, 4, (1, 3), SimTime::from_secs(13)),
            "counted once per key"
        );
        let zombie = t.counters.resurrections[0];
        assert_eq!((zombie.key, zombie.node, zombie.range), (7, 2, 3));
        assert_eq!(zombie.after_delete_ns, 11_000_000_000);
        assert_eq!((t.counters.deletes, t.counters.purged), (2, 1));
    }
}
