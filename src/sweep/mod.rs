//! Parameter sweeps: a grid of scenario points x replications, run on all cores,
//! resumable, shardable across machines, and aggregated with confidence intervals.
//!
//! A sweep is a plan of runs fixed by the scenario file and the command line alone: run
//! `i` is grid point `i / R`, replication `i % R`. Each run's seed derives from the base
//! seed and the replication only, so every point sees the same R input streams (common
//! random numbers): differences between points are the parameters', not the dice's.
//!
//! Every run writes one file, `runs/<hash>.csv`, named by the hash of everything that
//! determines it (the effective scenario with its seed, and aesim's version). A rerun
//! skips runs whose file is present and valid, shards write disjoint sets of run files,
//! and aggregation reads those files in plan order: so `--jobs`, sharding, merging and
//! resuming cannot change a byte of the results.
//!
//! This module must not know how a run works inside: it calls [`crate::run::run_scenario`].

mod aggregate;
mod chart;
pub mod engine;
mod files;
mod metrics;
pub mod plan;
mod report;
pub mod stats;
pub mod status;

pub use files::{RUNS_DIR, SWEEP_FILE, check_destination, check_ownership, clear_foreign_results, is_run_file_name};

use crate::output::write_atomic;
use crate::run::run_scenario;
use crate::scenario::{Override, Scenario, ScenarioDocument, ScenarioError, SweepSpec, canonical_text};
use crate::world::InvariantViolation;
use rayon::prelude::*;
use std::fmt;
use std::path::{Path, PathBuf};

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// Position in the plan: `point * replications + replication`.
    pub index: usize,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
    /// Hex hash of the effective scenario and seed: the run's identity and file name.
    pub hash: String,
    pub scenario: Scenario,
}

/// Every run of a sweep, in order.
#[derive(Clone, Debug)]
pub struct Plan {
    pub document: ScenarioDocument,
    pub sweep: SweepSpec,
    pub runs: Vec<PlannedRun>,
}

impl Plan {
    /// The plan of `document`'s sweep; `None` if the file has no `[sweep]`.
    pub fn new(document: ScenarioDocument) -> Result<Option<Plan>, ScenarioError> {
        let Some(sweep) = document.sweep.clone() else {
            return Ok(None);
        };
        let mut runs = Vec::with_capacity(sweep.runs());
        for point in 0..sweep.points() {
            let overrides = document.point_overrides(point);
            let base = document.point_scenario(point)?;
            for replication in 0..sweep.replications {
                let seed = replication_seed(base.seed, replication);
                let mut scenario = base.clone();
                scenario.seed = seed;
                runs.push(PlannedRun {
                    index: runs.len(),
                    point,
                    replication,
                    seed,
                    hash: run_hash(&document.source, &document.file, &overrides, seed),
                    scenario,
                });
            }
        }
        Ok(Some(Plan { document, sweep, runs }))
    }

    /// The overrides that produced the document (for the record).
    pub fn set(&self) -> &[Override] {
        &self.document.set
    }
}

/// The seed of replication `replication` of every grid point: a hash of the base seed
/// and the replication, kept below 2^63 so that it can be written in a TOML file and
/// given back to `aesim run --seed` to reproduce the run alone.
pub fn replication_seed(base_seed: u64, replication: u32) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"aesim sweep replication seed\n");
    hasher.update(&base_seed.to_le_bytes());
    hasher.update(&replication.to_le_bytes());
    let bytes: [u8; 8] = hasher.finalize().as_bytes()[..8].try_into().expect("8 bytes");
    u64::from_le_bytes(bytes) >> 1
}

/// The identity of one run: 128 bits of blake3 over aesim's version and the canonical
/// text of the effective scenario with its seed (so comments or the grid around it do
/// not matter, and an extended grid reuses the runs it already has).
pub fn run_hash(source: &str, file: &str, overrides: &[Override], seed: u64) -> String {
    let text = format!(
        "aesim {}\n{}",
        env!("CARGO_PKG_VERSION"),
        canonical_text(source, file, overrides, seed)
    );
    blake3::hash(text.as_bytes()).to_hex()[..32].to_string()
}

