//! `aesim validate`: flags and the predicted-vs-measured tables; exit 1 when an exact
//! figure differs, wire bytes are more than 5% apart or the replicas end unequal. The
//! work is done by `aesim::validate`.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED};
use aesim::validate::{ValidateOptions, report, validate};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct ValidateArgs {
    /// Keys in each replica (every key holds a record).
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Bytes of one record, key and value.
    #[arg(long, default_value_t = 100)]
    record_bytes: u64,
    /// Leaves of the monolithic tree (a power of two).
    #[arg(long, default_value_t = 1024)]
    leaves: u32,
    /// Share of the keys whose newer version one replica never got.
    #[arg(long, default_value_t = 0.001)]
    fraction: f64,
    /// Segments of the segmented runs.
    #[arg(long, default_value_t = 16)]
    segments: u64,
    /// Leaves of each segment's tree (a power of two).
    #[arg(long, default_value_t = 64)]
    segment_leaves: u32,
    /// Worker counts of the segmented runs, comma-separated (e.g. 1,2).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    workers: Vec<u32>,
    /// Seeds the choice of the lost writes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A cost profile from `aesim calibrate` [default: the build cost per key measured
    /// in place on the replica].
    #[arg(long)]
    costs: Option<PathBuf>,
    /// Folder the temporary replicas are made in (removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print only failures.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: ValidateArgs) -> u8 {
    let mut options = ValidateOptions {
        keys: args.keys,
        record_bytes: args.record_bytes,
        leaves: args.leaves,
        fraction: args.fraction,
        segments: args.segments,
        segment_leaves: args.segment_leaves,
        workers: args.workers,
        seed: args.seed,
        costs: args.costs,
        ..ValidateOptions::default()
    };
    if let Some(dir) = args.dir {
        options.folder = dir;
    }
    let quiet = args.quiet;
    let progress = |step: &str| {
        if !quiet {
            eprintln!("validate: {step}");
        }
    };
    let validations = match validate(&options, &progress) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return if e.hint.is_some() {
                EXIT_BAD_INPUT
            } else {
                EXIT_RUN_FAILED
            };
        }
    };
    let mut failures = Vec::new();
    for v in &validations {
        if !quiet {
            println!("{}", report::table(v));
        }
        failures.extend(report::failures(v));
    }
    if failures.is_empty() {
        if !quiet {
            println!("validate: every exact figure matches, wire bytes within 5%, replicas equal");
        }
        EXIT_OK
    } else {
        for f in &failures {
            eprintln!("error: {f}");
        }
        EXIT_RUN_FAILED
    }
}
