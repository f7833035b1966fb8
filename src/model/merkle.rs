//! Merkle trees over contiguous key ranges, and the level-by-level comparison of two.
//!
//! Pure: this module knows nothing of time, networks or strategies. A tree has `L`
//! leaves (a power of two), leaf `i` covering the `i`-th of `L` equal sub-ranges of the
//! tree's key range. A leaf's hash covers its range bounds and the (key, version)
//! records in it, so two leaves hash equal exactly when they cover the same keys with
//! the same contents. Keys still in the initial state are implied by the bounds and
//! never hashed for real: only written data is. Parents hash their two children.
//!
//! Leaves are hashed with plain `blake3::hash` and parents with `blake3::keyed_hash`
//! under a fixed key: blake3's keying keeps a leaf and a parent from ever hashing
//! alike. Every message is a whole number of 64-byte blocks: a parent is its two
//! children (one block), and a leaf's message is its bounds and its records, 16 bytes
//! each, padded with zeros to a whole block (padding cannot be mistaken for a record:
//! a record's version is never 0). Messages of whole blocks let a batch of leaves or a
//! level of parents go through blake3's SIMD kernel with no per-message tail
//! ([`batch_hash`](super::batch_hash)), at the cost of hashing up to 48 bytes of
//! padding per leaf.
//!
//! The comparison is the protocol's walk: compare roots; where they differ, compare the
//! two children; repeat down to the leaves. [`compare`] returns how many hashes each
//! level compared (one network round trip per level) and which leaves differ.

use super::batch_hash::BatchHasher;
use super::{Key, KeyRange, Version};

pub use super::batch_hash::Hash;

/// Bytes one hash occupies on the wire.
pub const HASH_BYTES: u64 = 32;

/// The key parents are hashed under (leaves use unkeyed blake3).
const PARENT_KEY: [u8; 32] = *b"aesim merkle parent node key v1.";

/// A Merkle tree in heap layout: `nodes[1]` is the root, the children of `i` are `2i`
/// and `2i + 1`, and leaf `j` is `nodes[leaves + j]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    range: KeyRange,
    leaves: u32,
    nodes: Vec<Hash>,
}

impl MerkleTree {
    /// Builds the tree of `range` with `leaves` leaves from `records`, which must be the
    /// written (key, version) records in `range`, in increasing key order.
    pub fn build(range: KeyRange, leaves: u32, records: impl IntoIterator<Item = (Key, Version)>) -> MerkleTree {
        MerkleTree::build_using(&mut TreeHasher::default(), range, leaves, records)
    }

    /// [`build`](Self::build) with `hasher`'s scratch space, for callers that build often.
    pub fn build_using(
        hasher: &mut TreeHasher,
        range: KeyRange,
        leaves: u32,
        records: impl IntoIterator<Item = (Key, Version)>,
    ) -> MerkleTree {
        assert!(leaves.is_power_of_two(), "leaf count must be a power of two");
        let leaf_count = leaves as usize;
        let mut tree = MerkleTree {
            range,
            leaves,
            nodes: vec![[0; 32]; 2 * leaf_count],
        };
        let mut records = records.into_iter().peekable();
        let TreeHasher { leaves: batch, parents } = hasher;
        for leaf in 0..leaf_count {
            let bounds = range.part(leaf as u64, u64::from(leaves));
            let in_leaf = std::iter::from_fn(|| records.next_if(|&(key, _)| key < bounds.end));
            batch.push(leaf_count + leaf, bounds, in_leaf, &mut tree.nodes);
        }
        batch.flush(&mut tree.nodes);
        debug_assert!(records.next().is_none(), "records outside the tree's range");
        let mut level = leaf_count / 2;
        while level >= 1 {
            parents.hash(level..2 * level, &mut tree.nodes);
            level /= 2;
        }
        tree
    }

    /// Rehashes the `changed` leaves, each from its written records (`records_of` gives
    /// them for a leaf's range, in key order), and then each of their ancestors once, level
    /// by level: what keeping a tree up to date costs, O(changed x depth) at most.
    pub fn update_leaves<I>(&mut self, changed: impl IntoIterator<Item = u32>, records_of: impl FnMut(KeyRange) -> I)
    where
        I: IntoIterator<Item = (Key, Version)>,
    {
        self.update_leaves_using(&mut TreeHasher::default(), changed, records_of);
    }

    /// [`update_leaves`](Self::update_leaves) with `hasher`'s scratch space.
    pub fn update_leaves_using<I>(
        &mut self,
        hasher: &mut TreeHasher,
        changed: impl IntoIterator<Item = u32>,
        mut records_of: impl FnMut(KeyRange) -> I,
    ) where
        I: IntoIterator<Item = (Key, Version)>,
    {
        let first_leaf = self.leaves as usize;
        let TreeHasher { leaves: batch, parents } = hasher;
        let mut level: Vec<usize> = Vec::new();
        for leaf in changed {
            let bounds = self.leaf_range(leaf);
            batch.push(first_leaf + leaf as usize, bounds, records_of(bounds), &mut self.nodes);
            level.push((first_leaf + leaf as usize) / 2);
        }
        batch.flush(&mut self.nodes);
        while level.first().is_some_and(|&node| node >= 1) {
            level.sort_unstable();
            level.dedup();
            parents.hash(level.iter().copied(), &mut self.nodes);
            level = level.iter().map(|&node| node / 2).filter(|&node| node >= 1).collect();
        }
    }

