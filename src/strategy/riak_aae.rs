//! Riak's active anti-entropy (AAE), classic and Tictac: every replica keeps a live
//! tree per partition (a token range here), and each node's entropy manager, on every
//! tick (`anti_entropy_tick`, 15 s), starts the exchange of its next partition
//! between the partition's replicas, and rebuilds its expired trees.
//!
//! Classic AAE (`reconciler = "riak_hashtree"`) expires each tree `expire` after it was
//! built (`anti_entropy_expire`, one week) and rebuilds it from a full scan of the
//! partition on that node's core: one build per node at a time, at most `build_limit`
//! started per node per `build_limit_period` (`anti_entropy_build_limit`, 1 per hour),
//! and builds and exchanges together at most `concurrency` per node
//! (`anti_entropy_concurrency`, 2).
//! While a partition's tree is rebuilding no exchange of that partition runs (its
//! tree is not usable: Riak's "not_built"), and a tree in an exchange is not rebuilt
//! (locked). Tictac AAE (`reconciler = "tictac"`) never expires its trees
//! (`expire = "never"`): exchanges never pause.
//!
//! Timer tokens are node numbers: each node's manager ticks on its own clock.
//! Every tree is taken as built at time zero (the cluster ran AAE before the run), so
//! with `expire` shorter than the run all trees expire together and the nodes rebuild
//! them in a wave paced by the build limit: the window where exchanges are paused.
//! Faults: a stopped exchange or build is taken back and tried again on a later tick.

use super::{Ctx, RepairUnit, SessionReport, SessionSpec, Strategy};
use crate::model::NodeId;
use crate::protocol::{PairSelection, Participant, TreeMaintenance};
use crate::sim::SimTime;
use std::collections::{BTreeMap, VecDeque};

/// Parameters of Riak's AAE (defaults from riak.conf / riak_kv.schema).
#[derive(Clone, Debug, PartialEq)]
pub struct RiakAaeConfig {
    /// Segments of each tree (`width^2`): the summaries' resolution.
    pub leaves: u32,
    /// `anti_entropy_tick`: how often each node's manager acts (15 s).
    pub tick_ns: u64,
    /// `anti_entropy_expire`: a tree is rebuilt this long after it was built (one
    /// week); `None`: never (Tictac).
    pub expire_ns: Option<u64>,
    /// `anti_entropy_build_limit`: builds per node per `build_limit_period_ns` (1 per hour).
    pub build_limit: u32,
    pub build_limit_period_ns: u64,
    /// `anti_entropy_concurrency`: exchanges and builds one node takes part in at once (2).
    pub concurrency: u32,
    /// Whether the trees are the Tictac kind (a write costs two hashes rather than one).
    pub tictac: bool,
}

/// What a session of this strategy does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    /// Exchange partition `unit` between its replicas.
    Exchange { unit: usize },
    /// Rebuild the tree of partition `unit` on replica `replica` (index into its replicas).
    Build { unit: usize, replica: usize },
}

/// One replica's tree of one partition.
#[derive(Clone, Copy, Debug)]
struct Tree {
    built_at: SimTime,
    rebuilding: bool,
}

pub struct RiakAae {
    config: RiakAaeConfig,
    pairs: PairSelection,
    units: Vec<RepairUnit>,
    /// `trees[unit][replica]`.
    trees: Vec<Vec<Tree>>,
    /// Partitions each node manages (those it is the primary of), and its rotation cursor.
    managed: Vec<Vec<usize>>,
    cursor: Vec<usize>,
    /// Whether each partition has an exchange in flight (its trees are locked).
    exchanging: Vec<bool>,
    /// Sessions each node takes part in (exchanges and builds: `concurrency`).
    node_busy: Vec<u32>,
    /// Starts of each node's builds within the last `build_limit_period`.
    recent_builds: Vec<VecDeque<SimTime>>,
    jobs: BTreeMap<u64, Job>,
    next_tag: u64,
    /// Exchanges a tick could not start because a tree of the partition was rebuilding.
    pub skipped_rebuilding: u64,
    last_exchange: Vec<SimTime>,
}

