//! The resource guard: how much memory a scenario will need, estimated before running
//! it, so that a scenario too large for the machine is refused with a clear message
//! instead of being killed by the operating system halfway through.
//!
//! The estimate is a deliberate upper bound built from the model's own data structures
//! (see each term below); it never looks at the clock or the machine, so it is the same
//! everywhere. Only the default limit reads the machine's memory size.

use crate::scenario::Scenario;
use crate::strategy::{StrategyConfig, StrategyKind};

/// Bytes per stored key in the replica table beyond its versions: the slot's key (8)
/// inside its bucket, the bucket's growth slack (up to the slot's size again), and the
/// key's place in first-write order (8); the bucket index (at most 2^20 headers, 56 MiB)
/// is counted apart. An upper bound: the full-scale scenario measures about 60
/// bytes per key in all with two replicas (docs/reference.md's Performance).
const KEY_INDEX_BYTES: u64 = 48;
/// Bytes per queued event: the event itself, its heap entry and its sequence number.
const EVENT_BYTES: u64 = 96;
/// Bytes per time-series row, excluding the staleness buckets.
const SAMPLE_BYTES: u64 = 256;
/// Bytes per staleness bucket of a time-series row, in memory and as CSV text.
const BUCKET_BYTES: u64 = 48;
/// A repair-latency histogram (3 significant digits up to hours) and other fixed parts.
const WORLD_FIXED_BYTES: u64 = 1 << 20;
/// The estimate adds 1/`SLACK_DIVISOR` of a world's structures for what they leave out.
const SLACK_DIVISOR: u64 = 8;
/// The program itself (its mapped code: the debug build of the tests is the largest), its
/// threads and the scenario.
const PROCESS_FIXED_BYTES: u64 = 12 << 20;

/// Bytes of one IBLT cell (`model::sketch::Cell`: a count and three sums).
const IBLT_CELL_BYTES: u64 = 32;
/// Bytes of one PinSketch syndrome.
const SYNDROME_BYTES: u64 = 8;
/// What a finished strategy's result keeps apart from its samples (the latency
/// histogram at 3 significant digits, the censored estimate, counters, the repair
/// records of a ring), and its share of the report's fixed parts: measured at about
/// 630 KiB a strategy (200 strategies of 25 rows: 267 MiB).
const RESULT_FIXED_BYTES: u64 = 768 << 10;
/// Bytes per cell of a staged CSV file while the report is rendered from it: the text
/// (about 8 bytes) and the table the report reads it back into (a `String` of 24 bytes
/// and its heap). Measured: 200 strategies x 250 rows x 64 staleness buckets peak at
/// 1.42 GiB, 26 KiB a strategy and row, of which staleness.csv's 64 x 6 cells are most.
const STAGED_CELL_BYTES: u64 = 64;
/// Cells of a `timeseries.csv` row and of a `staleness.csv` row.
const TIMESERIES_CELLS: u64 = 18;
const STALENESS_CELLS: u64 = 6;
/// Chart and report text per strategy and time-series row (each series' points in the
/// SVG files and again inline in report.html, and the staged copy of both).
const CHART_BYTES_PER_ROW: u64 = 1024;
/// Bytes per resurrection: its record (40 bytes, in a vector that may have doubled), its
/// `resurrections.csv` row and the table the report reads it back into.
const RESURRECTION_BYTES: u64 = 512;

/// The estimated peak memory of a run, with the terms that make it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Replica versions, the oracle's index and the fault marks, per world.
    pub replica_bytes: u64,
    /// Merkle trees (and summaries holding records) held at once by one world
    /// (snapshots of every node, every session).
    pub tree_bytes: u64,
    /// Earlier trees one world keeps to rebuild incrementally (`model::tree_cache`): all
    /// of a strategy's trees on every node, at most the cache's budget.
    pub cache_bytes: u64,
    /// Set-reconciliation sketches held at once by one world: each session's IBLTs (or
    /// PinSketch syndromes) on every replica, and the tables a decode makes.
    pub sketch_bytes: u64,
    /// Hints stored by one world (hinted handoff).
    pub hint_bytes: u64,
    /// Tombstones, purged keys and resurrection records of one world (deletes).
    pub delete_bytes: u64,
    /// Events in flight in one world (replication messages, streamed records).
    pub queue_bytes: u64,
    /// Time series of all strategies, kept until written.
    pub sample_bytes: u64,
    /// What every finished strategy keeps besides its samples, until the run is written.
    pub result_bytes: u64,
    /// Writing the outputs: the staged CSV text, the report's tables read back from it,
    /// the charts and report pages (after the worlds are gone).
    pub output_bytes: u64,
    /// Worlds alive at once (`min(jobs, strategies)`).
    pub worlds_at_once: u64,
    /// The total: what the run is refused against.
    pub total_bytes: u64,
}

