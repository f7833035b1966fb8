//! What a world shows from outside while it runs (its ring, replicas, counters, the
//! invariant verdict), and the hooks tests and experiments place events with.

use super::{Event, InvariantChecks, InvariantViolation, World, paths};
use crate::metrics::{Counters, LatencyHistogram};
use crate::model::replicas::ReplicaTable;
use crate::model::ring::Ring;
use crate::model::{Key, NodeId};
use crate::sim::SimTime;

impl World {
    /// The token ring: which nodes store which keys.
    pub fn ring(&self) -> &Ring {
        &self.cluster.ring
    }

    /// The most repair sessions any node has taken part in at once so far (sessions
    /// waiting for a fault to clear included): never above the strategy's
    /// `max_sessions_per_node`, which the world checks as an invariant.
    pub fn peak_node_sessions(&self) -> u32 {
        self.repairs.peak_node_sessions
    }

    /// Each node's repair load so far: build core time, anti-entropy bytes sent and
    /// received, sessions completed.
    pub fn node_loads(&self) -> &[crate::metrics::ring::NodeLoad] {
        &self.repairs.node_load
    }

    /// Places a client write at `at`, outside the workload (for tests and experiments).
    pub fn schedule_write(&mut self, at: SimTime, key: Key, coordinator: NodeId, lose_replication: bool) {
        assert!(at >= self.now, "cannot schedule in the past");
        self.queue.push(
            at,
            Event::ScriptedWrite {
                key,
                coordinator,
                lose_replication,
                delete: false,
            },
        );
    }

    /// Places a client delete at `at` (a tombstone write), as [`schedule_write`](Self::schedule_write).
    pub fn schedule_delete(&mut self, at: SimTime, key: Key, coordinator: NodeId, lose_replication: bool) {
        assert!(at >= self.now, "cannot schedule in the past");
        self.queue.push(
            at,
            Event::ScriptedWrite {
                key,
                coordinator,
                lose_replication,
                delete: true,
            },
        );
    }

    /// Places a client read of `key` at `at` through `coordinator`, at the scenario's
    /// read consistency level, outside the read workload (for tests and experiments).
    pub fn schedule_read(&mut self, at: SimTime, key: Key, coordinator: NodeId) {
        assert!(at >= self.now, "cannot schedule in the past");
        let read = paths::ClientRead {
            key,
            coordinator,
            scripted: true,
        };
        self.queue.push(at, Event::ClientRead(read));
    }

    /// What hinted handoff did so far (all zero when hints are off).
    pub fn hint_counters(&self) -> crate::model::hints::HintCounters {
        self.paths.hints.as_ref().map(|h| h.counters).unwrap_or_default()
    }

    /// What deletes did so far (`None` without deletes).
    pub fn delete_counters(&self) -> Option<&crate::model::tombstones::DeleteCounters> {
        self.paths.tombstones.as_ref().map(|t| &t.counters)
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The replicas and their ground truth, for inspection.
    pub fn replicas(&self) -> &ReplicaTable {
        &self.cluster.replicas
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// What the modelled faults have done so far.
    pub fn fault_counters(&self) -> crate::model::faults::FaultCounters {
        self.faults.finish()
    }

    pub fn repair_latency(&self) -> &LatencyHistogram {
        &self.latencies.all
    }

    /// Chooses when whole-state invariants are checked (default: every sample).
    pub fn set_invariant_checks(&mut self, checks: InvariantChecks) {
        self.invariant_checks = checks;
    }

    /// Test hook: from now on, repairs run backwards (the receiver's older version is
    /// written over the sender's newer one): a broken repair, which the run must catch
    /// and stop at.
    #[doc(hidden)]
    pub fn break_repairs_for_test(&mut self) {
        self.broken_repair = true;
    }

    /// The invariant violation that stopped the run, if any.
    pub fn violation(&self) -> Option<&InvariantViolation> {
        self.violation.as_ref()
    }
}
