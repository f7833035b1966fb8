//! Charts of a sweep, drawn with the [`crate::chart`] toolkit: one headline metric's
//! mean against one axis, one line per strategy and combination of the other axes'
//! values, with 95% confidence intervals as error bars.
//!
//! The x axis is numeric: integers and floats as they are, durations ("30s") in
//! seconds, on a log scale when the values span two decades or more, so a point at
//! x = 10 lies ten times as far from the origin as x = 1 on a linear axis. Axes whose
//! values are not numbers (a policy name) get evenly spaced named slots.

use super::Plan;
use super::metrics::PointSummary;
use crate::chart::units::{column_title as metric_title, column_unit as metric_unit};
use crate::chart::{Axis, Figure, Mark, Plot, Scale, Unit};
use toml::Value;

/// Width and height of a chart, in pixels.
const SIZE_PX: (u32, u32) = (960, 540);

/// One drawn sweep chart.
pub struct SweepChart {
    /// File name under `charts/`.
    pub file: String,
    /// Heading for the report.
    pub title: String,
    pub svg: String,
}

/// The numbers of an axis's values and their unit, or `None` when some value is not a
/// number or a duration (the axis is then drawn as named slots).
pub fn numeric_values(path: &str, values: &[Value]) -> Option<(Vec<f64>, Unit)> {
    let mut durations = false;
    let mut numbers = Vec::with_capacity(values.len());
    for value in values {
        numbers.push(match value {
            Value::Integer(i) => *i as f64,
            Value::Float(f) if f.is_finite() => *f,
            Value::String(text) => {
                durations = true;
                // As the scenario's duration fields read them.
                humantime::parse_duration(text.trim()).ok()?.as_secs_f64()
            }
            _ => return None,
        });
    }
    let unit = if durations {
        Unit::Seconds
    } else if path.ends_with("loss") || path.contains("probability") || path.contains("duplicate") {
        Unit::Ratio
    } else if path.contains("bytes") {
        Unit::Bytes
    } else {
        Unit::Count
    };
    Some((numbers, unit))
}

/// True when positive `values` span two decades or more: drawn on a log scale.
fn spans_decades(values: impl IntoIterator<Item = f64> + Clone) -> bool {
    let all_positive = values.clone().into_iter().all(|v| v > 0.0);
    let (lo, hi) = values
        .into_iter()
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    all_positive && hi >= lo * 100.0
}

/// x, mean and 95% interval of one point of a line.
type SeriesPoint = (f64, f64, Option<(f64, f64)>);

/// One line: its label and points (x, mean, 95% interval).
struct Series {
    label: String,
    points: Vec<SeriesPoint>,
}

/// The chart of headline metric number `m` (named `metric`) against axis `a`.
pub fn metric_vs_axis(plan: &Plan, summaries: &[PointSummary], metric: &str, m: usize, a: usize) -> SweepChart {
    let axes = &plan.sweep.axes;
    let axis = &axes[a];
    let numeric = numeric_values(&axis.path, &axis.values);
    let x_of = |i: usize| numeric.as_ref().map_or(i as f64, |(v, _)| v[i]);

    let mut keys: Vec<(Vec<usize>, &str)> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for s in summaries {
        let mut others = plan.sweep.coordinates(s.point);
        let x = others.remove(a);
        let key = (others, s.strategy.as_str());
        let i = match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                let mut label = s.strategy.clone();
                let other_axes = axes.iter().enumerate().filter(|(i, _)| *i != a).map(|(_, axis)| axis);
                for (axis, &v) in other_axes.zip(&key.0) {
                    label.push_str(&format!(", {}={}", short_path(&axis.path), axis.label(v)));
                }
                keys.push(key);
                series.push(Series {
                    label,
                    points: Vec::new(),
                });
                series.len() - 1
            }
        };
        let e = &s.estimates[m];
        series[i].points.push((x_of(x), e.mean, e.ci95));
    }

    let x_axis = match &numeric {
        Some((values, unit)) => {
            let scale = if spans_decades(values.iter().copied()) {
                Scale::log_covering(values.iter().copied()).unwrap_or(Scale::Linear { lo: 0.0, hi: 1.0 })
            } else {
                Scale::linear_from_zero(values.iter().copied())
            };
            let note = if matches!(scale, Scale::Log { .. }) {
                " (log scale)"
            } else {
                ""
            };
            Axis::new(scale, *unit, format!("{}{note}", axis.path))
        }
        None => Axis::new(
            Scale::Category((0..axis.values.len()).map(|i| axis.label(i)).collect()),
            Unit::Count,
            axis.path.clone(),
        ),
    };
    let unit = metric_unit(metric);
    let all_y = series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| [p.1, p.2.map_or(p.1, |c| c.0), p.2.map_or(p.1, |c| c.1)]);
    let means: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).collect();
    let (y_scale, y_note) = if spans_decades(means.iter().copied()) {
        (
            Scale::log_covering(means.iter().copied()).unwrap_or(Scale::Linear { lo: 0.0, hi: 1.0 }),
            " (log scale)",
        )
    } else {
        (Scale::linear_from_zero(all_y), "")
    };
    let title = format!("{} vs {}", capitalised(&metric_title(metric)), axis.path);
    let mut plot = Plot::new(
        title.clone(),
        x_axis,
        Axis::new(y_scale, unit, format!("{}{y_note}", metric_title(metric))),
    );
    plot.note = Some(format!(
        "{}: mean of {} replications per point, bars: 95% confidence interval",
        plan.document.base.name, plan.sweep.replications
    ));
    // Every line has its own colour, dash and marker (by series index).
    for (i, s) in series.iter().enumerate() {
        let index = i;
        plot.line(index, s.label.clone(), s.points.iter().map(|p| (p.0, p.1)).collect());
        plot.marks.push(Mark::ErrorBars {
            series: index,
            bars: s
                .points
                .iter()
                .filter_map(|p| p.2.map(|(lo, hi)| (p.0, lo, hi)))
                .collect(),
        });
    }
    SweepChart {
        file: chart_file(metric, &axis.path),
        title,
        svg: Figure::single(SIZE_PX.0, SIZE_PX.1, plot).to_svg(),
    }
}

/// `strategy.leaves` -> `leaves`: legends name the knob, the axis title the full path.
/// The file name (under `charts/`) of `metric`'s chart against the axis at `axis_path`.
pub fn chart_file(metric: &str, axis_path: &str) -> String {
    format!("{metric}-vs-{}.svg", file_safe(axis_path))
}

fn short_path(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().collect::<String>() + chars.as_str())
}

/// `path` with every character but letters, digits, '.', '-' and '_' replaced by '_'.
pub fn file_safe(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_values_become_numbers() {
        let values = [Value::String("10s".into()), Value::String("1min".into())];
        assert_eq!(
            numeric_values("strategy.interval", &values),
            Some((vec![10.0, 60.0], Unit::Seconds))
        );
        let values = [Value::Integer(256), Value::Integer(65536)];
        assert_eq!(
            numeric_values("strategy.leaves", &values),
            Some((vec![256.0, 65536.0], Unit::Count))
        );
        let values = [Value::String("round_robin".into())];
        assert_eq!(numeric_values("strategy.policy", &values), None);
        assert!(spans_decades([256.0, 4096.0, 65536.0]));
        assert!(!spans_decades([1.0, 2.0, 16.0]));
        assert!(!spans_decades([0.0, 100.0, 1000.0]));
    }
}
