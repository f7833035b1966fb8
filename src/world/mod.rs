//! The world: all mutable state of one run, and the event loop that advances it.
//!
//! Every decision is made in [`World::step`]'s handlers; the model modules only compute.
//! One world runs one strategy; strategies compared side by side each get their own
//! world built from the same scenario and seed, so they see the identical write stream
//! and the identical lost replication messages.

mod checks;
mod cluster;
mod deletes;
mod event;
mod faults;
mod inspect;
mod paths;
mod repairs;
mod results;
mod writes;

pub use checks::{InvariantChecks, InvariantViolation};
pub use event::Event;

use crate::metrics::ring::RangeRepairs;
use crate::metrics::{Counters, Sample};
use crate::model::faults::Faults;
use crate::model::network::Network;
use crate::model::ring::{CoordinatorChoice, Ring};
use crate::model::workload::Workload;
use crate::scenario::Scenario;
use crate::sim::{EventQueue, SimTime};
use crate::strategy::{self, Command, Ctx, Strategy, StrategyConfig};
use cluster::{Cluster, RepairLatencies};
use repairs::{RepairEnv, Repairs};
use std::sync::Arc;

/// Fixed per-message overhead of anti-entropy messages (framing, ids), in bytes.
pub const MESSAGE_HEADER_BYTES: u64 = 64;

/// Parameters the event handlers need, copied out of the scenario once.
struct Params {
    strategy_name: String,
    end: SimTime,
    sample_interval_ns: u64,
    scan_cost_ns_per_key: u64,
    record_bytes: u64,
    /// Time the receiver of a repair stream spends applying one record.
    apply_cost_ns_per_record: u64,
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
    /// The session engine: sessions, cores, per-node limits and load, range coverage,
    /// the reconciler.
    repairs: Repairs,
    workload: Workload,
    network: Network,
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
    /// Consistency levels, hinted handoff, reads (inert unless configured).
    paths: paths::Paths,
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
            apply_cost_ns_per_record: scenario.cluster.apply_cost_ns_per_record,
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
        let repairs = Repairs::new(
            strategy.repair.reconciler.build(nodes),
            (strategy.kind.tree(), strategy.kind.leaves_per_tree()),
            &params.node_cores,
            RangeRepairs::new(ring.pieces().iter().map(|p| p.keys).collect()),
        );
        let write_path_hashes = repairs.upkeep.write_path_hashes_per_change();
        let mut world = World {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            workload: Workload::new(scenario.workload.clone(), key_count, coordinator_choices, scenario.seed),
            network: Network::new(scenario.network.clone(), nodes, scenario.seed),
            repairs,
            with_ring,
            strategy: strategy::build(strategy, &ring),
            cluster: Cluster::new(ring, key_count, write_path_hashes, scenario.cluster.hash_cost_ns),
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
            paths: paths::Paths::new(
                scenario.paths.clone(),
                &scenario.workload,
                (nodes, key_count, SimTime::from_nanos(scenario.duration_ns)),
                scenario.cluster.record_bytes,
                scenario.seed,
            ),
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
            Event::SessionReady { session } => self.in_repairs(|r, env| r.request_builds(env, session)),
            Event::BuildDone {
                session,
                node,
                held_core,
            } => self.in_repairs(|r, env| r.build_done(env, session, node, held_core)),
            Event::SecondLook { session } => self.in_repairs(|r, env| r.second_look(env, session)),
            Event::HashRequestArrives { session, pair } => {
                self.in_repairs(|r, env| r.hash_request_arrives(env, session, pair))
            }
            Event::ReplyReady { session, pair } => self.in_repairs(|r, env| r.reply_ready(env, session, pair)),
            Event::HashReplyArrives { session, pair } => {
                self.in_repairs(|r, env| r.hash_reply_arrives(env, session, pair))
            }
            Event::StreamArrives {
                session,
                pair,
                to,
                records,
            } => self.in_repairs(|r, env| r.stream_arrives(env, session, pair, to, &records)),
            Event::HintReplay { coordinator, target } => self.hint_replay(coordinator, target),
            Event::ClientRead(read) => self.client_read(read),
            Event::Compaction => self.compaction(),
            Event::StrategyTimer { token } => self.strategy_timer(token),
            Event::Fault(fault) => self.fault(fault),
            Event::Bitrot => self.bitrot(),
            Event::Sample => self.sample(),
        }
    }

    /// The session engine and what its handlers may touch, borrowed apart.
    fn repair_env(&mut self) -> (&mut Repairs, RepairEnv<'_>) {
        (
            &mut self.repairs,
            RepairEnv {
                now: self.now,
                params: &self.params,
                queue: &mut self.queue,
                network: &mut self.network,
                cluster: &mut self.cluster,
                counters: &mut self.counters,
                faults: &mut self.faults,
                strategy: &mut *self.strategy,
                commands: &mut self.commands,
                tombstones: self.paths.tombstones.as_mut(),
                latencies: &mut self.latencies,
                workload: &self.workload,
                violation: &mut self.violation,
                broken_repair: self.broken_repair,
            },
        )
    }

    /// Runs a session-engine handler, then carries out what the strategy asked for
    /// when it heard of a session's end.
    fn in_repairs(&mut self, handler: impl FnOnce(&mut Repairs, &mut RepairEnv)) {
        let (repairs, mut env) = self.repair_env();
        handler(repairs, &mut env);
        self.apply_commands();
    }

    /// The strategy's timer `token` fires: it decides, the world carries it out.
    fn strategy_timer(&mut self, token: u64) {
        let mut ctx = Ctx::new(self.now, &mut self.commands, &self.faults);
        self.strategy.on_timer(&mut ctx, token);
        self.apply_commands();
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
                Command::StartSession(spec) => {
                    let (repairs, mut env) = self.repair_env();
                    repairs.start_session(&mut env, spec);
                }
                Command::SetTimer { at, token } => self.queue.push(at, Event::StrategyTimer { token }),
                Command::AbortSession { tag } => {
                    let (repairs, mut env) = self.repair_env();
                    repairs.abort_session(&mut env, tag);
                }
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
}
