//! Scenario files: parsing, validation, and the checked [`Scenario`] the rest of aesim
//! runs. This is the only place where user input can be wrong; everything downstream
//! may assume a valid scenario.

mod checker;
mod cluster;
mod costs;
mod diagnostic;
mod faults;
mod file;
mod knobs;
mod overrides;
mod parse;
mod paths;
pub mod presets;
pub mod reference;
mod riak_aae;
mod ring;
mod segmented;
mod strategies;
mod sweep;

use checker::Checker;
pub(crate) use parse::read_source;
use parse::{deserialize_diagnostic, deserialize_hint, deserialize_with_presets};

pub use diagnostic::{Diagnostic, ScenarioError, did_you_mean};
pub use overrides::{Origin, Override, canonical_text, names_cost_profile, parse_value, value_text};
pub use sweep::{Axis, MAX_SWEEP_RUNS, ScenarioDocument, SweepSpec};

use crate::model::faults::FaultConfig;
use crate::model::network::NetworkConfig;
use crate::model::paths::PathsConfig;
use crate::model::ring::RingConfig;
use crate::model::workload::WorkloadConfig;
use crate::protocol::TreeMaintenance;
use crate::sim::SimTime;
use crate::strategy::StrategyConfig;
use diagnostic::Locator;
use file::TreeFile;
use std::path::Path;

/// Cluster shape and per-node costs.
#[derive(Clone, PartialEq)]
pub struct ClusterConfig {
    pub nodes: usize,
    pub key_count: u64,
    /// Cores per node: tree builds running at once on one node.
    pub cores: u32,
    /// Cores of each node (`cores` for every node unless `node_cores` says otherwise).
    pub node_cores: Vec<u32>,
    /// The token ring (`None`: every node holds every key).
    pub ring: Option<RingConfig>,
    /// Virtual time a tree build spends per key of its range.
    pub scan_cost_ns_per_key: u64,
    /// Bytes one streamed record occupies on the wire.
    pub record_bytes: u64,
    /// CPU time of one hash operation on the write path (charged by live trees).
    pub hash_cost_ns: u64,
    /// Time a repair stream's receiver spends on each record it is sent; a node applies
    /// its incoming streams one after another.
    pub apply_cost_ns_per_record: u64,
}

/// A validated scenario.
#[derive(Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration_ns: u64,
    pub sample_interval_ns: u64,
    pub cluster: ClusterConfig,
    pub network: NetworkConfig,
    pub workload: WorkloadConfig,
    pub strategies: Vec<StrategyConfig>,
    /// Modelled faults (none unless the file has a `[faults]` table).
    pub faults: FaultConfig,
    /// Consistency levels, hinted handoff, reads (`[consistency]`, `[hints]`,
    /// `[reads]`; all off unless configured).
    pub paths: PathsConfig,
    /// The file's text, echoed next to the results for reproduction.
    pub source: String,
}

/// The derived form, except that the apply cost is left out while it is 0: the scenario
/// fingerprint hashes this text, so scenarios written before the knob existed keep
/// their fingerprint (`run.toml`'s `scenario_hash`).
impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("ClusterConfig");
        s.field("nodes", &self.nodes)
            .field("key_count", &self.key_count)
            .field("cores", &self.cores)
            .field("node_cores", &self.node_cores)
            .field("ring", &self.ring)
            .field("scan_cost_ns_per_key", &self.scan_cost_ns_per_key)
            .field("record_bytes", &self.record_bytes)
            .field("hash_cost_ns", &self.hash_cost_ns);
        if self.apply_cost_ns_per_record != 0 {
            s.field("apply_cost_ns_per_record", &self.apply_cost_ns_per_record);
        }
        s.finish()
    }
}

/// The derived form, except that the repair paths are left out while they are the
/// default: the fingerprint hashes this text, so scenarios written before the paths
/// existed keep their fingerprint (`run.toml`'s `scenario_hash`).
impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Scenario");
        s.field("name", &self.name)
            .field("description", &self.description)
            .field("seed", &self.seed)
            .field("duration_ns", &self.duration_ns)
            .field("sample_interval_ns", &self.sample_interval_ns)
            .field("cluster", &self.cluster)
            .field("network", &self.network)
            .field("workload", &self.workload)
            .field("strategies", &self.strategies)
            .field("faults", &self.faults);
        if !self.paths.is_default() {
            s.field("paths", &self.paths);
        }
        s.field("source", &self.source).finish()
    }
}

