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

use super::merkle_walk::MerkleWalk;
use super::reconciler::{Message, Reconciler, Reconciliation, Round, Summary};
use crate::model::merkle::{HASH_BYTES, MerkleTree};
use crate::model::replicas::ReplicaTable;
use crate::model::{Column, Key, KeyRange, NodeId, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Deepest tree Cassandra 4.0 builds by default (`repair_session_max_tree_depth`, 20:
/// apache/cassandra `DatabaseDescriptorTest.testRepairSessionSizeToggles` asserts the
/// default of 20; `DatabaseDescriptor` warns above 20): 2^20 = 1,048,576 leaves.
pub const DEFAULT_MAX_TREE_DEPTH: u32 = 20;
/// Cassandra 3.11's default cap: `public volatile int repair_session_max_tree_depth = 18`
/// (apache/cassandra 3.11 `config/Config.java`).
pub const CASSANDRA_3_11_MAX_TREE_DEPTH: u32 = 18;
/// Deepest tree a scenario may ask for (2^24 leaves, aesim's largest tree).
pub const MAX_TREE_DEPTH: u32 = 24;
/// `repair_session_space` by default: 1/16 of the heap (cassandra.yaml, 4.0), with the
/// heap `cassandra-env.sh` picks on a machine of 32 GiB or more (max(min(RAM/2, 1 GiB),
/// min(RAM/4, 8 GiB)) = 8 GiB): 512 MiB.
pub const DEFAULT_SESSION_SPACE_BYTES: u64 = 512 << 20;
/// Heap bytes of one leaf of Cassandra's tree as `MerkleTree.estimatedMaxDepthForBytes`
/// measures it (`ObjectSizes.measureDeep` of an `OnHeapLeaf` with a 32-byte hash) on a
/// 64-bit JVM with compressed references: the `OnHeapLeaf` object (12-byte header, two
/// `long`s `sizeOfRange` and `partitionsInRange`, the `hash` reference: 32 bytes) plus
/// its `byte[32]` (16-byte header + 32: 48 bytes).
pub const LEAF_HEAP_BYTES: i64 = 80;
/// Heap bytes of one inner node, as the same method counts it: the `OnHeapInner`
/// (header, the two `long`s, `hash`, `token`, `left`, `right`, `computed`: 48 bytes),
/// its computed `byte[32]` hash (48) and its token's `getHeapSize()` (a Murmur3
/// `LongToken`: 24), the children not counted.
pub const INNER_HEAP_BYTES: i64 = 120;

/// `ceil(log2(n))`: the depth at which `n` partitions get about one leaf each.
pub fn depth_for_partitions(partitions: u64) -> u32 {
    if partitions <= 1 {
        0
    } else {
        u64::BITS - (partitions - 1).leading_zeros()
    }
}

/// The deepest tree that fits in `bytes` of heap, `MerkleTree.estimatedMaxDepthForBytes`
/// (apache/cassandra 4.0) ported: `T = 2^n L + (2^n - 1) I` solved for n,
/// `max(1, floor(log2(max(1, (T + I) / (L + I)))))` in Java's integer division, with the
/// object sizes above. Every case of `MerkleTreeTest.testEstimatedSizes` holds
/// (`tests/real_code.rs`): -20, 0 and 1 byte give 1; 1 MiB / 3, 10; 1 MiB, 12; 100 MiB,
/// 19; 300 MiB, 20. (The floor is taken on integers where Java takes
/// `Math.floor(Math.log(x) / Math.log(2))`: the same for every x these budgets reach.)
pub fn estimated_max_depth_for_bytes(bytes: i64) -> u32 {
    let units = (bytes.saturating_add(INNER_HEAP_BYTES) / (LEAF_HEAP_BYTES + INNER_HEAP_BYTES)).max(1);
    (i64::BITS - 1 - units.leading_zeros()).max(1)
}

/// Heap bytes of a tree of `depth` (the same closed form).
pub fn tree_heap_bytes(depth: u32) -> i64 {
    let leaves = 1i64 << depth;
    leaves * LEAF_HEAP_BYTES + (leaves - 1) * INNER_HEAP_BYTES
}

/// Which Cassandra's rule bounds a tree's depth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DepthRule {
    /// Cassandra 4.0 (`repair/ValidationManager.createMerkleTrees`, CASSANDRA-14096):
    /// the cap, and the deepest tree that fits the range's share of
    /// `repair_session_space / RF`.
    #[default]
    Cassandra4,
    /// Cassandra 3.11 (`db/compaction/CompactionManager.createMerkleTrees`,
    /// CASSANDRA-11390): no memory budget; the cap less log2 of 1 / the range's share of
    /// the session's partitions, `floor(cap - log2(1 / ratio))`, so a session over 256
    /// equal ranges builds trees 8 levels shallower than one over a single range.
    Cassandra311,
}

/// How Cassandra sizes one range's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeSizing {
    /// The depth cap (`repair_session_max_tree_depth`: 20 in 4.0, 18 in 3.11).
    pub max_depth: u32,
    /// Heap one tree may take (4.0): `repair_session_space` divided among the RF trees
    /// the coordinator holds and the ranges of the session.
    pub tree_budget_bytes: u64,
    /// Ranges of equal size validated in one session: each owns 1 / `session_ranges`
    /// of its partitions (`rangeOwningRatio`).
    pub session_ranges: u64,
    /// Which version's rule applies.
    pub rule: DepthRule,
}

