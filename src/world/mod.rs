//! The world: all mutable state of one run, and the event loop that advances it.
//!
//! Every decision is made in [`World::step`]'s handlers; the model modules only compute.
//! One world runs one strategy; strategies compared side by side each get their own
//! world built from the same scenario and seed, so they see the identical write stream
//! and the identical lost replication messages.

mod cluster;
mod deletes;
mod event;
mod faults;
mod paths;
mod repair;
mod session;
mod writes;

pub use event::Event;

use crate::metrics::ring::{NodeLoad, NodeRow, RangeRepairs, RingResult};
use crate::metrics::{Counters, LatencyHistogram, STALENESS_BUCKETS, Sample, StrategyResult, TimeWeighted};
use crate::model::faults::Faults;
use crate::model::network::Network;
use crate::model::replicas::ReplicaTable;
use crate::model::ring::{CoordinatorChoice, Ring};
use crate::model::workload::Workload;
use crate::model::{Key, KeyRange, NodeId};
use crate::protocol::reconciler::Reconciler;
use crate::protocol::{SessionId, SessionSpec};
use crate::scenario::Scenario;
use crate::sim::{EventQueue, SimTime};
use crate::strategy::{self, Command, Ctx, Strategy, StrategyConfig};
use cluster::{Cluster, RepairLatencies};
use session::Session;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;

/// Fixed per-message overhead of anti-entropy messages (framing, ids), in bytes.
pub const MESSAGE_HEADER_BYTES: u64 = 64;

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

/// A node's build capacity: cores free, and builds (session, participant) waiting for one.
struct NodeCores {
    free: u32,
    waiting: VecDeque<(SessionId, usize)>,
}

/// Parameters the event handlers need, copied out of the scenario once.
struct Params {
    strategy_name: String,
    end: SimTime,
    sample_interval_ns: u64,
    scan_cost_ns_per_key: u64,
    record_bytes: u64,
    nodes: usize,
    key_count: u64,
    /// Cores of each node.
    node_cores: Vec<u32>,
    /// Fixed virtual time between a session's start and its builds (setup, messages).
    session_overhead_ns: u64,
    /// Most sessions one node may take part in at once (an invariant the strategy keeps).
    max_sessions_per_node: Option<u32>,
    /// A session's replicas build one after another (Reaper's sequential parallelism).
    sequential_builds: bool,
}

/// All mutable state of one run of one strategy.
pub struct World {
    params: Params,
    now: SimTime,
    queue: EventQueue<Event>,
    /// The ring, the replicas and the writes in flight: every record changes through
    /// its one door, `Cluster::apply`.
    cluster: Cluster,
    /// What replicas exchange to find their differences.
    reconciler: Box<dyn Reconciler>,
    workload: Workload,
    network: Network,
    cores: Vec<NodeCores>,
    sessions: BTreeMap<SessionId, Session>,
    next_session: SessionId,
    /// Sessions each node takes part in: started by the strategy and not finished
    /// (waiting for a fault to clear included).
    node_sessions: Vec<u32>,
    /// The most sessions any node has taken part in at once.
    peak_node_sessions: u32,
    /// Each node's repair load (reported only when the scenario configures a ring).
    node_load: Vec<NodeLoad>,
    /// When each piece of the ring was last completely repaired (with every node
    /// holding every key, the one range); reported per range only on a ring.
    range_repairs: RangeRepairs,
    /// Whether the scenario configures a ring (`nodes.csv`, `ranges.csv`).
    with_ring: bool,
    strategy: Box<dyn Strategy>,
    commands: Vec<Command>,
    counters: Counters,
    latencies: RepairLatencies,
    samples: Vec<Sample>,
    events: u64,
    invariant_checks: InvariantChecks,
    /// The first invariant violation; the run stops at it.
    violation: Option<InvariantViolation>,
    /// Test hook: repairs run backwards (see [`World::break_repairs_for_test`]).
    broken_repair: bool,
    /// Whether the scenario can lose writes (message loss, crashes, partitions,
    /// bitrot): if not, quiescence implies identical replicas.
    lossless: bool,
    /// The modelled faults' state (inert when the scenario has none).
    faults: Faults,
    /// Sessions waiting for one of their replicas to restart or a partition between
    /// them to end, with the instant they were first asked for.
    deferred: Vec<(SessionSpec, SimTime)>,
    /// Consistency levels, hinted handoff, reads (inert unless configured).
    paths: paths::Paths,
    /// Cores busy building trees (all nodes) and sessions in flight, over time.
    cores_busy: TimeWeighted,
    sessions_running: TimeWeighted,
    /// When the world was made: its wall time, for the terminal's profile only.
    created: std::time::Instant,
}