impl MemoryEstimate {
    /// Each part of the estimate with its name, largest first (ties in this order): what
    /// `aesim check` explains. Per-world parts are multiplied by the worlds at once.
    pub fn parts(&self) -> Vec<(&'static str, u64)> {
        let worlds = self.worlds_at_once;
        let mut parts = vec![
            ("replica table", self.replica_bytes.saturating_mul(worlds)),
            ("trees held by sessions", self.tree_bytes.saturating_mul(worlds)),
            ("tree cache", self.cache_bytes.saturating_mul(worlds)),
            ("sketches", self.sketch_bytes.saturating_mul(worlds)),
            ("hints", self.hint_bytes.saturating_mul(worlds)),
            ("tombstones and resurrections", self.delete_bytes.saturating_mul(worlds)),
            ("event queue", self.queue_bytes.saturating_mul(worlds)),
            ("time series samples", self.sample_bytes),
            ("strategies' results", self.result_bytes),
            ("output stage", self.output_bytes),
        ];
        parts.sort_by_key(|part| std::cmp::Reverse(part.1));
        parts
    }
}

impl MemoryEstimate {
    /// The parts of the estimate, largest first, on one line: `output stage 1.2 GiB (the
    /// largest), replica table 300.0 MiB, ...`, parts of zero left out; the program, its
    /// threads and the estimate's slack make up the rest of the total.
    pub fn explain(&self) -> String {
        let parts: Vec<String> = self
            .parts()
            .into_iter()
            .filter(|(_, bytes)| *bytes > 0)
            .enumerate()
            .map(|(i, (name, bytes))| match i {
                0 => format!("{name} {} (the largest)", format_bytes(bytes)),
                _ => format!("{name} {}", format_bytes(bytes)),
            })
            .collect();
        format!(
            "{}; with the program and slack, {} in all ({} world{} at once)",
            parts.join(", "),
            format_bytes(self.total_bytes),
            self.worlds_at_once,
            if self.worlds_at_once == 1 { "" } else { "s" }
        )
    }
}

/// The shape of a scenario the estimate's terms share.
struct Shape {
    nodes: u64,
    /// Replicas of a key (its table columns, its sessions' participants).
    replicas: u64,
    /// Token ranges of the ring (1 without one).
    ranges: u64,
    writes: u64,
    stored_keys: u64,
}