    pub fn range(&self) -> KeyRange {
        self.range
    }

    pub fn leaves(&self) -> u32 {
        self.leaves
    }

    pub fn root(&self) -> Hash {
        self.nodes[1]
    }

    /// The key range leaf `leaf` covers.
    pub fn leaf_range(&self, leaf: u32) -> KeyRange {
        self.range.part(u64::from(leaf), u64::from(self.leaves))
    }

    /// Number of levels below the root.
    pub fn depth(&self) -> u32 {
        self.leaves.trailing_zeros()
    }

    /// The hash of node `index` (from 0, left to right) of level `depth` (0: the root).
    pub fn node_hash(&self, depth: u32, index: u64) -> Hash {
        assert!(depth <= self.depth() && index < 1 << depth, "node outside the tree");
        self.nodes[(1usize << depth) + index as usize]
    }
}

/// Scratch space for hashing trees: reused between builds and updates, it saves
/// allocating buffers for every tree (a run updates hundreds of thousands).
#[derive(Default)]
pub struct TreeHasher {
    leaves: LeafBatch,
    parents: ParentHasher,
}

/// Leaf messages waiting to be hashed together (see [`batch_hash`](super::batch_hash)):
/// a leaf's message is its bounds and its (key, version) records, little-endian, padded
/// with zeros to a whole number of blocks.
#[derive(Default)]
struct LeafBatch {
    hasher: BatchHasher,
    /// The messages back to back, `ends[i]` the end of the `i`-th.
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Where each message's hash goes in the tree's nodes.
    nodes: Vec<usize>,
    hashes: Vec<Hash>,
}

impl LeafBatch {
    /// Bytes of messages gathered before they are hashed: enough for full SIMD lanes,
    /// little enough to stay in cache.
    const FLUSH_BYTES: usize = 256 << 10;

    /// Adds the message of the leaf at `node` covering `bounds` with `records` (sorted,
    /// all inside `bounds`), hashing the batch into `nodes` once it is large enough.
    fn push(
        &mut self,
        node: usize,
        bounds: KeyRange,
        records: impl IntoIterator<Item = (Key, Version)>,
        nodes: &mut [Hash],
    ) {
        self.bytes.extend_from_slice(&bounds.start.to_le_bytes());
        self.bytes.extend_from_slice(&bounds.end.to_le_bytes());
        for (key, version) in records {
            debug_assert!(bounds.contains(key), "records must be sorted and in range");
            debug_assert!(version > 0, "the initial state is never a record");
            self.bytes.extend_from_slice(&key.to_le_bytes());
            self.bytes.extend_from_slice(&version.to_le_bytes());
        }
        let start = self.ends.last().copied().unwrap_or(0);
        let padded = start + (self.bytes.len() - start).next_multiple_of(blake3::BLOCK_LEN);
        self.bytes.resize(padded, 0);
        self.ends.push(self.bytes.len());
        self.nodes.push(node);
        if self.bytes.len() >= Self::FLUSH_BYTES {
            self.flush(nodes);
        }
    }

    /// Hashes the gathered messages into `nodes`.
    fn flush(&mut self, nodes: &mut [Hash]) {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        let messages: Vec<&[u8]> = starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.bytes[start..end])
            .collect();
        self.hasher.hash_each(&messages, &mut self.hashes);
        for (&node, hash) in self.nodes.iter().zip(&self.hashes) {
            nodes[node] = *hash;
        }
        self.bytes.clear();
        self.ends.clear();
        self.nodes.clear();
    }
}

/// Hashes parents from their two children: `blake3::keyed_hash(PARENT_KEY, left ||
/// right)`, a level's parents together.
struct ParentHasher {
    hasher: BatchHasher,
    hashes: Vec<Hash>,
}

impl Default for ParentHasher {
    fn default() -> ParentHasher {
        ParentHasher {
            hasher: BatchHasher::keyed(PARENT_KEY),
            hashes: Vec::new(),
        }
    }
}

impl ParentHasher {
    /// Rehashes each of `parents` (none an ancestor of another) from its children.
    fn hash(&mut self, parents: impl Iterator<Item = usize> + Clone, nodes: &mut [Hash]) {
        let children: Vec<&[u8]> = parents
            .clone()
            .map(|p| nodes[2 * p..2 * p + 2].as_flattened())
            .collect();
        self.hasher.hash_each(&children, &mut self.hashes);
        for (p, hash) in parents.zip(&self.hashes) {
            nodes[p] = *hash;
        }
    }
}

