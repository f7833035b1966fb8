//! The charts of a report, drawn as SVG text with plotters from a [`RunData`].
//!
//! SVG needs no font or system library: text is laid out with plotters' built-in
//! estimate and drawn as `<text>`, so charts render identically on a machine with only
//! the Rust toolchain. Every chart is a pure function of the data: the same results
//! folder gives the same bytes. This module draws and returns text; it writes nothing.
//!
//! Conventions the tests rely on: a data line is a `<polyline>` of stroke width
//! [`SERIES_STROKE_WIDTH`] in the strategy's colour ([`series_color_hex`]); grid lines
//! and axes are thinner. Bars and heat cells are filled `<rect>`s.

use super::data::{RunData, StalenessGrid};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// Stroke width of every data line (thicker than grid lines and axes).
pub const SERIES_STROKE_WIDTH: u32 = 2;

/// Width of every chart, in pixels.
const WIDTH_PX: u32 = 960;

/// Strategy colours, in scenario order (a colour-blind-safe ten-colour cycle).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(64, 64, 64),
];

/// Colour of the strategy at `index`.
/// Stroke width of the censored-latency (dashed) lines.
pub const CENSORED_STROKE_WIDTH: u32 = 2;

pub fn series_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The colour of the strategy at `index` as SVG writes it (`#RRGGBB`).
pub fn series_color_hex(index: usize) -> String {
    let RGBColor(r, g, b) = series_color(index);
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// Darkest colour of the staleness heatmap (the most divergent slice).
const HEAT_MAX: RGBColor = RGBColor(165, 15, 21);

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Every chart the data supports, in report order. A chart whose data is absent (the
/// live-tree trade-off without write-path columns) is left out, not drawn empty.
pub fn render_all(data: &RunData) -> DrawResult<Vec<Chart>> {
    let mut charts = vec![
        divergent_keys(data)?,
        repair_latency(data)?,
        cost(data)?,
        staleness(data)?,
        workers(data)?,
    ];
    if let Some(chart) = live_vs_scheduled(data)? {
        charts.push(chart);
    }
    Ok(charts)
}

/// Draws onto a fresh white SVG canvas of `height_px` and returns the SVG text.
fn svg(height_px: u32, draw: impl FnOnce(&Area) -> DrawResult<()>) -> DrawResult<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH_PX, height_px)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(text)
}

/// A number for an axis or a label: 12, 3.4k, 56.7M. Deterministic (fixed decimals).
pub fn compact(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{:.1}G", value / 1e9)
    } else if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.1}k", value / 1e3)
    } else if magnitude >= 10.0 || value == value.trunc() {
        format!("{value:.0}")
    } else if magnitude >= 0.01 {
        format!("{value:.2}")
    } else {
        format!("{value:.0e}")
    }
}

/// A range `0..max` with a little headroom; `0..1` when everything is zero.
fn linear_upper(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max > 0.0 { max * 1.05 } else { 1.0 }
}

/// A log range covering every positive value with a decade of room below and half one
/// above; `None` when no value is positive.
fn log_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (min, max) = values
        .filter(|v| *v > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (max > 0.0).then(|| (10f64.powf(min.log10().floor()), max * 3.0))
}

/// One line per strategy on a time axis, with a legend.
fn time_lines(
    area: &Area,
    data: &RunData,
    title: &str,
    y_desc: &str,
    pick: impl Fn(usize) -> Vec<f64>,
) -> DrawResult<()> {
    let x_max = linear_upper(data.series.iter().flat_map(|s| s.time_s.iter().copied()));
    let y_max = linear_upper((0..data.strategies.len()).flat_map(&pick));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| compact(*v))
        .y_label_formatter(&|v| compact(*v))
        .light_line_style(WHITE)
        .draw()?;
    for (i, name) in data.strategies.iter().enumerate() {
        let color = series_color(i);
        let points = data.series[i].time_s.iter().copied().zip(pick(i));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(SERIES_STROKE_WIDTH)))?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// Divergent keys over time, one line per strategy.
pub fn divergent_keys(data: &RunData) -> DrawResult<Chart> {
    let svg = svg(480, |root| {
        time_lines(root, data, "Divergent keys over time", "divergent keys", |i| {
            data.series[i].divergent_keys.clone()
        })
    })?;
    Ok(Chart {
        file: "divergent-keys.svg",
        title: "Divergent keys over time",
        caption: "Keys on which the replicas disagree at each sample (ground truth), one line per \
                  strategy. A saw-tooth is the rebuild schedule: lost writes pile up until a pass \
                  repairs them."
            .into(),
        svg,
    })
}