impl World {
    /// A world at time zero for `scenario` under `strategy`, with the first write, the
    /// first sample and the strategy's first actions scheduled.
    pub fn new(scenario: &Scenario, strategy: &StrategyConfig) -> World {
        let nodes = scenario.cluster.nodes;
        let key_count = scenario.cluster.key_count;
        let ring = Arc::new(Ring::new(
            nodes,
            key_count,
            scenario.cluster.ring.as_ref(),
            scenario.seed,
        ));
        let params = Params {
            strategy_name: strategy.name.clone(),
            end: SimTime::from_nanos(scenario.duration_ns),
            sample_interval_ns: scenario.sample_interval_ns,
            scan_cost_ns_per_key: scenario.cluster.scan_cost_ns_per_key,
            record_bytes: scenario.cluster.record_bytes,
            nodes,
            key_count,
            node_cores: scenario.cluster.node_cores.clone(),
            session_overhead_ns: strategy.repair.session_overhead_ns,
            max_sessions_per_node: strategy.kind.max_sessions_per_node(),
            sequential_builds: strategy.kind.sequential_builds(),
        };
        // A token-aware client picks among the key's replicas; otherwise among all nodes.
        let coordinator_choices = match ring.coordinator_choice() {
            CoordinatorChoice::Any => nodes,
            CoordinatorChoice::Replica => ring.replication_factor(),
        };
        let with_ring = scenario.cluster.ring.is_some();
        let mut world = World {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            reconciler: strategy.repair.reconciler.build(nodes),
            workload: Workload::new(scenario.workload.clone(), key_count, coordinator_choices, scenario.seed),
            network: Network::new(scenario.network.clone(), nodes, scenario.seed),
            cores: params
                .node_cores
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
            range_repairs: RangeRepairs::new(ring.pieces().iter().map(|p| p.keys).collect()),
            with_ring,
            strategy: strategy::build(strategy, &ring),
            cluster: Cluster::new(
                ring,
                key_count,
                strategy.kind.write_path_hashes_per_change(),
                scenario.cluster.hash_cost_ns,
            ),
            commands: Vec::new(),
            counters: Counters::default(),
            latencies: RepairLatencies::default(),
            samples: Vec::new(),
            events: 0,
            invariant_checks: InvariantChecks::default(),
            violation: None,
            created: std::time::Instant::now(),
            broken_repair: false,
            lossless: scenario.network.loss_probability == 0.0 && !scenario.faults.can_lose_data(),
            faults: Faults::new(scenario.faults.clone(), nodes, scenario.seed),
            deferred: Vec::new(),
            paths: paths::Paths::new(
                scenario.paths.clone(),
                &scenario.workload,
                (nodes, key_count, SimTime::from_nanos(scenario.duration_ns)),
                scenario.cluster.record_bytes,
                scenario.seed,
            ),
            cores_busy: TimeWeighted::default(),
            sessions_running: TimeWeighted::default(),
            params,
        };
        world.queue.push(SimTime::ZERO, Event::Sample);
        if let Some((first, write)) = world.draw_next_write(SimTime::ZERO) {
            world.queue.push(first, Event::ClientWrite(write));
        }
        // Faults: queued only when configured, so fault-free runs are unchanged.
        world.schedule_faults();
        world.schedule_first_read();
        world.schedule_first_compaction();
        let mut ctx = Ctx::new(SimTime::ZERO, &mut world.commands, &world.faults);
        world.strategy.start(&mut ctx);
        world.apply_commands();
        world
    }

    /// The token ring: which nodes store which keys.
    pub fn ring(&self) -> &Ring {
        &self.cluster.ring
    }

