//! Helpers shared by the integration tests.
#![allow(dead_code)]

use aesim::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `aesim` binary with `args`.
pub fn aesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aesim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A fresh, empty temporary folder for test `name` of this test binary.
pub fn temp_dir(name: &str) -> PathBuf {
    let crate_name = env!("CARGO_CRATE_NAME");
    let dir = std::env::temp_dir().join(format!("aesim-{crate_name}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, as (path relative to `dir`, bytes), in path order.
pub fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let name = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A small two-node scenario; `extra` is appended verbatim (strategies, overrides).
pub fn scenario(body: &str) -> Scenario {
    Scenario::parse(body, "test.toml").unwrap_or_else(|e| panic!("test scenario is invalid:\n{e}"))
}

/// A lossy, busy scenario with a monolithic strategy, used by several tests.
pub const LOSSY: &str = r#"
name = "lossy"
seed = 7
duration = "3min"
sample_interval = "10s"
[cluster]
nodes = 3
keys = 50_000
scan_cost_per_key = "10us"
[network]
loss = 0.05
latency = { kind = "uniform", min = "1ms", max = "5ms" }
[workload]
writes_per_s = 200.0
stop_at = "2min"
keys = { kind = "zipf", exponent = 1.0 }
[[strategy]]
kind = "monolithic"
name = "mono"
leaves = 256
interval = "20s"
"#;

/// [`LOSSY`] without message loss, plus `faults` (a `[faults]` table and its arrays).
pub fn lossless_with(faults: &str) -> Scenario {
    scenario(&format!("{}\n{faults}", LOSSY.replace("loss = 0.05", "loss = 0.0")))
}

/// Fault tables exercising every fault kind, for the fuzzer's corpus.
pub const FAULTY: &[&str] = &[FAULTY_LOSSY];

const FAULTY_LOSSY: &str = r#"
name = "faulty"
seed = 7
duration = "3min"
[cluster]
nodes = 3
keys = 50_000
[network]
loss = 0.05
[workload]
writes_per_s = 200.0
[[strategy]]
kind = "monolithic"
leaves = 256
interval = "20s"
[faults]
duplicate = 0.1
reorder = 0.1
reorder_delay = "20ms"
bitrot_per_s = 1.0
[[faults.crash]]
node = 1
at = "20s"
restart = "30s"
[[faults.partition]]
start = "40s"
end = "50s"
isolate = [0, 2]
"#;
