//! Command-line interface: subcommands, flags, terminal output and exit codes.

use crate::commands::{self, Format};
use aesim::resources::{self, format_bytes};
use aesim::run::{comparison_table, run_scenario_observed};
use aesim::scenario::{Origin, Override, Scenario, ScenarioDocument, canonical_text, names_cost_profile};
use aesim::sweep::engine::{AutoShard, EXPLICIT_SOURCE, ShardArg, granted_cpus};
use aesim::sweep::{Plan, Shard, SweepError, SweepOptions, SweepOutcome};
use aesim::world::InvariantChecks;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod calibrate;
mod check;
mod sweep;
mod validate;

/// Exit code of a successful command.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code when a run failed: an output could not be written, or an invariant broke.
pub(crate) const EXIT_RUN_FAILED: u8 = 1;
/// Exit code for a bad scenario file or bad command-line usage, including a run refused
/// before it started (too much memory, an output folder holding another scenario).
pub(crate) const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "aesim",
    version = aesim::VERSION,
    about = "Deterministic simulator of Merkle-tree anti-entropy between replicas",
    after_help = "Exit codes:\n  \
                  0  success\n  \
                  1  the run failed: a model invariant was violated, or results could not be written\n  \
                  2  bad scenario file or usage, or a run refused before starting (memory or event limit, \
                  output folder holding another scenario)\n  \
                  3  aesim compare --fail-if: a regression gate tripped"
)]
struct Cli {
    /// Print nothing but errors and the data asked for (every subcommand; no status
    /// lines, no progress bar).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// When to colour help and error messages: auto (on a terminal, unless NO_COLOR is
    /// set), always or never.
    #[arg(long, value_enum, global = true, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    #[allow(dead_code)] // read before parsing, by `color_from_args`
    color: ColorWhen,
    #[command(subcommand)]
    command: Command,
}

/// `--color`: when to colour clap's help and errors (aesim's own output is plain text).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// The flag, then NO_COLOR (any non-empty value turns colour off under `auto`).
    fn choice(self) -> clap::ColorChoice {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match self {
            ColorWhen::Always => clap::ColorChoice::Always,
            ColorWhen::Never => clap::ColorChoice::Never,
            ColorWhen::Auto if no_color => clap::ColorChoice::Never,
            ColorWhen::Auto => clap::ColorChoice::Auto,
        }
    }
}

