//! The reference of every scenario key: its table, type, default, unit and meaning, as
//! `aesim reference` prints it and `docs/scenario-reference.md` commits it.
//!
//! Defaults that the checker takes from a constant are formatted from that constant, so
//! they follow the code. `tests/scenario_reference.rs` keeps the rest from drifting: it
//! asks the file types themselves (serde's list of expected fields, from a probe key in
//! every table) which keys each table accepts and requires exactly those documented
//! here, and compares the generated page with the committed one.
//!
//! The functions below are data, one `key(...)` entry per documented key: their length
//! is the number of keys a table has, not logic, so they are not split further.

use super::file::defaults;
use super::knobs::with_reconciler_knobs;
use super::{
    DEFAULT_HINT_REPLAY_DELAY_NS, DEFAULT_HINT_THROTTLE_KIB, DEFAULT_HINT_WINDOW_NS, DEFAULT_REORDER_DELAY_NS,
};
use crate::model::paths::{DEFAULT_COMPACTION_INTERVAL_NS, DEFAULT_GC_GRACE_NS, DEFAULT_WRITE_TIMEOUT_NS};
use crate::model::tictac_tree::DEFAULT_WIDTH;
use crate::protocol::cassandra::{DEFAULT_MAX_TREE_DEPTH, DEFAULT_SESSION_SPACE_BYTES};
use crate::protocol::row_level::DEFAULT_ROW_BUFFER_BYTES;
use std::fmt::Write as _;

/// One key of the scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyDoc {
    /// The table it belongs to, as a heading of the reference: `[cluster]`, `(top level)`,
    /// `[[strategy]] kind = "segmented"`, ...
    pub table: &'static str,
    pub key: &'static str,
    /// The TOML type: integer, float, string, duration (a string such as "250ms"), ...
    pub kind: &'static str,
    /// The default when the key is absent, or "required".
    pub default: String,
    pub unit: &'static str,
    /// What it sets, and where its default comes from.
    pub meaning: &'static str,
}

/// The tables of the reference, in the order the page lists them, each with the probe
/// the drift test uses: a TOML text in which `PROBE` stands for the spot where a table
/// of that kind takes its keys (see `tests/scenario_reference.rs`).
pub const TABLES: &[&str] = &[
    "(top level)",
    "[cluster]",
    "[network]",
    "network.latency kind = \"constant\"",
    "network.latency kind = \"uniform\"",
    "network.latency kind = \"exponential\"",
    "[workload]",
    "workload.keys kind = \"zipf\"",
    "workload.keys kind = \"hotspot\"",
    "[[strategy]] kind = \"monolithic\"",
    "[[strategy]] kind = \"segmented\"",
    "[[strategy]] kind = \"riak_aae\"",
    "strategy.misalignment kind = \"offset\"",
    "strategy.misalignment kind = \"segments\"",
    "[faults]",
    "[[faults.crash]]",
    "[[faults.partition]]",
    "[consistency]",
    "[hints]",
    "[reads]",
    "[deletes]",
];

/// A duration in the largest unit that divides it, as the file format writes it.
pub fn duration_text(ns: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "min"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    if ns == 0 {
        return "\"0s\"".into();
    }
    let (div, suffix) = UNITS
        .iter()
        .find(|(div, _)| ns.is_multiple_of(*div))
        .copied()
        .unwrap_or((1, "ns"));
    format!("\"{}{suffix}\"", ns / div)
}

fn key(
    table: &'static str,
    key: &'static str,
    kind: &'static str,
    default: impl Into<String>,
    unit: &'static str,
    meaning: &'static str,
) -> KeyDoc {
    KeyDoc {
        table,
        key,
        kind,
        default: default.into(),
        unit,
        meaning,
    }
}

const REQUIRED: &str = "required";

/// Every key of the scenario file.
pub fn keys() -> Vec<KeyDoc> {
    let mut all = top_level_keys();
    all.extend(cluster_keys());
    all.extend(network_and_workload_keys());
    all.extend(strategy_keys());
    all.extend(repair_path_keys());
    all
}