impl TreeSizing {
    /// Cassandra 4.0's sizing for a session space of `space_bytes` shared by `replicas`
    /// trees per range and `session_ranges` ranges of equal size.
    pub fn new(max_depth: u32, space_bytes: u64, replicas: u64, session_ranges: u64) -> TreeSizing {
        TreeSizing {
            max_depth,
            tree_budget_bytes: space_bytes / replicas.max(1) / session_ranges.max(1),
            session_ranges: session_ranges.max(1),
            rule: DepthRule::Cassandra4,
        }
    }

    /// Cassandra 3.11's sizing: the cap shrinking with the range's share of the session.
    pub fn cassandra_3_11(max_depth: u32, session_ranges: u64) -> TreeSizing {
        TreeSizing {
            max_depth,
            tree_budget_bytes: 0,
            session_ranges: session_ranges.max(1),
            rule: DepthRule::Cassandra311,
        }
    }

    /// The sizing of a session that validates `ranges` ranges of equal size, the real
    /// count of a session over common ranges in place of the configured
    /// `session_ranges` (one range: the configured sizing). The budget is the configured
    /// one scaled (`tree_budget_bytes x session_ranges / ranges`), within
    /// `session_ranges` bytes of `repair_session_space / RF / ranges`.
    pub fn for_session(self, ranges: u64) -> TreeSizing {
        if ranges <= 1 {
            return self;
        }
        TreeSizing {
            tree_budget_bytes: self.tree_budget_bytes.saturating_mul(self.session_ranges) / ranges,
            session_ranges: ranges,
            ..self
        }
    }

    /// The deepest tree a range of the session may get, whatever its partitions.
    pub fn max_depth_for_range(&self) -> u32 {
        match self.rule {
            DepthRule::Cassandra4 => {
                // `Math.max(1, (int) (rangeOwningRatio * availableBytes))`: Java's cast
                // to int saturates at 2^31 - 1.
                let budget = self.tree_budget_bytes.clamp(1, i32::MAX as u64) as i64;
                self.max_depth.min(estimated_max_depth_for_bytes(budget))
            }
            // floor(cap - log2(n)) for an integer cap is cap - ceil(log2(n)), at least 0.
            DepthRule::Cassandra311 => self.max_depth.saturating_sub(depth_for_partitions(self.session_ranges)),
        }
    }

    /// The depth of the tree over `partitions` partitions.
    pub fn depth(&self, partitions: u64) -> u32 {
        depth_for_partitions(partitions).min(self.max_depth_for_range())
    }
}

/// A node of a Cassandra tree: its level (0: the root) and its index in the level.
pub type TreeNode = (u32, u64);

