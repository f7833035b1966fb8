//! The checker: validates a deserialized scenario field by field, collecting every
//! problem (located at its key) rather than stopping at the first, and builds the
//! [`Scenario`] from the checked tables. Each table's checks are in the file of that
//! table (`cluster.rs`, `strategies.rs`, `segmented.rs`, `faults.rs`, `paths.rs`,
//! `ring.rs`, `riak_aae.rs`).

use super::diagnostic::Locator;
use super::file::ScenarioFile;
use super::{Diagnostic, MAX_LEAVES, MAX_SAMPLES, Scenario};
use crate::model::faults::FaultConfig;

/// Validates fields one by one, collecting every problem rather than stopping at the first.
pub(super) struct Checker<'a> {
    pub(super) locator: &'a Locator<'a>,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error(&mut self, path: &str, message: String, hint: &str) {
        let hint = (!hint.is_empty()).then(|| hint.to_string());
        self.diagnostics.push(self.locator.at_path(path, message, hint));
    }

    /// Checks `ok`, reporting `expected` at `path` otherwise.
    pub(super) fn require(&mut self, ok: bool, path: &str, expected: &str, got: impl std::fmt::Display, hint: &str) {
        if !ok {
            self.error(path, format!("`{path}` must be {expected}, got {got}"), hint);
        }
    }

    /// Checks a fault's time window, given as (field, nanoseconds) at the paths `at`
    /// makes: it starts before the end of the run, and its end, `end_is` (an instant),
    /// comes after its start.
    pub(super) fn window(
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

    pub(super) fn probability(&mut self, value: f64, path: &str) {
        self.require(
            (0.0..=1.0).contains(&value),
            path,
            "a probability in [0, 1]",
            value,
            "0.01 means 1%",
        );
    }

    pub(super) fn positive(&mut self, nanos: u64, path: &str, hint: &str) {
        self.require(nanos > 0, path, "positive", "0s", hint);
    }

    /// Checks a whole file, table by table in file order (so diagnostics come out in the
    /// order a reader meets them), and builds the scenario from the checked parts.
    pub(super) fn scenario(&mut self, raw: ScenarioFile, source: &str) -> Scenario {
        let sample_interval_ns = self.top_level(&raw);
        let cluster = self.cluster(&raw.cluster);
        let network = self.network(&raw.network);
        let workload = self.workload(&raw.workload, raw.cluster.keys, raw.duration.0);
        let strategies = self.strategies(raw.strategy, &raw.cluster);
        let faults = match raw.faults {
            Some(f) => self.faults(f, raw.cluster.nodes, raw.duration.0),
            None => FaultConfig::default(),
        };
        let mut paths = self.paths(
            raw.consistency.as_ref(),
            raw.hints.as_ref(),
            raw.reads.as_ref(),
            &cluster,
        );
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
    pub(super) fn top_level(&mut self, raw: &ScenarioFile) -> u64 {
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

    /// Checks a tree's leaf count; `keys` is the fewest keys one tree covers, and
    /// `covering` names them in the message ("keys", "keys of the smallest segment").
    pub(super) fn leaves(&mut self, leaves: u32, path: &str, keys: u64, covering: &str) {
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