fn top_level_keys() -> Vec<KeyDoc> {
    let t = TABLES[0];
    vec![
        key(
            t,
            "name",
            "string",
            REQUIRED,
            "",
            "the scenario's name: the default results folder is results/<name>",
        ),
        key(
            t,
            "description",
            "string",
            "\"\"",
            "",
            "one line for the report's title",
        ),
        key(
            t,
            "seed",
            "integer",
            REQUIRED,
            "",
            "the seed every random stream derives from; --seed overrides it",
        ),
        key(
            t,
            "duration",
            "duration",
            REQUIRED,
            "virtual time",
            "how long the run simulates",
        ),
        key(
            t,
            "sample_interval",
            "duration",
            "duration / 100",
            "virtual time",
            "time-series sampling (timeseries.csv, staleness.csv)",
        ),
        key(t, "cluster", "table", REQUIRED, "", "the nodes and the key space"),
        key(
            t,
            "network",
            "table",
            "(defaults below)",
            "",
            "replication messages: loss, latency, bandwidth",
        ),
        key(t, "workload", "table", REQUIRED, "", "the client writes"),
        key(
            t,
            "strategy",
            "array of tables",
            "none",
            "",
            "the anti-entropy strategies, each run against the same writes and losses",
        ),
        key(
            t,
            "faults",
            "table",
            "none",
            "",
            "crashes, partitions, duplication, reordering, bitrot",
        ),
        key(
            t,
            "consistency",
            "table",
            "none (ONE)",
            "",
            "write and read consistency levels",
        ),
        key(
            t,
            "hints",
            "table",
            "none (hinted handoff off)",
            "",
            "hinted handoff; Cassandra has it on by default",
        ),
        key(
            t,
            "reads",
            "table",
            "none (no reads)",
            "",
            "a read workload, with read repair at QUORUM/ALL",
        ),
        key(
            t,
            "deletes",
            "table",
            "none (no deletes)",
            "",
            "deletes, tombstones and gc_grace",
        ),
        key(
            t,
            "sweep",
            "table",
            "none",
            "",
            "a parameter sweep: replications and axes by dotted path (docs/cli.md, Sweeps)",
        ),
    ]
}

fn cluster_keys() -> Vec<KeyDoc> {
    let t = TABLES[1];
    vec![
        key(
            t,
            "nodes",
            "integer",
            defaults::nodes().to_string(),
            "nodes",
            "nodes in the cluster",
        ),
        key(
            t,
            "keys",
            "integer",
            REQUIRED,
            "keys",
            "the key space (partitions); untouched keys cost no memory",
        ),
        key(
            t,
            "cores",
            "integer",
            defaults::cores().to_string(),
            "cores per node",
            "cores a node lends to tree builds",
        ),
        key(
            t,
            "scan_cost_per_key",
            "duration",
            duration_text(defaults::scan_cost_per_key().0),
            "core time per key",
            "a scheduled build's scan; default: the lesson's 40 min over 10^9 keys",
        ),
        key(
            t,
            "record_bytes",
            "integer",
            defaults::record_bytes().to_string(),
            "bytes",
            "one record's size on the wire",
        ),
        key(
            t,
            "hash_cost",
            "duration",
            duration_text(defaults::hash_cost().0),
            "core time per hash",
            "one write-path hash of a live tree, with its bookkeeping",
        ),
        key(
            t,
            "apply_cost_per_record",
            "duration",
            duration_text(defaults::apply_cost_per_record().0),
            "virtual time per record",
            "a repair stream's receiver handling one record it is sent, its streams one after another (aesim calibrate measures it as a point read)",
        ),
        key(
            t,
            "node_cores",
            "array of integers",
            "`cores` on every node",
            "cores",
            "cores of each node, one entry per node",
        ),
        key(
            t,
            "replication_factor",
            "integer",
            "`nodes`",
            "replicas",
            "token ring: replicas of each key",
        ),
        key(
            t,
            "vnodes",
            "integer",
            "1",
            "tokens per node",
            "token ring: tokens per node (Cassandra 4.0's num_tokens: 16)",
        ),
        key(
            t,
            "tokens",
            "\"balanced\" or \"random\"",
            "\"balanced\"",
            "",
            "token ring: token placement (random is seeded and uneven with few vnodes)",
        ),
        key(
            t,
            "racks",
            "integer or array of integers",
            "one rack",
            "",
            "token ring: a rack count (node n in rack n % racks) or each node's rack",
        ),
        key(
            t,
            "coordinator",
            "\"any\" or \"replica\"",
            "\"any\"",
            "",
            "token ring: who coordinates a client write (replica: token-aware clients)",
        ),
        key(
            t,
            "costs",
            "string (a path)",
            "none",
            "",
            "a cost profile from `aesim calibrate`, relative to the scenario file: fills scan_cost_per_key, record_bytes and hash_cost where this table does not write them (docs/calibration.md)",
        ),
    ]
}

