//! Command-line interface: subcommands, flags, terminal output and exit codes.

use aesim::resources::{self, format_bytes};
use aesim::run::{comparison_table, run_scenario_with};
use aesim::scenario::Scenario;
use aesim::world::InvariantChecks;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Exit code of a successful command.
const EXIT_OK: u8 = 0;
/// Exit code when a run failed: an output could not be written, or an invariant broke.
const EXIT_RUN_FAILED: u8 = 1;
/// Exit code for a bad scenario file or bad command-line usage, including a run refused
/// before it started (too much memory, an output folder holding another scenario).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "aesim",
    version,
    about = "Deterministic simulator of Merkle-tree anti-entropy between replicas",
    after_help = "Exit codes:\n  \
                  0  success\n  \
                  1  the run failed: a model invariant was violated, or results could not be written\n  \
                  2  bad scenario file or usage, or a run refused before starting (memory limit, \
                  output folder holding another scenario)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write CSV results.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder [default: results/<scenario name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Strategies simulated at once (outputs are identical for any value).
        #[arg(long, default_value_t = default_jobs())]
        jobs: usize,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Write into an output folder even if it holds results of another scenario.
        #[arg(long)]
        force: bool,
        /// Refuse scenarios whose estimated memory exceeds this (e.g. 4GiB)
        /// [default: 80% of physical memory].
        #[arg(long, value_parser = resources::parse_size)]
        memory_limit: Option<u64>,
        /// When to check whole-state invariants (results are identical either way).
        #[arg(long, value_enum, default_value_t = Checks::EverySample)]
        invariants: Checks,
    },
    /// Validate a scenario file without running it.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Checks {
    /// At every sample point and at the end of the run.
    EverySample,
    /// Only at the end of the run (a little faster; a violation is found later).
    End,
}

/// What `run` was asked to do, beyond the scenario.
struct RunArgs {
    seed: Option<u64>,
    out: Option<PathBuf>,
    jobs: usize,
    quiet: bool,
    force: bool,
    memory_limit: Option<u64>,
    invariants: Checks,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check { scenario } => match Scenario::load(&scenario) {
            Ok(s) => {
                let memory = resources::estimate(&s, default_jobs());
                println!(
                    "{}: ok ({} strategies, {} keys, {} nodes; about {} of memory)",
                    scenario.display(),
                    s.strategies.len(),
                    s.cluster.key_count,
                    s.cluster.nodes,
                    format_bytes(memory.total_bytes)
                );
                EXIT_OK
            }
            Err(e) => {
                eprintln!("{e}");
                EXIT_BAD_INPUT
            }
        },
        Command::Run {
            scenario,
            seed,
            out,
            jobs,
            quiet,
            force,
            memory_limit,
            invariants,
        } => run(
            scenario,
            RunArgs {
                seed,
                out,
                jobs,
                quiet,
                force,
                memory_limit,
                invariants,
            },
        ),
    };
    ExitCode::from(code)
}

fn run(path: PathBuf, args: RunArgs) -> u8 {
    let RunArgs {
        seed,
        out,
        jobs,
        quiet,
        force,
        memory_limit,
        invariants,
    } = args;
    let mut scenario = match Scenario::load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));
    if !force && let Err(reason) = aesim::output::check_destination(&out, &scenario) {
        eprintln!(
            "error: refusing to mix results: {reason}\n  = hint: choose another --out, or pass --force to replace them"
        );
        return EXIT_BAD_INPUT;
    }
    let limit = memory_limit.unwrap_or_else(resources::default_limit_bytes);
    let memory = resources::estimate(&scenario, jobs);
    if memory.total_bytes > limit {
        eprintln!(
            "error: {} needs an estimated {} of memory, more than the limit of {}\n  \
             (replicas {}, trees {}, event queue {} per strategy, {} strategies at once; time series {})\n  \
             = hint: fewer keys written, fewer leaves, fewer --jobs, or a higher --memory-limit",
            path.display(),
            format_bytes(memory.total_bytes),
            format_bytes(limit),
            format_bytes(memory.replica_bytes),
            format_bytes(memory.tree_bytes),
            format_bytes(memory.queue_bytes),
            memory.worlds_at_once,
            format_bytes(memory.sample_bytes),
        );
        return EXIT_BAD_INPUT;
    }
    let checks = match invariants {
        Checks::EverySample => InvariantChecks::EverySample,
        Checks::End => InvariantChecks::EndOnly,
    };
    let started = Instant::now();
    let results = match run_scenario_with(&scenario, jobs, checks) {
        Ok(r) => r,
        Err(violation) => {
            eprintln!("error: {violation}\nno results were written.");
            return EXIT_RUN_FAILED;
        }
    };
    let wall = started.elapsed();
    if let Err(e) = aesim::output::write_run(&out, &scenario, &results) {
        eprintln!("error: cannot write results to {}: {e}", out.display());
        return EXIT_RUN_FAILED;
    }
    if !quiet {
        let events: u64 = results.iter().map(|r| r.events).sum();
        print!("{}", comparison_table(&results));
        println!(
            "{}: seed {}, {} strategies, {} events in {:.2}s ({:.2} M events/s); results in {}",
            scenario.name,
            scenario.seed,
            results.len(),
            events,
            wall.as_secs_f64(),
            events as f64 / wall.as_secs_f64().max(1e-9) / 1e6,
            out.display()
        );
    }
    EXIT_OK
}
