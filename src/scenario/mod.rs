//! Scenario files: parsing, validation, and the checked [`Scenario`] the rest of aesim
//! runs. This is the only place where user input can be wrong; everything downstream
//! may assume a valid scenario.

mod costs;
mod diagnostic;
mod file;
mod knobs;
mod overrides;
pub mod presets;
pub mod reference;
mod riak_aae;
mod ring;
mod sweep;

pub use diagnostic::{Diagnostic, ScenarioError, did_you_mean};
pub use overrides::{Origin, Override, canonical_text, parse_value, value_text};
pub use sweep::{Axis, MAX_SWEEP_RUNS, ScenarioDocument, SweepSpec};

use crate::model::faults::{CrashWindow, FaultConfig, PartitionWindow};
use crate::model::network::{Latency, NetworkConfig};
use crate::model::paths::{
    ConsistencyLevel, DEFAULT_COMPACTION_INTERVAL_NS, DEFAULT_GC_GRACE_NS, DEFAULT_WRITE_TIMEOUT_NS, DeleteConfig,
    HintConfig, PathsConfig, ReadConfig,
};
use crate::model::ring::RingConfig;
use crate::model::workload::{KeyDistribution, WorkloadConfig};
use crate::protocol::TreeMaintenance;
use crate::sim::SimTime;
use crate::strategy::{
    Misalignment, Policy, RangeOrder, ReaperKnobs, RepairParallelism, SegmentSplit, SegmentedConfig, StrategyConfig,
    StrategyKind,
};
use diagnostic::Locator;
use file::{
    ClusterFile, ConsistencyFile, DeletesFile, FaultsFile, HintsFile, KeysFile, LatencyFile, LevelFile,
    MisalignmentFile, NetworkFile, OrderFile, ParallelismFile, PolicyFile, ReadsFile, ScenarioFile, SegmentSplitFile,
    SegmentedFile, StrategyFile, TreeFile, WorkloadFile,
};
use std::path::Path;

/// Cluster shape and per-node costs.
#[derive(Clone, Debug, PartialEq)]
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
/// Hints replayed per second from one coordinator to one replica by default (about
/// Cassandra's `hinted_handoff_throttle` of 1024 KiB/s with records of ~1 KiB).
pub const DEFAULT_HINT_REPLAY_RATE: f64 = 1_000.0;
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

/// Reads the scenario file at `path`; returns its text and its name for diagnostics.
pub(crate) fn read_source(path: &Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    let fail = |diagnostic| ScenarioError {
        file: file.clone(),
        diagnostics: vec![diagnostic],
    };
    let bytes = std::fs::read(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => "check the path; scenarios live in scenarios/",
            std::io::ErrorKind::IsADirectory => "name a .toml file, not a folder",
            _ => "check the file's permissions",
        };
        // Nothing in the file to point at: the diagnostic names the file alone.
        fail(Diagnostic::elsewhere(
            "",
            &file,
            format!("cannot read the scenario file: {e}"),
            Some(hint.into()),
        ))
    })?;
    match String::from_utf8(bytes) {
        Ok(source) => Ok((source, file)),
        Err(e) => {
            // Locate the first bad byte in the text as far as it can be read.
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let byte = e.as_bytes()[at];
            Err(fail(Locator::new(&text).at_span(
                "",
                Some(at..at + 1),
                format!("the scenario file is not UTF-8 text: byte 0x{byte:02X} here is not valid UTF-8"),
                Some("save the file as UTF-8 (TOML files must be UTF-8)".into()),
            )))
        }
    }
}

/// The scenario file deserialized from `source`, with the presets its strategies name
/// merged in. Without presets, errors are located by the TOML parser in the source
/// itself; with them, an error in the merged document is located at the same field of
/// the source (its closest written parent when a preset supplied it).
pub(super) fn deserialize_with_presets(
    source: &str,
    locator: &Locator,
) -> Result<(ScenarioFile, Vec<presets::PresetUse>), Vec<Diagnostic>> {
    let plain = |table: Option<&toml::Table>| {
        toml::from_str::<ScenarioFile>(source)
            .map(|raw| (raw, Vec::new()))
            .map_err(|e| {
                // An error anywhere in the `[[strategy]]` array is spanned by the TOML
                // parser at the array's first header: look for it table by table.
                let in_strategies = locator.path_at(e.span().map_or(0, |s| s.start)).starts_with("strategy");
                let narrowed = table
                    .filter(|_| in_strategies)
                    .and_then(|t| strategy_diagnostic(locator, t));
                vec![narrowed.unwrap_or_else(|| deserialize_diagnostic(locator, &e))]
            })
    };
    let Ok(mut table) = source.parse::<toml::Table>() else {
        return plain(None);
    };
    let uses = presets::merge(&mut table, locator)?;
    if uses.is_empty() {
        return plain(Some(&table));
    }
    match table.clone().try_into::<ScenarioFile>() {
        Ok(raw) => Ok((raw, uses)),
        Err(_) => Err(vec![
            strategy_diagnostic(locator, &table).unwrap_or_else(|| merged_diagnostic(locator, &table)),
        ]),
    }
}

