//! The world's side of the repair protocol: a session's admission, its builds on each
//! participant's cores, the reconciliation of each chosen pair replayed on the network,
//! and the streaming of what differs.
//!
//! What is exchanged is the reconciler's business (`protocol::reconciler`); when and
//! over which replicas is the strategy's. This file only moves a session through its
//! phases and charges their cost in virtual time.

use super::cluster::{Lowered, RecordChange, Replica};
use super::session::{PairExchange, Session};
use super::{Event, InvariantViolation, MESSAGE_HEADER_BYTES, World};
use crate::model::{Key, NodeId};
use crate::protocol::{SessionId, SessionSpec, TreeMaintenance};
use crate::sim::SimTime;
use crate::strategy::Ctx;

impl World {
    /// A session the strategy asked for: counts it against each participant's
    /// concurrency limit (a violation if the strategy overstepped it), then starts it.
    pub(super) fn start_session(&mut self, spec: SessionSpec) {
        for node in spec.nodes() {
            self.node_sessions[node] += 1;
            self.peak_node_sessions = self.peak_node_sessions.max(self.node_sessions[node]);
            if let Some(limit) = self.params.max_sessions_per_node
                && self.node_sessions[node] > limit
                && self.violation.is_none()
            {
                self.violation = Some(InvariantViolation {
                    time: self.now,
                    strategy: self.params.strategy_name.clone(),
                    event: format!("StartSession (tag {})", spec.tag),
                    key: None,
                    nodes: vec![node],
                    message: format!(
                        "node {node} would take part in {} repair sessions at once; the limit is {limit}",
                        self.node_sessions[node]
                    ),
                });
            }
        }
        self.start_session_since(spec, self.now);
    }

    /// Whether every participant of `spec` is up and no partition separates two of
    /// them: only then can the session run (faults are local to the ring).
    pub(super) fn can_run(&self, spec: &SessionSpec) -> bool {
        let nodes: Vec<NodeId> = spec.nodes().collect();
        nodes.iter().all(|&n| !self.faults.is_down(n))
            && nodes
                .iter()
                .enumerate()
                .all(|(i, &a)| nodes[i + 1..].iter().all(|&b| !self.faults.separated(a, b)))
    }

    /// Starts a session first asked for at `asked` (earlier than now if it waited).
    pub(super) fn start_session_since(&mut self, spec: SessionSpec, asked: SimTime) {
        // Faults: a session waits while one of its replicas is down or cut off.
        if !self.faults.all_clear() && !self.can_run(&spec) {
            self.deferred.push((spec, asked));
            return;
        }
        let id = self.next_session;
        self.next_session += 1;
        let columns = spec
            .participants
            .iter()
            .map(|p| {
                self.cluster
                    .ring
                    .position(p.node, p.range.start)
                    .expect("a strategy compares a range only on its replicas")
            })
            .collect();
        let mut session = Session::new(id, spec, columns, self.now);
        session.report.started = asked;
        self.sessions.insert(id, session);
        self.sessions_changed();
        if self.params.session_overhead_ns > 0 {
            let at = self.now.after(self.params.session_overhead_ns);
            self.queue.push(at, Event::SessionReady { session: id });
        } else {
            self.request_builds(id);
        }
    }

    /// The session's setup is over: each participant builds (or snapshots) its summary.
    pub(super) fn request_builds(&mut self, id: SessionId) {
        // Faults: the session may have been aborted during its setup.
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        let live = session.spec.tree == TreeMaintenance::Live;
        // Sequential repair: one replica builds at a time, the next when it is done.
        let first_only = self.params.sequential_builds && !live;
        let participants = session.spec.participants.len();
        let count = if first_only { 1 } else { participants };
        if first_only {
            // Cassandra's sequential repair snapshots every replica first, then
            // validates the snapshots one at a time: every tree describes one instant.
            for index in 0..participants {
                self.snapshot(id, index);
            }
        }
        for index in 0..count {
            self.request_build(id, index);
        }
    }