/// How a subtree of the walk compares (`MerkleTree.CONSISTENT`, `FULLY_INCONSISTENT`,
/// `PARTIALLY_INCONSISTENT`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Consistency {
    Consistent,
    Fully,
    Partially,
}

/// `MerkleTree.difference` (apache/cassandra 4.0 `utils/MerkleTree.java`) ported: the
/// largest ranges where two trees disagree, as tree nodes, in Cassandra's order. A
/// node whose two children both differ entirely is reported whole, so fully
/// inconsistent siblings merge into their parent's range. `differ(node)` says whether
/// the two trees' hashes of `node` differ; `leaf_depth` is the shallower tree's depth
/// (a node at that depth is a leaf for the walk: below it the shallower tree has no
/// hash, and Cassandra reports the leaf's whole range). Returns the ranges and the
/// hashes compared.
pub fn difference(leaf_depth: u32, differ: impl Fn(TreeNode) -> bool) -> (Vec<TreeNode>, u64) {
    let mut walk = DifferenceWalk {
        leaf_depth,
        differ,
        found: Vec::new(),
        compared: 1,
    };
    if (walk.differ)((0, 0)) && (leaf_depth == 0 || walk.helper((0, 0)) == Consistency::Fully) {
        walk.found.push((0, 0));
    }
    (walk.found, walk.compared)
}

/// The state of one [`difference`] walk.
struct DifferenceWalk<F> {
    leaf_depth: u32,
    differ: F,
    found: Vec<TreeNode>,
    compared: u64,
}

impl<F: Fn(TreeNode) -> bool> DifferenceWalk<F> {
    /// `MerkleTree.differenceHelper`: how the subtree under `active` (whose hashes
    /// differ) compares, adding its partly inconsistent parts to `found`.
    fn helper(&mut self, (depth, index): TreeNode) -> Consistency {
        debug_assert!(depth < self.leaf_depth, "a leaf has no children to compare");
        let left = (depth + 1, 2 * index);
        let right = (depth + 1, 2 * index + 1);
        let left_diff = self.child(left);
        let right_diff = self.child(right);
        match (left_diff, right_diff) {
            (Consistency::Fully, Consistency::Fully) => Consistency::Fully,
            (Consistency::Fully, _) => {
                self.found.push(left);
                Consistency::Partially
            }
            (_, Consistency::Fully) => {
                self.found.push(right);
                Consistency::Partially
            }
            _ => Consistency::Partially,
        }
    }

    /// A child's comparison: consistent, a leaf that differs (fully inconsistent), or
    /// the walk below it.
    fn child(&mut self, node: TreeNode) -> Consistency {
        self.compared += 1;
        if !(self.differ)(node) {
            Consistency::Consistent
        } else if node.0 >= self.leaf_depth {
            Consistency::Fully
        } else {
            self.helper(node)
        }
    }
}

/// The key ranges of `nodes` in a tree over `range`.
pub fn node_ranges(range: KeyRange, nodes: &[TreeNode]) -> Vec<KeyRange> {
    nodes
        .iter()
        .map(|&(depth, index)| range.part(index, 1 << depth))
        .collect()
}

/// Bytes of the `MerkleTrees` a validation response carries for one range
/// (apache/cassandra 4.0 `repair/messages/ValidationResponse.java`: `MerkleTrees
/// trees`; `MerkleTree.serializedSize`): the trees' count (4) and the range's bounds
/// (28: a kind and two 12-byte tokens), the tree's header (depth 1, `maxsize` 8, `size`
/// 8, the partitioner's class name 45, two tokens 24), then every node: an inner one
/// is its ident and token (13), a leaf its ident and hash length (2) and, if it holds
/// data, its 32-byte hash. Inner nodes carry no hash: the coordinator recomputes them.
pub fn serialized_tree_bytes(leaves: u64, leaves_with_data: u64) -> u64 {
    const TREES_HEADER_BYTES: u64 = 4 + 28;
    const TREE_HEADER_BYTES: u64 = 1 + 8 + 8 + 45 + 12 + 12;
    debug_assert!(leaves_with_data <= leaves);
    TREES_HEADER_BYTES + TREE_HEADER_BYTES + (leaves - 1) * 13 + leaves * 2 + leaves_with_data * HASH_BYTES
}

