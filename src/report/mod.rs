//! Design-review reports: `report.md` and the charts under `charts/`, rendered from a
//! results folder's files alone.
//!
//! `aesim run` writes its CSV files and then calls [`render`] on the folder, exactly as
//! `aesim report DIR` does later, so a report re-rendered from the CSV files is the
//! report the run produced, byte for byte. Reading is [`data`], drawing is [`charts`];
//! this module composes the Markdown. [`render_files`] renders in memory (what
//! `aesim run` stages with its CSV files, publishing all of them at once); [`render`]
//! writes a folder's report and charts together, all or nothing, through
//! [`crate::output::atomic::write_all_atomic`]. It knows nothing of the simulation.

pub mod charts;
pub mod data;
pub mod headline;
mod paths;
mod ring;

use crate::output::atomic::write_atomic;
use charts::Chart;
use data::{Folder, RunData};
use std::fmt;
use std::path::{Path, PathBuf};

/// Folder of the charts inside a results folder.
pub const CHARTS_DIR: &str = "charts";
/// The report's file name inside a results folder.
pub const REPORT_FILE: &str = "report.md";
/// The self-contained HTML page inside a results folder.
pub const HTML_FILE: &str = "report.html";

/// A results folder could not be read or the report could not be written; names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    pub path: PathBuf,
    pub message: String,
    /// True when the folder's files are missing or malformed (bad input), false when
    /// drawing or writing failed.
    pub bad_input: bool,
}

impl ReportError {
    /// A file of the results folder is missing or malformed.
    pub fn new(path: &Path, message: impl Into<String>) -> ReportError {
        ReportError {
            path: path.to_path_buf(),
            message: message.into(),
            bad_input: true,
        }
    }

    /// A chart could not be drawn or a file could not be written.
    pub fn output(path: &Path, message: impl Into<String>) -> ReportError {
        ReportError {
            bad_input: false,
            ..ReportError::new(path, message)
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ReportError {}

/// What [`render`] wrote, relative to the results folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `report.md` and every chart, e.g. `charts/cost.svg`.
    pub files: Vec<PathBuf>,
}

/// Reads the results folder `dir`, renders every chart and the report, and writes them
/// into `dir` (`report.md`, `charts/*.svg`) as one unit, all or nothing. A chart the
/// data no longer supports is removed, so a re-render never leaves a stale picture behind.
pub fn render(dir: &Path) -> Result<Rendered, ReportError> {
    render_with(dir, &Options::default())
}

/// What [`render_with`] adds to the committed outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Options {
    /// Also write `charts/*.png` (rendered in-process from the SVGs; see
    /// [`crate::chart::png`]). Off by default: PNGs are for slides, made on request, and
    /// not kept in `results/`.
    pub png: bool,
}

/// Writes every chart's PNG beside its SVG (`charts/NAME.png`), at twice the SVG's size.
pub fn write_pngs(charts_dir: &Path, charts: &[(String, &str)]) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for (file, svg) in charts {
        let png_name = format!("{}.png", file.trim_end_matches(".svg"));
        let path = charts_dir.join(&png_name);
        let bytes = crate::chart::png::render(svg, 2.0).map_err(|e| ReportError::output(&path, e))?;
        write_atomic(&path, &bytes).map_err(|e| ReportError::output(&path, e.to_string()))?;
        files.push(path);
    }
    Ok(files)
}

