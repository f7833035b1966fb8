//! `aesim calibrate`: flags, the progress bar, the table and the profile file. The work
//! is done by `aesim::calibrate`.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, load};
use aesim::calibrate::engine::EngineKind;
use aesim::calibrate::{CalibrateOptions, calibrate, interrupt, profile};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Most records taken from a scenario's key space (a calibration, not a replica).
const MAX_RECORDS_FROM_SCENARIO: u64 = 1_000_000;

#[derive(Args)]
pub struct CalibrateArgs {
    /// The storage engine to measure.
    #[arg(long, value_enum, default_value_t = EngineKind::Fjall)]
    engine: EngineKind,
    /// Records to write [default: 200000, or the scenario's keys up to 1000000].
    #[arg(long)]
    records: Option<u64>,
    /// Bytes of one record, key and value [default: 100, or the scenario's record_bytes].
    #[arg(long)]
    record_bytes: Option<u64>,
    /// Take the record count and size from this scenario's [cluster].
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Measured runs of each cost (the median and spread are over them).
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Unmeasured warm-up runs before them.
    #[arg(long, default_value_t = 2)]
    warmups: usize,
    /// Point reads and point writes per run.
    #[arg(long, default_value_t = 20_000)]
    point_ops: u64,
    /// Folder the temporary store is made in (removed at the end) [default: the system's
    /// temporary folder].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Where to write the cost profile.
    #[arg(long, default_value = "cost-profile.toml")]
    out: PathBuf,
    /// Print nothing but errors (and no progress bar).
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: CalibrateArgs) -> u8 {
    let mut options = CalibrateOptions {
        engine: args.engine,
        runs: args.runs.max(1),
        warmups: args.warmups,
        point_ops: args.point_ops.max(1),
        ..CalibrateOptions::default()
    };
    if let Some(path) = &args.scenario {
        let document = match load(path, &[], None) {
            Ok(d) => d,
            Err(code) => return code,
        };
        options.records = document.base.cluster.key_count.min(MAX_RECORDS_FROM_SCENARIO);
        options.record_bytes = document.base.cluster.record_bytes;
    }
    options.records = args.records.unwrap_or(options.records);
    options.record_bytes = args.record_bytes.unwrap_or(options.record_bytes);
    if let Some(dir) = args.dir {
        options.folder = dir;
    }
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        // indicatif draws on standard error only when it is a terminal.
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} calibrating {msg:24} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar
    };
    interrupt::catch_ctrl_c();
    let calibration = match calibrate(&options, &progress) {
        Ok(c) => c,
        Err(e) => {
            progress.finish_and_clear();
            eprintln!("{e}");
            return if e.hint.is_some() {
                EXIT_BAD_INPUT
            } else {
                EXIT_RUN_FAILED
            };
        }
    };
    progress.finish_and_clear();
    let text = profile::render(&calibration);
    if let Err(e) = std::fs::write(&args.out, &text) {
        eprintln!("error: cannot write the cost profile {}: {e}", args.out.display());
        return EXIT_RUN_FAILED;
    }
    if !args.quiet {
        println!(
            "{} on {}: {} records of {} bytes",
            options.engine.name(),
            calibration.machine.describe(),
            options.records,
            options.record_bytes
        );
        print!("{}", profile::table(&calibration));
        println!(
            "wrote {} (use: [cluster] costs = \"{}\" or --costs)",
            args.out.display(),
            args.out.display()
        );
    }
    EXIT_OK
}