    /// Participant `index` of session `id` builds (or snapshots) its summary.
    fn request_build(&mut self, id: SessionId, index: usize) {
        let session = &self.sessions[&id];
        let live = session.spec.tree == TreeMaintenance::Live;
        let participant = session.spec.participants[index];
        let node = participant.node;
        // Faults: a live tree lost in a crash is rebuilt by a scan, like a scheduled one.
        let lost = live && self.faults.live_tree_lost(node, participant.range);
        let cores = &mut self.cores[node];
        if live && !lost {
            self.snapshot(id, index);
            self.queue.push(
                self.now,
                Event::BuildDone {
                    session: id,
                    node,
                    held_core: false,
                },
            );
        } else if cores.free > 0 {
            cores.free -= 1;
            self.cores_changed();
            self.start_build(id, index);
        } else {
            cores.waiting.push_back((id, index));
        }
    }

    /// Gives `node`'s freed core to the next live session waiting for one, if any.
    fn next_build(&mut self, node: NodeId) {
        while let Some((next, participant)) = self.cores[node].waiting.pop_front() {
            if self.sessions.contains_key(&next) {
                self.start_build(next, participant);
                return;
            }
        }
        self.cores[node].free += 1;
        self.cores_changed();
    }

    /// Books the cores busy building trees (all nodes) as of now.
    fn cores_changed(&mut self) {
        let busy = self
            .cores
            .iter()
            .zip(&self.params.node_cores)
            .map(|(c, &total)| u64::from(total - c.free))
            .sum();
        self.cores_busy.set(self.now, busy);
    }

    /// The participant's summary of its range, as the data stands now. For a live tree
    /// this is the tree itself; for a scheduled one, the snapshot its scan starts from.
    fn snapshot(&mut self, id: SessionId, participant: usize) {
        let session = self.sessions.get_mut(&id).expect("live session");
        session.snapshot_at.get_or_insert(self.now);
        let p = session.spec.participants[participant];
        let column = session.columns[participant];
        session.summaries[participant] =
            Some(
                self.reconciler
                    .summarize(p.node, column, p.range, session.spec.leaves, &self.cluster.replicas),
            );
    }

    /// Takes the participant's snapshot now (unless a sequential repair took it when the
    /// session started), and holds a core of its node for the scan.
    fn start_build(&mut self, id: SessionId, participant: usize) {
        if self.sessions[&id].summaries[participant].is_none() {
            self.snapshot(id, participant);
        }
        let session = &self.sessions[&id];
        let p = session.spec.participants[participant];
        if session.spec.tree == TreeMaintenance::Live {
            self.faults.live_tree_rebuilt(p.node, p.range, self.now);
        }
        self.counters.tree_builds += 1;
        let summary = session.summaries[participant].as_ref().expect("snapshot taken");
        self.counters.keys_scanned += self.reconciler.keys_validated(summary, p.range);
        let scan_ns = self
            .reconciler
            .build_cost_ns(summary, p.range, self.params.scan_cost_ns_per_key);
        let load = &mut self.node_load[p.node];
        load.build_core_ns = load.build_core_ns.saturating_add(scan_ns);
        self.queue.push(
            self.now.after(scan_ns),
            Event::BuildDone {
                session: id,
                node: p.node,
                held_core: true,
            },
        );
    }

    pub(super) fn build_done(&mut self, id: SessionId, node: NodeId, held_core: bool) {
        if held_core {
            self.next_build(node);
        }
        // Faults: the session may have been aborted while this build ran.
        let Some(session) = self.sessions.get_mut(&id) else {
            return;
        };
        session.builds_pending -= 1;
        if session.builds_pending > 0 {
            if self.params.sequential_builds && session.spec.tree != TreeMaintenance::Live {
                let next = session.spec.participants.len() - session.builds_pending;
                self.request_build(id, next);
            }
            return;
        }
        session.report.trees_ready = self.now;
        if let Some(pause_ns) = self.reconciler.second_look_after_ns()
            && !session.spec.pairs.is_empty()
        {
            // Tictac's double compare: keep this look, take another after the pause.
            session.first_looks = Some(session.summaries.iter_mut().map(|s| s.take().expect("built")).collect());
            self.queue
                .push(self.now.after(pause_ns), Event::SecondLook { session: id });
            return;
        }
        self.reconcile_pairs(id);
    }

