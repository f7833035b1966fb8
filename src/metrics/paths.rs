//! What the repair paths before anti-entropy did (consistency levels, hinted handoff,
//! reads and read repair), and the attribution of every ended divergence to exactly
//! one path.

use super::StrategyResult;

/// Counters of the paths other than replication and anti-entropy. All counts are exact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathCounters {
    /// Client writes acknowledged at their consistency level before their deadline
    /// (at ONE, every write some replica applied).
    pub writes_acknowledged: u64,
    /// Divergence episodes ended by a hint's replay.
    pub healed_by_hint: u64,
    /// Divergence episodes ended by a read's (blocking) read repair.
    pub healed_by_read_repair: u64,
    /// Client reads made.
    pub reads: u64,
    /// Reads that returned an older version than the newest acknowledged one.
    pub reads_stale: u64,
    /// Reads that found fewer reachable replicas than their level waits for.
    pub reads_unavailable: u64,
    /// Records read repair wrote to a stale replica it contacted.
    pub read_repair_records: u64,
    /// Divergence episodes a tombstone purge ended (`model::tombstones`).
    pub healed_by_purge: u64,
}

/// Every divergence episode of a run, by the path that ended it (or still open).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Episodes begun (a key's replicas going from agreement to disagreement).
    pub begun: u64,
    /// Ended by replication: the write's own, or a later write's reaching every
    /// replica (`Counters::healed_by_replication` + `Counters::lost_writes_covered`).
    pub replication: u64,
    pub hint: u64,
    pub read_repair: u64,
    /// Ended by a tombstone purge (replicas that forgot the key agree with those that
    /// never had it).
    pub purge: u64,
    /// Ended by anti-entropy (`keys_repaired` + `repairs_raced_replication`).
    pub anti_entropy: u64,
    /// Still divergent at the end of the run.
    pub open: u64,
}

impl Attribution {
    /// The attribution of a finished run.
    pub fn of(result: &StrategyResult) -> Attribution {
        let c = &result.counters;
        Attribution {
            begun: result.divergences_begun,
            replication: c.healed_by_replication + c.lost_writes_covered,
            hint: c.paths.healed_by_hint,
            read_repair: c.paths.healed_by_read_repair,
            purge: c.paths.healed_by_purge,
            anti_entropy: c.keys_repaired + c.repairs_raced_replication,
            open: result.divergent_at_end,
        }
    }

    /// The episodes counted by some path or open: equals `begun` in every correct run
    /// (the world checks it as an invariant).
    pub fn accounted(&self) -> u64 {
        self.replication + self.hint + self.read_repair + self.purge + self.anti_entropy + self.open
    }

    /// The paths in report order, with their names.
    pub fn parts(&self) -> [(&'static str, u64); 6] {
        [
            ("replication", self.replication),
            ("hint replay", self.hint),
            ("read repair", self.read_repair),
            ("tombstone purge", self.purge),
            ("anti-entropy", self.anti_entropy),
            ("open at end", self.open),
        ]
    }
}
