//! `aesim compare`: the same metrics of two or more results folders side by side, with
//! the differences, as one table (Markdown, or JSON) and, with `--out`, a report with
//! charts.
//!
//! Inputs are run folders (`summary.csv` with one row per strategy) or sweep folders
//! (`sweep.toml`, and `summary.csv` with means and 95% confidence intervals per grid
//! point and strategy); all inputs must be of one kind. Rows are matched by strategy
//! name (and, for sweeps, grid point). Runs over different key spaces or durations, or
//! sweeps over different grids, are not comparable: refused with a clear message unless
//! `force` is given.
//!
//! Reads only files, like `report`: it knows nothing of the simulation.

pub mod gate;

use crate::chart::{Axis, Figure, LegendEntry, Mark, Plot, Scale, Unit, escape, human};
use crate::html::{Cell, Table, figure, page};
use crate::output::{FolderKind, MANIFEST_FILE, Manifest};
use crate::report::data::Table as CsvTable;
use crate::report::{ReportError, write_pngs};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The metrics compared, in table order.
pub const METRICS: &[&str] = &[
    "keys_repaired",
    "divergent_at_end",
    "repair_p50_s",
    "repair_p99_s",
    "repair_max_s",
    "divergence_key_s",
    "mean_full_pass_s",
    "hashes_sent",
    "hash_bytes",
    "records_streamed",
    "records_overstreamed",
    "stream_bytes",
];

/// Metrics drawn in the comparison chart.
const CHARTED: &[&str] = &["repair_p50_s", "repair_p99_s", "hash_bytes", "stream_bytes"];

/// Whether the inputs are single runs or sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Run,
    Sweep,
}

/// One figure: a mean and, for sweeps, its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Value {
    pub mean: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<(f64, f64)>,
}

/// One results folder as read for a comparison.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Input {
    /// "A", "B", ...
    pub label: String,
    pub path: PathBuf,
    /// The scenario's name.
    pub scenario: String,
    #[serde(skip)]
    keys: String,
    #[serde(skip)]
    duration: String,
    #[serde(skip)]
    grid: String,
    #[serde(skip)]
    rows: Vec<(String, Vec<Option<Value>>)>,
}

/// One row of the comparison: a strategy (at a grid point) and a metric in every input.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    pub strategy: String,
    pub metric: String,
    pub unit: &'static str,
    /// One per input; `None` where the input has no such strategy.
    pub values: Vec<Option<Value>>,
    /// Each later input minus the first; for sweeps with the half-width of the 95%
    /// interval of the difference (the two intervals' half-widths added in quadrature).
    pub differences: Vec<Option<Value>>,
}

/// A whole comparison.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Comparison {
    pub kind: Kind,
    pub inputs: Vec<Input>,
    pub rows: Vec<Row>,
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "count",
        Unit::Bytes => "bytes",
        Unit::Seconds => "seconds",
        Unit::Ratio => "ratio",
    }
}

use crate::chart::units::column_unit as metric_unit;