/// The first `[[strategy]]` table of `document` that does not deserialize on its own,
/// located at its offending key in the source (or at its header when a preset supplied
/// the key): each table is written out alone and read back, so the TOML parser's span
/// falls inside that one table.
fn strategy_diagnostic(locator: &Locator, document: &toml::Table) -> Option<Diagnostic> {
    let Some(toml::Value::Array(entries)) = document.get("strategy") else {
        return None;
    };
    entries.iter().enumerate().find_map(|(index, entry)| {
        let whole = entry.clone().try_into::<file::StrategyFile>().err()?;
        let at_table = |message: String, field: &str| {
            let hint = deserialize_hint(&message);
            locator.at_path(&format!("strategy[{index}]{field}"), message, hint)
        };
        let toml::Value::Table(entry) = entry else {
            return Some(at_table(
                format!("`strategy[{index}]` must be a table, got {entry}"),
                "",
            ));
        };
        // The kind's own struct, without the tag: serde's tagged enum buffers a table
        // and loses its spans, a plain struct keeps them.
        let mut fields = entry.clone();
        let kind = fields.remove("kind");
        let text = toml::to_string(&fields).ok()?;
        let error = match kind.as_ref().and_then(toml::Value::as_str) {
            Some("monolithic") => toml::from_str::<file::MonolithicFile>(&text).err(),
            Some("segmented") => toml::from_str::<file::SegmentedFile>(&text).err(),
            Some("riak_aae") => toml::from_str::<file::RiakAaeFile>(&text).err(),
            _ => None,
        };
        let Some(error) = error else {
            let field = if kind.is_some() { ".kind" } else { "" };
            return Some(at_table(overrides::friendly(whole.message()), field));
        };
        // A missing field has no text of its own: the table's header stands for it.
        let field = match error.message().starts_with("missing field") {
            true => String::new(),
            false => Locator::new(&text).path_at(error.span().map_or(0, |s| s.start)),
        };
        let path = match field.is_empty() {
            true => format!("strategy[{index}]"),
            false => format!("strategy[{index}].{field}"),
        };
        let message = overrides::friendly(error.message());
        let hint = deserialize_hint(&message);
        Some(match message.starts_with("unknown field") {
            true => locator.at_key(&path, message, hint),
            false => locator.at_path(&path, message, hint),
        })
    })
}

/// The deserialization error of `table`, located at the same field of the source.
pub(super) fn merged_diagnostic(locator: &Locator, table: &toml::Table) -> Diagnostic {
    let text = toml::to_string(table).unwrap_or_default();
    let error = match toml::from_str::<ScenarioFile>(&text) {
        Err(e) => e,
        // The text reads back where the table did not (never seen): say so at the top.
        Ok(_) => match table.clone().try_into::<ScenarioFile>() {
            Err(e) => {
                let message = overrides::friendly(e.message());
                let hint = deserialize_hint(&message);
                return locator.at_path("strategy", message, hint);
            }
            Ok(_) => return locator.at_path("strategy", "the merged presets are invalid".into(), None),
        },
    };
    let path = Locator::new(&text).path_at(error.span().map_or(0, |s| s.start));
    let message = overrides::friendly(error.message());
    let hint = deserialize_hint(&message);
    locator.at_path(&path, message, hint)
}

/// Turns a serde/TOML error into a diagnostic, with a "did you mean" for unknown fields.
pub(super) fn deserialize_diagnostic(locator: &Locator, error: &toml::de::Error) -> Diagnostic {
    let message = overrides::friendly(error.message());
    let hint = deserialize_hint(&message);
    // Every TOML error is located; one without a span (rare) points at the file's start.
    locator.at_span("", Some(error.span().unwrap_or(0..0)), message, hint)
}

/// The hint for a serde/TOML error message, if there is one.
fn deserialize_hint(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (word, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        Some(match did_you_mean(word, candidates.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("remove `{word}`; see scenarios/quickstart.toml for every field"),
        })
    } else if message.starts_with("unknown variant") {
        Some("see scenarios/quickstart.toml for the kinds aesim knows".into())
    } else if message.starts_with("missing field") {
        Some("add the field; scenarios/quickstart.toml shows each one with a comment".into())
    } else {
        None
    }
}

