//! Reading a results folder back: the CSV files and the scenario echo that `aesim run`
//! wrote, turned into typed series for the charts and the report.
//!
//! Columns are looked up by name, so a file with extra columns (a newer aesim) still
//! reads; a missing column, a malformed number or a file that cannot be read is an
//! error naming the file, the line and the column. Nothing here panics on bad input.
//! Strategies keep the order of `summary.csv` (the scenario's order); no hash map
//! decides any order.

use super::ReportError;
use std::path::{Path, PathBuf};

/// A CSV file held as text: its header and rows, with the path for error messages.
#[derive(Clone, Debug)]
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads the CSV file at `path`; every row must have as many fields as the header.
    pub fn read(path: &Path) -> Result<Table, ReportError> {
        let bytes = std::fs::read(path).map_err(|e| ReportError::new(path, e.to_string()))?;
        Table::parse(path, &bytes)
    }

    /// Parses CSV `bytes`, naming `path` in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Table, ReportError> {
        let fail = |message: String| ReportError::new(path, message);
        let mut reader = csv::Reader::from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| fail(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| fail(e.to_string()))?;
            rows.push(record.iter().map(str::to_string).collect());
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// Index of the column named `name`, if the file has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Index of the column named `name`, or an error naming the file and the column.
    pub fn require(&self, name: &str) -> Result<usize, ReportError> {
        self.column(name).ok_or_else(|| {
            ReportError::new(
                &self.path,
                format!("no column `{name}` (truncated, or written by another version of aesim: rerun the scenario)"),
            )
        })
    }

    /// The text of row `row`, column `col` (0 based, header excluded).
    /// Empty when the row or the column does not exist.
    pub fn text(&self, row: usize, col: usize) -> &str {
        self.rows.get(row).and_then(|r| r.get(col)).map_or("", String::as_str)
    }

    /// The number in row `row`, column `col`; an error names the file, line and column.
    pub fn number(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        let text = self.text(row, col);
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(ReportError::new(
                &self.path,
                format!(
                    "line {}, column `{}`: expected a number, got \"{text}\"",
                    row + 2,
                    self.header.get(col).map_or("?", String::as_str)
                ),
            )),
        }
    }
}

/// Where a results folder's files are read from: files staged in memory (what
/// `aesim run` is about to publish, so that it renders the report before writing
/// anything), else the folder itself. Errors always name the file's path in the folder.
#[derive(Clone, Copy, Debug)]
pub struct Folder<'a> {
    pub dir: &'a Path,
    pub staged: &'a [(&'a str, Vec<u8>)],
}

impl Folder<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn staged(&self, name: &str) -> Option<&[u8]> {
        self.staged.iter().find(|(n, _)| *n == name).map(|(_, b)| b.as_slice())
    }

    /// Whether the folder has file `name`. While a run's files are staged, only they
    /// count: a file left on disk by an earlier run (replaced with --force) is stale.
    pub(super) fn has(&self, name: &str) -> bool {
        if self.staged.is_empty() {
            self.path(name).exists()
        } else {
            self.staged(name).is_some()
        }
    }

    pub(super) fn table(&self, name: &str) -> Result<Table, ReportError> {
        match self.staged(name) {
            Some(bytes) => Table::parse(&self.path(name), bytes),
            None => Table::read(&self.path(name)),
        }
    }

    fn text(&self, name: &str) -> Result<String, ReportError> {
        let path = self.path(name);
        let bytes = match self.staged(name) {
            Some(bytes) => bytes.to_vec(),
            None => std::fs::read(&path).map_err(|e| ReportError::new(&path, e.to_string()))?,
        };
        String::from_utf8(bytes).map_err(|_| ReportError::new(&path, "not UTF-8 text"))
    }
}

/// One strategy's time series (`timeseries.csv`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub time_s: Vec<f64>,
    pub divergent_keys: Vec<f64>,
    /// Cores busy and sessions in flight: the time-weighted mean over the interval
    /// ending at each sample (the value at the sample in folders written before the
    /// means existed).
    pub cores_busy: Vec<f64>,
    pub sessions_running: Vec<f64>,
}

