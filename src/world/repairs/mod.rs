//! The session engine: the repair sessions in flight and deferred, the nodes' build
//! cores, the per-node session limit and load, each range's repair coverage, and the
//! reconciler that summarises and compares.
//!
//! Its phases have their own files: `admission.rs` (admission and builds), `rounds.rs`
//! (rounds, streams and a session's end), `session.rs` (a session's book-keeping).
//! The handlers are [`Repairs`] methods: each receives the engine's own state as
//! `&mut self` and what it may touch outside it as a [`RepairEnv`] of explicit borrows,
//! so the borrow checker says what the session engine can change.

mod admission;
mod rounds;
mod session;
mod upkeep;

use crate::metrics::Counters;
use crate::metrics::TimeWeighted;
use crate::metrics::ring::{NodeLoad, RangeRepairs};
use crate::model::faults::Faults;
use crate::model::network::Network;
use crate::model::tombstones::Tombstones;
use crate::model::workload::Workload;
use crate::protocol::reconciler::Reconciler;
use crate::protocol::{SessionId, SessionSpec, TreeMaintenance};
use crate::sim::{EventQueue, SimTime};
use crate::strategy::{Command, Ctx, Strategy};
use crate::world::cluster::{ChangeEnv, Cluster, RepairLatencies};
use crate::world::{Event, InvariantViolation, Params};
use admission::can_run;
use session::Session;
use std::collections::{BTreeMap, VecDeque};
use upkeep::Upkeep;

/// A node's build capacity: cores free, and builds (session, participant) waiting for one.
pub(super) struct NodeCores {
    pub free: u32,
    pub waiting: VecDeque<(SessionId, usize)>,
}

/// The session engine's state.
pub(super) struct Repairs {
    /// What replicas exchange to find their differences.
    pub reconciler: Box<dyn Reconciler>,
    /// How each replica keeps its summaries current (scheduled or live).
    pub upkeep: Upkeep,
    pub cores: Vec<NodeCores>,
    pub sessions: BTreeMap<SessionId, Session>,
    pub next_session: SessionId,
    /// Sessions each node takes part in: started by the strategy and not finished
    /// (waiting for a fault to clear included).
    pub node_sessions: Vec<u32>,
    /// The most sessions any node has taken part in at once.
    pub peak_node_sessions: u32,
    /// Each node's repair load (reported only when the scenario configures a ring).
    pub node_load: Vec<NodeLoad>,
    /// When each piece of the ring was last completely repaired (with every node
    /// holding every key, the one range); reported per range only on a ring.
    pub range_repairs: RangeRepairs,
    /// Sessions waiting for one of their replicas to restart or a partition between
    /// them to end, with the instant they were first asked for.
    pub deferred: Vec<(SessionSpec, SimTime)>,
    /// Cores busy building trees (all nodes) and sessions in flight, over time.
    pub cores_busy: TimeWeighted,
    pub sessions_running: TimeWeighted,
    /// When each node has applied every stream it has received so far: a node applies
    /// its incoming streams one after another (`cluster.apply_cost_per_record`).
    pub applied_until: Vec<SimTime>,
}

impl Repairs {
    /// The engine of a run whose summaries the `reconciler` keeps as `upkeep` says.
    pub fn new(
        reconciler: Box<dyn Reconciler>,
        upkeep: (TreeMaintenance, u32),
        node_cores: &[u32],
        range_repairs: RangeRepairs,
    ) -> Repairs {
        let nodes = node_cores.len();
        let (tree, leaves) = upkeep;
        Repairs {
            upkeep: Upkeep::new(tree, leaves, reconciler.as_ref()),
            reconciler,
            cores: node_cores
                .iter()
                .map(|&free| NodeCores {
                    free,
                    waiting: VecDeque::new(),
                })
                .collect(),
            sessions: BTreeMap::new(),
            next_session: 0,
            node_sessions: vec![0; nodes],
            peak_node_sessions: 0,
            node_load: vec![NodeLoad::default(); nodes],
            range_repairs,
            deferred: Vec::new(),
            cores_busy: TimeWeighted::default(),
            sessions_running: TimeWeighted::default(),
            applied_until: vec![SimTime::ZERO; nodes],
        }
    }
}

