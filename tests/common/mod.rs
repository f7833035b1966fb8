//! Helpers shared by the integration tests.
#![allow(dead_code)]

use aesim::scenario::Scenario;

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

/// Scenarios with modelled faults, for tests that want every table exercised.
pub const FAULTY: &[&str] = &[];