impl RiakAae {
    pub fn new(units: Vec<RepairUnit>, nodes: usize, config: RiakAaeConfig, pairs: PairSelection) -> RiakAae {
        let mut managed = vec![Vec::new(); nodes];
        for (u, unit) in units.iter().enumerate() {
            managed[unit.replicas[0]].push(u);
        }
        RiakAae {
            trees: units
                .iter()
                .map(|u| {
                    vec![
                        Tree {
                            built_at: SimTime::ZERO,
                            rebuilding: false
                        };
                        u.replicas.len()
                    ]
                })
                .collect(),
            exchanging: vec![false; units.len()],
            last_exchange: vec![SimTime::ZERO; units.len()],
            managed,
            cursor: vec![0; nodes],
            node_busy: vec![0; nodes],
            recent_builds: vec![VecDeque::new(); nodes],
            jobs: BTreeMap::new(),
            next_tag: 0,
            skipped_rebuilding: 0,
            units,
            config,
            pairs,
        }
    }

    fn start(&mut self, ctx: &mut Ctx, job: Job) {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.jobs.insert(tag, job);
        let spec = match job {
            Job::Exchange { unit } => {
                self.exchanging[unit] = true;
                ctx.revisit_gap(ctx.now().since(self.last_exchange[unit]));
                self.last_exchange[unit] = ctx.now();
                let u = &self.units[unit];
                for &node in &u.replicas {
                    self.node_busy[node] += 1;
                }
                SessionSpec {
                    tree: TreeMaintenance::Live,
                    ..SessionSpec::aligned(tag, u.keys, self.config.leaves, &u.replicas, self.pairs)
                }
            }
            Job::Build { unit, replica } => {
                self.trees[unit][replica].rebuilding = true;
                let node = self.units[unit].replicas[replica];
                self.node_busy[node] += 1;
                self.recent_builds[node].push_back(ctx.now());
                // A rebuild: one participant, no pairs; a scan holding a core.
                SessionSpec {
                    tag,
                    leaves: self.config.leaves,
                    participants: vec![Participant {
                        node,
                        range: self.units[unit].keys,
                    }],
                    pairs: Vec::new(),
                    tree: TreeMaintenance::Scheduled,
                    ranges: 1,
                }
            }
        };
        ctx.start_session(spec);
    }

    /// Releases what `job` held.
    fn release(&mut self, job: Job) {
        match job {
            Job::Exchange { unit } => {
                self.exchanging[unit] = false;
                for &node in &self.units[unit].replicas {
                    self.node_busy[node] -= 1;
                }
            }
            Job::Build { unit, replica } => {
                self.trees[unit][replica].rebuilding = false;
                self.node_busy[self.units[unit].replicas[replica]] -= 1;
            }
        }
    }

    fn usable(&self, ctx: &Ctx, node: NodeId) -> bool {
        !ctx.is_down(node) && self.node_busy[node] < self.config.concurrency
    }

    /// `node`'s manager: rebuild one expired tree of the node if the build limit allows,
    /// then try the exchange of its next partition. A partition whose tree is rebuilding
    /// goes to the back of the rotation (Riak requeues it); one whose replicas are busy
    /// or unreachable is tried again at the next tick.
    fn tick(&mut self, ctx: &mut Ctx, node: NodeId) {
        let now = ctx.now();
        if let Some(expire_ns) = self.config.expire_ns {
            let window = &mut self.recent_builds[node];
            while window
                .front()
                .is_some_and(|&t| now.since(t) >= self.config.build_limit_period_ns)
            {
                window.pop_front();
            }
            let building = self.units.iter().enumerate().any(|(u, unit)| {
                unit.replicas
                    .iter()
                    .zip(&self.trees[u])
                    .any(|(&n, t)| n == node && t.rebuilding)
            });
            // One build per node at a time, and at most `build_limit` started per period.
            if !building && (window.len() as u32) < self.config.build_limit && self.usable(ctx, node) {
                // The oldest expired tree of this node not locked by an exchange.
                let due = self
                    .units
                    .iter()
                    .enumerate()
                    .filter_map(|(u, unit)| unit.replicas.iter().position(|&n| n == node).map(|r| (u, r)))
                    .filter(|&(u, r)| {
                        let tree = self.trees[u][r];
                        !tree.rebuilding && !self.exchanging[u] && now.since(tree.built_at) >= expire_ns
                    })
                    .min_by_key(|&(u, r)| (self.trees[u][r].built_at, u));
                if let Some((unit, replica)) = due {
                    self.start(ctx, Job::Build { unit, replica });
                }
            }
        }
        if !self.managed[node].is_empty() {
            let managed = &self.managed[node];
            let unit = managed[self.cursor[node] % managed.len()];
            let next = (self.cursor[node] + 1) % managed.len();
            if self.trees[unit].iter().any(|t| t.rebuilding) {
                // Riak: the exchange fails with not_built; the partition waits its next turn.
                self.skipped_rebuilding += 1;
                self.cursor[node] = next;
            } else if !self.exchanging[unit] && self.can_exchange(ctx, unit) {
                self.cursor[node] = next;
                self.start(ctx, Job::Exchange { unit });
            }
        }
        ctx.set_timer(now.after(self.config.tick_ns), node as u64);
    }

