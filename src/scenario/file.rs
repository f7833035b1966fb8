//! The scenario file as written: serde types mirroring the TOML, before validation.
//!
//! Field names here are the file format. Every table denies unknown fields, so a typo
//! is an error rather than a silently ignored knob.

use super::knobs::with_reconciler_knobs;
use serde::Deserialize;

/// A duration written as text: "250ms", "2.4us", "40min", "1h 30min".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DurationText(pub u64);

impl TryFrom<String> for DurationText {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let parsed = humantime::parse_duration(text.trim()).map_err(|e| {
            format!("expected a duration such as \"250ms\", \"2.4us\" or \"40min\", got \"{text}\" ({e})")
        })?;
        u64::try_from(parsed.as_nanos())
            .map(DurationText)
            .map_err(|_| format!("duration \"{text}\" is longer than 584 years, the limit of virtual time"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: DurationText,
    pub sample_interval: Option<DurationText>,
    pub cluster: ClusterFile,
    #[serde(default)]
    pub network: NetworkFile,
    pub workload: WorkloadFile,
    #[serde(default)]
    pub strategy: Vec<StrategyFile>,
    pub faults: Option<FaultsFile>,
    /// The repair paths before anti-entropy (all off when absent).
    pub consistency: Option<ConsistencyFile>,
    pub hints: Option<HintsFile>,
    pub reads: Option<ReadsFile>,
    pub deletes: Option<DeletesFile>,
    /// A parameter sweep. Accepted here so the file deserializes; `scenario::sweep`
    /// reads it from the TOML document, and a single run ignores it.
    #[allow(dead_code)]
    pub sweep: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    #[serde(default = "defaults::nodes")]
    pub nodes: u64,
    pub keys: u64,
    #[serde(default = "defaults::cores")]
    pub cores: u32,
    #[serde(default = "defaults::scan_cost_per_key")]
    pub scan_cost_per_key: DurationText,
    #[serde(default = "defaults::record_bytes")]
    pub record_bytes: u64,
    #[serde(default = "defaults::hash_cost")]
    pub hash_cost: DurationText,
    /// Time a repair stream's receiver spends on one record it is sent (0: free).
    #[serde(default = "defaults::apply_cost_per_record")]
    pub apply_cost_per_record: DurationText,
    /// Cores of each node, overriding `cores` (one entry per node).
    pub node_cores: Option<Vec<u32>>,
    /// Token ring: replicas of each key (default: every node holds every key).
    pub replication_factor: Option<u64>,
    /// Token ring: tokens per node.
    pub vnodes: Option<u32>,
    /// Token ring: how tokens are placed.
    pub tokens: Option<TokensFile>,
    /// Token ring: a number of racks (node `n` in rack `n % racks`) or each node's rack.
    pub racks: Option<RacksFile>,
    /// Token ring: who coordinates a client write.
    pub coordinator: Option<CoordinatorFile>,
    /// A cost profile (`aesim calibrate`), relative to the scenario file. Accepted so the
    /// file deserializes; `scenario::costs` reads it from the TOML document and applies
    /// its values as overrides.
    #[allow(dead_code)]
    pub costs: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokensFile {
    Random,
    Balanced,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RacksFile {
    Count(u64),
    PerNode(Vec<u64>),
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatorFile {
    Any,
    Replica,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairsFile {
    #[default]
    All,
    Chain,
    Ring,
    Star,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderFile {
    #[default]
    AllAtOnce,
    NodeByNode,
    RangeByRange,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    #[serde(default)]
    pub loss: f64,
    #[serde(default = "defaults::latency")]
    pub latency: LatencyFile,
    #[serde(default = "defaults::bandwidth_bytes_per_s")]
    pub bandwidth_bytes_per_s: u64,
}

impl Default for NetworkFile {
    fn default() -> Self {
        NetworkFile {
            loss: 0.0,
            latency: defaults::latency(),
            bandwidth_bytes_per_s: defaults::bandwidth_bytes_per_s(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyFile {
    Constant { value: DurationText },
    Uniform { min: DurationText, max: DurationText },
    Exponential { mean: DurationText },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    pub writes_per_s: f64,
    #[serde(default = "defaults::keys")]
    pub keys: KeysFile,
    pub stop_at: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeysFile {
    Uniform,
    Zipf {
        exponent: f64,
    },
    Hotspot {
        key_fraction: f64,
        write_fraction: f64,
        shift_every: Option<DurationText>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StrategyFile {
    Monolithic(MonolithicFile),
    Segmented(SegmentedFile),
    RiakAae(RiakAaeFile),
}

/// Appends every reconciler knob to a strategy table's struct, as an optional field,
/// and gives the struct a `reconciler_knobs()` that copies them out.
macro_rules! with_knob_fields {
    (
        { $(#[$meta:meta])* pub struct $name:ident { $($field:tt)* } }
        $($knob:ident: $type:ty, owners $owners:tt, doc $doc:tt;)*
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($field)*
            $(pub $knob: Option<$type>,)*
        }

        impl $name {
            /// The reconciler knobs the table gives.
            pub fn reconciler_knobs(&self) -> ReconcilerKnobs {
                ReconcilerKnobs { $($knob: self.$knob,)* }
            }
        }
    };
}

/// Declares [`ReconcilerKnobs`] and the reconcilers each knob applies to.
macro_rules! knobs_struct {
    ({} $($knob:ident: $type:ty, owners [$($owner:ident),*], doc $doc:tt;)*) => {
        /// A strategy's reconciler knobs as written: each applies to one reconciler (or two).
        #[derive(Clone, Copy, Debug, Default)]
        pub struct ReconcilerKnobs {
            $(pub $knob: Option<$type>,)*
        }

        impl ReconcilerKnobs {
            /// Every knob's name, as written in a scenario.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($knob)),*];

            /// Each knob: its name, whether it is given, and the reconcilers it applies to.
            pub fn owners(&self) -> Vec<(&'static str, bool, &'static [ReconcilerFile])> {
                vec![$((stringify!($knob), self.$knob.is_some(), &[$(ReconcilerFile::$owner),*]),)*]
            }
        }
    };
}
with_reconciler_knobs!(knobs_struct! {});

with_reconciler_knobs!(with_knob_fields! {
/// A `kind = "monolithic"` strategy as written (and the reconciler knobs, `knobs.rs`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonolithicFile {
    pub name: Option<String>,
    pub leaves: u32,
    pub interval: DurationText,
    #[serde(default)]
    pub tree: TreeFile,
    #[serde(default)]
    pub order: OrderFile,
    #[serde(default)]
    pub pairs: PairsFile,
    pub session_overhead: Option<DurationText>,
    #[serde(default)]
    pub reconciler: ReconcilerFile,
    /// The preset the table was merged with (`scenario::presets`). Accepted so the
    /// merged table deserializes; the report reads it from the scenario echo.
    #[allow(dead_code)]
    pub preset: Option<String>,
}
});

/// A `kind = "riak_aae"` strategy as written: Riak's active anti-entropy, classic
/// (`reconciler = "riak_hashtree"`) or Tictac (`reconciler = "tictac"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiakAaeFile {
    pub name: Option<String>,
    #[serde(default)]
    pub reconciler: AaeReconcilerFile,
    /// Branches of the root (and, unless `segments_per_branch` says otherwise, segments
    /// of each branch).
    pub width: Option<u32>,
    /// Segments of each branch (Tictac's large tree: 256).
    pub segments_per_branch: Option<u32>,
    pub tick: Option<DurationText>,
    /// A duration, or "never".
    pub expire: Option<String>,
    pub build_limit: Option<u32>,
    pub build_limit_period: Option<DurationText>,
    /// Classic: the sleep after every 1,000,000 bytes a tree build folds ("0s": none).
    pub build_throttle: Option<DurationText>,
    pub concurrency: Option<u32>,
    /// Tictac: the pause between the two looks of its double compare ("0s": one look).
    pub tictac_pause: Option<DurationText>,
    /// Tictac: most differing segments one exchange repairs (default: all).
    pub tictac_max_segments: Option<u32>,
    #[serde(default)]
    pub pairs: PairsFile,
    pub session_overhead: Option<DurationText>,
    /// The preset the table was merged with (`scenario::presets`). Accepted so the
    /// merged table deserializes; the report reads it from the scenario echo.
    #[allow(dead_code)]
    pub preset: Option<String>,
}

/// The trees a `riak_aae` strategy keeps.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AaeReconcilerFile {
    #[default]
    RiakHashtree,
    Tictac,
}

with_reconciler_knobs!(with_knob_fields! {
/// A `kind = "segmented"` strategy as written: its fields are listed here once (the
/// reconciler knobs in `knobs.rs`), and the checker validates the struct whole.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentedFile {
    pub name: Option<String>,
    pub segments: u64,
    pub leaves: u32,
    #[serde(default = "defaults::workers")]
    pub workers: u32,
    #[serde(default)]
    pub policy: PolicyFile,
    pub max_interval: Option<DurationText>,
    pub interval: Option<DurationText>,
    pub poll: Option<DurationText>,
    #[serde(default)]
    pub tree: TreeFile,
    pub misalignment: Option<MisalignmentFile>,
    pub max_sessions_per_node: Option<u32>,
    /// Reaper: a segment running longer than this is aborted and retried later.
    pub segment_timeout: Option<DurationText>,
    /// Reaper: in (0, 1]; after a segment of duration d, pause d x (1 - i) / i.
    pub intensity: Option<f64>,
    /// Reaper: how a session's replicas build their trees.
    pub parallelism: Option<ParallelismFile>,
    /// How a ring's ranges are cut into segments: "proportional" (default) or "reaper".
    pub segment_split: Option<SegmentSplitFile>,
    /// Reaper: the repair runner's wake-up period; one segment starts per wake-up.
    pub scheduling_interval: Option<DurationText>,
    /// Reaper: how long a segment a fault postponed keeps its worker.
    pub postpone_sleep: Option<DurationText>,
    #[serde(default)]
    pub pairs: PairsFile,
    pub session_overhead: Option<DurationText>,
    #[serde(default)]
    pub reconciler: ReconcilerFile,
    /// The preset the table was merged with (`scenario::presets`). Accepted so the
    /// merged table deserializes; the report reads it from the scenario echo.
    #[allow(dead_code)]
    pub preset: Option<String>,
}
});

/// Which Cassandra's rule sizes a `cassandra_tree` or `cassandra_incremental` tree.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum CassandraVersionFile {
    /// 3.11: the depth cap less log2 of the range's share of the session (CASSANDRA-11390).
    #[serde(rename = "3.11")]
    V3_11,
    /// 4.0 and later: the cap and the memory budget (CASSANDRA-14096).
    #[default]
    #[serde(rename = "4.0")]
    V4_0,
}

/// How a segmented strategy cuts a ring's ranges into segments.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SegmentSplitFile {
    /// `max(1, round(segments x share))` per range.
    Proportional,
    /// Reaper's `SegmentGenerator`: `ceil(segments x share)` per range.
    Reaper,
}

/// Reaper's repair parallelism.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ParallelismFile {
    Parallel,
    Sequential,
    DatacenterAware,
}

/// What replicas exchange to find their differences (`reconciler = "..."`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReconcilerFile {
    #[default]
    Merkle,
    Iblt,
    RatelessIblt,
    Pinsketch,
    CassandraTree,
    CassandraIncremental,
    RowLevel,
    Naive,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeFile {
    #[default]
    Scheduled,
    Live,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyFile {
    #[default]
    RoundRobin,
    HottestFirst,
    AgeWeighted,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MisalignmentFile {
    Offset { keys: u64 },
    Segments { peer_segments: u64 },
}

/// `[faults]`: what goes wrong during the run (all optional; absent means nothing does).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsFile {
    #[serde(default)]
    pub crash: Vec<CrashFile>,
    #[serde(default)]
    pub partition: Vec<PartitionFile>,
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub reorder: f64,
    pub reorder_delay: Option<DurationText>,
    #[serde(default)]
    pub bitrot_per_s: f64,
}

/// `[[faults.crash]]`: `node` is down from `at` until `restart`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashFile {
    pub node: u64,
    pub at: DurationText,
    pub restart: DurationText,
}

/// `[[faults.partition]]`: the `isolate` nodes are cut off from the rest from `start`
/// until `end`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionFile {
    pub start: DurationText,
    pub end: DurationText,
    pub isolate: Vec<u64>,
}

/// A consistency level as written.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelFile {
    #[default]
    One,
    Quorum,
    All,
}

/// `[consistency]`: the levels writes and reads wait for, and the write timeout.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyFile {
    #[serde(default)]
    pub write: LevelFile,
    #[serde(default)]
    pub read: LevelFile,
    pub write_timeout: Option<DurationText>,
}

/// `[hints]`: hinted handoff (off when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HintsFile {
    pub window: Option<DurationText>,
    pub replay_delay: Option<DurationText>,
    pub replay_rate: Option<f64>,
    pub throttle_kib: Option<f64>,
    #[serde(default)]
    pub drop: f64,
}

/// `[reads]`: the read workload (none when absent); keys drawn like the writes'.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadsFile {
    pub reads_per_s: f64,
}

/// `[deletes]`: a fraction of the writes are deletes, tombstones purged after gc_grace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletesFile {
    pub fraction: f64,
    pub gc_grace: Option<DurationText>,
    pub compaction_interval: Option<DurationText>,
}

pub(super) mod defaults {
    use super::*;

    pub fn nodes() -> u64 {
        2
    }
    pub fn cores() -> u32 {
        8
    }
    /// The lesson's figure: 40 minutes for a full pass over 10^9 keys.
    pub fn scan_cost_per_key() -> DurationText {
        DurationText(2_400)
    }
    pub fn record_bytes() -> u64 {
        100
    }
    /// One hash operation on the write path, with its bookkeeping.
    pub fn hash_cost() -> DurationText {
        DurationText(1_000)
    }

    /// Applying streamed records is free unless a scenario or a cost profile says
    /// otherwise (every committed result predates the knob).
    pub fn apply_cost_per_record() -> DurationText {
        DurationText(0)
    }
    pub fn workers() -> u32 {
        1
    }
    pub fn latency() -> LatencyFile {
        LatencyFile::Constant {
            value: DurationText(1_000_000),
        }
    }
    /// One gigabit per second.
    pub fn bandwidth_bytes_per_s() -> u64 {
        125_000_000
    }
    pub fn keys() -> KeysFile {
        KeysFile::Uniform
    }
}