    /// The most repair sessions any node has taken part in at once so far (sessions
    /// waiting for a fault to clear included): never above the strategy's
    /// `max_sessions_per_node`, which the world checks as an invariant.
    pub fn peak_node_sessions(&self) -> u32 {
        self.peak_node_sessions
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

    /// Processes every event up to and including `until` (capped at the run's end), or
    /// up to the first invariant violation.
    pub fn run_until(&mut self, until: SimTime) {
        let until = until.min(self.params.end);
        while self.violation.is_none() && self.queue.peek_time().is_some_and(|t| t <= until) {
            let (time, event) = self.queue.pop().expect("peeked");
            self.step(time, event);
        }
        if self.violation.is_none() {
            self.now = self.now.max(until);
        }
    }

    /// Runs to the end, checks the invariants and returns the measurements.
    pub fn run(mut self) -> Result<StrategyResult, InvariantViolation> {
        self.run_until(self.params.end);
        if let Some(violation) = self.violation.take() {
            return Err(violation);
        }
        self.now = self.params.end;
        let mut ctx = Ctx::new(self.now, &mut self.commands, &self.faults);
        self.strategy.on_end(&mut ctx);
        self.apply_commands_at_end();
        if self.samples.last().is_none_or(|s| s.time < self.now) {
            self.record_sample();
        }
        self.check_state("the end-of-run check")?;
        let scan_core_ns = u128::from(self.counters.keys_scanned) * u128::from(self.params.scan_cost_ns_per_key);
        // Keys still divergent are censored repair latencies (`metrics::CensoredLatency`).
        let mut open_divergence_ages = LatencyHistogram::default();
        let mut oldest = 0;
        for (_, since) in self
            .cluster
            .replicas
            .divergent_in(KeyRange::new(0, self.params.key_count))
        {
            let age = self.now.since(since);
            open_divergence_ages.record(age);
            oldest = oldest.max(age);
        }
        let ring = self.ring_result();
        let gc_grace_ns = self.paths.gc_grace_ns();
        let unrepaired = self.unrepaired_per_range();
        let max_unrepaired_ns = unrepaired.iter().copied().max().unwrap_or(0);
        let ranges_over_gc_grace = unrepaired.iter().filter(|&&gap| gap > gc_grace_ns).count() as u64;
        Ok(StrategyResult {
            strategy: self.params.strategy_name,
            counters: self.counters,
            repair_latency: self.latencies.all,
            hot_repair_latency: self.latencies.hot,
            cold_repair_latency: self.latencies.cold,
            samples: self.samples,
            divergence_key_ns: self.cluster.replicas.divergence_key_ns(self.now),
            divergent_at_end: self.cluster.replicas.divergent_keys(),
            open_divergence_ages,
            divergent_peak: self.cluster.replicas.divergent_peak(),
            scan_core_ns,
            oldest_divergence_ns: oldest,
            stored_keys: self.cluster.replicas.stored_keys(),
            events: self.events,
            divergences_begun: self.cluster.replicas.divergences_begun(),
            hints: self.paths.hints.as_ref().map(|h| h.counters).unwrap_or_default(),
            deletes: self.paths.tombstones.as_ref().map(|t| t.counters.clone()),
            gc_grace_ns,
            max_unrepaired_ns,
            ranges_over_gc_grace,
            faults: (!self.faults.config().is_none()).then(|| self.faults.finish()),
            ring,
            wall: self.created.elapsed(),
        })
    }

    /// The longest each piece of the ring (or the one range) went without a complete
    /// repair, up to now: the gc_grace headline.
    fn unrepaired_per_range(&self) -> Vec<u64> {
        let pieces = self.cluster.ring.pieces();
        self.range_repairs
            .finish(self.now, |i| pieces[i].token_range, |_| Vec::new())
            .iter()
            .map(|row| row.max_unrepaired_ns)
            .collect()
    }

    /// Per node and per range results, when the scenario configures a ring.
    fn ring_result(&self) -> Option<RingResult> {
        if !self.with_ring {
            return None;
        }
        let repairs = &self.range_repairs;
        let ownership = self.cluster.ring.ownership();
        let mut stale = vec![0u64; self.params.nodes];
        for piece in self.cluster.ring.pieces() {
            let replicas = &self.cluster.ring.replica_sets()[piece.replica_set];
            for (column, count) in self
                .cluster
                .replicas
                .stale_per_replica(piece.keys)
                .into_iter()
                .enumerate()
            {
                stale[replicas[column]] += count;
            }
        }
        let nodes = (0..self.params.nodes)
            .map(|node| NodeRow {
                node,
                rack: self.cluster.ring.rack(node),
                tokens: self.cluster.ring.primary_ranges(node) as u64,
                ownership: ownership.per_node[node],
                load: self.node_load[node],
                stale_keys: stale[node],
            })
            .collect();
        let pieces = self.cluster.ring.pieces();
        let ranges = repairs.finish(
            self.now,
            |i| pieces[i].token_range,
            |i| self.cluster.ring.replica_sets()[pieces[i].replica_set].clone(),
        );
        Some(RingResult { nodes, ranges })
    }

    /// Checks what must hold at any instant: the oracle's divergent count equals a
    /// recount from the replicas, and every acknowledged write is on some replica.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_state("an explicit check")
    }