    /// The pause of a double compare is over: every participant looks again (a live
    /// tree: no scan), then the pairs reconcile both looks.
    pub(super) fn second_look(&mut self, id: SessionId) {
        // Faults: the session may have been aborted during the pause.
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        for participant in 0..session.spec.participants.len() {
            self.snapshot(id, participant);
        }
        self.reconcile_pairs(id);
    }

    /// Every chosen pair reconciles its summaries; their exchanges start.
    fn reconcile_pairs(&mut self, id: SessionId) {
        let session = self.sessions.get_mut(&id).expect("live session");
        let summaries: Vec<_> = session.summaries.iter_mut().map(|s| s.take().expect("built")).collect();
        let reconciliations: Vec<_> = match session.first_looks.take() {
            // Tictac's double compare: each pair keeps what both looks saw.
            Some(first) => session
                .spec
                .pairs
                .iter()
                .map(|&(a, b)| {
                    self.reconciler
                        .reconcile_twice((&first[a], &first[b]), (&summaries[a], &summaries[b]))
                })
                .collect(),
            None => self.reconciler.reconcile_session(&summaries, &session.spec.pairs),
        };
        for (&(a, b), reconciliation) in session.spec.pairs.iter().zip(reconciliations) {
            session.report.hashes_compared += reconciliation.hashes_compared;
            session.report.divergent_leaves += reconciliation.divergent.len() as u64;
            session.pairs.push(PairExchange {
                a,
                b,
                reconciliation,
                round: 0,
                streams_pending: 0,
            });
        }
        if self.reconciler.remembers_sessions() {
            session.reconciled = summaries;
        }
        session.pairs_pending = session.pairs.len();
        session.exchanges_pending = session.pairs.len();
        if session.pairs.is_empty() {
            // A session without pairs only rebuilds its participants' trees (Riak's
            // scheduled tree rebuild): it is over once they are built.
            self.session_done(id);
            return;
        }
        for pair in 0..session.pairs.len() {
            self.next_round(id, pair);
        }
    }

    /// Starts the pair's next round trip, or its streaming once the rounds are over
    /// (every pair's streaming once every pair's rounds are, for a reconciler that
    /// syncs after every exchange: Cassandra's coordinator).
    fn next_round(&mut self, id: SessionId, pair: usize) {
        let exchange = &self.sessions[&id].pairs[pair];
        if exchange.round < exchange.reconciliation.rounds.len() {
            self.send_round(id, pair, true);
        } else if !self.reconciler.syncs_after_every_exchange() {
            self.start_streams(id, pair);
        } else {
            let session = self.sessions.get_mut(&id).expect("live session");
            session.exchanges_pending -= 1;
            if session.exchanges_pending == 0 {
                // Only the last pair's streams can end the session.
                for pair in 0..session.pairs.len() {
                    self.start_streams(id, pair);
                }
            }
        }
    }

    /// The node of participant `index` of session `id`.
    fn participant_node(&self, id: SessionId, index: usize) -> NodeId {
        self.sessions[&id].spec.participants[index].node
    }

    /// Sends `bytes` of anti-entropy traffic and books it on both nodes.
    fn send_exchange(&mut self, from: NodeId, to: NodeId, bytes: u64) -> SimTime {
        self.node_load[from].bytes_sent = self.node_load[from].bytes_sent.saturating_add(bytes);
        self.node_load[to].bytes_received = self.node_load[to].bytes_received.saturating_add(bytes);
        self.network.send_exchange(from, to, bytes, self.now)
    }