fn network_and_workload_keys() -> Vec<KeyDoc> {
    let (n, c, u, e, w, z, h) = (
        TABLES[2], TABLES[3], TABLES[4], TABLES[5], TABLES[6], TABLES[7], TABLES[8],
    );
    vec![
        key(
            n,
            "loss",
            "float in [0, 1]",
            "0.0",
            "probability",
            "a replication message is lost",
        ),
        key(
            n,
            "latency",
            "table with kind",
            "{ kind = \"constant\", value = \"1ms\" }",
            "",
            "one-way message latency: constant, uniform or exponential",
        ),
        key(
            n,
            "bandwidth_bytes_per_s",
            "integer",
            defaults::bandwidth_bytes_per_s().to_string(),
            "bytes/s",
            "each link's bandwidth (default one gigabit per second)",
        ),
        key(c, "value", "duration", REQUIRED, "virtual time", "the latency"),
        key(u, "min", "duration", REQUIRED, "virtual time", "lower bound"),
        key(u, "max", "duration", REQUIRED, "virtual time", "upper bound"),
        key(
            e,
            "mean",
            "duration",
            REQUIRED,
            "virtual time",
            "mean of the exponential distribution",
        ),
        key(
            w,
            "writes_per_s",
            "float",
            REQUIRED,
            "writes/s",
            "Poisson client write rate, cluster-wide",
        ),
        key(
            w,
            "keys",
            "table with kind",
            "{ kind = \"uniform\" }",
            "",
            "which keys are written: uniform, zipf or hotspot",
        ),
        key(
            w,
            "stop_at",
            "duration",
            "never",
            "virtual time",
            "client writes stop here (the rest of the run shows convergence)",
        ),
        key(z, "exponent", "float", REQUIRED, "", "Zipf exponent"),
        key(
            h,
            "key_fraction",
            "float in (0, 1]",
            REQUIRED,
            "fraction",
            "share of the key space that is hot",
        ),
        key(
            h,
            "write_fraction",
            "float in [0, 1]",
            REQUIRED,
            "fraction",
            "share of writes that go to it",
        ),
        key(
            h,
            "shift_every",
            "duration",
            "never",
            "virtual time",
            "the hotspot moves this often",
        ),
    ]
}

/// The keys every strategy kind shares: name, pairs, session overhead and the preset.
fn common_strategy_keys(t: &'static str) -> Vec<KeyDoc> {
    vec![
        key(
            t,
            "name",
            "string",
            "the kind's or the preset's name",
            "",
            "the strategy's name in every table and chart",
        ),
        key(
            t,
            "preset",
            "string",
            "none",
            "",
            "a real system's defaults (scenarios/presets/NAME.toml; `aesim presets list`); the table's own keys win",
        ),
        key(
            t,
            "pairs",
            "\"all\", \"chain\", \"ring\" or \"star\"",
            "\"all\"",
            "",
            "token ring: which replica pairs compare (all: Cassandra; chain: Riak; star: the first replica with each other, ScyllaDB's repair master)",
        ),
        key(
            t,
            "session_overhead",
            "duration",
            "\"0s\"",
            "virtual time per session",
            "fixed setup before a session's builds start",
        ),
    ]
}

