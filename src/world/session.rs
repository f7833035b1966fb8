//! Book-keeping of one anti-entropy session: one range compared on all replicas.
//!
//! A session moves through three phases: every node builds its tree of the range
//! (taking a snapshot when the build starts and holding one core for the modelled scan
//! time); every pair of nodes walks its two trees level by level, one round trip per
//! level; every pair streams the records of its divergent leaves both ways.

use super::event::SessionId;
use crate::model::merkle::{Comparison, MerkleTree};
use crate::model::{KeyRange, NodeId};
use crate::sim::SimTime;
use crate::strategy::TreeMaintenance;
use std::sync::Arc;

/// What a strategy asks for: compare `ranges` on all nodes with trees of `leaves` leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    /// The strategy's own label for the session (e.g. the segment index).
    pub tag: u64,
    pub leaves: u32,
    /// The range each node hashes, indexed by node. Equal ranges are the aligned case;
    /// different ranges model nodes that disagree on boundaries.
    pub ranges: Vec<KeyRange>,
    /// Scheduled trees are built by a scan that holds a core; live trees are current
    /// already and are compared at once.
    pub tree: TreeMaintenance,
}

impl SessionSpec {
    /// The usual session: every node hashes the same `range`.
    pub fn aligned(tag: u64, range: KeyRange, leaves: u32, nodes: usize) -> SessionSpec {
        SessionSpec {
            tag,
            leaves,
            ranges: vec![range; nodes],
            tree: TreeMaintenance::Scheduled,
        }
    }
}

/// What a finished session reports to its strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionReport {
    pub id: SessionId,
    pub tag: u64,
    pub started: SimTime,
    /// When the last tree finished building.
    pub trees_ready: SimTime,
    pub finished: SimTime,
    pub hashes_compared: u64,
    pub divergent_leaves: u64,
    pub records_streamed: u64,
    pub records_needed: u64,
}

/// The hash walk and streaming of one pair of nodes.
pub(super) struct PairExchange {
    /// The initiator.
    pub a: NodeId,
    /// The responder.
    pub b: NodeId,
    pub comparison: Comparison,
    /// Index into `comparison.hashes_per_level` of the round trip in flight.
    pub level: usize,
    pub streams_pending: usize,
}

/// A session in flight.
pub(super) struct Session {
    pub spec: SessionSpec,
    /// Each node's snapshot tree, kept until all are built and compared.
    pub trees: Vec<Option<Arc<MerkleTree>>>,
    pub builds_pending: usize,
    pub pairs: Vec<PairExchange>,
    pub pairs_pending: usize,
    pub report: SessionReport,
}

impl Session {
    pub fn new(id: SessionId, spec: SessionSpec, now: SimTime) -> Session {
        let nodes = spec.ranges.len();
        let report = SessionReport {
            id,
            tag: spec.tag,
            started: now,
            trees_ready: now,
            finished: now,
            hashes_compared: 0,
            divergent_leaves: 0,
            records_streamed: 0,
            records_needed: 0,
        };
        Session {
            spec,
            trees: (0..nodes).map(|_| None).collect(),
            builds_pending: nodes,
            pairs: Vec::new(),
            pairs_pending: 0,
            report,
        }
    }
}
