//! The names of the files a run writes: shared by the writer (`output.rs`), the report
//! that reads them back and the folder manifest.

/// Names of the files a run writes, in the order they are renamed into place
/// (`run.toml` last: its presence means the rest are from the same run).
pub const RUN_FILES: &[&str] = &[
    "summary.csv",
    "timeseries.csv",
    "latency.csv",
    "staleness.csv",
    "scenario.toml",
    "run.toml",
];

/// Written only when the scenario configures a token ring (so the outputs of other
/// scenarios are exactly what they were before rings existed): one row per strategy
/// and node, and one per strategy and range.
pub const NODES_FILE: &str = "nodes.csv";

pub const RANGES_FILE: &str = "ranges.csv";

/// Written beside the others only when the scenario has `[faults]`, so the outputs of
/// fault-free scenarios are exactly what they were before faults existed.
pub const FAULTS_FILE: &str = "faults.csv";

/// Every deleted value a repair brought back, when the scenario has deletes.
pub const RESURRECTIONS_FILE: &str = "resurrections.csv";
