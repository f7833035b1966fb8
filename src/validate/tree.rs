//! The real Merkle tree a replica builds by scanning its store: leaf `i` covers the
//! `i`-th of `L` equal parts of the range (aesim's [`KeyRange::part`], so leaf bounds
//! are the simulator's), its hash is blake3 over the leaf's bounds and the bytes of
//! every record in it (key, then value, as the store returns them); a parent is the
//! keyed blake3 of its two children. Heap layout: node 1 is the root, the children of
//! `n` are `2n` and `2n + 1`, leaf `j` is node `L + j`.

use crate::calibrate::engine::{EngineError, Store};
use crate::calibrate::records;
use crate::model::KeyRange;

/// The key parents are hashed under (leaves use unkeyed blake3).
const PARENT_KEY: [u8; 32] = *b"aesim validate parent node key..";

/// A built tree.
pub struct RealTree {
    pub range: KeyRange,
    pub leaves: u32,
    nodes: Vec<[u8; 32]>,
    /// Records the build read from the store.
    pub records_scanned: u64,
}

impl RealTree {
    /// Scans `store` over `range` and hashes it into `leaves` leaves (a power of two).
    pub fn build(store: &Store, range: KeyRange, leaves: u32) -> Result<RealTree, EngineError> {
        assert!(leaves.is_power_of_two(), "leaf count must be a power of two");
        let leaf_count = leaves as usize;
        let mut nodes = vec![[0u8; 32]; 2 * leaf_count];
        let mut leaf = 0usize;
        let mut bounds = range.part(0, u64::from(leaves));
        let mut hasher = leaf_hasher(bounds);
        let end = (range.end < u64::MAX).then(|| records::key_bytes(range.end));
        let records_scanned = store.scan(
            &records::key_bytes(range.start),
            end.as_ref().map(|e| &e[..]),
            |key, value| {
                let number = records::key_number(key).unwrap_or(u64::MAX);
                while number >= bounds.end && leaf + 1 < leaf_count {
                    nodes[leaf_count + leaf] = *hasher.finalize().as_bytes();
                    leaf += 1;
                    bounds = range.part(leaf as u64, u64::from(leaves));
                    hasher = leaf_hasher(bounds);
                }
                hasher.update(key);
                hasher.update(value);
            },
        )?;
        nodes[leaf_count + leaf] = *hasher.finalize().as_bytes();
        for rest in leaf + 1..leaf_count {
            nodes[leaf_count + rest] = *leaf_hasher(range.part(rest as u64, u64::from(leaves)))
                .finalize()
                .as_bytes();
        }
        for node in (1..leaf_count).rev() {
            let mut parent = blake3::Hasher::new_keyed(&PARENT_KEY);
            parent.update(&nodes[2 * node]);
            parent.update(&nodes[2 * node + 1]);
            nodes[node] = *parent.finalize().as_bytes();
        }
        Ok(RealTree {
            range,
            leaves,
            nodes,
            records_scanned,
        })
    }

    /// The hash of node `node` (heap index).
    pub fn node(&self, node: usize) -> [u8; 32] {
        self.nodes[node]
    }

    /// Whether heap index `node` is a leaf.
    pub fn is_leaf(&self, node: usize) -> bool {
        node >= self.leaves as usize
    }

    /// The key range of the leaf at heap index `node`.
    pub fn leaf_range(&self, node: usize) -> KeyRange {
        self.range
            .part((node - self.leaves as usize) as u64, u64::from(self.leaves))
    }
}

fn leaf_hasher(bounds: KeyRange) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&bounds.start.to_le_bytes());
    hasher.update(&bounds.end.to_le_bytes());
    hasher
}

/// One step of the level-by-level walk, the same on both sides: given the frontier and
/// both sides' hashes of it, the next frontier (children of differing inner nodes) and
/// the differing leaves found (heap indices, appended in order).
pub fn descend(
    tree: &RealTree,
    frontier: &[usize],
    mine: &[[u8; 32]],
    theirs: &[[u8; 32]],
    leaves: &mut Vec<usize>,
) -> Vec<usize> {
    let mut next = Vec::new();
    for ((&node, a), b) in frontier.iter().zip(mine).zip(theirs) {
        if a == b {
            continue;
        }
        if tree.is_leaf(node) {
            leaves.push(node);
        } else {
            next.extend([2 * node, 2 * node + 1]);
        }
    }
    next
}
