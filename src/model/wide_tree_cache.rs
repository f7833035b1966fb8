//! Each replica's live wide tree (`TictacTree`) of each range with its records, kept
//! from one summary to the next: a new summary re-reads only the table's buckets
//! changed since the previous one (`ReplicaTable::changed_since`), XORs the old
//! records there out and the new ones in. A speed-up of the simulation only: the tree
//! is bit for bit the one built from scratch (XOR is order-independent; debug builds
//! check it for trees of up to 2,000 records), and what a summary costs in virtual
//! time is charged elsewhere.

use super::replicas::ReplicaTable;
use super::tictac_tree::{SegmentId, TictacTree, TreeShape};
use super::{Column, Key, KeyRange, NodeId, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A replica's wide tree of a range and its records (what a clock fetch reads).
#[derive(Clone, Debug)]
pub struct WideTreeSummary {
    pub tree: TictacTree,
    /// (key, version), key order.
    pub records: Vec<(Key, Version)>,
    /// Segments whose contents changed since the previous summary of this replica's
    /// range (all occupied ones for the first): Riak classic's dirty segments.
    pub dirty: Vec<SegmentId>,
}

impl WideTreeSummary {
    /// Built from scratch.
    pub fn new(shape: TreeShape, replica: Column, range: KeyRange, replicas: &ReplicaTable) -> WideTreeSummary {
        let records: Vec<(Key, Version)> = replicas.records(replica, range).collect();
        let tree = TictacTree::from_records(shape, records.iter().copied());
        let mut dirty: Vec<SegmentId> = records.iter().map(|&(key, _)| tree.segment_of(key)).collect();
        dirty.sort_unstable();
        dirty.dedup();
        WideTreeSummary { tree, records, dirty }
    }

    /// The records falling in `segments` (sorted), key order.
    pub fn records_in(&self, segments: &[SegmentId]) -> Vec<(Key, Version)> {
        self.records
            .iter()
            .copied()
            .filter(|&(key, _)| segments.binary_search(&self.tree.segment_of(key)).is_ok())
            .collect()
    }

    /// Brings the summary up to date where the table may have changed (`changed`:
    /// disjoint sub-ranges in key order).
    fn update(&mut self, replica: Column, changed: &[KeyRange], replicas: &ReplicaTable) {
        let mut records = Vec::with_capacity(self.records.len() + 16);
        let mut dirty = Vec::new();
        let mut at = 0;
        for &part in changed {
            let from = at + self.records[at..].partition_point(|&(key, _)| key < part.start);
            let to = from + self.records[from..].partition_point(|&(key, _)| key < part.end);
            records.extend_from_slice(&self.records[at..from]);
            let fresh: Vec<(Key, Version)> = replicas.records(replica, part).collect();
            if fresh[..] != self.records[from..to] {
                for &(key, version) in &self.records[from..to] {
                    self.tree.toggle(key, version);
                    dirty.push(self.tree.segment_of(key));
                }
                for &(key, version) in &fresh {
                    self.tree.toggle(key, version);
                    dirty.push(self.tree.segment_of(key));
                }
            }
            records.extend_from_slice(&fresh);
            at = to;
        }
        records.extend_from_slice(&self.records[at..]);
        self.records = records;
        dirty.sort_unstable();
        dirty.dedup();
        self.dirty = dirty;
    }
}

struct Entry {
    range: KeyRange,
    summary: Arc<WideTreeSummary>,
    /// The table's change stamp when the summary was last brought up to date.
    as_of: u64,
}

/// Each (node, range)'s latest summary.
pub struct WideTreeCache {
    shape: TreeShape,
    entries: BTreeMap<(NodeId, Key), Entry>,
}

impl WideTreeCache {
    pub fn new(shape: impl Into<TreeShape>) -> WideTreeCache {
        let shape = shape.into();
        WideTreeCache {
            shape,
            entries: BTreeMap::new(),
        }
    }

    pub fn shape(&self) -> TreeShape {
        self.shape
    }

    /// `node`'s summary of `range` (its records in column `replica`) as the table stands.
    pub fn summary(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        replicas: &ReplicaTable,
    ) -> Arc<WideTreeSummary> {
        let stamp = replicas.change_stamp();
        let shape = self.shape;
        let entry = self.entries.get_mut(&(node, range.start)).filter(|e| e.range == range);
        let summary = match entry {
            Some(entry) => {
                let changed: Vec<KeyRange> = replicas.changed_since(range, entry.as_of).collect();
                // A copy only if an earlier summary is still held by a session.
                let summary = Arc::make_mut(&mut entry.summary);
                summary.update(replica, &changed, replicas);
                entry.as_of = stamp;
                Arc::clone(&entry.summary)
            }
            None => {
                let summary = Arc::new(WideTreeSummary::new(shape, replica, range, replicas));
                self.entries.insert(
                    (node, range.start),
                    Entry {
                        range,
                        summary: Arc::clone(&summary),
                        as_of: stamp,
                    },
                );
                summary
            }
        };
        // Small trees only: rebuilding every summary from scratch would undo the cache's
        // speed-up in the test build.
        debug_assert!(
            summary.records.len() > 2_000
                || summary.tree == TictacTree::from_records(shape, replicas.records(replica, range)),
            "the kept tree is the tree built from scratch"
        );
        summary
    }
}
