//! Every reconciler aesim has, in one place: [`ReconcilerChoice`] is the validated
//! choice a strategy's sessions use (from a scenario's `reconciler` and its knobs), with
//! its name in scenario files and outputs, what the memory estimate needs to know of it,
//! and [`ReconcilerChoice::build`], which makes the [`Reconciler`] itself.
//!
//! Adding a reconciler: its implementation in a module of its own (the trait is in
//! `reconciler.rs`), a variant and its arms here (the compiler lists each match), its
//! name in `scenario/file.rs`'s `ReconcilerFile`, the checker's arm in
//! `scenario/ring.rs`, and its knobs, if any, in `scenario/knobs.rs`.

use super::cassandra::{CassandraIncremental, CassandraTree, TreeSizing};
use super::merkle_walk::MerkleWalk;
use super::naive::NaiveComparison;
use super::reconciler::Reconciler;
use super::riak::{BuildThrottle, RiakHashtree};
use super::row_level::RowLevel;
use super::sketches::{FixedIblt, PinSketchBisect, RatelessIblt};
use super::tictac::TictacExchange;
use crate::model::tictac_tree::TreeShape;

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
    RiakHashtree {
        width: u32,
        hash_cost_ns: u64,
        throttle: BuildThrottle,
    },
    /// Riak's Tictac XOR tree of `shape` (branches x segments), looked at twice
    /// `pause_ns` apart (0: once), repairing at most `max_segments` differing segments
    /// per exchange (`None`: all) ([`super::tictac::TictacExchange`]).
    Tictac {
        shape: TreeShape,
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

    /// Why this reconciler's summary cannot be kept live (updated on every write, as
    /// `tree = "live"` asks), or `None` when it can: the Merkle walk's tree, and Riak's
    /// hashtrees and Tictac trees, which Riak updates on every write; the others read a
    /// snapshot of the range. `{name}` stands for its scenario name.
    pub fn why_not_live(self) -> Option<&'static str> {
        match self {
            ReconcilerChoice::Merkle | ReconcilerChoice::RiakHashtree { .. } | ReconcilerChoice::Tictac { .. } => None,
            ReconcilerChoice::Iblt { .. } | ReconcilerChoice::RatelessIblt | ReconcilerChoice::PinSketch { .. } => {
                Some("a set-reconciliation sketch is built from a snapshot, not kept live")
            }
            ReconcilerChoice::CassandraTree { .. }
            | ReconcilerChoice::CassandraIncremental { .. }
            | ReconcilerChoice::RowLevel { .. }
            | ReconcilerChoice::Naive => {
                Some("`reconciler = \"{name}\"` reads a snapshot of the range; it is not kept live")
            }
        }
    }

    /// The reconciler itself, for a cluster of `nodes` nodes.
    pub fn build(self, nodes: usize) -> Box<dyn Reconciler> {
        match self {
            ReconcilerChoice::Merkle => Box::new(MerkleWalk::new(nodes)),
            ReconcilerChoice::Iblt { cells } => Box::new(FixedIblt::new(cells)),
            ReconcilerChoice::RatelessIblt => Box::new(RatelessIblt),
            ReconcilerChoice::PinSketch { capacity } => Box::new(PinSketchBisect::new(capacity)),
            ReconcilerChoice::CassandraTree { sizing } => Box::new(CassandraTree::new(nodes, sizing)),
            ReconcilerChoice::CassandraIncremental {
                sizing,
                anticompaction_ns_per_key,
            } => Box::new(CassandraIncremental::new(sizing, anticompaction_ns_per_key)),
            ReconcilerChoice::RowLevel { rows_per_buffer } => Box::new(RowLevel::new(rows_per_buffer)),
            ReconcilerChoice::Naive => Box::new(NaiveComparison),
            ReconcilerChoice::RiakHashtree {
                width,
                hash_cost_ns,
                throttle,
            } => Box::new(RiakHashtree::new(width, hash_cost_ns, throttle)),
            ReconcilerChoice::Tictac {
                shape,
                pause_ns,
                max_segments,
            } => Box::new(TictacExchange::new(shape, pause_ns, max_segments)),
        }
    }
}