/// The outcome of walking two trees from the root down.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Hashes compared at each level visited, root first. Each entry is one round trip:
    /// the initiator sends that many hashes and the peer answers with as many.
    pub hashes_per_level: Vec<u64>,
    /// Leaves whose hashes differ, in increasing order.
    pub divergent_leaves: Vec<u32>,
}

impl Comparison {
    /// Total hashes compared (each is sent once in each direction).
    pub fn hashes_compared(&self) -> u64 {
        self.hashes_per_level.iter().sum()
    }

    /// Round trips the walk takes.
    pub fn round_trips(&self) -> u64 {
        self.hashes_per_level.len() as u64
    }
}

/// Walks `a` and `b` level by level, descending only where hashes differ. The trees
/// must have the same number of leaves (their key ranges may differ: that is how
/// misaligned boundaries show up as divergence).
pub fn compare(a: &MerkleTree, b: &MerkleTree) -> Comparison {
    assert_eq!(a.leaves, b.leaves, "only trees of the same shape can be compared");
    let first_leaf = a.leaves as usize;
    let mut comparison = Comparison::default();
    let mut frontier = vec![1usize];
    while !frontier.is_empty() {
        comparison.hashes_per_level.push(frontier.len() as u64);
        let mut next = Vec::new();
        for &node in &frontier {
            if a.nodes[node] == b.nodes[node] {
                continue;
            }
            if node >= first_leaf {
                comparison.divergent_leaves.push((node - first_leaf) as u32);
            } else {
                next.extend([2 * node, 2 * node + 1]);
            }
        }
        frontier = next;
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(records: &[(Key, Version)]) -> MerkleTree {
        MerkleTree::build(KeyRange::new(0, 1 << 20), 1024, records.iter().copied())
    }

    #[test]
    fn identical_trees_compare_one_hash() {
        let records = [(5, 1), (900_000, 3)];
        let comparison = compare(&tree(&records), &tree(&records));
        assert_eq!(comparison.hashes_per_level, vec![1]);
        assert!(comparison.divergent_leaves.is_empty());
    }

    #[test]
    fn hashes_are_blake3_of_bounds_and_records_and_keyed_blake3_of_children() {
        let tree = MerkleTree::build(KeyRange::new(0, 100), 2, [(3, 7), (60, 9)]);
        let leaf = |start: u64, end: u64, records: &[(u64, u64)]| {
            let mut message = [start.to_le_bytes(), end.to_le_bytes()].concat();
            for (key, version) in records {
                message.extend_from_slice(&key.to_le_bytes());
                message.extend_from_slice(&version.to_le_bytes());
            }
            message.resize(64, 0);
            *blake3::hash(&message).as_bytes()
        };
        let left = leaf(0, 50, &[(3, 7)]);
        let right = leaf(50, 100, &[(60, 9)]);
        assert_eq!(tree.nodes[2], left);
        assert_eq!(tree.nodes[3], right);
        let root = blake3::keyed_hash(&PARENT_KEY, &[left, right].concat());
        assert_eq!(tree.root(), *root.as_bytes());
    }

    #[test]
    fn a_large_build_equals_updating_every_leaf() {
        // More leaf bytes than one batch holds, so batches flush mid-build.
        let range = KeyRange::new(0, 1 << 24);
        let records: Vec<(Key, Version)> = (0..40_000u64).map(|i| (i * 419, i % 97 + 1)).collect();
        let built = MerkleTree::build(range, 4096, records.iter().copied());
        let mut updated = MerkleTree::build(range, 4096, []);
        updated.update_leaves(0..4096, |leaf| {
            records.iter().copied().filter(move |&(key, _)| leaf.contains(key))
        });
        assert_eq!(built, updated);
        assert_ne!(built, MerkleTree::build(range, 4096, []));
    }

    #[test]
    fn leaf_hash_covers_bounds() {
        let a = MerkleTree::build(KeyRange::new(0, 100), 1, []);
        let b = MerkleTree::build(KeyRange::new(1, 101), 1, []);
        assert_ne!(a.root(), b.root());
    }

    #[test]
    fn updating_a_leaf_equals_rebuilding() {
        let before = [(5, 1), (2_000, 3), (900_000, 3)];
        let after = [(5, 1), (2_000, 7), (2_001, 8), (900_000, 3)];
        let mut tree = tree(&before);
        let leaf = (2_000 / 1024) as u32;
        tree.update_leaves([leaf], |_| after[1..3].iter().copied());
        assert_eq!(
            tree,
            super::MerkleTree::build(KeyRange::new(0, 1 << 20), 1024, after.iter().copied())
        );
    }

    #[test]
    fn one_leaf_tree_has_no_descent() {
        let a = MerkleTree::build(KeyRange::new(0, 100), 1, [(3, 1)]);
        let b = MerkleTree::build(KeyRange::new(0, 100), 1, []);
        let comparison = compare(&a, &b);
        assert_eq!(comparison.hashes_per_level, vec![1]);
        assert_eq!(comparison.divergent_leaves, vec![0]);
    }
}