/// The `--color` given on the command line, looked up before clap parses (so that
/// clap's own errors and help are coloured accordingly).
fn color_from_args() -> ColorWhen {
    let args: Vec<String> = std::env::args().collect();
    let value = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--color=")
            .map(str::to_string)
            .or_else(|| (a == "--color").then(|| args.get(i + 1).cloned().unwrap_or_default()))
    });
    match value.as_deref() {
        Some("always") => ColorWhen::Always,
        Some("never") => ColorWhen::Never,
        _ => ColorWhen::Auto,
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (or, if it has a [sweep], every run of the sweep) and write CSV results,
    /// charts and report.md.
    #[command(after_help = "Examples:\n  \
        aesim run scenarios/quickstart.toml                      # results in results/quickstart/\n  \
        aesim run scenarios/22-gc-grace.toml --set 'strategy[0].workers=4' --out /tmp/gc-4w\n  \
        aesim run scenarios/quickstart.toml --seed 7 --format json > summary.json\n  \
        aesim run scenarios/interval-leaves-sweep.toml --jobs 2  # a sweep: every point x seed")]
    Run(RunArgs),
    /// Re-render the charts and report.md of a results folder from its CSV files.
    #[command(
        after_help = "Examples:\n  aesim report results/quickstart\n  aesim report results/quickstart --png   # charts/NAME.png too, for slides"
    )]
    Report {
        /// A results folder written by `aesim run`.
        dir: PathBuf,
        /// Also write every chart as PNG (charts/NAME.png, for slides).
        #[arg(long)]
        png: bool,
    },
    /// Compare two or more results folders (runs, or sweeps): the same metrics side by
    /// side with their differences.
    #[command(after_help = "Examples:\n  \
        aesim compare results/07-hot-first results/07b-hot-first-shifting\n  \
        aesim compare results/12-ring-16-vnodes results/12b-ring-256-vnodes --out /tmp/vnodes --png\n  \
        aesim compare baseline/ candidate/ --fail-if 'repair_p99_s>+10%' --fail-if 'divergent_at_end>0'")]
    Compare {
        /// Results folders written by `aesim run` (the first is the baseline, A).
        #[arg(required = true, num_args = 2..)]
        dirs: Vec<PathBuf>,
        /// Compare even runs over different key spaces, durations or sweep grids.
        #[arg(long)]
        force: bool,
        /// Print a table or JSON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Also write report.md, report.html and charts/compare.svg into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// With --out, also write the chart as PNG.
        #[arg(long, requires = "out")]
        png: bool,
        /// A regression gate, repeatable: METRIC>LIMIT or METRIC<LIMIT, the limit a signed
        /// change from the first folder in percent (repair_p99_s>+10%) or in the metric's
        /// unit (divergent_at_end>0). Exit code 3 when any gate trips.
        #[arg(long = "fail-if", value_name = "METRIC>LIMIT")]
        fail_if: Vec<String>,
    },
    /// Print a shell completion script (e.g. `aesim completions bash > /etc/bash_completion.d/aesim`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `aesim man > aesim.1`.
    Man,
    /// Validate a scenario file (and every point of its sweep) without running it.
    #[command(
        after_help = "Examples:\n  aesim check scenarios/quickstart.toml\n  aesim check mine.toml --set network.loss=0.05"
    )]
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override one parameter, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Take the [cluster] costs the scenario does not write from this cost profile.
        #[arg(long, value_name = "FILE")]
        costs: Option<PathBuf>,
        /// Print the verdict and the estimates as text or JSON (errors included, located).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Combine the partial results of a sharded sweep into the complete sweep's results.
    #[command(after_help = "Example:\n  aesim merge part1 part2 part3 --out results/sweep")]
    Merge {
        /// Output folders of `aesim run --shard` (any number, in any order).
        #[arg(required = true)]
        partials: Vec<PathBuf>,
        /// Folder for the merged results.
        #[arg(long)]
        out: PathBuf,
        /// Write into --out even if it holds other results (they are removed first).
        #[arg(long)]
        force: bool,
    },
    /// Plan a sweep for a cluster engine (Slurm, Kubernetes), or check its progress.
    #[command(subcommand)]
    Sweep(sweep::SweepCommand),
    /// The real systems' presets (`[[strategy]] preset = "NAME"`): list them, or show one's
    /// every knob with its value and source.
    #[command(subcommand)]
    Presets(PresetsCommand),
    /// Print the reference of every scenario key (type, default, unit, meaning) as
    /// markdown: docs/scenario-reference.md.
    #[command(hide = true)]
    Reference,
    /// Measure the model's cost constants on a real storage engine (fjall or redb) on
    /// this machine and write them as a cost profile (docs/calibration.md).
    Calibrate(calibrate::CalibrateArgs),
    /// Run a real anti-entropy exchange between two fjall stores over loopback TCP and
    /// compare it with the simulator's prediction (docs/calibration.md).
    Validate(validate::ValidateArgs),
}

