//! Predicted beside measured: the table `aesim validate` prints, and the checks that
//! make it fail: every count equal (sessions, hashes, round trips, leaves, records
//! scanned, streamed and applied, hash and record payload bytes), wire bytes within 5%
//! (the model's 64-byte message header against the real 5-byte frame header and the
//! segment requests), and both stores equal at the end. Times are reported with their
//! ratio, not checked: they are goals for docs/calibration.md, not a test.

use super::Validation;
use super::predict::Configuration;
use super::wire::FRAME_HEADER_BYTES;
use crate::calibrate::profile::aligned_table;

/// Largest relative difference accepted between predicted and measured wire bytes.
pub const WIRE_TOLERANCE: f64 = 0.05;

/// "monolithic, 1024 leaves" or "16 segments x 64 leaves, 2 workers".
pub fn config_name(c: &Configuration) -> String {
    if c.is_monolithic() {
        format!("monolithic, {} leaves", c.leaves)
    } else {
        format!(
            "{} segments x {} leaves, {} worker{}",
            c.segments,
            c.leaves,
            c.workers,
            if c.workers == 1 { "" } else { "s" }
        )
    }
}

/// The exact figures of a validation, as (name, predicted, measured).
pub fn exact_figures(v: &Validation) -> Vec<(&'static str, u64, u64)> {
    let (p, m) = (&v.predicted, &v.measured.phases);
    // Payloads: the counted bytes less the real frames' headers (a Hashes frame per
    // request and per reply; a Records frame per leaf and direction, and a Done each).
    let hash_payload = m.exchange_bytes - FRAME_HEADER_BYTES * 2 * m.round_trips;
    let stream_payload = m.stream_bytes - FRAME_HEADER_BYTES * (2 * m.leaves_streamed + 2 * v.measured.sessions);
    vec![
        ("sessions", p.sessions, v.measured.sessions),
        ("records scanned", p.records_scanned, m.records_scanned),
        ("round trips", p.round_trips, m.round_trips),
        ("hashes sent", p.hashes, m.hashes),
        ("hash payload bytes", p.hash_bytes, hash_payload),
        ("leaves streamed", p.leaves_streamed, m.leaves_streamed),
        ("records streamed", p.records_streamed, m.records_streamed),
        ("record payload bytes", p.stream_bytes, stream_payload),
        ("records applied", p.records_applied, m.records_applied),
    ]
}

/// What failed: exact figures that differ, wire bytes off by more than 5%, stores
/// left unequal (empty when the validation holds).
pub fn failures(v: &Validation) -> Vec<String> {
    let name = config_name(&v.config);
    let mut failed: Vec<String> = exact_figures(v)
        .into_iter()
        .filter(|(_, p, m)| p != m)
        .map(|(figure, p, m)| format!("{name}: {figure}: predicted {p}, measured {m}"))
        .collect();
    let (p, m) = (v.predicted.wire_bytes as f64, v.measured.wire_bytes as f64);
    if (m - p).abs() > WIRE_TOLERANCE * p.max(1.0) {
        failed.push(format!(
            "{name}: wire bytes: predicted {p}, measured {m} (more than 5% apart)"
        ));
    }
    if !v.measured.stores_equal {
        failed.push(format!("{name}: the replicas differ after the exchange"));
    }
    failed
}

fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

fn ratio(measured: f64, predicted: f64) -> String {
    if predicted > 0.0 {
        format!("{:.2}", measured / predicted)
    } else {
        "-".into()
    }
}

/// The table of one validation.
pub fn table(v: &Validation) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for (figure, p, m) in exact_figures(v) {
        rows.push([
            figure.into(),
            p.to_string(),
            m.to_string(),
            if p == m { "exact".into() } else { "DIFFERS".into() },
        ]);
    }
    let (pw, mw) = (v.predicted.wire_bytes, v.measured.wire_bytes);
    rows.push([
        "wire bytes (all headers)".into(),
        pw.to_string(),
        mw.to_string(),
        ratio(mw as f64, pw as f64),
    ]);
    let (p, m) = (&v.predicted, &v.measured);
    let mut time = |name: &str, predicted: u64, measured: u64| {
        rows.push([
            name.into(),
            ms(predicted),
            ms(measured),
            ratio(measured as f64, predicted as f64),
        ]);
    };
    if v.config.is_monolithic() {
        time("build", p.build_ns, m.phases.build_ns);
        time("exchange", p.exchange_ns, m.phases.exchange_ns);
        time("stream and apply", p.stream_ns, m.phases.stream_ns);
        time("session", p.total_ns, m.phases.total_ns);
    } else {
        time("builds, core time", p.build_core_ns, m.phases.build_core_ns);
        time("pass, wall time", p.total_ns, m.wall_ns);
    }
    rows.push([
        "stores equal after".into(),
        "yes".into(),
        if m.stores_equal { "yes".into() } else { "NO".into() },
        String::new(),
    ]);
    let mut out = format!(
        "{} ({} keys of {} bytes, {} lost writes; scan {} ns/key; loopback {} ns one way, {:.0} MB/s)\n",
        config_name(&v.config),
        v.config.keys,
        v.config.record_bytes,
        v.lost_writes,
        v.predicted.scan_cost_ns_per_key,
        v.config.latency_ns,
        v.config.bandwidth_bytes_per_s as f64 / 1e6
    );
    out.push_str(&aligned_table(
        "  ",
        ["figure", "predicted", "measured", "ratio"],
        &rows,
    ));
    out
}
