//! Checks of the `[cluster]` table's token-ring fields and of each strategy's repair
//! protocol fields (`pairs`, `session_overhead`).

use super::Checker;
use super::file::{ClusterFile, CoordinatorFile, PairsFile, RacksFile, ReconcilerFile, TokensFile};
use crate::model::ring::{CoordinatorChoice, RingConfig, TokenAllocation};
use crate::protocol::PairSelection;
use crate::protocol::reconciler::ReconcilerChoice;
use crate::strategy::RepairSettings;

/// Most tokens one node may own.
pub const MAX_VNODES: u32 = 4096;

impl Checker<'_> {
    /// The ring `c` describes: `None` when it sets none of the ring fields (every node
    /// holds every key, as before rings existed).
    pub(super) fn ring(&mut self, c: &ClusterFile) -> Option<RingConfig> {
        let configured =
            c.replication_factor.is_some() || c.vnodes.is_some() || c.tokens.is_some() || c.racks.is_some();
        if !configured {
            if c.coordinator.is_some() {
                self.error(
                    "cluster.coordinator",
                    "`coordinator` matters only on a token ring, where some nodes do not hold a key".into(),
                    "set `replication_factor` below `nodes`, or remove `coordinator`",
                );
            }
            return None;
        }
        // Invalid node counts are reported elsewhere; clamp so nothing here is huge.
        let nodes = c.nodes.clamp(2, super::MAX_NODES);
        let replication_factor = c.replication_factor.unwrap_or(nodes);
        self.require(
            (2..=nodes).contains(&replication_factor),
            "cluster.replication_factor",
            &format!("between 2 and `nodes` ({nodes})"),
            replication_factor,
            "each key is stored on this many nodes; 3 is the usual choice",
        );
        let vnodes = c.vnodes.unwrap_or(1);
        self.require(
            (1..=MAX_VNODES).contains(&vnodes),
            "cluster.vnodes",
            "between 1 and 4096",
            vnodes,
            "tokens per node: Cassandra's num_tokens is 16 (4.0) or 256 (before)",
        );
        let tokens = u128::from(nodes) * u128::from(vnodes);
        self.require(
            tokens <= u128::from(c.keys),
            "cluster.vnodes",
            &format!(
                "small enough that `nodes` x `vnodes` is at most the number of keys ({})",
                c.keys
            ),
            format!("{vnodes} ({tokens} tokens)"),
            "every token needs a key of its own",
        );
        let racks = match &c.racks {
            None => None,
            Some(RacksFile::Count(count)) => {
                self.require(
                    (1..=nodes).contains(count),
                    "cluster.racks",
                    &format!("between 1 and `nodes` ({nodes})"),
                    count,
                    "node n is in rack n % racks",
                );
                Some((0..nodes).map(|n| (n % (*count).max(1)) as u32).collect())
            }
            Some(RacksFile::PerNode(list)) => {
                self.require(
                    list.len() as u64 == nodes,
                    "cluster.racks",
                    &format!("a rack number for each of the {nodes} nodes"),
                    entries(list.len()),
                    "e.g. racks = [0, 1, 2, 0, 1, 2], or racks = 3",
                );
                self.require(
                    list.iter().all(|&r| r < nodes),
                    "cluster.racks",
                    &format!("rack numbers below `nodes` ({nodes})"),
                    format!("{list:?}"),
                    "",
                );
                Some(list.iter().map(|&r| r as u32).collect())
            }
        };
        Some(RingConfig {
            replication_factor: replication_factor as usize,
            vnodes,
            allocation: match c.tokens.unwrap_or(TokensFile::Balanced) {
                TokensFile::Random => TokenAllocation::Random,
                TokensFile::Balanced => TokenAllocation::Balanced,
            },
            racks,
            coordinator: match c.coordinator.unwrap_or(CoordinatorFile::Any) {
                CoordinatorFile::Any => CoordinatorChoice::Any,
                CoordinatorFile::Replica => CoordinatorChoice::Replica,
            },
        })
    }

    /// Each node's cores: `cores` for all, or `node_cores` one by one.
    pub(super) fn node_cores(&mut self, c: &ClusterFile) -> Vec<u32> {
        // Invalid node counts are reported elsewhere; clamp so nothing here is huge.
        let nodes = c.nodes.clamp(2, super::MAX_NODES) as usize;
        match &c.node_cores {
            None => vec![c.cores; nodes],
            Some(list) => {
                self.require(
                    list.len() as u64 == c.nodes,
                    "cluster.node_cores",
                    &format!("one core count for each of the {} nodes", c.nodes),
                    entries(list.len()),
                    "e.g. node_cores = [8, 8, 8, 8, 8, 4] for one node with half the cores",
                );
                self.require(
                    list.iter().all(|&n| (1..=super::MAX_CORES).contains(&n)),
                    "cluster.node_cores",
                    "core counts between 1 and 4096",
                    format!("{list:?}"),
                    "",
                );
                let mut cores = list.clone();
                cores.resize(nodes, c.cores);
                cores.iter_mut().for_each(|n| *n = (*n).max(1));
                cores
            }
        }
    }

    /// A strategy's protocol settings.
    pub(super) fn repair_settings(pairs: PairsFile, session_overhead_ns: Option<u64>) -> RepairSettings {
        RepairSettings {
            pairs: match pairs {
                PairsFile::All => PairSelection::All,
                PairsFile::Chain => PairSelection::Chain,
                PairsFile::Ring => PairSelection::Ring,
            },
            session_overhead_ns: session_overhead_ns.unwrap_or(0),
            reconciler: ReconcilerChoice::Merkle,
        }
    }

    /// A strategy's `reconciler` and its knobs (`iblt_cells`, `pinsketch_capacity`),
    /// each accepted only with its own reconciler; a sketch needs a scheduled snapshot
    /// (it is not kept live on the write path).
    pub(super) fn reconciler(
        &mut self,
        choice: ReconcilerFile,
        (iblt_cells, pinsketch_capacity): (Option<u32>, Option<u32>),
        live: bool,
        at: &dyn Fn(&str) -> String,
    ) -> ReconcilerChoice {
        let name = match choice {
            ReconcilerFile::Merkle => "merkle",
            ReconcilerFile::Iblt => "iblt",
            ReconcilerFile::RatelessIblt => "rateless_iblt",
            ReconcilerFile::Pinsketch => "pinsketch",
        };
        if live && choice != ReconcilerFile::Merkle {
            self.error(
                &at("tree"),
                "a set-reconciliation sketch is built from a snapshot, not kept live".into(),
                "remove `tree = \"live\"`, or use `reconciler = \"merkle\"`",
            );
        }
        for (field, value, owner) in [
            ("iblt_cells", iblt_cells, ReconcilerFile::Iblt),
            ("pinsketch_capacity", pinsketch_capacity, ReconcilerFile::Pinsketch),
        ] {
            if value.is_some() && choice != owner {
                let owner = if owner == ReconcilerFile::Iblt {
                    "iblt"
                } else {
                    "pinsketch"
                };
                self.error(
                    &at(field),
                    format!("`{field}` applies only to `reconciler = \"{owner}\"` (this strategy's is \"{name}\")"),
                    &format!("remove `{field}`, or set `reconciler = \"{owner}\"`"),
                );
            }
        }
        match choice {
            ReconcilerFile::Merkle => ReconcilerChoice::Merkle,
            ReconcilerFile::RatelessIblt => ReconcilerChoice::RatelessIblt,
            ReconcilerFile::Iblt => {
                let cells = iblt_cells.unwrap_or(DEFAULT_IBLT_CELLS);
                self.require(
                    (MIN_IBLT_CELLS..=MAX_IBLT_CELLS).contains(&cells),
                    &at("iblt_cells"),
                    "between 3 and 2^24",
                    cells,
                    "cells of each range's first IBLT (3 hash functions: about 1.3 cells per differing record decode)",
                );
                ReconcilerChoice::Iblt { cells }
            }
            ReconcilerFile::Pinsketch => {
                let capacity = pinsketch_capacity.unwrap_or(DEFAULT_PINSKETCH_CAPACITY);
                self.require(
                    (MIN_PINSKETCH_CAPACITY..=MAX_PINSKETCH_CAPACITY).contains(&capacity),
                    &at("pinsketch_capacity"),
                    "between 2 and 4,096",
                    capacity,
                    "differing records one sketch decodes (64 bits each; decoding costs O(capacity^2))",
                );
                ReconcilerChoice::PinSketch { capacity }
            }
        }
    }
}

/// Cells of a range's first IBLT when `iblt_cells` is not given.
pub const DEFAULT_IBLT_CELLS: u32 = 1_024;
const MIN_IBLT_CELLS: u32 = 3;
const MAX_IBLT_CELLS: u32 = 1 << 24;
/// Syndromes of a PinSketch when `pinsketch_capacity` is not given.
pub const DEFAULT_PINSKETCH_CAPACITY: u32 = 64;
const MIN_PINSKETCH_CAPACITY: u32 = 2;
const MAX_PINSKETCH_CAPACITY: u32 = 4_096;

/// "1 entry", "3 entries".
fn entries(count: usize) -> String {
    if count == 1 {
        "1 entry".into()
    } else {
        format!("{count} entries")
    }
}
