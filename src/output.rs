//! The only code that writes files: CSV tables, the scenario echo and the run record.
//!
//! Every file is written whole to a temporary file in the destination folder and then
//! renamed over the target, so a reader (or an interrupted run) never sees half a file;
//! a run's files (report and charts included) are all written before any is renamed.
//! Every figure is formatted with integer arithmetic or fixed decimals, so outputs are
//! byte-identical on every machine.

use crate::metrics::{CensoredLatency, Sample, StrategyResult, mean_between};
use crate::scenario::Scenario;
use crate::sim::{SimTime, format_secs};
use std::io;
use std::path::{Path, PathBuf};

pub mod atomic;
pub mod lock;
mod manifest;
pub mod names;
pub use atomic::{
    ABORT_AFTER_BYTES_VAR, STALE_TEMPORARY_AGE, remove_stale_temporaries, write_all_atomic, write_atomic,
};
pub use lock::{FolderLock, LockError, LockMode, lock_folder};
pub use manifest::{FolderKind, MANIFEST_FILE, Manifest};
pub use names::{FAULTS_FILE, NODES_FILE, RANGES_FILE, RESURRECTIONS_FILE, RUN_FILES};

/// Quantiles written to `latency.csv`: a CDF grid plus the tail.
pub const LATENCY_QUANTILES: &[f64] = &[
    0.0, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0,
];

/// Writes every output of a run into `dir` (created if needed), all or nothing: the
/// CSV files, the scenario echo, the report and its charts are all rendered in memory
/// and written to temporary files first; only when every one is written are they
/// renamed into place, `run.toml` last. A failure before that (a full disk, an
/// unwritable `charts/`) leaves the folder's previous results as they were.
///
/// A single run's folder is its own: aesim temporaries left in it (and in `charts/`) by
/// a run killed while writing are removed first, whatever their age.
pub fn write_run(dir: &Path, scenario: &Scenario, results: &[StrategyResult]) -> Result<(), RunWriteError> {
    let faulty = results.iter().any(|r| r.faults.is_some());
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("summary.csv", summary_csv(results)),
        ("timeseries.csv", timeseries_csv(results)),
        ("latency.csv", latency_csv(results)),
        ("staleness.csv", staleness_csv(scenario.cluster.key_count, results)),
        ("scenario.toml", scenario.source.as_bytes().to_vec()),
        ("run.toml", run_record(scenario).into_bytes()),
    ];
    debug_assert!(files.iter().map(|f| f.0).eq(RUN_FILES.iter().copied()));
    if faulty {
        files.insert(4, (FAULTS_FILE, faults_csv(results)));
    }
    if results.iter().any(|r| r.deletes.is_some()) {
        let at = files.len() - 1;
        files.insert(at, (RESURRECTIONS_FILE, resurrections_csv(results)));
    }
    let ring = results.iter().any(|r| r.ring.is_some());
    if ring {
        // Before run.toml, which is staged last.
        let at = files.len() - 1;
        files.insert(at, (NODES_FILE, nodes_csv(results)));
        files.insert(at + 1, (RANGES_FILE, ranges_csv(results)));
    }
    // The report reads the staged files exactly as `aesim report` reads written ones.
    let rendered = crate::report::render_files(crate::report::data::Folder { dir, staged: &files })
        .map_err(RunWriteError::Report)?;
    let run_toml = files.pop().expect("run.toml is staged last");
    files.extend(rendered.iter().map(|(name, bytes)| (name.as_str(), bytes.clone())));
    let manifest = Manifest::new(FolderKind::Run, files.iter().map(|f| f.0).chain(["run.toml"]));
    files.push((MANIFEST_FILE, manifest.bytes()));
    files.push(run_toml);

    // What the folder held before: its files are replaced, or removed when this run
    // does not write them (another scenario's optional files, a sweep's); any other file
    // is the user's, and one this run would overwrite stops it.
    let previous = Manifest::of_folder(dir).map_err(RunWriteError::Refused)?;
    refuse_unowned(dir, previous.as_ref(), files.iter().map(|f| f.0)).map_err(RunWriteError::Refused)?;
    let charts = dir.join(crate::report::CHARTS_DIR);
    std::fs::create_dir_all(&charts).map_err(|e| RunWriteError::Io(charts.clone(), e))?;
    remove_stale_temporaries(dir, std::time::Duration::ZERO);
    remove_stale_temporaries(&charts, std::time::Duration::ZERO);
    write_all_atomic(dir, &files).map_err(|e| RunWriteError::Io(dir.to_path_buf(), e))?;
    if let Some(previous) = previous {
        let keep: Vec<&str> = manifest.files.iter().map(String::as_str).collect();
        previous
            .remove_except(dir, &keep)
            .map_err(|e| RunWriteError::Io(dir.to_path_buf(), e))?;
    }
    crate::report::remove_stale_charts(dir, &rendered).map_err(RunWriteError::Report)
}

