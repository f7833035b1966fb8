//! A session's rounds and streams: each chosen pair's reconciliation replayed on the
//! network (round trips, the responder's computation), the streaming of what differs
//! through the cluster's one door, and the session's end (the strategy hears of it).
//!
//! What is exchanged is the reconciler's business (`protocol::reconciler`); when and
//! over which replicas is the strategy's.

use super::session::{PairExchange, StreamPhase};
use super::{RepairEnv, Repairs};
use crate::model::{Key, KeyRange, NodeId};
use crate::protocol::reconciler::{Reconciler, Reconciliation, Summary};
use crate::protocol::{SessionId, SessionSpec};
use crate::sim::SimTime;
use crate::strategy::Ctx;
use crate::world::cluster::{Lowered, RecordChange, Replica};
use crate::world::{Event, InvariantViolation, MESSAGE_HEADER_BYTES};

impl Repairs {
    /// Every chosen pair reconciles its summaries; their exchanges start.
    pub(in crate::world) fn reconcile_pairs(&mut self, env: &mut RepairEnv, id: SessionId) {
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
            None => reconcile_by_range(self.reconciler.as_ref(), &session.spec, &summaries),
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
                pulled_nothing: Vec::new(),
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
            self.session_done(env, id);
            return;
        }
        for pair in 0..session.pairs.len() {
            self.next_round(env, id, pair);
        }
    }

    /// Starts the pair's next round trip, or its streaming once the rounds are over
    /// (every pair's streaming once every pair's rounds are, for a reconciler that
    /// syncs after every exchange: Cassandra's coordinator).
    pub(in crate::world) fn next_round(&mut self, env: &mut RepairEnv, id: SessionId, pair: usize) {
        let session = &self.sessions[&id];
        let exchange = &session.pairs[pair];
        if exchange.round < exchange.reconciliation.rounds.len() {
            self.send_round(env, id, pair, true);
            return;
        }
        let pulls_first = self
            .reconciler
            .pushes_after_pulls(&session.spec.pairs, session.spec.participants.len());
        if !self.reconciler.syncs_after_every_exchange() && !pulls_first {
            self.start_streams(env, id, pair, StreamPhase::BothWays);
        } else {
            let session = self.sessions.get_mut(&id).expect("live session");
            session.exchanges_pending -= 1;
            if session.exchanges_pending > 0 {
                return;
            }
            if pulls_first {
                session.phase = StreamPhase::Pulls;
                for pair in 0..session.pairs.len() {
                    self.start_streams(env, id, pair, StreamPhase::Pulls);
                }
                if self.sessions[&id].pulls_pending == 0 {
                    self.start_pushes(env, id);
                }
            } else {
                // Only the last pair's streams can end the session.
                for pair in 0..session.pairs.len() {
                    self.start_streams(env, id, pair, StreamPhase::BothWays);
                }
            }
        }
    }

    /// Every pull of the session is applied: each initiator pushes what its responder
    /// lacks, from its data as it now is.
    fn start_pushes(&mut self, env: &mut RepairEnv, id: SessionId) {
        let session = self.sessions.get_mut(&id).expect("live session");
        session.phase = StreamPhase::Pushes;
        for pair in 0..session.pairs.len() {
            self.start_streams(env, id, pair, StreamPhase::Pushes);
        }
    }

    /// The node of participant `index` of session `id`.
    pub(in crate::world) fn participant_node(&self, id: SessionId, index: usize) -> NodeId {
        self.sessions[&id].spec.participants[index].node
    }

    /// Sends `bytes` of anti-entropy traffic and books it on both nodes.
    pub(in crate::world) fn send_exchange(
        &mut self,
        env: &mut RepairEnv,
        from: NodeId,
        to: NodeId,
        bytes: u64,
    ) -> SimTime {
        self.node_load[from].bytes_sent = self.node_load[from].bytes_sent.saturating_add(bytes);
        self.node_load[to].bytes_received = self.node_load[to].bytes_received.saturating_add(bytes);
        env.network.send_exchange(from, to, bytes, env.now)
    }

    /// Sends the current round's request (initiator to responder) or reply.
    pub(in crate::world) fn send_round(&mut self, env: &mut RepairEnv, id: SessionId, pair: usize, request: bool) {
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
        env.counters.hashes_sent += message.hashes;
        env.counters.hash_bytes += message.bytes;
        let at = self.send_exchange(env, from, to, MESSAGE_HEADER_BYTES + message.bytes);
        let event = if request {
            Event::HashRequestArrives { session: id, pair }
        } else {
            Event::HashReplyArrives { session: id, pair }
        };
        env.queue.push(at, event);
    }

    pub(in crate::world) fn hash_request_arrives(&mut self, env: &mut RepairEnv, id: SessionId, pair: usize) {
        // Faults: messages of an aborted session find no one listening.
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        let exchange = &session.pairs[pair];
        let compute_ns = exchange.reconciliation.rounds[exchange.round].compute_ns;
        if compute_ns == 0 {
            self.send_round(env, id, pair, false);
        } else {
            // The endpoints decode (or re-encode) before the reply leaves.
            env.queue
                .push(env.now.after(compute_ns), Event::ReplyReady { session: id, pair });
        }
    }

    /// A round's computation is over: the reply leaves (unless the session was aborted).
    pub(in crate::world) fn reply_ready(&mut self, env: &mut RepairEnv, id: SessionId, pair: usize) {
        if self.sessions.contains_key(&id) {
            self.send_round(env, id, pair, false);
        }
    }

    pub(in crate::world) fn hash_reply_arrives(&mut self, env: &mut RepairEnv, id: SessionId, pair: usize) {
        if !self.sessions.contains_key(&id) {
            return;
        }
        env.counters.round_trips += 1;
        self.sessions.get_mut(&id).expect("live session").pairs[pair].round += 1;
        self.next_round(env, id, pair);
    }

    /// Both nodes of `pair` stream every divergent part to each other, one message per
    /// part and direction, reading their current data (not the snapshot); in a session
    /// whose initiators pull first, `phase` says which direction goes now.
    pub(in crate::world) fn start_streams(
        &mut self,
        env: &mut RepairEnv,
        id: SessionId,
        pair: usize,
        phase: StreamPhase,
    ) {
        let session = self.sessions.get_mut(&id).expect("live session");
        let exchange = &mut session.pairs[pair];
        let (a, b) = (exchange.a, exchange.b);
        let parts = match phase {
            // The parts stay for the pushes.
            StreamPhase::Pulls => exchange.reconciliation.divergent.clone(),
            StreamPhase::BothWays | StreamPhase::Pushes => std::mem::take(&mut exchange.reconciliation.divergent),
        };
        let messages_per_part = if phase == StreamPhase::BothWays { 2 } else { 1 };
        exchange.streams_pending = messages_per_part * parts.len();
        let pulled_nothing = std::mem::take(&mut exchange.pulled_nothing);
        if phase == StreamPhase::Pulls {
            session.pulls_pending += parts.len();
        }
        let (node_a, node_b) = (session.spec.participants[a].node, session.spec.participants[b].node);
        let (column_a, column_b) = (session.columns[a], session.columns[b]);
        let (pushes, pulls) = (phase != StreamPhase::Pulls, phase != StreamPhase::Pushes);
        let mut sends = Vec::with_capacity(messages_per_part * parts.len());
        let mut nothing_pulled = Vec::new();
        for (i, (part_a, part_b)) in parts.into_iter().enumerate() {
            let newer = |from, to, part: KeyRange, go: bool| {
                if go {
                    env.cluster.replicas.newer_records(from, to, part)
                } else {
                    Vec::new()
                }
            };
            let a_to_b = newer(column_a, column_b, part_a, pushes);
            let b_to_a = newer(column_b, column_a, part_b, pulls);
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
            let streamed = if pushes { part_a.len() } else { 0 } + if pulls { part_b.len() } else { 0 };
            match phase {
                StreamPhase::BothWays => {
                    env.counters.leaves_streamed += 1;
                    env.counters.clean_leaves_streamed += u64::from(a_to_b.is_empty() && b_to_a.is_empty());
                }
                StreamPhase::Pulls => nothing_pulled.push(b_to_a.is_empty()),
                StreamPhase::Pushes => {
                    env.counters.leaves_streamed += 1;
                    let pull_empty = pulled_nothing.get(i).copied().unwrap_or(true);
                    env.counters.clean_leaves_streamed += u64::from(a_to_b.is_empty() && pull_empty);
                }
            }
            env.counters.records_streamed += streamed;
            env.counters.records_needed += needed;
            env.counters.stream_bytes += streamed.saturating_mul(env.params.record_bytes);
            session.report.records_streamed += streamed;
            session.report.records_needed += needed;
            if pushes {
                sends.push((node_a, node_b, part_a.len(), a_to_b));
            }
            if pulls {
                sends.push((node_b, node_a, part_b.len(), b_to_a));
            }
        }
        if phase == StreamPhase::Pulls {
            session.pairs[pair].pulled_nothing = nothing_pulled;
        }
        for (from, to, keys, records) in sends {
            let bytes = MESSAGE_HEADER_BYTES.saturating_add(keys.saturating_mul(env.params.record_bytes));
            let arrives = self.send_exchange(env, from, to, bytes);
            let at = self.applied(env, to, arrives, keys);
            env.queue.push(
                at,
                Event::StreamArrives {
                    session: id,
                    pair,
                    to,
                    records: records.into_boxed_slice(),
                },
            );
        }
        if phase != StreamPhase::Pulls && self.sessions[&id].pairs[pair].streams_pending == 0 {
            self.pair_done(env, id);
        }
    }

    /// When a stream of `keys` records that arrives at `to` at `arrives` is applied: the
    /// receiver handles every record it is sent (it reads its own version of each and
    /// writes the newer ones) at `cluster.apply_cost_per_record`, one stream after
    /// another. Free by default, then the stream counts as applied on arrival.
    fn applied(&mut self, env: &RepairEnv, to: NodeId, arrives: SimTime, keys: u64) -> SimTime {
        let cost = env.params.apply_cost_ns_per_record;
        if cost == 0 {
            return arrives;
        }
        let node = &mut self.applied_until[to];
        *node = arrives.max(*node).after(keys.saturating_mul(cost));
        *node
    }

    pub(in crate::world) fn stream_arrives(
        &mut self,
        env: &mut RepairEnv,
        id: SessionId,
        pair: usize,
        to: NodeId,
        records: &[(Key, u64)],
    ) {
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
            let (target, column, value) = if env.broken_repair {
                (from, from_column, env.cluster.replicas.version(to_column, key))
            } else {
                (to, to_column, version)
            };
            let change = RecordChange::RepairStream {
                to: Replica { node: target, column },
                source: from,
                backwards: env.broken_repair,
            };
            let (cluster, mut change_env) = env.change_env();
            if let Err(Lowered { before, after }) = cluster.apply(change, key, value, &mut change_env) {
                *env.violation = Some(InvariantViolation {
                    time: env.now,
                    strategy: env.params.strategy_name.clone(),
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
        let session = self.sessions.get_mut(&id).expect("live session");
        session.pairs[pair].streams_pending -= 1;
        if session.phase == StreamPhase::Pulls {
            session.pulls_pending -= 1;
            if session.pulls_pending == 0 {
                self.start_pushes(env, id);
            }
            return;
        }
        if session.pairs[pair].streams_pending == 0 {
            self.pair_done(env, id);
        }
    }

    pub(in crate::world) fn pair_done(&mut self, env: &mut RepairEnv, id: SessionId) {
        let session = self.sessions.get_mut(&id).expect("live session");
        session.pairs_pending -= 1;
        if session.pairs_pending > 0 {
            return;
        }
        self.session_done(env, id);
    }

    /// Every pair of the session is done (or it had none): the strategy hears of it.
    pub(in crate::world) fn session_done(&mut self, env: &mut RepairEnv, id: SessionId) {
        let mut session = self.sessions.remove(&id).expect("live session");
        self.sessions_changed(env);
        session.report.finished = env.now;
        // A rebuild only (no pairs) compares nothing: not a repair session, and it
        // repairs no range.
        let compared = !session.spec.pairs.is_empty();
        env.counters.sessions += u64::from(compared);
        if compared && !session.reconciled.is_empty() {
            self.reconciler.session_succeeded(&session.reconciled);
        }
        for node in session.spec.nodes() {
            self.node_sessions[node] -= 1;
            self.node_load[node].sessions += 1;
        }
        if compared {
            let snapshot = session.snapshot_at.unwrap_or(session.report.started);
            for range in session.spec.repaired_ranges() {
                for piece in env.cluster.ring.pieces_overlapping(range) {
                    self.range_repairs.completed(piece, range, snapshot, env.now);
                }
            }
        }
        // The strategy's commands wait in `env.commands`: the world carries them out
        // once this handler returns (nothing follows a session's end in a handler).
        let mut ctx = Ctx::new(env.now, env.commands, env.faults);
        env.strategy.on_session_done(&mut ctx, &session.report);
    }
}

/// Each range's pairs reconciled on their own (a session over [common
/// ranges](crate::protocol::SessionSpec::common_ranges) is one reconciliation per range,
/// as Cassandra's coordinator compares each range's trees), in `spec.pairs` order.
fn reconcile_by_range(reconciler: &dyn Reconciler, spec: &SessionSpec, summaries: &[Summary]) -> Vec<Reconciliation> {
    if spec.ranges <= 1 {
        return reconciler.reconcile_session(summaries, &spec.pairs);
    }
    let mut by_pair: Vec<Option<Reconciliation>> = spec.pairs.iter().map(|_| None).collect();
    for block in spec.blocks() {
        let chosen: Vec<usize> = (0..spec.pairs.len())
            .filter(|&i| block.contains(&spec.pairs[i].0))
            .collect();
        let local: Vec<(usize, usize)> = chosen
            .iter()
            .map(|&i| (spec.pairs[i].0 - block.start, spec.pairs[i].1 - block.start))
            .collect();
        let reconciled = reconciler.reconcile_session(&summaries[block], &local);
        for (i, reconciliation) in chosen.into_iter().zip(reconciled) {
            by_pair[i] = Some(reconciliation);
        }
    }
    by_pair
        .into_iter()
        .map(|r| r.expect("every pair lies within one range's block"))
        .collect()
}
