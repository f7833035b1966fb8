//! Each node's trees from earlier builds, so a rebuild rehashes only the leaves whose
//! records may have changed since: the simulator's answer to "real hashing only where
//! data changed".
//!
//! Nothing is booked on the write path. Each cached tree remembers the replica table's
//! change stamp of its last update; the next request asks the table which of its buckets
//! changed after that stamp and rehashes the leaves overlapping them. A bucket holds at
//! most `2^shift` keys of the key space (1,024 at 10^9 keys), so a leaf next to a
//! changed one may be rehashed too, and a change on one replica marks the range on all:
//! rehashing such a leaf gives the same hash, it only costs time.
//!
//! This is purely a speed-up of the simulation. The modelled cost of a build (a scan of
//! every key at `scan_cost_per_key`) is charged in full by the world whatever this cache
//! does, and the tree it returns is bit for bit the tree a fresh build would produce
//! (debug builds check that).

use super::merkle::{MerkleTree, TreeHasher};
use super::replicas::ReplicaTable;
use super::{Column, KeyRange, NodeId};
use std::sync::Arc;

/// Bytes of cached trees one world (one strategy's run) may keep, over all its nodes:
/// each node gets an equal share. Past its share, a node's new trees are built but not
/// kept, which costs simulation time (full rebuilds) and changes no result. The memory
/// estimate (`resources::estimate`) counts this budget, so an accepted run stays within
/// its estimate; every committed scenario needs well under it (78 MiB at most).
pub const TREE_CACHE_BUDGET_BYTES: u64 = 256 << 20;
/// Bytes of one cached tree node (a 32-byte hash).
const HASH_BYTES: u64 = 32;

struct Entry {
    range: KeyRange,
    leaves: u32,
    tree: Arc<MerkleTree>,
    /// The replica table's change stamp when the tree was last brought up to date.
    as_of: u64,
}

/// Each node's cached trees.
pub struct TreeCache {
    /// Each node's cached trees, sorted by the start of their range; ranges never
    /// overlap.
    per_node: Vec<Vec<Entry>>,
    cached_hashes: Vec<usize>,
    /// Most hashes one node may keep: its share of [`TREE_CACHE_BUDGET_BYTES`].
    max_hashes_per_node: usize,
    /// Leaves hashed for real so far (fresh builds and updates).
    leaves_hashed: u64,
    hasher: TreeHasher,
}

impl TreeCache {
    pub fn new(nodes: usize) -> TreeCache {
        TreeCache {
            per_node: (0..nodes).map(|_| Vec::new()).collect(),
            cached_hashes: vec![0; nodes],
            max_hashes_per_node: (TREE_CACHE_BUDGET_BYTES / HASH_BYTES / nodes.max(1) as u64) as usize,
            leaves_hashed: 0,
            hasher: TreeHasher::default(),
        }
    }

    /// Leaves hashed for real so far, by fresh builds and by updates: what the cache
    /// saves shows here, never in the results.
    pub fn leaves_hashed(&self) -> u64 {
        self.leaves_hashed
    }

    /// `node`'s tree of `range` with `leaves` leaves over its current records, which
    /// are in column `replica` of the table (the node's position in the range's replica
    /// set; see `model::ring`).
    ///
    /// A cache serves one replica table, always the same: cached trees are up to date
    /// as of that table's change stamps (the world makes the two together).
    pub fn tree(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        leaves: u32,
        replicas: &ReplicaTable,
    ) -> Arc<MerkleTree> {
        let trees = &mut self.per_node[node];
        let at = trees.partition_point(|e| e.range.start < range.start);
        if let Some(entry) = trees.get_mut(at)
            && entry.range == range
            && entry.leaves == leaves
        {
            if entry.as_of < replicas.change_stamp() {
                let changed = changed_leaves(range, leaves, replicas.changed_since(range, entry.as_of));
                self.leaves_hashed += changed.len() as u64;
                if !changed.is_empty() {
                    let tree = Arc::make_mut(&mut entry.tree);
                    tree.update_leaves_using(&mut self.hasher, changed, |leaf| replicas.records(replica, leaf));
                }
                entry.as_of = replicas.change_stamp();
            }
            debug_assert!(
                leaves > 256 || *entry.tree == MerkleTree::build(range, leaves, replicas.records(replica, range)),
                "an incrementally updated tree equals a fresh build"
            );
            return Arc::clone(&entry.tree);
        }
        self.leaves_hashed += u64::from(leaves);
        let records = replicas.records(replica, range);
        let tree = Arc::new(MerkleTree::build_using(&mut self.hasher, range, leaves, records));
        // Drop every cached tree overlapping the new one, so ranges stay disjoint: the
        // one before `at` may reach into the range, and those from `at` on that start
        // inside it.
        let first = if at > 0 && trees[at - 1].range.end > range.start {
            at - 1
        } else {
            at
        };
        let last = at + trees[at..].iter().take_while(|e| e.range.start < range.end).count();
        for removed in trees.drain(first..last) {
            self.cached_hashes[node] -= 2 * removed.tree.leaves() as usize;
        }
        let size = 2 * leaves as usize;
        if self.cached_hashes[node] + size <= self.max_hashes_per_node {
            self.cached_hashes[node] += size;
            trees.insert(
                first,
                Entry {
                    range,
                    leaves,
                    tree: Arc::clone(&tree),
                    as_of: replicas.change_stamp(),
                },
            );
        }
        tree
    }
}

