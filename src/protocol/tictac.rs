//! Riak 3's Tictac AAE exchange (`kv_index_tictactree`, docs/RIAK_3_AAE.md): both
//! replicas hold a live XOR tree of the partition ([`TictacTree`]); the exchange
//! compares the roots, then the branches of differing roots, then the segments of
//! differing branches, then the keys and clocks of differing segments, and repairs only
//! the keys whose clocks differ (one single-key part each, sent by the newer side).
//!
//! It looks twice: differences are kept only if a second look, [`TictacExchange::pause_ns`]
//! later, sees them too (the world takes the second snapshot, see
//! [`Reconciler::second_look_after_ns`]). A difference that a write still in flight
//! caused is gone by then, so it is not repaired; a lost write is still there.
//!
//! Costs: the roots and branches are fetched twice (the double compare), segment
//! hashes are 4 bytes (Tictac keeps 4 bytes of an MD5), a key and its clock 16 bytes.
//! The trees are live: no scan at exchange time (`build_cost_ns` is not charged for
//! live trees), and the write path pays the XOR deltas (the strategy's
//! `write_path_hashes_per_change`). With `max_segments` an exchange fetches the clocks
//! of at most that many differing segments (Tictac's `max_results`), so a large
//! divergence takes several exchanges. Not modelled: the fold over the key store that
//! fetches the clocks of differing segments (its time).

use super::reconciler::{Message, Reconciler, Reconciliation, Round, Summary};
use crate::model::replicas::ReplicaTable;
use crate::model::tictac_tree::{TreeDiff, TreeShape};
use crate::model::wide_tree_cache::WideTreeCache;
use crate::model::{Column, Key, KeyRange, NodeId, Version};

/// Bytes of one Tictac segment (or branch, or root) hash: 4 bytes of MD5 (TICTAC.md).
pub const TICTAC_HASH_BYTES: u64 = 4;
/// Bytes of one key and its clock in a clock fetch.
pub const KEY_CLOCK_BYTES: u64 = 16;

pub use crate::model::wide_tree_cache::WideTreeSummary;

pub(super) fn wide(summary: &Summary) -> &WideTreeSummary {
    summary
        .downcast_ref::<WideTreeSummary>()
        .expect("a wide-tree exchange compares only its own summaries")
}

/// The single-key parts to stream for two sides' records of the same segments: each key
/// whose versions differ, sent by the side holding the newer one.
pub fn differing_keys(a: &[(Key, Version)], b: &[(Key, Version)]) -> Vec<(KeyRange, KeyRange)> {
    let (mut i, mut j) = (0, 0);
    let mut parts = Vec::new();
    while i < a.len() || j < b.len() {
        let key = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.min(y.0),
            (Some(x), None) => x.0,
            (None, Some(y)) => y.0,
            (None, None) => unreachable!("loop condition"),
        };
        let take = |side: &[(Key, Version)], at: &mut usize| match side.get(*at) {
            Some(&(k, v)) if k == key => {
                *at += 1;
                v
            }
            _ => 0,
        };
        let (va, vb) = (take(a, &mut i), take(b, &mut j));
        if va != vb {
            let one = KeyRange::new(key, key + 1);
            let none = KeyRange::new(key, key);
            parts.push((if va > vb { one } else { none }, if vb > va { one } else { none }));
        }
    }
    parts
}