/// Writes a PNG beside every `charts/*.svg` of `dir` (any results folder: a run, a sweep
/// or a comparison), in file-name order. Returns the files written.
pub fn pngs_of_folder(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let charts_dir = dir.join(CHARTS_DIR);
    let entries = std::fs::read_dir(&charts_dir).map_err(|e| ReportError::new(&charts_dir, e.to_string()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    names.sort();
    let mut svgs = Vec::new();
    for name in names {
        let path = charts_dir.join(&name);
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::new(&path, e.to_string()))?;
        svgs.push((name, text));
    }
    let refs: Vec<(String, &str)> = svgs.iter().map(|(n, t)| (n.clone(), t.as_str())).collect();
    write_pngs(&charts_dir, &refs)
}

/// `aesim report` on a sweep's folder: its report is rewritten with its aggregates (by
/// `aesim run scenario.toml --out DIR`, which reruns nothing already done); with `png`,
/// its charts are rendered to PNG here.
pub fn sweep_folder(dir: &Path, png: bool) -> Result<String, ReportError> {
    let hint = "a sweep's report.md and report.html are rewritten with its aggregates: \
                `aesim run scenario.toml --out .` in the folder reruns nothing already done";
    if png {
        let files = pngs_of_folder(dir)?;
        Ok(format!("wrote {} PNG charts; {hint}", files.len()))
    } else {
        Ok(hint.to_string())
    }
}

/// The headline of the run in `dir` (per strategy in human units, then the caveats), as
/// the terminal shows it at the top of `aesim run`'s output.
pub fn terminal_headline(dir: &Path) -> Result<String, ReportError> {
    let data = RunData::read(dir)?;
    Ok(headline::headline(&data)?.to_terminal())
}

/// A results folder's `summary.csv` as JSON: `{"schema_version": 1, "results": DIR, "scenario": NAME,
/// "seed": N, "kind": "run"|"sweep", "rows": [{column: value, ...}, ...]}` with every
/// column of the file, numbers as JSON numbers (an empty cell is `null`).
pub fn summary_json(dir: &Path) -> Result<String, ReportError> {
    let table = data::Table::read(&dir.join("summary.csv"))?;
    let rows: Vec<serde_json::Value> = (0..table.rows.len())
        .map(|row| {
            let fields = table.header.iter().enumerate().map(|(col, name)| {
                let text = table.text(row, col);
                let value = if text.is_empty() {
                    serde_json::Value::Null
                } else {
                    // Integers stay integers (counts); other figures are floats.
                    let number = match text.parse::<i64>() {
                        Ok(i) => Some(serde_json::Number::from(i)),
                        Err(_) => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64),
                    };
                    match number {
                        Some(n) if name != "strategy" => serde_json::Value::Number(n),
                        _ => serde_json::Value::String(text.to_string()),
                    }
                };
                (name.clone(), value)
            });
            serde_json::Value::Object(fields.collect())
        })
        .collect();
    let echo = std::fs::read_to_string(dir.join("scenario.toml")).unwrap_or_default();
    let scenario = echo
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("name").and_then(toml::Value::as_str).map(str::to_string));
    let seed = std::fs::read_to_string(dir.join("run.toml")).ok().and_then(|text| {
        text.lines()
            .filter_map(|l| l.strip_prefix("seed"))
            .filter_map(|r| r.trim_start().strip_prefix('='))
            .find_map(|v| v.trim().parse::<u64>().ok())
    });
    let kind = if dir.join("sweep.toml").is_file() {
        "sweep"
    } else {
        "run"
    };
    let value = serde_json::json!({
        "schema_version": crate::JSON_SCHEMA_VERSION,
        "results": dir.display().to_string(),
        "scenario": scenario,
        "seed": seed,
        "kind": kind,
        "rows": rows,
    });
    serde_json::to_string_pretty(&value)
        .map(|t| t + "\n")
        .map_err(|e| ReportError::output(dir, e.to_string()))
}

/// [`render`], with [`Options`].
pub fn render_with(dir: &Path, options: &Options) -> Result<Rendered, ReportError> {
    let files = render_files(Folder { dir, staged: &[] })?;
    let staged: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.clone()))
        .collect();
    let charts_dir = dir.join(CHARTS_DIR);
    std::fs::create_dir_all(&charts_dir).map_err(|e| ReportError::output(&charts_dir, e.to_string()))?;
    crate::output::atomic::write_all_atomic(dir, &staged).map_err(|e| ReportError::output(dir, e.to_string()))?;
    remove_stale_charts(dir, &files)?;
    let mut written: Vec<PathBuf> = files.iter().map(|(name, _)| PathBuf::from(name)).collect();
    if options.png {
        let svgs: Vec<(String, &str)> = files
            .iter()
            .filter_map(|(name, bytes)| {
                let file = name.strip_prefix(&format!("{CHARTS_DIR}/"))?;
                Some((file.to_string(), std::str::from_utf8(bytes).ok()?))
            })
            .collect();
        for path in write_pngs(&charts_dir, &svgs)? {
            written.push(path.strip_prefix(dir).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(Rendered { files: written })
}

/// Renders the report and every chart of the results in `folder` without writing
/// anything: (path relative to the folder, contents), `report.md` and `report.html` first.
pub fn render_files(folder: Folder) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let data = RunData::read_from(folder)?;
    let mut charts =
        charts::render_all(&data).map_err(|e| ReportError::output(folder.dir, format!("cannot draw a chart: {e}")))?;
    let ring = ring::section(folder, &data.summary)?;
    let zombies = if folder.has(crate::output::names::RESURRECTIONS_FILE) {
        Some(folder.table(crate::output::names::RESURRECTIONS_FILE)?)
    } else {
        None
    };
    let paths = paths::section(&data, zombies.as_ref())?;
    if let Some(section) = &paths {
        charts.push(paths::chart(section, &data.strategies));
    }
    let sections = Sections {
        ring: ring.as_ref(),
        paths: paths.as_ref(),
    };
    let mut files = vec![
        (
            REPORT_FILE.to_string(),
            markdown(&data, &charts, sections)?.into_bytes(),
        ),
        (HTML_FILE.to_string(), html(&data, &charts, sections)?.into_bytes()),
    ];
    for chart in &charts {
        files.push((format!("{CHARTS_DIR}/{}", chart.file), chart.svg.clone().into_bytes()));
    }
    Ok(files)
}

/// Charts drawn only for some data: removed when `files` (a fresh render) lacks them.
const OPTIONAL_CHARTS: &[&str] = &["live-vs-scheduled.svg", "repair-paths.svg"];

/// The report's sections that only some folders have.
#[derive(Clone, Copy)]
struct Sections<'a> {
    ring: Option<&'a ring::RingSection>,
    paths: Option<&'a paths::PathsSection>,
}

