//! The things being simulated: replicas and their ground truth, the write stream, the
//! network, Merkle trees and modelled faults. Each module is a passive component: it computes and
//! returns values; `world` decides what happens next and when.

pub mod batch_hash;
pub mod faults;
pub mod hints;
pub mod merkle;
pub mod network;
pub mod paths;
pub mod replicas;
pub mod ring;
pub mod sketch;
pub mod tictac_tree;
pub mod tombstones;
pub mod tree_cache;
pub mod wide_tree_cache;
pub mod workload;

/// Index of a node (replica) in the cluster, `0..nodes`.
pub type NodeId = usize;

/// A replica's column in the replica table: its place in a key's replica set, in
/// preference order (0 is the first replica). Not a node: on a ring, column 1 of two
/// keys may be two different nodes (`Ring::node_at` maps one to the other); with every
/// node holding every key, column `i` is node `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Column(pub usize);

/// A key identifier; keys are dense, `0..key_count`.
pub type Key = u64;

/// A write's version: the global write sequence number, starting at 1. Version 0 is the
/// initial state every key starts in. Last writer wins: the larger version is newer.
pub type Version = u64;

/// A half-open range of keys `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyRange {
    pub start: Key,
    pub end: Key,
}

impl KeyRange {
    pub const fn new(start: Key, end: Key) -> KeyRange {
        KeyRange { start, end }
    }

    /// Number of keys in the range.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub const fn contains(&self, key: Key) -> bool {
        self.start <= key && key < self.end
    }

    /// The `index`-th of `parts` contiguous, nearly equal sub-ranges. Boundaries are
    /// computed with exact integer arithmetic so every node derives the same ones.
    pub fn part(&self, index: u64, parts: u64) -> KeyRange {
        debug_assert!(index < parts);
        let len = u128::from(self.len());
        let at = |i: u64| self.start + (len * u128::from(i) / u128::from(parts)) as u64;
        KeyRange::new(at(index), at(index + 1))
    }

    /// Which of `parts` sub-ranges (as [`part`](Self::part) defines them) holds `key`.
    pub fn part_index(&self, key: Key, parts: u64) -> u64 {
        debug_assert!(self.contains(key));
        let offset = u128::from(key - self.start);
        // part(i) starts at floor(len * i / parts): the last i with that start <= offset.
        let len = u128::from(self.len());
        let index = ((offset + 1) * u128::from(parts)).div_ceil(len) as u64;
        index.saturating_sub(1).min(parts - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_tile_the_range() {
        let range = KeyRange::new(10, 1_010);
        let parts: Vec<_> = (0..7).map(|i| range.part(i, 7)).collect();
        assert_eq!(parts[0].start, 10);
        assert_eq!(parts[6].end, 1_010);
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert_eq!(parts.iter().map(KeyRange::len).sum::<u64>(), 1_000);
    }

    #[test]
    fn part_index_inverts_part() {
        for (len, parts) in [(1_000u64, 7u64), (10, 10), (97, 13), (5, 1), (1 << 40, 10_000)] {
            let range = KeyRange::new(3, 3 + len);
            for i in (0..parts).step_by((parts as usize / 50).max(1)) {
                let part = range.part(i, parts);
                for key in [part.start, part.end - 1, part.start + part.len() / 2] {
                    assert_eq!(
                        range.part_index(key, parts),
                        i,
                        "key {key} of {len} keys in {parts} parts"
                    );
                }
            }
        }
    }
}
