//! The world's side of client writes: drawing the workload's writes, the coordinator's
//! own apply, and each replication message's journey to the other replicas of the key
//! (lost, delayed, duplicated, or applied on arrival).
//!
//! The records themselves change through the cluster's one door
//! ([`Cluster::apply`](super::cluster::Cluster::apply)); the acknowledgement rule is
//! [`Acknowledgement::rule`]. This file decides when messages go and arrive.

use super::cluster::{Acknowledgement, ChangeEnv, Cluster, RecordChange};
use super::{Event, World};
use crate::model::network::Delivery;
use crate::model::ring::CoordinatorChoice;
use crate::model::workload::ClientWrite;
use crate::model::{Key, NodeId, Version};
use crate::sim::SimTime;
use std::sync::Arc;

impl World {
    /// The cluster and what a record change may touch, borrowed apart.
    pub(super) fn change_env(&mut self) -> (&mut Cluster, ChangeEnv<'_>) {
        (
            &mut self.cluster,
            ChangeEnv {
                now: self.now,
                counters: &mut self.counters,
                faults: &mut self.faults,
                strategy: &mut *self.strategy,
                tombstones: self.paths.tombstones.as_mut(),
                latencies: &mut self.latencies,
                workload: &self.workload,
            },
        )
    }

    /// The workload's write arrives: the next one is drawn, this one is made.
    pub(super) fn workload_write(&mut self, write: ClientWrite) {
        let next = self.draw_next_write(self.now);
        let chosen = self.chosen_coordinator(write);
        let delete = self.draw_delete();
        self.client_write(write.key, chosen, false, delete);
        if let Some((at, next)) = next {
            self.cluster.replicas.prefetch_slot(next.key);
            self.queue.push(at, Event::ClientWrite(next));
        }
    }

    /// Draws the workload's next write after one at `now`, with its arrival instant, and
    /// asks the replica table to start fetching its key's bucket: at 10^9 keys a write's
    /// first touch of the table misses cache, and fetching ahead overlaps the miss with
    /// the work in between. The draws are those of drawing at the write's arrival: each
    /// stream is drawn in the same order, and the key for the arrival instant.
    pub(super) fn draw_next_write(&mut self, now: SimTime) -> Option<(SimTime, ClientWrite)> {
        let at = self.workload.next_arrival(now)?;
        let write = self.workload.next_write(at);
        self.cluster.replicas.prefetch_bucket(write.key);
        Some((at, write))
    }

    /// The node a workload write's client chose: its draw is a node, or with
    /// token-aware clients an index into the key's replicas.
    fn chosen_coordinator(&self, write: ClientWrite) -> NodeId {
        match self.cluster.ring.coordinator_choice() {
            CoordinatorChoice::Any => write.coordinator,
            CoordinatorChoice::Replica => self.cluster.ring.replicas_of(write.key)[write.coordinator],
        }
    }

    /// A client write of `key` through the node its client `chosen`: the coordinator
    /// applies it if it is a replica, and sends one replication message to each other
    /// replica of the key (each lost when `lose_replication` is set).
    pub(super) fn client_write(&mut self, key: Key, chosen: NodeId, lose_replication: bool, delete: bool) {
        let ring = Arc::clone(&self.cluster.ring);
        let replicas = ring.replicas_of(key);
        // Faults: a client whose node is down retries on the next one up.
        let Some(coordinator) = self.faults.coordinator(chosen) else {
            return;
        };
        let version = self.cluster.new_version();
        self.counters.writes += 1;
        if delete {
            self.deleted(key, version);
        }
        let local = self.cluster.replica(coordinator, key);
        match local {
            Some(to) => {
                let acknowledgement = Acknowledgement::rule(self.paths.above_one(), true, true);
                let change = RecordChange::ClientWrite { to, acknowledgement };
                let (cluster, mut env) = self.change_env();
                let applied = cluster
                    .apply(change, key, version, &mut env)
                    .expect("a write never lowers");
                debug_assert!(applied.changed, "a client write's version is newer than every copy");
            }
            None => self.counters.writes_forwarded += 1,
        }
        self.write_begins(key, version, local.is_some());
        for &to in replicas.iter().filter(|&&n| n != coordinator) {
            self.send_replication((coordinator, to), (key, version), lose_replication);
        }
        self.write_sent(version);
    }

    /// Sends one replication message of `version` of `key` from the coordinator to the
    /// replica `to`: lost on the network (or by the script), dropped by a fault, or
    /// scheduled to arrive (perhaps held back, perhaps twice).
    fn send_replication(&mut self, (coordinator, to): (NodeId, NodeId), (key, version): (Key, Version), lose: bool) {
        self.counters.replication_messages += 1;
        // The network is asked even for scripted losses, so a scripted write draws
        // the same random numbers as any other and shifts nothing after it.
        let delivery = self.network.send_replication(self.now);
        let Delivery::Arrives(at) = delivery else {
            self.counters.lost_messages += 1;
            self.replication_sent((coordinator, to), (key, version), None);
            return;
        };
        if lose {
            self.counters.lost_messages += 1;
            self.replication_sent((coordinator, to), (key, version), None);
            return;
        }
        let message = Event::ReplicationArrives {
            from: coordinator,
            to,
            key,
            version,
            written: self.now,
        };
        // Faults: a message into a crashed node or across a partition is lost; one
        // that goes may be held back, or delivered twice.
        if self.faults.drops_replication(coordinator, to, key) {
            self.counters.lost_messages += 1;
            self.replication_sent((coordinator, to), (key, version), None);
            return;
        }
        let (at, again) = self.faults.deliveries(at);
        self.replication_sent((coordinator, to), (key, version), Some(at));
        self.cluster.replication_scheduled(key, to, version);
        self.queue.push(at, message);
        if let Some(again) = again {
            self.cluster.replication_scheduled(key, to, version);
            self.queue.push(
                again,
                Event::ReplicationArrives {
                    from: coordinator,
                    to,
                    key,
                    version,
                    written: self.now,
                },
            );
        }
    }

    /// A replication message from the coordinator `from` reaches the replica `to`.
    pub(super) fn replication_arrives(
        &mut self,
        (from, to): (NodeId, NodeId),
        (key, version): (Key, Version),
        written: SimTime,
    ) {
        self.cluster.replication_landed(key, to, version);
        // Faults: a receiver that is down, or cut off, never sees the message.
        if self.faults.drops_replication(from, to, key) {
            self.counters.lost_messages += 1;
            self.replication_arrived((from, to), (key, version), written, false);
            return;
        }
        let replica = self.cluster.replica(to, key).expect("replication goes to replicas");
        let coordinator_is_replica = self.cluster.ring.position(from, key).is_some();
        let change = RecordChange::Replication {
            to: replica,
            acknowledgement: Acknowledgement::rule(self.paths.above_one(), coordinator_is_replica, false),
            written,
        };
        let (cluster, mut env) = self.change_env();
        cluster
            .apply(change, key, version, &mut env)
            .expect("replication never lowers");
        self.replication_arrived((from, to), (key, version), written, true);
    }
}
