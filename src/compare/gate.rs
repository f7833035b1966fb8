//! Regression gates for `aesim compare --fail-if`: `METRIC>LIMIT` or `METRIC<LIMIT`,
//! where the limit is a signed change from the baseline (the first folder, A), in
//! percent (`repair_p99_s>+10%`) or in the metric's own unit (`divergent_at_end>0`).
//! A gate trips when any strategy (at any grid point) of a later folder changes past
//! its limit; `aesim compare` then prints each tripped gate and exits with code 3, so a
//! CI job can fail on a model or configuration change that makes repair worse.
//!
//! Sweeps are gated on their means; a strategy missing from either side is not a
//! change and never trips a gate.

use super::{Comparison, METRICS};

/// Which way a gate's limit is crossed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Trips when the change is above the limit.
    Above,
    /// Trips when the change is below the limit.
    Below,
}

/// A limit on the change from the baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Limit {
    /// In percent of the baseline's value.
    Percent(f64),
    /// In the metric's unit.
    Absolute(f64),
}

/// One `--fail-if` condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    text: String,
    metric: String,
    direction: Direction,
    limit: Limit,
}

impl Gate {
    /// Parses `METRIC>LIMIT` or `METRIC<LIMIT`; the error says what was expected.
    pub fn parse(text: &str) -> Result<Gate, String> {
        let expected = "expected METRIC>LIMIT or METRIC<LIMIT, e.g. repair_p99_s>+10% or divergent_at_end>0";
        let (at, direction) = match (text.find('>'), text.find('<')) {
            (Some(at), None) => (at, Direction::Above),
            (None, Some(at)) => (at, Direction::Below),
            _ => return Err(format!("--fail-if {text:?}: {expected}")),
        };
        let metric = text[..at].trim();
        if !METRICS.contains(&metric) {
            let hint = crate::scenario::did_you_mean(metric, METRICS.iter().copied()).map_or_else(
                || format!("the metrics are {}", METRICS.join(", ")),
                |m| format!("did you mean {m}?"),
            );
            return Err(format!("--fail-if {text:?}: unknown metric {metric:?}; {hint}"));
        }
        let limit_text = text[at + 1..].trim();
        let (number, limit): (&str, fn(f64) -> Limit) = match limit_text.strip_suffix('%') {
            Some(number) => (number, Limit::Percent),
            None => (limit_text, Limit::Absolute),
        };
        let value: f64 = number
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("--fail-if {text:?}: the limit {limit_text:?} is not a number; {expected}"))?;
        Ok(Gate {
            text: text.to_string(),
            metric: metric.to_string(),
            direction,
            limit: limit(value),
        })
    }

    /// Every change of `comparison` past this gate's limit, one line each.
    pub fn tripped(&self, comparison: &Comparison) -> Vec<String> {
        let mut lines = Vec::new();
        for row in comparison.rows.iter().filter(|r| r.metric == self.metric) {
            let Some(Some(base)) = row.values.first() else {
                continue;
            };
            for (later, input) in row.values.iter().zip(&comparison.inputs).skip(1) {
                let Some(later) = later else {
                    continue;
                };
                let change = later.mean - base.mean;
                let (measured, limit, unit) = match self.limit {
                    Limit::Absolute(limit) => (change, limit, ""),
                    // A change from zero is infinitely many percent, in its direction.
                    Limit::Percent(limit) if base.mean == 0.0 => (change.signum() * f64::INFINITY, limit, "%"),
                    Limit::Percent(limit) => (100.0 * change / base.mean.abs(), limit, "%"),
                };
                let trips = match self.direction {
                    Direction::Above => measured > limit,
                    Direction::Below => measured < limit,
                };
                if trips && change != 0.0 {
                    lines.push(format!(
                        "--fail-if {}: {} {} changed by {measured:+.2}{unit} in {} ({} -> {})",
                        self.text, row.strategy, row.metric, input.label, base.mean, later.mean
                    ));
                }
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_parse_and_refuse_what_they_cannot_read() {
        let gate = Gate::parse("repair_p99_s>+10%").unwrap();
        assert_eq!((gate.direction, gate.limit), (Direction::Above, Limit::Percent(10.0)));
        let gate = Gate::parse("keys_repaired < -5").unwrap();
        assert_eq!((gate.direction, gate.limit), (Direction::Below, Limit::Absolute(-5.0)));
        let unknown = Gate::parse("repair_p98_s>1").unwrap_err();
        assert!(unknown.contains("did you mean repair_p99_s?"), "{unknown}");
        assert!(
            Gate::parse("repair_p99_s=1")
                .unwrap_err()
                .contains("expected METRIC>LIMIT")
        );
        assert!(Gate::parse("repair_p99_s>ten%").unwrap_err().contains("not a number"));
        assert!(Gate::parse("repair_p99_s>inf").is_err());
    }
}