/// What a session-engine handler may touch outside the engine, borrowed apart from
/// the world: the clock and the queue, the network, the cluster (streams change records
/// through its one door), the run's counters, the fault state, the strategy (it hears
/// of a finished or aborted session; what it asks for waits in `commands` until the
/// handler returns, and the world carries it out) and the invariant verdict.
pub(in crate::world) struct RepairEnv<'a> {
    pub now: SimTime,
    pub params: &'a Params,
    pub queue: &'a mut EventQueue<Event>,
    pub network: &'a mut Network,
    pub cluster: &'a mut Cluster,
    pub counters: &'a mut Counters,
    pub faults: &'a mut Faults,
    pub strategy: &'a mut dyn Strategy,
    pub commands: &'a mut Vec<Command>,
    pub tombstones: Option<&'a mut Tombstones>,
    pub latencies: &'a mut RepairLatencies,
    pub workload: &'a Workload,
    /// The first invariant violation; the run stops at it.
    pub violation: &'a mut Option<InvariantViolation>,
    /// Test hook: repairs run backwards.
    pub broken_repair: bool,
}

impl RepairEnv<'_> {
    /// The cluster and what a record change may touch, borrowed apart.
    pub fn change_env(&mut self) -> (&mut Cluster, ChangeEnv<'_>) {
        (
            &mut *self.cluster,
            ChangeEnv {
                now: self.now,
                counters: &mut *self.counters,
                faults: &mut *self.faults,
                strategy: &mut *self.strategy,
                tombstones: self.tombstones.as_deref_mut(),
                latencies: &mut *self.latencies,
                workload: self.workload,
            },
        )
    }
}

impl Repairs {
    /// The strategy stops its session tagged `tag` (a timeout): it is dropped (its
    /// messages and builds find no session), waiting or running.
    pub(super) fn abort_session(&mut self, env: &mut RepairEnv, tag: u64) {
        let running = self.sessions.iter().find(|(_, s)| s.spec.tag == tag).map(|(&id, _)| id);
        let spec = if let Some(id) = running {
            let session = self.sessions.remove(&id).expect("found");
            self.sessions_changed(env);
            session.spec
        } else if let Some(at) = self.deferred.iter().position(|(spec, _)| spec.tag == tag) {
            self.deferred.remove(at).0
        } else {
            return;
        };
        env.counters.sessions_timed_out += 1;
        for node in spec.nodes() {
            self.node_sessions[node] -= 1;
        }
    }

    /// Aborts every session in flight that a fault now stops (a participant down, or
    /// two participants cut off from each other): its trees are dropped, its pending
    /// messages will find no session, and it waits to be started again from scratch
    /// (unless the strategy takes it back).
    pub(super) fn abort_stopped(&mut self, env: &mut RepairEnv) {
        let stopped: Vec<_> = self
            .sessions
            .iter()
            .filter(|(_, session)| !can_run(env.faults, &session.spec))
            .map(|(&id, _)| id)
            .collect();
        for id in stopped {
            let session = self.sessions.remove(&id).expect("listed");
            env.faults.counters.sessions_aborted += 1;
            let mut ctx = Ctx::new(env.now, env.commands, env.faults);
            if env.strategy.on_session_aborted(&mut ctx, &session.spec) {
                // The strategy took it back: it no longer occupies its replicas.
                for node in session.spec.nodes() {
                    self.node_sessions[node] -= 1;
                }
            } else {
                self.deferred.push((session.spec, session.report.started));
            }
        }
        self.sessions_changed(env);
    }

    /// Sessions whose replicas are all reachable again start over, in the order they
    /// were deferred; the others keep waiting.
    pub(super) fn readmit_deferred(&mut self, env: &mut RepairEnv) {
        for (spec, asked) in std::mem::take(&mut self.deferred) {
            if can_run(env.faults, &spec) {
                self.start_session_since(env, spec, asked);
            } else {
                self.deferred.push((spec, asked));
            }
        }
    }

    /// Books the sessions in flight as of now.
    pub(super) fn sessions_changed(&mut self, env: &mut RepairEnv) {
        self.sessions_running.set(env.now, self.sessions.len() as u64);
    }
}