/// Repair-latency CDF on a log time axis, one line per strategy that repaired a key.
pub fn repair_latency(data: &RunData) -> DrawResult<Chart> {
    let positive = |i: usize| -> Vec<(f64, f64)> {
        data.latency[i]
            .points
            .iter()
            .filter(|(_, latency_s)| *latency_s > 0.0)
            .map(|&(q, latency_s)| (latency_s, q))
            .collect()
    };
    let censored = |i: usize| -> Vec<(f64, f64)> {
        data.latency[i]
            .censored
            .iter()
            .filter(|(_, latency_s)| *latency_s > 0.0)
            .map(|&(q, latency_s)| (latency_s, q))
            .collect()
    };
    let range = log_range(
        (0..data.strategies.len())
            .filter(|&i| data.latency[i].samples > 0)
            .flat_map(|i| positive(i).into_iter().chain(censored(i)).map(|(x, _)| x)),
    );
    let svg = svg(480, |root| {
        let Some((x_min, x_max)) = range else {
            no_data(
                root,
                "Repair latency",
                "no key was repaired by anti-entropy in this run",
            )?;
            return Ok(());
        };
        let mut chart = ChartBuilder::on(root)
            .caption("Repair latency (CDF)", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("repair latency (s, log scale)")
            .y_desc("fraction of repairs")
            .x_label_formatter(&|v| compact(*v))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .light_line_style(WHITE)
            .draw()?;
        for (i, name) in data.strategies.iter().enumerate() {
            if data.latency[i].samples == 0 {
                continue;
            }
            let color = series_color(i);
            chart
                .draw_series(LineSeries::new(positive(i), color.stroke_width(SERIES_STROKE_WIDTH)))?
                .label(match data.latency[i].open_at_end {
                    0 => format!("{name} ({} repairs)", data.latency[i].samples),
                    open => format!("{name} ({} repairs, {open} open at end)", data.latency[i].samples),
                })
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
            // The censored estimate over every episode, open keys included: dashed, and
            // stopping where the run can no longer estimate it.
            if data.latency[i].open_at_end > 0 {
                chart.draw_series(DashedLineSeries::new(
                    censored(i),
                    6,
                    4,
                    color.stroke_width(CENSORED_STROKE_WIDTH),
                ))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    })?;
    Ok(Chart {
        file: "repair-latency.svg",
        title: "Repair latency",
        caption: "Solid: fraction of repaired keys whose divergence lasted at most x seconds (x on \
                  a log scale), from the quantile grid of `latency.csv` (a histogram with 3 \
                  significant digits). Keys still divergent at the end are not in it, so a \
                  strategy that leaves many open looks faster than it is. Dashed: the censored \
                  (Kaplan-Meier) estimate over every episode, counting each key still open at the \
                  end as waiting at least its age; it stops where the run is too short to tell."
            .into(),
        svg,
    })
}

fn no_data(area: &Area, title: &str, message: &str) -> DrawResult<()> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(title.to_string(), (20, 20), ("sans-serif", 20).into_font()))?;
    area.draw(&Text::new(
        message.to_string(),
        (w as i32 / 2, h as i32 / 2),
        ("sans-serif", 16)
            .into_font()
            .color(&BLACK.mix(0.6))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// One bar of a cost panel.
struct Bar {
    value: f64,
    color: RGBColor,
    /// Drawn lighter: the "streamed" bar behind "needed".
    light: bool,
}

/// Bars grouped by strategy on a log axis; each group is one strategy's bars.
fn bar_panel(area: &Area, title: &str, y_desc: &str, names: &[String], groups: &[Vec<Bar>]) -> DrawResult<()> {
    let Some((y_min, y_max)) = log_range(groups.iter().flatten().map(|b| b.value)) else {
        return no_data(area, title, "all zero");
    };
    // Strategy i is centred on x = i, so the axis's integer key points name the groups.
    let slots = names.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..slots as f64 - 0.5, (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(slots)
        .y_desc(y_desc)
        .x_label_formatter(&|x| {
            let index = x.round();
            if (x - index).abs() > 1e-9 || index < 0.0 {
                return String::new();
            }
            names.get(index as usize).cloned().unwrap_or_default()
        })
        .y_label_formatter(&|v| compact(*v))
        .light_line_style(WHITE)
        .draw()?;
    for (i, group) in groups.iter().enumerate() {
        let width = 0.7 / group.len().max(1) as f64;
        for (j, bar) in group.iter().enumerate() {
            if bar.value <= 0.0 {
                continue;
            }
            let left = i as f64 - 0.35 + j as f64 * width;
            let style = if bar.light {
                bar.color.mix(0.4).filled()
            } else {
                bar.color.filled()
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(left, y_min), (left + width * 0.9, bar.value)],
                style,
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                compact(bar.value),
                (left + width * 0.45, bar.value),
                TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
    }
    Ok(())
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
                    color: series_color(i),
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
                    color: series_color(i),
                    light: true,
                },
                Bar {
                    value: needed[i],
                    color: series_color(i),
                    light: false,
                },
            ]
        })
        .collect();
    let svg = svg(440, |root| {
        let panels = root.split_evenly((1, 3));
        bar_panel(
            &panels[0],
            "Hashes sent",
            "hashes (log)",
            &data.strategies,
            &single(&hashes),
        )?;
        bar_panel(
            &panels[1],
            "Hash bytes",
            "bytes (log)",
            &data.strategies,
            &single(&hash_bytes),
        )?;
        bar_panel(
            &panels[2],
            "Records streamed (light) vs needed",
            "records (log)",
            &data.strategies,
            &pairs,
        )?;
        Ok(())
    })?;
    Ok(Chart {
        file: "cost.svg",
        title: "Cost of repair",
        caption: "Totals over the run, both directions, on log scales. Right: every record of a \
                  divergent leaf is streamed (light bar); only the dark bar was truly needed. The \
                  gap is overstream."
            .into(),
        svg,
    })
}

/// Divergent keys per slice of the key space over time, one panel per strategy.
pub fn staleness(data: &RunData) -> DrawResult<Chart> {
    const PANEL_PX: u32 = 240;
    let n = data.strategies.len().max(1);
    let max_count = data
        .staleness
        .iter()
        .flat_map(|g| g.counts.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0);
    let svg = svg(PANEL_PX * n as u32 + 40, |root| {
        let (head, body) = root.split_vertically(40);
        head.draw(&Text::new(
            format!("Staleness by key range (darkest cell: {max_count} divergent keys)"),
            (12, 10),
            ("sans-serif", 20).into_font(),
        ))?;
        let panels = body.split_evenly((n, 1));
        for (i, name) in data.strategies.iter().enumerate() {
            heat_panel(&panels[i], name, &data.staleness[i], max_count)?;
        }
        Ok(())
    })?;
    Ok(Chart {
        file: "staleness.svg",
        title: "Staleness by key range",
        caption: "Divergent keys in each slice of the key space (y) at each sample (x); darker is \
                  more, on a log colour scale shared by all panels; white is none. Segmented \
                  strategies show which segments wait longest."
            .into(),
        svg,
    })
}

/// Colour of a heat cell holding `count` divergent keys when the darkest holds `max`.
fn heat_color(count: u64, max: u64) -> RGBColor {
    let f = if max == 0 {
        0.0
    } else {
        (1.0 + count as f64).ln() / (1.0 + max as f64).ln()
    };
    let blend = |to: u8| (255.0 - f * (255.0 - f64::from(to))).round() as u8;
    RGBColor(blend(HEAT_MAX.0), blend(HEAT_MAX.1), blend(HEAT_MAX.2))
}

fn heat_panel(area: &Area, name: &str, grid: &StalenessGrid, max_count: u64) -> DrawResult<()> {
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
    let key_count = grid.key_count as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..buckets as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (s)")
        .y_desc("key")
        .x_label_formatter(&|v| compact(*v))
        .y_label_formatter(&|v| compact(v / buckets as f64 * key_count))
        .draw()?;
    let mut cells = Vec::new();
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
                cells.push(Rectangle::new(
                    [(grid.time_s[k], b as f64), (end_of(last), b as f64 + 1.0)],
                    heat_color(count, max_count).filled(),
                ));
            }
            k = last + 1;
        }
    }
    chart.draw_series(cells)?;
    Ok(())
}

