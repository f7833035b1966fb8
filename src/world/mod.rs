//! The world: all mutable state of one run, and the event loop that advances it.
//!
//! Every decision is made in [`World::step`]'s handlers; the model modules only compute.
//! One world runs one strategy; strategies compared side by side each get their own
//! world built from the same scenario and seed, so they see the identical write stream
//! and the identical lost replication messages.

mod event;
mod faults;
mod session;

pub use event::{Event, SessionId};
pub use session::{SessionReport, SessionSpec};

use crate::metrics::{Counters, LatencyHistogram, STALENESS_BUCKETS, Sample, StrategyResult, TimeWeighted};
use crate::model::faults::Faults;
use crate::model::merkle::{HASH_BYTES, compare};
use crate::model::network::{Delivery, Network};
use crate::model::replicas::ReplicaTable;
use crate::model::tree_cache::TreeCache;
use crate::model::workload::{ClientWrite, Workload};
use crate::model::{Key, KeyRange, NodeId};
use crate::scenario::Scenario;
use crate::sim::{EventQueue, SimTime};
use crate::strategy::{self, ClusterShape, Command, Ctx, Strategy, StrategyConfig, TreeMaintenance};
use session::{PairExchange, Session};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

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

/// A node's build capacity: cores free, and builds waiting for one.
struct NodeCores {
    free: u32,
    waiting: VecDeque<SessionId>,
}

/// Parameters the event handlers need, copied out of the scenario once.
struct Params {
    strategy_name: String,
    end: SimTime,
    sample_interval_ns: u64,
    scan_cost_ns_per_key: u64,
    record_bytes: u64,
    cluster: ClusterShape,
    /// Hashes a changed record costs on the write path (0 unless trees are live).
    write_path_hashes_per_change: u64,
    hash_cost_ns: u64,
}

