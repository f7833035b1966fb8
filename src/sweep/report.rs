//! A sweep's report: `report.md` and the self-contained `report.html`, written with the
//! aggregates. One table of the headline metrics per grid point and strategy (mean and
//! 95% confidence interval, in human units), then every chart.
//!
//! Built from the plan and the point summaries alone, in plan order: deterministic.

use super::Plan;
use super::chart::SweepChart;
use super::metrics::PointSummary;
use crate::chart::human;
use crate::chart::units::{column_title as metric_title, column_unit as metric_unit};
use crate::html::{Cell, Table, figure, page};

/// Metrics in the report's table (a subset of the headline metrics, by name).
const TABLE_METRICS: &[&str] = &[
    "repair_p50_s",
    "repair_p99_s",
    "divergence_key_s",
    "mean_full_pass_s",
    "hash_bytes",
    "stream_bytes",
];

/// The table: headings, and per point and strategy the cells.
fn table(plan: &Plan, summaries: &[PointSummary], headline: &[&str]) -> Table {
    let axes = &plan.sweep.axes;
    let mut headings: Vec<String> = axes.iter().map(|a| a.path.clone()).collect();
    headings.push("strategy".into());
    let metrics: Vec<(usize, &str)> = TABLE_METRICS
        .iter()
        .filter_map(|m| headline.iter().position(|h| h == m).map(|i| (i, *m)))
        .collect();
    headings.extend(metrics.iter().map(|(_, m)| metric_title(m)));
    let rows = summaries
        .iter()
        .map(|s| {
            // Axis values sort by their number (durations in seconds) where they have one.
            let mut row: Vec<Cell> = plan
                .sweep
                .coordinates(s.point)
                .iter()
                .zip(axes)
                .map(|(&i, a)| match super::chart::numeric_values(&a.path, &a.values) {
                    Some((numbers, _)) => Cell::number(a.label(i), numbers[i]),
                    None => Cell::text(a.label(i)),
                })
                .collect();
            row.push(Cell::text(s.strategy.clone()));
            for &(m, name) in &metrics {
                let e = &s.estimates[m];
                let unit = metric_unit(name);
                let text = match e.ci95 {
                    Some((lo, hi)) => format!("{} ± {}", human(e.mean, unit), human((hi - lo) / 2.0, unit)),
                    None => human(e.mean, unit),
                };
                row.push(Cell::number(text, e.mean));
            }
            row
        })
        .collect();
    Table { headings, rows }
}

fn intro(plan: &Plan) -> (String, Vec<String>) {
    let base = &plan.document.base;
    let axes: Vec<String> = plan
        .sweep
        .axes
        .iter()
        .map(|a| {
            let values: Vec<String> = (0..a.values.len()).map(|i| a.label(i)).collect();
            format!("`{}` = {}", a.path, values.join(", "))
        })
        .collect();
    let summary = format!(
        "A sweep of {} grid points x {} replications = {} runs (each replication with its own seed, the \
         same at every point). Figures are means over the replications, ± the half-width of their \
         95% confidence interval (Student's t).",
        plan.sweep.points(),
        plan.sweep.replications,
        plan.sweep.runs()
    );
    let _ = base;
    (summary, axes)
}

/// `report.md` of a sweep.
pub fn markdown(plan: &Plan, summaries: &[PointSummary], headline: &[&str], charts: &[SweepChart]) -> String {
    let base = &plan.document.base;
    let mut out = format!("# {} (sweep)\n\n", base.name);
    if !base.description.is_empty() {
        out.push_str(&format!("{}\n\n", crate::report::markdown_text(&base.description)));
    }
    let (summary, axes) = intro(plan);
    out.push_str(&format!("{summary}\n\nAxes:\n\n"));
    for axis in &axes {
        out.push_str(&format!("- {axis}\n"));
    }
    out.push_str(
        "\nIn this folder, `aesim run scenario.toml --out .` reruns the sweep (skipping the runs \
         already in `runs/`) and rewrites the aggregates and this report.\n\n## Results\n\n",
    );
    let t = table(plan, summaries, headline);
    out.push('|');
    for h in &t.headings {
        out.push_str(&format!(" {h} |"));
    }
    out.push('\n');
    out.push('|');
    for cell in &t
        .rows
        .first()
        .map_or(Vec::new(), |r| r.iter().map(|c| c.sort.is_some()).collect())
    {
        out.push_str(if *cell { " ---: |" } else { " --- |" });
    }
    out.push('\n');
    for row in &t.rows {
        out.push('|');
        for cell in row {
            out.push_str(&format!(" {} |", crate::report::escape_cell(&cell.text)));
        }
        out.push('\n');
    }
    out.push_str("\nEvery metric, with its standard deviation and interval ends, is in `summary.csv`; every run's figures in `raw.csv`.\n\n## Charts\n\n");
    for chart in charts {
        out.push_str(&format!(
            "### {}\n\n![{}](charts/{})\n\n",
            chart.title, chart.title, chart.file
        ));
    }
    out
}

/// `report.html` of a sweep: the same as `report.md`, charts inline, table sortable.
pub fn html(plan: &Plan, summaries: &[PointSummary], headline: &[&str], charts: &[SweepChart]) -> String {
    use crate::chart::escape;
    use crate::html::inline_code;
    let base = &plan.document.base;
    let title = format!("{} (sweep)", base.name);
    let mut body = format!("<h1>{}</h1>\n", escape(&title));
    if !base.description.is_empty() {
        body.push_str(&format!("<p>{}</p>\n", escape(&base.description)));
    }
    let (summary, axes) = intro(plan);
    body.push_str(&format!("<p>{}</p>\n<ul>\n", escape(&summary)));
    for axis in &axes {
        body.push_str(&format!("<li>{}</li>\n", inline_code(axis)));
    }
    body.push_str("</ul>\n<h2>Results</h2>\n<div class=\"scroll\">\n");
    body.push_str(&table(plan, summaries, headline).to_html());
    body.push_str("</div>\n<h2>Charts</h2>\n");
    for chart in charts {
        body.push_str(&figure(
            &chart.title,
            &chart.svg,
            "Mean over the replications; bars: 95% confidence interval.",
        ));
    }
    page(&title, &body)
}
