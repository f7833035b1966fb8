//! Cassandra's repair trees: full repair's depth-capped Merkle tree, and incremental
//! repair, which validates only the data written since the last successful session.
//!
//! Both are binary Merkle trees walked level by level like [`MerkleWalk`]; what differs
//! from it is who chooses the leaves. Cassandra sizes each range's tree itself
//! (`ValidationManager.createMerkleTrees`, apache/cassandra): aim for one partition per
//! leaf, `depth = min(ceil(log2(partitions)), max depth)`, where the max depth is the
//! deepest tree that fits the repair session's memory (`repair_session_space`, shared
//! by the RF trees the coordinator holds and by the ranges of the session). A divergent
//! leaf streams every partition under it: with 10^6 partitions and depth 15 (the
//! pre-CASSANDRA-5263 constant), one bad partition streams about 30 (DataStax,
//! "Manual repair: Anti-entropy repair").
//!
//! Every key of the key space is a partition here (the scan charges every key), so a
//! range's estimated partition count is its length.

use super::reconciler::{MerkleWalk, Message, Reconciler, Reconciliation, Round, Summary};
use crate::model::merkle::{HASH_BYTES, MerkleTree, compare};
use crate::model::replicas::ReplicaTable;
use crate::model::{Key, KeyRange, NodeId, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Deepest tree Cassandra builds (`repair_session_max_tree_depth` warns above 20; the
/// 4.0 validation caps at 20): 2^20 = 1,048,576 leaves.
pub const DEFAULT_MAX_TREE_DEPTH: u32 = 20;
/// Deepest tree a scenario may ask for (2^24 leaves, aesim's largest tree).
pub const MAX_TREE_DEPTH: u32 = 24;
/// `repair_session_space` by default: 1/16 of the heap (cassandra.yaml, 4.0), with the
/// heap `cassandra-env.sh` picks on a machine of 32 GiB or more (max(min(RAM/2, 1 GiB),
/// min(RAM/4, 8 GiB)) = 8 GiB): 512 MiB.
pub const DEFAULT_SESSION_SPACE_BYTES: u64 = 512 << 20;
/// Heap bytes of one leaf of Cassandra's tree (`MerkleTree.estimatedMaxDepthForBytes`
/// measures it on the JVM; a 32-byte hash plus object headers). An assumption: the
/// closed form below is Cassandra's, the sizes are estimates.
pub const LEAF_HEAP_BYTES: u64 = 64;
/// Heap bytes of one inner node (a token, two children, a hash).
pub const INNER_HEAP_BYTES: u64 = 96;

/// `ceil(log2(n))`: the depth at which `n` partitions get about one leaf each.
pub fn depth_for_partitions(partitions: u64) -> u32 {
    if partitions <= 1 {
        0
    } else {
        u64::BITS - (partitions - 1).leading_zeros()
    }
}

/// The deepest tree that fits in `bytes` of heap: `T = 2^n L + (2^n - 1) I` solved for
/// n, `floor(log2((T + I) / (L + I)))`, at least 1 (`MerkleTree.estimatedMaxDepthForBytes`).
pub fn depth_for_bytes(bytes: u64) -> u32 {
    let units = (bytes.saturating_add(INNER_HEAP_BYTES) / (LEAF_HEAP_BYTES + INNER_HEAP_BYTES)).max(1);
    (u64::BITS - 1 - units.leading_zeros()).max(1)
}

/// Heap bytes of a tree of `depth` (the same closed form).
pub fn tree_heap_bytes(depth: u32) -> u64 {
    let leaves = 1u64 << depth;
    leaves * LEAF_HEAP_BYTES + (leaves - 1) * INNER_HEAP_BYTES
}

/// How Cassandra sizes one range's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeSizing {
    /// The depth cap (`repair_session_max_tree_depth`; 20 in 4.0).
    pub max_depth: u32,
    /// Heap one tree may take: `repair_session_space` divided among the RF trees the
    /// coordinator holds and the ranges of the session.
    pub tree_budget_bytes: u64,
}

impl TreeSizing {
    /// The sizing for a session space of `space_bytes` shared by `replicas` trees per
    /// range and `session_ranges` ranges of equal size.
    pub fn new(max_depth: u32, space_bytes: u64, replicas: u64, session_ranges: u64) -> TreeSizing {
        TreeSizing {
            max_depth,
            tree_budget_bytes: space_bytes / replicas.max(1) / session_ranges.max(1),
        }
    }

    /// The depth of the tree over `partitions` partitions.
    pub fn depth(&self, partitions: u64) -> u32 {
        depth_for_partitions(partitions)
            .min(self.max_depth)
            .min(depth_for_bytes(self.tree_budget_bytes))
    }
}

/// Full repair: every replica builds a tree of the range sized by [`TreeSizing`] from a
/// scan of the whole range (validation compaction, on one of its cores); each pair
/// compares its trees and streams the divergent leaves both ways, whole.
pub struct CassandraTree {
    walk: MerkleWalk,
    sizing: TreeSizing,
}

impl CassandraTree {
    pub fn new(nodes: usize, sizing: TreeSizing) -> CassandraTree {
        CassandraTree {
            walk: MerkleWalk::new(nodes),
            sizing,
        }
    }
}

impl Reconciler for CassandraTree {
    fn summarize(&mut self, node: NodeId, replica: usize, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        let leaves = 1u32 << self.sizing.depth(range.len());
        self.walk.summarize(node, replica, range, leaves, replicas)
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        self.walk.reconcile(a, b)
    }
}

/// A replica's incremental validation: the tree over its unrepaired data, and what it
/// needs to mark that data repaired if the session succeeds.
pub struct IncrementalSummary {
    node: NodeId,
    replica: usize,
    range: KeyRange,
    /// The replica table's change stamp when validation began: a successful session
    /// marks everything written up to it repaired.
    stamp: u64,
    /// The unrepaired parts of the range (bucket-grained), in key order.
    unrepaired: Vec<KeyRange>,
    /// Nothing of the range was ever repaired here: every partition (key) of it is
    /// unrepaired data, as for a full repair.
    fresh: bool,
    /// The replica's records in those parts, in key order: the tree is built from them
    /// when the pair compares, at a depth both sides agree on.
    records: Vec<(Key, Version)>,
}

impl IncrementalSummary {
    /// Partitions the validation read: every key of a range never repaired (as a full
    /// repair reads it); afterwards the replica's records in the unrepaired buckets,
    /// what its unrepaired sstables hold.
    pub fn validated_keys(&self) -> u64 {
        if self.fresh {
            self.unrepaired.iter().map(KeyRange::len).sum()
        } else {
            self.records.len() as u64
        }
    }
}

/// Incremental repair (Cassandra 4.0): each replica's data is repaired or unrepaired.
/// Validation reads only the unrepaired data, anticompacting it first (in 4.0 the
/// pending-repair set is split off when the session starts), so a build costs
/// `unrepaired partitions x (scan + anticompaction)`; the tree, sized by [`TreeSizing`] over
/// the unrepaired partitions, hashes only them; a divergent leaf streams only its
/// unrepaired partitions (the whole leaf while the range was never repaired). A successful session marks the data validated, and the data its
/// streams brought, repaired; writes that land during the session stay unrepaired.
///
/// Unrepaired data is tracked at the replica table's bucket grain (`written_since`):
/// a write to any replica of a bucket makes the records of that bucket unrepaired on
/// all of them, an overestimate of the records sharing a bucket with a write. Data lost to bitrot after it was
/// repaired is never validated again: incremental repair does not see it (a full
/// repair does), as in Cassandra.
pub struct CassandraIncremental {
    sizing: TreeSizing,
    anticompaction_ns_per_key: u64,
    /// The stamp up to which each (node, column, range) is repaired; absent: nothing is.
    repaired: BTreeMap<(NodeId, usize, u64, u64), u64>,
}

impl CassandraIncremental {
    pub fn new(sizing: TreeSizing, anticompaction_ns_per_key: u64) -> CassandraIncremental {
        CassandraIncremental {
            sizing,
            anticompaction_ns_per_key,
            repaired: BTreeMap::new(),
        }
    }

    fn summary(summary: &Summary) -> &IncrementalSummary {
        summary
            .downcast_ref::<IncrementalSummary>()
            .expect("incremental repair compares only its own trees")
    }
}

/// The parts of `a` and `b` (each sorted, disjoint) covered by either, merged, in order.
fn union(a: &[KeyRange], b: &[KeyRange]) -> Vec<KeyRange> {
    let mut all: Vec<KeyRange> = a.iter().chain(b).copied().collect();
    all.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<KeyRange> = Vec::with_capacity(all.len());
    for r in all {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// The keys holding a record in either sorted list, sorted, once each.
fn union_keys(a: &[(Key, Version)], b: &[(Key, Version)]) -> Vec<Key> {
    let mut keys: Vec<Key> = a.iter().chain(b).map(|&(k, _)| k).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

impl Reconciler for CassandraIncremental {
    fn summarize(&mut self, node: NodeId, replica: usize, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        let repaired = self.repaired.get(&(node, replica, range.start, range.end));
        let unrepaired: Vec<KeyRange> = match repaired {
            None => vec![range],
            Some(&stamp) => replicas.written_since(range, stamp).collect(),
        };
        let records = unrepaired
            .iter()
            .flat_map(|&part| replicas.records(replica, part))
            .collect();
        Arc::new(IncrementalSummary {
            node,
            replica,
            range,
            stamp: replicas.change_stamp(),
            unrepaired,
            fresh: repaired.is_none(),
            records,
        })
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (Self::summary(a), Self::summary(b));
        // Both trees cover what either side holds unrepaired (the same parts when both
        // were last repaired together, as sessions over the same range are), sized by
        // those partitions: data one side counts repaired there shows as a difference.
        let unrepaired = union(&a.unrepaired, &b.unrepaired);
        // Partitions of the unrepaired data: every key of a range never repaired (as for
        // full repair); afterwards the records written in the unrepaired buckets, what
        // the unrepaired sstables hold (the buckets' other keys are not data).
        let fresh = a.fresh || b.fresh;
        let written = union_keys(&a.records, &b.records);
        let partitions = if fresh {
            unrepaired.iter().map(KeyRange::len).sum()
        } else {
            written.len() as u64
        };
        let leaves = 1u32 << self.sizing.depth(partitions);
        let tree_a = MerkleTree::build(a.range, leaves, a.records.iter().copied());
        let tree_b = MerkleTree::build(b.range, leaves, b.records.iter().copied());
        let comparison = compare(&tree_a, &tree_b);
        let level = |hashes: u64| Message {
            hashes,
            bytes: hashes * HASH_BYTES,
        };
        let mut divergent = Vec::new();
        for &leaf in &comparison.divergent_leaves {
            let leaf_range = tree_a.leaf_range(leaf);
            if !fresh {
                // A divergent leaf streams the unrepaired partitions under it.
                let from = written.partition_point(|&k| k < leaf_range.start);
                for &key in written[from..].iter().take_while(|&&k| k < leaf_range.end) {
                    let one = KeyRange::new(key, key + 1);
                    divergent.push((one, one));
                }
                continue;
            }
            for part in &unrepaired {
                let start = part.start.max(leaf_range.start);
                let end = part.end.min(leaf_range.end);
                if start < end {
                    divergent.push((KeyRange::new(start, end), KeyRange::new(start, end)));
                }
            }
        }
        Reconciliation {
            rounds: comparison
                .hashes_per_level
                .iter()
                .map(|&hashes| Round {
                    request: level(hashes),
                    reply: level(hashes),
                    compute_ns: 0,
                })
                .collect(),
            hashes_compared: comparison.hashes_compared(),
            divergent,
        }
    }

    fn build_cost_ns(&self, summary: &Summary, _: KeyRange, scan_cost_ns_per_key: u64) -> u64 {
        let keys = Self::summary(summary).validated_keys();
        keys.saturating_mul(scan_cost_ns_per_key.saturating_add(self.anticompaction_ns_per_key))
    }

    fn keys_validated(&self, summary: &Summary, _: KeyRange) -> u64 {
        Self::summary(summary).validated_keys()
    }

    fn remembers_sessions(&self) -> bool {
        true
    }

    fn session_succeeded(&mut self, summaries: &[Summary]) {
        for summary in summaries {
            let s = Self::summary(summary);
            self.repaired
                .insert((s.node, s.replica, s.range.start, s.range.end), s.stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    #[test]
    fn depth_aims_at_one_partition_per_leaf_up_to_the_cap() {
        let roomy = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 1);
        assert_eq!(roomy.depth(1), 0);
        assert_eq!(roomy.depth(2), 1);
        assert_eq!(roomy.depth(1_000), 10);
        assert_eq!(roomy.depth(1_024), 10);
        assert_eq!(roomy.depth(1_025), 11);
        assert_eq!(roomy.depth(1_000_000), 20);
        assert_eq!(roomy.depth(1 << 20), 20);
        assert_eq!(roomy.depth(1_000_000_000), 20, "capped at 20");
        let classic = TreeSizing::new(15, DEFAULT_SESSION_SPACE_BYTES, 3, 1);
        assert_eq!(classic.depth(1_000_000), 15);
    }

    #[test]
    fn a_small_session_space_makes_shallower_trees() {
        // 512 MiB over 3 trees: 179 MB each, room for depth 20 (a 2^20-leaf tree takes
        // 160 MiB by the formula).
        assert_eq!(depth_for_bytes(DEFAULT_SESSION_SPACE_BYTES / 3), 20);
        assert!(tree_heap_bytes(20) <= DEFAULT_SESSION_SPACE_BYTES / 3);
        assert!(tree_heap_bytes(21) > DEFAULT_SESSION_SPACE_BYTES / 3);
        // 256 vnode ranges in one session share it: 699 KB a tree, depth 12.
        let vnodes = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 256);
        assert_eq!(vnodes.depth(1_000_000), 12);
        assert!(tree_heap_bytes(12) <= vnodes.tree_budget_bytes);
        assert!(tree_heap_bytes(13) > vnodes.tree_budget_bytes);
        // Cassandra's floor: 1 MiB of session space for 3 trees still gives depth 11.
        assert_eq!(TreeSizing::new(20, 1 << 20, 3, 1).depth(1_000_000), 11);
        assert_eq!(depth_for_bytes(0), 1, "at least one level");
    }

    #[test]
    fn a_second_validation_with_no_new_writes_reads_nothing() {
        let range = KeyRange::new(0, 1 << 16);
        let mut table = ReplicaTable::for_key_space(2, 1 << 16);
        let t = SimTime::ZERO;
        for key in [5, 700, 40_000] {
            table.client_write(0, key, key + 1, t);
        }
        table.apply(1, 5, 6, t);
        let sizing = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 2, 1);
        let mut inc = CassandraIncremental::new(sizing, 0);
        let first = [
            inc.summarize(0, 0, range, 0, &table),
            inc.summarize(1, 1, range, 0, &table),
        ];
        assert_eq!(
            inc.keys_validated(&first[0], range),
            range.len(),
            "nothing is repaired yet"
        );
        let found = inc.reconcile(&first[0], &first[1]);
        assert_eq!(found.divergent.len(), 2, "keys 700 and 40,000 differ");
        for (part, _) in &found.divergent {
            for (key, version) in table.newer_records(0, 1, *part) {
                table.apply_repair(1, key, version, t);
            }
        }
        inc.session_succeeded(&first);
        let second = [
            inc.summarize(0, 0, range, 0, &table),
            inc.summarize(1, 1, range, 0, &table),
        ];
        assert_eq!(inc.keys_validated(&second[0], range), 0);
        assert_eq!(inc.build_cost_ns(&second[1], range, 1_000), 0);
        assert!(inc.reconcile(&second[0], &second[1]).divergent.is_empty());
        // A new write makes its bucket (keys 0 to 63 here) unrepaired again, on both
        // replicas: each validates its records there (node 0: keys 5 and 9; node 1: 5).
        table.client_write(0, 9, 100, t);
        let third = [
            inc.summarize(0, 0, range, 0, &table),
            inc.summarize(1, 1, range, 0, &table),
        ];
        assert_eq!(inc.keys_validated(&third[0], range), 2);
        assert_eq!(inc.keys_validated(&third[1], range), 1);
        assert_eq!(inc.build_cost_ns(&third[1], range, 1_000), 1_000);
    }
}