    fn violation_at(&self, event: &str, key: Option<Key>, message: String) -> InvariantViolation {
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
    fn check_state(&self, event: &str) -> Result<(), InvariantViolation> {
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

    /// Handles one event: the only place where the run's state changes.
    fn step(&mut self, time: SimTime, event: Event) {
        debug_assert!(time >= self.now, "time never goes back");
        self.now = time;
        self.events += 1;
        match event {
            Event::ClientWrite(write) => self.workload_write(write),
            Event::ScriptedWrite {
                key,
                coordinator,
                lose_replication,
                delete,
            } => self.client_write(key, coordinator, lose_replication, delete),
            Event::ReplicationArrives {
                from,
                to,
                key,
                version,
                written,
            } => self.replication_arrives((from, to), (key, version), written),
            Event::SessionReady { session } => self.request_builds(session),
            Event::BuildDone {
                session,
                node,
                held_core,
            } => self.build_done(session, node, held_core),
            Event::SecondLook { session } => self.second_look(session),
            Event::HashRequestArrives { session, pair } => self.hash_request_arrives(session, pair),
            Event::ReplyReady { session, pair } => self.reply_ready(session, pair),
            Event::HashReplyArrives { session, pair } => self.hash_reply_arrives(session, pair),
            Event::StreamArrives {
                session,
                pair,
                to,
                records,
            } => self.stream_arrives(session, pair, to, &records),
            Event::HintReplay { coordinator, target } => self.hint_replay(coordinator, target),
            Event::ClientRead(read) => self.client_read(read),
            Event::Compaction => self.compaction(),
            Event::StrategyTimer { token } => {
                let mut ctx = Ctx::new(time, &mut self.commands, &self.faults);
                self.strategy.on_timer(&mut ctx, token);
                self.apply_commands();
            }
            Event::Fault(fault) => self.fault(fault),
            Event::Bitrot => self.bitrot(),
            Event::Sample => {
                if self.invariant_checks == InvariantChecks::EverySample
                    && let Err(violation) = self.check_state("the check at a sample point")
                {
                    self.violation = Some(violation);
                    return;
                }
                self.record_sample();
                let next = time.after(self.params.sample_interval_ns);
                if next <= self.params.end {
                    self.queue.push(next, Event::Sample);
                }
            }
        }
    }

    fn record_sample(&mut self) {
        let key_space = KeyRange::new(0, self.params.key_count);
        let buckets = STALENESS_BUCKETS.min(key_space.len());
        let divergent_per_bucket = (0..buckets)
            .map(|b| self.cluster.replicas.divergent_count_in(key_space.part(b, buckets)))
            .collect();
        self.samples.push(Sample {
            time: self.now,
            divergent_keys: self.cluster.replicas.divergent_keys(),
            cores_busy: self.cores_busy.level(),
            sessions_running: self.sessions.len() as u64,
            cores_busy_ns: self.cores_busy.integral_at(self.now),
            sessions_ns: self.sessions_running.integral_at(self.now),
            divergent_per_bucket,
            counters: self.counters.clone(),
        });
    }

    /// At the end only reports are accepted: nothing new can start.
    fn apply_commands_at_end(&mut self) {
        self.commands
            .retain(|c| !matches!(c, Command::StartSession(_) | Command::SetTimer { .. }));
        self.apply_commands();
    }

    /// Carries out what the strategy asked for during its last callback.
    fn apply_commands(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            match command {
                Command::StartSession(spec) => self.start_session(spec),
                Command::SetTimer { at, token } => self.queue.push(at, Event::StrategyTimer { token }),
                Command::AbortSession { tag } => self.abort_session(tag),
                Command::FullPassCompleted { duration_ns } => {
                    self.counters.full_passes += 1;
                    self.counters.full_pass_ns_total += duration_ns;
                }
                Command::RevisitGap { gap_ns } => {
                    self.counters.max_revisit_gap_ns = self.counters.max_revisit_gap_ns.max(gap_ns);
                }
            }
        }
    }

    /// The strategy stops its session tagged `tag` (a timeout): it is dropped (its
    /// messages and builds find no session), waiting or running.
    fn abort_session(&mut self, tag: u64) {
        let running = self.sessions.iter().find(|(_, s)| s.spec.tag == tag).map(|(&id, _)| id);
        let spec = if let Some(id) = running {
            let session = self.sessions.remove(&id).expect("found");
            self.sessions_changed();
            session.spec
        } else if let Some(at) = self.deferred.iter().position(|(spec, _)| spec.tag == tag) {
            self.deferred.remove(at).0
        } else {
            return;
        };
        self.counters.sessions_timed_out += 1;
        for node in spec.nodes() {
            self.node_sessions[node] -= 1;
        }
    }

    /// Books the sessions in flight as of now.
    pub(super) fn sessions_changed(&mut self) {
        self.sessions_running.set(self.now, self.sessions.len() as u64);
    }
}