/// The leaves of a tree of `range` with `leaves` leaves that overlap the `changed`
/// parts of it (given in key order), in increasing order, each once.
fn changed_leaves(range: KeyRange, leaves: u32, changed: impl Iterator<Item = KeyRange>) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for part in changed {
        let first = range.part_index(part.start, u64::from(leaves)) as u32;
        let last = range.part_index(part.end - 1, u64::from(leaves)) as u32;
        let from = out.last().map_or(first, |&done| first.max(done + 1));
        out.extend(from..=last);
    }
    out
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
        replicas.client_write(Column(0), 10, 1, SimTime::ZERO);
        let first = cache.tree(0, Column(0), range, 16, &replicas);
        replicas.client_write(Column(0), 500, 2, SimTime::ZERO);
        let second = cache.tree(0, Column(0), range, 16, &replicas);
        assert_ne!(first.root(), second.root());
        assert_eq!(
            *second,
            MerkleTree::build(range, 16, replicas.records(Column(0), range))
        );
        // An overlapping range with another shape replaces the cached tree.
        let shifted = KeyRange::new(500, 1_500);
        let third = cache.tree(0, Column(0), shifted, 16, &replicas);
        assert_eq!(
            *third,
            MerkleTree::build(shifted, 16, replicas.records(Column(0), shifted))
        );
        assert_eq!(cache.per_node[0].len(), 1);
        assert_eq!(cache.per_node[0][0].range, shifted);
        assert_eq!(cache.cached_hashes[0], 32);
    }

    #[test]
    fn each_node_keeps_at_most_its_share_of_the_budget() {
        let nodes = 4;
        let replicas = ReplicaTable::for_key_space(nodes, 1 << 30);
        let mut cache = TreeCache::new(nodes);
        // Trees of 2^20 leaves (64 MiB each): a node's share (64 MiB) holds exactly one.
        let leaves = 1 << 20;
        for segment in 0..3u64 {
            let range = KeyRange::new(segment << 24, (segment + 1) << 24);
            cache.tree(0, Column(0), range, leaves, &replicas);
        }
        assert_eq!(cache.per_node[0].len(), 1, "the second and third trees are not kept");
        let kept: u64 = (0..nodes).map(|n| cache.cached_hashes[n] as u64 * HASH_BYTES).sum();
        assert!(kept <= TREE_CACHE_BUDGET_BYTES);
    }

    #[test]
    fn an_update_rehashes_only_the_leaves_over_changed_buckets() {
        // 2^20 keys: buckets of 64 keys; a tree of 1,024 leaves of 1,024 keys each.
        let mut replicas = ReplicaTable::for_key_space(2, 1 << 20);
        let mut cache = TreeCache::new(2);
        let range = KeyRange::new(0, 1 << 20);
        replicas.client_write(Column(0), 10, 1, SimTime::ZERO);
        cache.tree(0, Column(0), range, 1024, &replicas);
        assert_eq!(cache.leaves_hashed(), 1024, "a fresh build hashes every leaf");
        cache.tree(0, Column(0), range, 1024, &replicas);
        assert_eq!(cache.leaves_hashed(), 1024, "nothing changed: nothing rehashed");
        replicas.client_write(Column(0), 5_000, 2, SimTime::ZERO);
        replicas.apply(Column(1), 5_000, 2, SimTime::ZERO);
        replicas.client_write(Column(0), 700_000, 3, SimTime::ZERO);
        let updated = cache.tree(0, Column(0), range, 1024, &replicas);
        assert_eq!(cache.leaves_hashed(), 1026, "the leaves of keys 5,000 and 700,000");
        assert_eq!(
            *updated,
            MerkleTree::build(range, 1024, replicas.records(Column(0), range))
        );
    }
}