/// Estimates the peak memory of running `scenario` with `jobs` strategies at once.
pub fn estimate(scenario: &Scenario, jobs: usize) -> MemoryEstimate {
    let shape = shape(scenario);
    let Shape {
        nodes,
        replicas,
        ranges,
        writes,
        stored_keys,
    } = shape;
    let slot_bytes = (2 + replicas) * 8;
    // Faults that leave records stale mark each (key, node) until repaired: at most one
    // B-tree entry per stored key per node.
    let fault_mark_bytes = if scenario.faults.can_lose_data() {
        replicas * 48
    } else {
        0
    };
    let replica_bytes = stored_keys
        .saturating_mul(KEY_INDEX_BYTES + slot_bytes + fault_mark_bytes)
        .saturating_add(crate::model::replicas::ReplicaTable::index_bytes(
            scenario.cluster.key_count,
        ));
    let per_strategy =
        |bytes: &dyn Fn(&StrategyConfig) -> u64| scenario.strategies.iter().map(bytes).max().unwrap_or(0);
    let tree_bytes = per_strategy(&|s| held_tree_bytes(scenario, &shape, s));
    let cache_bytes = per_strategy(&|s| cached_tree_bytes(scenario, &shape, s))
        .min(crate::model::tree_cache::TREE_CACHE_BUDGET_BYTES);
    let sketch_bytes = per_strategy(&|s| sketch_bytes(scenario, &shape, s));
    let hint_bytes = hint_bytes(scenario, writes, replicas);
    let delete_bytes = delete_bytes(scenario, writes, stored_keys, replicas);

    // Replication messages in flight: rate x latency x receivers, with latency bounded by
    // its distribution's mean (or max) plus a generous tail, and never more than the
    // writes the run makes (a latency longer than the run holds every message at once).
    // Streams in flight carry at most every stored key once per direction.
    let latency_s = scenario.network.latency_bound_ns() as f64 / 1e9;
    let writes_in_flight = saturating_f64(scenario.workload.writes_per_s * latency_s).min(writes);
    // A coordinator that is not a replica sends to every replica.
    let in_flight = writes_in_flight.saturating_mul(if replicas < nodes { replicas } else { nodes - 1 });
    let queue_bytes = in_flight
        .saturating_add(1024)
        .saturating_mul(EVENT_BYTES)
        .saturating_add(stored_keys.saturating_mul(2 * 16));

    let rows = scenario.duration_ns / scenario.sample_interval_ns.max(1) + 2;
    let buckets = crate::metrics::STALENESS_BUCKETS.min(scenario.cluster.key_count);
    let strategies = scenario.strategies.len() as u64;
    let sample_bytes = rows
        .saturating_mul(SAMPLE_BYTES + buckets * BUCKET_BYTES)
        .saturating_mul(strategies);
    let result_bytes = strategies.saturating_mul(RESULT_FIXED_BYTES);
    let resurrections = if scenario.paths.deletes.is_some() {
        resurrections_bound(scenario, writes, replicas)
    } else {
        0
    };
    let row_bytes = STAGED_CELL_BYTES * (TIMESERIES_CELLS + buckets * STALENESS_CELLS) + CHART_BYTES_PER_ROW;
    let output_bytes = rows
        .saturating_mul(row_bytes)
        .saturating_mul(strategies)
        .saturating_add(resurrections.saturating_mul(RESURRECTION_BYTES));

    let worlds_at_once = (jobs.max(1) as u64).min(strategies.max(1));
    // Per link: when it is free (nodes x nodes); per range: its repair record.
    let ring_bytes = nodes
        .saturating_mul(nodes)
        .saturating_mul(8)
        .saturating_add(ranges.saturating_mul(256));
    let structures = [
        replica_bytes,
        hint_bytes,
        delete_bytes,
        ring_bytes,
        tree_bytes,
        cache_bytes,
        sketch_bytes,
        queue_bytes,
        WORLD_FIXED_BYTES,
    ]
    .into_iter()
    .fold(0u64, u64::saturating_add);
    // What the terms above leave out: a tree's build scratch space (a level of hashes
    // while it is built), allocator overhead and fragmentation. Measured peaks stay
    // within this share of the structures (`tests/memory_estimate.rs`).
    let per_world = structures.saturating_add(structures / SLACK_DIVISOR);
    // The worlds are gone once the outputs are staged; the results stay throughout.
    let output_with_slack = output_bytes.saturating_add(output_bytes / SLACK_DIVISOR);
    let total_bytes = per_world
        .saturating_mul(worlds_at_once)
        .max(output_with_slack)
        .saturating_add(sample_bytes)
        .saturating_add(result_bytes)
        .saturating_add(PROCESS_FIXED_BYTES);
    MemoryEstimate {
        replica_bytes,
        tree_bytes,
        cache_bytes,
        sketch_bytes,
        hint_bytes,
        delete_bytes,
        queue_bytes,
        sample_bytes,
        result_bytes,
        output_bytes,
        worlds_at_once,
        total_bytes,
    }
}

fn shape(scenario: &Scenario) -> Shape {
    let nodes = scenario.cluster.nodes as u64;
    // On a token ring a key has `replication_factor` replicas, and the ring has up to
    // nodes x vnodes + 1 ranges.
    let (replicas, ranges) = match &scenario.cluster.ring {
        Some(ring) if (ring.replication_factor as u64) < nodes => (
            ring.replication_factor as u64,
            nodes.saturating_mul(u64::from(ring.vnodes)).saturating_add(1),
        ),
        _ => (nodes, 1),
    };
    let run_s = scenario.workload.stop_at.nanos().min(scenario.duration_ns) as f64 / 1e9;
    // Every write may touch a new key, up to the whole key space.
    let writes = saturating_f64(scenario.workload.writes_per_s * run_s);
    let stored_keys = writes.min(scenario.cluster.key_count);
    Shape {
        nodes,
        replicas,
        ranges,
        writes,
        stored_keys,
    }
}