/// Column names of `nodes.csv`, in order.
pub const NODE_COLUMNS: &[&str] = &[
    "strategy",
    "node",
    "rack",
    "tokens",
    "ownership",
    "build_core_s",
    "bytes_sent",
    "bytes_received",
    "sessions",
    "stale_keys",
];

/// Each node's share of the key space, repair load and staleness at the end.
pub fn nodes_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().flat_map(|r| {
        let nodes = r.ring.as_ref().map_or(&[][..], |ring| &ring.nodes[..]);
        nodes.iter().map(|n| {
            vec![
                r.strategy.clone(),
                n.node.to_string(),
                n.rack.to_string(),
                n.tokens.to_string(),
                format!("{:.6}", n.ownership),
                format_secs(n.load.build_core_ns),
                n.load.bytes_sent.to_string(),
                n.load.bytes_received.to_string(),
                n.load.sessions.to_string(),
                n.stale_keys.to_string(),
            ]
        })
    });
    csv_bytes(NODE_COLUMNS, rows)
}

/// Column names of `ranges.csv`, in order.
pub const RANGE_COLUMNS: &[&str] = &[
    "strategy",
    "piece",
    "token_range",
    "start",
    "end",
    "replicas",
    "repairs",
    "last_repaired_s",
    "max_unrepaired_s",
];

/// Each piece of the ring (a token range, the wrapping one in two): its replicas, the
/// repairs that completed over it, and the longest it went without a complete repair.
pub fn ranges_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().flat_map(|r| {
        let ranges = r.ring.as_ref().map_or(&[][..], |ring| &ring.ranges[..]);
        ranges.iter().enumerate().map(|(i, range)| {
            let replicas: Vec<String> = range.replicas.iter().map(usize::to_string).collect();
            vec![
                r.strategy.clone(),
                i.to_string(),
                range.token_range.to_string(),
                range.keys.start.to_string(),
                range.keys.end.to_string(),
                replicas.join(" "),
                range.repairs.to_string(),
                range.last_repaired.map_or(String::new(), |t| format_secs(t.nanos())),
                format_secs(range.max_unrepaired_ns),
            ]
        })
    });
    csv_bytes(RANGE_COLUMNS, rows)
}

/// Why a run's outputs could not be written.
#[derive(Debug)]
pub enum RunWriteError {
    /// A file or folder could not be written (the path says which).
    Io(PathBuf, io::Error),
    /// The report or a chart could not be rendered.
    Report(crate::report::ReportError),
    /// The folder holds a file aesim did not write where the run writes one.
    Refused(String),
}

/// Refuses to write `names` into `dir` when one of them is there and not a file aesim
/// wrote (named by the folder's manifest `previous`): a user's file is never replaced.
pub fn refuse_unowned<'a>(
    dir: &Path,
    previous: Option<&Manifest>,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let owned = |name: &str| name == MANIFEST_FILE || previous.is_some_and(|m| m.files.iter().any(|f| f == name));
    let foreign: Vec<&str> = names
        .into_iter()
        .filter(|name| !owned(name) && dir.join(name).exists())
        .collect();
    match foreign.as_slice() {
        [] => Ok(()),
        some => Err(format!(
            "{} holds {} that aesim did not write (no {MANIFEST_FILE} names {}); aesim never replaces \
             a file it did not write\n  = hint: move {} away, or choose another --out",
            dir.display(),
            some.join(", "),
            if some.len() == 1 { "it" } else { "them" },
            if some.len() == 1 { "it" } else { "them" },
        )),
    }
}