/// Removes the optional charts of `dir` that the fresh render `files` did not draw.
pub fn remove_stale_charts(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), ReportError> {
    for chart in OPTIONAL_CHARTS {
        let name = format!("{CHARTS_DIR}/{chart}");
        if files.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let stale = dir.join(CHARTS_DIR).join(chart);
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ReportError::output(&stale, e.to_string()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Seconds as written in the CSV files (six decimals) cut to milliseconds for reading.
fn millis_text(secs: &str) -> String {
    match secs.split_once('.') {
        Some((whole, frac)) if frac.len() > 3 => format!("{whole}.{}", &frac[..3]),
        _ => secs.to_string(),
    }
}

/// A column of the comparison table: heading, the `summary.csv` column, and whether it is
/// seconds (cut to milliseconds).
struct Column {
    heading: &'static str,
    source: &'static str,
    seconds: bool,
}

const TABLE: &[Column] = &[
    Column {
        heading: "repaired",
        source: "keys_repaired",
        seconds: false,
    },
    Column {
        heading: "unrepaired",
        source: "divergent_at_end",
        seconds: false,
    },
    Column {
        heading: "p50 s",
        source: "repair_p50_s",
        seconds: true,
    },
    Column {
        heading: "p99 s",
        source: "repair_p99_s",
        seconds: true,
    },
    Column {
        heading: "max s",
        source: "repair_max_s",
        seconds: true,
    },
    Column {
        heading: "p50 censored s",
        source: "repair_km_p50_s",
        seconds: true,
    },
    Column {
        heading: "p99 censored s",
        source: "repair_km_p99_s",
        seconds: true,
    },
    Column {
        heading: "divergence key-s",
        source: "divergence_key_s",
        seconds: true,
    },
    Column {
        heading: "peak divergent",
        source: "divergent_peak",
        seconds: false,
    },
    Column {
        heading: "hashes",
        source: "hashes_sent",
        seconds: false,
    },
    Column {
        heading: "hash bytes",
        source: "hash_bytes",
        seconds: false,
    },
    Column {
        heading: "records streamed",
        source: "records_streamed",
        seconds: false,
    },
    Column {
        heading: "needed",
        source: "records_needed",
        seconds: false,
    },
    Column {
        heading: "overstream",
        source: "records_overstreamed",
        seconds: false,
    },
    Column {
        heading: "keys scanned",
        source: "keys_scanned",
        seconds: false,
    },
    Column {
        heading: "scan core-s",
        source: "scan_core_s",
        seconds: true,
    },
    Column {
        heading: "mean pass s",
        source: "mean_full_pass_s",
        seconds: true,
    },
    Column {
        heading: "write-path hash s",
        source: "write_path_hash_s",
        seconds: true,
    },
    Column {
        heading: "write-path hash ops",
        source: "write_path_hash_ops",
        seconds: false,
    },
];

/// A table cell: its text, and its number when it is one (HTML sorts by it).
type TableCell = (String, Option<f64>);
/// A table's headings and rows.
type Rows = (Vec<String>, Vec<Vec<TableCell>>);

/// The comparison table: headings, and per strategy its cells (text as shown, and the
/// number when the cell is one).
/// Every column of [`TABLE`] must be in `summary.csv`: a missing one is an error naming
/// it, never a silently shorter table.
fn comparison_rows(data: &RunData) -> Result<Rows, ReportError> {
    let columns: Vec<(&Column, usize)> = TABLE
        .iter()
        .map(|c| data.summary.require(c.source).map(|i| (c, i)))
        .collect::<Result<_, _>>()?;
    let headings = std::iter::once("strategy".to_string())
        .chain(columns.iter().map(|(c, _)| c.heading.to_string()))
        .collect();
    let repaired = data.summary.column("keys_repaired");
    let rows = data
        .strategies
        .iter()
        .enumerate()
        .map(|(row, name)| {
            // Latency percentiles of a strategy that repaired nothing are not zero but absent.
            let none_repaired = repaired.is_some_and(|col| data.summary.text(row, col) == "0");
            let cells = columns.iter().map(|(c, i)| {
                let text = data.summary.text(row, *i);
                let number = text.parse::<f64>().ok();
                if none_repaired && c.source.starts_with("repair_") {
                    ("-".to_string(), None)
                } else if text.is_empty() && c.source.starts_with("repair_km_") {
                    // The censored estimate lies beyond the longest repair the run saw.
                    ("n/e".to_string(), None)
                } else if c.seconds {
                    (millis_text(text), number)
                } else {
                    (text.to_string(), number)
                }
            });
            std::iter::once((name.clone(), None)).chain(cells).collect()
        })
        .collect();
    Ok((headings, rows))
}

/// The comparison table in Markdown: one row per strategy, the columns `summary.csv` has.
fn comparison_table(data: &RunData) -> Result<String, ReportError> {
    let (headings, rows) = comparison_rows(data)?;
    Ok(markdown_table(
        headings,
        rows.into_iter().map(|r| r.into_iter().map(|(text, _)| text).collect()),
    ))
}

/// Rows of text cells as sortable HTML cells (figures sort by their value).
fn html_table(headings: Vec<String>, rows: Vec<Vec<TableCell>>) -> crate::html::Table {
    crate::html::Table {
        headings,
        rows: rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|(text, number)| match number {
                        Some(v) => crate::html::Cell::number(text, v),
                        None => crate::html::Cell::text(text),
                    })
                    .collect()
            })
            .collect(),
    }
}