/// A scenario echo's key space and duration, as written (for the comparability check).
fn scenario_facts(dir: &Path) -> Result<(String, String, String), ReportError> {
    let path = dir.join("scenario.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| ReportError::new(&path, e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ReportError::new(&path, e.message().to_string()))?;
    let name = table
        .get("name")
        .and_then(toml::Value::as_str)
        .unwrap_or("")
        .to_string();
    let keys = table
        .get("cluster")
        .and_then(|c| c.get("keys"))
        .map_or("?".to_string(), ToString::to_string);
    let duration = table
        .get("duration")
        .and_then(toml::Value::as_str)
        .map(|d| humantime::parse_duration(d.trim()).map_or(d.to_string(), |t| human(t.as_secs_f64(), Unit::Seconds)))
        .unwrap_or_else(|| "?".into());
    Ok((name, keys, duration))
}

/// Reads one results folder.
fn read_input(label: String, dir: &Path) -> Result<(Kind, Input), ReportError> {
    let sweep = dir.join("sweep.toml");
    let kind = if sweep.is_file() { Kind::Sweep } else { Kind::Run };
    let summary = CsvTable::read(&dir.join("summary.csv"))?;
    let (scenario, keys, duration) = scenario_facts(dir)?;
    let strategy = summary.require("strategy")?;
    let mut grid = String::new();
    let mut axis_columns = Vec::new();
    if kind == Kind::Sweep {
        let text = std::fs::read_to_string(&sweep).map_err(|e| ReportError::new(&sweep, e.to_string()))?;
        // The grid is every `[[axis]]` of the sweep record, as written.
        grid = text
            .lines()
            .filter(|l| l.starts_with("path") || l.starts_with("values"))
            .collect::<Vec<_>>()
            .join("\n");
        let point = summary.require("point")?;
        axis_columns = ((point + 1)..strategy).collect();
    }
    let mut rows = Vec::new();
    for row in 0..summary.rows.len() {
        let mut key = summary.text(row, strategy).to_string();
        if !axis_columns.is_empty() {
            let at: Vec<String> = axis_columns
                .iter()
                .map(|&c| {
                    let path = &summary.header[c];
                    format!("{}={}", path.rsplit('.').next().unwrap_or(path), summary.text(row, c))
                })
                .collect();
            key = format!("{key} @ {}", at.join(", "));
        }
        let mut values = Vec::new();
        for metric in METRICS {
            let value = match kind {
                Kind::Run => match summary.column(metric) {
                    Some(c) if !summary.text(row, c).is_empty() => Some(Value {
                        mean: summary.number(row, c)?,
                        ci95: None,
                    }),
                    _ => None,
                },
                Kind::Sweep => match summary.column(&format!("{metric}_mean")) {
                    Some(c) => {
                        let mean = summary.number(row, c)?;
                        let bound = |suffix: &str| -> Result<Option<f64>, ReportError> {
                            match summary.column(&format!("{metric}_{suffix}")) {
                                Some(c) if !summary.text(row, c).is_empty() => summary.number(row, c).map(Some),
                                _ => Ok(None),
                            }
                        };
                        let ci95 = bound("ci95_low")?.zip(bound("ci95_high")?);
                        Some(Value { mean, ci95 })
                    }
                    None => None,
                },
            };
            values.push(value);
        }
        rows.push((key, values));
    }
    Ok((
        kind,
        Input {
            label,
            path: dir.to_path_buf(),
            scenario,
            keys,
            duration,
            grid,
            rows,
        },
    ))
}

/// Reads `dirs` and compares them. Refuses inputs of mixed kinds always, and inputs
/// that are not comparable (key space, duration, sweep grid) unless `force`.
pub fn compare(dirs: &[PathBuf], force: bool) -> Result<Comparison, ReportError> {
    if dirs.len() < 2 {
        return Err(ReportError::new(
            Path::new("."),
            "compare needs at least two results folders",
        ));
    }
    let mut inputs = Vec::new();
    let mut kind = None;
    for (i, dir) in dirs.iter().enumerate() {
        let label = ((b'A' + (i % 26) as u8) as char).to_string();
        let (k, input) = read_input(label, dir)?;
        match kind {
            None => kind = Some(k),
            Some(first) if first != k => {
                return Err(ReportError::new(
                    dir,
                    format!(
                        "is a {} folder and {} a {} folder: compare runs with runs, sweeps with sweeps",
                        if k == Kind::Sweep { "sweep" } else { "run" },
                        dirs[0].display(),
                        if first == Kind::Sweep { "sweep" } else { "run" }
                    ),
                ));
            }
            Some(_) => {}
        }
        inputs.push(input);
    }
    let kind = kind.unwrap_or(Kind::Run);
    let first = &inputs[0];
    for other in &inputs[1..] {
        let mut reasons = Vec::new();
        if other.keys != first.keys {
            reasons.push(format!("key space {} vs {}", first.keys, other.keys));
        }
        if other.duration != first.duration {
            reasons.push(format!("duration {} vs {}", first.duration, other.duration));
        }
        if other.grid != first.grid {
            reasons.push("different sweep axes or values".to_string());
        }
        if !reasons.is_empty() && !force {
            return Err(ReportError::new(
                &other.path,
                format!(
                    "not comparable with {}: {}; totals and latencies would differ for that reason \
                     alone (pass --force to compare anyway)",
                    first.path.display(),
                    reasons.join(", ")
                ),
            ));
        }
    }
    // Strategies (and grid points) in order of first appearance across the inputs.
    let mut keys: Vec<String> = Vec::new();
    for input in &inputs {
        for (key, _) in &input.rows {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    let mut rows = Vec::new();
    for key in &keys {
        for (m, metric) in METRICS.iter().enumerate() {
            let values: Vec<Option<Value>> = inputs
                .iter()
                .map(|input| input.rows.iter().find(|(k, _)| k == key).and_then(|(_, v)| v[m]))
                .collect();
            if values.iter().all(Option::is_none) {
                continue;
            }
            let differences = values[1..]
                .iter()
                .map(|v| {
                    let (a, b) = (values[0]?, (*v)?);
                    let mean = b.mean - a.mean;
                    let half = |v: Value| v.ci95.map(|(lo, hi)| (hi - lo) / 2.0);
                    let ci95 = half(a).zip(half(b)).map(|(x, y)| {
                        let h = (x * x + y * y).sqrt();
                        (mean - h, mean + h)
                    });
                    Some(Value { mean, ci95 })
                })
                .collect();
            rows.push(Row {
                strategy: key.clone(),
                metric: metric.to_string(),
                unit: unit_name(metric_unit(metric)),
                values,
                differences,
            });
        }
    }
    Ok(Comparison { kind, inputs, rows })
}

/// A value as shown: human units, ± the interval's half-width for sweeps.
fn shown(value: Option<Value>, unit: Unit, signed: bool) -> String {
    let Some(v) = value else { return "-".into() };
    let sign = if signed && v.mean > 0.0 { "+" } else { "" };
    let mean = format!("{sign}{}", human(v.mean, unit));
    match v.ci95 {
        Some((lo, hi)) => format!("{mean} ± {}", human((hi - lo) / 2.0, unit)),
        None => mean,
    }
}

/// The ratio later / first, as text ("-" when undefined).
fn ratio(first: Option<Value>, later: Option<Value>) -> String {
    match (first, later) {
        (Some(a), Some(b)) if a.mean != 0.0 => format!("{:.2}x", b.mean / a.mean),
        (Some(a), Some(b)) if a.mean == 0.0 && b.mean == 0.0 => "=".into(),
        _ => "-".into(),
    }
}

impl Comparison {
    /// Headings and rows of the table, every cell as text (with its number for sorting).
    fn table(&self) -> Table {
        let mut headings = vec!["strategy".to_string(), "metric".to_string()];
        headings.extend(self.inputs.iter().map(|i| i.label.clone()));
        for input in &self.inputs[1..] {
            headings.push(format!("{} - A", input.label));
            headings.push(format!("{} / A", input.label));
            if self.kind == Kind::Sweep {
                headings.push(format!("{} vs A", input.label));
            }
        }
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let unit = metric_unit(&row.metric);
                let mut cells = vec![
                    Cell::text(row.strategy.clone()),
                    Cell::text(crate::chart::units::column_title(&row.metric)),
                ];
                for v in &row.values {
                    cells.push(Cell::number(shown(*v, unit, false), v.map_or(f64::NAN, |v| v.mean)));
                }
                for (i, d) in row.differences.iter().enumerate() {
                    cells.push(Cell::number(shown(*d, unit, true), d.map_or(f64::NAN, |v| v.mean)));
                    cells.push(Cell::text(ratio(row.values[0], row.values[i + 1])));
                    if self.kind == Kind::Sweep {
                        // Significant when the difference's interval excludes zero.
                        let verdict = match d.and_then(|d| d.ci95) {
                            Some((lo, _)) if lo > 0.0 => "higher",
                            Some((_, hi)) if hi < 0.0 => "lower",
                            Some(_) => "same (CI spans 0)",
                            None => "-",
                        };
                        cells.push(Cell::text(verdict));
                    }
                }
                cells
            })
            .collect();
        Table { headings, rows }
    }

    /// Which folder each label stands for, one line each.
    fn legend(&self) -> Vec<String> {
        self.inputs
            .iter()
            .map(|i| format!("{} = {} (scenario `{}`)", i.label, i.path.display(), i.scenario))
            .collect()
    }

    /// The comparison as Markdown: who is who, then the table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for line in self.legend() {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
        let table = self.table();
        let _ = writeln!(out, "| {} |", table.headings.join(" | "));
        let aligns: Vec<&str> = (0..table.headings.len())
            .map(|i| if i < 2 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "| {} |", aligns.join(" | "));
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|c| crate::report::escape_cell(&c.text)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if self.kind == Kind::Sweep {
            out.push_str(
                "\nSweep figures are means over replications ± the half-width of the 95% confidence \
                 interval; a difference's interval adds the two half-widths in quadrature (conservative \
                 under common random numbers).\n",
            );
        }
        out
    }

    /// The comparison as JSON (inputs, and every row with its values and differences).
    pub fn json(&self) -> String {
        let mut document = serde_json::Map::new();
        document.insert("schema_version".into(), crate::JSON_SCHEMA_VERSION.into());
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(fields)) => document.extend(fields),
            Ok(_) => {}
            Err(e) => return format!("{{\"error\": \"{e}\"}}\n"),
        }
        serde_json::to_string_pretty(&document).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
    }

    /// The comparison chart: for each charted metric, one bar per input for every
    /// strategy (the first 12 rows), on log scales.
    pub fn chart(&self) -> String {
        let mut panels = Vec::new();
        for metric in CHARTED {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.metric == *metric).take(12).collect();
            if rows.is_empty() {
                continue;
            }
            let unit = metric_unit(metric);
            let names: Vec<String> = rows.iter().map(|r| r.strategy.clone()).collect();
            let values = rows.iter().flat_map(|r| r.values.iter().flatten().map(|v| v.mean));
            let title = crate::chart::units::column_title(metric);
            let Some(scale) = Scale::log_covering(values) else {
                continue;
            };
            let start = scale.start();
            let mut plot = Plot::new(
                title.clone(),
                Axis::new(scale, unit, format!("{title} (log scale)")),
                Axis::new(Scale::Category(names), Unit::Count, ""),
            );
            let n = self.inputs.len();
            for (i, row) in rows.iter().enumerate() {
                let height = 0.8 / n as f64;
                for (j, v) in row.values.iter().enumerate() {
                    let Some(v) = v.filter(|v| v.mean > 0.0) else { continue };
                    let top = i as f64 - 0.4 + j as f64 * height;
                    plot.marks.push(Mark::Rect {
                        x0: start,
                        y0: top,
                        x1: v.mean,
                        y1: top + height * 0.9,
                        fill: crate::chart::series_color(j),
                    });
                    plot.marks.push(Mark::Label {
                        x: v.mean,
                        y: top + height * 0.45,
                        text: human(v.mean, unit),
                        left: false,
                    });
                }
            }
            plot.legend = self
                .inputs
                .iter()
                .enumerate()
                .map(|(j, input)| LegendEntry {
                    label: format!("{}: {}", input.label, input.scenario),
                    series: j,
                    line: false,
                })
                .collect();
            let height = 100 + (rows.len() * n * 16).max(60) as u32;
            panels.push((plot, height));
        }
        Figure {
            width_px: 960,
            title: Some(format!(
                "Comparison: {}",
                self.inputs
                    .iter()
                    .map(|i| i.label.as_str())
                    .collect::<Vec<_>>()
                    .join(" vs ")
            )),
            panels,
        }
        .to_svg()
    }

    /// The self-contained HTML page of the comparison.
    pub fn html(&self) -> String {
        let title = format!(
            "aesim compare: {}",
            self.inputs
                .iter()
                .map(|i| i.scenario.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        );
        let mut body = format!("<h1>{}</h1>\n<ul>\n", escape(&title));
        for line in self.legend() {
            body.push_str(&format!("<li>{}</li>\n", crate::html::inline_code(&line)));
        }
        body.push_str("</ul>\n<div class=\"scroll\">\n");
        body.push_str(&self.table().to_html());
        body.push_str("</div>\n");
        body.push_str(&figure(
            "Side by side",
            &self.chart(),
            "One bar per input for each strategy, log scales.",
        ));
        page(&title, &body)
    }

    /// Writes `report.md`, `report.html` and `charts/compare.svg` (and its PNG with
    /// `png`) into `out`.
    pub fn write(&self, out: &Path, png: bool) -> Result<Vec<PathBuf>, ReportError> {
        check_comparison_destination(out)?;
        let charts = out.join(crate::report::CHARTS_DIR);
        std::fs::create_dir_all(&charts).map_err(|e| ReportError::output(&charts, e.to_string()))?;
        let svg = self.chart();
        let md = format!(
            "# Comparison\n\n{}\n![Comparison](charts/compare.svg)\n",
            self.markdown()
        );
        let chart_name = format!("{}/compare.svg", crate::report::CHARTS_DIR);
        let mut files: Vec<(&str, Vec<u8>)> = vec![
            ("report.md", md.into_bytes()),
            ("report.html", self.html().into_bytes()),
            (chart_name.as_str(), svg.clone().into_bytes()),
        ];
        let manifest = Manifest::new(FolderKind::Comparison, files.iter().map(|f| f.0));
        files.push((MANIFEST_FILE, manifest.bytes()));
        crate::output::write_all_atomic(out, &files).map_err(|e| ReportError::output(out, e.to_string()))?;
        let mut written: Vec<PathBuf> = files.iter().map(|(name, _)| out.join(name)).collect();
        if png {
            written.extend(write_pngs(&charts, &[("compare.svg".to_string(), svg.as_str())])?);
        }
        Ok(written)
    }
}

