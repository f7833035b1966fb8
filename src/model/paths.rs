//! The repair paths before anti-entropy, as configured: the consistency level writes
//! and reads wait for, hinted handoff, and the read workload. Plain configuration and
//! the rules that need no state (how many replicas a level waits for); the hint store
//! is `model::hints`, the world's handlers are `world::paths`.
//!
//! Everything here is off by default (`PathsConfig::default()`): writes acknowledged
//! at ONE as before, no hints, no reads, so a scenario without these tables gives the
//! results it gave before they existed.

use crate::sim::SimTime;

/// How many replicas a write or read waits for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConsistencyLevel {
    /// One replica (today's behaviour, the default).
    #[default]
    One,
    /// A majority of the key's replicas: `rf / 2 + 1`.
    Quorum,
    /// Every replica of the key.
    All,
}

impl ConsistencyLevel {
    /// Replicas the level waits for, out of `rf`.
    pub fn block_for(self, rf: usize) -> usize {
        match self {
            ConsistencyLevel::One => 1,
            ConsistencyLevel::Quorum => rf / 2 + 1,
            ConsistencyLevel::All => rf,
        }
    }

    /// The level's name in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            ConsistencyLevel::One => "one",
            ConsistencyLevel::Quorum => "quorum",
            ConsistencyLevel::All => "all",
        }
    }
}

/// Cassandra's `write_request_timeout` (2 s): the default write timeout.
pub const DEFAULT_WRITE_TIMEOUT_NS: u64 = 2_000_000_000;

/// Hinted handoff (`[hints]`).
#[derive(Clone, Debug, PartialEq)]
pub struct HintConfig {
    /// No hint is stored for a replica that has been down longer than this
    /// (Cassandra's `max_hint_window`, 3 h).
    pub window_ns: u64,
    /// A stored hint is first offered for replay this long after it was stored, and a
    /// hint whose replica is unreachable is retried this often (Cassandra's hint
    /// dispatcher runs every 10 s).
    pub replay_delay_ns: u64,
    /// Time between two replays from one coordinator to one replica (the inverse of
    /// the replay rate, Cassandra's `hinted_handoff_throttle`).
    pub replay_interval_ns: u64,
    /// Probability that a hint is dropped instead of stored (an overloaded
    /// coordinator: Cassandra's dropped hints under `max_hints_delivery_threads`
    /// pressure or a full hints directory).
    pub drop_probability: f64,
}

/// The read workload (`[reads]`): Poisson arrivals, keys drawn like the writes'.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadConfig {
    pub reads_per_s: f64,
}

/// Cassandra's `gc_grace_seconds` (10 days): the default gc_grace.
pub const DEFAULT_GC_GRACE_NS: u64 = 10 * 86_400_000_000_000;
/// Compactions every hour by default: a tombstone is purged within an hour after gc_grace.
pub const DEFAULT_COMPACTION_INTERVAL_NS: u64 = 3_600_000_000_000;

/// Deletes (`[deletes]`): a fraction of the client writes are deletes, whose tombstones
/// are purged after gc_grace.
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteConfig {
    /// Probability that a workload write is a delete.
    pub fraction: f64,
    /// Tombstones older than this are purged at the next compaction.
    pub gc_grace_ns: u64,
    /// Every replica compacts this often.
    pub compaction_interval_ns: u64,
}

/// Every repair path before anti-entropy, as the scenario configures them.
#[derive(Clone, Debug, PartialEq)]
pub struct PathsConfig {
    /// The level a write is acknowledged at.
    pub write_level: ConsistencyLevel,
    /// How long a coordinator waits for a replica's acknowledgement before it counts
    /// the replica as missed (and stores a hint for it, if hints are on).
    pub write_timeout_ns: u64,
    /// The level a read waits for (and compares, for read repair).
    pub read_level: ConsistencyLevel,
    pub hints: Option<HintConfig>,
    pub reads: Option<ReadConfig>,
    pub deletes: Option<DeleteConfig>,
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            write_level: ConsistencyLevel::One,
            write_timeout_ns: DEFAULT_WRITE_TIMEOUT_NS,
            read_level: ConsistencyLevel::One,
            hints: None,
            reads: None,
            deletes: None,
        }
    }
}

impl PathsConfig {
    /// True when nothing differs from the behaviour before these paths existed.
    pub fn is_default(&self) -> bool {
        *self == PathsConfig::default()
    }

    /// The deadline of a write made at `written`.
    pub fn write_deadline(&self, written: SimTime) -> SimTime {
        written.after(self.write_timeout_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_wait_for_one_a_majority_or_all() {
        let waits = |rf| {
            [ConsistencyLevel::One, ConsistencyLevel::Quorum, ConsistencyLevel::All].map(|level| level.block_for(rf))
        };
        assert_eq!(waits(3), [1, 2, 3]);
        assert_eq!(waits(2), [1, 2, 2]);
        assert_eq!(waits(5), [1, 3, 5]);
    }
}