/// Largest supported tree (leaves per tree), to keep one tree's memory bounded (2^24
/// leaves is 1 GiB of hashes).
pub const MAX_LEAVES: u32 = 1 << 24;
/// Most rows of one strategy's time series: `sample_interval` is at least
/// `duration / MAX_SAMPLES`.
pub const MAX_SAMPLES: u64 = 1_000_000;
/// Largest supported cluster.
pub const MAX_NODES: u64 = 1_000;
/// Largest supported key space (2^40, about 1.1 * 10^12 keys): keeps every count of keys
/// and bytes a run accumulates far from `u64` overflow.
pub const MAX_KEYS: u64 = 1 << 40;
/// Largest supported core count per node.
pub const MAX_CORES: u32 = 4096;
/// Largest supported record on the wire (16 MiB).
pub const MAX_RECORD_BYTES: u64 = 1 << 24;
/// Longest hold-back of a reordered message when `faults.reorder_delay` is not given.
pub const DEFAULT_REORDER_DELAY_NS: u64 = 100_000_000;
/// Cassandra's `max_hint_window` (3 h): the default hint window.
pub const DEFAULT_HINT_WINDOW_NS: u64 = 3 * 3_600_000_000_000;
/// Cassandra's hint dispatcher runs every 10 s: the default replay delay.
pub const DEFAULT_HINT_REPLAY_DELAY_NS: u64 = 10_000_000_000;
/// Cassandra's `hinted_handoff_throttle` (4.1 `cassandra.yaml`: `1024KiB`; 4.0
/// `hinted_handoff_throttle_in_kb: 1024`): bytes a second one node replays hints at,
/// "reduced proportionally to the number of nodes in the cluster" (`HintsDispatchExecutor`
/// divides it by the nodes less one), so a restarted node receives its hints from each of
/// the others at 1 / (N - 1) of it. The default when `[hints]` gives no `replay_rate`.
pub const DEFAULT_HINT_THROTTLE_KIB: f64 = 1024.0;
/// Longest strategy name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Most segments one strategy may cut the key space into.
pub const MAX_SEGMENTS: u64 = 10_000_000;
/// Most workers one segmented strategy may run.
pub const MAX_WORKERS: u32 = 4096;

impl From<TreeFile> for TreeMaintenance {
    fn from(tree: TreeFile) -> TreeMaintenance {
        match tree {
            TreeFile::Scheduled => TreeMaintenance::Scheduled,
            TreeFile::Live => TreeMaintenance::Live,
        }
    }
}

impl Scenario {
    /// Reads and validates the scenario at `path`.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let (source, file) = read_source(path)?;
        Scenario::parse(&source, &file)
    }

    /// Parses and validates scenario text; `file` names it in errors (and locates a cost
    /// profile the text names, relative to the file's folder).
    pub fn parse(source: &str, file: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_with(source, file, &[])
    }

    /// [`Scenario::parse`] without overrides or a cost profile.
    fn parse_plain(source: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let locator = Locator::new(source);
        let fail = |diagnostics| ScenarioError {
            file: file.to_string(),
            diagnostics,
        };
        let (raw, presets) = deserialize_with_presets(source, &locator).map_err(fail)?;
        let mut checker = Checker {
            locator: &locator,
            diagnostics: Vec::new(),
        };
        let scenario = checker.scenario(raw, source);
        if checker.diagnostics.is_empty() {
            Ok(scenario)
        } else {
            let diagnostics = checker
                .diagnostics
                .into_iter()
                .map(|d| presets::explain(d, &presets))
                .collect();
            Err(fail(diagnostics))
        }
    }

    /// A short hash of what the scenario simulates: every checked parameter except the
    /// seed (a reseeded run is the same scenario) and the text's comments and layout.
    /// `run.toml` records it so that results of two scenarios are never mixed.
    pub fn fingerprint(&self) -> String {
        let canonical = Scenario {
            seed: 0,
            source: String::new(),
            description: String::new(),
            ..self.clone()
        };
        let hash = blake3::hash(format!("{canonical:?}").as_bytes());
        hash.to_hex()[..16].to_string()
    }

    pub fn end(&self) -> SimTime {
        SimTime::from_nanos(self.duration_ns)
    }
}