#[derive(Subcommand)]
enum PresetsCommand {
    /// Every preset's name and what it models.
    #[command(after_help = "Example:\n  aesim presets list")]
    List {
        /// Print a table or JSON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One preset's account of itself and every knob: its value and the source it cites.
    #[command(after_help = "Examples:\n  aesim presets show reaper\n  aesim presets show cassandra-full --format json")]
    Show {
        /// The preset's name (`aesim presets list`).
        name: String,
        /// Print text or JSON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Checks {
    /// At every sample point and at the end of the run.
    EverySample,
    /// Only at the end of the run (a little faster; a violation is found later).
    End,
}

/// The scenario and flags of `run`.
#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Override the scenario's seed (a sweep's base seed), at most 2^63 - 1 (TOML's
    /// largest integer, so that run.toml can record it).
    #[arg(long)]
    seed: Option<u64>,
    /// Override one parameter by its dotted path, e.g. --set network.loss=0.05 or
    /// --set strategy[1].leaves=4096 (`strategy.leaves` sets it in every strategy).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Take the [cluster] costs the scenario does not write from this cost profile
    /// (written by `aesim calibrate`); the same as --set cluster.costs=FILE.
    #[arg(long, value_name = "FILE")]
    costs: Option<PathBuf>,
    /// Output folder [default: results/<scenario name>/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulations run at once (outputs are identical for any value) [default: the CPUs
    /// granted: SLURM_CPUS_PER_TASK, SLURM_CPUS_ON_NODE, the cgroup's cpu.max, else all].
    #[arg(long = "jobs", value_name = "N")]
    jobs_flag: Option<usize>,
    /// Sweeps only: run shard I of N (I/N, 1-based) and write a partial result; `auto`
    /// takes it from SLURM_ARRAY_TASK_ID (a job array) or JOB_COMPLETION_INDEX and
    /// AESIM_SHARD_COUNT (a Kubernetes Indexed Job).
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<String>,
    /// `--quiet` (a global flag, set from `Cli`).
    #[arg(skip)]
    quiet: bool,
    /// Write into an output folder even if it holds results of another scenario.
    #[arg(long)]
    force: bool,
    /// Refuse scenarios whose estimated memory exceeds this (e.g. 4GiB)
    /// [default: 80% of physical memory].
    #[arg(long, value_parser = resources::parse_size)]
    memory_limit: Option<u64>,
    /// Run even a scenario estimated at more than 10^10 events (hours of wall time or
    /// more; see `aesim check`), which is refused without it.
    #[arg(long)]
    allow_long_run: bool,
    /// When to check whole-state invariants (results are identical either way).
    #[arg(long, value_enum, default_value_t = Checks::EverySample)]
    invariants: Checks,
    /// Also print each strategy's wall time, events, events/s and virtual time per
    /// wall second (the last line, always printed, has the totals and peak memory).
    #[arg(long)]
    profile: bool,
    /// Print the comparison table (default) or every column of summary.csv as JSON.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

impl RunArgs {
    /// `--jobs`, or the CPUs the engine granted.
    fn jobs(&self) -> usize {
        self.jobs_flag.unwrap_or_else(default_jobs)
    }

    /// Print nothing but errors: `--quiet`, or JSON, which goes to standard output alone
    /// (no table, no progress bar).
    fn quiet(&self) -> bool {
        self.quiet || self.format == Format::Json
    }
}

fn default_jobs() -> usize {
    granted_cpus().cpus
}

pub fn main() -> ExitCode {
    let matches = Cli::command().color(color_from_args().choice()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let quiet = cli.quiet;
    let code = match cli.command {
        Command::Check {
            scenario,
            mut set,
            costs,
            format,
        } => {
            set.extend(costs.as_deref().map(costs_override));
            match format {
                Format::Table => check::check(scenario, &set, quiet),
                Format::Json => check::check_json(&scenario, &set),
            }
        }
        Command::Run(mut args) => {
            args.quiet = quiet;
            run(args)
        }
        Command::Merge { partials, out, force } => merge(&partials, &out, quiet, force),
        Command::Compare {
            dirs,
            force,
            format,
            out,
            png,
            fail_if,
        } => commands::compare(&dirs, force, format, out.as_deref(), png, quiet, &fail_if),
        Command::Completions { shell } => commands::completions(shell, Cli::command()),
        Command::Man => commands::man(Cli::command()),
        Command::Report { dir, png } => report(&dir, png, quiet),
        Command::Sweep(command) => sweep::run(command),
        Command::Presets(PresetsCommand::List { format }) => commands::presets_list(format),
        Command::Presets(PresetsCommand::Show { name, format }) => commands::presets_show(&name, format),
        Command::Reference => commands::reference(),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Validate(args) => validate::run(args),
    };
    ExitCode::from(code)
}

/// `--costs FILE` as the `--set` it stands for.
fn costs_override(path: &Path) -> String {
    let text = toml::Value::String(path.display().to_string()).to_string();
    format!("cluster.costs={text}")
}

/// Reads `--set` flags, `--seed` and the scenario, printing every problem. The seed is
/// one more override (`seed = N`), for single runs and sweeps alike: it is validated
/// like the file's own seed and lands in the checked scenario (a sweep's base seed).
pub(crate) fn load(path: &Path, set: &[String], seed: Option<u64>) -> Result<ScenarioDocument, u8> {
    load_document(path, set, seed).map_err(|e| {
        match e {
            LoadError::Usage(e) => eprintln!("error: {e}"),
            LoadError::Scenario(e) => eprintln!("{e}"),
        }
        EXIT_BAD_INPUT
    })
}

/// Why a scenario could not be loaded: a malformed `--set` or `--seed`, or the file's
/// located errors.
pub(crate) enum LoadError {
    Usage(String),
    Scenario(aesim::scenario::ScenarioError),
}

/// The scenario document of `path` with the `--set` overrides and the seed applied.
pub(crate) fn load_document(path: &Path, set: &[String], seed: Option<u64>) -> Result<ScenarioDocument, LoadError> {
    let mut overrides = Vec::new();
    for text in set {
        overrides.push(Override::parse_set(text).map_err(|e| LoadError::Usage(e.to_string()))?);
    }
    if let Some(seed) = seed {
        overrides.push(Override::seed(seed).map_err(|e| LoadError::Usage(e.to_string()))?);
    }
    ScenarioDocument::load(path, overrides).map_err(LoadError::Scenario)
}

/// `aesim report DIR [--png]`: a run's folder, or a sweep's.
fn report(dir: &Path, png: bool, quiet: bool) -> u8 {
    if dir.join("sweep.toml").is_file() {
        return match aesim::report::sweep_folder(dir, png) {
            Ok(message) => {
                if !quiet {
                    eprintln!("{}: {message}", dir.display());
                }
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED }
            }
        };
    }
    match aesim::report::render_with(dir, &aesim::report::Options { png }) {
        Ok(rendered) => {
            if !quiet {
                eprintln!("{}: wrote {} files", dir.display(), rendered.files.len());
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot render the report: {e}");
            if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED }
        }
    }
}

/// `aesim run`: loads the scenario once, then runs it as a sweep or as a single run.
fn run(args: RunArgs) -> u8 {
    let mut set = args.set.clone();
    if let Some(costs) = &args.costs {
        set.push(costs_override(costs));
    }
    let document = match load(&args.scenario, &set, args.seed) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&document.base.name));
    if let Err(message) = check_out_is_a_folder(&out) {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    let limit = args.memory_limit.unwrap_or_else(resources::default_limit_bytes);
    if document.sweep.is_some() {
        run_sweep(&args, document, &out, limit)
    } else {
        run_single(&args, &document, &out, limit)
    }
}

/// Results are a folder of files: `--out` must name a folder, or nothing yet.
fn check_out_is_a_folder(out: &Path) -> Result<(), String> {
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "error: --out {} is a file, not a folder\n  = hint: results are a folder of files; choose a folder \
             (it is created if needed)",
            out.display()
        ));
    }
    Ok(())
}

