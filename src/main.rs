//! The `aesim` command: a thin layer over the library that parses arguments, calls it,
//! and maps errors to exit codes (0 success, 1 run failure, 2 bad scenario or usage).

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    cli::main()
}