/// The message of one replica's tree to the coordinator: its leaves' hashes.
fn tree_message(leaves: u64, leaves_with_data: u64) -> Message {
    Message {
        hashes: leaves_with_data,
        bytes: serialized_tree_bytes(leaves, leaves_with_data),
    }
}

/// A session's validation messages, Cassandra's way: the coordinator (participant 0,
/// whose own tree stays local) asks every replica for its tree, and each answers once,
/// with the whole tree, whatever the divergence (`RepairJob` sends a
/// `ValidationRequest` to each endpoint; the `ValidationResponse` carries the trees);
/// differences are computed at the coordinator. In aesim's rounds: the first pair in
/// which a participant other than the coordinator appears carries its tree (as the
/// reply when it is the responder, as the request when it is the initiator); every
/// other pair's round is empty (it stands for the coordinator's `SyncRequest`).
/// `tree(pair, side)` is the message of that pair's tree on that side (0: initiator).
fn validation_rounds(pairs: &[(usize, usize)], tree: impl Fn(usize, usize) -> Message) -> Vec<Round> {
    let mut sent = std::collections::BTreeSet::from([0usize]);
    pairs
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let mut message = |side: usize, participant: usize| {
                if sent.insert(participant) {
                    tree(i, side)
                } else {
                    Message::default()
                }
            };
            Round {
                request: message(0, a),
                reply: message(1, b),
                compute_ns: 0,
            }
        })
        .collect()
}

/// Full repair: every replica builds a tree of the range sized by [`TreeSizing`] from a
/// scan of the whole range (validation compaction, on one of its cores) and sends it
/// whole to the coordinator ([`validation_rounds`]); the coordinator finds each pair's
/// differing ranges with Cassandra's [`difference`] and the pair streams them both
/// ways, whole.
pub struct CassandraTree {
    walk: MerkleWalk,
    sizing: TreeSizing,
    /// Ranges of the session being summarised ([`Reconciler::session_ranges`]).
    session_ranges: u64,
}

impl CassandraTree {
    pub fn new(nodes: usize, sizing: TreeSizing) -> CassandraTree {
        CassandraTree {
            walk: MerkleWalk::new(nodes),
            sizing,
            session_ranges: 1,
        }
    }

    fn tree(summary: &Summary) -> &MerkleTree {
        summary
            .downcast_ref::<MerkleTree>()
            .expect("Cassandra's full repair compares only its own trees")
    }

    /// The tree's message: every key is a partition, so a leaf holds data when its
    /// range is not empty.
    fn message(tree: &MerkleTree) -> Message {
        let leaves = u64::from(tree.leaves());
        tree_message(leaves, leaves.min(tree.range().len()))
    }
}

/// The differing ranges of two trees of the same shape, as (a's, b's) key ranges, and
/// the hashes compared.
pub fn tree_difference(a: &MerkleTree, b: &MerkleTree) -> (Vec<(KeyRange, KeyRange)>, u64) {
    let (nodes, compared) = difference(a.depth(), |(depth, index)| {
        a.node_hash(depth, index) != b.node_hash(depth, index)
    });
    let parts = node_ranges(a.range(), &nodes)
        .into_iter()
        .zip(node_ranges(b.range(), &nodes))
        .collect();
    (parts, compared)
}