/// The reconciler knobs of the tree strategies (monolithic, segmented).
fn reconciler_keys(t: &'static str) -> Vec<KeyDoc> {
    let mut keys = vec![key(
        t,
        "reconciler",
        "string",
        "\"merkle\"",
        "",
        "what replicas exchange: merkle, iblt, rateless_iblt, pinsketch, cassandra_tree, cassandra_incremental, row_level, naive",
    )];
    keys.extend(with_reconciler_knobs!(knob_docs! { t }));
    keys
}

/// The scenario reference's entry of every reconciler knob (`knobs.rs`).
macro_rules! knob_docs {
    ({ $t:ident } $($knob:ident: $type:ty, owners $owners:tt, doc ($kind:literal, $default:expr, $unit:literal, $meaning:literal);)*) => {{
        use super::ring::{DEFAULT_IBLT_CELLS, DEFAULT_PINSKETCH_CAPACITY};
        vec![$(key($t, stringify!($knob), $kind, $default, $unit, $meaning),)*]
    }};
}
use knob_docs;

fn strategy_keys() -> Vec<KeyDoc> {
    let (m, s, r, off, seg) = (TABLES[9], TABLES[10], TABLES[11], TABLES[12], TABLES[13]);
    let mut all = common_strategy_keys(m);
    all.extend([
        key(
            m,
            "leaves",
            "integer (power of two)",
            REQUIRED,
            "leaves",
            "leaves of the one tree (unused by the Cassandra and sketch reconcilers)",
        ),
        key(
            m,
            "interval",
            "duration",
            REQUIRED,
            "virtual time",
            "a cycle starts this long after the previous one started",
        ),
        key(
            m,
            "tree",
            "\"scheduled\" or \"live\"",
            "\"scheduled\"",
            "",
            "rebuilt by a scan before each comparison, or updated on every write",
        ),
        key(
            m,
            "order",
            "\"all_at_once\", \"node_by_node\" or \"range_by_range\"",
            "\"all_at_once\"",
            "",
            "token ring: every range its own cycle; `nodetool repair -pr` node after node, one session per replica set (common ranges, Cassandra 3.0+), a node's sessions at once; or node after node one range at a time (Cassandra 2.x)",
        ),
    ]);
    all.extend(reconciler_keys(m));
    all.extend(common_strategy_keys(s));
    all.extend([
        key(
            s,
            "segments",
            "integer",
            REQUIRED,
            "segments",
            "fixed key ranges, each with its own tree (on a ring: cut within each token range)",
        ),
        key(
            s,
            "leaves",
            "integer (power of two)",
            REQUIRED,
            "leaves per segment",
            "leaves of each segment's tree",
        ),
        key(
            s,
            "workers",
            "integer",
            defaults::workers().to_string(),
            "sessions",
            "segments compared at once",
        ),
        key(
            s,
            "policy",
            "string",
            "\"round_robin\"",
            "",
            "round_robin, hottest_first or age_weighted",
        ),
        key(
            s,
            "max_interval",
            "duration",
            "required by the prioritised policies",
            "virtual time",
            "their starvation bound: no segment waits longer",
        ),
        key(
            s,
            "interval",
            "duration",
            "\"0s\" (passes back to back)",
            "virtual time",
            "round robin: a pass starts at most this often",
        ),
        key(
            s,
            "poll",
            "duration",
            "\"100ms\"",
            "virtual time",
            "idle workers look for work this often",
        ),
        key(
            s,
            "tree",
            "\"scheduled\" or \"live\"",
            "\"scheduled\"",
            "",
            "as for monolithic",
        ),
        key(
            s,
            "misalignment",
            "table with kind",
            "aligned",
            "",
            "every node but node 0 cuts its segments differently (offset or segments)",
        ),
        key(
            s,
            "max_sessions_per_node",
            "integer",
            "unlimited",
            "sessions",
            "Reaper's rule: a node in at most this many sessions at once",
        ),
        key(
            s,
            "segment_split",
            "\"proportional\" or \"reaper\"",
            "\"proportional\"",
            "",
            "reaper: ceil(share x requested) subranges per token range, or, asked for no more segments than there are token ranges, each replica list's ranges coalesced into segments of at most keys / segments (one session over several ranges), as Reaper's SegmentGenerator; proportional: max(1, round(segments x share))",
        ),
        key(
            s,
            "scheduling_interval",
            "duration",
            "none",
            "virtual time",
            "Reaper: at most one segment started per wake-up of the repair runner (Reaper: 10 s)",
        ),
        key(
            s,
            "postpone_sleep",
            "duration",
            "0s",
            "virtual time",
            "Reaper: a segment a fault postponed holds its worker this long (Reaper: 10 s)",
        ),
        key(
            s,
            "segment_timeout",
            "duration",
            "none",
            "virtual time",
            "Reaper: a segment still running this long is aborted and retried (Reaper: 30 min)",
        ),
        key(
            s,
            "intensity",
            "float in (0, 1]",
            "1.0",
            "",
            "Reaper: after a segment of d, the worker sleeps d x (1 - i) / i",
        ),
        key(
            s,
            "parallelism",
            "string",
            "\"parallel\"",
            "",
            "Reaper: parallel, sequential (one replica's build at a time) or datacenter_aware",
        ),
    ]);
    all.extend(reconciler_keys(s));
    all.extend(common_strategy_keys(r));
    all.extend(riak_keys(r));
    all.push(key(
        off,
        "keys",
        "integer",
        REQUIRED,
        "keys",
        "boundaries shifted by this many keys",
    ));
    all.push(key(
        seg,
        "peer_segments",
        "integer",
        REQUIRED,
        "segments",
        "the other nodes cut the key space into this many segments",
    ));
    all
}

