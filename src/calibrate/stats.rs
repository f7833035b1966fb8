//! Repeated measurements and their summary: the median and the spread (minimum,
//! maximum and the interquartile range), as a benchmark reports them.

use std::time::Instant;

/// The summary of repeated measurements of one cost, in nanoseconds per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Third quartile minus first quartile.
    pub iqr: f64,
    pub runs: usize,
}

impl Stats {
    /// The summary of `samples` (at least one).
    pub fn of(samples: &[f64]) -> Stats {
        assert!(!samples.is_empty(), "a summary needs a sample");
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            let at = q * (sorted.len() - 1) as f64;
            let (low, high) = (at.floor() as usize, at.ceil() as usize);
            sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
        };
        Stats {
            median: quantile(0.5),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            iqr: quantile(0.75) - quantile(0.25),
            runs: sorted.len(),
        }
    }

    /// The spread as a share of the median (the IQR over the median).
    pub fn relative_spread(&self) -> f64 {
        if self.median > 0.0 { self.iqr / self.median } else { 0.0 }
    }

    /// "229.4 ns (IQR 3.1, min 226.0, max 240.2, 5 runs)".
    pub fn describe(&self) -> String {
        format!(
            "{:.2} ns (IQR {:.2}, min {:.2}, max {:.2}, {} runs)",
            self.median, self.iqr, self.min, self.max, self.runs
        )
    }
}

/// Runs `work` `warmups` times unmeasured, then `runs` times measured; each run's
/// figure is its wall time divided by the units of work it reports (`work` returns
/// them, and the checksum it computed, so that nothing is optimised away).
pub fn measure<E>(warmups: usize, runs: usize, mut work: impl FnMut() -> Result<(u64, u64), E>) -> Result<Stats, E> {
    for _ in 0..warmups {
        std::hint::black_box(work()?);
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let (units, checksum) = work()?;
        let elapsed = start.elapsed().as_nanos() as f64;
        std::hint::black_box(checksum);
        samples.push(elapsed / units.max(1) as f64);
    }
    Ok(Stats::of(&samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_known_samples() {
        let stats = Stats::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((stats.median, stats.min, stats.max, stats.iqr), (3.0, 1.0, 5.0, 2.0));
        assert_eq!(Stats::of(&[2.0, 4.0]).median, 3.0);
    }
}
