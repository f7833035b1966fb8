//! Checks of the `[faults]` table: loss, crashes, partitions, slow nodes and bit rot.

use super::file::FaultsFile;
use super::{Checker, DEFAULT_REORDER_DELAY_NS};
use crate::model::faults::{CrashWindow, FaultConfig, PartitionWindow};
use crate::sim::SimTime;

impl Checker<'_> {
    pub(super) fn faults(&mut self, f: FaultsFile, nodes: u64, duration_ns: u64) -> FaultConfig {
        self.probability(f.duplicate, "faults.duplicate");
        self.probability(f.reorder, "faults.reorder");
        let reorder_delay_ns_max = f.reorder_delay.map_or(DEFAULT_REORDER_DELAY_NS, |d| d.0);
        self.positive(
            reorder_delay_ns_max,
            "faults.reorder_delay",
            "e.g. reorder_delay = \"50ms\"",
        );
        self.require(
            f.bitrot_per_s.is_finite() && (0.0..=1e6).contains(&f.bitrot_per_s),
            "faults.bitrot_per_s",
            "a finite rate between 0 and 10^6",
            f.bitrot_per_s,
            "corrupted records per second over the whole cluster",
        );
        let mut crashes: Vec<CrashWindow> = Vec::new();
        for (i, c) in f.crash.iter().enumerate() {
            let at = |field: &str| format!("faults.crash[{i}].{field}");
            self.require(
                c.node < nodes,
                &at("node"),
                &format!("a node index below {nodes}"),
                c.node,
                "nodes are numbered from 0",
            );
            let back = "the instant the node is back";
            self.window(at, ("at", c.at.0), ("restart", c.restart.0), back, duration_ns);
            let overlaps = crashes
                .iter()
                .any(|w| w.node as u64 == c.node && w.down_at.nanos() < c.restart.0 && c.at.0 < w.up_at.nanos());
            if overlaps {
                self.error(
                    &at("at"),
                    format!(
                        "crash {i} of node {} overlaps an earlier crash of the same node",
                        c.node
                    ),
                    "a node must restart before it can crash again",
                );
            }
            crashes.push(CrashWindow {
                node: c.node.min(nodes.saturating_sub(1)) as usize,
                down_at: SimTime::from_nanos(c.at.0),
                up_at: SimTime::from_nanos(c.restart.0),
            });
        }
        let mut partitions = Vec::new();
        for (i, p) in f.partition.iter().enumerate() {
            let at = |field: &str| format!("faults.partition[{i}].{field}");
            let heals = "the instant the partition heals";
            self.window(at, ("start", p.start.0), ("end", p.end.0), heals, duration_ns);
            let mut isolated: Vec<u64> = p.isolate.clone();
            isolated.sort_unstable();
            isolated.dedup();
            let valid = !isolated.is_empty()
                && isolated.len() == p.isolate.len()
                && (isolated.len() as u64) < nodes
                && isolated.iter().all(|&n| n < nodes);
            self.require(
                valid,
                &at("isolate"),
                &format!("distinct node indices below {nodes}, at least one node and not all of them"),
                format!("{:?}", p.isolate),
                "e.g. isolate = [1] cuts node 1 off from the others",
            );
            partitions.push(PartitionWindow {
                start: SimTime::from_nanos(p.start.0),
                end: SimTime::from_nanos(p.end.0),
                isolated: isolated.iter().map(|&n| n as usize).collect(),
            });
        }
        FaultConfig {
            crashes,
            partitions,
            duplicate_probability: f.duplicate,
            reorder_probability: f.reorder,
            reorder_delay_ns_max,
            bitrot_per_s: f.bitrot_per_s,
        }
    }
}
