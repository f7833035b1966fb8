//! The files of a sweep's folder that describe it and hold one result per run:
//! `scenario.toml` (the file as given), `sweep.toml` (the command-line overrides and the
//! grid) and `runs/<hash>.csv`.
//!
//! A run file is only ever written whole (temporary file + rename), and a file is
//! trusted only if it has the expected header, one row per strategy in scenario order,
//! and the run's hash in every row; anything else is run again.

use super::metrics::{CHARTED_METRICS, HEADLINE_METRICS};
use super::{Plan, PlannedRun, SweepError, io_error};
use crate::metrics::StrategyResult;
use crate::output::{
    FolderKind, MANIFEST_FILE, Manifest, STALE_TEMPORARY_AGE, SUMMARY_COLUMNS, remove_stale_temporaries, summary_csv,
    write_atomic,
};
use crate::scenario::{Override, ScenarioDocument};
use std::path::{Path, PathBuf};

/// The folder, inside a sweep's output folder, that holds one file per run.
pub const RUNS_DIR: &str = "runs";
/// The echo of the scenario file.
pub const SCENARIO_FILE: &str = "scenario.toml";
/// The record of the sweep: overrides and grid.
pub const SWEEP_FILE: &str = "sweep.toml";

/// The column of a run file (and of `raw.csv`) holding the run's hash.
pub const HASH_COLUMN: &str = "run_hash";