/// A strategy's sessions at once, and the leaves and keys of each session's range.
fn sessions_and_leaves(scenario: &Scenario, shape: &Shape, s: &StrategyConfig) -> (u64, u64, u64) {
    let keys = scenario.cluster.key_count;
    let reconciler = s.repair.reconciler;
    let ranges = shape.ranges;
    match s.kind {
        // One session per range of the ring, all at once unless node by node.
        StrategyKind::Monolithic { leaves, order, .. } => {
            let range_keys = keys / ranges.max(1);
            let leaves = reconciler.tree_leaves(leaves, range_keys);
            match order {
                crate::strategy::RangeOrder::AllAtOnce => (ranges, leaves, range_keys),
                // A node's primary ranges at once (the wrapping range is two pieces).
                crate::strategy::RangeOrder::NodeByNode => {
                    let per_node = ranges.div_ceil(shape.nodes.max(1)) + 1;
                    (per_node.min(ranges), leaves, range_keys)
                }
                crate::strategy::RangeOrder::RangeByRange => (1, leaves, range_keys),
            }
        }
        // Every worker may hold a session (its trees) at once. Live trees are simulated
        // by hashing on demand, so they hold no memory in between.
        StrategyKind::Segmented(ref config) => {
            let range_keys = keys / config.segments.max(ranges).max(1);
            (
                u64::from(config.workers).min(config.segments),
                reconciler.tree_leaves(config.leaves, range_keys),
                range_keys,
            )
        }
        // Sparse wide trees with their records: counted per stored key.
        StrategyKind::RiakAae(_) => (0, 0, 0),
    }
}

/// The trees (and summaries holding records) one strategy's sessions hold at once.
fn held_tree_bytes(scenario: &Scenario, shape: &Shape, s: &StrategyConfig) -> u64 {
    let (sessions_at_once, leaves, _) = sessions_and_leaves(scenario, shape, s);
    // Summaries holding records (sketches, row hashes, incremental trees' data): at most
    // every stored record on every replica at once.
    let records = if s.repair.reconciler.holds_records() {
        shape.stored_keys.saturating_mul(16).saturating_mul(shape.replicas)
    } else {
        0
    };
    // Each node's tree: 2 x leaves hashes of 32 bytes; the comparison adds one leaf
    // index per divergent leaf (at most all of them).
    sessions_at_once
        .saturating_mul(shape.replicas.saturating_mul(leaves * 64) + leaves * 4)
        .saturating_add(records)
}

/// The tree cache keeps each node's trees of every range compared (before its budget).
fn cached_tree_bytes(scenario: &Scenario, shape: &Shape, s: &StrategyConfig) -> u64 {
    let keys = scenario.cluster.key_count;
    let reconciler = s.repair.reconciler;
    let ranges = shape.ranges;
    let trees = match s.kind {
        StrategyKind::Monolithic { leaves, .. } => {
            ranges.saturating_mul(2 * reconciler.tree_leaves(leaves, keys / ranges.max(1)))
        }
        StrategyKind::Segmented(ref config) => {
            let pieces = config.segments.max(ranges);
            pieces.saturating_mul(2 * reconciler.tree_leaves(config.leaves, keys / pieces.max(1)))
        }
        // Riak's wide trees are sparse: a segment entry and a record per stored key (the
        // summaries of every partition's exchange, and the classic hashtree's previous
        // trees), and each tree's branches.
        StrategyKind::RiakAae(ref config) => shape
            .stored_keys
            .saturating_mul(4)
            .saturating_add(ranges.saturating_mul(2 * u64::from(config.leaves.isqrt()))),
    };
    trees.saturating_mul(32).saturating_mul(shape.replicas)
}