/// Which part of the plan this process runs: shard `index` of `count` (1-based) takes
/// runs `index - 1`, `index - 1 + count`, ... (round robin, so slow and fast grid
/// points spread evenly over the shards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `i/n` with 1 <= i <= n.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if count >= 1 && (1..=count).contains(&index) => Ok(Shard { index, count }),
            _ => Err(format!(
                "--shard {text}: expected I/N with 1 <= I <= N, e.g. --shard 2/3 (the second of three shards)"
            )),
        }
    }

    pub fn contains(&self, run_index: usize) -> bool {
        run_index % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How to run a sweep.
#[derive(Clone, Copy, Debug)]
pub struct SweepOptions {
    /// Runs simulated at once (results are identical for any value).
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// What a sweep (or a merge) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Runs of the whole sweep.
    pub total: usize,
    /// Runs this process was given (its shard, or all).
    pub mine: usize,
    /// Runs simulated now.
    pub ran: usize,
    /// Runs skipped because a valid result was already there.
    pub resumed: usize,
    /// Runs of the whole sweep still without a result (other shards' runs).
    pub missing: usize,
    /// Events simulated now, over all runs.
    pub events: u64,
}

/// Why a sweep or merge failed.
#[derive(Debug)]
pub enum SweepError {
    /// A run broke a model invariant.
    Invariant(InvariantViolation),
    /// A file could not be read or written.
    Io { path: PathBuf, error: std::io::Error },
    /// Merge inputs that are not, or not all, partial results of one sweep.
    Input(String),
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Invariant(v) => write!(f, "{v}"),
            SweepError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            SweepError::Input(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SweepError {}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |error| SweepError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Runs the plan's runs that belong to `options.shard` (all without one) and are not
/// already in `out`, on `options.jobs` threads; then, if every run of the sweep has a
/// result in `out`, writes the aggregates (`raw.csv`, `summary.csv`, `charts/`).
pub fn run_sweep(plan: &Plan, out: &Path, options: SweepOptions) -> Result<SweepOutcome, SweepError> {
    files::write_header_files(plan, out)?;
    let mine: Vec<&PlannedRun> = plan
        .runs
        .iter()
        .filter(|r| options.shard.is_none_or(|s| s.contains(r.index)))
        .collect();
    let (done, todo): (Vec<&PlannedRun>, Vec<&PlannedRun>) =
        mine.iter().partition(|r| files::read_run(out, r).is_some());
    let bar = progress_bar(options.progress, mine.len() as u64, done.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .map_err(|e| SweepError::Input(format!("cannot start {} worker threads: {e}", options.jobs)))?;
    // Results come back in plan order whatever the threads did, so the first error
    // reported is always the same one.
    let results: Vec<Result<u64, SweepError>> = pool.install(|| {
        todo.par_iter()
            .map(|run| {
                let results = run_scenario(&run.scenario, 1).map_err(SweepError::Invariant)?;
                files::write_run(out, run, &results)?;
                bar.inc(1);
                Ok(results.iter().map(|r| r.events).sum())
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut events = 0;
    for result in results {
        events += result?;
    }
    let missing = plan.runs.iter().filter(|r| files::read_run(out, r).is_none()).count();
    if missing == 0 {
        aggregate::write_aggregates(plan, out)?;
    }
    Ok(SweepOutcome {
        total: plan.runs.len(),
        mine: mine.len(),
        ran: todo.len(),
        resumed: done.len(),
        missing,
        events,
    })
}

/// Combines the partial results in `inputs` (folders written by `aesim run --shard`)
/// into `out`, byte for byte what the unsharded sweep writes.
/// Like a sweep, a merge refuses an `out` holding other results unless `force`, which
/// clears them first.
pub fn merge(inputs: &[PathBuf], out: &Path, force: bool) -> Result<SweepOutcome, SweepError> {
    let plan = files::plan_of_partials(inputs)?;
    check_ownership(out, &plan).map_err(SweepError::Input)?;
    if let Err(reason) = check_destination(out, &plan) {
        if !force {
            return Err(SweepError::Input(format!(
                "refusing to mix results: {reason}\n  = hint: choose another --out, or pass --force to replace them"
            )));
        }
        clear_foreign_results(out)?;
    }
    files::write_header_files(&plan, out)?;
    let mut missing = Vec::new();
    for run in &plan.runs {
        if files::read_run(out, run).is_some() {
            continue;
        }
        match inputs.iter().find_map(|dir| files::read_run(dir, run)) {
            Some(bytes) => {
                let path = files::run_path(out, run);
                write_atomic(&path, &bytes).map_err(io_error(&path))?;
            }
            None => missing.push(run),
        }
    }
    if !missing.is_empty() {
        // A run whose file is present but incomplete (a shard killed while writing it, or
        // a copy cut short) is named as such: its shard reruns just that run. The rest
        // are named by shard (read off the folders' runs); `aesim sweep status` prints
        // the exact commands that finish the sweep.
        let damaged = missing.iter().find_map(|run| {
            inputs
                .iter()
                .map(|dir| files::run_path(dir, run))
                .find(|path| path.exists())
        });
        let absent = missing
            .iter()
            .filter(|run| !inputs.iter().any(|dir| files::run_path(dir, run).exists()))
            .count();
        let mut what = Vec::new();
        if let Some(path) = damaged {
            what.push(format!(
                "{} is incomplete or damaged (truncated?), and no other partial result has that run",
                path.display()
            ));
        }
        if absent > 0 {
            what.push(format!(
                "{absent} of the sweep's {} runs are in none of the partial results",
                plan.runs.len()
            ));
        }
        let by_shard = match status::Status::read(inputs, None) {
            Ok(status) => status.lines().iter().map(|l| format!("\n  {l}")).collect::<String>(),
            Err(_) => String::new(),
        };
        let folders: Vec<String> = inputs.iter().map(|d| status::quote(&d.display().to_string())).collect();
        return Err(SweepError::Input(format!(
            "{}:{by_shard}\n  \
             = hint: rerun the shards named (only their missing or damaged runs are simulated again) and \
             merge again; `aesim sweep status {} --shards N --out {}` prints the commands (N: the shard \
             count the sweep was run with)",
            what.join("; "),
            folders.join(" "),
            status::quote(&out.display().to_string()),
        )));
    }
    aggregate::write_aggregates(&plan, out)?;
    Ok(SweepOutcome {
        total: plan.runs.len(),
        mine: 0,
        ran: 0,
        resumed: plan.runs.len(),
        missing: 0,
        events: 0,
    })
}

/// A progress bar with an ETA on stderr, drawn only when stderr is a terminal.
fn progress_bar(enabled: bool, total: u64, done: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} runs, ETA {eta}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_position(done);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for run in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.contains(run)).count(), 1);
        }
        assert!(Shard::parse("2/3").unwrap().contains(4));
        for bad in ["0/3", "4/3", "1/0", "x", "1/"] {
            assert!(Shard::parse(bad).unwrap_err().contains("expected I/N"), "{bad}");
        }
    }

    #[test]
    fn seeds_depend_on_base_and_replication_only() {
        let a = replication_seed(42, 0);
        assert_eq!(a, replication_seed(42, 0));
        assert_ne!(a, replication_seed(42, 1));
        assert_ne!(a, replication_seed(43, 0));
        assert!((0..100).all(|r| replication_seed(7, r) < 1 << 63));
    }
}
