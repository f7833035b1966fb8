//! The charts of a run's report, built from a [`RunData`] with the [`crate::chart`]
//! toolkit (one palette, numeric axes in human units, legends beside the plot).
//!
//! Every chart is a pure function of the data: the same results folder gives the same
//! bytes. This module builds and returns SVG text; it writes nothing.

use super::data::{RunData, StalenessGrid};
use crate::chart::{Axis, Figure, LegendEntry, Mark, Plot, Rgb, Scale, Unit, human, series_color};

pub use crate::chart::{SERIES_STROKE_WIDTH, series_color_hex};

/// One rendered chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File name under `charts/`, e.g. `divergent-keys.svg`.
    pub file: &'static str,
    /// Heading in the report.
    pub title: &'static str,
    /// How to read it, one or two sentences for the report.
    pub caption: String,
    pub svg: String,
}

/// Width of every chart, in pixels.
const WIDTH_PX: u32 = 960;

/// Darkest colour of the staleness heatmap (the most divergent slice).
const HEAT_MAX: Rgb = Rgb(165, 15, 21);

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Every chart the data supports, in report order. A chart whose data is absent (the
/// live-tree trade-off without write-path columns) is left out, not drawn empty.
pub fn render_all(data: &RunData) -> DrawResult<Vec<Chart>> {
    let mut charts = vec![
        divergent_keys(data),
        repair_latency(data),
        cost(data)?,
        staleness(data),
        workers(data),
    ];
    if let Some(chart) = live_vs_scheduled(data)? {
        charts.push(chart);
    }
    Ok(charts)
}

/// The time axis of a run's charts, in human units.
fn time_axis(data: &RunData) -> Axis {
    let times = data.series.iter().flat_map(|s| s.time_s.iter().copied());
    let scale = match Scale::linear_from_zero(times) {
        // Time ends where the run ends: no headroom.
        Scale::Linear { lo, hi } => Scale::Linear { lo, hi: hi / 1.04 },
        other => other,
    };
    Axis::new(scale, Unit::Seconds, "simulated time")
}

/// "writes stop" marked where client writes stop, when the scenario stops them.
fn writes_stop(data: &RunData) -> Option<Mark> {
    let end = data
        .series
        .iter()
        .filter_map(|s| s.time_s.last().copied())
        .fold(0.0_f64, f64::max);
    data.writes_stop_s
        .filter(|t| *t > 0.0 && *t < end)
        .map(|t| Mark::VLine {
            x: t,
            label: format!("writes stop at {}", human(t, Unit::Seconds)),
        })
}

/// One line per strategy on the time axis.
fn time_plot(data: &RunData, title: &str, y_title: &str, pick: impl Fn(usize) -> Vec<f64>) -> Plot {
    let y = Scale::linear_from_zero((0..data.strategies.len()).flat_map(&pick));
    let mut plot = Plot::new(title, time_axis(data), Axis::new(y, Unit::Count, y_title));
    for (i, name) in data.strategies.iter().enumerate() {
        let points = data.series[i].time_s.iter().copied().zip(pick(i)).collect();
        plot.line(i, name.as_str(), points);
    }
    plot.marks.extend(writes_stop(data));
    plot
}

/// Divergent keys over time, one line per strategy.
pub fn divergent_keys(data: &RunData) -> Chart {
    let plot = time_plot(data, "Divergent keys over time", "divergent keys", |i| {
        data.series[i].divergent_keys.clone()
    });
    Chart {
        file: "divergent-keys.svg",
        title: "Divergent keys over time",
        caption: "Keys on which the replicas disagree at each sample (ground truth), one line per \
                  strategy (each with its own dash and marker, so coinciding lines stay visible). A \
                  saw-tooth is the rebuild schedule: lost writes pile up until a pass repairs them. \
                  The dashed vertical line, if any, is where client writes stop."
            .into(),
        svg: Figure::single(WIDTH_PX, 480, plot).to_svg(),
    }
}

/// The repair-latency tail: for each latency x, the fraction of repairs that took
/// longer (a complementary CDF), both axes logarithmic, so p99 and the maximum are as
/// visible as the median.
pub fn repair_latency(data: &RunData) -> Chart {
    let curve = |i: usize| -> Vec<(f64, f64)> {
        let latency = &data.latency[i];
        let floor = 1.0 / latency.samples.max(1) as f64;
        latency
            .points
            .iter()
            .filter(|(_, latency_s)| *latency_s > 0.0)
            .map(|&(q, latency_s)| (latency_s, (1.0 - q).max(floor)))
            .collect()
    };
    // The censored estimate as the same tail, thinned to a marker every few quantiles.
    let censored_curve = |i: usize| -> Vec<(f64, f64)> {
        data.latency[i]
            .censored
            .iter()
            .filter(|(_, latency_s)| *latency_s > 0.0)
            .step_by(4)
            .map(|&(q, latency_s)| (latency_s, (1.0 - q).max(1e-4)))
            .collect()
    };
    let repaired: Vec<usize> = (0..data.strategies.len())
        .filter(|&i| data.latency[i].samples > 0)
        .collect();
    let x = Scale::log_covering(repaired.iter().flat_map(|&i| curve(i).into_iter().map(|p| p.0)));
    let y = Scale::log_covering(repaired.iter().flat_map(|&i| curve(i).into_iter().map(|p| p.1)));
    let (Some(x), Some(y)) = (x, y) else {
        return Chart {
            file: "repair-latency.svg",
            title: "Repair latency",
            caption: "No key was repaired by anti-entropy in this run.".into(),
            svg: Figure::single(
                WIDTH_PX,
                200,
                Plot {
                    note: Some("no key was repaired by anti-entropy in this run".into()),
                    ..Plot::new(
                        "Repair latency",
                        Axis::new(Scale::Linear { lo: 0.0, hi: 1.0 }, Unit::Seconds, "repair latency"),
                        Axis::new(Scale::Linear { lo: 0.0, hi: 1.0 }, Unit::Ratio, ""),
                    )
                },
            )
            .to_svg(),
        };
    };
    let mut plot = Plot::new(
        "Repair latency: the tail (fraction of repairs slower than x)",
        Axis::new(x, Unit::Seconds, "repair latency (log scale)"),
        Axis::new(y, Unit::Ratio, "fraction of repairs slower (log)"),
    );
    plot.note = Some("0.5 is the median, 0.01 the p99; each line ends at its slowest repair".into());
    for &i in &repaired {
        let label = match data.latency[i].open_at_end {
            0 => format!("{} ({} repairs)", data.strategies[i], data.latency[i].samples),
            open => format!(
                "{} ({} repairs, {open} open at end)",
                data.strategies[i], data.latency[i].samples
            ),
        };
        plot.line(i, label, curve(i));
        // The censored (Kaplan-Meier) estimate over every episode, open keys included:
        // hollow markers in the strategy's colour, where it differs from the line.
        let censored = censored_curve(i);
        if data.latency[i].open_at_end > 0 && !censored.is_empty() {
            plot.marks.push(Mark::Points {
                series: i,
                points: censored,
                filled: false,
                size: 3.0,
            });
        }
    }
    Chart {
        file: "repair-latency.svg",
        title: "Repair latency",
        caption: "For each latency x (log scale), the fraction of repaired keys whose divergence \
                  lasted longer (log scale): the median is where a line crosses 0.5, the p99 where it \
                  crosses 0.01, and the line ends at the slowest repair. From the quantile grid of \
                  `latency.csv` (an HDR histogram: 3 significant digits). Keys still divergent at the \
                  end are not in the lines, so a strategy that leaves many open looks faster than \
                  it is; the hollow markers are the censored (Kaplan-Meier) estimate over every \
                  episode, counting each key still open at the end as waiting at least its age."
            .into(),
        svg: Figure::single(WIDTH_PX, 500, plot).to_svg(),
    }
}

/// One bar of a cost panel.
struct Bar {
    value: f64,
    series: usize,
    /// Drawn lighter: the "streamed" bar beside "needed".
    light: bool,
}

/// Horizontal bars, one row per strategy (named on the axis), on a log value axis.
fn bar_panel(title: &str, unit: Unit, x_title: &str, names: &[String], groups: &[Vec<Bar>]) -> Plot {
    let category = Axis::new(Scale::Category(names.to_vec()), Unit::Count, "");
    let Some(scale) = Scale::log_covering(groups.iter().flatten().map(|b| b.value)) else {
        let mut plot = Plot::new(
            title,
            Axis::new(Scale::Linear { lo: 0.0, hi: 1.0 }, unit, x_title),
            category,
        );
        plot.note = Some("all zero".into());
        return plot;
    };
    let start = scale.start();
    let mut plot = Plot::new(title, Axis::new(scale, unit, x_title), category);
    for (i, group) in groups.iter().enumerate() {
        let height = 0.7 / group.len().max(1) as f64;
        for (j, bar) in group.iter().enumerate() {
            if bar.value <= 0.0 {
                continue;
            }
            let top = i as f64 - 0.35 + j as f64 * height;
            let color = series_color(bar.series);
            plot.marks.push(Mark::Rect {
                x0: start,
                y0: top,
                x1: bar.value,
                y1: top + height * 0.9,
                fill: if bar.light { color.lighten(0.4) } else { color },
            });
            plot.marks.push(Mark::Label {
                x: bar.value,
                y: top + height * 0.45,
                text: human(bar.value, unit),
                left: false,
            });
        }
    }
    plot
}

/// What a repair cost: hashes, hash bytes, and records streamed against truly needed.
pub fn cost(data: &RunData) -> DrawResult<Chart> {
    let n = data.strategies.len();
    let column = |name: &str| -> DrawResult<Vec<f64>> {
        (0..n)
            .map(|i| Ok(data.summary_number(i, name)?.unwrap_or(0.0)))
            .collect()
    };
    let hashes = column("hashes_sent")?;
    let hash_bytes = column("hash_bytes")?;
    let streamed = column("records_streamed")?;
    let needed = column("records_needed")?;
    let single = |values: &[f64]| -> Vec<Vec<Bar>> {
        (0..n)
            .map(|i| {
                vec![Bar {
                    value: values[i],
                    series: i,
                    light: false,
                }]
            })
            .collect()
    };
    let pairs: Vec<Vec<Bar>> = (0..n)
        .map(|i| {
            vec![
                Bar {
                    value: streamed[i],
                    series: i,
                    light: true,
                },
                Bar {
                    value: needed[i],
                    series: i,
                    light: false,
                },
            ]
        })
        .collect();
    let panel_px = 110 + 34 * n.max(1) as u32;
    let figure = Figure {
        width_px: WIDTH_PX,
        title: Some("Cost of repair (totals over the run, both directions; log scales)".into()),
        panels: vec![
            (
                bar_panel(
                    "Hashes sent",
                    Unit::Count,
                    "hashes (log)",
                    &data.strategies,
                    &single(&hashes),
                ),
                panel_px,
            ),
            (
                bar_panel(
                    "Hash bytes",
                    Unit::Bytes,
                    "bytes (log)",
                    &data.strategies,
                    &single(&hash_bytes),
                ),
                panel_px,
            ),
            (
                bar_panel(
                    "Records streamed (light, upper bar) vs truly needed (dark, lower bar)",
                    Unit::Count,
                    "records (log)",
                    &data.strategies,
                    &pairs,
                ),
                panel_px + 20,
            ),
        ],
    };
    Ok(Chart {
        file: "cost.svg",
        title: "Cost of repair",
        caption: "Totals over the run, both directions, on log scales. Bottom: every record of a \
                  divergent leaf is streamed (light bar); only the dark bar was truly needed. The \
                  gap is overstream."
            .into(),
        svg: figure.to_svg(),
    })
}

/// Divergent keys per slice of the key space over time, one panel per strategy.
pub fn staleness(data: &RunData) -> Chart {
    let max_count = data
        .staleness
        .iter()
        .flat_map(|g| g.counts.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0);
    let panels = data
        .strategies
        .iter()
        .enumerate()
        .map(|(i, name)| (heat_panel(data, name, &data.staleness[i], max_count), 240))
        .collect();
    Chart {
        file: "staleness.svg",
        title: "Staleness by key range",
        caption: "Divergent keys in each slice of the key space (y) at each sample (x); darker is \
                  more, on a log colour scale shared by all panels; white is none. Segmented \
                  strategies show which segments wait longest."
            .into(),
        svg: Figure {
            width_px: WIDTH_PX,
            title: Some(format!(
                "Staleness by key range (darkest cell: {max_count} divergent keys)"
            )),
            panels,
        }
        .to_svg(),
    }
}

/// Colour of a heat cell holding `count` divergent keys when the darkest holds `max`.
fn heat_color(count: u64, max: u64) -> Rgb {
    let f = if max == 0 {
        0.0
    } else {
        (1.0 + count as f64).ln() / (1.0 + max as f64).ln()
    };
    HEAT_MAX.lighten(f)
}

fn heat_panel(data: &RunData, name: &str, grid: &StalenessGrid, max_count: u64) -> Plot {
    let samples = grid.time_s.len();
    // A sample's cell lasts until the next sample; the last one as long as the one before.
    let step_s = if samples >= 2 {
        grid.time_s[samples - 1] - grid.time_s[samples - 2]
    } else {
        1.0
    };
    let end_of = |k: usize| grid.time_s.get(k + 1).copied().unwrap_or(grid.time_s[k] + step_s);
    let x_max = if samples == 0 { 1.0 } else { end_of(samples - 1) };
    let buckets = grid.buckets.max(1);
    let key_count = grid.key_count.max(1) as f64;
    let slice = key_count / buckets as f64;
    let mut plot = Plot::new(
        name,
        Axis::new(Scale::Linear { lo: 0.0, hi: x_max }, Unit::Seconds, "simulated time"),
        Axis::new(Scale::Linear { lo: 0.0, hi: key_count }, Unit::Count, "key"),
    );
    plot.no_grid = true;
    for b in 0..grid.buckets {
        // Runs of equal counts in time become one cell: fewer rectangles, same picture.
        let mut k = 0;
        while k < samples {
            let count = grid.counts[k][b];
            let mut last = k;
            while last + 1 < samples && grid.counts[last + 1][b] == count {
                last += 1;
            }
            if count > 0 {
                plot.marks.push(Mark::Rect {
                    x0: grid.time_s[k],
                    y0: b as f64 * slice,
                    x1: end_of(last),
                    y1: (b + 1) as f64 * slice,
                    fill: heat_color(count, max_count),
                });
            }
            k = last + 1;
        }
    }
    plot.marks.extend(writes_stop(data));
    plot
}

/// Worker utilisation: tree builds running and sessions in flight over time.
pub fn workers(data: &RunData) -> Chart {
    let cores = time_plot(data, "Cores busy building trees (all nodes)", "cores busy", |i| {
        data.series[i].cores_busy.clone()
    });
    let sessions = time_plot(data, "Anti-entropy sessions in flight", "sessions", |i| {
        data.series[i].sessions_running.clone()
    });
    Chart {
        file: "workers.svg",
        title: "Worker utilisation",
        caption: "Time-weighted means over each sample interval: tree builds holding a core \
                  (summed over nodes) and sessions running. A strategy that keeps cores idle \
                  between passes has capacity to repair sooner."
            .into(),
        svg: Figure {
            width_px: WIDTH_PX,
            title: None,
            panels: vec![(cores, 340), (sessions, 340)],
        }
        .to_svg(),
    }
}

/// Summary columns measuring the live tree's write-path cost, in order of preference.
pub const WRITE_PATH_COLUMNS: &[&str] = &["write_path_hash_s", "write_path_hash_ops"];

/// Live tree vs scheduled rebuilds: write-path cost (x) against repair latency (y),
/// one point per strategy. `None` when `summary.csv` has no write-path column, or when no
/// strategy maintains a live tree (every write-path cost is zero: nothing to trade).
pub fn live_vs_scheduled(data: &RunData) -> DrawResult<Option<Chart>> {
    let n = data.strategies.len();
    let mut points = Vec::with_capacity(n);
    for i in 0..n {
        let write_path = data.summary_number(i, "write_path_hash_s")?.unwrap_or(0.0);
        let scan = data.summary_number(i, "scan_core_s")?.unwrap_or(0.0);
        let p50 = data.summary_number(i, "repair_p50_s")?.unwrap_or(0.0);
        let p99 = data.summary_number(i, "repair_p99_s")?.unwrap_or(0.0);
        points.push((scan + write_path, write_path, p50, p99));
    }
    // No strategy pays on the write path: no live tree, nothing to compare.
    if points.iter().all(|p| p.1 == 0.0) {
        return Ok(None);
    }
    let x = match Scale::linear_from_zero(points.iter().map(|p| p.0)) {
        // Room on the right for the last point's name.
        Scale::Linear { lo, hi } => Scale::Linear { lo, hi: hi * 1.2 },
        other => other,
    };
    let y = Scale::log_covering(points.iter().flat_map(|p| [p.2, p.3])).unwrap_or(Scale::Log { lo: 0.1, hi: 1.0 });
    let mut plot = Plot::new(
        "Live tree vs scheduled rebuild (filled: p99, hollow: p50)",
        Axis::new(x, Unit::Seconds, "anti-entropy CPU: tree scans + write-path hashing"),
        Axis::new(y, Unit::Seconds, "repair latency (log scale)"),
    );
    for (i, name) in data.strategies.iter().enumerate() {
        let (x, _, p50, p99) = points[i];
        if p50 > 0.0 {
            plot.marks.push(Mark::Points {
                series: i,
                points: vec![(x, p50)],
                filled: false,
                size: 5.0,
            });
        }
        if p99 > 0.0 {
            plot.marks.push(Mark::Points {
                series: i,
                points: vec![(x, p99)],
                filled: true,
                size: 6.0,
            });
            plot.marks.push(Mark::Label {
                x,
                y: p99,
                text: name.clone(),
                left: false,
            });
        }
        plot.legend.push(LegendEntry {
            label: name.clone(),
            series: i,
            line: true,
        });
    }
    Ok(Some(Chart {
        file: "live-vs-scheduled.svg",
        title: "Live tree vs scheduled rebuild",
        caption: "Each strategy's anti-entropy CPU (x: core-seconds of tree-build scans, \
                  `scan_core_s`, plus write-path hashing, `write_path_hash_s`) against its repair \
                  latency (y, log scale): a live tree pays on every write and scans nothing; a \
                  scheduled rebuild pays nothing per write but scans its whole range on every \
                  pass, and waits for the next one."
            .into(),
        svg: Figure::single(WIDTH_PX, 480, plot).to_svg(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_runs_from_white_to_dark_red() {
        assert_eq!(heat_color(0, 10), Rgb(255, 255, 255));
        assert_eq!(heat_color(10, 10), HEAT_MAX);
        assert_eq!(heat_color(0, 0), Rgb(255, 255, 255));
        let Rgb(r, g, _) = heat_color(3, 10);
        assert!(r < 255 && g < 255 && g > HEAT_MAX.1);
    }
}
