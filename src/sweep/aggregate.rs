//! A complete sweep's aggregates, read from its run files in plan order: `raw.csv` (one
//! row per run and strategy), `summary.csv` (one row per grid point and strategy: mean,
//! standard deviation and 95% confidence interval of each headline metric) and one
//! chart per charted metric and axis in `charts/`.

use super::files::{RUNS_DIR, manifest, run_path, run_rows};
use super::metrics::{CHARTED_METRICS, HEADLINE_METRICS, PointSummary};
use super::stats::estimate;
use super::{Plan, SweepError, chart, io_error};
use crate::output::{MANIFEST_FILE, SUMMARY_COLUMNS, write_all_atomic};
use std::path::Path;

/// Writes `raw.csv`, `summary.csv` and `charts/` for a sweep whose runs are all in `out`.
pub fn write_aggregates(plan: &Plan, out: &Path) -> Result<(), SweepError> {
    let axes = &plan.sweep.axes;
    let metric_column = |name: &str| SUMMARY_COLUMNS.iter().position(|c| *c == name);
    let headline: Vec<(&str, usize)> = HEADLINE_METRICS
        .iter()
        .filter_map(|m| Some((*m, metric_column(m)?)))
        .collect();

    let (raw, summaries) = read_runs(plan, out, &headline)?;
    let table = summary_csv(plan, &summaries, &headline);

    // Every aggregate is staged in memory and published as one unit, as a run's files
    // are: a sweep that fails while writing (a full disk) leaves the previous
    // aggregates, or none, never a report that disagrees with its tables.
    let mut files: Vec<(String, Vec<u8>)> = vec![("raw.csv".into(), raw), ("summary.csv".into(), table)];
    let mut drawn = Vec::new();
    if !axes.is_empty() {
        let charts = out.join(crate::report::CHARTS_DIR);
        std::fs::create_dir_all(&charts).map_err(io_error(&charts))?;
        for metric in CHARTED_METRICS {
            let Some(m) = headline.iter().position(|(name, _)| name == metric) else {
                continue;
            };
            for a in 0..axes.len() {
                let chart = chart::metric_vs_axis(plan, &summaries, metric, m, a);
                let name = format!("{}/{}", crate::report::CHARTS_DIR, chart.file);
                files.push((name, chart.svg.clone().into_bytes()));
                drawn.push(chart);
            }
        }
        let names: Vec<&str> = headline.iter().map(|(name, _)| *name).collect();
        let markdown = super::report::markdown(plan, &summaries, &names, &drawn);
        let html = super::report::html(plan, &summaries, &names, &drawn);
        files.push(("report.md".into(), markdown.into_bytes()));
        files.push(("report.html".into(), html.into_bytes()));
    }
    files.push((MANIFEST_FILE.into(), manifest(plan).bytes()));
    let staged: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    write_all_atomic(out, &staged).map_err(io_error(out))?;
    debug_assert!(out.join(RUNS_DIR).is_dir());
    Ok(())
}

/// Reads every run's summary rows in plan order: `raw.csv` (each row with its point's
/// coordinates, replication, seed and run hash) and, per point and strategy (in order of
/// first appearance), the estimates of each `headline` metric.
fn read_runs(plan: &Plan, out: &Path, headline: &[(&str, usize)]) -> Result<(Vec<u8>, Vec<PointSummary>), SweepError> {
    let axes = &plan.sweep.axes;
    let mut raw = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(axes.iter().map(|a| a.path.clone()));
    header.extend(["replication", "seed", super::files::HASH_COLUMN].map(String::from));
    header.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    raw.write_record(&header).expect("writing to memory");

    // Per point, per strategy (in order of first appearance), the values of each metric.
    let mut summaries: Vec<PointSummary> = Vec::new();
    let mut values: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut point_start = 0;
    for run in &plan.runs {
        let path = run_path(out, run);
        let bytes = std::fs::read(&path).map_err(io_error(&path))?;
        let rows = run_rows(&bytes, run).ok_or_else(|| {
            SweepError::Input(format!("{}: changed while the aggregates were written", path.display()))
        })?;
        if run.replication == 0 {
            point_start = summaries.len();
        }
        let labels: Vec<String> = plan
            .sweep
            .coordinates(run.point)
            .iter()
            .zip(axes)
            .map(|(&i, axis)| axis.label(i))
            .collect();
        for row in rows {
            let mut cells = vec![run.point.to_string()];
            cells.extend(labels.iter().cloned());
            cells.extend([run.replication.to_string(), run.seed.to_string(), run.hash.clone()]);
            cells.extend(row.iter().cloned());
            raw.write_record(&cells).expect("writing to memory");

            let slot = match summaries[point_start..].iter().position(|s| s.strategy == row[0]) {
                Some(i) => point_start + i,
                None => {
                    summaries.push(PointSummary {
                        point: run.point,
                        strategy: row[0].clone(),
                        estimates: Vec::new(),
                    });
                    values.push(vec![Vec::new(); headline.len()]);
                    summaries.len() - 1
                }
            };
            for (m, &(name, column)) in headline.iter().enumerate() {
                let value: f64 = row[column].parse().map_err(|_| {
                    SweepError::Input(format!("{}: `{name}` is not a number: {}", path.display(), row[column]))
                })?;
                values[slot][m].push(value);
            }
        }
    }
    for (summary, values) in summaries.iter_mut().zip(&values) {
        summary.estimates = values.iter().map(|v| estimate(v)).collect();
    }
    Ok((raw.into_inner().expect("flushing to memory"), summaries))
}

/// `summary.csv`: per point and strategy, the mean, standard deviation and 95%
/// confidence interval of each headline metric.
fn summary_csv(plan: &Plan, summaries: &[PointSummary], headline: &[(&str, usize)]) -> Vec<u8> {
    let axes = &plan.sweep.axes;
    let mut table = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(axes.iter().map(|a| a.path.clone()));
    header.extend(["strategy", "replications"].map(String::from));
    for (name, _) in headline {
        header.extend(["mean", "sd", "ci95_low", "ci95_high"].map(|s| format!("{name}_{s}")));
    }
    table.write_record(&header).expect("writing to memory");
    for summary in summaries {
        let coordinates = plan.sweep.coordinates(summary.point);
        let mut cells = vec![summary.point.to_string()];
        cells.extend(coordinates.iter().zip(axes).map(|(&i, a)| a.label(i)));
        cells.push(summary.strategy.clone());
        cells.push(summary.estimates.first().map_or(0, |e| e.n).to_string());
        for e in &summary.estimates {
            let fixed = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
            cells.push(format!("{:.6}", e.mean));
            cells.push(fixed(e.sd));
            cells.push(fixed(e.ci95.map(|c| c.0)));
            cells.push(fixed(e.ci95.map(|c| c.1)));
        }
        table.write_record(&cells).expect("writing to memory");
    }
    table.into_inner().expect("flushing to memory")
}
