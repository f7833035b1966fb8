//! SVG charts of a sweep: one metric's mean against one axis's values, one line per
//! strategy and combination of the other axes' values, with 95% confidence intervals as
//! error bars. Pure SVG: no fonts or system libraries are read, so the bytes are the
//! same on every machine.

use super::Plan;
use super::aggregate::PointSummary;
use plotters::prelude::*;

/// Width and height of a chart, in pixels.
const SIZE_PX: (u32, u32) = (900, 540);

/// One point of a line: the value index on the axis, the mean and its 95% interval.
type ChartPoint = (usize, f64, Option<(f64, f64)>);

struct Series {
    label: String,
    points: Vec<ChartPoint>,
}

/// The chart of headline metric number `m` (named `metric`) against axis `a`.
pub fn metric_vs_axis(plan: &Plan, summaries: &[PointSummary], metric: &str, m: usize, a: usize) -> String {
    let axes = &plan.sweep.axes;
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
                    label.push_str(&format!(", {}={}", axis.path, axis.label(v)));
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
        series[i].points.push((x, e.mean, e.ci95));
    }

    let labels: Vec<String> = (0..axes[a].values.len()).map(|i| axes[a].label(i)).collect();
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in series.iter().flat_map(|s| &s.points) {
        let (l, h) = p.2.unwrap_or((p.1, p.1));
        low = low.min(l).min(p.1);
        high = high.max(h).max(p.1);
    }
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    let pad = if high > low {
        (high - low) * 0.08
    } else {
        low.abs().max(1.0) * 0.1
    };
    let (low, high) = (low - pad, high + pad);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE_PX).into_drawing_area();
        root.fill(&WHITE).expect("drawing to memory");
        let n = labels.len();
        let x_range = -0.5f64..n as f64 - 0.5;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{} ({metric}) vs {}: mean and 95% CI",
                    plan.document.base.name, axes[a].path
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(x_range, low..high)
            .expect("drawing to memory");
        chart
            .configure_mesh()
            .x_desc(axes[a].path.as_str())
            .y_desc(metric)
            .x_labels(n + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .draw()
            .expect("drawing to memory");
        let count = series.len();
        // Lines side by side at each value, so that overlapping error bars stay readable.
        let spread = if count > 1 { 0.3 / (count - 1) as f64 } else { 0.0 };
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let offset = (i as f64 - (count - 1) as f64 / 2.0) * spread;
            let at = |p: &ChartPoint| p.0 as f64 + offset;
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|p| (at(p), p.1)),
                    color.stroke_width(2),
                ))
                .expect("drawing to memory")
                .label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart
                .draw_series(s.points.iter().filter_map(|p| {
                    p.2.map(|(l, h)| ErrorBar::new_vertical(at(p), l, p.1, h, color.stroke_width(1), 8))
                }))
                .expect("drawing to memory");
            chart
                .draw_series(s.points.iter().map(|p| Circle::new((at(p), p.1), 3, color.filled())))
                .expect("drawing to memory");
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .expect("drawing to memory");
        root.present().expect("drawing to memory");
    }
    svg
}
