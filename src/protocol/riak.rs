//! Riak's classic AAE exchange (`riak_kv_index_hashtree`, `hashtree.erl`): each replica
//! keeps a persistent hashtree per partition, of the same wide shape as Tictac's (root,
//! 1,024 branches, 1,048,576 segments by default); a key lands in a segment by a hash.
//!
//! A write inserts (key, object hash) into the tree's key store and marks its segment
//! dirty; at exchange time every dirty segment is re-folded from the key store and
//! re-hashed (SHA-1 over its sorted key/hash list), then the levels above it
//! (kv_index_tictactree docs/RIAK_2_AAE.md). The exchange compares the root, the
//! branches, the segments of differing branches, then the key/hash lists of
//! differing segments, and repairs the keys that differ: one look, no filter of
//! writes in flight.
//!
//! Modelled costs: hashes of 20 bytes (SHA-1), key/hash entries of 28 bytes; the
//! exchange-time update of dirty segments as the first round's `compute_ns`: the keys
//! of the segments that changed since the tree's previous exchange, one hash each
//! (`hash_cost_ns`), the slower side's. The comparison itself uses the XOR tree
//! (`model::tictac_tree`): it finds the same differing segments as a SHA over the
//! sorted list. The full rebuild of a tree (a scan of the partition) is the
//! strategy's (`strategy::riak_aae`); this reconciler adds the build throttle's sleeps
//! to its duration ([`BuildThrottle`]).

use super::reconciler::{Reconciler, Reconciliation, Summary};
use super::tictac::walk;
use crate::model::replicas::ReplicaTable;
use crate::model::wide_tree_cache::{WideTreeCache, WideTreeSummary};
use crate::model::{Column, KeyRange, NodeId};
use std::sync::Arc;

/// Bytes of one hash of Riak's hashtree (SHA-1, `crypto:sha` in `hashtree.erl`).
pub const RIAK_HASH_BYTES: u64 = 20;
/// Bytes of one (key, object hash) entry of a segment's list.
pub const KEY_HASH_BYTES: u64 = 8 + RIAK_HASH_BYTES;

/// Riak's build throttle (`riak_kv_index_hashtree.erl`: `DEFAULT_BUILD_THROTTLE
/// {1000000, 100}`, `maybe_throttle_build`): a tree build folding the partition's
/// objects sleeps `pause_ns` after every `bytes_per_pause` bytes folded, so a rebuild
/// lasts at least its data size / 1 MB x 100 ms (a 100 GB vnode: 2.8 h of sleeps),
/// whatever the scan costs. The build keeps its core while it sleeps (the next build
/// on the node waits), but the sleeps are not counted as core time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildThrottle {
    pub bytes_per_pause: u64,
    pub pause_ns: u64,
    /// Bytes of one object (the scenario's record size).
    pub record_bytes: u64,
}

impl BuildThrottle {
    /// Riak's default for objects of `record_bytes`: 100 ms per 1,000,000 bytes.
    pub fn riak(record_bytes: u64) -> BuildThrottle {
        BuildThrottle {
            bytes_per_pause: 1_000_000,
            pause_ns: 100_000_000,
            record_bytes,
        }
    }

    /// The sleeps of a build folding `objects` objects.
    pub fn pause_ns(&self, objects: u64) -> u64 {
        if self.pause_ns == 0 || self.bytes_per_pause == 0 {
            return 0;
        }
        let pauses = u128::from(objects) * u128::from(self.record_bytes) / u128::from(self.bytes_per_pause);
        u64::try_from(pauses * u128::from(self.pause_ns)).unwrap_or(u64::MAX)
    }
}

/// A classic hashtree summary: the tree and records, and the time its exchange-time
/// update of dirty segments took.
pub struct HashtreeSummary {
    pub wide: Arc<WideTreeSummary>,
    pub update_ns: u64,
}

/// Riak's classic AAE exchange (see the module doc).
pub struct RiakHashtree {
    trees: WideTreeCache,
    /// One hash of a key's entry at exchange-time update.
    hash_cost_ns: u64,
    throttle: BuildThrottle,
}

impl RiakHashtree {
    pub fn new(width: u32, hash_cost_ns: u64, throttle: BuildThrottle) -> RiakHashtree {
        RiakHashtree {
            trees: WideTreeCache::new(width),
            hash_cost_ns,
            throttle,
        }
    }
}

fn hashtree(summary: &Summary) -> &HashtreeSummary {
    summary
        .downcast_ref::<HashtreeSummary>()
        .expect("the Riak hashtree exchange compares only its own summaries")
}

impl Reconciler for RiakHashtree {
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        _: u32,
        replicas: &ReplicaTable,
    ) -> Summary {
        let wide = self.trees.summary(node, replica, range, replicas);
        // Dirty: segments changed since this tree's previous summary (all occupied ones
        // the first time). Each is re-folded: every key in it hashed again.
        let rehashed = wide.records_in(&wide.dirty).len() as u64;
        Arc::new(HashtreeSummary {
            wide,
            update_ns: rehashed.saturating_mul(self.hash_cost_ns),
        })
    }

    /// Riak's classic AAE inserts the object's hash into the tree's key store (and marks
    /// its segment dirty): one hash per changed record (`riak_kv_index_hashtree:insert`).
    fn live_write_path_hashes(&self, _leaves: u32) -> u64 {
        1
    }

    /// A rebuild folds every object of the partition, sleeping as the throttle says.
    fn build_pause_ns(&self, _: &Summary, range: KeyRange) -> u64 {
        self.throttle.pause_ns(range.len())
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (hashtree(a), hashtree(b));
        let mut reconciliation = walk(
            &a.wide,
            &b.wide,
            &a.wide.tree.compare(&b.wide.tree),
            1,
            RIAK_HASH_BYTES,
            KEY_HASH_BYTES,
        );
        reconciliation.rounds[0].compute_ns = a.update_ns.max(b.update_ns);
        reconciliation
    }
}

#[cfg(test)]
mod tests {
    use super::BuildThrottle;

    #[test]
    fn the_build_throttle_sleeps_100_ms_per_megabyte_folded() {
        // riak_kv_index_hashtree.erl: {1000000, 100}. A partition of 10^8 objects of
        // 100 bytes is 10 GB: 10,000 sleeps of 100 ms, 1,000 s on top of its scan.
        let throttle = BuildThrottle::riak(100);
        assert_eq!(throttle.pause_ns(100_000_000), 1_000_000_000_000);
        // Less than a megabyte folded: no sleep yet.
        assert_eq!(throttle.pause_ns(9_999), 0);
        assert_eq!(throttle.pause_ns(10_000), 100_000_000);
        let off = BuildThrottle {
            pause_ns: 0,
            ..throttle
        };
        assert_eq!(off.pause_ns(100_000_000), 0);
    }
}