/// The sketches one strategy's sessions hold at once: a fixed IBLT per replica's
/// summary, and while a pair is decoded, its two tables' copies and their difference;
/// a failed decode retries at twice the cells, up to about six times the range's records
/// (a difference of at most every record of both replicas decodes below that). PinSketch
/// holds its syndromes per replica and per bisected half.
fn sketch_bytes(scenario: &Scenario, shape: &Shape, s: &StrategyConfig) -> u64 {
    use crate::protocol::registry::ReconcilerChoice;
    let (sessions_at_once, _, range_keys) = sessions_and_leaves(scenario, shape, s);
    let range_records = range_keys.min(shape.stored_keys).saturating_mul(shape.replicas);
    let per_session = match s.repair.reconciler {
        ReconcilerChoice::Iblt { cells } => {
            let cells = u64::from(cells).max(crate::model::sketch::iblt::MIN_CELLS as u64);
            let decoded = cells.max(range_records.saturating_mul(6));
            shape
                .replicas
                .saturating_mul(cells)
                .saturating_add(decoded.saturating_mul(3))
                .saturating_mul(IBLT_CELL_BYTES)
        }
        ReconcilerChoice::PinSketch { capacity } => (shape.replicas + 2)
            .saturating_mul(u64::from(capacity))
            .saturating_mul(2 * SYNDROME_BYTES),
        _ => 0,
    };
    sessions_at_once.max(1).saturating_mul(per_session)
}

/// Hinted handoff's store (none unless configured): every write's missed replicas while
/// faults can cut them off, else the lost share of a replay delay's worth.
fn hint_bytes(scenario: &Scenario, writes: u64, replicas: u64) -> u64 {
    let Some(hints) = &scenario.paths.hints else {
        return 0;
    };
    let run_ns = scenario.duration_ns.max(1) as f64;
    let missed_share = if scenario.faults.can_lose_data() {
        1.0
    } else {
        (scenario.network.loss_probability * 4.0).min(1.0)
    };
    let held_ns = (hints.window_ns.saturating_add(hints.replay_delay_ns)) as f64;
    let held = saturating_f64(writes as f64 * (held_ns / run_ns).min(1.0) * missed_share);
    // A hint in a VecDeque that may have doubled: 48 bytes.
    held.saturating_mul(replicas.saturating_sub(1)).saturating_mul(48)
}

/// Deletes' state (none unless configured): live and purged tombstones, and the
/// resurrection records.
fn delete_bytes(scenario: &Scenario, writes: u64, stored_keys: u64, replicas: u64) -> u64 {
    let Some(deletes) = &scenario.paths.deletes else {
        return 0;
    };
    let run_ns = scenario.duration_ns.max(1) as f64;
    let live = saturating_f64(writes as f64 * deletes.fraction * (deletes.gc_grace_ns as f64 / run_ns).min(1.0));
    // B-tree entries of 24-32 bytes with node overhead: 64 each, live and purged; a
    // resurrection's record is 40 bytes in a vector that may have doubled.
    live.saturating_add(stored_keys)
        .saturating_mul(64)
        .saturating_add(resurrections_bound(scenario, writes, replicas).saturating_mul(80))
}

/// At most how many resurrections a run records: each needs a delete that one of the
/// key's other replicas missed (a lost message, or a fault that loses data), and counts
/// once per purged tombstone.
fn resurrections_bound(scenario: &Scenario, writes: u64, replicas: u64) -> u64 {
    let Some(deletes) = &scenario.paths.deletes else {
        return 0;
    };
    let missed_share = if scenario.faults.can_lose_data() {
        1.0
    } else {
        (scenario.network.loss_probability * replicas.saturating_sub(1) as f64).min(1.0)
    };
    saturating_f64(writes as f64 * deletes.fraction * missed_share)
}

fn saturating_f64(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        // `as` saturates at u64::MAX.
        value.ceil() as u64
    } else {
        0
    }
}

/// Most events a run may be estimated at before `aesim check` warns and `aesim run`
/// refuses it without `--allow-long-run`: 10^10 events, hours of wall time at the
/// simulator's few million events a second (docs/folders-and-exit-codes.md). A scenario
/// with a period of nanoseconds (`segment_timeout`, `replay_delay`, `poll`) or 10^9
/// writes a second for years would otherwise be accepted and never finish.
pub const EVENT_LIMIT: u64 = 10_000_000_000;

/// An upper estimate of the events a run processes (all strategies), by source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventEstimate {
    /// Each source with its events, largest first.
    pub parts: Vec<(&'static str, u64)>,
    pub total: u64,
}

impl EventEstimate {
    /// `client writes and replication 3.6e10 (the largest), samples 100, ...`.
    pub fn explain(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .filter(|(_, n)| *n > 0)
            .enumerate()
            .map(|(i, (name, n))| match i {
                0 => format!("{name} {n:.1e} (the largest)", n = *n as f64),
                _ => format!("{name} {n:.1e}", n = *n as f64),
            })
            .collect();
        parts.join(", ")
    }
}