/// The exchange of a wide tree given the differences to act on: root, branches of a
/// differing root, segments of differing branches (`hash_bytes` each), then the keys
/// and clocks of the differing segments (`entry_bytes` each); `looks` is how many times
/// the root and branches are fetched (2 for Tictac's double compare).
pub fn walk(
    a: &WideTreeSummary,
    b: &WideTreeSummary,
    diff: &TreeDiff,
    looks: u64,
    hash_bytes: u64,
    entry_bytes: u64,
) -> Reconciliation {
    let level = |hashes: u64, bytes_each: u64| {
        let message = Message {
            hashes,
            bytes: hashes * bytes_each,
        };
        Round {
            request: message,
            reply: message,
            compute_ns: 0,
        }
    };
    let shape = a.tree.shape();
    let (branches, per_branch) = (u64::from(shape.branches), u64::from(shape.segments_per_branch));
    let mut rounds = vec![level(1, hash_bytes); looks as usize];
    let mut hashes_compared = looks;
    if diff.roots_differ {
        // The root's level: every branch hash (Tictac's large tree: 4,096 x 4 bytes).
        rounds.extend(std::iter::repeat_n(level(branches, hash_bytes), looks as usize));
        hashes_compared += looks * branches;
    }
    let mut divergent = Vec::new();
    if !diff.branches.is_empty() {
        // Each differing branch's segment hashes (256 x 4 bytes: "Each Branch is 1KB").
        let segments = diff.branches.len() as u64 * per_branch;
        rounds.push(level(segments, hash_bytes));
        hashes_compared += segments;
    }
    if !diff.segments.is_empty() {
        let (mine, theirs) = (a.records_in(&diff.segments), b.records_in(&diff.segments));
        let entries = |records: &[(Key, Version)]| Message {
            hashes: records.len() as u64,
            bytes: records.len() as u64 * entry_bytes,
        };
        rounds.push(Round {
            request: entries(&mine),
            reply: entries(&theirs),
            compute_ns: 0,
        });
        hashes_compared += (mine.len() + theirs.len()) as u64;
        divergent = differing_keys(&mine, &theirs);
    }
    Reconciliation {
        rounds,
        hashes_compared,
        divergent,
    }
}

/// Tictac AAE's exchange (see the module doc).
pub struct TictacExchange {
    trees: WideTreeCache,
    /// Time between the first and the second look (0: one look, no filter).
    pause_ns: u64,
    /// Most differing segments whose clocks one exchange fetches and repairs (Tictac's
    /// `max_results`); `None`: all of them.
    max_segments: Option<u32>,
}

impl TictacExchange {
    pub fn new(shape: TreeShape, pause_ns: u64, max_segments: Option<u32>) -> TictacExchange {
        TictacExchange {
            trees: WideTreeCache::new(shape),
            pause_ns,
            max_segments,
        }
    }

    /// The differences one exchange acts on: at most `max_segments` segments (Tictac
    /// prefers segments close together; here, the lowest-numbered ones), the rest left
    /// to later exchanges.
    fn bounded(&self, mut diff: TreeDiff) -> TreeDiff {
        if let Some(max) = self.max_segments {
            diff.segments.truncate(max as usize);
        }
        diff
    }
}

impl Reconciler for TictacExchange {
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        _: u32,
        replicas: &ReplicaTable,
    ) -> Summary {
        self.trees.summary(node, replica, range, replicas)
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (wide(a), wide(b));
        let diff = self.bounded(a.tree.compare(&b.tree));
        walk(a, b, &diff, 1, TICTAC_HASH_BYTES, KEY_CLOCK_BYTES)
    }

    /// Tictac hashes the old and the new clock and XORs both into the segment, branch
    /// and root (`leveled_tictac:add_kv`): two hashes per changed record.
    fn live_write_path_hashes(&self, _leaves: u32) -> u64 {
        2
    }

    fn second_look_after_ns(&self) -> Option<u64> {
        (self.pause_ns > 0).then_some(self.pause_ns)
    }

    fn reconcile_twice(&self, first: (&Summary, &Summary), second: (&Summary, &Summary)) -> Reconciliation {
        let earlier = wide(first.0).tree.compare(&wide(first.1).tree);
        let (a, b) = (wide(second.0), wide(second.1));
        let confirmed = self.bounded(earlier.confirmed(&a.tree.compare(&b.tree)));
        walk(a, b, &confirmed, 2, TICTAC_HASH_BYTES, KEY_CLOCK_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_keys_go_from_the_newer_side() {
        let a = [(1, 5), (2, 7), (4, 1)];
        let b = [(1, 5), (2, 9), (3, 2)];
        let parts = differing_keys(&a, &b);
        let one = |k| KeyRange::new(k, k + 1);
        let none = |k| KeyRange::new(k, k);
        assert_eq!(parts, vec![(none(2), one(2)), (none(3), one(3)), (one(4), none(4))]);
    }
}
