//! Human-readable numbers for axes, labels and tables: `1.4e8` bytes is "140 MB", 480
//! seconds is "8 min", 3,755,248 records is "3.76M".
//!
//! Every function here is deterministic text formatting (fixed rules, no locale), so a
//! chart's bytes depend only on its data.

/// What a number measures; decides its suffix and scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A plain count (keys, hashes, records): 12, 3.4k, 5.6M, 7.8G.
    Count,
    /// Bytes, decimal SI: 980 B, 1.2 kB, 140 MB, 2.5 GB.
    Bytes,
    /// Seconds, scaled to ns, µs, ms, s, min or h.
    Seconds,
    /// A fraction or probability, shown as is (0.01, 0.5).
    Ratio,
}

impl Unit {
    /// The unit a `summary.csv` column measures, from its name: `*_s` is seconds,
    /// `*bytes*` bytes, anything else a count.
    pub fn of_column(name: &str) -> Unit {
        if name.ends_with("_s") || name.ends_with("_s_mean") {
            Unit::Seconds
        } else if name.contains("bytes") {
            Unit::Bytes
        } else if name.contains("loss") || name.contains("probability") || name.contains("fraction") {
            Unit::Ratio
        } else {
            Unit::Count
        }
    }
}

/// (divisor, suffix) for `magnitude` in `unit`: the largest scale not above it.
fn scale(unit: Unit, magnitude: f64) -> (f64, &'static str) {
    match unit {
        Unit::Count => {
            for (div, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] {
                if magnitude >= div {
                    return (div, suffix);
                }
            }
            (1.0, "")
        }
        Unit::Bytes => {
            for (div, suffix) in [(1e12, " TB"), (1e9, " GB"), (1e6, " MB"), (1e3, " kB")] {
                if magnitude >= div {
                    return (div, suffix);
                }
            }
            (1.0, " B")
        }
        Unit::Seconds => {
            if magnitude >= 3600.0 {
                (3600.0, " h")
            } else if magnitude >= 60.0 {
                (60.0, " min")
            } else if magnitude >= 1.0 || magnitude == 0.0 {
                (1.0, " s")
            } else if magnitude >= 1e-3 {
                (1e-3, " ms")
            } else if magnitude >= 1e-6 {
                (1e-6, " µs")
            } else {
                (1e-9, " ns")
            }
        }
        Unit::Ratio => (1.0, ""),
    }
}

/// `value` with three significant digits at most, trailing zeros dropped.
fn significant(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let digits = value.abs().log10().floor() as i32;
    let decimals = (2 - digits).clamp(0, 6) as usize;
    trim_zeros(format!("{value:.decimals$}"))
}

fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// One number in its unit, three significant digits: `human(1.4e8, Bytes)` is "140 MB".
pub fn human(value: f64, unit: Unit) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    if unit == Unit::Ratio {
        return significant(value);
    }
    let (div, suffix) = scale(unit, value.abs());
    let number = significant(value / div);
    if number == "0" && unit != Unit::Count {
        return format!("0{}", scale(unit, 0.0).1);
    }
    format!("{number}{suffix}")
}

/// About `target` evenly spaced ticks covering `lo..=hi` on a linear axis, with their
/// labels. The unit's scale is chosen first (by the larger end), then a 1-2-5 step in
/// that scale, so that labels never mix formats ("0 min, 2 min, 4 min", not
/// "0, 1e2, 200.0") and land on round numbers.
pub fn linear_ticks(lo: f64, hi: f64, unit: Unit, target: usize) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![(lo, human(lo, unit))];
    }
    // Scaled by half the larger end, so that an axis to 62 s reads "60 s", not "1.0 min".
    let (div, suffix) = scale(unit, lo.abs().max(hi.abs()) / 2.0);
    let (a, b) = (lo / div, hi / div);
    let raw = (b - a) / target.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw * 0.7)
        .unwrap_or(10.0 * power);
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    let first = (a / step).ceil() as i64;
    let last = (b / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if k == 0 && !suffix.starts_with(' ') {
                // A bare count: "0", not "0M".
                return (0.0, "0".to_string());
            }
            let text = if k == 0 {
                "0".to_string()
            } else {
                format!("{v:.decimals$}")
            };
            (v * div, format!("{text}{suffix}"))
        })
        .collect()
}

/// A metric's name in words, for titles and axis labels.
pub fn column_title(metric: &str) -> String {
    let known = match metric {
        "repair_p50_s" => "repair latency p50",
        "repair_p99_s" => "repair latency p99",
        "repair_max_s" => "repair latency max",
        "repair_mean_s" => "repair latency mean",
        "keys_repaired" => "keys repaired",
        "divergent_at_end" => "keys divergent at the end",
        "divergence_key_s" => "divergence (key-seconds)",
        "mean_full_pass_s" => "mean full pass",
        "hashes_sent" => "hashes sent",
        "hash_bytes" => "hash traffic",
        "records_streamed" => "records streamed",
        "records_overstreamed" => "records overstreamed",
        "stream_bytes" => "stream traffic",
        "writes" => "client writes",
        "lost_messages" => "lost replication messages",
        other => return other.replace('_', " "),
    };
    known.to_string()
}

/// The unit of a metric's values. Key-seconds are a count-like integral, not a time.
pub fn column_unit(metric: &str) -> Unit {
    if metric == "divergence_key_s" {
        Unit::Count
    } else {
        Unit::of_column(metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers_carry_their_unit() {
        assert_eq!(human(140_000_000.0, Unit::Bytes), "140 MB");
        assert_eq!(human(1_027_314.0, Unit::Count), "1.03M");
        assert_eq!(human(832.0, Unit::Count), "832");
        assert_eq!(human(0.0643, Unit::Seconds), "64.3 ms");
        assert_eq!(human(480.0, Unit::Seconds), "8 min");
        assert_eq!(human(2.5, Unit::Seconds), "2.5 s");
        assert_eq!(human(0.0, Unit::Seconds), "0 s");
        assert_eq!(human(0.01, Unit::Ratio), "0.01");
        assert_eq!(human(f64::NAN, Unit::Count), "-");
    }

    #[test]
    fn linear_ticks_share_one_scale_and_round_steps() {
        let labels =
            |lo, hi, unit| -> Vec<String> { linear_ticks(lo, hi, unit, 5).into_iter().map(|(_, l)| l).collect() };
        assert_eq!(
            labels(0.0, 630.0, Unit::Seconds),
            ["0 min", "2 min", "4 min", "6 min", "8 min", "10 min"]
        );
        assert_eq!(labels(0.0, 1.0, Unit::Ratio), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(labels(0.0, 1.6e8, Unit::Bytes), ["0 MB", "50 MB", "100 MB", "150 MB"]);
        let ticks = linear_ticks(0.0, 630.0, Unit::Seconds, 5);
        assert_eq!(ticks[4].0, 480.0);
    }

    #[test]
    fn columns_know_their_units() {
        assert_eq!(Unit::of_column("repair_p50_s"), Unit::Seconds);
        assert_eq!(Unit::of_column("hash_bytes"), Unit::Bytes);
        assert_eq!(Unit::of_column("hashes_sent"), Unit::Count);
    }
}
