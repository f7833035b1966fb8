//! Each node's trees from earlier builds, so a rebuild rehashes only the leaves whose
//! records changed since: the simulator's answer to "real hashing only where data
//! changed".
//!
//! This is purely a speed-up of the simulation. The modelled cost of a build (a scan of
//! every key at `scan_cost_per_key`) is charged in full by the world whatever this cache
//! does, and the tree it returns is bit for bit the tree a fresh build would produce
//! (debug builds check that).

use super::merkle::MerkleTree;
use super::replicas::ReplicaTable;
use super::{Key, KeyRange, NodeId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Most tree nodes (hashes) kept per node: 2^25 hashes is 1 GiB. Past it, new trees are
/// built but not kept.
const MAX_CACHED_HASHES: usize = 1 << 25;

struct Entry {
    tree: Arc<MerkleTree>,
    /// Leaves whose records changed since the tree was last brought up to date.
    dirty: BTreeSet<u32>,
}

/// Trees by node, keyed by the start of their range; cached ranges never overlap.
pub struct TreeCache {
    per_node: Vec<BTreeMap<Key, Entry>>,
    cached_hashes: Vec<usize>,
}

impl TreeCache {
    pub fn new(nodes: usize) -> TreeCache {
        TreeCache {
            per_node: (0..nodes).map(|_| BTreeMap::new()).collect(),
            cached_hashes: vec![0; nodes],
        }
    }

    /// Notes that `node`'s record of `key` changed.
    pub fn record_changed(&mut self, node: NodeId, key: Key) {
        if let Some((_, entry)) = self.per_node[node].range_mut(..=key).next_back() {
            let range = entry.tree.range();
            if range.contains(key) {
                entry
                    .dirty
                    .insert(range.part_index(key, u64::from(entry.tree.leaves())) as u32);
            }
        }
    }

    /// `node`'s tree of `range` with `leaves` leaves over its current records.
    pub fn tree(&mut self, node: NodeId, range: KeyRange, leaves: u32, replicas: &ReplicaTable) -> Arc<MerkleTree> {
        let map = &mut self.per_node[node];
        if let Some(entry) = map.get_mut(&range.start)
            && entry.tree.range() == range
            && entry.tree.leaves() == leaves
        {
            if !entry.dirty.is_empty() {
                let tree = Arc::make_mut(&mut entry.tree);
                tree.update_leaves(std::mem::take(&mut entry.dirty), |leaf| replicas.records(node, leaf));
            }
            debug_assert!(
                leaves > 256 || *entry.tree == MerkleTree::build(range, leaves, replicas.records(node, range)),
                "an incrementally updated tree equals a fresh build"
            );
            return Arc::clone(&entry.tree);
        }
        let tree = Arc::new(MerkleTree::build(range, leaves, replicas.records(node, range)));
        // Drop every cached tree overlapping the new one, so ranges stay disjoint.
        let overlapping: Vec<Key> = map
            .range(..range.end)
            .rev()
            .take_while(|(_, e)| e.tree.range().end > range.start)
            .map(|(&start, _)| start)
            .collect();
        for start in overlapping {
            let removed = map.remove(&start).expect("listed");
            self.cached_hashes[node] -= 2 * removed.tree.leaves() as usize;
        }
        let size = 2 * leaves as usize;
        if self.cached_hashes[node] + size <= MAX_CACHED_HASHES {
            self.cached_hashes[node] += size;
            map.insert(
                range.start,
                Entry {
                    tree: Arc::clone(&tree),
                    dirty: BTreeSet::new(),
                },
            );
        }
        tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    #[test]
    fn cached_trees_follow_changes_and_replace_overlaps() {
        let mut replicas = ReplicaTable::new(2);
        let mut cache = TreeCache::new(2);
        let range = KeyRange::new(0, 1_000);
        replicas.client_write(0, 10, 1, SimTime::ZERO);
        let first = cache.tree(0, range, 16, &replicas);
        replicas.client_write(0, 500, 2, SimTime::ZERO);
        cache.record_changed(0, 500);
        let second = cache.tree(0, range, 16, &replicas);
        assert_ne!(first.root(), second.root());
        assert_eq!(*second, MerkleTree::build(range, 16, replicas.records(0, range)));
        // An overlapping range with another shape replaces the cached tree.
        let shifted = KeyRange::new(500, 1_500);
        let third = cache.tree(0, shifted, 16, &replicas);
        assert_eq!(*third, MerkleTree::build(shifted, 16, replicas.records(0, shifted)));
        assert_eq!(cache.per_node[0].len(), 1);
        assert_eq!(cache.cached_hashes[0], 32);
    }
}
