//! The `aesim` command: a thin layer over the library that parses arguments, calls it,
//! and maps errors to exit codes (0 success, 1 run failure, 2 bad scenario or usage).

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    cli::main()
}

/// Lets a closed pipe end the process quietly, as it does any Unix filter
/// (`aesim run ... | head`): Rust ignores SIGPIPE, so a write to a closed pipe would
/// otherwise fail and `println!` would panic.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; setting a
    // signal's disposition to its default has no memory-safety requirement.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
