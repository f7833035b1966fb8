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
//! under a fixed key, so a leaf and a parent can never hash alike, with no domain
//! byte: a parent is one 64-byte block (one compression), and a leaf's message is a
//! whole number of 16-byte records.
//!
//! The comparison is the protocol's walk: compare roots; where they differ, compare the
//! two children; repeat down to the leaves. [`compare`] returns how many hashes each
//! level compared (one network round trip per level) and which leaves differ.

use super::{Key, KeyRange, Version};

/// A blake3 digest.
pub type Hash = [u8; 32];

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
        assert!(leaves.is_power_of_two(), "leaf count must be a power of two");
        let leaf_count = leaves as usize;
        let mut nodes = vec![[0; 32]; 2 * leaf_count];
        let mut records = records.into_iter().peekable();
        let mut buffer = Vec::new();
        for leaf in 0..leaf_count {
            let bounds = range.part(leaf as u64, u64::from(leaves));
            let in_leaf = std::iter::from_fn(|| records.next_if(|&(key, _)| key < bounds.end));
            nodes[leaf_count + leaf] = hash_leaf(bounds, in_leaf, &mut buffer);
        }
        debug_assert!(records.next().is_none(), "records outside the tree's range");
        for parent in (1..leaf_count).rev() {
            nodes[parent] = hash_parent(&nodes[2 * parent], &nodes[2 * parent + 1]);
        }
        MerkleTree { range, leaves, nodes }
    }

    /// Rehashes the `changed` leaves, each from its written records (`records_of` gives
    /// them for a leaf's range, in key order), and then each of their ancestors once, level
    /// by level: what keeping a tree up to date costs, O(changed x depth) at most.
    pub fn update_leaves<I>(
        &mut self,
        changed: impl IntoIterator<Item = u32>,
        mut records_of: impl FnMut(KeyRange) -> I,
    ) where
        I: IntoIterator<Item = (Key, Version)>,
    {
        let first_leaf = self.leaves as usize;
        let mut buffer = Vec::new();
        let mut level: Vec<usize> = Vec::new();
        for leaf in changed {
            let bounds = self.leaf_range(leaf);
            self.nodes[first_leaf + leaf as usize] = hash_leaf(bounds, records_of(bounds), &mut buffer);
            level.push((first_leaf + leaf as usize) / 2);
        }
        while level.first().is_some_and(|&node| node >= 1) {
            level.sort_unstable();
            level.dedup();
            for &node in &level {
                self.nodes[node] = hash_parent(&self.nodes[2 * node], &self.nodes[2 * node + 1]);
            }
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
}

/// The hash of a leaf covering `bounds` with `records` (sorted, all inside `bounds`).
/// `buffer` is scratch space, reused between calls to avoid allocating per leaf.
fn hash_leaf(bounds: KeyRange, records: impl IntoIterator<Item = (Key, Version)>, buffer: &mut Vec<u8>) -> Hash {
    buffer.clear();
    buffer.extend_from_slice(&bounds.start.to_le_bytes());
    buffer.extend_from_slice(&bounds.end.to_le_bytes());
    for (key, version) in records {
        debug_assert!(bounds.contains(key), "records must be sorted and in range");
        buffer.extend_from_slice(&key.to_le_bytes());
        buffer.extend_from_slice(&version.to_le_bytes());
    }
    *blake3::hash(buffer).as_bytes()
}

fn hash_parent(left: &Hash, right: &Hash) -> Hash {
    let mut children = [0; 64];
    children[..32].copy_from_slice(left);
    children[32..].copy_from_slice(right);
    *blake3::keyed_hash(&PARENT_KEY, &children).as_bytes()
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
