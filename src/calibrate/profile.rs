//! The cost profile `aesim calibrate` writes: a TOML fragment of `[cluster]` keys that a
//! scenario takes with `[cluster] costs = "profile.toml"` (or `aesim run --costs`),
//! every measured figure under `[measured]`, and the machine, engine, versions and date
//! as comments. `scenario::costs` reads it back.
//!
//! The mapping onto the model's constants (docs/calibration.md):
//! - `scan_cost_per_key` (a tree build's cost per key of its range) = a warm ordered
//!   scan's cost per key + one blake3 hash of a record: a build reads and hashes every
//!   record.
//! - `hash_cost` (one hash on the write path: live trees, Riak's exchange-time rehash)
//!   = blake3 of one record, the hash aesim's trees use. The other reconcilers' hashes
//!   are under `[measured]` (`hash_md5_ns`, ...): a scenario modelling Cassandra or Riak
//!   sets `hash_cost` from them (`--set cluster.hash_cost=...`).
//! - `apply_cost_per_record` (a repair stream's receiver handling one record it is
//!   sent) = a point read: the receiver reads its own version of every streamed record
//!   and writes the few newer ones, as `aesim validate`'s receiver does.
//! - `record_bytes` = the calibrated record size.

use super::Calibration;
use super::hashes::HashKind;
use super::stats::Stats;

/// The model's defaults, for the comparison table (`scenario::file`'s defaults).
const DEFAULT_SCAN_NS: f64 = 2_400.0;
const DEFAULT_HASH_NS: f64 = 1_000.0;
const DEFAULT_RECORD_BYTES: u64 = 100;

/// The `[cluster]` values the profile sets, in whole nanoseconds (at least 1): the scan
/// cost per key, the write-path hash and the cost of applying one streamed record.
pub fn model_values(c: &Calibration) -> (u64, u64, u64) {
    let scan = (c.scan_warm.median + c.hash(HashKind::Blake3).median).round().max(1.0) as u64;
    let hash = c.hash(HashKind::Blake3).median.round().max(1.0) as u64;
    let apply = c.point_read.median.round().max(1.0) as u64;
    (scan, hash, apply)
}

fn spread(s: &Stats) -> String {
    format!("IQR {:.2}, min {:.2}, max {:.2}, {} runs", s.iqr, s.min, s.max, s.runs)
}

/// The profile's text.
pub fn render(c: &Calibration) -> String {
    let o = &c.options;
    let (scan, hash, apply) = model_values(c);
    let blake3 = c.hash(HashKind::Blake3).median;
    let cold_how = if c.cold_evicted {
        "engine reopened, its files dropped from the page cache (posix_fadvise DONTNEED, checked with mincore)"
    } else {
        "APPROXIMATION: engine reopened, but the page cache could not be verifiably dropped"
    };
    let mut text = format!(
        "# aesim cost profile, measured by `aesim calibrate` (aesim {version})\n\
         # machine: {machine}\n\
         # engine: {engine} {engine_version}; {records} records of {bytes} bytes ({store} bytes on disk)\n\
         # hashes: blake3 1.8.7, md-5 0.11.0, murmur3 0.5.2 (x64-128), xxhash-rust 0.8.21 (xxh64)\n\
         # method: {warmups} warm-up runs, then {runs} measured runs; medians (spread in comments)\n\
         # date: {date}\n\
         # Use it from a scenario with [cluster] costs = \"this-file.toml\", or with\n\
         # `aesim run --costs this-file.toml`; values the scenario's [cluster] writes win.\n\n\
         # A tree build's cost per key: a warm ordered scan ({warm:.2} ns) + blake3 of the record ({blake3:.2} ns)\n\
         scan_cost_per_key = \"{scan}ns\"\n\
         # The record size measured with\n\
         record_bytes = {bytes}\n\
         # One write-path hash: blake3 of one record\n\
         hash_cost = \"{hash}ns\"\n\
         # A stream's receiver handling one record: a point read (its own version)\n\
         apply_cost_per_record = \"{apply}ns\"\n\n\
         # Every figure measured, in ns (medians). Only the four keys above reach the model.\n\
         [measured]\n",
        version = crate::VERSION,
        machine = c.machine.describe(),
        engine = o.engine.name(),
        engine_version = o.engine.version(),
        records = o.records,
        bytes = o.record_bytes,
        store = c.store_bytes,
        warmups = o.warmups,
        runs = o.runs,
        date = c.machine.date,
        warm = c.scan_warm.median,
    );
    let per_byte = |s: &Stats| s.median / o.record_bytes as f64;
    let mut line = |key: &str, value: f64, comment: String| {
        text.push_str(&format!("{key} = {value:.3}  # {comment}\n"));
    };
    line("scan_warm_ns_per_key", c.scan_warm.median, spread(&c.scan_warm));
    line(
        "scan_warm_ns_per_byte",
        per_byte(&c.scan_warm),
        "warm scan / record_bytes".into(),
    );
    line(
        "scan_cold_ns_per_key",
        c.scan_cold.median,
        format!("{}; {cold_how}", spread(&c.scan_cold)),
    );
    line(
        "scan_cold_ns_per_byte",
        per_byte(&c.scan_cold),
        "cold scan / record_bytes".into(),
    );
    line(
        "point_read_ns",
        c.point_read.median,
        format!("random keys; {}", spread(&c.point_read)),
    );
    line(
        "point_write_ns",
        c.point_write.median,
        format!("one record per write, no sync; {}", spread(&c.point_write)),
    );
    for (kind, stats) in &c.hashes {
        line(
            &format!("hash_{}_ns", kind.name()),
            stats.median,
            format!("per record, {}; {}", kind.used_by(), spread(stats)),
        );
    }
    text
}