fn riak_keys(r: &'static str) -> Vec<KeyDoc> {
    use super::riak_aae::{
        DEFAULT_BUILD_LIMIT, DEFAULT_BUILD_LIMIT_PERIOD_NS, DEFAULT_BUILD_THROTTLE_NS, DEFAULT_CONCURRENCY,
        DEFAULT_EXPIRE_NS, DEFAULT_TICK_NS, DEFAULT_TICTAC_MAX_SEGMENTS, DEFAULT_TICTAC_PAUSE_NS, TICTAC_BRANCHES,
        TICTAC_EXCHANGE_TICK_NS, TICTAC_SEGMENTS_PER_BRANCH,
    };
    vec![
        key(
            r,
            "reconciler",
            "\"riak_hashtree\" or \"tictac\"",
            "\"riak_hashtree\"",
            "",
            "Riak classic AAE or Riak 3's Tictac AAE",
        ),
        key(
            r,
            "width",
            "integer",
            format!("{DEFAULT_WIDTH} (tictac: {TICTAC_BRANCHES})"),
            "branches",
            "branches of the root, and segments of each branch unless `segments_per_branch` is given (hashtree.erl: 1,024 x 1,024)",
        ),
        key(
            r,
            "segments_per_branch",
            "integer",
            format!("`width` (tictac without `width`: {TICTAC_SEGMENTS_PER_BRANCH})"),
            "segments",
            "Tictac only: segments of each branch (leveled_tictac.erl's large tree: width 4,096, 256 segments a branch)",
        ),
        key(
            r,
            "tick",
            "duration",
            format!(
                "{} (tictac: {})",
                duration_text(DEFAULT_TICK_NS),
                duration_text(TICTAC_EXCHANGE_TICK_NS)
            ),
            "virtual time",
            "each node's entropy manager exchanges its next partition this often (anti_entropy_tick; tictacaae_exchangetick)",
        ),
        key(
            r,
            "expire",
            "duration or \"never\"",
            duration_text(DEFAULT_EXPIRE_NS),
            "virtual time",
            "classic: trees expire and are rebuilt by a scan (Riak: a week)",
        ),
        key(
            r,
            "build_limit",
            "integer",
            DEFAULT_BUILD_LIMIT.to_string(),
            "builds",
            "classic: at most this many builds per node per build_limit_period",
        ),
        key(
            r,
            "build_limit_period",
            "duration",
            duration_text(DEFAULT_BUILD_LIMIT_PERIOD_NS),
            "virtual time",
            "classic: the period of build_limit",
        ),
        key(
            r,
            "build_throttle",
            "duration",
            duration_text(DEFAULT_BUILD_THROTTLE_NS),
            "virtual time",
            "classic: a tree build sleeps this long after every 1,000,000 bytes it folds (riak_kv_index_hashtree's build throttle; \"0s\": none)",
        ),
        key(
            r,
            "concurrency",
            "integer",
            DEFAULT_CONCURRENCY.to_string(),
            "per node",
            "builds and exchanges at once on a node",
        ),
        key(
            r,
            "tictac_pause",
            "duration",
            duration_text(DEFAULT_TICTAC_PAUSE_NS),
            "virtual time",
            "tictac: the pause between the two looks of the double compare (\"0s\": one look)",
        ),
        key(
            r,
            "tictac_max_segments",
            "integer",
            DEFAULT_TICTAC_MAX_SEGMENTS.to_string(),
            "segments",
            "tictac: most differing segments one exchange repairs (tictacaae_maxresults)",
        ),
    ]
}

