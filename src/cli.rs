//! Command-line interface: subcommands, flags, terminal output and exit codes.

use aesim::run::{comparison_table, run_scenario};
use aesim::scenario::Scenario;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Exit code of a successful command.
const EXIT_OK: u8 = 0;
/// Exit code when a run failed: an output could not be written, or an invariant broke.
const EXIT_RUN_FAILED: u8 = 1;
/// Exit code for a bad scenario file or bad command-line usage.
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "aesim",
    version,
    about = "Deterministic simulator of Merkle-tree anti-entropy between replicas",
    after_help = "Exit codes: 0 success; 1 run failed (output not writable, invariant violated); \
                  2 bad scenario file or usage."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write CSV results, charts and report.md.
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
    },
    /// Re-render the charts and report.md of a results folder from its CSV files.
    Report {
        /// A results folder written by `aesim run`.
        dir: PathBuf,
    },
    /// Validate a scenario file without running it.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check { scenario } => match Scenario::load(&scenario) {
            Ok(s) => {
                println!(
                    "{}: ok ({} strategies, {} keys, {} nodes)",
                    scenario.display(),
                    s.strategies.len(),
                    s.cluster.key_count,
                    s.cluster.nodes
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
        } => run(scenario, seed, out, jobs, quiet),
        Command::Report { dir } => match aesim::report::render(&dir) {
            Ok(rendered) => {
                println!("{}: wrote {} files", dir.display(), rendered.files.len());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: cannot render the report: {e}");
                if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED }
            }
        },
    };
    ExitCode::from(code)
}

fn run(path: PathBuf, seed: Option<u64>, out: Option<PathBuf>, jobs: usize, quiet: bool) -> u8 {
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
    let started = Instant::now();
    let results = match run_scenario(&scenario, jobs) {
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
    // The report is rendered from the files just written, exactly as `aesim report` does.
    if let Err(e) = aesim::report::render(&out) {
        eprintln!("error: cannot render the report: {e}");
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
