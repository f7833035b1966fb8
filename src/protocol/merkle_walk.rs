//! The binary Merkle tree walk, level by level (Dynamo-style; the plain `merkle`
//! reconciler): the descent the lesson describes, one round trip per level.

use super::reconciler::{Message, Reconciler, Reconciliation, Round, Summary};
use crate::model::merkle::{HASH_BYTES, MerkleTree, compare};
use crate::model::replicas::ReplicaTable;
use crate::model::tree_cache::TreeCache;
use crate::model::{Column, KeyRange, NodeId};
use std::sync::Arc;

/// The binary Merkle tree walk: both sides build a tree of `leaves` leaves over the
/// range; the initiator sends a level's hashes, the responder answers with its own, and
/// the walk descends only below hashes that differ; divergent leaves are streamed whole.
/// Trees come from a [`TreeCache`], so a rebuild hashes only leaves whose data changed.
pub struct MerkleWalk {
    cache: TreeCache,
}

impl MerkleWalk {
    pub fn new(nodes: usize) -> MerkleWalk {
        MerkleWalk {
            cache: TreeCache::new(nodes),
        }
    }

    fn tree(summary: &Summary) -> &MerkleTree {
        summary
            .downcast_ref::<MerkleTree>()
            .expect("the Merkle walk compares only its own trees")
    }
}

impl Reconciler for MerkleWalk {
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        leaves: u32,
        replicas: &ReplicaTable,
    ) -> Summary {
        let tree: Arc<MerkleTree> = self.cache.tree(node, replica, range, leaves, replicas);
        tree
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (Self::tree(a), Self::tree(b));
        let comparison = compare(a, b);
        let level = |hashes: u64| Message {
            hashes,
            bytes: hashes * HASH_BYTES,
        };
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
            divergent: comparison
                .divergent_leaves
                .iter()
                .map(|&leaf| (a.leaf_range(leaf), b.leaf_range(leaf)))
                .collect(),
        }
    }
}