/// One strategy's repair-latency quantiles (`latency.csv`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyCurve {
    /// Repairs the quantiles summarise (0: no key was repaired).
    pub samples: u64,
    /// (quantile in 0..=1, latency in seconds), in file order.
    pub points: Vec<(f64, f64)>,
    /// Keys still divergent at the end of the run: censored observations.
    pub open_at_end: u64,
    /// The censored (Kaplan-Meier) estimate over every episode, open keys included:
    /// (quantile, latency in seconds) where the run could estimate it.
    pub censored: Vec<(f64, f64)>,
}

/// One strategy's divergent keys per key-space slice per sample (`staleness.csv`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StalenessGrid {
    /// Sample instants, in file order.
    pub time_s: Vec<f64>,
    /// Number of key-space slices (the largest bucket index + 1).
    pub buckets: usize,
    /// `counts[sample][bucket]`: divergent keys in that slice at that instant.
    pub counts: Vec<Vec<u64>>,
    /// Size of the key space (the largest `key_end`).
    pub key_count: u64,
}

/// Everything a results folder holds that the report shows.
#[derive(Clone, Debug)]
pub struct RunData {
    pub dir: PathBuf,
    pub name: String,
    pub description: String,
    /// The scenario file's opening comment, by paragraph: what the scenario asks and
    /// shows, in its author's words (empty when it has none).
    pub about: Vec<String>,
    /// When client writes stop (`workload.stop_at`), if the scenario says.
    pub writes_stop_s: Option<f64>,
    pub seed: Option<u64>,
    /// Strategy names in `summary.csv` order; every per-strategy vector follows it.
    pub strategies: Vec<String>,
    pub summary: Table,
    pub series: Vec<Series>,
    pub latency: Vec<LatencyCurve>,
    pub staleness: Vec<StalenessGrid>,
    /// `faults.csv`, when the scenario modelled faults (one row per strategy).
    pub faults: Option<Table>,
    /// (strategy, preset) for each strategy built from a preset, in file order.
    pub presets: Vec<(String, String)>,
    /// The optional tables the scenario had (for the headline's caveats).
    pub configured: Configured,
    /// The run's virtual duration, from the scenario echo (0 if it does not parse).
    pub duration_s: f64,
}

impl RunData {
    /// Reads the results folder `dir` written by `aesim run`.
    pub fn read(dir: &Path) -> Result<RunData, ReportError> {
        RunData::read_from(Folder { dir, staged: &[] })
    }

    /// Reads a results folder whose files may be staged in memory (see [`Folder`]).
    pub fn read_from(folder: Folder) -> Result<RunData, ReportError> {
        let dir = folder.dir;
        let summary = folder.table("summary.csv")?;
        let name_col = summary.require("strategy")?;
        let strategies: Vec<String> = (0..summary.rows.len())
            .map(|row| summary.text(row, name_col).to_string())
            .collect();
        // Every other column is a figure (or empty: nothing measured, e.g. the hot-key
        // latency of a workload without a hotspot): check them all now, so drawing cannot
        // fail on one.
        for row in 0..summary.rows.len() {
            for col in (0..summary.header.len()).filter(|&c| c != name_col) {
                if !summary.text(row, col).is_empty() {
                    summary.number(row, col)?;
                }
            }
        }
        let (name, description, writes_stop_s, presets) = scenario_text(&folder, "scenario.toml")?;
        let about = opening_comment(&folder.text("scenario.toml")?);
        let (configured, duration_s) = configured_of(&folder)?;
        let seed = run_seed(&folder.text("run.toml")?);
        let series = read_series(folder.table("timeseries.csv")?, &strategies)?;
        let latency = read_latency(folder.table("latency.csv")?, &strategies)?;
        let staleness = read_staleness(folder.table("staleness.csv")?, &strategies)?;
        let faults = if folder.has(crate::output::names::FAULTS_FILE) {
            let table = folder.table(crate::output::names::FAULTS_FILE)?;
            let name_col = table.require("strategy")?;
            for row in 0..table.rows.len() {
                for col in (0..table.header.len()).filter(|&c| c != name_col) {
                    table.number(row, col)?;
                }
            }
            Some(table)
        } else {
            None
        };
        Ok(RunData {
            dir: dir.to_path_buf(),
            name,
            description,
            about,
            writes_stop_s,
            presets,
            configured,
            duration_s,
            seed,
            strategies,
            summary,
            series,
            latency,
            staleness,
            faults,
        })
    }