fn repair_path_keys() -> Vec<KeyDoc> {
    let (f, crash, part, cons, hints, reads, del) = (
        TABLES[14], TABLES[15], TABLES[16], TABLES[17], TABLES[18], TABLES[19], TABLES[20],
    );
    vec![
        key(f, "crash", "array of tables", "none", "", "node crashes and restarts"),
        key(f, "partition", "array of tables", "none", "", "network partitions"),
        key(
            f,
            "duplicate",
            "float in [0, 1]",
            "0.0",
            "probability",
            "a delivered replication message arrives twice",
        ),
        key(
            f,
            "reorder",
            "float in [0, 1]",
            "0.0",
            "probability",
            "a message is held back by up to reorder_delay",
        ),
        key(
            f,
            "reorder_delay",
            "duration",
            duration_text(DEFAULT_REORDER_DELAY_NS),
            "virtual time",
            "the longest a reordered message is held",
        ),
        key(
            f,
            "bitrot_per_s",
            "float",
            "0.0",
            "records/s, cluster-wide",
            "stored records silently corrupted",
        ),
        key(
            crash,
            "node",
            "integer",
            REQUIRED,
            "node index",
            "the node that crashes",
        ),
        key(crash, "at", "duration", REQUIRED, "virtual time", "when it goes down"),
        key(
            crash,
            "restart",
            "duration",
            REQUIRED,
            "virtual time",
            "when it comes back (stored records survive; trees do not)",
        ),
        key(
            part,
            "start",
            "duration",
            REQUIRED,
            "virtual time",
            "when the partition begins",
        ),
        key(part, "end", "duration", REQUIRED, "virtual time", "when it ends"),
        key(
            part,
            "isolate",
            "array of integers",
            REQUIRED,
            "node indices",
            "the nodes cut off from the rest",
        ),
        key(
            cons,
            "write",
            "\"one\", \"quorum\" or \"all\"",
            "\"one\"",
            "",
            "when a write is acknowledged",
        ),
        key(
            cons,
            "read",
            "\"one\", \"quorum\" or \"all\"",
            "\"one\"",
            "",
            "the level reads wait for and compare",
        ),
        key(
            cons,
            "write_timeout",
            "duration",
            duration_text(DEFAULT_WRITE_TIMEOUT_NS),
            "virtual time",
            "a replica not acknowledging by then missed the write",
        ),
        key(
            hints,
            "window",
            "duration",
            duration_text(DEFAULT_HINT_WINDOW_NS),
            "virtual time",
            "no hints for a replica down longer (Cassandra's max_hint_window)",
        ),
        key(
            hints,
            "replay_delay",
            "duration",
            duration_text(DEFAULT_HINT_REPLAY_DELAY_NS),
            "virtual time",
            "hints are replayed this long after being stored",
        ),
        key(
            hints,
            "replay_rate",
            "float",
            "from `throttle_kib`",
            "hints/s per coordinator and replica",
            "replay throttle, one pair's own (not with `throttle_kib`)",
        ),
        key(
            hints,
            "throttle_kib",
            "float",
            DEFAULT_HINT_THROTTLE_KIB.to_string(),
            "KiB/s per node",
            "Cassandra's `hinted_handoff_throttle`: each coordinator replays to a target at throttle / (nodes - 1), one hint being a record and its header",
        ),
        key(
            hints,
            "drop",
            "float in [0, 1]",
            "0.0",
            "probability",
            "an overloaded coordinator drops a hint",
        ),
        key(
            reads,
            "reads_per_s",
            "float",
            REQUIRED,
            "reads/s",
            "keys drawn like the writes'; QUORUM/ALL reads repair what they contact",
        ),
        key(
            del,
            "fraction",
            "float in [0, 1]",
            REQUIRED,
            "fraction",
            "share of writes that are deletes (tombstones)",
        ),
        key(
            del,
            "gc_grace",
            "duration",
            duration_text(DEFAULT_GC_GRACE_NS),
            "virtual time",
            "tombstones purged after this, at the next compaction (Cassandra's gc_grace_seconds)",
        ),
        key(
            del,
            "compaction_interval",
            "duration",
            duration_text(DEFAULT_COMPACTION_INTERVAL_NS),
            "virtual time",
            "how often replicas compact (at least 1s)",
        ),
    ]
}

