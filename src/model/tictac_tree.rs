//! The Tictac XOR tree (Riak 3's `kv_index_tictactree`): a fixed wide tree of
//! branches of segments ([`TreeShape`]: 1,024 x 1,024 = 1,048,576 segments by default,
//! Tictac's large tree 4,096 x 256),
//! where a key lands in a segment by a hash of the key (not by key order) and every
//! node's value is the XOR of `hash(key, version)` over the keys beneath it.
//!
//! Because XOR is commutative and its own inverse, a write is applied as a delta:
//! XOR out `hash(key, old version)`, XOR in `hash(key, new version)`, on the segment,
//! its branch and the root; no scan of a key store. The tree after any sequence of
//! writes is therefore the tree built from scratch over the final records, whatever
//! the order ([`TictacTree::from_records`] equals the incremental one; tested below).
//!
//! Riak's classic AAE hashtree has the same shape (`hashtree.erl`: 1,048,576 segments,
//! width 1,024) with a SHA over each segment's sorted key/hash list instead of a XOR;
//! both find the same differing segments (up to hash collisions), so the simulator
//! uses this structure for the comparison of both and charges their different
//! maintenance costs elsewhere (`protocol::riak`, `protocol::tictac`).
//!
//! Sparse: only non-zero segments are stored (an empty segment's XOR is 0), so a tree
//! costs memory per written segment, not per possible one. XOR is not a cryptographic
//! digest (the same change gives the same delta): fine between trusted replicas, as
//! Tictac's authors note.

use super::{Key, Version};
use std::collections::BTreeMap;

/// Branches of the root, and segments of each branch, in Riak's default tree.
pub const DEFAULT_WIDTH: u32 = 1_024;

/// A segment's position: `branch * segments_per_branch + index within the branch`.
pub type SegmentId = u32;

/// A tree's shape: the root's branches and each branch's segments. Riak's classic
/// hashtree is square (`hashtree.erl`: width 1,024, 1,024 x 1,024 segments); Tictac's
/// large tree is 4,096 branches of 256 segments (martinsumner/leveled
/// `leveled_tictac.erl`: `L2_CHUNKSIZE 256`, large = 4,096; the same 1,048,576
/// segments, a root of 4,096 hashes and branches of 256).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeShape {
    pub branches: u32,
    pub segments_per_branch: u32,
}

impl TreeShape {
    /// Segments of the whole tree.
    pub fn segments(self) -> u64 {
        u64::from(self.branches) * u64::from(self.segments_per_branch)
    }
}

/// A square tree of `width` branches of `width` segments.
impl From<u32> for TreeShape {
    fn from(width: u32) -> TreeShape {
        TreeShape {
            branches: width,
            segments_per_branch: width,
        }
    }
}

/// A 64-bit finaliser (SplitMix64's): spreads keys over segments and gives each
/// (key, version) its XOR contribution. A model of Tictac's 4 bytes of MD5, not a
/// security primitive.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The XOR contribution of one record.
pub fn record_hash(key: Key, version: Version) -> u64 {
    mix(mix(key) ^ version.rotate_left(32))
}

/// A replica's Tictac tree of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TictacTree {
    shape: TreeShape,
    root: u64,
    branches: Vec<u64>,
    /// Non-zero segments only (a map: a write toggles one in O(log n)).
    segments: BTreeMap<SegmentId, u64>,
}

/// Where two trees differ, level by level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeDiff {
    /// Whether the roots differ (if not, nothing else was compared).
    pub roots_differ: bool,
    /// Branches whose hashes differ, ascending.
    pub branches: Vec<u32>,
    /// Segments whose hashes differ, ascending.
    pub segments: Vec<SegmentId>,
}

impl TreeDiff {
    /// The differences seen in both of two comparisons (Tictac's filter of writes in
    /// flight: a difference a write in flight caused is gone at the second look).
    pub fn confirmed(&self, later: &TreeDiff) -> TreeDiff {
        let both = |a: &[u32], b: &[u32]| a.iter().copied().filter(|x| b.binary_search(x).is_ok()).collect();
        TreeDiff {
            roots_differ: self.roots_differ && later.roots_differ,
            branches: both(&self.branches, &later.branches),
            segments: both(&self.segments, &later.segments),
        }
    }
}