    /// Whether every replica of `unit` is up, reachable from the others and under the
    /// concurrency limit.
    fn can_exchange(&self, ctx: &Ctx, unit: usize) -> bool {
        let replicas = &self.units[unit].replicas;
        let reachable = ctx.isolated_groups().iter().all(|group| {
            let inside = replicas.iter().filter(|n| group.contains(n)).count();
            inside == 0 || inside == replicas.len()
        });
        reachable && replicas.iter().all(|&n| self.usable(ctx, n))
    }
}

impl Strategy for RiakAae {
    fn start(&mut self, ctx: &mut Ctx) {
        // Each node's manager ticks on its own clock: the nodes' ticks are spread
        // evenly over the first tick interval.
        let nodes = self.managed.len() as u64;
        for node in 0..nodes {
            let offset = self.config.tick_ns / nodes * (node + 1);
            ctx.set_timer(ctx.now().after(offset), node);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        self.tick(ctx, token as NodeId);
    }

    fn on_session_done(&mut self, ctx: &mut Ctx, report: &SessionReport) {
        let job = self.jobs.remove(&report.tag).expect("a session this strategy started");
        self.release(job);
        if let Job::Build { unit, replica } = job {
            self.trees[unit][replica].built_at = ctx.now();
        }
    }

    fn on_session_aborted(&mut self, _ctx: &mut Ctx, spec: &SessionSpec) -> bool {
        // Taken back: the manager tries again on a later tick (an aborted build leaves
        // the tree expired, so it is due again).
        let job = self.jobs.remove(&spec.tag).expect("a session this strategy started");
        self.release(job);
        true
    }

    fn on_end(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        for &last in &self.last_exchange {
            ctx.revisit_gap(now.since(last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyRange;
    use crate::model::faults::Faults;
    use crate::strategy::Command;

    fn config(expire_ns: Option<u64>) -> RiakAaeConfig {
        RiakAaeConfig {
            leaves: 1 << 20,
            tick_ns: 15_000_000_000,
            expire_ns,
            build_limit: 1,
            build_limit_period_ns: 3_600_000_000_000,
            concurrency: 2,
            tictac: false,
        }
    }

    /// Four partitions on four nodes, three replicas each.
    fn units() -> Vec<RepairUnit> {
        (0..4)
            .map(|u| RepairUnit {
                keys: KeyRange::new(u * 1_000, (u + 1) * 1_000),
                replicas: (0..3).map(|i| ((u + i) % 4) as usize).collect(),
            })
            .collect()
    }

    /// Drives the strategy for `duration`: exchanges take 1 s, builds 20 min; returns
    /// every session started, as (start, end, job).
    fn drive(strategy: &mut RiakAae, duration: SimTime) -> Vec<(SimTime, SimTime, Job)> {
        let faults = Faults::new(Default::default(), 4, 1);
        let mut log = Vec::new();
        // Sessions in flight by (end, tag); timers by (at, token).
        let mut running: BTreeMap<(SimTime, u64), ()> = BTreeMap::new();
        let mut timers: BTreeMap<(SimTime, u64), ()> = BTreeMap::new();
        let mut commands = Vec::new();
        let mut now = SimTime::ZERO;
        Strategy::start(strategy, &mut Ctx::new(now, &mut commands, &faults));
        loop {
            for command in commands.drain(..) {
                match command {
                    Command::StartSession(spec) => {
                        let job = strategy.jobs[&spec.tag];
                        let took = match job {
                            Job::Exchange { .. } => 1_000_000_000,
                            Job::Build { .. } => 1_200_000_000_000,
                        };
                        log.push((now, now.after(took), job));
                        running.insert((now.after(took), spec.tag), ());
                    }
                    Command::SetTimer { at, token } => {
                        timers.insert((at, token), ());
                    }
                    _ => {}
                }
            }
            let next_end = running.keys().next().copied();
            let next_timer = timers.keys().next().copied();
            match (next_end, next_timer) {
                (Some((end, tag)), timer) if timer.is_none_or(|(at, _)| end <= at) => {
                    running.remove(&(end, tag));
                    let report = SessionReport {
                        id: tag,
                        tag,
                        started: end,
                        trees_ready: end,
                        finished: end,
                        hashes_compared: 0,
                        divergent_leaves: 0,
                        records_streamed: 0,
                        records_needed: 0,
                    };
                    now = end;
                    strategy.on_session_done(&mut Ctx::new(end, &mut commands, &faults), &report);
                }
                (_, Some((at, token))) if at <= duration => {
                    timers.remove(&(at, token));
                    now = at;
                    strategy.on_timer(&mut Ctx::new(at, &mut commands, &faults), token);
                }
                _ => return log,
            }
        }
    }

    #[test]
    fn no_exchange_of_a_partition_while_one_of_its_trees_rebuilds() {
        // Trees expire after 30 min; 8 hours of ticks.
        let mut strategy = RiakAae::new(units(), 4, config(Some(1_800_000_000_000)), PairSelection::All);
        let log = drive(&mut strategy, SimTime::from_nanos(8 * 3_600_000_000_000));
        let builds: Vec<_> = log.iter().filter(|(_, _, j)| matches!(j, Job::Build { .. })).collect();
        let exchanges: Vec<_> = log
            .iter()
            .filter(|(_, _, j)| matches!(j, Job::Exchange { .. }))
            .collect();
        for &&(b_start, b_end, job) in &builds {
            let Job::Build { unit, .. } = job else { unreachable!() };
            for &&(e_start, e_end, e) in &exchanges {
                if e == (Job::Exchange { unit }) {
                    assert!(
                        e_end <= b_start || e_start >= b_end,
                        "exchange of partition {unit} [{e_start}, {e_end}) overlaps its rebuild [{b_start}, {b_end})"
                    );
                }
            }
        }
        // 12 trees, each rebuilt; at most one build per node per hour, so each node's
        // three trees take three hours to rebuild.
        assert!(builds.len() >= 12, "{} builds", builds.len());
        for node in 0..4 {
            let mut starts: Vec<SimTime> = builds
                .iter()
                .filter(
                    |(_, _, j)| matches!(j, Job::Build { unit, replica } if units()[*unit].replicas[*replica] == node),
                )
                .map(|b| b.0)
                .collect();
            starts.sort();
            for pair in starts.windows(2) {
                assert!(pair[1].since(pair[0]) >= 3_600_000_000_000, "node {node}: {starts:?}");
            }
        }
        assert!(strategy.skipped_rebuilding > 0, "rebuilds blocked some exchanges");
        assert!(
            exchanges.len() > 1_000,
            "exchanges go on outside rebuilds: {}",
            exchanges.len()
        );
    }

    #[test]
    fn tictac_trees_never_expire_so_exchanges_never_pause() {
        let mut strategy = RiakAae::new(units(), 4, config(None), PairSelection::All);
        let log = drive(&mut strategy, SimTime::from_nanos(8 * 3_600_000_000_000));
        assert!(log.iter().all(|(_, _, j)| matches!(j, Job::Exchange { .. })));
        assert_eq!(strategy.skipped_rebuilding, 0);
        // Every tick each of the 4 managers exchanges its one partition (staggered
        // ticks, so no replica is ever over the limit): 8 h of 15 s ticks.
        assert_eq!(log.len(), 4 * 8 * 240);
    }
}
