//! The only code that writes files: CSV tables, the scenario echo and the run record.
//!
//! Every file is written whole to a temporary file in the destination folder and then
//! renamed over the target, so a reader (or an interrupted run) never sees half a file.
//! Every figure is formatted with integer arithmetic or fixed decimals, so outputs are
//! byte-identical on every machine.

use crate::metrics::StrategyResult;
use crate::scenario::Scenario;
use crate::sim::format_secs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Quantiles written to `latency.csv`: a CDF grid plus the tail.
pub const LATENCY_QUANTILES: &[f64] = &[
    0.0, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0,
];

/// Names of the files a run writes, in the order they are written.
pub const RUN_FILES: &[&str] = &[
    "summary.csv",
    "timeseries.csv",
    "latency.csv",
    "scenario.toml",
    "run.toml",
];

/// Writes `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("output path has no file name"))?;
    // A name unique to this process and call, so that threads or processes writing the
    // same file at once (sweep shards sharing a folder) never write one temporary file.
    static NEXT_TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = NEXT_TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp: PathBuf = dir.join(format!(
        ".{}.{}-{unique}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes every output of a run into `dir` (created if needed).
pub fn write_run(dir: &Path, scenario: &Scenario, results: &[StrategyResult]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join("summary.csv"), &summary_csv(results))?;
    write_atomic(&dir.join("timeseries.csv"), &timeseries_csv(results))?;
    write_atomic(&dir.join("latency.csv"), &latency_csv(results))?;
    write_atomic(
        &dir.join("staleness.csv"),
        &staleness_csv(scenario.cluster.key_count, results),
    )?;
    write_atomic(&dir.join("scenario.toml"), scenario.source.as_bytes())?;
    write_atomic(&dir.join("run.toml"), run_record(scenario).as_bytes())
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
    "healed_by_replication",
    "repair_p50_s",
    "repair_p90_s",
    "repair_p99_s",
    "repair_p999_s",
    "repair_max_s",
    "repair_mean_s",
    "divergent_at_end",
    "oldest_divergence_s",
    "divergence_key_s",
    "sessions",
    "full_passes",
    "mean_full_pass_s",
    "max_revisit_gap_s",
    "tree_builds",
    "keys_scanned",
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
];

pub fn summary_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().map(|r| {
        let c = &r.counters;
        let h = &r.repair_latency;
        vec![
            r.strategy.clone(),
            c.writes.to_string(),
            c.lost_messages.to_string(),
            c.keys_repaired.to_string(),
            c.healed_by_replication.to_string(),
            format_secs(h.quantile_ns(0.5)),
            format_secs(h.quantile_ns(0.9)),
            format_secs(h.quantile_ns(0.99)),
            format_secs(h.quantile_ns(0.999)),
            format_secs(h.max_ns()),
            format!("{:.6}", h.mean_ns() / 1e9),
            r.divergent_at_end.to_string(),
            format_secs(r.oldest_divergence_ns),
            key_seconds(r.divergence_key_ns),
            c.sessions.to_string(),
            c.full_passes.to_string(),
            format_secs(c.mean_full_pass_ns()),
            format_secs(c.max_revisit_gap_ns),
            c.tree_builds.to_string(),
            c.keys_scanned.to_string(),
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
            format_secs(r.hot_repair_latency.quantile_ns(0.5)),
            format_secs(r.hot_repair_latency.quantile_ns(0.99)),
            format_secs(r.cold_repair_latency.quantile_ns(0.5)),
            format_secs(r.cold_repair_latency.quantile_ns(0.99)),
            r.stored_keys.to_string(),
            r.events.to_string(),
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
        r.samples.iter().map(|s| {
            let c = &s.counters;
            vec![
                r.strategy.clone(),
                s.time.to_string(),
                s.divergent_keys.to_string(),
                s.cores_busy.to_string(),
                s.sessions_running.to_string(),
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

pub fn latency_csv(results: &[StrategyResult]) -> Vec<u8> {
    let rows = results.iter().flat_map(|r| {
        LATENCY_QUANTILES.iter().map(|&q| {
            vec![
                r.strategy.clone(),
                format!("{q}"),
                r.repair_latency.count().to_string(),
                format_secs(r.repair_latency.quantile_ns(q)),
            ]
        })
    });
    csv_bytes(&["strategy", "quantile", "samples", "repair_latency_s"], rows)
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
         seed = {}\n\
         command = \"aesim run scenario.toml --seed {} --out .\"\n",
        env!("CARGO_PKG_VERSION"),
        scenario.name,
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
    fn key_seconds_are_exact() {
        assert_eq!(key_seconds(1_500_000_000_000), "1500.000000");
        assert_eq!(key_seconds(2_000_001), "0.002000");
    }
}
