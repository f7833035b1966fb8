//! Checks of the competing repair paths: `[consistency]`, `[hints]`, `[reads]` and
//! `[deletes]`.

use super::file::{ConsistencyFile, DeletesFile, HintsFile, LevelFile, ReadsFile};
use super::{Checker, ClusterConfig, DEFAULT_HINT_REPLAY_DELAY_NS, DEFAULT_HINT_THROTTLE_KIB, DEFAULT_HINT_WINDOW_NS};
use crate::model::paths::{
    ConsistencyLevel, DEFAULT_COMPACTION_INTERVAL_NS, DEFAULT_GC_GRACE_NS, DEFAULT_WRITE_TIMEOUT_NS, DeleteConfig,
    HintConfig, PathsConfig, ReadConfig,
};
use crate::world::MESSAGE_HEADER_BYTES;

impl Checker<'_> {
    /// Time between two replays from one coordinator to one replica: `1 / replay_rate`
    /// when given, otherwise Cassandra's throttle shared among the other nodes, one
    /// hint (record and header) at `throttle_kib x 1024 / (nodes - 1)` bytes a second.
    fn hint_replay_interval(&mut self, h: &HintsFile, cluster: &ClusterConfig) -> u64 {
        if let (Some(_), Some(kib)) = (h.replay_rate, h.throttle_kib) {
            self.require(
                false,
                "hints.throttle_kib",
                "left out when replay_rate is given",
                kib,
                "replay_rate is hints a second per coordinator and replica; throttle_kib is \
                 Cassandra's hinted_handoff_throttle, shared among the other nodes: give one",
            );
        }
        if let Some(rate) = h.replay_rate {
            self.require(
                rate.is_finite() && (0.001..=1e9).contains(&rate),
                "hints.replay_rate",
                "a finite rate between 0.001 and 10^9",
                rate,
                "hints replayed per second from one coordinator to one replica",
            );
            return (1e9 / rate.clamp(0.001, 1e9)).round() as u64;
        }
        let kib = h.throttle_kib.unwrap_or(DEFAULT_HINT_THROTTLE_KIB);
        self.require(
            kib.is_finite() && (0.001..=1e9).contains(&kib),
            "hints.throttle_kib",
            "a finite rate between 0.001 and 10^9 KiB/s",
            kib,
            "Cassandra's hinted_handoff_throttle is 1024 KiB/s",
        );
        let per_target = kib.clamp(0.001, 1e9) * 1024.0 / cluster.nodes.saturating_sub(1).max(1) as f64;
        let hint_bytes = cluster.record_bytes.saturating_add(MESSAGE_HEADER_BYTES) as f64;
        ((hint_bytes / per_target * 1e9).round() as u64).max(1)
    }

    /// `[consistency]`, `[hints]` and `[reads]`: the repair paths before anti-entropy.
    pub(super) fn paths(
        &mut self,
        c: Option<&ConsistencyFile>,
        h: Option<&HintsFile>,
        r: Option<&ReadsFile>,
        cluster: &ClusterConfig,
    ) -> PathsConfig {
        let level = |l: LevelFile| match l {
            LevelFile::One => ConsistencyLevel::One,
            LevelFile::Quorum => ConsistencyLevel::Quorum,
            LevelFile::All => ConsistencyLevel::All,
        };
        let write_timeout_ns = c
            .and_then(|c| c.write_timeout)
            .map_or(DEFAULT_WRITE_TIMEOUT_NS, |d| d.0);
        self.positive(
            write_timeout_ns,
            "consistency.write_timeout",
            "Cassandra's write_request_timeout is 2s",
        );
        let hints = h.map(|h| {
            let window_ns = h.window.map_or(DEFAULT_HINT_WINDOW_NS, |d| d.0);
            self.positive(window_ns, "hints.window", "Cassandra's max_hint_window is 3h");
            let replay_delay_ns = h.replay_delay.map_or(DEFAULT_HINT_REPLAY_DELAY_NS, |d| d.0);
            self.positive(replay_delay_ns, "hints.replay_delay", "e.g. replay_delay = \"10s\"");
            let replay_interval_ns = self.hint_replay_interval(h, cluster);
            self.probability(h.drop, "hints.drop");
            HintConfig {
                window_ns,
                replay_delay_ns,
                replay_interval_ns,
                drop_probability: h.drop,
            }
        });
        let reads = r.map(|r| {
            self.require(
                r.reads_per_s.is_finite() && r.reads_per_s > 0.0 && r.reads_per_s <= 1e9,
                "reads.reads_per_s",
                "a finite positive rate up to 10^9",
                r.reads_per_s,
                "reads per second across the cluster; omit [reads] for none",
            );
            ReadConfig {
                reads_per_s: r.reads_per_s,
            }
        });
        PathsConfig {
            write_level: level(c.map_or(LevelFile::One, |c| c.write)),
            write_timeout_ns,
            read_level: level(c.map_or(LevelFile::One, |c| c.read)),
            hints,
            reads,
            deletes: None,
        }
    }

    /// `[deletes]`.
    pub(super) fn deletes(&mut self, d: &DeletesFile) -> DeleteConfig {
        self.probability(d.fraction, "deletes.fraction");
        let gc_grace_ns = d.gc_grace.map_or(DEFAULT_GC_GRACE_NS, |g| g.0);
        self.positive(
            gc_grace_ns,
            "deletes.gc_grace",
            "Cassandra's gc_grace_seconds is 10 days",
        );
        let compaction_interval_ns = d.compaction_interval.map_or(DEFAULT_COMPACTION_INTERVAL_NS, |c| c.0);
        // One compaction event per interval for the whole run: at least a second apart
        // (real compactions run minutes to hours apart).
        self.require(
            compaction_interval_ns >= 1_000_000_000,
            "deletes.compaction_interval",
            "at least 1s",
            format!("{} s", compaction_interval_ns as f64 / 1e9),
            "compactions run minutes to hours apart; e.g. compaction_interval = \"1h\"",
        );
        DeleteConfig {
            fraction: d.fraction,
            gc_grace_ns,
            compaction_interval_ns,
        }
    }
}
