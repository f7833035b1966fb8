//! Checks of the `[cluster]` table's token-ring fields and of each strategy's repair
//! protocol fields (`pairs`, `session_overhead`).

use super::Checker;
use super::file::{
    CassandraVersionFile, ClusterFile, CoordinatorFile, PairsFile, RacksFile, ReconcilerFile, ReconcilerKnobs,
    TokensFile,
};
use crate::model::ring::{CoordinatorChoice, RingConfig, TokenAllocation};
use crate::protocol::PairSelection;
use crate::protocol::cassandra::{
    CASSANDRA_3_11_MAX_TREE_DEPTH, DEFAULT_MAX_TREE_DEPTH, DEFAULT_SESSION_SPACE_BYTES, MAX_TREE_DEPTH, TreeSizing,
};
use crate::protocol::registry::ReconcilerChoice;
use crate::protocol::row_level::DEFAULT_ROW_BUFFER_BYTES;
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
                PairsFile::Star => PairSelection::Star,
            },
            session_overhead_ns: session_overhead_ns.unwrap_or(0),
            reconciler: ReconcilerChoice::Merkle,
        }
    }

    /// A strategy's `reconciler` and its knobs, each knob accepted only with its own
    /// reconciler; `tree = "live"` only where the reconciler can keep its summary live.
    pub(super) fn reconciler(
        &mut self,
        choice: ReconcilerFile,
        knobs: &ReconcilerKnobs,
        live: bool,
        c: &ClusterFile,
        at: &dyn Fn(&str) -> String,
    ) -> ReconcilerChoice {
        let name = reconciler_name(choice);
        use ReconcilerFile as R;
        for (field, given, owners) in knobs.owners() {
            if given && !owners.contains(&choice) {
                let owner = reconciler_name(owners[0]);
                self.error(
                    &at(field),
                    format!("`{field}` applies only to `reconciler = \"{owner}\"` (this strategy's is \"{name}\")"),
                    &format!("remove `{field}`, or set `reconciler = \"{owner}\"`"),
                );
            }
        }
        let built = match choice {
            R::Merkle => ReconcilerChoice::Merkle,
            R::RatelessIblt => ReconcilerChoice::RatelessIblt,
            R::Iblt => {
                let cells = knobs.iblt_cells.unwrap_or(DEFAULT_IBLT_CELLS);
                self.require(
                    (MIN_IBLT_CELLS..=MAX_IBLT_CELLS).contains(&cells),
                    &at("iblt_cells"),
                    "between 3 and 2^24",
                    cells,
                    "cells of each range's first IBLT (3 hash functions: about 1.3 cells per differing record decode)",
                );
                ReconcilerChoice::Iblt { cells }
            }
            R::Pinsketch => {
                let capacity = knobs.pinsketch_capacity.unwrap_or(DEFAULT_PINSKETCH_CAPACITY);
                self.require(
                    (MIN_PINSKETCH_CAPACITY..=MAX_PINSKETCH_CAPACITY).contains(&capacity),
                    &at("pinsketch_capacity"),
                    "between 2 and 4,096",
                    capacity,
                    "differing records one sketch decodes (64 bits each; decoding costs O(capacity^2))",
                );
                ReconcilerChoice::PinSketch { capacity }
            }
            R::CassandraTree => ReconcilerChoice::CassandraTree {
                sizing: self.tree_sizing(knobs, c, at),
            },
            R::CassandraIncremental => {
                let sizing = self.tree_sizing(knobs, c, at);
                ReconcilerChoice::CassandraIncremental {
                    sizing,
                    anticompaction_ns_per_key: knobs.anticompaction_cost_per_key.map_or(c.scan_cost_per_key.0, |d| d.0),
                }
            }
            R::RowLevel => {
                let bytes = knobs.row_buffer_bytes.unwrap_or(DEFAULT_ROW_BUFFER_BYTES);
                self.require(
                    (1..=MAX_ROW_BUFFER_BYTES).contains(&bytes),
                    &at("row_buffer_bytes"),
                    "between 1 and 2^32",
                    bytes,
                    "rows read and compared per round: ScyllaDB uses 256 KiB (262144)",
                );
                ReconcilerChoice::RowLevel {
                    rows_per_buffer: (bytes / c.record_bytes.max(1)).max(1),
                }
            }
            R::Naive => ReconcilerChoice::Naive,
        };
        if live && let Some(why) = built.why_not_live() {
            self.error(
                &at("tree"),
                why.replace("{name}", name),
                "remove `tree = \"live\"`, or use `reconciler = \"merkle\"`",
            );
        }
        built
    }

    /// How a Cassandra tree is sized: the version's rule, the depth cap, and (4.0) the
    /// session space shared by the replicas' trees (`replication_factor`, or every
    /// node) and `session_ranges`.
    fn tree_sizing(&mut self, knobs: &ReconcilerKnobs, c: &ClusterFile, at: &dyn Fn(&str) -> String) -> TreeSizing {
        let version = knobs.cassandra_version.unwrap_or_default();
        let default_depth = match version {
            CassandraVersionFile::V3_11 => CASSANDRA_3_11_MAX_TREE_DEPTH,
            CassandraVersionFile::V4_0 => DEFAULT_MAX_TREE_DEPTH,
        };
        let max_depth = knobs.max_tree_depth.unwrap_or(default_depth);
        self.require(
            (1..=MAX_TREE_DEPTH).contains(&max_depth),
            &at("max_tree_depth"),
            "between 1 and 24",
            max_depth,
            "Cassandra caps trees at depth 20 (18 in 3.11); before CASSANDRA-5263 depth was 15",
        );
        let ranges = knobs.session_ranges.unwrap_or(1);
        self.require(
            ranges >= 1,
            &at("session_ranges"),
            "at least 1",
            ranges,
            "token ranges repaired in one session, sharing its space (e.g. 256 with 256 vnodes on 3 nodes)",
        );
        let max_depth = max_depth.clamp(1, MAX_TREE_DEPTH);
        let ranges = u64::from(ranges.max(1));
        if version == CassandraVersionFile::V3_11 {
            if knobs.repair_session_space_mib.is_some() {
                self.error(
                    &at("repair_session_space_mib"),
                    "Cassandra 3.11 has no `repair_session_space`: its trees are bounded by depth alone".into(),
                    "remove `repair_session_space_mib`, or set `cassandra_version = \"4.0\"`",
                );
            }
            return TreeSizing::cassandra_3_11(max_depth, ranges);
        }
        let space_mib = knobs
            .repair_session_space_mib
            .unwrap_or(DEFAULT_SESSION_SPACE_BYTES >> 20);
        self.require(
            (1..=MAX_SESSION_SPACE_MIB).contains(&space_mib),
            &at("repair_session_space_mib"),
            "between 1 and 1,048,576 (1 TiB)",
            space_mib,
            "Cassandra's default is 1/16 of the heap: 512 for an 8 GiB heap; it refuses less than 1",
        );
        let replicas = c.replication_factor.unwrap_or(c.nodes).max(1);
        TreeSizing::new(
            max_depth,
            space_mib.clamp(1, MAX_SESSION_SPACE_MIB) << 20,
            replicas,
            ranges,
        )
    }
}

/// A reconciler's name in scenario files.
fn reconciler_name(choice: ReconcilerFile) -> &'static str {
    match choice {
        ReconcilerFile::Merkle => "merkle",
        ReconcilerFile::Iblt => "iblt",
        ReconcilerFile::RatelessIblt => "rateless_iblt",
        ReconcilerFile::Pinsketch => "pinsketch",
        ReconcilerFile::CassandraTree => "cassandra_tree",
        ReconcilerFile::CassandraIncremental => "cassandra_incremental",
        ReconcilerFile::RowLevel => "row_level",
        ReconcilerFile::Naive => "naive",
    }
}

/// Largest `repair_session_space_mib` (1 TiB).
const MAX_SESSION_SPACE_MIB: u64 = 1 << 20;
/// Largest `row_buffer_bytes` (4 GiB).
const MAX_ROW_BUFFER_BYTES: u64 = 1 << 32;

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