    /// Sends the current round's request (initiator to responder) or reply.
    fn send_round(&mut self, id: SessionId, pair: usize, request: bool) {
        let exchange = &self.sessions[&id].pairs[pair];
        let round = exchange.reconciliation.rounds[exchange.round];
        let (a, b) = (exchange.a, exchange.b);
        let (from, to, message) = if request {
            (
                self.participant_node(id, a),
                self.participant_node(id, b),
                round.request,
            )
        } else {
            (self.participant_node(id, b), self.participant_node(id, a), round.reply)
        };
        self.counters.hashes_sent += message.hashes;
        self.counters.hash_bytes += message.bytes;
        let at = self.send_exchange(from, to, MESSAGE_HEADER_BYTES + message.bytes);
        let event = if request {
            Event::HashRequestArrives { session: id, pair }
        } else {
            Event::HashReplyArrives { session: id, pair }
        };
        self.queue.push(at, event);
    }

    pub(super) fn hash_request_arrives(&mut self, id: SessionId, pair: usize) {
        // Faults: messages of an aborted session find no one listening.
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        let exchange = &session.pairs[pair];
        let compute_ns = exchange.reconciliation.rounds[exchange.round].compute_ns;
        if compute_ns == 0 {
            self.send_round(id, pair, false);
        } else {
            // The endpoints decode (or re-encode) before the reply leaves.
            self.queue
                .push(self.now.after(compute_ns), Event::ReplyReady { session: id, pair });
        }
    }

    /// A round's computation is over: the reply leaves (unless the session was aborted).
    pub(super) fn reply_ready(&mut self, id: SessionId, pair: usize) {
        if self.sessions.contains_key(&id) {
            self.send_round(id, pair, false);
        }
    }

    pub(super) fn hash_reply_arrives(&mut self, id: SessionId, pair: usize) {
        if !self.sessions.contains_key(&id) {
            return;
        }
        self.counters.round_trips += 1;
        self.sessions.get_mut(&id).expect("live session").pairs[pair].round += 1;
        self.next_round(id, pair);
    }

    /// Both nodes of `pair` stream every divergent part to each other, one message per
    /// part and direction, reading their current data (not the snapshot).
    fn start_streams(&mut self, id: SessionId, pair: usize) {
        let session = self.sessions.get_mut(&id).expect("live session");
        let exchange = &mut session.pairs[pair];
        let (a, b) = (exchange.a, exchange.b);
        let parts = std::mem::take(&mut exchange.reconciliation.divergent);
        exchange.streams_pending = 2 * parts.len();
        let (node_a, node_b) = (session.spec.participants[a].node, session.spec.participants[b].node);
        let (column_a, column_b) = (session.columns[a], session.columns[b]);
        let mut sends = Vec::with_capacity(2 * parts.len());
        for (part_a, part_b) in parts {
            let a_to_b = self.cluster.replicas.newer_records(column_a, column_b, part_a);
            let b_to_a = self.cluster.replicas.newer_records(column_b, column_a, part_b);
            // Needed: what the receiver lacks and no other pair of this session already
            // sent it (with three or more replicas two pairs can carry the same record).
            let needed = a_to_b
                .iter()
                .filter(|&&(key, _)| session.needed.insert((node_b, key)))
                .count()
                + b_to_a
                    .iter()
                    .filter(|&&(key, _)| session.needed.insert((node_a, key)))
                    .count();
            let needed = needed as u64;
            let streamed = part_a.len() + part_b.len();
            self.counters.leaves_streamed += 1;
            self.counters.clean_leaves_streamed += u64::from(a_to_b.is_empty() && b_to_a.is_empty());
            self.counters.records_streamed += streamed;
            self.counters.records_needed += needed;
            self.counters.stream_bytes += streamed.saturating_mul(self.params.record_bytes);
            session.report.records_streamed += streamed;
            session.report.records_needed += needed;
            sends.push((node_a, node_b, part_a.len(), a_to_b));
            sends.push((node_b, node_a, part_b.len(), b_to_a));
        }
        for (from, to, keys, records) in sends {
            let bytes = MESSAGE_HEADER_BYTES.saturating_add(keys.saturating_mul(self.params.record_bytes));
            let at = self.send_exchange(from, to, bytes);
            self.queue.push(
                at,
                Event::StreamArrives {
                    session: id,
                    pair,
                    to,
                    records: records.into_boxed_slice(),
                },
            );
        }
        if self.sessions[&id].pairs[pair].streams_pending == 0 {
            self.pair_done(id);
        }
    }