/// Validates fields one by one, collecting every problem rather than stopping at the first.
struct Checker<'a> {
    locator: &'a Locator<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: String, hint: &str) {
        let hint = (!hint.is_empty()).then(|| hint.to_string());
        self.diagnostics.push(self.locator.at_path(path, message, hint));
    }

    /// Checks `ok`, reporting `expected` at `path` otherwise.
    fn require(&mut self, ok: bool, path: &str, expected: &str, got: impl std::fmt::Display, hint: &str) {
        if !ok {
            self.error(path, format!("`{path}` must be {expected}, got {got}"), hint);
        }
    }

    /// Checks a fault's time window, given as (field, nanoseconds) at the paths `at`
    /// makes: it starts before the end of the run, and its end, `end_is` (an instant),
    /// comes after its start.
    fn window(
        &mut self,
        at: impl Fn(&str) -> String,
        (start_field, start): (&str, u64),
        (end_field, end): (&str, u64),
        end_is: &str,
        duration_ns: u64,
    ) {
        self.require(
            start < end,
            &at(end_field),
            &format!("later than `{start_field}`"),
            format!("{end} ns <= {start} ns"),
            &format!("`{end_field}` is {end_is}, not a duration"),
        );
        self.require(
            start < duration_ns,
            &at(start_field),
            "before the end of the run",
            format!("{start} ns"),
            "",
        );
    }

    fn probability(&mut self, value: f64, path: &str) {
        self.require(
            (0.0..=1.0).contains(&value),
            path,
            "a probability in [0, 1]",
            value,
            "0.01 means 1%",
        );
    }

    /// Checks a whole file, table by table in file order (so diagnostics come out in the
    /// order a reader meets them), and builds the scenario from the checked parts.
    fn scenario(&mut self, raw: ScenarioFile, source: &str) -> Scenario {
        let sample_interval_ns = self.top_level(&raw);
        let cluster = self.cluster(&raw.cluster);
        let network = self.network(&raw.network);
        let workload = self.workload(&raw.workload, raw.cluster.keys, raw.duration.0);
        let strategies = self.strategies(raw.strategy, &raw.cluster);
        let faults = match raw.faults {
            Some(f) => self.faults(f, raw.cluster.nodes, raw.duration.0),
            None => FaultConfig::default(),
        };
        let mut paths = self.paths(raw.consistency.as_ref(), raw.hints.as_ref(), raw.reads.as_ref());
        paths.deletes = raw.deletes.as_ref().map(|d| self.deletes(d));
        Scenario {
            name: raw.name,
            description: raw.description,
            seed: raw.seed,
            duration_ns: raw.duration.0,
            sample_interval_ns,
            cluster,
            network,
            workload,
            strategies,
            faults,
            paths,
            source: source.to_string(),
        }
    }

    /// The top-level fields: `name`, `duration` and `sample_interval`. Returns the
    /// sample interval (default: a hundredth of the run).
    fn top_level(&mut self, raw: &ScenarioFile) -> u64 {
        let name_ok = !raw.name.is_empty()
            && raw.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !raw.name.starts_with('.');
        self.require(
            name_ok,
            "name",
            "a non-empty name of letters, digits, '-', '_' or '.'",
            format!("\"{}\"", raw.name),
            "the name becomes the folder results/<name>/",
        );
        self.require(
            raw.duration.0 > 0,
            "duration",
            "positive",
            "0s",
            "e.g. duration = \"10min\"",
        );
        let sample_interval_ns = raw.sample_interval.map_or((raw.duration.0 / 100).max(1), |d| d.0);
        self.require(
            sample_interval_ns > 0,
            "sample_interval",
            "positive",
            "0s",
            "e.g. sample_interval = \"10s\"",
        );
        self.require(
            sample_interval_ns <= raw.duration.0.max(1),
            "sample_interval",
            "at most `duration`",
            format!("{sample_interval_ns} ns > {} ns", raw.duration.0),
            "the time series needs at least one interval",
        );
        if raw.duration.0 > 0 && sample_interval_ns > 0 {
            let rows = raw.duration.0 / sample_interval_ns;
            let shortest_us = raw.duration.0.div_ceil(MAX_SAMPLES) / 1_000;
            self.require(
                rows <= MAX_SAMPLES,
                "sample_interval",
                &format!("at least duration / 1,000,000 ({shortest_us} us here)"),
                format!("{rows} rows"),
                "a longer interval keeps the time series readable",
            );
        }
        sample_interval_ns
    }

    /// `[cluster]`.
    fn cluster(&mut self, c: &ClusterFile) -> ClusterConfig {
        self.require(
            (2..=MAX_NODES).contains(&c.nodes),
            "cluster.nodes",
            "between 2 and 1,000",
            c.nodes,
            "anti-entropy compares at least two replicas",
        );
        self.require(
            (1..=MAX_KEYS).contains(&c.keys),
            "cluster.keys",
            "between 1 and 2^40",
            c.keys,
            "1_000_000_000 is the lesson's key space",
        );
        self.require(
            (1..=MAX_CORES).contains(&c.cores),
            "cluster.cores",
            "between 1 and 4096",
            c.cores,
            "",
        );
        self.require(
            (1..=MAX_RECORD_BYTES).contains(&c.record_bytes),
            "cluster.record_bytes",
            "between 1 and 16 MiB",
            c.record_bytes,
            "",
        );
        let full_scan_ns = u128::from(c.keys) * u128::from(c.scan_cost_per_key.0);
        self.require(
            full_scan_ns <= u128::from(u64::MAX / 2),
            "cluster.scan_cost_per_key",
            "small enough that a full scan fits in virtual time",
            format!("{full_scan_ns} ns"),
            "",
        );
        let ring = self.ring(c);
        let node_cores = self.node_cores(c);
        ClusterConfig {
            nodes: c.nodes as usize,
            key_count: c.keys,
            cores: c.cores,
            node_cores,
            ring,
            scan_cost_ns_per_key: c.scan_cost_per_key.0,
            record_bytes: c.record_bytes,
            hash_cost_ns: c.hash_cost.0,
        }
    }

    /// `[network]`.
    fn network(&mut self, n: &NetworkFile) -> NetworkConfig {
        self.probability(n.loss, "network.loss");
        self.require(
            n.bandwidth_bytes_per_s >= 1,
            "network.bandwidth_bytes_per_s",
            "at least 1",
            n.bandwidth_bytes_per_s,
            "125_000_000 is one gigabit per second",
        );
        let latency = match n.latency {
            LatencyFile::Constant { value } => Latency::Constant { nanos: value.0 },
            LatencyFile::Uniform { min, max } => {
                self.require(
                    min.0 <= max.0,
                    "network.latency.max",
                    "at least `network.latency.min`",
                    format!("{} ns < {} ns", max.0, min.0),
                    "",
                );
                Latency::Uniform {
                    min_nanos: min.0,
                    max_nanos: max.0,
                }
            }
            LatencyFile::Exponential { mean } => Latency::Exponential { mean_nanos: mean.0 },
        };
        NetworkConfig {
            loss_probability: n.loss,
            latency,
            bandwidth_bytes_per_s: n.bandwidth_bytes_per_s,
        }
    }

    /// `[workload]`; `keys` is the cluster's key count, `duration_ns` the run's length.
    fn workload(&mut self, w: &WorkloadFile, keys: u64, duration_ns: u64) -> WorkloadConfig {
        self.require(
            w.writes_per_s.is_finite() && w.writes_per_s >= 0.0 && w.writes_per_s <= 1e9,
            "workload.writes_per_s",
            "a finite rate between 0 and 10^9",
            w.writes_per_s,
            "writes per second across the cluster",
        );
        let distribution = match w.keys {
            KeysFile::Uniform => KeyDistribution::Uniform,
            KeysFile::Zipf { exponent } => {
                self.require(
                    exponent.is_finite() && exponent > 0.0,
                    "workload.keys.exponent",
                    "a positive number",
                    exponent,
                    "1.0 to 1.2 is typical",
                );
                KeyDistribution::Zipf { exponent }
            }
            KeysFile::Hotspot {
                key_fraction,
                write_fraction,
                shift_every,
            } => {
                self.require(
                    key_fraction > 0.0 && key_fraction < 1.0,
                    "workload.keys.key_fraction",
                    "strictly between 0 and 1",
                    key_fraction,
                    "0.01 makes 1% of the keys hot",
                );
                self.probability(write_fraction, "workload.keys.write_fraction");
                if let Some(every) = shift_every {
                    self.require(
                        every.0 > 0,
                        "workload.keys.shift_every",
                        "positive",
                        "0s",
                        "omit it for a fixed hotspot",
                    );
                }
                self.require(keys >= 2, "cluster.keys", "at least 2 for a hotspot workload", keys, "");
                KeyDistribution::Hotspot {
                    key_fraction,
                    write_fraction,
                    shift_every_ns: shift_every.map(|d| d.0),
                }
            }
        };
        if let Some(stop_at) = w.stop_at {
            self.require(
                stop_at.0 > 0,
                "workload.stop_at",
                "positive",
                "0s",
                "omit it to write until the end; writes_per_s = 0.0 writes nothing",
            );
        }
        WorkloadConfig {
            writes_per_s: w.writes_per_s,
            keys: distribution,
            stop_at: SimTime::from_nanos(w.stop_at.map_or(duration_ns, |d| d.0)),
        }
    }

    /// Every `[[strategy]]`, in order: each kind's fields, then the names.
    fn strategies(&mut self, entries: Vec<StrategyFile>, c: &ClusterFile) -> Vec<StrategyConfig> {
        if entries.is_empty() {
            self.error(
                "strategy",
                "a scenario needs at least one [[strategy]]".into(),
                "add [[strategy]] with kind = \"monolithic\"",
            );
        }
        let mut strategies: Vec<StrategyConfig> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let at = |field: &str| format!("strategy[{i}].{field}");
            let repair;
            let (name, kind) = match entry {
                StrategyFile::Monolithic(raw) => {
                    let knobs = raw.reconciler_knobs();
                    let file::MonolithicFile {
                        name,
                        leaves,
                        interval,
                        tree,
                        order,
                        pairs,
                        session_overhead,
                        reconciler,
                        ..
                    } = raw;
                    repair = Checker::repair_settings(pairs, session_overhead.map(|d| d.0))
                        .with_reconciler(self.reconciler(reconciler, &knobs, matches!(tree, TreeFile::Live), c, &at));
                    // On a ring a tree covers one token range, whose size is known only
                    // once the tokens are drawn: only the whole key space is checked (a
                    // smaller range gets empty leaves; see ARCHITECTURE.md, the ring).
                    self.leaves(leaves, &at("leaves"), c.keys, "keys");
                    // Zero means back to back; a pass must then take time, or the run
                    // would loop forever at one instant.
                    let scans = c.scan_cost_per_key.0 > 0 && matches!(tree, TreeFile::Scheduled);
                    self.require(
                        interval.0 > 0 || scans,
                        &at("interval"),
                        "positive for a live tree or when `cluster.scan_cost_per_key` is zero",
                        "0s",
                        "a zero interval runs passes back to back, which needs a scan that takes time",
                    );
                    let kind = StrategyKind::Monolithic {
                        leaves,
                        interval_ns: interval.0,
                        tree: tree.into(),
                        order: match order {
                            OrderFile::AllAtOnce => RangeOrder::AllAtOnce,
                            OrderFile::NodeByNode => RangeOrder::NodeByNode,
                        },
                    };
                    (name.unwrap_or_else(|| "monolithic".into()), kind)
                }
                StrategyFile::Segmented(raw) => {
                    let knobs = raw.reconciler_knobs();
                    repair = Checker::repair_settings(raw.pairs, raw.session_overhead.map(|d| d.0)).with_reconciler(
                        self.reconciler(raw.reconciler, &knobs, matches!(raw.tree, TreeFile::Live), c, &at),
                    );
                    let name = raw.name.clone().unwrap_or_else(|| "segmented".into());
                    let scans = c.scan_cost_per_key.0 > 0;
                    let partial = c.replication_factor.is_some_and(|rf| rf < c.nodes);
                    if raw.misalignment.is_some() && partial {
                        self.error(
                            &at("misalignment"),
                            "misaligned boundaries are modelled only when every node holds every key".into(),
                            "remove `misalignment`, or set `cluster.replication_factor` to `nodes`",
                        );
                    }
                    let config = self.segmented(scans, &at, c.keys, raw);
                    (name, StrategyKind::Segmented(config))
                }
                StrategyFile::RiakAae(raw) => {
                    let (config, reconciler) = self.riak_aae(&at, c, &raw);
                    repair = Checker::repair_settings(raw.pairs, raw.session_overhead.map(|d| d.0))
                        .with_reconciler(reconciler);
                    let default = if config.tictac { "riak_tictac" } else { "riak_aae" };
                    (
                        raw.name.unwrap_or_else(|| default.into()),
                        StrategyKind::RiakAae(config),
                    )
                }
            };
            self.strategy_name(&name, &at("name"), &strategies);
            strategies.push(StrategyConfig { name, kind, repair });
        }
        strategies
    }

    /// A strategy's name at `path`: printable, short, unique among `earlier`.
    fn strategy_name(&mut self, name: &str, path: &str, earlier: &[StrategyConfig]) {
        let name_ok = !name.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && name.chars().all(|c| !c.is_control() && c != ',' && c != '"');
        self.require(
            name_ok,
            path,
            "1 to 64 characters without commas, quotes or control characters",
            format!("{name:?}"),
            "the name labels the strategy's rows in every CSV",
        );
        if earlier.iter().any(|s| s.name == name) {
            self.error(
                path,
                format!("two strategies are named \"{name}\""),
                "give each [[strategy]] a distinct `name`",
            );
        }
    }

    fn faults(&mut self, f: FaultsFile, nodes: u64, duration_ns: u64) -> FaultConfig {
        self.probability(f.duplicate, "faults.duplicate");
        self.probability(f.reorder, "faults.reorder");
        let reorder_delay_ns_max = f.reorder_delay.map_or(DEFAULT_REORDER_DELAY_NS, |d| d.0);
        self.positive(
            reorder_delay_ns_max,
            "faults.reorder_delay",
            "e.g. reorder_delay = \"50ms\"",
        );
        self.require(
            f.bitrot_per_s.is_finite() && (0.0..=1e6).contains(&f.bitrot_per_s),
            "faults.bitrot_per_s",
            "a finite rate between 0 and 10^6",
            f.bitrot_per_s,
            "corrupted records per second over the whole cluster",
        );
        let mut crashes: Vec<CrashWindow> = Vec::new();
        for (i, c) in f.crash.iter().enumerate() {
            let at = |field: &str| format!("faults.crash[{i}].{field}");
            self.require(
                c.node < nodes,
                &at("node"),
                &format!("a node index below {nodes}"),
                c.node,
                "nodes are numbered from 0",
            );
            let back = "the instant the node is back";
            self.window(at, ("at", c.at.0), ("restart", c.restart.0), back, duration_ns);
            let overlaps = crashes
                .iter()
                .any(|w| w.node as u64 == c.node && w.down_at.nanos() < c.restart.0 && c.at.0 < w.up_at.nanos());
            if overlaps {
                self.error(
                    &at("at"),
                    format!(
                        "crash {i} of node {} overlaps an earlier crash of the same node",
                        c.node
                    ),
                    "a node must restart before it can crash again",
                );
            }
            crashes.push(CrashWindow {
                node: c.node.min(nodes.saturating_sub(1)) as usize,
                down_at: SimTime::from_nanos(c.at.0),
                up_at: SimTime::from_nanos(c.restart.0),
            });
        }
        let mut partitions = Vec::new();
        for (i, p) in f.partition.iter().enumerate() {
            let at = |field: &str| format!("faults.partition[{i}].{field}");
            let heals = "the instant the partition heals";
            self.window(at, ("start", p.start.0), ("end", p.end.0), heals, duration_ns);
            let mut isolated: Vec<u64> = p.isolate.clone();
            isolated.sort_unstable();
            isolated.dedup();
            let valid = !isolated.is_empty()
                && isolated.len() == p.isolate.len()
                && (isolated.len() as u64) < nodes
                && isolated.iter().all(|&n| n < nodes);
            self.require(
                valid,
                &at("isolate"),
                &format!("distinct node indices below {nodes}, at least one node and not all of them"),
                format!("{:?}", p.isolate),
                "e.g. isolate = [1] cuts node 1 off from the others",
            );
            partitions.push(PartitionWindow {
                start: SimTime::from_nanos(p.start.0),
                end: SimTime::from_nanos(p.end.0),
                isolated: isolated.iter().map(|&n| n as usize).collect(),
            });
        }
        FaultConfig {
            crashes,
            partitions,
            duplicate_probability: f.duplicate,
            reorder_probability: f.reorder,
            reorder_delay_ns_max,
            bitrot_per_s: f.bitrot_per_s,
        }
    }

    /// `[consistency]`, `[hints]` and `[reads]`: the repair paths before anti-entropy.
    fn paths(&mut self, c: Option<&ConsistencyFile>, h: Option<&HintsFile>, r: Option<&ReadsFile>) -> PathsConfig {
        let level = |l: LevelFile| match l {
            LevelFile::One => ConsistencyLevel::One,
            LevelFile::Quorum => ConsistencyLevel::Quorum,
            LevelFile::All => ConsistencyLevel::All,
        };
        let write_timeout_ns = c
            .and_then(|c| c.write_timeout)
            .map_or(DEFAULT_WRITE_TIMEOUT_NS, |d| d.0);
        self.positive(
            write_timeout_ns,
            "consistency.write_timeout",
            "Cassandra's write_request_timeout is 2s",
        );
        let hints = h.map(|h| {
            let window_ns = h.window.map_or(DEFAULT_HINT_WINDOW_NS, |d| d.0);
            self.positive(window_ns, "hints.window", "Cassandra's max_hint_window is 3h");
            let replay_delay_ns = h.replay_delay.map_or(DEFAULT_HINT_REPLAY_DELAY_NS, |d| d.0);
            self.positive(replay_delay_ns, "hints.replay_delay", "e.g. replay_delay = \"10s\"");
            let rate = h.replay_rate.unwrap_or(DEFAULT_HINT_REPLAY_RATE);
            self.require(
                rate.is_finite() && (0.001..=1e9).contains(&rate),
                "hints.replay_rate",
                "a finite rate between 0.001 and 10^9",
                rate,
                "hints replayed per second from one coordinator to one replica",
            );
            self.probability(h.drop, "hints.drop");
            HintConfig {
                window_ns,
                replay_delay_ns,
                replay_interval_ns: (1e9 / rate.clamp(0.001, 1e9)).round() as u64,
                drop_probability: h.drop,
            }
        });
        let reads = r.map(|r| {
            self.require(
                r.reads_per_s.is_finite() && r.reads_per_s > 0.0 && r.reads_per_s <= 1e9,
                "reads.reads_per_s",
                "a finite positive rate up to 10^9",
                r.reads_per_s,
                "reads per second across the cluster; omit [reads] for none",
            );
            ReadConfig {
                reads_per_s: r.reads_per_s,
            }
        });
        PathsConfig {
            write_level: level(c.map_or(LevelFile::One, |c| c.write)),
            write_timeout_ns,
            read_level: level(c.map_or(LevelFile::One, |c| c.read)),
            hints,
            reads,
            deletes: None,
        }
    }

    /// `[deletes]`.
    fn deletes(&mut self, d: &DeletesFile) -> DeleteConfig {
        self.probability(d.fraction, "deletes.fraction");
        let gc_grace_ns = d.gc_grace.map_or(DEFAULT_GC_GRACE_NS, |g| g.0);
        self.positive(
            gc_grace_ns,
            "deletes.gc_grace",
            "Cassandra's gc_grace_seconds is 10 days",
        );
        let compaction_interval_ns = d.compaction_interval.map_or(DEFAULT_COMPACTION_INTERVAL_NS, |c| c.0);
        // One compaction event per interval for the whole run: at least a second apart
        // (real compactions run minutes to hours apart).
        self.require(
            compaction_interval_ns >= 1_000_000_000,
            "deletes.compaction_interval",
            "at least 1s",
            format!("{} s", compaction_interval_ns as f64 / 1e9),
            "compactions run minutes to hours apart; e.g. compaction_interval = \"1h\"",
        );
        DeleteConfig {
            fraction: d.fraction,
            gc_grace_ns,
            compaction_interval_ns,
        }
    }

    fn positive(&mut self, nanos: u64, path: &str, hint: &str) {
        self.require(nanos > 0, path, "positive", "0s", hint);
    }

    /// A `kind = "segmented"` strategy's fields (its name aside, which `strategies` checks).
    fn segmented(
        &mut self,
        scans: bool,
        at: &dyn Fn(&str) -> String,
        keys: u64,
        raw: SegmentedFile,
    ) -> SegmentedConfig {
        let segments_ok = raw.segments >= 1 && raw.segments <= keys && raw.segments <= MAX_SEGMENTS;
        self.require(
            segments_ok,
            &at("segments"),
            "between 1 and the number of keys (and at most 10^7)",
            raw.segments,
            "the lesson uses 10_000 segments of 100_000 keys",
        );
        let shortest_segment = keys / raw.segments.max(1);
        self.leaves(
            raw.leaves,
            &at("leaves"),
            shortest_segment,
            "keys of the smallest segment",
        );
        self.require(
            (1..=MAX_WORKERS).contains(&raw.workers),
            &at("workers"),
            "between 1 and 4096",
            raw.workers,
            "segments compared at once; the node's cores bound how many builds really run in parallel",
        );
        let prioritised = raw.policy != PolicyFile::RoundRobin;
        let max_interval_ns = match raw.max_interval {
            Some(d) => {
                self.require(
                    d.0 > 0,
                    &at("max_interval"),
                    "positive",
                    "0s",
                    "the starvation bound, e.g. \"10min\"",
                );
                d.0
            }
            None if prioritised => {
                self.error(
                    &at("policy"),
                    "a prioritised policy needs `max_interval`, its starvation bound".into(),
                    "add max_interval = \"10min\": every segment is compared at least that often",
                );
                u64::MAX
            }
            None => u64::MAX,
        };
        // Each policy reads only its own pacing knob; a knob the policy ignores is an error
        // rather than a silent no-op.
        if prioritised && raw.interval.is_some() {
            self.error(
                &at("interval"),
                "`interval` paces round-robin passes; prioritised policies do not use it".into(),
                "remove it; `max_interval` bounds how long any segment waits",
            );
        }
        if !prioritised && raw.max_interval.is_some() {
            self.error(
                &at("max_interval"),
                "`max_interval` is the starvation bound of prioritised policies; round robin does not use it".into(),
                "remove it, or set policy = \"hottest_first\" or \"age_weighted\"",
            );
        }
        let interval_ns = raw.interval.map_or(0, |d| d.0);
        if !prioritised {
            let live = matches!(raw.tree, TreeFile::Live);
            self.require(
                interval_ns > 0 || (scans && !live),
                &at("interval"),
                "positive for live trees or when `cluster.scan_cost_per_key` is zero",
                "0s",
                "back-to-back passes need a scan that takes time, or the run loops at one instant",
            );
        }
        let poll_ns = raw.poll.map_or(100_000_000, |d| d.0);
        self.require(
            poll_ns > 0,
            &at("poll"),
            "positive",
            "0s",
            "idle workers look for work this often, e.g. \"100ms\"",
        );
        if let Some(limit) = raw.max_sessions_per_node {
            self.require(
                limit >= 1,
                &at("max_sessions_per_node"),
                "at least 1",
                limit,
                "Reaper lets a node take part in one repair session at a time",
            );
        }
        let misalignment = match raw.misalignment {
            None => Misalignment::Aligned,
            Some(MisalignmentFile::Offset { keys: offset }) => {
                self.require(
                    offset >= 1 && offset < keys,
                    &at("misalignment.keys"),
                    "between 1 and the number of keys - 1",
                    offset,
                    "",
                );
                Misalignment::Offset { keys: offset }
            }
            Some(MisalignmentFile::Segments { peer_segments }) => {
                self.require(
                    peer_segments >= 1 && peer_segments < raw.segments,
                    &at("misalignment.peer_segments"),
                    "between 1 and `segments` - 1",
                    peer_segments,
                    "the peers cut fewer segments than node 0, so every peer segment is still compared",
                );
                Misalignment::SegmentCount {
                    peer_segments: peer_segments.max(1),
                }
            }
        };
        SegmentedConfig {
            segments: raw.segments.max(1),
            leaves: raw.leaves,
            workers: raw.workers,
            policy: match raw.policy {
                PolicyFile::RoundRobin => Policy::RoundRobin,
                PolicyFile::HottestFirst => Policy::HottestFirst,
                PolicyFile::AgeWeighted => Policy::AgeWeighted,
            },
            max_interval_ns,
            interval_ns,
            poll_ns,
            tree: raw.tree.into(),
            misalignment,
            max_sessions_per_node: raw.max_sessions_per_node,
            reaper: self.reaper_knobs(at, &raw),
        }
    }

    /// Reaper's knobs of a segmented strategy: `segment_timeout`, `intensity`,
    /// `parallelism`; absent, they change nothing.
    fn reaper_knobs(&mut self, at: &dyn Fn(&str) -> String, raw: &SegmentedFile) -> ReaperKnobs {
        if let Some(timeout) = raw.segment_timeout {
            self.positive(
                timeout.0,
                &at("segment_timeout"),
                "Reaper's hangingRepairTimeoutMins is 30: segment_timeout = \"30min\"",
            );
        }
        let intensity = raw.intensity.unwrap_or(1.0);
        let intensity_ok = intensity.is_finite() && intensity > 0.0 && intensity <= 1.0;
        self.require(
            intensity_ok,
            &at("intensity"),
            "a number in (0, 1]",
            intensity,
            "after a segment of duration d a worker pauses d x (1 - intensity) / intensity: 0.5 sleeps half the time",
        );
        if let Some(interval) = raw.scheduling_interval {
            self.positive(
                interval.0,
                &at("scheduling_interval"),
                "Reaper's repairManagerSchedulingIntervalSeconds is 10: scheduling_interval = \"10s\"",
            );
        }
        ReaperKnobs {
            segment_timeout_ns: raw.segment_timeout.map(|d| d.0.max(1)),
            split: match raw.segment_split {
                Some(SegmentSplitFile::Reaper) => SegmentSplit::Reaper,
                _ => SegmentSplit::Proportional,
            },
            scheduling_interval_ns: raw.scheduling_interval.map(|d| d.0.max(1)),
            postpone_sleep_ns: raw.postpone_sleep.map_or(0, |d| d.0),
            intensity: if intensity_ok { intensity } else { 1.0 },
            // One data centre: datacenter-aware repair (all replicas of one DC at a
            // time) is parallel repair.
            parallelism: match raw.parallelism {
                Some(ParallelismFile::Sequential) => RepairParallelism::Sequential,
                _ => RepairParallelism::Parallel,
            },
        }
    }

    /// Checks a tree's leaf count; `keys` is the fewest keys one tree covers, and
    /// `covering` names them in the message ("keys", "keys of the smallest segment").
    fn leaves(&mut self, leaves: u32, path: &str, keys: u64, covering: &str) {
        self.require(
            leaves.is_power_of_two() && leaves <= MAX_LEAVES,
            path,
            "a power of two up to 2^24",
            leaves,
            "e.g. 1024",
        );
        self.require(
            u64::from(leaves) <= keys,
            path,
            &format!("at most the number of {covering} ({keys})"),
            leaves,
            "a leaf must cover at least one key",
        );
    }
}
