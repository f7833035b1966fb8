//! The world's side of deletes: which writes are deletes, the compactions that purge
//! tombstones older than gc_grace, and the check that a repaired version is not a
//! deleted value coming back (`model::tombstones` keeps the tombstones and counts).

use super::cluster::RecordChange;
use super::{Event, World};
use crate::model::{Key, Version};
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
            let (cluster, mut env) = self.change_env();
            cluster
                .apply(RecordChange::Purge, key, version, &mut env)
                .expect("a purge is not checked");
        }
    }
}