impl TictacTree {
    /// An empty tree of `shape` (a `u32`: a square one of that width).
    pub fn new(shape: impl Into<TreeShape>) -> TictacTree {
        let shape = shape.into();
        assert!(shape.branches >= 2, "a tree needs at least two branches");
        assert!(shape.segments_per_branch >= 1, "a branch needs a segment");
        assert!(
            shape.segments() <= u64::from(u32::MAX),
            "segments are numbered in 32 bits"
        );
        TictacTree {
            shape,
            root: 0,
            branches: vec![0; shape.branches as usize],
            segments: BTreeMap::new(),
        }
    }

    /// The tree built from scratch over `records` (key, version), in any order.
    pub fn from_records(shape: impl Into<TreeShape>, records: impl IntoIterator<Item = (Key, Version)>) -> TictacTree {
        let mut tree = TictacTree::new(shape);
        for (key, version) in records {
            tree.toggle(key, version);
        }
        tree
    }

    pub fn shape(&self) -> TreeShape {
        self.shape
    }

    /// Segments of the whole tree.
    pub fn segment_count(&self) -> u64 {
        self.shape.segments()
    }

    /// The segment `key` hashes to.
    pub fn segment_of(&self, key: Key) -> SegmentId {
        (mix(key ^ 0x5EED_0F5E_6E17) % self.segment_count()) as SegmentId
    }

    /// The branch holding `segment`.
    pub fn branch_of(&self, segment: SegmentId) -> u32 {
        segment / self.shape.segments_per_branch
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    /// Segments with a non-zero hash.
    pub fn occupied_segments(&self) -> usize {
        self.segments.len()
    }

    /// XORs `record_hash(key, version)` into the segment, its branch and the root
    /// (adding a record, or removing it: XOR is its own inverse).
    pub fn toggle(&mut self, key: Key, version: Version) {
        let delta = record_hash(key, version);
        let segment = self.segment_of(key);
        self.root ^= delta;
        let branch = self.branch_of(segment) as usize;
        self.branches[branch] ^= delta;
        let value = self.segments.entry(segment).or_insert(0);
        *value ^= delta;
        if *value == 0 {
            self.segments.remove(&segment);
        }
    }

    /// A write of `key` from `old` (None: the key was absent) to `new`: three XORs,
    /// no scan.
    pub fn update(&mut self, key: Key, old: Option<Version>, new: Version) {
        if let Some(old) = old {
            self.toggle(key, old);
        }
        self.toggle(key, new);
    }

    /// The non-zero segments of `branch`, in order.
    fn branch_segments(&self, branch: u32) -> std::collections::btree_map::Range<'_, SegmentId, u64> {
        let per_branch = self.shape.segments_per_branch;
        self.segments.range(branch * per_branch..(branch + 1) * per_branch)
    }