impl Reconciler for CassandraTree {
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        _: u32,
        replicas: &ReplicaTable,
    ) -> Summary {
        let leaves = 1u32 << self.sizing.for_session(self.session_ranges).depth(range.len());
        self.walk.summarize(node, replica, range, leaves, replicas)
    }

    fn session_ranges(&mut self, ranges: u64) {
        self.session_ranges = ranges;
    }

    /// The exchange of a session of two: `a` coordinates, `b` sends its tree.
    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        self.reconcile_session(&[a.clone(), b.clone()], &[(0, 1)])
            .pop()
            .expect("one pair")
    }

    fn syncs_after_every_exchange(&self) -> bool {
        true
    }

    fn reconcile_session(&self, summaries: &[Summary], pairs: &[(usize, usize)]) -> Vec<Reconciliation> {
        let trees: Vec<&MerkleTree> = summaries.iter().map(Self::tree).collect();
        let rounds = validation_rounds(pairs, |i, side| {
            let (a, b) = pairs[i];
            Self::message(trees[if side == 0 { a } else { b }])
        });
        pairs
            .iter()
            .zip(rounds)
            .map(|(&(a, b), round)| {
                let (divergent, hashes_compared) = tree_difference(trees[a], trees[b]);
                Reconciliation {
                    rounds: vec![round],
                    hashes_compared,
                    divergent,
                }
            })
            .collect()
    }
}

/// A replica's incremental validation: the tree over its unrepaired data, and what it
/// needs to mark that data repaired if the session succeeds.
pub struct IncrementalSummary {
    node: NodeId,
    replica: Column,
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
    /// How the session's trees are sized (its count of common ranges applied).
    sizing: TreeSizing,
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
    /// Ranges of the session being summarised ([`Reconciler::session_ranges`]).
    session_ranges: u64,
    anticompaction_ns_per_key: u64,
    /// The stamp up to which each (node, column, range) is repaired; absent: nothing is.
    repaired: BTreeMap<(NodeId, Column, u64, u64), u64>,
}

impl CassandraIncremental {
    pub fn new(sizing: TreeSizing, anticompaction_ns_per_key: u64) -> CassandraIncremental {
        CassandraIncremental {
            sizing,
            session_ranges: 1,
            anticompaction_ns_per_key,
            repaired: BTreeMap::new(),
        }
    }

    fn summary(summary: &Summary) -> &IncrementalSummary {
        summary
            .downcast_ref::<IncrementalSummary>()
            .expect("incremental repair compares only its own trees")
    }

    /// What the coordinator finds comparing `a`'s and `b`'s trees (no rounds yet), and
    /// the message of each side's tree.
    fn compare(&self, a: &IncrementalSummary, b: &IncrementalSummary) -> (Reconciliation, [Message; 2]) {
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
        let leaves = 1u32 << a.sizing.depth(partitions);
        let tree_a = MerkleTree::build(a.range, leaves, a.records.iter().copied());
        let tree_b = MerkleTree::build(b.range, leaves, b.records.iter().copied());
        let (ranges, hashes_compared) = tree_difference(&tree_a, &tree_b);
        let mut divergent = Vec::new();
        for (found, _) in ranges {
            if !fresh {
                // A divergent range streams the unrepaired partitions under it.
                let from = written.partition_point(|&k| k < found.start);
                for &key in written[from..].iter().take_while(|&&k| k < found.end) {
                    let one = KeyRange::new(key, key + 1);
                    divergent.push((one, one));
                }
                continue;
            }
            for part in &unrepaired {
                let start = part.start.max(found.start);
                let end = part.end.min(found.end);
                if start < end {
                    divergent.push((KeyRange::new(start, end), KeyRange::new(start, end)));
                }
            }
        }
        let message = |side: &IncrementalSummary, tree: &MerkleTree| {
            let with_data = if fresh {
                u64::from(leaves).min(unrepaired.iter().map(KeyRange::len).sum())
            } else {
                leaves_holding(tree, &side.records)
            };
            tree_message(u64::from(leaves), with_data)
        };
        let messages = [message(a, &tree_a), message(b, &tree_b)];
        let reconciliation = Reconciliation {
            rounds: Vec::new(),
            hashes_compared,
            divergent,
        };
        (reconciliation, messages)
    }
}