/// Refuses to write a comparison into `out` when it holds a run's or a sweep's results
/// (their report is theirs: `aesim report` restores a run's, nothing a sweep's) or a
/// report aesim did not write: a folder holds one thing's outputs.
fn check_comparison_destination(out: &Path) -> Result<(), ReportError> {
    let refuse = |why: String| {
        ReportError::new(
            out,
            format!("{why}\n  = hint: give --out a new folder (or one holding an earlier comparison)"),
        )
    };
    let previous = Manifest::of_folder(out).map_err(|e| ReportError::new(out, e))?;
    if let Some(kind) = previous
        .as_ref()
        .map(|m| m.kind)
        .filter(|k| *k != FolderKind::Comparison)
    {
        return Err(refuse(format!(
            "refusing to write a comparison into a {}'s results folder",
            kind.name()
        )));
    }
    if let Some(file) = ["summary.csv", "raw.csv", "run.toml", crate::sweep::SWEEP_FILE]
        .iter()
        .find(|f| out.join(f).exists())
    {
        return Err(refuse(format!(
            "refusing to write a comparison beside results ({file})"
        )));
    }
    let names = ["report.md", "report.html", "charts/compare.svg", "charts/compare.png"];
    crate::output::refuse_unowned(out, previous.as_ref(), names).map_err(|e| ReportError::new(out, e))
}