    /// Root, then the branches if the roots differ, then the segments of differing
    /// branches.
    pub fn compare(&self, other: &TictacTree) -> TreeDiff {
        assert_eq!(self.shape, other.shape, "trees of one shape");
        if self.root == other.root {
            return TreeDiff::default();
        }
        let branches: Vec<u32> = (0..self.shape.branches)
            .filter(|&b| self.branches[b as usize] != other.branches[b as usize])
            .collect();
        let mut segments = Vec::new();
        for &branch in &branches {
            let mut mine = self.branch_segments(branch).peekable();
            let mut theirs = other.branch_segments(branch).peekable();
            // A merge of two sorted sparse lists: a segment present on one side only
            // differs (the other side's is 0).
            loop {
                match (mine.peek(), theirs.peek()) {
                    (None, None) => break,
                    (Some(&(&s, _)), None) => {
                        segments.push(s);
                        mine.next();
                    }
                    (None, Some(&(&s, _))) => {
                        segments.push(s);
                        theirs.next();
                    }
                    (Some(&(&a, va)), Some(&(&b, vb))) => {
                        if a == b {
                            if va != vb {
                                segments.push(a);
                            }
                            mine.next();
                            theirs.next();
                        } else if a < b {
                            segments.push(a);
                            mine.next();
                        } else {
                            segments.push(b);
                            theirs.next();
                        }
                    }
                }
            }
        }
        TreeDiff {
            roots_differ: true,
            branches,
            segments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha12Rng;
    use std::collections::BTreeMap as Map;

    /// Applies a seeded random sequence of writes (keys reused, versions increasing)
    /// one by one, and returns the tree and the final records.
    fn written(seed: u64, writes: usize, keys: u64, width: u32) -> (TictacTree, Map<Key, Version>) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let mut tree = TictacTree::new(width);
        let mut records = Map::new();
        for version in 1..=writes as u64 {
            let key = rng.random_range(0..keys);
            let old = records.insert(key, version);
            tree.update(key, old, version);
        }
        (tree, records)
    }

    #[test]
    fn the_tree_after_any_writes_equals_the_tree_built_from_scratch() {
        for seed in 0..20 {
            let (incremental, records) = written(seed, 2_000, 300, 16);
            let mut shuffled: Vec<_> = records.into_iter().collect();
            shuffled.shuffle(&mut ChaCha12Rng::seed_from_u64(seed + 1_000));
            let scratch = TictacTree::from_records(16, shuffled);
            assert_eq!(incremental, scratch, "seed {seed}");
            assert!(incremental.root() != 0);
        }
    }

    #[test]
    fn writes_in_another_order_give_the_same_tree() {
        // The same final state reached through different histories.
        let mut a = TictacTree::new(DEFAULT_WIDTH);
        a.update(7, None, 1);
        a.update(9, None, 2);
        a.update(7, Some(1), 3);
        let mut b = TictacTree::new(DEFAULT_WIDTH);
        b.update(9, None, 2);
        b.update(7, None, 3);
        assert_eq!(a, b);
        assert_eq!(a.occupied_segments(), 2);
    }

    #[test]
    fn comparison_finds_exactly_the_segments_of_differing_keys() {
        let (tree, records) = written(3, 5_000, 100_000, DEFAULT_WIDTH);
        let mut other = tree.clone();
        let changed: Vec<Key> = records.keys().copied().step_by(500).collect();
        for &key in &changed {
            other.update(key, Some(records[&key]), 1_000_000 + key);
        }
        let diff = tree.compare(&other);
        let mut expected: Vec<SegmentId> = changed.iter().map(|&k| tree.segment_of(k)).collect();
        expected.sort_unstable();
        expected.dedup();
        assert!(diff.roots_differ);
        assert_eq!(diff.segments, expected);
        assert_eq!(
            diff.segments.len(),
            changed.len(),
            "10 keys in 2^20 segments do not collide"
        );
        let mut branches: Vec<u32> = expected.iter().map(|&s| tree.branch_of(s)).collect();
        branches.dedup();
        assert_eq!(diff.branches, branches);
        assert_eq!(tree.compare(&tree.clone()), TreeDiff::default());
    }

    #[test]
    fn a_key_missing_on_one_side_is_a_differing_segment() {
        let mut a = TictacTree::new(8);
        let b = TictacTree::new(8);
        a.update(42, None, 5);
        let diff = a.compare(&b);
        assert_eq!(diff.segments, vec![a.segment_of(42)]);
    }

    #[test]
    fn the_double_compare_filters_a_write_in_flight() {
        // Two replicas agree, then a write reaches A; a second key was lost on B.
        let (base, records) = written(11, 1_000, 10_000, DEFAULT_WIDTH);
        let (mut a, mut b) = (base.clone(), base);
        let lost = *records.keys().next().expect("written");
        a.update(lost, Some(records[&lost]), 50_000);
        let in_flight = 123_456;
        a.update(in_flight, None, 50_001);
        let first = a.compare(&b);
        assert_eq!(first.segments.len(), 2, "the lost write and the write in flight");
        // Replication delivers the write in flight before the second look.
        b.update(in_flight, None, 50_001);
        let second = a.compare(&b);
        let confirmed = first.confirmed(&second);
        assert_eq!(confirmed.segments, vec![a.segment_of(lost)]);
        assert_eq!(confirmed.branches, vec![a.branch_of(a.segment_of(lost))]);
    }
}