impl std::fmt::Display for RunWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunWriteError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            RunWriteError::Report(e) => write!(f, "cannot render the report: {e}"),
            RunWriteError::Refused(reason) => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for RunWriteError {}

/// One row per resurrection: when, which key, which piece of the ring (`range`, as in
/// `ranges.csv`; 0 without a ring), the replica that still held the value, and how long
/// after its delete it came back.
pub fn resurrections_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().flat_map(|r| {
        let list = r.deletes.as_ref().map_or(&[][..], |d| &d.resurrections[..]);
        list.iter().map(|x| {
            vec![
                r.strategy.clone(),
                x.time.to_string(),
                x.key.to_string(),
                x.range.to_string(),
                x.node.to_string(),
                format_secs(x.after_delete_ns),
            ]
        })
    });
    csv_bytes(&["strategy", "time_s", "key", "range", "node", "after_delete_s"], rows)
}

/// Column names of `faults.csv`, in order.
pub const FAULT_COLUMNS: &[&str] = &[
    "strategy",
    "crashes",
    "writes_redirected",
    "lost_to_crash",
    "repaired_after_crash",
    "sessions_aborted",
    "partitions",
    "lost_to_partition",
    "repaired_after_partition",
    "partition_heal_max_s",
    "partitions_unhealed",
    "duplicated_messages",
    "reordered_messages",
    "bitrot_corruptions",
    "bitrot_skipped",
    "bitrot_repaired",
];

/// One row per strategy: what each fault kind created and what anti-entropy repaired.
pub fn faults_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().map(|r| {
        let f = r.faults.clone().unwrap_or_default();
        vec![
            r.strategy.clone(),
            f.crashes.to_string(),
            f.writes_redirected.to_string(),
            f.lost_to_crash.to_string(),
            f.repaired_after_crash.to_string(),
            f.sessions_aborted.to_string(),
            f.partitions.to_string(),
            f.lost_to_partition.to_string(),
            f.repaired_after_partition.to_string(),
            format_secs(f.partition_heal_ns_max),
            f.partitions_unhealed.to_string(),
            f.duplicated_messages.to_string(),
            f.reordered_messages.to_string(),
            f.bitrot_corruptions.to_string(),
            f.bitrot_skipped.to_string(),
            f.bitrot_repaired.to_string(),
        ]
    });
    csv_bytes(FAULT_COLUMNS, rows)
}

/// Refuses a run whose fixed files (those every run writes) would replace a file in
/// `dir` that aesim did not write, `--force` or not. The charts, known only once
/// rendered, are checked again by [`write_run`].
pub fn check_ownership(dir: &Path) -> Result<(), String> {
    let previous = Manifest::of_folder(dir)?;
    let names = RUN_FILES.iter().copied().chain(["report.md", "report.html"]);
    refuse_unowned(dir, previous.as_ref(), names)
}

/// Refuses to write a run into `dir` when it holds the results of another scenario, so
/// that one folder never mixes two scenarios' files. A folder with no results, or with
/// results of the same scenario (any seed: every file is replaced), is fine.
pub fn check_destination(dir: &Path, scenario: &Scenario) -> Result<(), String> {
    if let Some(kind @ (FolderKind::Sweep | FolderKind::Comparison)) = Manifest::of_folder(dir)?.map(|m| m.kind) {
        return Err(format!(
            "{} holds a {}'s results, not a single run's",
            dir.display(),
            kind.name()
        ));
    }
    let record = match std::fs::read_to_string(dir.join("run.toml")) {
        Ok(text) => text,
        Err(_) => {
            let foreign = RUN_FILES.iter().find(|f| dir.join(f).exists());
            return match foreign {
                Some(file) => Err(format!(
                    "{} holds {file} but no run.toml, so its scenario is unknown",
                    dir.display()
                )),
                None => Ok(()),
            };
        }
    };
    let field = |name: &str| {
        record.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.trim_start().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_string())
        })
    };
    let same = match field("scenario_hash") {
        Some(hash) => hash == scenario.fingerprint(),
        // Results written before the hash existed are matched by name.
        None => field("scenario").as_deref() == Some(scenario.name.as_str()),
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "{} holds results of another scenario ('{}', hash {}); this one is '{}', hash {}",
            dir.display(),
            field("scenario").unwrap_or_default(),
            field("scenario_hash").unwrap_or_else(|| "unknown".into()),
            scenario.name,
            scenario.fingerprint()
        ))
    }
}