    /// A summary figure of strategy `index`, if `summary.csv` has the column.
    /// The figure of strategy `index` in `column`; `None` when the column is absent or
    /// the cell is empty (nothing measured).
    pub fn summary_number(&self, index: usize, column: &str) -> Result<Option<f64>, ReportError> {
        match self.summary.column(column) {
            Some(col) if !self.summary.text(index, col).is_empty() => self.summary.number(index, col).map(Some),
            _ => Ok(None),
        }
    }
}

/// Position of `strategy` among `strategies`, or an error: every row of every file must
/// belong to a strategy of `summary.csv`.
/// A strategy missing from `summary.csv` is reported against `summary.csv` (truncated, or
/// from another run), naming the file and line that has it.
fn strategy_index(table: &Table, row: usize, col: usize, strategies: &[String]) -> Result<usize, ReportError> {
    let name = table.text(row, col);
    strategies.iter().position(|s| s == name).ok_or_else(|| {
        let summary = table.path.with_file_name("summary.csv");
        let file = table
            .path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        ReportError::new(
            &summary,
            format!(
                "no row for strategy \"{name}\", which {file} has (line {}); summary.csv lists {} \
                 strategies: it is truncated or from another run",
                row + 2,
                strategies.len()
            ),
        )
    })
}

fn read_series(table: Table, strategies: &[String]) -> Result<Vec<Series>, ReportError> {
    let strategy = table.require("strategy")?;
    let cols = [
        table.require("time_s")?,
        table.require("divergent_keys")?,
        table
            .column("cores_busy_mean")
            .map_or_else(|| table.require("cores_busy"), Ok)?,
        table
            .column("sessions_mean")
            .map_or_else(|| table.require("sessions_running"), Ok)?,
    ];
    let mut series = vec![Series::default(); strategies.len()];
    for row in 0..table.rows.len() {
        let s = &mut series[strategy_index(&table, row, strategy, strategies)?];
        s.time_s.push(table.number(row, cols[0])?);
        s.divergent_keys.push(table.number(row, cols[1])?);
        s.cores_busy.push(table.number(row, cols[2])?);
        s.sessions_running.push(table.number(row, cols[3])?);
    }
    Ok(series)
}

fn read_latency(table: Table, strategies: &[String]) -> Result<Vec<LatencyCurve>, ReportError> {
    let strategy = table.require("strategy")?;
    let quantile = table.require("quantile")?;
    let samples = table.require("samples")?;
    let latency = table.require("repair_latency_s")?;
    let open = table.require("open_at_end")?;
    let censored = table.require("censored_latency_s")?;
    let mut curves = vec![LatencyCurve::default(); strategies.len()];
    for row in 0..table.rows.len() {
        let curve = &mut curves[strategy_index(&table, row, strategy, strategies)?];
        curve.samples = table.number(row, samples)? as u64;
        curve.open_at_end = table.number(row, open)? as u64;
        let q = table.number(row, quantile)?;
        curve.points.push((q, table.number(row, latency)?));
        // An empty cell: the run cannot estimate that quantile.
        if !table.text(row, censored).is_empty() {
            curve.censored.push((q, table.number(row, censored)?));
        }
    }
    Ok(curves)
}

/// Limit on the slices of one staleness sample, so a corrupt file cannot ask for an
/// absurd grid.
const MAX_BUCKETS: usize = 4096;

fn read_staleness(table: Table, strategies: &[String]) -> Result<Vec<StalenessGrid>, ReportError> {
    let path = table.path.clone();
    let strategy = table.require("strategy")?;
    let time = table.require("time_s")?;
    let bucket = table.require("bucket")?;
    let key_end = table.require("key_end")?;
    let divergent = table.require("divergent_keys")?;
    let mut grids = vec![StalenessGrid::default(); strategies.len()];
    for row in 0..table.rows.len() {
        let grid = &mut grids[strategy_index(&table, row, strategy, strategies)?];
        let t = table.number(row, time)?;
        let b = table.number(row, bucket)?;
        if !(0.0..MAX_BUCKETS as f64).contains(&b) || b.fract() != 0.0 {
            return Err(ReportError::new(
                &path,
                format!("line {}: bucket {b} is not an index below {MAX_BUCKETS}", row + 2),
            ));
        }
        let b = b as usize;
        // Rows come sample by sample, bucket by bucket; a new time starts a new sample.
        if grid.time_s.last() != Some(&t) {
            grid.time_s.push(t);
            grid.counts.push(Vec::new());
        }
        let counts = grid.counts.last_mut().expect("a sample was just pushed");
        if counts.len() <= b {
            counts.resize(b + 1, 0);
        }
        counts[b] = table.number(row, divergent)? as u64;
        grid.buckets = grid.buckets.max(b + 1);
        grid.key_count = grid.key_count.max(table.number(row, key_end)? as u64);
    }
    for grid in &mut grids {
        for counts in &mut grid.counts {
            counts.resize(grid.buckets, 0);
        }
    }
    Ok(grids)
}

