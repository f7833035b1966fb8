//! What a sweep summarizes: the headline metrics of a run's `summary.csv` that every
//! grid point gets an estimate of, the ones charted against every axis, and one grid
//! point's summary. Shared by the aggregation, the charts, the report and the manifest.

use super::stats::Estimate;

/// Metrics summarized per grid point (columns of a run's `summary.csv`).
pub const HEADLINE_METRICS: &[&str] = &[
    "repair_p50_s",
    "repair_p99_s",
    "repair_max_s",
    "repair_mean_s",
    "keys_repaired",
    "divergent_at_end",
    "divergent_peak",
    "divergence_key_s",
    "mean_full_pass_s",
    "keys_scanned",
    "scan_core_s",
    "hashes_sent",
    "hash_bytes",
    "records_streamed",
    "records_overstreamed",
    "stream_bytes",
    "writes",
    "lost_messages",
    "healed_by_hint",
    "healed_by_read_repair",
    "reads_stale",
    "resurrections",
    "max_unrepaired_s",
    "ranges_over_gc_grace",
];

/// Metrics charted against every axis.
pub const CHARTED_METRICS: &[&str] = &[
    "repair_p50_s",
    "repair_p99_s",
    "repair_max_s",
    "divergence_key_s",
    "mean_full_pass_s",
    "hash_bytes",
    "stream_bytes",
    "records_overstreamed",
];

/// The summary of one grid point for one strategy.
pub struct PointSummary {
    pub point: usize,
    pub strategy: String,
    /// One estimate per headline metric, in [`HEADLINE_METRICS`] order.
    pub estimates: Vec<Estimate>,
}