/// Key-nanoseconds as key-seconds with six decimals.
fn key_seconds(key_ns: u128) -> String {
    let micros = key_ns / 1_000;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

fn csv_bytes(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).expect("writing to memory");
    for row in rows {
        writer.write_record(&row).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}

/// Column names of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "strategy",
    "writes",
    "lost_messages",
    "keys_repaired",
    "repairs_raced_replication",
    "healed_by_replication",
    "lost_writes_covered",
    "repair_p50_s",
    "repair_p90_s",
    "repair_p99_s",
    "repair_p999_s",
    "repair_max_s",
    "repair_mean_s",
    "repair_km_p50_s",
    "repair_km_p90_s",
    "repair_km_p99_s",
    "divergent_at_end",
    "oldest_divergence_s",
    "divergent_peak",
    "divergence_key_s",
    "sessions",
    "full_passes",
    "mean_full_pass_s",
    "max_revisit_gap_s",
    "tree_builds",
    "keys_scanned",
    "scan_core_s",
    "hashes_sent",
    "hash_bytes",
    "round_trips",
    "leaves_streamed",
    "clean_leaves_streamed",
    "records_streamed",
    "records_needed",
    "records_overstreamed",
    "stream_bytes",
    "records_applied",
    "write_path_hash_ops",
    "write_path_hash_s",
    "hot_keys_repaired",
    "hot_repair_p50_s",
    "hot_repair_p99_s",
    "cold_repair_p50_s",
    "cold_repair_p99_s",
    "stored_keys",
    "events",
    // The repair paths before anti-entropy (world::paths): attribution and their work.
    "divergences_begun",
    "healed_by_hint",
    "healed_by_read_repair",
    "writes_acknowledged",
    "hints_stored",
    "hints_replayed",
    "hints_dropped",
    "hints_refused_window",
    "hints_lost_to_crash",
    "hint_replay_bytes",
    "hint_peak_stored_bytes",
    "reads",
    "reads_stale",
    "reads_unavailable",
    "read_repair_records",
    // Deletes and the gc_grace headline (without a ring, the key space is one range).
    "deletes",
    "tombstones_purged",
    "healed_by_purge",
    "resurrections",
    "gc_grace_s",
    "max_unrepaired_s",
    "ranges_over_gc_grace",
    // Reaper: segments its timeout stopped (their work wasted, the segment retried).
    "sessions_timed_out",
];

/// A latency quantile in seconds, or an empty cell when nothing was recorded (a 0 would
/// read as "instant"; e.g. the hot columns of a workload with no hotspot).
fn quantile_or_blank(histogram: &crate::metrics::LatencyHistogram, quantile: f64) -> String {
    if histogram.count() == 0 {
        String::new()
    } else {
        format_secs(histogram.quantile_ns(quantile))
    }
}

/// A censored (Kaplan-Meier) latency quantile in seconds, or an empty cell when the run
/// cannot estimate it (the quantile lies beyond the longest repair seen).
fn censored_quantile(km: &CensoredLatency, quantile: f64) -> String {
    km.quantile_ns(quantile).map_or_else(String::new, format_secs)
}