/// The reference page, `docs/scenario-reference.md`.
pub fn markdown() -> String {
    let keys = keys();
    let mut page = String::from(
        "# Scenario keys\n\n\
         Every key of a scenario file: its type, its default when absent, its unit and what it sets.\n\
         Generated from the scenario types by `aesim reference` (`tests/scenario_reference.rs` fails when\n\
         this page and the code disagree); the narrative is in [reference.md](reference.md), commented\n\
         examples in [`scenarios/quickstart.toml`](../scenarios/quickstart.toml) and the presets'\n\
         defaults in [`scenarios/presets/`](../scenarios/presets/README.md). Durations are strings such as\n\
         \"250ms\", \"2.4us\", \"40min\", \"10d\".\n",
    );
    for table in TABLES {
        let _ = write!(
            page,
            "\n## {table}\n\n| key | type | default | unit | meaning |\n| --- | --- | --- | --- | --- |\n"
        );
        for k in keys.iter().filter(|k| k.table == *table) {
            let unit = if k.unit.is_empty() { "-" } else { k.unit };
            let _ = writeln!(
                page,
                "| `{}` | {} | {} | {unit} | {} |",
                k.key,
                k.kind,
                k.default.replace('|', "\\|"),
                k.meaning
            );
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_largest_dividing_unit() {
        assert_eq!(duration_text(10 * 86_400_000_000_000), "\"10d\"");
        assert_eq!(duration_text(3 * 3_600_000_000_000), "\"3h\"");
        assert_eq!(duration_text(2_400), "\"2400ns\"");
        assert_eq!(duration_text(100_000_000), "\"100ms\"");
        assert_eq!(duration_text(0), "\"0s\"");
    }

    #[test]
    fn every_key_belongs_to_a_listed_table_once() {
        let keys = keys();
        for k in &keys {
            assert!(TABLES.contains(&k.table), "{}: unknown table {}", k.key, k.table);
            let same = keys.iter().filter(|o| o.table == k.table && o.key == k.key).count();
            assert_eq!(same, 1, "{} {} listed {same} times", k.table, k.key);
        }
    }
}