/// All mutable state of one run of one strategy.
pub struct World {
    params: Params,
    now: SimTime,
    queue: EventQueue<Event>,
    replicas: ReplicaTable,
    tree_cache: TreeCache,
    workload: Workload,
    network: Network,
    cores: Vec<NodeCores>,
    sessions: BTreeMap<SessionId, Session>,
    next_session: SessionId,
    strategy: Box<dyn Strategy>,
    commands: Vec<Command>,
    next_version: u64,
    counters: Counters,
    repair_latency: LatencyHistogram,
    /// Repair latencies of keys in the workload's hot range when they diverged (hotspot
    /// workloads), and of all other keys.
    hot_repair_latency: LatencyHistogram,
    cold_repair_latency: LatencyHistogram,
    samples: Vec<Sample>,
    events: u64,
    /// Replication messages scheduled and not yet arrived: with no loss, zero of them
    /// after the writes stop means the replicas must be identical.
    replication_in_flight: u64,
    /// Replication messages in flight, by (key, receiver, version), with their number
    /// (duplicates count twice): tells a repair of a lost write from one that merely
    /// beat replication to the key.
    in_flight: BTreeMap<(Key, NodeId, u64), u32>,
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
    /// Sessions waiting for a crashed node to restart or a partition to end, with the
    /// instant they were first asked for.
    deferred: Vec<(SessionSpec, SimTime)>,
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
        let cluster = ClusterShape {
            nodes: scenario.cluster.nodes,
            key_count: scenario.cluster.key_count,
            cores: scenario.cluster.cores,
        };
        let params = Params {
            strategy_name: strategy.name.clone(),
            end: SimTime::from_nanos(scenario.duration_ns),
            sample_interval_ns: scenario.sample_interval_ns,
            scan_cost_ns_per_key: scenario.cluster.scan_cost_ns_per_key,
            record_bytes: scenario.cluster.record_bytes,
            cluster,
            write_path_hashes_per_change: strategy.kind.write_path_hashes_per_change(),
            hash_cost_ns: scenario.cluster.hash_cost_ns,
        };
        let mut world = World {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            replicas: ReplicaTable::for_key_space(cluster.nodes, cluster.key_count),
            tree_cache: TreeCache::new(cluster.nodes),
            workload: Workload::new(
                scenario.workload.clone(),
                cluster.key_count,
                cluster.nodes,
                scenario.seed,
            ),
            network: Network::new(scenario.network.clone(), cluster.nodes, scenario.seed),
            cores: (0..cluster.nodes)
                .map(|_| NodeCores {
                    free: cluster.cores,
                    waiting: VecDeque::new(),
                })
                .collect(),
            sessions: BTreeMap::new(),
            next_session: 0,
            strategy: strategy::build(strategy, cluster),
            commands: Vec::new(),
            next_version: 1,
            counters: Counters::default(),
            repair_latency: LatencyHistogram::default(),
            hot_repair_latency: LatencyHistogram::default(),
            cold_repair_latency: LatencyHistogram::default(),
            samples: Vec::new(),
            events: 0,
            replication_in_flight: 0,
            in_flight: BTreeMap::new(),
            invariant_checks: InvariantChecks::default(),
            violation: None,
            created: std::time::Instant::now(),
            broken_repair: false,
            lossless: scenario.network.loss_probability == 0.0 && !scenario.faults.can_lose_data(),
            faults: Faults::new(scenario.faults.clone(), cluster.nodes, scenario.seed),
            deferred: Vec::new(),
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
        let mut ctx = Ctx::new(SimTime::ZERO, cluster, &mut world.commands);
        world.strategy.start(&mut ctx);
        world.apply_commands();
        world
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
            },
        );
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The replicas and their ground truth, for inspection.
    pub fn replicas(&self) -> &ReplicaTable {
        &self.replicas
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// What the modelled faults have done so far.
    pub fn fault_counters(&self) -> crate::model::faults::FaultCounters {
        self.faults.finish()
    }

    pub fn repair_latency(&self) -> &LatencyHistogram {
        &self.repair_latency
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
        let mut ctx = Ctx::new(self.now, self.params.cluster, &mut self.commands);
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
            .replicas
            .divergent_in(KeyRange::new(0, self.params.cluster.key_count))
        {
            let age = self.now.since(since);
            open_divergence_ages.record(age);
            oldest = oldest.max(age);
        }
        Ok(StrategyResult {
            strategy: self.params.strategy_name,
            counters: self.counters,
            repair_latency: self.repair_latency,
            hot_repair_latency: self.hot_repair_latency,
            cold_repair_latency: self.cold_repair_latency,
            samples: self.samples,
            divergence_key_ns: self.replicas.divergence_key_ns(self.now),
            divergent_at_end: self.replicas.divergent_keys(),
            open_divergence_ages,
            divergent_peak: self.replicas.divergent_peak(),
            scan_core_ns,
            oldest_divergence_ns: oldest,
            stored_keys: self.replicas.stored_keys(),
            events: self.events,
            faults: (!self.faults.config().is_none()).then(|| self.faults.finish()),
            wall: self.created.elapsed(),
        })
    }

    /// Checks what must hold at any instant: the oracle's divergent count equals a
    /// recount from the replicas, and every acknowledged write is on some replica.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_state("an explicit check")
    }

    fn violation_at(&self, event: &str, key: Option<Key>, message: String) -> InvariantViolation {
        let nodes = if key.is_some() {
            (0..self.params.cluster.nodes).collect()
        } else {
            Vec::new()
        };
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
        let audit = self.replicas.audit();
        let recount = audit.divergent;
        if recount != self.replicas.divergent_keys() {
            let (key, differ) = self.replicas.oracle_mismatch().expect("counts differ");
            return Err(self.violation_at(
                event,
                Some(key),
                format!(
                    "the oracle counts {} divergent keys but the replicas differ on {recount}; \
                     key {key} is {} by the oracle but its versions are {:?}",
                    self.replicas.divergent_keys(),
                    if differ { "consistent" } else { "divergent" },
                    self.replicas.versions(key)
                ),
            ));
        }
        if audit.lost_acknowledged
            && let Some((key, version)) = self.replicas.lost_acknowledged_write()
        {
            return Err(self.violation_at(
                event,
                Some(key),
                format!(
                    "acknowledged write of key {key} (version {version}) is on no replica; versions are {:?}",
                    self.replicas.versions(key)
                ),
            ));
        }
        let quiescent = self.lossless && self.replication_in_flight == 0 && self.now >= self.workload.stop_at();
        if quiescent && let Some(key) = self.replicas.first_divergent() {
            return Err(self.violation_at(
                event,
                Some(key),
                format!(
                    "writes have stopped, nothing was lost and no replication is in flight, \
                     yet the replicas differ on key {key}: versions {:?}",
                    self.replicas.versions(key)
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
            Event::ClientWrite(write) => {
                let next = self.draw_next_write(time);
                self.client_write(write.key, write.coordinator, false);
                if let Some((at, next)) = next {
                    self.replicas.prefetch_slot(next.key);
                    self.queue.push(at, Event::ClientWrite(next));
                }
            }
            Event::ScriptedWrite {
                key,
                coordinator,
                lose_replication,
            } => self.client_write(key, coordinator, lose_replication),
            Event::ReplicationArrives { from, to, key, version } => {
                self.replication_in_flight -= 1;
                self.remove_in_flight(key, to, version);
                // Faults: a receiver that is down, or cut off, never sees the message.
                if self.faults.drops_replication(from, to, key) {
                    self.counters.lost_messages += 1;
                    return;
                }
                let applied = self.replicas.apply(to, key, version, time);
                if applied.changed {
                    self.faults.superseded(key, to);
                    self.charge_write_path();
                    self.strategy.on_local_write(to, key, time);
                }
                if applied.healed_after_ns.is_some() {
                    self.counters.healed_by_replication += 1;
                    self.faults.healed(key, time);
                }
            }
            Event::BuildDone {
                session,
                node,
                held_core,
            } => self.build_done(session, node, held_core),
            Event::HashRequestArrives { session, pair } => self.hash_request_arrives(session, pair),
            Event::HashReplyArrives { session, pair } => self.hash_reply_arrives(session, pair),
            Event::StreamArrives {
                session,
                pair,
                to,
                records,
            } => self.stream_arrives(session, pair, to, &records),
            Event::StrategyTimer { token } => {
                let mut ctx = Ctx::new(time, self.params.cluster, &mut self.commands);
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

    /// Draws the workload's next write after one at `now`, with its arrival instant, and
    /// asks the replica table to start fetching its key's bucket: at 10^9 keys a write's
    /// first touch of the table misses cache, and fetching ahead overlaps the miss with
    /// the work in between. The draws are those of drawing at the write's arrival: each
    /// stream is drawn in the same order, and the key for the arrival instant.
    fn draw_next_write(&mut self, now: SimTime) -> Option<(SimTime, ClientWrite)> {
        let at = self.workload.next_arrival(now)?;
        let write = self.workload.next_write(at);
        self.replicas.prefetch_bucket(write.key);
        Some((at, write))
    }

    fn client_write(&mut self, key: Key, chosen: NodeId, lose_replication: bool) {
        // Faults: a client whose node is down retries on the next one up.
        let Some(coordinator) = self.faults.coordinator(chosen) else {
            return;
        };
        let version = self.next_version;
        self.next_version += 1;
        self.counters.writes += 1;
        self.replicas.client_write(coordinator, key, version, self.now);
        self.faults.superseded(key, coordinator);
        self.charge_write_path();
        self.strategy.on_local_write(coordinator, key, self.now);
        for to in (0..self.params.cluster.nodes).filter(|&n| n != coordinator) {
            self.counters.replication_messages += 1;
            // The network is asked even for scripted losses, so a scripted write draws
            // the same random numbers as any other and shifts nothing after it.
            let delivery = self.network.send_replication(self.now);
            match delivery {
                Delivery::Arrives(at) if !lose_replication => {
                    let message = Event::ReplicationArrives {
                        from: coordinator,
                        to,
                        key,
                        version,
                    };
                    // Faults: a message into a crashed node or across a partition is
                    // lost; one that goes may be held back, or delivered twice.
                    if self.faults.drops_replication(coordinator, to, key) {
                        self.counters.lost_messages += 1;
                        continue;
                    }
                    let (at, again) = self.faults.deliveries(at);
                    self.replication_in_flight += 1;
                    *self.in_flight.entry((key, to, version)).or_insert(0) += 1;
                    self.queue.push(at, message);
                    if let Some(again) = again {
                        self.replication_in_flight += 1;
                        *self.in_flight.entry((key, to, version)).or_insert(0) += 1;
                        self.queue.push(
                            again,
                            Event::ReplicationArrives {
                                from: coordinator,
                                to,
                                key,
                                version,
                            },
                        );
                    }
                }
                _ => self.counters.lost_messages += 1,
            }
        }
    }

    /// Forgets one in-flight replication message (it arrived or was dropped on arrival).
    fn remove_in_flight(&mut self, key: Key, to: NodeId, version: u64) {
        let count = self
            .in_flight
            .get_mut(&(key, to, version))
            .expect("sent before it arrives");
        *count -= 1;
        if *count == 0 {
            self.in_flight.remove(&(key, to, version));
        }
    }

    /// Books a change of a node's record: a live tree pays one leaf rehash and one per
    /// ancestor on the write path. (The tree cache needs no notice: it asks the replica
    /// table what changed when a tree is next requested.)
    fn charge_write_path(&mut self) {
        let hashes = self.params.write_path_hashes_per_change;
        self.counters.write_path_hash_ops += hashes;
        self.counters.write_path_hash_ns += hashes.saturating_mul(self.params.hash_cost_ns);
    }

    fn record_sample(&mut self) {
        let key_space = KeyRange::new(0, self.params.cluster.key_count);
        let buckets = STALENESS_BUCKETS.min(key_space.len());
        let divergent_per_bucket = (0..buckets)
            .map(|b| self.replicas.divergent_count_in(key_space.part(b, buckets)))
            .collect();
        self.samples.push(Sample {
            time: self.now,
            divergent_keys: self.replicas.divergent_keys(),
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

    fn start_session(&mut self, spec: SessionSpec) {
        self.start_session_since(spec, self.now);
    }

    /// Starts a session first asked for at `asked` (earlier than now if it waited).
    fn start_session_since(&mut self, spec: SessionSpec, asked: SimTime) {
        assert_eq!(spec.ranges.len(), self.params.cluster.nodes, "one range per node");
        // Faults: a session involves every replica, so it waits until all are up and
        // connected.
        if !self.faults.all_clear() {
            self.deferred.push((spec, asked));
            return;
        }
        let id = self.next_session;
        self.next_session += 1;
        let mut session = Session::new(id, spec, self.now);
        session.report.started = asked;
        self.sessions.insert(id, session);
        self.sessions_changed();
        for node in 0..self.params.cluster.nodes {
            let live = self.sessions[&id].spec.tree == TreeMaintenance::Live;
            // Faults: a live tree lost in a crash is rebuilt by a scan, like a scheduled one.
            let lost = live && self.faults.live_tree_lost(node, self.sessions[&id].spec.ranges[node]);
            let cores = &mut self.cores[node];
            if live && !lost {
                self.snapshot(id, node);
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
                self.start_build(id, node);
            } else {
                cores.waiting.push_back(id);
            }
        }
    }

    /// Gives `node`'s freed core to the next live session waiting for one, if any.
    fn next_build(&mut self, node: NodeId) {
        while let Some(next) = self.cores[node].waiting.pop_front() {
            if self.sessions.contains_key(&next) {
                self.start_build(next, node);
                return;
            }
        }
        self.cores[node].free += 1;
        self.cores_changed();
    }

    /// Books the cores busy building trees (all nodes) as of now.
    fn cores_changed(&mut self) {
        let cores = self.params.cluster.cores;
        let busy = self.cores.iter().map(|c| u64::from(cores - c.free)).sum();
        self.cores_busy.set(self.now, busy);
    }

    /// Books the sessions in flight as of now.
    pub(super) fn sessions_changed(&mut self) {
        self.sessions_running.set(self.now, self.sessions.len() as u64);
    }

    /// `node`'s tree of its range for `session`, as the data stands now. For a live tree
    /// this is the tree itself; for a scheduled one, the snapshot its scan starts from.
    fn snapshot(&mut self, id: SessionId, node: NodeId) {
        let session = self.sessions.get_mut(&id).expect("live session");
        let range = session.spec.ranges[node];
        session.trees[node] = Some(self.tree_cache.tree(node, range, session.spec.leaves, &self.replicas));
    }

    /// Takes `node`'s snapshot for `session` now, and holds a core for the scan time.
    fn start_build(&mut self, id: SessionId, node: NodeId) {
        self.snapshot(id, node);
        let range = self.sessions[&id].spec.ranges[node];
        if self.sessions[&id].spec.tree == TreeMaintenance::Live {
            self.faults.live_tree_rebuilt(node, range, self.now);
        }
        self.counters.tree_builds += 1;
        self.counters.keys_scanned += range.len();
        let scan_ns = range.len().saturating_mul(self.params.scan_cost_ns_per_key);
        self.queue.push(
            self.now.after(scan_ns),
            Event::BuildDone {
                session: id,
                node,
                held_core: true,
            },
        );
    }

    fn build_done(&mut self, id: SessionId, node: NodeId, held_core: bool) {
        if held_core {
            self.next_build(node);
        }
        // Faults: the session may have been aborted while this build ran.
        let Some(session) = self.sessions.get_mut(&id) else {
            return;
        };
        session.builds_pending -= 1;
        if session.builds_pending > 0 {
            return;
        }
        session.report.trees_ready = self.now;
        let trees: Vec<_> = session.trees.iter_mut().map(|t| t.take().expect("built")).collect();
        for a in 0..trees.len() {
            for b in a + 1..trees.len() {
                let comparison = compare(&trees[a], &trees[b]);
                session.report.hashes_compared += comparison.hashes_compared();
                session.report.divergent_leaves += comparison.divergent_leaves.len() as u64;
                session.pairs.push(PairExchange {
                    a,
                    b,
                    comparison,
                    level: 0,
                    streams_pending: 0,
                });
            }
        }
        session.pairs_pending = session.pairs.len();
        for pair in 0..session.pairs.len() {
            self.send_hashes(id, pair, true);
        }
    }

    /// Sends the current level's hashes of `pair`: the request (initiator to responder)
    /// or the reply (responder to initiator).
    fn send_hashes(&mut self, id: SessionId, pair: usize, request: bool) {
        let exchange = &self.sessions[&id].pairs[pair];
        let hashes = exchange.comparison.hashes_per_level[exchange.level];
        let (from, to) = if request {
            (exchange.a, exchange.b)
        } else {
            (exchange.b, exchange.a)
        };
        let bytes = hashes * HASH_BYTES;
        self.counters.hashes_sent += hashes;
        self.counters.hash_bytes += bytes;
        let at = self
            .network
            .send_exchange(from, to, MESSAGE_HEADER_BYTES + bytes, self.now);
        let event = if request {
            Event::HashRequestArrives { session: id, pair }
        } else {
            Event::HashReplyArrives { session: id, pair }
        };
        self.queue.push(at, event);
    }

    fn hash_request_arrives(&mut self, id: SessionId, pair: usize) {
        // Faults: messages of an aborted session find no one listening.
        if self.sessions.contains_key(&id) {
            self.send_hashes(id, pair, false);
        }
    }

    fn hash_reply_arrives(&mut self, id: SessionId, pair: usize) {
        if !self.sessions.contains_key(&id) {
            return;
        }
        self.counters.round_trips += 1;
        let exchange = &mut self.sessions.get_mut(&id).expect("live session").pairs[pair];
        exchange.level += 1;
        if exchange.level < exchange.comparison.hashes_per_level.len() {
            self.send_hashes(id, pair, true);
        } else {
            self.start_streams(id, pair);
        }
    }

    /// Both nodes of `pair` stream every divergent leaf to each other, one message per
    /// leaf and direction, reading their current data (not the snapshot).
    fn start_streams(&mut self, id: SessionId, pair: usize) {
        let session = self.sessions.get_mut(&id).expect("live session");
        let exchange = &mut session.pairs[pair];
        let (a, b) = (exchange.a, exchange.b);
        let leaves = std::mem::take(&mut exchange.comparison.divergent_leaves);
        exchange.streams_pending = 2 * leaves.len();
        let parts = u64::from(session.spec.leaves);
        let (range_a, range_b) = (session.spec.ranges[a], session.spec.ranges[b]);
        for leaf in leaves {
            let leaf_a = range_a.part(u64::from(leaf), parts);
            let leaf_b = range_b.part(u64::from(leaf), parts);
            let a_to_b = self.replicas.newer_records(a, b, leaf_a);
            let b_to_a = self.replicas.newer_records(b, a, leaf_b);
            let needed = (a_to_b.len() + b_to_a.len()) as u64;
            let streamed = leaf_a.len() + leaf_b.len();
            self.counters.leaves_streamed += 1;
            self.counters.clean_leaves_streamed += u64::from(needed == 0);
            self.counters.records_streamed += streamed;
            self.counters.records_needed += needed;
            self.counters.stream_bytes += streamed.saturating_mul(self.params.record_bytes);
            session.report.records_streamed += streamed;
            session.report.records_needed += needed;
            for (from, to, leaf_range, records) in [(a, b, leaf_a, a_to_b), (b, a, leaf_b, b_to_a)] {
                let bytes =
                    MESSAGE_HEADER_BYTES.saturating_add(leaf_range.len().saturating_mul(self.params.record_bytes));
                let at = self.network.send_exchange(from, to, bytes, self.now);
                let records = records.into_boxed_slice();
                self.queue.push(
                    at,
                    Event::StreamArrives {
                        session: id,
                        pair,
                        to,
                        records,
                    },
                );
            }
        }
        if session.pairs[pair].streams_pending == 0 {
            self.pair_done(id);
        }
    }

    fn stream_arrives(&mut self, id: SessionId, pair: usize, to: NodeId, records: &[(Key, u64)]) {
        if !self.sessions.contains_key(&id) {
            return;
        }
        let from = {
            let exchange = &self.sessions[&id].pairs[pair];
            if exchange.a == to { exchange.b } else { exchange.a }
        };
        for &(key, version) in records {
            // A correct repair keeps the newer version on the receiver. The test hook's
            // broken repair runs backwards: it copies the receiver's older version over
            // the sender's newer one.
            let (target, value) = if self.broken_repair {
                (from, self.replicas.version(to, key))
            } else {
                (to, version)
            };
            let before = self.replicas.version(target, key);
            let applied = if self.broken_repair {
                self.replicas.set_version(target, key, value, self.now)
            } else {
                self.replicas.apply(target, key, value, self.now)
            };
            let after = self.replicas.version(target, key);
            if after < before {
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
            if applied.changed {
                self.counters.records_applied += 1;
                self.charge_write_path();
                self.faults.repaired(key, target);
            }
            if let Some(latency_ns) = applied.healed_after_ns {
                self.faults.healed(key, self.now);
                if self
                    .in_flight
                    .range((key, target, value)..=(key, target, u64::MAX))
                    .next()
                    .is_some()
                {
                    // Replication was about to deliver this very version: anti-entropy
                    // only raced it. Not a lost write, so not a repair latency.
                    self.counters.repairs_raced_replication += 1;
                    continue;
                }
                self.counters.keys_repaired += 1;
                self.repair_latency.record(latency_ns);
                let diverged = SimTime::from_nanos(self.now.nanos() - latency_ns);
                if self.workload.hot_range(diverged).is_some_and(|hot| hot.contains(key)) {
                    self.hot_repair_latency.record(latency_ns);
                } else {
                    self.cold_repair_latency.record(latency_ns);
                }
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
        let mut session = self.sessions.remove(&id).expect("live session");
        self.sessions_changed();
        session.report.finished = self.now;
        self.counters.sessions += 1;
        let mut ctx = Ctx::new(self.now, self.params.cluster, &mut self.commands);
        self.strategy.on_session_done(&mut ctx, &session.report);
        self.apply_commands();
    }
}
