//! The subcommands that only read or print: `compare`, `completions` and `man`, and the
//! JSON form of a run's summary. Kept out of `cli.rs`, which holds the argument types
//! and dispatch.

use std::path::{Path, PathBuf};

/// Exit codes, as in `cli.rs`.
const EXIT_OK: u8 = 0;
const EXIT_RUN_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

/// How a command prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON for programs.
    Json,
}

/// `aesim compare`: prints the table (or JSON); with `out`, also writes a report there.
pub fn compare(dirs: &[PathBuf], force: bool, format: Format, out: Option<&Path>, png: bool) -> u8 {
    let comparison = match aesim::compare::compare(dirs, force) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot compare: {e}");
            return if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED };
        }
    };
    match format {
        Format::Table => print!("{}", comparison.markdown()),
        Format::Json => print!("{}", comparison.json()),
    }
    if let Some(out) = out {
        match comparison.write(out, png) {
            Ok(files) => {
                if format == Format::Table {
                    println!("\nwrote {} files to {}", files.len(), out.display());
                }
            }
            Err(e) => {
                eprintln!("error: cannot write the comparison: {e}");
                // A refused folder is bad input (exit 2), like a run's; a failed write is 1.
                return if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED };
            }
        }
    }
    EXIT_OK
}

/// Prints a results folder's summary as JSON.
pub fn print_summary_json(dir: &Path) -> u8 {
    match aesim::report::summary_json(dir) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot read the summary: {e}");
            EXIT_RUN_FAILED
        }
    }
}

/// `aesim completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell, mut command: clap::Command) -> u8 {
    clap_complete::generate(shell, &mut command, "aesim", &mut std::io::stdout());
    EXIT_OK
}

/// `aesim man`: the man page (roff) on standard output.
pub fn man(command: clap::Command) -> u8 {
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(command).render(&mut out) {
        eprintln!("error: cannot render the man page: {e}");
        return EXIT_RUN_FAILED;
    }
    use std::io::Write as _;
    match std::io::stdout().write_all(&out) {
        Ok(()) => EXIT_OK,
        Err(_) => EXIT_RUN_FAILED,
    }
}
