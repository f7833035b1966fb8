//! What two replicas exchange to find where their data differ.
//!
//! A [`Reconciler`] turns a replica's records of a range into a summary (for the Merkle
//! walk: a tree), and two summaries into a [`Reconciliation`]: the round trips the
//! exchange takes (message sizes each way) and the parts of the range to stream. The
//! world replays the round trips on the network, then streams the parts; it charges
//! the summary's build (a scan) on the node's cores. A new way of finding differences
//! (a depth-capped tree, a Tictac XOR tree, row hashes, a set-reconciliation sketch) is
//! a new implementation of this trait, not a branch in the world.

use super::cassandra::TreeSizing;
use crate::model::merkle::{HASH_BYTES, MerkleTree, compare};
use crate::model::replicas::ReplicaTable;
use crate::model::tree_cache::TreeCache;
use crate::model::{Column, KeyRange, NodeId};
use std::any::Any;
use std::sync::Arc;

/// A replica's summary of its range: what the reconciler built, opaque to the world.
pub type Summary = Arc<dyn Any + Send + Sync>;

/// One message of an exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Hashes (or summary cells) the message carries.
    pub hashes: u64,
    /// Its payload, without the per-message header the world adds.
    pub bytes: u64,
}

/// One round trip: the initiator's request and the responder's reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub request: Message,
    pub reply: Message,
    /// Virtual time the endpoints compute between the request's arrival and the reply
    /// (decoding a sketch, encoding a larger one for a retry); 0 for the Merkle walk.
    pub compute_ns: u64,
}

/// What reconciling two summaries found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// The exchange's round trips, in order.
    pub rounds: Vec<Round>,
    /// Summary entries compared (for the Merkle walk: hashes).
    pub hashes_compared: u64,
    /// The parts to stream both ways, as (the initiator's keys, the responder's keys):
    /// equal when both sides agree on boundaries.
    pub divergent: Vec<(KeyRange, KeyRange)>,
}

/// A way for two replicas to find their differences.
pub trait Reconciler {
    /// `node`'s summary of `range`, from its records in column `replica` of the table,
    /// as they stand now (a snapshot); `leaves` is the summary's resolution.
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        leaves: u32,
        replicas: &ReplicaTable,
    ) -> Summary;

    /// The exchange between an initiator holding `a` and a responder holding `b`.
    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation;

    /// Every chosen pair's exchange in one session, `pairs` as (initiator, responder)
    /// indices into `summaries`: by default each pair on its own. A reconciler whose
    /// real protocol is run by one coordinator for all replicas (ScyllaDB's repair
    /// master) overrides it so that a row is not sent twice to the same replica.
    fn reconcile_session(&self, summaries: &[Summary], pairs: &[(usize, usize)]) -> Vec<Reconciliation> {
        pairs
            .iter()
            .map(|&(a, b)| self.reconcile(&summaries[a], &summaries[b]))
            .collect()
    }

    /// Hash operations one changed record costs on the write path while a replica keeps
    /// its summary live (trees of `leaves` leaves), rather than rebuilding it on a
    /// schedule. Default, a Merkle tree: the record's leaf and every ancestor up to the
    /// root. This assumes a leaf digest that can be updated in one hash (e.g. a sum of
    /// per-record hashes) rather than re-reading the leaf; the simulator's own leaf hash
    /// is only its equality check and is not what is charged.
    fn live_write_path_hashes(&self, leaves: u32) -> u64 {
        u64::from(leaves.trailing_zeros()) + 1
    }

    /// Whether a session's pairs start streaming only once every pair's round trips are
    /// over (Cassandra: the coordinator creates the sync tasks when it holds every
    /// replica's tree, `RepairJob`), rather than each pair as soon as its own are.
    fn syncs_after_every_exchange(&self) -> bool {
        false
    }

    /// Virtual time a scheduled build of `summary` over `range` holds a core: by default
    /// a scan of the range's keys (the Merkle walk); sketches add their encoding.
    fn build_cost_ns(&self, summary: &Summary, range: KeyRange, scan_cost_ns_per_key: u64) -> u64 {
        let _ = summary;
        range.len().saturating_mul(scan_cost_ns_per_key)
    }

    /// Keys a scheduled build of `summary` read (`keys_scanned`): by default the whole
    /// range; incremental repair reads only its unrepaired data.
    fn keys_validated(&self, summary: &Summary, range: KeyRange) -> u64 {
        let _ = summary;
        range.len()
    }

    /// Whether [`session_succeeded`](Self::session_succeeded) wants the summaries of
    /// each finished session (the world then keeps them until the session ends).
    fn remembers_sessions(&self) -> bool {
        false
    }

    /// A session whose participants built `summaries` (in participant order) finished:
    /// every pair compared and streamed. Incremental repair marks the data it validated
    /// as repaired here; aborted sessions never get here.
    fn session_succeeded(&mut self, summaries: &[Summary]) {
        let _ = summaries;
    }

    /// Whether the exchange looks twice, and how long after the first look: the world
    /// then snapshots every participant again and calls [`Reconciler::reconcile_twice`]
    /// (Tictac's filter of writes in flight). Default: one look.
    fn second_look_after_ns(&self) -> Option<u64> {
        None
    }

    /// The exchange given a first look at both sides and a second one: by default the
    /// second alone.
    fn reconcile_twice(&self, first: (&Summary, &Summary), second: (&Summary, &Summary)) -> Reconciliation {
        let _ = first;
        self.reconcile(second.0, second.1)
    }
}