/// Estimates the events of running `scenario`: every periodic process's duration /
/// period (a timer that fires every nanosecond for an hour is 3.6e12 events), each
/// write's and read's messages, and each strategy's sessions; an upper bound, as the
/// memory estimate is, computed from the scenario alone.
pub fn estimate_events(scenario: &Scenario) -> EventEstimate {
    let shape = shape(scenario);
    let duration = scenario.duration_ns as f64;
    let every = |period_ns: u64| duration / period_ns.max(1) as f64;
    let replicas = shape.replicas as f64;
    let nodes = shape.nodes as f64;
    let writes =
        scenario.workload.writes_per_s * scenario.workload.stop_at.nanos().min(scenario.duration_ns) as f64 / 1e9;
    let paths = &scenario.paths;
    let reads = paths.reads.as_ref().map_or(0.0, |r| r.reads_per_s * duration / 1e9);
    let hints = paths.hints.as_ref().map_or(0.0, |h| {
        // A replay attempt per replay_delay per coordinator while a target is down,
        // and each missed write replayed once.
        every(h.replay_delay_ns) * nodes + writes * replicas
    });
    let compactions = paths
        .deletes
        .as_ref()
        .map_or(0.0, |d| every(d.compaction_interval_ns) * nodes);
    let faults = scenario.faults.bitrot_per_s * duration / 1e9
        + 2.0 * (scenario.faults.crashes.len() + scenario.faults.partitions.len()) as f64;
    let strategies: f64 = scenario
        .strategies
        .iter()
        .map(|s| strategy_events(scenario, s, &shape, duration, writes))
        .sum();
    let count = scenario.strategies.len().max(1) as f64;
    let mut parts = vec![
        (
            "client writes and replication",
            saturating_f64(writes * (replicas + 3.0) * count),
        ),
        ("reads", saturating_f64(reads * (replicas + 2.0) * count)),
        ("hints", saturating_f64(hints * count)),
        ("compactions", saturating_f64(compactions * count)),
        ("faults", saturating_f64(faults * count)),
        ("samples", saturating_f64(every(scenario.sample_interval_ns) * count)),
        ("repair sessions and timers", saturating_f64(strategies)),
    ];
    parts.sort_by_key(|part| std::cmp::Reverse(part.1));
    let total = parts.iter().map(|p| p.1).fold(0u64, u64::saturating_add);
    EventEstimate { parts, total }
}

/// One strategy's timers and sessions: each session's builds, rounds and streams, and
/// every period at which the strategy wakes. A session back to back with the next lasts
/// at least its scan (a scheduled tree), its overhead, and 1 us.
fn strategy_events(scenario: &Scenario, s: &StrategyConfig, shape: &Shape, duration: f64, writes: f64) -> f64 {
    let every = |period_ns: u64| duration / period_ns.max(1) as f64;
    let replicas = shape.replicas as f64;
    let ranges = shape.ranges;
    let session = |leaves: u32| replicas * (6.0 + 2.0 * f64::from(leaves.max(2)).log2()) + 4.0;
    let session_ns = |range_keys: u64| {
        let scan = match s.kind.tree() {
            crate::protocol::TreeMaintenance::Scheduled => {
                range_keys.saturating_mul(scenario.cluster.scan_cost_ns_per_key)
            }
            crate::protocol::TreeMaintenance::Live => 0,
        };
        scan.max(s.repair.session_overhead_ns).max(1_000)
    };
    // Streams: each write's divergence at most once per replica.
    let streams = writes * replicas;
    let keys = scenario.cluster.key_count;
    let timers = match &s.kind {
        StrategyKind::Monolithic {
            leaves, interval_ns, ..
        } => {
            let period = (*interval_ns).max(session_ns(keys / ranges.max(1)));
            every(period) * ranges as f64 * session(*leaves)
        }
        StrategyKind::Segmented(c) => {
            let pieces = c.segments.max(ranges);
            let mut sessions = every(session_ns(keys / pieces.max(1))) * f64::from(c.workers);
            if c.interval_ns > 0 {
                sessions = sessions.min(every(c.interval_ns) * pieces as f64 + pieces as f64);
            }
            if let Some(wake_ns) = c.reaper.scheduling_interval_ns {
                // Reaper's runner starts one segment per wake-up.
                sessions = sessions.min(every(wake_ns) + f64::from(c.workers));
            }
            let polls = every(c.poll_ns) * f64::from(c.workers);
            let timeouts = c
                .reaper
                .segment_timeout_ns
                .map_or(0.0, |t| every(t) * f64::from(c.workers));
            let scheduling = c.reaper.scheduling_interval_ns.map_or(0.0, every);
            sessions * session(c.leaves) + polls + timeouts + scheduling
        }
        StrategyKind::RiakAae(c) => {
            every(c.tick_ns) * ranges as f64 * session(c.leaves) + every(c.build_limit_period_ns)
        }
    };
    timers + streams
}