/// Whether `name` (in `runs/`) is a run file's: a run hash (32 hex digits) and `.csv`.
pub fn is_run_file_name(name: &str) -> bool {
    name.strip_suffix(".csv")
        .is_some_and(|hash| hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn run_path(dir: &Path, run: &PlannedRun) -> PathBuf {
    dir.join(RUNS_DIR).join(format!("{}.csv", run.hash))
}

/// Writes `scenario.toml` and `sweep.toml` into `out` and creates `out/runs/`. Both
/// depend only on the sweep (not the shard), so shards may share one folder.
///
/// Temporary files that killed runs left in the folder are removed here once they are
/// [`STALE_TEMPORARY_AGE`] old (younger ones may be a sharing shard's, being written).
pub fn write_header_files(plan: &Plan, out: &Path) -> Result<(), SweepError> {
    let runs = out.join(RUNS_DIR);
    std::fs::create_dir_all(&runs).map_err(io_error(&runs))?;
    for dir in [out.to_path_buf(), runs.clone(), out.join(crate::report::CHARTS_DIR)] {
        remove_stale_temporaries(&dir, STALE_TEMPORARY_AGE);
    }
    let scenario = out.join(SCENARIO_FILE);
    write_atomic(&scenario, plan.document.source.as_bytes()).map_err(io_error(&scenario))?;
    let record = out.join(SWEEP_FILE);
    write_atomic(&record, sweep_record(plan).as_bytes()).map_err(io_error(&record))?;
    let path = out.join(MANIFEST_FILE);
    write_atomic(&path, &manifest(plan).bytes()).map_err(io_error(&path))
}

/// `sweep.toml`: what, besides `scenario.toml`, defines the sweep, and how to rerun it.
fn sweep_record(plan: &Plan) -> String {
    let set: Vec<toml::Value> = plan
        .set()
        .iter()
        .map(|o| toml::Value::String(o.to_set_text()))
        .collect();
    let flags: String = plan
        .set()
        .iter()
        .map(|o| format!(" --set '{}'", o.to_set_text()))
        .collect();
    let mut text = format!(
        "# A parameter sweep by aesim. In this folder, `aesim run scenario.toml{flags} --out .`\n\
         # reruns it (skipping the runs already in runs/) and rewrites the aggregates.\n\
         aesim_version = \"{}\"\n\
         scenario = {}\n\
         set = {}\n\
         points = {}\n\
         replications = {}\n\
         runs = {}\n",
        env!("CARGO_PKG_VERSION"),
        toml::Value::String(plan.document.base.name.clone()),
        toml::Value::Array(set),
        plan.sweep.points(),
        plan.sweep.replications,
        plan.runs.len(),
    );
    for axis in &plan.sweep.axes {
        text.push_str(&format!(
            "\n[[axis]]\npath = {}\nvalues = {}\n",
            toml::Value::String(axis.path.clone()),
            toml::Value::Array(axis.values.clone())
        ));
    }
    text
}

/// Writes the result of one run.
pub fn write_run(out: &Path, run: &PlannedRun, results: &[StrategyResult]) -> Result<(), SweepError> {
    let summary = summary_csv(results);
    let mut reader = csv::Reader::from_reader(summary.as_slice());
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = std::iter::once(HASH_COLUMN)
        .chain(SUMMARY_COLUMNS.iter().copied())
        .collect();
    writer.write_record(&header).expect("writing to memory");
    for record in reader.records() {
        let record = record.expect("summary.csv is valid CSV");
        writer
            .write_record(std::iter::once(run.hash.as_str()).chain(record.iter()))
            .expect("writing to memory");
    }
    let bytes = writer.into_inner().expect("flushing to memory");
    let path = run_path(out, run);
    write_atomic(&path, &bytes).map_err(io_error(&path))
}

/// The bytes of `run`'s file in `dir`, if it is there and complete.
pub fn read_run(dir: &Path, run: &PlannedRun) -> Option<Vec<u8>> {
    let bytes = std::fs::read(run_path(dir, run)).ok()?;
    run_rows(&bytes, run).map(|_| bytes)
}

/// The rows of a run file (strategy and metrics, without the hash), if it is valid for `run`.
pub fn run_rows(bytes: &[u8], run: &PlannedRun) -> Option<Vec<Vec<String>>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().ok()?;
    let expected = std::iter::once(HASH_COLUMN).chain(SUMMARY_COLUMNS.iter().copied());
    if !header.iter().eq(expected) {
        return None;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.ok()?;
        if record.get(0) != Some(run.hash.as_str()) {
            return None;
        }
        rows.push(record.iter().skip(1).map(str::to_string).collect::<Vec<_>>());
    }
    let names = run.scenario.strategies.iter().map(|s| s.name.as_str());
    (rows.len() == run.scenario.strategies.len() && rows.iter().map(|r| r[0].as_str()).eq(names)).then_some(rows)
}

/// Refuses to write `plan`'s sweep into `out` when the folder holds other results: a
/// single run's (`run.toml`), another sweep's (its `scenario.toml` and `sweep.toml`
/// describe a scenario with another hash), or files aesim cannot attribute. A sweep of
/// the same scenario may be resumed or extended (more points, more replications) in
/// place: its run files are named by their hash, so they never mix.
pub fn check_destination(out: &Path, plan: &Plan) -> Result<(), String> {
    if Manifest::of_folder(out)?.is_some_and(|m| m.kind == FolderKind::Comparison) {
        return Err(format!("{} holds a comparison's report, not a sweep", out.display()));
    }
    if out.join("run.toml").exists() {
        return Err(format!(
            "{} holds the results of a single run (run.toml), not of a sweep",
            out.display()
        ));
    }
    let has = |name: &str| out.join(name).exists();
    if !has(SCENARIO_FILE) && !has(SWEEP_FILE) {
        return match ["summary.csv", "raw.csv", "report.md"].iter().find(|f| has(f)) {
            Some(file) => Err(format!(
                "{} holds {file} but no scenario.toml or sweep.toml, so its scenario is unknown",
                out.display()
            )),
            None => Ok(()),
        };
    }
    let existing =
        plan_of_folder(out).map_err(|e| format!("{} holds results aesim cannot attribute: {e}", out.display()))?;
    let (theirs, ours) = (&existing.document.base, &plan.document.base);
    if theirs.fingerprint() == ours.fingerprint() {
        Ok(())
    } else {
        Err(format!(
            "{} holds results of another sweep ('{}', hash {}); this one is '{}', hash {}",
            out.display(),
            theirs.name,
            theirs.fingerprint(),
            ours.name,
            ours.fingerprint()
        ))
    }
}

/// Refuses a sweep whose files would replace a file in `out` that aesim did not write
/// (the folder's manifest does not name it), `--force` or not.
pub fn check_ownership(out: &Path, plan: &Plan) -> Result<(), String> {
    let previous = Manifest::of_folder(out)?;
    let ours = manifest(plan);
    crate::output::refuse_unowned(out, previous.as_ref(), ours.files.iter().map(String::as_str))
}

/// Removes the results `check_destination` objected to (`--force`): the files the
/// folder's manifest names (and a sweep's run files), so the folder holds this sweep's
/// files only once it is done. A file aesim did not write is never removed.
pub fn clear_foreign_results(out: &Path) -> Result<(), SweepError> {
    let manifest = Manifest::of_folder(out).map_err(SweepError::Input)?;
    match manifest {
        Some(manifest) => manifest.remove_except(out, &[]).map_err(io_error(out)),
        None => Ok(()),
    }
}

/// The plan of the sweep recorded in `dir` (its `scenario.toml` and `sweep.toml`).
fn plan_of_folder(dir: &Path) -> Result<Plan, SweepError> {
    plan_of_partials(&[dir.to_path_buf()])
}

/// The plan of the sweep whose partial results are in `inputs`; they must all come
/// from the same sweep (identical `scenario.toml` and `sweep.toml`).
pub fn plan_of_partials(inputs: &[PathBuf]) -> Result<Plan, SweepError> {
    let Some(first) = inputs.first() else {
        return Err(SweepError::Input(
            "merge needs at least one partial result folder".into(),
        ));
    };
    let read = |dir: &Path, name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| {
            SweepError::Input(format!(
                "{}: not a sweep's result folder: cannot read {name} ({e})",
                dir.display()
            ))
        })
    };
    let source = read(first, SCENARIO_FILE)?;
    let record = read(first, SWEEP_FILE)?;
    for dir in &inputs[1..] {
        if read(dir, SCENARIO_FILE)? != source || read(dir, SWEEP_FILE)? != record {
            return Err(SweepError::Input(format!(
                "{} and {} hold results of different sweeps (their scenario.toml or sweep.toml differ)",
                first.display(),
                dir.display()
            )));
        }
    }
    let bad = |why: String| SweepError::Input(format!("{}: {why}", first.join(SWEEP_FILE).display()));
    let source = String::from_utf8(source).map_err(|_| bad("scenario.toml is not UTF-8".into()))?;
    let record: toml::Table = String::from_utf8(record)
        .map_err(|_| bad("not UTF-8".into()))?
        .parse()
        .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
    let set = match record.get("set") {
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(text) => Override::parse_set(text).map_err(bad),
                _ => Err(bad("`set` must list strings".into())),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(bad("no `set` list".into())),
    };
    let file = first.join(SCENARIO_FILE).display().to_string();
    let document = ScenarioDocument::parse(&source, &file, set).map_err(|e| SweepError::Input(e.to_string()))?;
    super::Plan::new(document)
        .map_err(|e| SweepError::Input(e.to_string()))?
        .ok_or_else(|| SweepError::Input(format!("{file} has no [sweep]: nothing to merge")))
}

/// The manifest of `plan`'s folder: the header files, and every aggregate the sweep
/// writes once its runs are done (its run files are recognised by their names). It
/// depends on the plan alone, so shards sharing a folder write the same bytes.
pub fn manifest(plan: &Plan) -> Manifest {
    let mut names = vec![
        SCENARIO_FILE.to_string(),
        SWEEP_FILE.to_string(),
        "raw.csv".to_string(),
        "summary.csv".to_string(),
    ];
    let axes = &plan.sweep.axes;
    if !axes.is_empty() {
        for metric in CHARTED_METRICS
            .iter()
            .filter(|m| HEADLINE_METRICS.contains(m) && SUMMARY_COLUMNS.contains(m))
        {
            for axis in axes {
                let file = super::chart::chart_file(metric, &axis.path);
                names.push(format!("{}/{file}", crate::report::CHARTS_DIR));
            }
        }
        names.extend(["report.md".to_string(), "report.html".to_string()]);
    }
    Manifest::new(FolderKind::Sweep, names.iter().map(String::as_str))
}