/// Worker utilisation: tree builds running and sessions in flight over time.
pub fn workers(data: &RunData) -> DrawResult<Chart> {
    let svg = svg(640, |root| {
        let panels = root.split_evenly((2, 1));
        time_lines(
            &panels[0],
            data,
            "Cores busy building trees (all nodes)",
            "cores busy",
            |i| data.series[i].cores_busy.clone(),
        )?;
        time_lines(&panels[1], data, "Anti-entropy sessions in flight", "sessions", |i| {
            data.series[i].sessions_running.clone()
        })?;
        Ok(())
    })?;
    Ok(Chart {
        file: "workers.svg",
        title: "Worker utilisation",
        caption: "Time-weighted means over each sample interval: tree builds holding a core \
                  (summed over nodes) and sessions running. A strategy that keeps cores idle \
                  between passes has capacity to repair sooner."
            .into(),
        svg,
    })
}

/// Summary columns measuring the live tree's write-path cost, in order of preference.
/// Live tree vs scheduled rebuilds: the CPU anti-entropy costs (x: core-seconds of tree
/// scans plus write-path hashing) against repair latency (y), one point per strategy.
/// `None` when no strategy pays a write-path cost (no live tree: nothing to compare).
pub fn live_vs_scheduled(data: &RunData) -> DrawResult<Option<Chart>> {
    let n = data.strategies.len();
    let mut points = Vec::with_capacity(n);
    for i in 0..n {
        let write_path = data.summary_number(i, "write_path_hash_s")?.unwrap_or(0.0);
        let scan = data.summary_number(i, "scan_core_s")?.unwrap_or(0.0);
        let p50 = data.summary_number(i, "repair_p50_s")?.unwrap_or(0.0);
        let p99 = data.summary_number(i, "repair_p99_s")?.unwrap_or(0.0);
        points.push((scan, write_path, p50, p99));
    }
    if points.iter().all(|p| p.1 == 0.0) {
        return Ok(None);
    }
    let x_max = linear_upper(points.iter().map(|p| p.0 + p.1)) * 1.15;
    let range = log_range(points.iter().flat_map(|p| [p.2, p.3]));
    let svg = svg(480, |root| {
        let Some((y_min, y_max)) = range else {
            return no_data(root, "Live tree vs scheduled rebuild", "no key was repaired");
        };
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Live tree vs scheduled rebuild (filled: p99, hollow: p50)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("anti-entropy CPU (core-s): tree scans + write-path hashing")
            .y_desc("repair latency (s, log scale)")
            .x_label_formatter(&|v| compact(*v))
            .y_label_formatter(&|v| compact(*v))
            .light_line_style(WHITE)
            .draw()?;
        for (i, name) in data.strategies.iter().enumerate() {
            let (scan, write_path, p50, p99) = points[i];
            let x = scan + write_path;
            let color = series_color(i);
            // The write-path share of the CPU, drawn as a bar ending at the point.
            if p99 > 0.0 && write_path > 0.0 {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(scan, p99), (x, p99)],
                    color.stroke_width(4),
                )))?;
            }
            if p50 > 0.0 {
                chart.draw_series(std::iter::once(Circle::new((x, p50), 5, color.stroke_width(2))))?;
            }
            if p99 > 0.0 {
                chart.draw_series(std::iter::once(Circle::new((x, p99), 6, color.filled())))?;
                chart.draw_series(std::iter::once(Text::new(
                    name.clone(),
                    (x, p99),
                    TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Bottom)),
                )))?;
            }
        }
        Ok(())
    })?;
    Ok(Some(Chart {
        file: "live-vs-scheduled.svg",
        title: "Live tree vs scheduled rebuild",
        caption: "Each strategy's anti-entropy CPU (x: core-seconds of tree-build scans, \
                  `scan_core_s`, plus write-path hashing, `write_path_hash_s`; the thick bar \
                  is the write-path share) against its repair latency (y, log scale): a live \
                  tree pays on every write and scans nothing; a scheduled rebuild pays nothing \
                  per write but scans its whole range on every pass, and waits for the next one."
            .into(),
        svg,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers_are_short_and_exact() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(7.0), "7");
        assert_eq!(compact(2.5), "2.50");
        assert_eq!(compact(9_999.0), "9999");
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(compact(1_027_314.0), "1.0M");
        assert_eq!(compact(6_331_300_000.0), "6.3G");
    }

    #[test]
    fn heat_runs_from_white_to_dark_red() {
        assert_eq!(heat_color(0, 10), RGBColor(255, 255, 255));
        assert_eq!(heat_color(10, 10), HEAT_MAX);
        assert_eq!(heat_color(0, 0), RGBColor(255, 255, 255));
        let RGBColor(r, g, _) = heat_color(3, 10);
        assert!(r < 255 && g < 255 && g > HEAT_MAX.1);
    }

    #[test]
    fn log_range_spans_every_positive_value() {
        assert_eq!(log_range([0.0, 0.0].into_iter()), None);
        let (lo, hi) = log_range([0.0, 35.0, 4_000.0].into_iter()).unwrap();
        assert_eq!(lo, 10.0);
        assert_eq!(hi, 12_000.0);
    }
}