/// The table printed after a calibration: each measured value beside the model's
/// current default.
pub fn table(c: &Calibration) -> String {
    let (scan, hash, apply) = model_values(c);
    let mut rows: Vec<[String; 4]> = vec![
        [
            "scan_cost_per_key".into(),
            format!("{scan} ns"),
            format!("{DEFAULT_SCAN_NS:.0} ns"),
            format!("{:.2}x", scan as f64 / DEFAULT_SCAN_NS),
        ],
        [
            "hash_cost".into(),
            format!("{hash} ns"),
            format!("{DEFAULT_HASH_NS:.0} ns"),
            format!("{:.3}x", hash as f64 / DEFAULT_HASH_NS),
        ],
        [
            "apply_cost_per_record".into(),
            format!("{apply} ns"),
            "0 ns".into(),
            "(the default applies for free)".into(),
        ],
        [
            "record_bytes".into(),
            c.options.record_bytes.to_string(),
            DEFAULT_RECORD_BYTES.to_string(),
            String::new(),
        ],
    ];
    let measured = |name: &str, s: &Stats| {
        [
            name.to_string(),
            format!("{:.1} ns", s.median),
            "-".into(),
            format!("IQR {:.0}%", 100.0 * s.relative_spread()),
        ]
    };
    rows.push(measured("scan, warm, per key", &c.scan_warm));
    rows.push(measured(
        if c.cold_evicted {
            "scan, cold, per key"
        } else {
            "scan, cold (approx.), per key"
        },
        &c.scan_cold,
    ));
    rows.push(measured("point read", &c.point_read));
    rows.push(measured("point write", &c.point_write));
    for (kind, stats) in &c.hashes {
        rows.push(measured(&format!("hash {} per record", kind.name()), stats));
    }
    aligned_table("", ["cost", "measured", "default", "ratio / spread"], &rows)
}

/// A four-column text table: the first and last columns left-aligned, the two figures
/// between them right-aligned, every line prefixed with `indent`. Shared by
/// `aesim calibrate`'s table and `aesim validate`'s predicted-vs-measured tables.
pub fn aligned_table(indent: &str, header: [&str; 4], rows: &[[String; 4]]) -> String {
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |c: [&str; 4]| {
        format!(
            "{indent}{:<w0$}  {:>w1$}  {:>w2$}  {:<w3$}\n",
            c[0],
            c[1],
            c[2],
            c[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    let mut out = line(header);
    for r in rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
    }
    out
}
