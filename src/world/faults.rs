//! The world's side of modelled faults: queuing the fault schedule, and what a crash,
//! a restart, a partition's start and end, and a bitrot strike do to the run's state.
//!
//! Decisions about sessions live here; the fault state and its randomness live in
//! `model::faults`. The rules (also in docs/reference.md, Faults):
//! - A crash loses the node's in-memory trees. Every session in flight that the node
//!   takes part in is aborted (its messages are ignored when they arrive) and waits; it
//!   restarts from its builds once all of its replicas are up and no partition
//!   separates two of them, so a restarted node always rebuilds its tree before the
//!   next comparison. Sessions over other ranges carry on: faults are local. A live (incrementally maintained) tree is lost
//!   too: the first session after the crash that uses it rebuilds it by a scan, holding
//!   a core like a scheduled build. The node's stored records survive.
//! - A partition blocks replication between its sides; anti-entropy sessions with
//!   replicas on both sides are aborted and wait for it to end, exactly as for a crash.
//! - Bitrot makes one stored record unreadable: the node's copy reverts to the initial
//!   state (version 0), which its next tree hashes differently, so anti-entropy finds
//!   and repairs it from an intact copy.

use super::cluster::{RecordChange, Replica};
use super::{Event, World};
use crate::model::KeyRange;
use crate::model::faults::FaultEvent;
use crate::sim::SimTime;

impl World {
    /// Queues every scheduled fault and the first bitrot strike (nothing when the
    /// scenario has no faults).
    pub(super) fn schedule_faults(&mut self) {
        for (at, event) in self.faults.schedule() {
            if at <= self.params.end {
                self.queue.push(at, Event::Fault(event));
            }
        }
        if let Some(at) = self.faults.next_bitrot(SimTime::ZERO)
            && at <= self.params.end
        {
            self.queue.push(at, Event::Bitrot);
        }
    }

    pub(super) fn fault(&mut self, event: FaultEvent) {
        self.faults.apply(event, self.now);
        match event {
            FaultEvent::Crash { node } => {
                self.hints_crash(node);
                self.abort_sessions();
            }
            FaultEvent::PartitionStart { .. } => self.abort_sessions(),
            FaultEvent::PartitionEnd { .. } => {
                let all = KeyRange::new(0, self.params.key_count);
                let divergent = self.cluster.replicas.divergent_in(all).map(|(key, _)| key);
                self.faults.partition_ended(self.now, divergent);
            }
            FaultEvent::Restart { .. } => {}
        }
        let (repairs, mut env) = self.repair_env();
        repairs.readmit_deferred(&mut env);
    }

    /// Aborts every session in flight that a fault now stops, then carries out what
    /// the strategy asked for on hearing of it.
    fn abort_sessions(&mut self) {
        let (repairs, mut env) = self.repair_env();
        repairs.abort_stopped(&mut env);
        self.apply_commands();
    }

    pub(super) fn bitrot(&mut self) {
        let ring = &self.cluster.ring;
        if let Some((column, key)) = self
            .faults
            .bitrot_target(&self.cluster.replicas, |key, column| ring.node_at(key, column))
        {
            let to = Replica {
                node: self.cluster.ring.node_at(key, column),
                column,
            };
            let (cluster, mut env) = self.change_env();
            cluster
                .apply(RecordChange::Rot { to }, key, 0, &mut env)
                .expect("rot is not checked");
        }
        if let Some(next) = self.faults.next_bitrot(self.now)
            && next <= self.params.end
        {
            self.queue.push(next, Event::Bitrot);
        }
    }
}
