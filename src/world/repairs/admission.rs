//! A session's admission and builds: the per-node session limit (an invariant),
//! deferral while a fault stops it, the setup overhead, and each participant's summary
//! built on one of its node's cores (or snapshotted from a live tree), one after another
//! with sequential builds; a double compare's second look.

use super::Session;
use super::{RepairEnv, Repairs};
use crate::model::NodeId;
use crate::model::faults::Faults;
use crate::protocol::{SessionId, SessionSpec, TreeMaintenance};
use crate::sim::SimTime;
use crate::world::{Event, InvariantViolation};

impl Repairs {
    /// A session the strategy asked for: counts it against each participant's
    /// concurrency limit (a violation if the strategy overstepped it), then starts it.
    pub(in crate::world) fn start_session(&mut self, env: &mut RepairEnv, spec: SessionSpec) {
        for node in spec.nodes() {
            self.node_sessions[node] += 1;
            self.peak_node_sessions = self.peak_node_sessions.max(self.node_sessions[node]);
            if let Some(limit) = env.params.max_sessions_per_node
                && self.node_sessions[node] > limit
                && env.violation.is_none()
            {
                *env.violation = Some(InvariantViolation {
                    time: env.now,
                    strategy: env.params.strategy_name.clone(),
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
        self.start_session_since(env, spec, env.now);
    }

    /// Starts a session first asked for at `asked` (earlier than now if it waited).
    pub(in crate::world) fn start_session_since(&mut self, env: &mut RepairEnv, spec: SessionSpec, asked: SimTime) {
        // Faults: a session waits while one of its replicas is down or cut off.
        if !env.faults.all_clear() && !can_run(env.faults, &spec) {
            self.deferred.push((spec, asked));
            return;
        }
        let id = self.next_session;
        self.next_session += 1;
        let columns = spec
            .participants
            .iter()
            .map(|p| {
                env.cluster
                    .ring
                    .position(p.node, p.range.start)
                    .expect("a strategy compares a range only on its replicas")
            })
            .collect();
        let mut session = Session::new(id, spec, columns, env.now);
        session.report.started = asked;
        self.sessions.insert(id, session);
        self.sessions_changed(env);
        if env.params.session_overhead_ns > 0 {
            let at = env.now.after(env.params.session_overhead_ns);
            env.queue.push(at, Event::SessionReady { session: id });
        } else {
            self.request_builds(env, id);
        }
    }

    /// The session's setup is over: each participant builds (or snapshots) its summary.
    pub(in crate::world) fn request_builds(&mut self, env: &mut RepairEnv, id: SessionId) {
        // Faults: the session may have been aborted during its setup.
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        let live = session.spec.tree == TreeMaintenance::Live;
        // Sequential repair: one replica builds at a time, the next when it is done.
        let first_only = env.params.sequential_builds && !live;
        let participants = session.spec.participants.len();
        let count = if first_only { 1 } else { participants };
        // Common ranges: each replica validates its ranges one after another, so only
        // each node's first range is asked for now.
        let firsts: Option<Vec<usize>> = (!first_only && session.spec.ranges > 1).then(|| {
            session
                .spec
                .nodes()
                .filter_map(|node| session.spec.participants.iter().position(|p| p.node == node))
                .collect()
        });
        if first_only {
            // Cassandra's sequential repair snapshots every replica first, then
            // validates the snapshots one at a time: every tree describes one instant.
            for index in 0..participants {
                self.snapshot(env, id, index);
            }
        }
        for index in firsts.unwrap_or_else(|| (0..count).collect()) {
            self.request_build(env, id, index);
        }
    }

    /// Participant `index` of session `id` builds (or snapshots) its summary.
    pub(in crate::world) fn request_build(&mut self, env: &mut RepairEnv, id: SessionId, index: usize) {
        let session = self.sessions.get_mut(&id).expect("live session");
        session.builds_requested[index] = true;
        let session = &self.sessions[&id];
        let participant = session.spec.participants[index];
        let node = participant.node;
        // Faults: a live tree lost in a crash is rebuilt by a scan, like a scheduled one.
        let last_crash = env.faults.last_crash(node);
        let scan = self
            .upkeep
            .needs_scan(session.spec.tree, node, participant.range, last_crash);
        let cores = &mut self.cores[node];
        if !scan {
            self.snapshot(env, id, index);
            env.queue.push(
                env.now,
                Event::BuildDone {
                    session: id,
                    node,
                    held_core: false,
                },
            );
        } else if cores.free > 0 {
            cores.free -= 1;
            self.cores_changed(env);
            self.start_build(env, id, index);
        } else {
            cores.waiting.push_back((id, index));
        }
    }

    /// Gives `node`'s freed core to the next live session waiting for one, if any.
    pub(in crate::world) fn next_build(&mut self, env: &mut RepairEnv, node: NodeId) {
        while let Some((next, participant)) = self.cores[node].waiting.pop_front() {
            if self.sessions.contains_key(&next) {
                self.start_build(env, next, participant);
                return;
            }
        }
        self.cores[node].free += 1;
        self.cores_changed(env);
    }

    /// Books the cores busy building trees (all nodes) as of now.
    pub(in crate::world) fn cores_changed(&mut self, env: &mut RepairEnv) {
        let busy = self
            .cores
            .iter()
            .zip(&env.params.node_cores)
            .map(|(c, &total)| u64::from(total - c.free))
            .sum();
        self.cores_busy.set(env.now, busy);
    }

    /// The participant's summary of its range, as the data stands now. For a live tree
    /// this is the tree itself; for a scheduled one, the snapshot its scan starts from.
    pub(in crate::world) fn snapshot(&mut self, env: &mut RepairEnv, id: SessionId, participant: usize) {
        let session = self.sessions.get_mut(&id).expect("live session");
        session.snapshot_at.get_or_insert(env.now);
        let p = session.spec.participants[participant];
        let column = session.columns[participant];
        self.reconciler.session_ranges(session.spec.ranges as u64);
        session.summaries[participant] =
            Some(
                self.reconciler
                    .summarize(p.node, column, p.range, session.spec.leaves, &env.cluster.replicas),
            );
    }

    /// Takes the participant's snapshot now (unless a sequential repair took it when the
    /// session started), and holds a core of its node for the scan.
    pub(in crate::world) fn start_build(&mut self, env: &mut RepairEnv, id: SessionId, participant: usize) {
        if self.sessions[&id].summaries[participant].is_none() {
            self.snapshot(env, id, participant);
        }
        let session = &self.sessions[&id];
        let p = session.spec.participants[participant];
        let last_crash = env.faults.last_crash(p.node);
        self.upkeep
            .scanned(session.spec.tree, p.node, p.range, env.now, last_crash);
        env.counters.tree_builds += 1;
        let summary = session.summaries[participant].as_ref().expect("snapshot taken");
        env.counters.keys_scanned += self.reconciler.keys_validated(summary, p.range);
        let scan_ns = self
            .reconciler
            .build_cost_ns(summary, p.range, env.params.scan_cost_ns_per_key);
        let pause_ns = self.reconciler.build_pause_ns(summary, p.range);
        let load = &mut self.node_load[p.node];
        load.build_core_ns = load.build_core_ns.saturating_add(scan_ns);
        env.queue.push(
            env.now.after(scan_ns).after(pause_ns),
            Event::BuildDone {
                session: id,
                node: p.node,
                held_core: true,
            },
        );
    }

    pub(in crate::world) fn build_done(&mut self, env: &mut RepairEnv, id: SessionId, node: NodeId, held_core: bool) {
        if held_core {
            self.next_build(env, node);
        }
        // Faults: the session may have been aborted while this build ran.
        let Some(session) = self.sessions.get_mut(&id) else {
            return;
        };
        session.builds_pending -= 1;
        if session.builds_pending > 0 {
            if env.params.sequential_builds && session.spec.tree != TreeMaintenance::Live {
                let next = session.spec.participants.len() - session.builds_pending;
                self.request_build(env, id, next);
            } else if session.spec.ranges > 1
                && let Some(next) = (0..session.spec.participants.len())
                    .find(|&i| session.spec.participants[i].node == node && !session.builds_requested[i])
            {
                // Common ranges: the node's next range.
                self.request_build(env, id, next);
            }
            return;
        }
        session.report.trees_ready = env.now;
        if let Some(pause_ns) = self.reconciler.second_look_after_ns()
            && !session.spec.pairs.is_empty()
        {
            // Tictac's double compare: keep this look, take another after the pause.
            session.first_looks = Some(session.summaries.iter_mut().map(|s| s.take().expect("built")).collect());
            env.queue
                .push(env.now.after(pause_ns), Event::SecondLook { session: id });
            return;
        }
        self.reconcile_pairs(env, id);
    }

    /// The pause of a double compare is over: every participant looks again (a live
    /// tree: no scan), then the pairs reconcile both looks.
    pub(in crate::world) fn second_look(&mut self, env: &mut RepairEnv, id: SessionId) {
        // Faults: the session may have been aborted during the pause.
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        for participant in 0..session.spec.participants.len() {
            self.snapshot(env, id, participant);
        }
        self.reconcile_pairs(env, id);
    }
}

/// Whether every participant of `spec` is up and no partition separates two of them:
/// only then can the session run (faults are local to the ring).
pub(in crate::world) fn can_run(faults: &Faults, spec: &SessionSpec) -> bool {
    let nodes: Vec<NodeId> = spec.nodes().collect();
    nodes.iter().all(|&n| !faults.is_down(n))
        && nodes
            .iter()
            .enumerate()
            .all(|(i, &a)| nodes[i + 1..].iter().all(|&b| !faults.separated(a, b)))
}