/// Which reconciler a strategy's sessions use (validated from the scenario).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReconcilerChoice {
    /// The binary Merkle tree walk ([`MerkleWalk`]).
    #[default]
    Merkle,
    /// An IBLT of `cells` cells per range, doubled until the difference decodes
    /// ([`super::sketches::FixedIblt`]).
    Iblt { cells: u32 },
    /// The rateless IBLT: coded symbols streamed until the difference decodes
    /// ([`super::sketches::RatelessIblt`]).
    RatelessIblt,
    /// PinSketch of `capacity` 64-bit syndromes per sketch, bisecting a range whose
    /// difference exceeds it ([`super::sketches::PinSketchBisect`]).
    PinSketch { capacity: u32 },
    /// Cassandra full repair's depth-capped tree ([`super::cassandra::CassandraTree`]).
    CassandraTree { sizing: TreeSizing },
    /// Cassandra incremental repair: the tree over unrepaired data only
    /// ([`super::cassandra::CassandraIncremental`]).
    CassandraIncremental {
        sizing: TreeSizing,
        anticompaction_ns_per_key: u64,
    },
    /// ScyllaDB row-level repair, `rows_per_buffer` rows a round
    /// ([`super::row_level::RowLevel`]).
    RowLevel { rows_per_buffer: u64 },
    /// Every record's hash, every cycle ([`super::naive::NaiveComparison`]).
    Naive,
    /// Riak's classic AAE hashtree of `width` branches of `width` segments, its dirty
    /// segments re-hashed at exchange time at `hash_cost_ns` a key
    /// ([`super::riak::RiakHashtree`]).
    RiakHashtree { width: u32, hash_cost_ns: u64 },
    /// Riak's Tictac XOR tree of `width` x `width` segments, looked at twice
    /// `pause_ns` apart (0: once), repairing at most `max_segments` differing segments
    /// per exchange (`None`: all) ([`super::tictac::TictacExchange`]).
    Tictac {
        width: u32,
        pause_ns: u64,
        max_segments: Option<u32>,
    },
}

impl ReconcilerChoice {
    /// Name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ReconcilerChoice::Merkle => "merkle",
            ReconcilerChoice::Iblt { .. } => "iblt",
            ReconcilerChoice::RatelessIblt => "rateless_iblt",
            ReconcilerChoice::PinSketch { .. } => "pinsketch",
            ReconcilerChoice::CassandraTree { .. } => "cassandra_tree",
            ReconcilerChoice::CassandraIncremental { .. } => "cassandra_incremental",
            ReconcilerChoice::RowLevel { .. } => "row_level",
            ReconcilerChoice::Naive => "naive",
            ReconcilerChoice::RiakHashtree { .. } => "riak_hashtree",
            ReconcilerChoice::Tictac { .. } => "tictac",
        }
    }

    /// Leaves of the trees this reconciler builds over a range of `range_keys` keys when
    /// the strategy says `leaves` (Cassandra's trees size themselves), for the memory
    /// estimate.
    pub fn tree_leaves(self, leaves: u32, range_keys: u64) -> u64 {
        match self {
            ReconcilerChoice::CassandraTree { sizing } | ReconcilerChoice::CassandraIncremental { sizing, .. } => {
                1 << sizing.depth(range_keys)
            }
            _ => u64::from(leaves),
        }
    }

    /// Whether a summary holds the replica's records of the range (16 bytes each) rather
    /// than only hashes, for the memory estimate.
    /// Riak's wide trees are counted with the `riak_aae` strategy's own memory.
    pub fn holds_records(self) -> bool {
        !matches!(
            self,
            ReconcilerChoice::Merkle
                | ReconcilerChoice::CassandraTree { .. }
                | ReconcilerChoice::RiakHashtree { .. }
                | ReconcilerChoice::Tictac { .. }
        )
    }

    /// The reconciler itself, for a cluster of `nodes` nodes.
    pub fn build(self, nodes: usize) -> Box<dyn Reconciler> {
        match self {
            ReconcilerChoice::Merkle => Box::new(MerkleWalk::new(nodes)),
            ReconcilerChoice::Iblt { cells } => Box::new(super::sketches::FixedIblt::new(cells)),
            ReconcilerChoice::RatelessIblt => Box::new(super::sketches::RatelessIblt),
            ReconcilerChoice::PinSketch { capacity } => Box::new(super::sketches::PinSketchBisect::new(capacity)),
            ReconcilerChoice::CassandraTree { sizing } => Box::new(super::cassandra::CassandraTree::new(nodes, sizing)),
            ReconcilerChoice::CassandraIncremental {
                sizing,
                anticompaction_ns_per_key,
            } => Box::new(super::cassandra::CassandraIncremental::new(
                sizing,
                anticompaction_ns_per_key,
            )),
            ReconcilerChoice::RowLevel { rows_per_buffer } => {
                Box::new(super::row_level::RowLevel::new(rows_per_buffer))
            }
            ReconcilerChoice::Naive => Box::new(super::naive::NaiveComparison),
            ReconcilerChoice::RiakHashtree { width, hash_cost_ns } => {
                Box::new(super::riak::RiakHashtree::new(width, hash_cost_ns))
            }
            ReconcilerChoice::Tictac {
                width,
                pause_ns,
                max_segments,
            } => Box::new(super::tictac::TictacExchange::new(width, pause_ns, max_segments)),
        }
    }
}

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