    pub(super) fn stream_arrives(&mut self, id: SessionId, pair: usize, to: NodeId, records: &[(Key, u64)]) {
        if !self.sessions.contains_key(&id) {
            return;
        }
        let (from, to_column, from_column) = {
            let session = &self.sessions[&id];
            let exchange = &session.pairs[pair];
            let (mut sender, mut receiver) = (exchange.b, exchange.a);
            if session.spec.participants[exchange.a].node != to {
                (sender, receiver) = (receiver, sender);
            }
            (
                session.spec.participants[sender].node,
                session.columns[receiver],
                session.columns[sender],
            )
        };
        for &(key, version) in records {
            // A correct repair keeps the newer version on the receiver. The test hook's
            // broken repair runs backwards: it copies the receiver's older version over
            // the sender's newer one.
            let (target, column, value) = if self.broken_repair {
                (from, from_column, self.cluster.replicas.version(to_column, key))
            } else {
                (to, to_column, version)
            };
            let change = RecordChange::RepairStream {
                to: Replica { node: target, column },
                source: from,
                backwards: self.broken_repair,
            };
            let (cluster, mut env) = self.change_env();
            if let Err(Lowered { before, after }) = cluster.apply(change, key, value, &mut env) {
                self.violation = Some(InvariantViolation {
                    time: self.now,
                    strategy: self.params.strategy_name.clone(),
                    event: format!(
                        "StreamArrives (session {id}, pair {pair}: records of node {from} streamed to node {to})"
                    ),
                    key: Some(key),
                    nodes: vec![from, to],
                    message: format!(
                        "a repair lowered node {target}'s version of key {key} from {before} to {after} \
                         (streamed version {version})"
                    ),
                });
                return;
            }
        }
        let exchange = &mut self.sessions.get_mut(&id).expect("live session").pairs[pair];
        exchange.streams_pending -= 1;
        if exchange.streams_pending == 0 {
            self.pair_done(id);
        }
    }

    fn pair_done(&mut self, id: SessionId) {
        let session = self.sessions.get_mut(&id).expect("live session");
        session.pairs_pending -= 1;
        if session.pairs_pending > 0 {
            return;
        }
        self.session_done(id);
    }

    /// Every pair of the session is done (or it had none): the strategy hears of it.
    fn session_done(&mut self, id: SessionId) {
        let mut session = self.sessions.remove(&id).expect("live session");
        self.sessions_changed();
        session.report.finished = self.now;
        // A rebuild only (no pairs) compares nothing: not a repair session, and it
        // repairs no range.
        let compared = !session.spec.pairs.is_empty();
        self.counters.sessions += u64::from(compared);
        if compared && !session.reconciled.is_empty() {
            self.reconciler.session_succeeded(&session.reconciled);
        }
        for node in session.spec.nodes() {
            self.node_sessions[node] -= 1;
            self.node_load[node].sessions += 1;
        }
        if compared {
            let range = session.spec.range();
            let snapshot = session.snapshot_at.unwrap_or(session.report.started);
            for piece in self.cluster.ring.pieces_overlapping(range) {
                self.range_repairs.completed(piece, range, snapshot, self.now);
            }
        }
        let mut ctx = Ctx::new(self.now, &mut self.commands, &self.faults);
        self.strategy.on_session_done(&mut ctx, &session.report);
        self.apply_commands();
    }
}
