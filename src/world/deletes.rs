//! The world's side of deletes: which writes are deletes, the compactions that purge
//! tombstones older than gc_grace, and the check that a repaired version is not a
//! deleted value coming back (`model::tombstones` keeps the tombstones and counts).

use super::{Event, World};
use crate::model::{Key, NodeId, Version};
use crate::sim::SimTime;

impl World {
    /// Schedules the first compaction, if the scenario has deletes.
    pub(super) fn schedule_first_compaction(&mut self) {
        if let Some(tombstones) = self.paths.tombstones.as_ref() {
            let at = tombstones.next_compaction(SimTime::ZERO);
            if at <= self.params.end {
                self.queue.push(at, Event::Compaction);
            }
        }
    }

    /// Whether the next workload write is a delete (drawn only with deletes configured).
    pub(super) fn draw_delete(&mut self) -> bool {
        self.paths.tombstones.as_mut().is_some_and(|t| t.draw_delete())
    }

    /// `version` of `key`, just written, is a tombstone.
    pub(super) fn deleted(&mut self, key: Key, version: Version) {
        if let Some(tombstones) = self.paths.tombstones.as_mut() {
            tombstones.deleted(key, version, self.now);
        }
    }

    /// Every replica compacts: tombstones older than gc_grace are purged.
    pub(super) fn compaction(&mut self) {
        let Some(tombstones) = self.paths.tombstones.as_mut() else {
            return;
        };
        let due = tombstones.purge_due(self.now);
        let next = tombstones.next_compaction(self.now);
        if next <= self.params.end {
            self.queue.push(next, Event::Compaction);
        }
        for (key, version) in due {
            let applied = self.replicas.purge(key, version, self.now);
            if applied.healed_after_ns.is_some() {
                self.counters.paths.healed_by_purge += 1;
                self.faults.healed(key, self.now);
            }
        }
    }

    /// A repair copied `version` of `key` from `source` (which held it): counts a
    /// resurrection if the key's tombstone was purged and the version is older.
    pub(super) fn check_resurrection(&mut self, key: Key, version: Version, source: NodeId) {
        let range = self.ring.piece_of(key);
        if let Some(tombstones) = self.paths.tombstones.as_mut() {
            let newest_held = self.replicas.versions(key).into_iter().max().unwrap_or(0);
            tombstones.repaired(key, version, newest_held, (source, range), self.now);
        }
    }
}