/// A Markdown table: the first column left-aligned (names), the others right-aligned
/// (figures); every body cell escaped.
fn markdown_table(headings: Vec<String>, rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = String::from("|");
    for heading in &headings {
        out.push_str(&format!(" {heading} |"));
    }
    out.push_str("\n| --- |");
    out.push_str(&" ---: |".repeat(headings.len().saturating_sub(1)));
    out.push('\n');
    for row in rows {
        out.push('|');
        for cell in &row {
            out.push_str(&format!(" {} |", escape_cell(cell)));
        }
        out.push('\n');
    }
    out
}

/// Keeps a table cell in its column (a `|` in a strategy name would split it) and shows
/// its text as written: see [`markdown_text`].
pub(crate) fn escape_cell(text: &str) -> String {
    markdown_text(text).replace('|', "\\|")
}

/// User text (a strategy's name, a scenario's description) as Markdown that shows it
/// as written: `<` and `>` become entities, so raw HTML in a name (`<script>`, `<img
/// onerror=...>`) is never passed through by a Markdown renderer into a page.
pub fn markdown_text(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

/// How to read the comparison table (Markdown emphasis; the HTML page shows it plain).
const TABLE_NOTE: &str = "*repaired*: divergent keys anti-entropy repaired; *unrepaired*: still divergent when the \
     run ended; *p50/p99/max*: repair latency of the repaired keys, from divergence to \
     agreement (from an HDR histogram with 3 significant digits); *p50/p99 censored*: the \
     Kaplan-Meier estimate over every episode, counting each key still divergent at the end \
     as waiting at least its age (*n/e*: not estimable, later than the longest repair the \
     run saw), the figure to compare when strategies leave keys unrepaired; *divergence \
     key-s*: divergent keys integrated over time; *peak divergent*: the most keys divergent \
     at once (exact, not sampled); *hashes*, *hash bytes*, *records streamed*: both \
     directions; *needed*: streamed records the receiver lacked; *overstream* = streamed - \
     needed; *scan core-s*: core time tree builds spent scanning; *write-path hash s*: \
     what live trees spend hashing on every write. Every column is in `summary.csv`.";

/// How to read the faults table.
const FAULTS_NOTE: &str = "What each modelled fault did, per strategy. *writes redirected*: client writes \
     whose node was down, applied by the next node up; *lost to crash* / *lost to \
     partition*: replication messages lost to them, and *repaired after*: the stale \
     records anti-entropy repaired; *partition heal max s*: the longest a partition's \
     divergence took to heal after it ended (*unhealed*: not by the end of the run); \
     *sessions aborted*: anti-entropy sessions a crash or partition cut (restarted \
     later); *bitrot skipped*: rot drawn on the only copy of a version, not applied. \
     Every column is in `faults.csv`.";

/// Which strategies are real systems' presets, and where their defaults are cited.
fn presets_line(data: &RunData) -> Option<String> {
    if data.presets.is_empty() {
        return None;
    }
    let each: Vec<String> = data
        .presets
        .iter()
        .map(|(strategy, preset)| format!("*{strategy}* is preset `{preset}`"))
        .collect();
    Some(format!(
        "Presets: {} (their defaults and sources: `scenarios/presets/<preset>.toml`).",
        each.join(", ")
    ))
}

/// The report as a self-contained HTML page (`report.html`): the same sections as
/// `report.md`, charts inline, tables sortable.
fn html(data: &RunData, charts: &[Chart], sections: Sections) -> Result<String, ReportError> {
    let ring = sections.ring;
    use crate::chart::escape;
    use crate::html::{figure, inline_code, page};
    let plain = |text: &str| inline_code(&text.replace('*', ""));
    let title = if data.name.is_empty() { "aesim run" } else { &data.name };
    let mut body = format!("<h1>{}</h1>\n", escape(title));
    if !data.description.is_empty() {
        body.push_str(&format!("<p>{}</p>\n", escape(&data.description)));
    }
    body.push_str(&headline::headline(data)?.to_html());
    if !data.about.is_empty() {
        body.push_str("<h2>About this scenario</h2>\n");
        for paragraph in &data.about {
            body.push_str(&format!("<p>{}</p>\n", escape(paragraph)));
        }
    }
    if let Some(seed) = data.seed {
        body.push_str(&format!(
            "<p>Seed {seed}. Reproduce from this folder with <code>aesim run scenario.toml --seed {seed} --out .</code>; \
             re-render this report with <code>aesim report .</code>.</p>\n"
        ));
    }
    if let Some(line) = presets_line(data) {
        body.push_str(&format!("<p>{}</p>\n", plain(&line)));
    }
    body.push_str("<h2>Comparison</h2>\n<div class=\"scroll\">\n");
    let (headings, rows) = comparison_rows(data)?;
    body.push_str(&html_table(headings, rows).to_html());
    body.push_str(&format!("</div>\n<p>{}</p>\n", plain(TABLE_NOTE)));
    if let Some(faults) = &data.faults {
        body.push_str("<h2>Faults</h2>\n<div class=\"scroll\">\n");
        let (headings, rows) = faults_rows(faults);
        body.push_str(&html_table(headings, rows).to_html());
        body.push_str(&format!("</div>\n<p>{}</p>\n", plain(FAULTS_NOTE)));
    }
    if let Some(section) = sections.paths {
        body.push_str("<h2>Repair paths</h2>\n<div class=\"scroll\">\n");
        let rows = section
            .rows
            .iter()
            .map(|r| r.iter().map(|text| (text.clone(), text.parse::<f64>().ok())).collect());
        body.push_str(&html_table(section.headings.clone(), rows.collect()).to_html());
        body.push_str(&format!("</div>\n<p>{}</p>\n", plain(paths::NOTE)));
        for line in &section.resurrections {
            body.push_str(&format!("<p>{}</p>\n", plain(line)));
        }
    }
    if let Some(ring) = ring {
        body.push_str(&format!(
            "<h2>Ring</h2>\n<p>{}</p>\n<div class=\"scroll\">\n",
            escape(&ring.intro)
        ));
        let rows = ring
            .rows
            .iter()
            .map(|r| r.iter().map(|text| (text.clone(), text.parse::<f64>().ok())).collect());
        body.push_str(&html_table(ring.headings.clone(), rows.collect()).to_html());
        body.push_str(&format!("</div>\n<p>{}</p>\n", plain(&ring.note)));
    }
    body.push_str("<h2>Charts</h2>\n");
    for chart in charts {
        body.push_str(&figure(chart.title, &chart.svg, &chart.caption));
    }
    Ok(page(title, &body))
}

/// The whole report: the scenario, the comparison table, every chart with its caption.
fn markdown(data: &RunData, charts: &[Chart], sections: Sections) -> Result<String, ReportError> {
    let ring = sections.ring;
    let mut out = String::new();
    let title = if data.name.is_empty() { "aesim run" } else { &data.name };
    out.push_str(&format!("# {title}\n\n"));
    if !data.description.is_empty() {
        out.push_str(&format!("{}\n\n", markdown_text(&data.description)));
    }
    out.push_str(&headline::headline(data)?.to_markdown());
    if !data.about.is_empty() {
        out.push_str("## About this scenario\n\n");
        for paragraph in &data.about {
            out.push_str(&format!("{paragraph}\n\n"));
        }
    }
    if let Some(seed) = data.seed {
        out.push_str(&format!(
            "Seed {seed}. Reproduce from this folder with `aesim run scenario.toml --seed {seed} --out .`; \
             re-render this report and its charts from the CSV files with `aesim report .`.\n\n"
        ));
    }
    if let Some(line) = presets_line(data) {
        out.push_str(&format!("{line}\n\n"));
    }
    let writes = data.summary_number(0, "writes").ok().flatten();
    let lost = data.summary_number(0, "lost_messages").ok().flatten();
    if let (Some(writes), Some(lost)) = (writes, lost) {
        out.push_str(&format!(
            "Every strategy saw the same {writes} client writes and the same {lost} lost replication \
             messages.\n\n"
        ));
    }
    out.push_str("## Comparison\n\n");
    out.push_str(&comparison_table(data)?);
    out.push_str(&format!("\n{TABLE_NOTE}\n\n"));
    if let Some(faults) = &data.faults {
        out.push_str("## Faults\n\n");
        out.push_str(&faults_table(faults));
        out.push_str(&format!("\n{FAULTS_NOTE}\n\n"));
    }
    if let Some(section) = sections.paths {
        out.push_str(&section.to_markdown());
    }
    if let Some(ring) = ring {
        out.push_str(&ring.to_markdown());
    }
    out.push_str("## Charts\n\n");
    for chart in charts {
        out.push_str(&format!(
            "### {}\n\n![{}]({}/{})\n\n{}\n\n",
            chart.title, chart.title, CHARTS_DIR, chart.file, chart.caption
        ));
    }
    if !charts.iter().any(|c| c.file == "live-vs-scheduled.svg") {
        out.push_str(
            "(No strategy in this run reports a write-path cost, so the live-tree vs \
             scheduled-rebuild chart is left out.)\n\n",
        );
    }
    out.push_str(
        "## Files\n\n`summary.csv` (one row per strategy), `timeseries.csv`, `latency.csv`, \
         `staleness.csv`, ",
    );
    if data.faults.is_some() {
        out.push_str("`faults.csv`, ");
    }
    if ring.is_some() {
        out.push_str("`nodes.csv`, `ranges.csv`, ");
    }
    out.push_str("`scenario.toml` (the scenario as run), `run.toml` (the seed).\n");
    Ok(out)
}

/// `faults.csv`'s headings in words and its cells (seconds cut to milliseconds).
fn faults_rows(faults: &data::Table) -> Rows {
    let heading = |name: &str| {
        name.strip_suffix("_s")
            .map_or(name.replace('_', " "), |n| format!("{} s", n.replace('_', " ")))
    };
    let rows = (0..faults.rows.len())
        .map(|row| {
            faults
                .header
                .iter()
                .enumerate()
                .map(|(col, name)| {
                    let text = faults.text(row, col);
                    let number = if col == 0 { None } else { text.parse::<f64>().ok() };
                    if name.ends_with("_s") {
                        (millis_text(text), number)
                    } else {
                        (text.to_string(), number)
                    }
                })
                .collect()
        })
        .collect();
    (faults.header.iter().map(|name| heading(name)).collect(), rows)
}

/// `faults.csv` as a Markdown table: every column, headed by its name in words
/// (seconds cut to milliseconds).
fn faults_table(faults: &data::Table) -> String {
    let (headings, rows) = faults_rows(faults);
    markdown_table(
        headings,
        rows.into_iter().map(|r| r.into_iter().map(|(text, _)| text).collect()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_cut_to_milliseconds_as_text() {
        assert_eq!(millis_text("14.461234"), "14.461");
        assert_eq!(millis_text("0.000000"), "0.000");
        assert_eq!(millis_text("7"), "7");
    }

    #[test]
    fn a_pipe_in_a_name_stays_in_its_cell() {
        assert_eq!(escape_cell("a|b"), "a\\|b");
    }
}
