//! Merkle trees over contiguous key ranges, and the level-by-level comparison of two.
//!
//! Pure: this module knows nothing of time, networks or strategies. A tree has `L`
//! leaves (a power of two), leaf `i` covering the `i`-th of `L` equal sub-ranges of the
//! tree's key range. A leaf's hash covers its range bounds and the (key, version)
//! records in it, so two leaves hash equal exactly when they cover the same keys with
//! the same contents. Keys still in the initial state are implied by the bounds and
//! never hashed for real: only written data is. Parents hash their two children.
//!
//! The comparison is the protocol's walk: compare roots; where they differ, compare the
//! two children; repeat down to the leaves. [`compare`] returns how many hashes each
//! level compared (one network round trip per level) and which leaves differ.

use super::{Key, KeyRange, Version};

/// A blake3 digest.
pub type Hash = [u8; 32];

/// Bytes one hash occupies on the wire.
pub const HASH_BYTES: u64 = 32;

const LEAF_DOMAIN: u8 = 0;
const PARENT_DOMAIN: u8 = 1;

/// A Merkle tree in heap layout: `nodes[1]` is the root, the children of `i` are `2i`
/// and `2i + 1`, and leaf `j` is `nodes[leaves + j]`.
#[derive(Clone, Debug)]
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
            buffer.clear();
            buffer.push(LEAF_DOMAIN);
            buffer.extend_from_slice(&bounds.start.to_le_bytes());
            buffer.extend_from_slice(&bounds.end.to_le_bytes());
            while let Some(&(key, version)) = records.peek() {
                if key >= bounds.end {
                    break;
                }
                debug_assert!(bounds.contains(key), "records must be sorted and in range");
                buffer.extend_from_slice(&key.to_le_bytes());
                buffer.extend_from_slice(&version.to_le_bytes());
                records.next();
            }
            nodes[leaf_count + leaf] = *blake3::hash(&buffer).as_bytes();
        }
        debug_assert!(records.next().is_none(), "records outside the tree's range");
        for parent in (1..leaf_count).rev() {
            nodes[parent] = hash_parent(&nodes[2 * parent], &nodes[2 * parent + 1]);
        }
        MerkleTree { range, leaves, nodes }
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

fn hash_parent(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&[PARENT_DOMAIN]);
    hasher.update(left);
    hasher.update(right);
    *hasher.finalize().as_bytes()
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
    fn one_leaf_tree_has_no_descent() {
        let a = MerkleTree::build(KeyRange::new(0, 100), 1, [(3, 1)]);
        let b = MerkleTree::build(KeyRange::new(0, 100), 1, []);
        let comparison = compare(&a, &b);
        assert_eq!(comparison.hashes_per_level, vec![1]);
        assert_eq!(comparison.divergent_leaves, vec![0]);
    }
}
