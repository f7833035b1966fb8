//! Shared by the benchmarks: a short divan configuration, and a timer for the hardware
//! reference each benchmark prints next to its own figure.
//!
//! The machine is shared and noisy, so absolute figures move from run to run; the ratio
//! of a figure to a reference measured in the same process, right before, moves much
//! less. Each benchmark therefore prints `subject / reference` lines first, then runs
//! divan for the detailed table.

#![allow(dead_code)] // Each benchmark uses part of this.

use std::time::{Duration, Instant};

/// Divan with short sample times (the machine is shared), command-line flags still apply.
pub fn divan() -> divan::Divan {
    divan::Divan::from_args()
        .sample_count(10)
        .max_time(Duration::from_millis(1500))
}

/// The best (least disturbed) time of `runs` runs of `work`, in seconds.
pub fn best_secs(runs: usize, mut work: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// One line of the reference table: `name: subject vs reference = ratio`.
pub fn print_ratio(name: &str, unit: &str, subject: f64, reference_name: &str, reference: f64) {
    println!(
        "{name}: {} {unit} vs {reference_name} {} {unit} = {:.0}% of the reference",
        si(subject),
        si(reference),
        100.0 * subject / reference
    );
}

/// `x` with an SI prefix: "12.3 M", "870 k".
pub fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.2} M", x / 1e6),
        x if x >= 1e3 => format!("{:.1} k", x / 1e3),
        x => format!("{x:.1} "),
    }
}

/// A deterministic pseudo-random sequence (xorshift64*), so that every benchmark run
/// works on the same data without pulling the simulator's streams in.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
