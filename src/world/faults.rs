//! The world's side of modelled faults: queuing the fault schedule, and what a crash,
//! a restart, a partition's start and end, and a bitrot strike do to the run's state.
//!
//! Decisions about sessions live here; the fault state and its randomness live in
//! `model::faults`. The rules (also in the README):
//! - A crash loses the node's in-memory trees. Every session in flight is aborted (its
//!   messages are ignored when they arrive) and waits; it restarts from its builds once
//!   every node is up and no partition is in force, so a restarted node always rebuilds
//!   its tree before the next comparison. A live (incrementally maintained) tree is lost
//!   too: the first session after the crash that uses it rebuilds it by a scan, holding
//!   a core like a scheduled build. The node's stored records survive.
//! - A partition blocks replication between its sides; anti-entropy sessions, which
//!   involve every replica, are aborted and wait for it to end, exactly as for a crash.
//! - Bitrot makes one stored record unreadable: the node's copy reverts to the initial
//!   state (version 0), which its next tree hashes differently, so anti-entropy finds
//!   and repairs it from an intact copy.

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
            FaultEvent::Crash { .. } | FaultEvent::PartitionStart { .. } => self.abort_sessions(),
            FaultEvent::PartitionEnd { .. } => {
                let all = KeyRange::new(0, self.params.cluster.key_count);
                let divergent = self.replicas.divergent_in(all).map(|(key, _)| key);
                self.faults.partition_ended(self.now, divergent);
            }
            FaultEvent::Restart { .. } => {}
        }
        if self.faults.all_clear() {
            for (spec, asked) in std::mem::take(&mut self.deferred) {
                self.start_session_since(spec, asked);
            }
        }
    }

    /// Aborts every session in flight: its trees are dropped, its pending messages will
    /// find no session, and it waits to be started again from scratch.
    fn abort_sessions(&mut self) {
        for (_, session) in std::mem::take(&mut self.sessions) {
            self.faults.counters.sessions_aborted += 1;
            self.deferred.push((session.spec, session.report.started));
        }
        self.sessions_changed();
    }

    pub(super) fn bitrot(&mut self) {
        if let Some((node, key)) = self.faults.bitrot_target(&self.replicas) {
            // Rot costs no write-path hashing: the node does not notice.
            self.replicas.set_version(node, key, 0, self.now);
        }
        if let Some(next) = self.faults.next_bitrot(self.now)
            && next <= self.params.end
        {
            self.queue.push(next, Event::Bitrot);
        }
    }
}