/// The scenario's name and description from its echo (`scenario.toml`), when writes
/// stop, and the presets its strategies name. Read as plain TOML, not validated: the
/// report only shows them.
type ScenarioText = (String, String, Option<f64>, Vec<(String, String)>);

fn scenario_text(folder: &Folder, name: &str) -> Result<ScenarioText, ReportError> {
    let table = folder
        .text(name)?
        .parse::<toml::Table>()
        .map_err(|e| ReportError::new(&folder.path(name), e.message().to_string()))?;
    let text = |key: &str| table.get(key).and_then(toml::Value::as_str).unwrap_or("").to_string();
    // When client writes stop (`workload.stop_at`), marked on the time charts; a value
    // that does not parse is simply not marked (the scenario was checked when it ran).
    let stop = table
        .get("workload")
        .and_then(|w| w.get("stop_at"))
        .and_then(toml::Value::as_str)
        .and_then(|t| humantime::parse_duration(t).ok())
        .map(|d| d.as_secs_f64());
    // A strategy without a name is named after its preset (`scenario::presets`).
    let presets = match table.get("strategy") {
        Some(toml::Value::Array(entries)) => entries
            .iter()
            .filter_map(|entry| {
                let preset = entry.get("preset")?.as_str()?.to_string();
                let name = entry.get("name").and_then(toml::Value::as_str).unwrap_or(&preset);
                Some((name.to_string(), preset))
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok((text("name"), text("description"), stop, presets))
}

/// Which optional tables the scenario had, read off its echo (for the headline's caveats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Configured {
    pub hints: bool,
    pub reads: bool,
    pub deletes: bool,
    pub ring: bool,
}

/// Which optional tables the scenario echo has, and its duration in seconds.
fn configured_of(folder: &Folder) -> Result<(Configured, f64), ReportError> {
    let name = "scenario.toml";
    let table = folder
        .text(name)?
        .parse::<toml::Table>()
        .map_err(|e| ReportError::new(&folder.path(name), e.message().to_string()))?;
    let configured = Configured {
        hints: table.contains_key("hints"),
        reads: table.contains_key("reads"),
        deletes: table.contains_key("deletes"),
        ring: folder.has(crate::output::names::RANGES_FILE),
    };
    let duration_s = table
        .get("duration")
        .and_then(toml::Value::as_str)
        .and_then(|t| humantime::parse_duration(t.trim()).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    Ok((configured, duration_s))
}

/// The paragraphs of a scenario file's opening comment (the `#` lines before anything
/// else), without the `# reproduce:` marker and the indented lines (example commands).
pub fn opening_comment(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in text.lines().take_while(|line| line.starts_with('#')) {
        let line = line.trim_start_matches('#');
        let line = line.strip_prefix(' ').unwrap_or(line);
        if line.starts_with("reproduce:") || line.starts_with(char::is_whitespace) {
            continue;
        }
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line.trim_end());
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

/// The seed recorded in `run.toml`'s text, if it has one. Read as a `seed = N` line
/// rather than as TOML, because folders written before seeds were limited to 2^63 - 1
/// may hold a seed that is a valid u64 but not a TOML integer.
fn run_seed(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|line| line.strip_prefix("seed"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .find_map(|value| value.trim().parse::<u64>().ok())
}

#[cfg(test)]
mod tests {
    use super::opening_comment;

    #[test]
    fn the_opening_comment_is_read_by_paragraph_without_markers_and_commands() {
        let text = "# Story step 1: drift.\n# reproduce: fast\n#\n# Two replicas lose 1%\n# of messages.\n\
                    #\n#   aesim run scenarios/01-drift.toml\n#\n# The end.\n\nname = \"x\"\n# not this\n";
        assert_eq!(
            opening_comment(text),
            vec!["Story step 1: drift.", "Two replicas lose 1% of messages.", "The end."]
        );
        assert!(opening_comment("name = \"x\"\n# later\n").is_empty());
    }
}