pub fn summary_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().map(|r| {
        let c = &r.counters;
        let h = &r.repair_latency;
        let km = CensoredLatency::new(h, &r.open_divergence_ages);
        vec![
            r.strategy.clone(),
            c.writes.to_string(),
            c.lost_messages.to_string(),
            c.keys_repaired.to_string(),
            c.repairs_raced_replication.to_string(),
            c.healed_by_replication.to_string(),
            c.lost_writes_covered.to_string(),
            format_secs(h.quantile_ns(0.5)),
            format_secs(h.quantile_ns(0.9)),
            format_secs(h.quantile_ns(0.99)),
            format_secs(h.quantile_ns(0.999)),
            format_secs(h.max_ns()),
            format!("{:.6}", h.mean_ns() / 1e9),
            censored_quantile(&km, 0.5),
            censored_quantile(&km, 0.9),
            censored_quantile(&km, 0.99),
            r.divergent_at_end.to_string(),
            format_secs(r.oldest_divergence_ns),
            r.divergent_peak.to_string(),
            key_seconds(r.divergence_key_ns),
            c.sessions.to_string(),
            c.full_passes.to_string(),
            format_secs(c.mean_full_pass_ns()),
            format_secs(c.max_revisit_gap_ns),
            c.tree_builds.to_string(),
            c.keys_scanned.to_string(),
            key_seconds(r.scan_core_ns),
            c.hashes_sent.to_string(),
            c.hash_bytes.to_string(),
            c.round_trips.to_string(),
            c.leaves_streamed.to_string(),
            c.clean_leaves_streamed.to_string(),
            c.records_streamed.to_string(),
            c.records_needed.to_string(),
            c.records_overstreamed().to_string(),
            c.stream_bytes.to_string(),
            c.records_applied.to_string(),
            c.write_path_hash_ops.to_string(),
            format_secs(c.write_path_hash_ns),
            r.hot_repair_latency.count().to_string(),
            quantile_or_blank(&r.hot_repair_latency, 0.5),
            quantile_or_blank(&r.hot_repair_latency, 0.99),
            quantile_or_blank(&r.cold_repair_latency, 0.5),
            quantile_or_blank(&r.cold_repair_latency, 0.99),
            r.stored_keys.to_string(),
            r.events.to_string(),
            r.divergences_begun.to_string(),
            c.paths.healed_by_hint.to_string(),
            c.paths.healed_by_read_repair.to_string(),
            c.paths.writes_acknowledged.to_string(),
            r.hints.stored.to_string(),
            r.hints.replayed.to_string(),
            r.hints.dropped.to_string(),
            r.hints.refused_window.to_string(),
            r.hints.lost_to_crash.to_string(),
            r.hints.replay_bytes.to_string(),
            r.hints.peak_stored_bytes.to_string(),
            c.paths.reads.to_string(),
            c.paths.reads_stale.to_string(),
            c.paths.reads_unavailable.to_string(),
            c.paths.read_repair_records.to_string(),
            r.deletes.as_ref().map_or(0, |d| d.deletes).to_string(),
            r.deletes.as_ref().map_or(0, |d| d.purged).to_string(),
            c.paths.healed_by_purge.to_string(),
            r.deletes.as_ref().map_or(0, |d| d.resurrections.len()).to_string(),
            format_secs(r.gc_grace_ns),
            format_secs(r.max_unrepaired_ns),
            r.ranges_over_gc_grace.to_string(),
            c.sessions_timed_out.to_string(),
        ]
    });
    csv_bytes(SUMMARY_COLUMNS, rows)
}

pub fn timeseries_csv(results: &[StrategyResult]) -> Vec<u8> {
    let header = [
        "strategy",
        "time_s",
        "divergent_keys",
        "cores_busy",
        "sessions_running",
        "cores_busy_mean",
        "sessions_mean",
        "writes",
        "lost_messages",
        "keys_repaired",
        "healed_by_replication",
        "sessions",
        "full_passes",
        "hashes_sent",
        "hash_bytes",
        "records_streamed",
        "records_needed",
        "stream_bytes",
    ];
    let rows = results.iter().flat_map(|r| {
        // Each sample's means are over the interval since the previous sample.
        let previous = std::iter::once(None).chain(r.samples.iter().map(Some));
        r.samples.iter().zip(previous).map(|(s, previous)| {
            let c = &s.counters;
            let start = |integral: fn(&Sample) -> u128| previous.map_or((SimTime::ZERO, 0), |p| (p.time, integral(p)));
            let cores_mean = mean_between(start(|p| p.cores_busy_ns), (s.time, s.cores_busy_ns), s.cores_busy);
            let sessions_mean = mean_between(start(|p| p.sessions_ns), (s.time, s.sessions_ns), s.sessions_running);
            vec![
                r.strategy.clone(),
                s.time.to_string(),
                s.divergent_keys.to_string(),
                s.cores_busy.to_string(),
                s.sessions_running.to_string(),
                format!("{cores_mean:.6}"),
                format!("{sessions_mean:.6}"),
                c.writes.to_string(),
                c.lost_messages.to_string(),
                c.keys_repaired.to_string(),
                c.healed_by_replication.to_string(),
                c.sessions.to_string(),
                c.full_passes.to_string(),
                c.hashes_sent.to_string(),
                c.hash_bytes.to_string(),
                c.records_streamed.to_string(),
                c.records_needed.to_string(),
                c.stream_bytes.to_string(),
            ]
        })
    });
    csv_bytes(&header, rows)
}

