//! The run's invariants: what a broken one reports, when the whole-state checks run,
//! and the checks themselves (the oracle equals a recount, no acknowledged write is
//! lost, every divergence episode is attributed, replicas identical after quiescence).

use super::World;
use crate::model::{Key, NodeId};
use crate::sim::SimTime;
use std::fmt;

/// A broken model invariant: the run stops instead of writing wrong numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantViolation {
    pub time: SimTime,
    pub strategy: String,
    /// What was being handled when the violation was found (an event, or the check at a
    /// sample point or at the end of the run).
    pub event: String,
    /// The key concerned, when one is.
    pub key: Option<Key>,
    /// The nodes concerned (for a key: every node, with its version in `message`).
    pub nodes: Vec<NodeId>,
    pub message: String,
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant violated at t={}s in strategy '{}'\n  event: {}",
            self.time, self.strategy, self.event
        )?;
        if let Some(key) = self.key {
            write!(f, "\n  key:   {key}")?;
        }
        if !self.nodes.is_empty() {
            let nodes: Vec<String> = self.nodes.iter().map(usize::to_string).collect();
            write!(f, "\n  nodes: {}", nodes.join(", "))?;
        }
        write!(f, "\n  {}", self.message)
    }
}

impl std::error::Error for InvariantViolation {}

/// When the world checks its whole-state invariants (the oracle equals a recount, no
/// acknowledged write is lost, replicas are identical after quiescence). Cheap per-event
/// checks (a repair never lowers a version) always run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InvariantChecks {
    /// At every sample point and at the end (the default; costs O(stored keys) per sample).
    #[default]
    EverySample,
    /// Only at the end of the run.
    EndOnly,
}

impl World {
    /// Checks what must hold at any instant: the oracle's divergent count equals a
    /// recount from the replicas, and every acknowledged write is on some replica.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_state("an explicit check")
    }

    pub(super) fn violation_at(&self, event: &str, key: Option<Key>, message: String) -> InvariantViolation {
        let nodes = key.map_or_else(Vec::new, |key| self.cluster.ring.replicas_of(key).to_vec());
        InvariantViolation {
            time: self.now,
            strategy: self.params.strategy_name.clone(),
            event: event.to_string(),
            key,
            nodes,
            message,
        }
    }

    /// The whole-state invariants, found while handling `event`.
    pub(super) fn check_state(&self, event: &str) -> Result<(), InvariantViolation> {
        let audit = self.cluster.replicas.audit();
        let recount = audit.divergent;
        if recount != self.cluster.replicas.divergent_keys() {
            let (key, differ) = self.cluster.replicas.oracle_mismatch().expect("counts differ");
            return Err(self.violation_at(
                event,
                Some(key),
                format!(
                    "the oracle counts {} divergent keys but the replicas differ on {recount}; \
                     key {key} is {} by the oracle but its versions are {:?}",
                    self.cluster.replicas.divergent_keys(),
                    if differ { "consistent" } else { "divergent" },
                    self.cluster.replicas.versions(key)
                ),
            ));
        }
        if audit.lost_acknowledged
            && let Some((key, version)) = self.cluster.replicas.lost_acknowledged_write()
        {
            return Err(self.violation_at(
                event,
                Some(key),
                format!(
                    "acknowledged write of key {key} (version {version}) is on no replica; versions are {:?}",
                    self.cluster.replicas.versions(key)
                ),
            ));
        }
        if let Some((begun, accounted)) = self.unattributed_divergences() {
            return Err(self.violation_at(
                event,
                None,
                format!(
                    "{begun} divergence episodes began, but the repair paths ended and the open \
                     keys account for {accounted}: some divergence ended uncounted, or twice"
                ),
            ));
        }
        let quiescent = self.lossless && self.cluster.replication_in_flight == 0 && self.now >= self.workload.stop_at();
        if quiescent && let Some(key) = self.cluster.replicas.first_divergent() {
            return Err(self.violation_at(
                event,
                Some(key),
                format!(
                    "writes have stopped, nothing was lost and no replication is in flight, \
                     yet the replicas differ on key {key}: versions {:?}",
                    self.cluster.replicas.versions(key)
                ),
            ));
        }
        Ok(())
    }
}
