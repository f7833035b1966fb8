//! The repair protocol's vocabulary: what a strategy asks for (a [`SessionSpec`]: a key
//! range, the replicas taking part and the pairs of them that compare), what it hears
//! back (a [`SessionReport`]), and what replicas exchange to find their differences
//! (a [`Reconciler`](reconciler::Reconciler)).
//!
//! A session runs in three phases, carried out by the world (`world/repair.rs`):
//! 1. every participant summarises its range (for the Merkle walk: a tree build, a
//!    scan holding one of the node's cores; builds queue when all cores are busy);
//! 2. every chosen pair reconciles its two summaries, replaying the exchange's round
//!    trips on the network;
//! 3. every pair streams the parts found different, both ways; newer versions win.
//!
//! Strategies depend on this module, and so does the world; neither depends on the
//! other's internals.

pub mod cassandra;
pub mod merkle_walk;
pub mod naive;
pub mod reconciler;
pub mod registry;
pub mod riak;
pub mod row_level;
pub mod sketches;
pub mod tictac;

use crate::model::{KeyRange, NodeId};
use crate::sim::SimTime;

/// Identifies an anti-entropy session within one run.
pub type SessionId = u64;

/// How trees are kept up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeMaintenance {
    /// Rebuilt from a full scan of the range before each comparison (a snapshot).
    Scheduled,
    /// Updated on every write (O(log leaves) hashes on the write path), so a comparison
    /// can start at once, with no scan.
    Live,
}

impl TreeMaintenance {
    /// Name in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            TreeMaintenance::Scheduled => "scheduled",
            TreeMaintenance::Live => "live",
        }
    }
}

/// Which pairs of a range's replicas compare their summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PairSelection {
    /// Every pair (Cassandra's repair job: RF x (RF - 1) / 2 pairs).
    #[default]
    All,
    /// Each replica with its successor in preference order, as a chain (RF - 1 pairs;
    /// Riak-style exchanges along the preference list).
    Chain,
    /// The chain closed into a ring: the last replica also with the first (RF pairs for
    /// RF > 2; one pair for two replicas).
    Ring,
    /// The first replica with each of the others (RF - 1 pairs): ScyllaDB's repair
    /// master and its followers.
    Star,
}

impl PairSelection {
    /// The pairs among `n` participants, as (initiator, responder) indices.
    pub fn pairs(self, n: usize) -> Vec<(usize, usize)> {
        match self {
            PairSelection::All => (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).collect(),
            PairSelection::Chain => (1..n).map(|b| (b - 1, b)).collect(),
            PairSelection::Ring => {
                let mut pairs: Vec<(usize, usize)> = (1..n).map(|b| (b - 1, b)).collect();
                if n > 2 {
                    pairs.push((n - 1, 0));
                }
                pairs
            }
            PairSelection::Star => (1..n).map(|b| (0, b)).collect(),
        }
    }
}

/// One replica taking part in a session, and the range it summarises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Participant {
    pub node: NodeId,
    /// Equal on every participant in the aligned case; different ranges model nodes
    /// that disagree on segment boundaries.
    pub range: KeyRange,
}

/// What a strategy asks for: compare a range on some replicas, pair by pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    /// The strategy's own label for the session (e.g. the segment index).
    pub tag: u64,
    /// Leaves of each participant's tree.
    pub leaves: u32,
    pub participants: Vec<Participant>,
    /// Which participants compare, as indices into `participants`.
    pub pairs: Vec<(usize, usize)>,
    /// Scheduled trees are built by a scan that holds a core; live trees are current
    /// already and are compared at once.
    pub tree: TreeMaintenance,
    /// Ranges the session repairs (1 but for [common ranges](SessionSpec::common_ranges)):
    /// the participants are that many equal blocks, one per range, each pair within one
    /// block.
    pub ranges: usize,
}

impl SessionSpec {
    /// The usual session: every replica in `replicas` summarises the same `range`.
    pub fn aligned(tag: u64, range: KeyRange, leaves: u32, replicas: &[NodeId], pairs: PairSelection) -> SessionSpec {
        SessionSpec {
            tag,
            leaves,
            participants: replicas.iter().map(|&node| Participant { node, range }).collect(),
            pairs: pairs.pairs(replicas.len()),
            tree: TreeMaintenance::Scheduled,
            ranges: 1,
        }
    }

    /// One session over several ranges that share a replica set, as Cassandra (3.0 and
    /// later) repairs them (apache/cassandra `repair/CommonRange.java`;
    /// `AbstractRepairTask.submitRepairSessions` submits one `RepairSession` per common
    /// range, and each `RepairJob` validates all of its ranges): each `(range,
    /// replicas)` is one block of participants, its pairs chosen by `pairs` within the
    /// block. The session's setup is paid once, and each replica validates its ranges
    /// one after another (one validation over all of them).
    pub fn common_ranges(tag: u64, ranges: &[(KeyRange, &[NodeId])], leaves: u32, pairs: PairSelection) -> SessionSpec {
        let block = ranges.first().map_or(0, |(_, replicas)| replicas.len());
        debug_assert!(
            ranges.iter().all(|(_, replicas)| replicas.len() == block),
            "common ranges share one replica set"
        );
        SessionSpec {
            tag,
            leaves,
            participants: ranges
                .iter()
                .flat_map(|&(range, replicas)| replicas.iter().map(move |&node| Participant { node, range }))
                .collect(),
            pairs: (0..ranges.len())
                .flat_map(|r| {
                    pairs
                        .pairs(block)
                        .into_iter()
                        .map(move |(a, b)| (r * block + a, r * block + b))
                })
                .collect(),
            tree: TreeMaintenance::Scheduled,
            ranges: ranges.len().max(1),
        }
    }

    /// The nodes taking part, each once, in participant order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.participants
            .iter()
            .enumerate()
            .filter(|&(i, p)| self.participants[..i].iter().all(|q| q.node != p.node))
            .map(|(_, p)| p.node)
    }

    /// Participants per range: the size of each block.
    pub fn block_len(&self) -> usize {
        self.participants.len() / self.ranges.max(1)
    }

    /// The participants of each range, as index ranges into `participants`.
    pub fn blocks(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let len = self.block_len();
        (0..self.ranges.max(1)).map(move |r| r * len..(r + 1) * len)
    }

    /// The ranges the session repairs (each block's first participant's: the agreed
    /// boundaries).
    pub fn repaired_ranges(&self) -> impl Iterator<Item = KeyRange> + '_ {
        self.blocks().map(|block| self.participants[block.start].range)
    }
}

/// What a finished session reports to its strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionReport {
    pub id: SessionId,
    pub tag: u64,
    /// When the strategy asked for it (earlier than its start if it waited for a fault
    /// to clear).
    pub started: SimTime,
    /// When the last tree finished building.
    pub trees_ready: SimTime,
    pub finished: SimTime,
    pub hashes_compared: u64,
    pub divergent_leaves: u64,
    pub records_streamed: u64,
    pub records_needed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_selections_count_as_documented() {
        assert_eq!(PairSelection::All.pairs(3), vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(PairSelection::Chain.pairs(3), vec![(0, 1), (1, 2)]);
        assert_eq!(PairSelection::Ring.pairs(3), vec![(0, 1), (1, 2), (2, 0)]);
        assert_eq!(PairSelection::Ring.pairs(2), vec![(0, 1)]);
        assert_eq!(PairSelection::All.pairs(5).len(), 10);
    }
}