/// `--shard I/N`, or `auto` from the engine's variables.
fn resolve_shard(text: &str) -> Result<AutoShard, String> {
    ShardArg::parse(text)?.resolve()
}

/// A scenario with a `[sweep]`: every run of the grid, or of one shard of it.
fn run_sweep(args: &RunArgs, document: ScenarioDocument, out: &Path, limit: u64) -> u8 {
    let shard = match args.shard.as_deref().map(resolve_shard).transpose() {
        Ok(Some(auto)) if auto.source != EXPLICIT_SOURCE => {
            // Say what the engine gave, for the job's log.
            if !args.quiet() {
                let from = if args.jobs_flag.is_some() {
                    "--jobs"
                } else {
                    granted_cpus().source
                };
                eprintln!(
                    "shard {} from {}; --jobs {} from {from}",
                    auto.shard,
                    auto.source,
                    args.jobs()
                );
            }
            Some(auto.shard)
        }
        Ok(shard) => shard.map(|s| s.shard),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Every point's scenario, read once for both guards (in point order).
    let points: Vec<(usize, Scenario)> = (0..document.sweep.as_ref().map_or(0, |s| s.points()))
        .filter_map(|point| document.point_scenario(point).ok().map(|s| (point, s)))
        .collect();
    if !args.allow_long_run
        && let Err(message) = sweep_event_check(&args.scenario, &points)
    {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    if let Err(message) = sweep_memory_check(&args.scenario, &points, args.jobs(), limit) {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    let plan = match Plan::new(document) {
        Ok(Some(plan)) => plan,
        Ok(None) => unreachable!("the document has a sweep"),
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Shards may share the folder; a single run or a comparison may not.
    let _lock = match crate::commands::lock_out(out, aesim::output::LockMode::Shared, "") {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    if let Err(reason) = aesim::sweep::check_ownership(out, &plan) {
        eprintln!("error: {reason}");
        return EXIT_BAD_INPUT;
    }
    if let Err(reason) = aesim::sweep::check_destination(out, &plan) {
        if !args.force {
            eprintln!(
                "error: refusing to mix results: {reason}\n  = hint: choose another --out, or pass --force to replace them"
            );
            return EXIT_BAD_INPUT;
        }
        if let Err(e) = aesim::sweep::clear_foreign_results(out) {
            return sweep_failed(&e);
        }
    }
    let code = sweep(plan, out, args.jobs(), shard, args.quiet());
    if code == EXIT_OK && args.format == Format::Json && out.join("summary.csv").is_file() {
        return commands::print_summary_json(out);
    }
    code
}

/// Refuses a sweep whose largest run's estimate times the runs made at once (`jobs`)
/// exceeds `limit`.
fn sweep_memory_check(path: &Path, points: &[(usize, Scenario)], jobs: usize, limit: u64) -> Result<(), String> {
    let largest = points
        .iter()
        .map(|(_, s)| resources::estimate(s, 1))
        .max_by_key(|m| m.total_bytes);
    let Some(memory) = largest else { return Ok(()) };
    let at_once = jobs.max(1) as u64;
    let total = memory.total_bytes.saturating_mul(at_once);
    if total <= limit {
        return Ok(());
    }
    Err(format!(
        "error: the sweep of {} needs an estimated {} of memory ({} for its largest run, \
         {at_once} at once), more than the limit of {}\n  \
         = hint: fewer --jobs, or a higher --memory-limit",
        path.display(),
        format_bytes(total),
        format_bytes(memory.total_bytes),
        format_bytes(limit),
    ))
}

/// The scenario a single run simulates. When `--set` changed it or it takes its costs
/// from a cost profile, its echo (`scenario.toml`) is the effective scenario (the
/// profile's values written in) with the flags and the profile named in a comment, so
/// that the echo reproduces the run on its own; `--seed` alone leaves the file as
/// written, since `run.toml` records the seed.
fn single_run_scenario(path: &Path, document: &ScenarioDocument) -> Scenario {
    let mut scenario = document.base.clone();
    let flags: Vec<String> = document
        .set
        .iter()
        .filter(|o| o.origin != Origin::SeedFlag)
        .map(|o| format!("--set '{}'", o.to_set_text()))
        .collect();
    let profile = names_cost_profile(&document.source);
    if !flags.is_empty() || profile {
        let body = canonical_text(&document.source, &document.file, &document.set, scenario.seed);
        let mut applied = flags.join(" ");
        if profile {
            let and = if applied.is_empty() { "" } else { " and " };
            applied = format!("{applied}{and}its cost profile's values");
        }
        scenario.source = format!("# {} with {applied} applied\n{body}", path.display());
    }
    scenario
}

/// Refuses a run estimated at more events than `resources::EVENT_LIMIT`: one that
/// would take hours of wall time or never finish (a period of nanoseconds, a write rate
/// of 10^9 a second for years).
fn event_check(path: &Path, scenario: &Scenario) -> Result<(), String> {
    let events = resources::estimate_events(scenario);
    if events.total <= resources::EVENT_LIMIT {
        return Ok(());
    }
    Err(format!(
        "error: {} is estimated at {:.1e} events, more than the limit of {:.0e} (hours of wall time or more)\n  \
         (by source: {})\n  \
         = hint: a longer period for the largest source, a shorter duration or a lower rate; \
         --allow-long-run runs it anyway",
        path.display(),
        events.total as f64,
        resources::EVENT_LIMIT as f64,
        events.explain(),
    ))
}

/// Refuses a sweep one of whose points `event_check` would refuse (the first such point,
/// named by its number).
fn sweep_event_check(path: &Path, points: &[(usize, Scenario)]) -> Result<(), String> {
    for (point, scenario) in points {
        if let Err(message) = event_check(path, scenario) {
            return Err(message.replacen(
                &format!("error: {} is", path.display()),
                &format!("error: point {point} of the sweep {} is", path.display()),
                1,
            ));
        }
    }
    Ok(())
}

/// Refuses a single run whose memory estimate exceeds `limit`.
fn single_memory_check(path: &Path, scenario: &Scenario, jobs: usize, limit: u64) -> Result<(), String> {
    let memory = resources::estimate(scenario, jobs);
    if memory.total_bytes <= limit {
        return Ok(());
    }
    Err(format!(
        "error: {} needs an estimated {} of memory, more than the limit of {}\n  \
         (by part: {})\n  \
         = hint: shrink the largest part (fewer keys written, leaves, cells, strategies or samples), \
         fewer --jobs, or a higher --memory-limit",
        path.display(),
        format_bytes(memory.total_bytes),
        format_bytes(limit),
        memory.explain(),
    ))
}

/// A scenario without `[sweep]`: one world per strategy, then the results folder.
fn run_single(args: &RunArgs, document: &ScenarioDocument, out: &Path, limit: u64) -> u8 {
    let path = &args.scenario;
    if args.shard.is_some() {
        eprintln!(
            "error: --shard splits a sweep, and {} has no [sweep] table",
            path.display()
        );
        return EXIT_BAD_INPUT;
    }
    let scenario = single_run_scenario(path, document);
    // Held until the files are published: a second command into `out` is refused.
    let _lock = match crate::commands::lock_out(out, aesim::output::LockMode::Exclusive, "") {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    if let Err(reason) = aesim::output::check_ownership(out) {
        eprintln!("error: {reason}");
        return EXIT_BAD_INPUT;
    }
    if !args.force
        && let Err(reason) = aesim::output::check_destination(out, &scenario)
    {
        eprintln!(
            "error: refusing to mix results: {reason}\n  = hint: choose another --out, or pass --force to replace them"
        );
        return EXIT_BAD_INPUT;
    }
    if !args.allow_long_run
        && let Err(message) = event_check(path, &scenario)
    {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    if let Err(message) = single_memory_check(path, &scenario, args.jobs(), limit) {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    let checks = match args.invariants {
        Checks::EverySample => InvariantChecks::EverySample,
        Checks::End => InvariantChecks::EndOnly,
    };
    let started = Instant::now();
    let bar = run_progress_bar(&scenario, args.quiet());
    let progress = |done_ns: u64| {
        bar.set_position(done_ns);
        use aesim::chart::units::{Unit, human};
        let per_strategy = done_ns as f64 / scenario.strategies.len().max(1) as f64 / 1e9;
        let duration = scenario.duration_ns as f64 / 1e9;
        bar.set_message(format!(
            "{} of {} virtual",
            human(per_strategy, Unit::Seconds),
            human(duration, Unit::Seconds)
        ));
    };
    let outcome = run_scenario_observed(&scenario, args.jobs(), checks, &progress);
    bar.finish_and_clear();
    let results = match outcome {
        Ok(r) => r,
        Err(violation) => {
            eprintln!("error: {violation}\nno results were written.");
            return EXIT_RUN_FAILED;
        }
    };
    let wall = started.elapsed();
    // The report is rendered from the staged files, exactly as `aesim report` reads
    // written ones, and published with them: all or nothing.
    if let Err(e) = aesim::output::write_run(out, &scenario, &results) {
        eprintln!(
            "error: cannot write results to {}: {e}\n  (the folder's previous results, if any, are intact)",
            out.display()
        );
        return EXIT_RUN_FAILED;
    }
    if args.format == Format::Json {
        return commands::print_summary_json(out);
    }
    if !args.quiet {
        let events: u64 = results.iter().map(|r| r.events).sum();
        match aesim::report::terminal_headline(out) {
            Ok(headline) => println!("{headline}"),
            Err(e) => eprintln!("warning: no headline: {e}"),
        }
        print!("{}", comparison_table(&results));
        if args.profile {
            print!("{}", profile_lines(&results, scenario.duration_ns));
        }
        eprintln!(
            "{}: seed {}, {} strategies, {} events in {:.2}s ({:.2} M events/s), peak memory {}; results in {}",
            scenario.name,
            scenario.seed,
            results.len(),
            events,
            wall.as_secs_f64(),
            events as f64 / wall.as_secs_f64().max(1e-9) / 1e6,
            peak_memory_text(),
            out.display()
        );
    }
    EXIT_OK
}

fn sweep(plan: Plan, out: &Path, jobs: usize, shard: Option<Shard>, quiet: bool) -> u8 {
    let started = Instant::now();
    let options = SweepOptions {
        jobs,
        shard,
        progress: !quiet,
    };
    let outcome = match aesim::sweep::run_sweep(&plan, out, options) {
        Ok(outcome) => outcome,
        Err(e) => return sweep_failed(&e),
    };
    if !quiet {
        let wall = started.elapsed().as_secs_f64();
        let part = shard.map_or(String::new(), |s| format!(", shard {s}: {} of them", outcome.mine));
        eprintln!(
            "{}: {} points x {} replications = {} runs{part}; ran {}, {} already done; \
             {} events in {wall:.2}s ({:.2} M events/s), peak memory {}; results in {}",
            plan.document.base.name,
            plan.sweep.points(),
            plan.sweep.replications,
            outcome.total,
            outcome.ran,
            outcome.resumed,
            outcome.events,
            outcome.events as f64 / wall.max(1e-9) / 1e6,
            peak_memory_text(),
            out.display()
        );
        report_missing(&outcome);
    }
    EXIT_OK
}

/// The progress bar of a single run: virtual time simulated over the duration, summed
/// over the strategies; on stderr, drawn only on a terminal and never with `--quiet`.
fn run_progress_bar(scenario: &Scenario, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let total = scenario
        .duration_ns
        .saturating_mul(scenario.strategies.len().max(1) as u64);
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent}% ({msg}), ETA {eta}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// One line per strategy: how long its world took on this machine and how fast it went.
fn profile_lines(results: &[aesim::metrics::StrategyResult], duration_ns: u64) -> String {
    results
        .iter()
        .map(|r| {
            let wall = r.wall.as_secs_f64().max(1e-9);
            format!(
                "profile: {}: {} events in {wall:.2}s ({:.2} M events/s), {:.0}x real time, {} keys stored\n",
                r.strategy,
                r.events,
                r.events as f64 / wall / 1e6,
                duration_ns as f64 / 1e9 / wall,
                r.stored_keys,
            )
        })
        .collect()
}

/// The process's peak resident memory for the summary line ("unknown" off Linux).
fn peak_memory_text() -> String {
    aesim::profile::peak_memory_bytes().map_or_else(|| "unknown".into(), aesim::profile::format_bytes)
}

fn report_missing(outcome: &SweepOutcome) {
    if outcome.missing > 0 {
        eprintln!(
            "{} runs of other shards are not in this folder yet: run them here, or run `aesim merge` \
             over every shard's folder; raw.csv and summary.csv are written once all runs are in",
            outcome.missing
        );
    }
}

fn merge(partials: &[PathBuf], out: &Path, quiet: bool, force: bool) -> u8 {
    if let Err(message) = check_out_is_a_folder(out) {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    let _lock = match crate::commands::lock_out(out, aesim::output::LockMode::Exclusive, "") {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    match aesim::sweep::merge(partials, out, force) {
        Ok(outcome) => {
            if !quiet {
                eprintln!(
                    "merged {} runs from {} folders into {}",
                    outcome.total,
                    partials.len(),
                    out.display()
                );
            }
            EXIT_OK
        }
        Err(e) => sweep_failed(&e),
    }
}

fn sweep_failed(error: &SweepError) -> u8 {
    eprintln!("error: {error}");
    match error {
        SweepError::Input(_) => EXIT_BAD_INPUT,
        SweepError::Invariant(_) | SweepError::Io { .. } => {
            eprintln!("runs already finished are kept; rerun the same command to resume.");
            EXIT_RUN_FAILED
        }
    }
}
