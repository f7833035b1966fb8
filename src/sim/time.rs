//! Virtual time: an integer count of nanoseconds since the start of a run.
//!
//! Integer time makes every comparison exact and every run reproducible; floating point
//! appears only when a figure is printed.

use std::fmt;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of virtual time, in nanoseconds since the run began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(nanos: u64) -> SimTime {
        SimTime(nanos)
    }

    pub const fn from_secs(secs: u64) -> SimTime {
        SimTime(secs * NANOS_PER_SEC)
    }

    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// This instant moved later by `nanos`; saturates rather than wrapping, so an
    /// absurd duration can never make time run backwards.
    pub const fn after(self, nanos: u64) -> SimTime {
        SimTime(self.0.saturating_add(nanos))
    }

    /// Nanoseconds from `earlier` to `self` (zero if `earlier` is later).
    pub const fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_secs(self.0))
    }
}

/// Formats nanoseconds as seconds with exactly six decimals, using integer arithmetic
/// only, so the text is identical on every machine (truncates below a microsecond).
pub fn format_secs(nanos: u64) -> String {
    let micros = nanos / 1_000;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_exactly() {
        assert_eq!(format_secs(0), "0.000000");
        assert_eq!(format_secs(1_500_000_000), "1.500000");
        assert_eq!(format_secs(2_400_000_001_999), "2400.000001");
    }

    #[test]
    fn after_saturates() {
        assert_eq!(SimTime::MAX.after(5), SimTime::MAX);
        assert_eq!(SimTime::from_secs(2).since(SimTime::from_secs(3)), 0);
    }
}