/// The default memory limit: 80% of the machine's physical memory (from
/// `/proc/meminfo`), or 8 GiB where that cannot be read.
pub fn default_limit_bytes() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib.saturating_mul(1024))
    });
    total.map_or(8 << 30, |bytes| bytes / 10 * 8)
}

/// Parses a size such as `512MiB`, `8GiB`, `2G` or `1000000` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("expected a size such as 512MiB or 8GiB, got \"{text}\""))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("unknown size unit \"{other}\"; use B, KiB, MiB, GiB or TiB")),
    };
    let bytes = number * scale as f64;
    if bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64 {
        Ok(bytes as u64)
    } else {
        Err(format!("size \"{text}\" is out of range"))
    }
}

/// Bytes as a short human figure (`1.5 GiB`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_latency_longer_than_the_run_holds_at_most_the_runs_writes() {
        // 30 s of 100 writes/s: 3,000 writes, whatever the latency. The estimate used to
        // multiply the rate by 1,000,000 h and refuse the run as needing 15.7 TiB.
        let slow = scenario(
            "name = \"slow\"\nseed = 1\nduration = \"30s\"\n[cluster]\nkeys = 1000\n\
             [network]\nlatency = { kind = \"constant\", value = \"1000000h\" }\n\
             [workload]\nwrites_per_s = 100.0\n[[strategy]]\nkind = \"monolithic\"\nleaves = 16\ninterval = \"5s\"\n",
        );
        let memory = estimate(&slow, 1);
        assert!(memory.queue_bytes < 1 << 20, "{memory:?}");
        assert!(memory.total_bytes < 64 << 20, "{memory:?}");
    }

    #[test]
    fn every_committed_scenario_is_under_the_event_limit() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut paths: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
            let text = std::fs::read_to_string(path).unwrap();
            let document = crate::scenario::ScenarioDocument::parse(&text, &path.display().to_string(), Vec::new())
                .unwrap_or_else(|e| panic!("{e}"));
            let events = estimate_events(&document.base);
            eprintln!(
                "{}: {:.2e} events ({})",
                path.display(),
                events.total as f64,
                events.explain()
            );
            assert!(events.total <= EVENT_LIMIT, "{}: {events:?}", path.display());
        }
    }

    #[test]
    fn runs_that_cannot_finish_are_estimated_over_the_event_limit() {
        let base =
            "name = \"x\"\nseed = 1\nduration = \"1h\"\n[cluster]\nkeys = 1000\n[workload]\nwrites_per_s = 100.0\n";
        let cases = [
            format!(
                "{base}[[strategy]]\nkind = \"segmented\"\nsegments = 16\nleaves = 16\nsegment_timeout = \"1ns\"\n"
            ),
            format!(
                "{base}[hints]\nreplay_delay = \"1ns\"\n[[strategy]]\nkind = \"monolithic\"\nleaves = 16\ninterval = \"1min\"\n"
            ),
            "name = \"x\"\nseed = 1\nduration = \"500y\"\n[cluster]\nkeys = 1000\n[workload]\nwrites_per_s = 1e9\n\
             [[strategy]]\nkind = \"monolithic\"\nleaves = 16\ninterval = \"1h\"\n"
                .to_string(),
        ];
        for text in &cases {
            let events = estimate_events(&scenario(text));
            assert!(events.total > EVENT_LIMIT, "{text}: {events:?}");
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("1.5 GiB"), Ok(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(format_bytes(3 << 29), "1.5 GiB");
        assert_eq!(format_bytes(100), "100 B");
    }
}