/// Leaves of `tree` under which `records` (sorted) hold a key.
fn leaves_holding(tree: &MerkleTree, records: &[(Key, Version)]) -> u64 {
    let parts = u64::from(tree.leaves());
    let mut leaves: Vec<u64> = records
        .iter()
        .map(|&(key, _)| tree.range().part_index(key, parts))
        .collect();
    leaves.dedup();
    leaves.len() as u64
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
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        _: u32,
        replicas: &ReplicaTable,
    ) -> Summary {
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
            sizing: self.sizing.for_session(self.session_ranges),
        })
    }

    fn session_ranges(&mut self, ranges: u64) {
        self.session_ranges = ranges;
    }

    /// The exchange of a session of two: `a` coordinates, `b` sends its tree.
    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        self.reconcile_session(&[a.clone(), b.clone()], &[(0, 1)])
            .pop()
            .expect("one pair")
    }

    fn syncs_after_every_exchange(&self) -> bool {
        true
    }

    fn reconcile_session(&self, summaries: &[Summary], pairs: &[(usize, usize)]) -> Vec<Reconciliation> {
        let compared: Vec<_> = pairs
            .iter()
            .map(|&(a, b)| self.compare(Self::summary(&summaries[a]), Self::summary(&summaries[b])))
            .collect();
        let rounds = validation_rounds(pairs, |i, side| compared[i].1[side]);
        compared
            .into_iter()
            .zip(rounds)
            .map(|((mut reconciliation, _), round)| {
                reconciliation.rounds = vec![round];
                reconciliation
            })
            .collect()
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
        // Two replicas' trees in 512 MiB: room for depth 20.
        let roomy = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 2, 1);
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
    fn a_tree_is_sent_whole_once_per_replica_and_differences_merge() {
        use crate::model::merkle::MerkleTree;
        let range = KeyRange::new(0, 1_024);
        let tree = |changed: &[u64]| -> Summary {
            let records = (0..1_024u64).map(|k| (k, if changed.contains(&k) { 9 } else { 1 }));
            Arc::new(MerkleTree::build(range, 256, records))
        };
        let cassandra = CassandraTree::new(3, TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 1));
        // Replica 1 differs in keys 0 and 5 (leaves 0 and 1: siblings, merged), replica 2
        // in key 1,000.
        let summaries = [tree(&[]), tree(&[0, 5]), tree(&[1_000])];
        let found = cassandra.reconcile_session(&summaries, &[(0, 1), (0, 2), (1, 2)]);
        let whole = serialized_tree_bytes(256, 256);
        assert_eq!(whole, 32 + 86 + 255 * 13 + 256 * 34);
        // The coordinator's tree stays local; each other replica sends its tree once.
        assert_eq!(
            found[0].rounds,
            vec![Round {
                request: Message::default(),
                reply: Message {
                    hashes: 256,
                    bytes: whole
                },
                compute_ns: 0
            }]
        );
        assert_eq!(found[1].rounds, found[0].rounds);
        assert_eq!(found[2].rounds, vec![Round::default()]);
        assert_eq!(found[0].divergent, vec![(KeyRange::new(0, 8), KeyRange::new(0, 8))]);
        assert_eq!(
            found[1].divergent,
            vec![(KeyRange::new(1_000, 1_004), KeyRange::new(1_000, 1_004))]
        );
        assert_eq!(found[2].divergent.len(), 2);
        assert!(cassandra.syncs_after_every_exchange());
    }

    #[test]
    fn a_small_session_space_makes_shallower_trees() {
        // 512 MiB over 3 trees: 179 MB each, room for depth 19 (a 2^20-leaf tree takes
        // 200 MiB by the formula); over 2 trees, 20.
        let space = DEFAULT_SESSION_SPACE_BYTES as i64;
        assert_eq!(estimated_max_depth_for_bytes(space / 3), 19);
        assert!(tree_heap_bytes(19) <= space / 3);
        assert!(tree_heap_bytes(20) > space / 3);
        assert_eq!(
            TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 1).depth(1_000_000),
            19
        );
        assert_eq!(
            TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 2, 1).depth(1_000_000),
            20
        );
        // 256 vnode ranges in one session share it: 699 KB a tree, depth 11.
        let vnodes = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 256);
        assert_eq!(vnodes.depth(1_000_000), 11);
        assert!(tree_heap_bytes(11) as u64 <= vnodes.tree_budget_bytes);
        assert!(tree_heap_bytes(12) as u64 > vnodes.tree_budget_bytes);
        // Cassandra's floor: 1 MiB of session space for 3 trees gives depth 10.
        assert_eq!(TreeSizing::new(20, 1 << 20, 3, 1).depth(1_000_000), 10);
        // A session over 256 common ranges sizes each tree as the configured
        // `session_ranges = 256` does, from a sizing configured for one range.
        let one = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 1);
        let many = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 256);
        assert_eq!(one.for_session(256).depth(1_000_000), many.depth(1_000_000));
        assert_eq!(one.for_session(256).max_depth_for_range(), many.max_depth_for_range());
        assert_eq!(one.for_session(1), one);
        let old = TreeSizing::cassandra_3_11(18, 1);
        assert_eq!(old.for_session(256).depth(1_000_000), 10);
        assert_eq!(estimated_max_depth_for_bytes(0), 1, "at least one level");
    }

    #[test]
    fn cassandra_3_11_trees_shrink_with_the_ranges_share() {
        let one = TreeSizing::cassandra_3_11(CASSANDRA_3_11_MAX_TREE_DEPTH, 1);
        assert_eq!(one.depth(1_000_000), 18);
        assert_eq!(one.depth(1_000), 10, "fewer partitions than leaves");
        // 256 equal ranges: each owns 1/256, floor(18 - 8) = 10.
        assert_eq!(TreeSizing::cassandra_3_11(18, 256).depth(1_000_000), 10);
        // 3 ranges: floor(18 - log2(3)) = floor(16.4) = 16.
        assert_eq!(TreeSizing::cassandra_3_11(18, 3).depth(1_000_000), 16);
        // Before the cap was configurable 3.11 used 20 (the CASSANDRA-11390 code).
        assert_eq!(TreeSizing::cassandra_3_11(20, 16).depth(1 << 30), 16);
    }

    #[test]
    fn a_second_validation_with_no_new_writes_reads_nothing() {
        let range = KeyRange::new(0, 1 << 16);
        let mut table = ReplicaTable::for_key_space(2, 1 << 16);
        let t = SimTime::ZERO;
        for key in [5, 700, 40_000] {
            table.client_write(Column(0), key, key + 1, t);
        }
        table.apply(Column(1), 5, 6, t);
        let sizing = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 2, 1);
        let mut inc = CassandraIncremental::new(sizing, 0);
        let first = [
            inc.summarize(0, Column(0), range, 0, &table),
            inc.summarize(1, Column(1), range, 0, &table),
        ];
        assert_eq!(
            inc.keys_validated(&first[0], range),
            range.len(),
            "nothing is repaired yet"
        );
        let found = inc.reconcile(&first[0], &first[1]);
        assert_eq!(found.divergent.len(), 2, "keys 700 and 40,000 differ");
        for (part, _) in &found.divergent {
            for (key, version) in table.newer_records(Column(0), Column(1), *part) {
                table.apply_repair(Column(1), key, version, t);
            }
        }
        inc.session_succeeded(&first);
        let second = [
            inc.summarize(0, Column(0), range, 0, &table),
            inc.summarize(1, Column(1), range, 0, &table),
        ];
        assert_eq!(inc.keys_validated(&second[0], range), 0);
        assert_eq!(inc.build_cost_ns(&second[1], range, 1_000), 0);
        assert!(inc.reconcile(&second[0], &second[1]).divergent.is_empty());
        // A new write makes its bucket (keys 0 to 63 here) unrepaired again, on both
        // replicas: each validates its records there (node 0: keys 5 and 9; node 1: 5).
        table.client_write(Column(0), 9, 100, t);
        let third = [
            inc.summarize(0, Column(0), range, 0, &table),
            inc.summarize(1, Column(1), range, 0, &table),
        ];
        assert_eq!(inc.keys_validated(&third[0], range), 2);
        assert_eq!(inc.keys_validated(&third[1], range), 1);
        assert_eq!(inc.build_cost_ns(&third[1], range, 1_000), 1_000);
    }
}
