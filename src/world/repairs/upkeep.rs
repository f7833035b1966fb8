//! How each replica keeps its summary of a range current between comparisons, the
//! reconciler's decision with the strategy's tree maintenance: a scheduled summary is
//! rebuilt by a scan for every session and costs nothing on the write path; a live one
//! is maintained on the write path at the reconciler's cost per changed record
//! ([`Reconciler::live_write_path_hashes`]) and needs a scan only when a crash lost it
//! (a node's in-memory trees do not survive it).

use crate::model::{Key, KeyRange, NodeId};
use crate::protocol::TreeMaintenance;
use crate::protocol::reconciler::Reconciler;
use crate::sim::SimTime;
use std::collections::BTreeMap;

/// The summaries' upkeep of one run.
pub(in crate::world) struct Upkeep {
    write_path_hashes_per_change: u64,
    /// When each live summary `(node, range start, range end)` was last rebuilt by a
    /// scan (recorded only once its node has crashed: before that none was lost).
    rebuilt: BTreeMap<(NodeId, Key, Key), SimTime>,
}

impl Upkeep {
    /// The upkeep of summaries kept as `tree` says, over trees of `leaves` leaves.
    pub fn new(tree: TreeMaintenance, leaves: u32, reconciler: &dyn Reconciler) -> Upkeep {
        let write_path_hashes_per_change = match tree {
            TreeMaintenance::Scheduled => 0,
            TreeMaintenance::Live => reconciler.live_write_path_hashes(leaves),
        };
        Upkeep {
            write_path_hashes_per_change,
            rebuilt: BTreeMap::new(),
        }
    }

    /// Hash operations one changed record costs on the write path.
    pub fn write_path_hashes_per_change(&self) -> u64 {
        self.write_path_hashes_per_change
    }

    /// Whether `node`'s summary of `range`, kept as `tree` says, must be built by a scan
    /// now: always for a scheduled one; a live one only when its node crashed (last at
    /// `last_crash`) after the summary's last scan.
    pub fn needs_scan(
        &self,
        tree: TreeMaintenance,
        node: NodeId,
        range: KeyRange,
        last_crash: Option<SimTime>,
    ) -> bool {
        match tree {
            TreeMaintenance::Scheduled => true,
            TreeMaintenance::Live => last_crash.is_some_and(|crashed| {
                self.rebuilt
                    .get(&(node, range.start, range.end))
                    .is_none_or(|&rebuilt| rebuilt < crashed)
            }),
        }
    }

    /// `node`'s summary of `range` was rebuilt by a scan starting at `now`.
    pub fn scanned(
        &mut self,
        tree: TreeMaintenance,
        node: NodeId,
        range: KeyRange,
        now: SimTime,
        last_crash: Option<SimTime>,
    ) {
        if tree == TreeMaintenance::Live && last_crash.is_some() {
            self.rebuilt.insert((node, range.start, range.end), now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::registry::ReconcilerChoice;

    #[test]
    fn a_live_summary_lost_in_a_crash_needs_one_scan() {
        let merkle = ReconcilerChoice::Merkle.build(3);
        let mut upkeep = Upkeep::new(TreeMaintenance::Live, 1024, merkle.as_ref());
        assert_eq!(upkeep.write_path_hashes_per_change(), 11);
        let (live, range, other) = (TreeMaintenance::Live, KeyRange::new(0, 10), KeyRange::new(10, 20));
        assert!(!upkeep.needs_scan(live, 1, range, None));
        let crashed = Some(SimTime::from_secs(1));
        assert!(upkeep.needs_scan(live, 1, range, crashed));
        upkeep.scanned(live, 1, range, SimTime::from_secs(2), crashed);
        assert!(!upkeep.needs_scan(live, 1, range, crashed));
        assert!(upkeep.needs_scan(live, 1, other, crashed));
        assert!(upkeep.needs_scan(live, 1, range, Some(SimTime::from_secs(3))));
        assert!(upkeep.needs_scan(TreeMaintenance::Scheduled, 0, range, None));
        let scheduled = Upkeep::new(TreeMaintenance::Scheduled, 1024, merkle.as_ref());
        assert_eq!(scheduled.write_path_hashes_per_change(), 0);
    }

    #[test]
    fn riak_and_tictac_charge_their_own_write_path() {
        let classic = ReconcilerChoice::RiakHashtree {
            width: 1024,
            hash_cost_ns: 0,
            throttle: crate::protocol::riak::BuildThrottle::riak(100),
        }
        .build(3);
        let tictac = ReconcilerChoice::Tictac {
            shape: 1024.into(),
            pause_ns: 0,
            max_segments: None,
        }
        .build(3);
        let per_change =
            |r: &dyn Reconciler| Upkeep::new(TreeMaintenance::Live, 1 << 20, r).write_path_hashes_per_change();
        assert_eq!((per_change(classic.as_ref()), per_change(tictac.as_ref())), (1, 2));
    }
}