/// Per strategy and quantile: the repaired keys' latency, and the censored estimate over
/// every episode, keys still open at the end included (`open_at_end` of them; the cell
/// is empty where the run cannot estimate it).
pub fn latency_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().flat_map(|r| {
        let km = CensoredLatency::new(&r.repair_latency, &r.open_divergence_ages);
        LATENCY_QUANTILES.iter().map(move |&q| {
            vec![
                r.strategy.clone(),
                format!("{q}"),
                r.repair_latency.count().to_string(),
                format_secs(r.repair_latency.quantile_ns(q)),
                r.open_divergence_ages.count().to_string(),
                censored_quantile(&km, q),
            ]
        })
    });
    csv_bytes(
        &[
            "strategy",
            "quantile",
            "samples",
            "repair_latency_s",
            "open_at_end",
            "censored_latency_s",
        ],
        rows,
    )
}

/// Divergent keys per slice of the key space per sample: the staleness heatmap.
pub fn staleness_csv(key_count: u64, results: &[StrategyResult]) -> Vec<u8> {
    let key_space = crate::model::KeyRange::new(0, key_count);
    let rows = results.iter().flat_map(|r| {
        r.samples.iter().flat_map(move |s| {
            let buckets = s.divergent_per_bucket.len() as u64;
            s.divergent_per_bucket.iter().enumerate().map(move |(b, count)| {
                let slice = key_space.part(b as u64, buckets);
                vec![
                    r.strategy.clone(),
                    s.time.to_string(),
                    b.to_string(),
                    slice.start.to_string(),
                    slice.end.to_string(),
                    count.to_string(),
                ]
            })
        })
    });
    csv_bytes(
        &["strategy", "time_s", "bucket", "key_start", "key_end", "divergent_keys"],
        rows,
    )
}

/// What reproduces this run: the seed actually used and the command, relative to the
/// results folder (the scenario is echoed beside it as `scenario.toml`).
pub fn run_record(scenario: &Scenario) -> String {
    format!(
        "# How these results were produced. Rerun from this folder to reproduce them byte for byte.\n\
         aesim_version = \"{}\"\n\
         scenario = \"{}\"\n\
         scenario_hash = \"{}\"\n\
         seed = {}\n\
         command = \"aesim run scenario.toml --seed {} --out .\"\n",
        env!("CARGO_PKG_VERSION"),
        scenario.name,
        scenario.fingerprint(),
        scenario.seed,
        scenario.seed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = std::env::temp_dir().join(format!("aesim-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.csv");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).collect();
        assert_eq!(leftovers.len(), 1, "no temporary file remains");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stale_temporaries_are_removed_by_age_and_only_aesims() {
        let dir = std::env::temp_dir().join(format!("aesim-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for name in [
            ".summary.csv.123-0.tmp",
            ".runs.csv.9-12.tmp",
            ".notes.tmp",
            "data.csv",
            ".x.1-2.tmp",
        ] {
            std::fs::write(dir.join(name), "x").unwrap();
            if name != ".x.1-2.tmp" {
                std::fs::File::options()
                    .write(true)
                    .open(dir.join(name))
                    .unwrap()
                    .set_modified(old)
                    .unwrap();
            }
        }
        assert_eq!(
            remove_stale_temporaries(&dir, STALE_TEMPORARY_AGE),
            2,
            "the two old ones of aesim's naming"
        );
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".notes.tmp", ".x.1-2.tmp", "data.csv"],
            "others' files and young ones stay"
        );
        assert_eq!(remove_stale_temporaries(&dir, std::time::Duration::ZERO), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_seconds_are_exact() {
        assert_eq!(key_seconds(1_500_000_000_000), "1500.000000");
        assert_eq!(key_seconds(2_000_001), "0.002000");
    }
}
