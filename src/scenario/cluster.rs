//! Checks of the `[cluster]`, `[network]` and `[workload]` tables.

use super::file::{ClusterFile, KeysFile, LatencyFile, NetworkFile, WorkloadFile};
use super::{Checker, ClusterConfig, MAX_CORES, MAX_KEYS, MAX_NODES, MAX_RECORD_BYTES};
use crate::model::network::{Latency, NetworkConfig};
use crate::model::workload::{KeyDistribution, WorkloadConfig};
use crate::sim::SimTime;

impl Checker<'_> {
    /// `[cluster]`.
    pub(super) fn cluster(&mut self, c: &ClusterFile) -> ClusterConfig {
        self.require(
            (2..=MAX_NODES).contains(&c.nodes),
            "cluster.nodes",
            "between 2 and 1,000",
            c.nodes,
            "anti-entropy compares at least two replicas",
        );
        self.require(
            (1..=MAX_KEYS).contains(&c.keys),
            "cluster.keys",
            "between 1 and 2^40",
            c.keys,
            "1_000_000_000 is the lesson's key space",
        );
        self.require(
            (1..=MAX_CORES).contains(&c.cores),
            "cluster.cores",
            "between 1 and 4096",
            c.cores,
            "",
        );
        self.require(
            (1..=MAX_RECORD_BYTES).contains(&c.record_bytes),
            "cluster.record_bytes",
            "between 1 and 16 MiB",
            c.record_bytes,
            "",
        );
        let full_scan_ns = u128::from(c.keys) * u128::from(c.scan_cost_per_key.0);
        self.require(
            full_scan_ns <= u128::from(u64::MAX / 2),
            "cluster.scan_cost_per_key",
            "small enough that a full scan fits in virtual time",
            format!("{full_scan_ns} ns"),
            "",
        );
        let ring = self.ring(c);
        let node_cores = self.node_cores(c);
        ClusterConfig {
            nodes: c.nodes as usize,
            key_count: c.keys,
            cores: c.cores,
            node_cores,
            ring,
            scan_cost_ns_per_key: c.scan_cost_per_key.0,
            record_bytes: c.record_bytes,
            hash_cost_ns: c.hash_cost.0,
            apply_cost_ns_per_record: c.apply_cost_per_record.0,
        }
    }

    /// `[network]`.
    pub(super) fn network(&mut self, n: &NetworkFile) -> NetworkConfig {
        self.probability(n.loss, "network.loss");
        self.require(
            n.bandwidth_bytes_per_s >= 1,
            "network.bandwidth_bytes_per_s",
            "at least 1",
            n.bandwidth_bytes_per_s,
            "125_000_000 is one gigabit per second",
        );
        let latency = match n.latency {
            LatencyFile::Constant { value } => Latency::Constant { nanos: value.0 },
            LatencyFile::Uniform { min, max } => {
                self.require(
                    min.0 <= max.0,
                    "network.latency.max",
                    "at least `network.latency.min`",
                    format!("{} ns < {} ns", max.0, min.0),
                    "",
                );
                Latency::Uniform {
                    min_nanos: min.0,
                    max_nanos: max.0,
                }
            }
            LatencyFile::Exponential { mean } => Latency::Exponential { mean_nanos: mean.0 },
        };
        NetworkConfig {
            loss_probability: n.loss,
            latency,
            bandwidth_bytes_per_s: n.bandwidth_bytes_per_s,
        }
    }

    /// `[workload]`; `keys` is the cluster's key count, `duration_ns` the run's length.
    pub(super) fn workload(&mut self, w: &WorkloadFile, keys: u64, duration_ns: u64) -> WorkloadConfig {
        self.require(
            w.writes_per_s.is_finite() && w.writes_per_s >= 0.0 && w.writes_per_s <= 1e9,
            "workload.writes_per_s",
            "a finite rate between 0 and 10^9",
            w.writes_per_s,
            "writes per second across the cluster",
        );
        let distribution = match w.keys {
            KeysFile::Uniform => KeyDistribution::Uniform,
            KeysFile::Zipf { exponent } => {
                self.require(
                    exponent.is_finite() && exponent > 0.0,
                    "workload.keys.exponent",
                    "a positive number",
                    exponent,
                    "1.0 to 1.2 is typical",
                );
                KeyDistribution::Zipf { exponent }
            }
            KeysFile::Hotspot {
                key_fraction,
                write_fraction,
                shift_every,
            } => {
                self.require(
                    key_fraction > 0.0 && key_fraction < 1.0,
                    "workload.keys.key_fraction",
                    "strictly between 0 and 1",
                    key_fraction,
                    "0.01 makes 1% of the keys hot",
                );
                self.probability(write_fraction, "workload.keys.write_fraction");
                if let Some(every) = shift_every {
                    self.require(
                        every.0 > 0,
                        "workload.keys.shift_every",
                        "positive",
                        "0s",
                        "omit it for a fixed hotspot",
                    );
                }
                self.require(keys >= 2, "cluster.keys", "at least 2 for a hotspot workload", keys, "");
                KeyDistribution::Hotspot {
                    key_fraction,
                    write_fraction,
                    shift_every_ns: shift_every.map(|d| d.0),
                }
            }
        };
        if let Some(stop_at) = w.stop_at {
            self.require(
                stop_at.0 > 0,
                "workload.stop_at",
                "positive",
                "0s",
                "omit it to write until the end; writes_per_s = 0.0 writes nothing",
            );
        }
        WorkloadConfig {
            writes_per_s: w.writes_per_s,
            keys: distribution,
            stop_at: SimTime::from_nanos(w.stop_at.map_or(duration_ns, |d| d.0)),
        }
    }
}
