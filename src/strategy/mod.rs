//! Repair strategies: when to compare which key ranges.
//!
//! A strategy is a scheduler. It never touches replicas, trees or the network; it asks
//! the world, through [`Ctx`], to start sessions (compare a range on some of its
//! replicas, pair by pair: a [`SessionSpec`]) and to wake it up later, and it hears back
//! when a session finishes. The world does the building, hashing, exchanging and
//! streaming, and charges their cost in virtual time.
//!
//! The unit of repair is a piece of the token ring ([`RepairUnit`]): a token range and
//! its replicas, or the whole key space on every node when every node holds every key.
//!
//! To add a strategy: implement [`Strategy`] in a new file here, add a variant to
//! [`StrategyKind`], build it in [`build`], and accept it in `scenario` (see
//! ARCHITECTURE.md, "Adding a strategy").

mod monolithic;
pub mod reaper;
mod riak_aae;
mod segmented;

pub use monolithic::Monolithic;
pub use riak_aae::{RiakAae, RiakAaeConfig};
pub use segmented::Segmented;

use crate::model::faults::Faults;
use crate::model::ring::Ring;
use crate::model::{Key, KeyRange, NodeId};
use crate::protocol::registry::ReconcilerChoice;
use crate::protocol::{PairSelection, SessionReport, SessionSpec, TreeMaintenance};
use crate::sim::SimTime;

/// A validated strategy entry of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyConfig {
    /// Name in outputs (unique within a scenario).
    pub name: String,
    pub kind: StrategyKind,
    /// How its sessions run, whatever the kind.
    pub repair: RepairSettings,
}

/// Protocol settings every strategy's sessions share.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairSettings {
    /// Which pairs of a range's replicas compare their trees.
    pub pairs: PairSelection,
    /// Fixed virtual time from a session's start to its builds (setup, validation
    /// requests, messages): what makes thousands of tiny sessions cost something.
    pub session_overhead_ns: u64,
    /// What the replicas exchange to find their differences.
    pub reconciler: ReconcilerChoice,
}

/// As derived, but without `reconciler` when it is the default Merkle walk: a scenario's
/// fingerprint hashes its `Debug` text, so scenarios written before reconcilers existed
/// keep their fingerprints (and `run.toml` its `scenario_hash`) byte for byte.
impl std::fmt::Debug for RepairSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("RepairSettings");
        s.field("pairs", &self.pairs)
            .field("session_overhead_ns", &self.session_overhead_ns);
        if self.reconciler != ReconcilerChoice::Merkle {
            s.field("reconciler", &self.reconciler);
        }
        s.finish()
    }
}

impl RepairSettings {
    /// The same settings with `reconciler`.
    pub fn with_reconciler(self, reconciler: ReconcilerChoice) -> RepairSettings {
        RepairSettings { reconciler, ..self }
    }
}

/// One unit of repair: a contiguous key range whose keys share one replica set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairUnit {
    pub keys: KeyRange,
    /// Replicas in preference order; the first is the range's primary (the node whose
    /// token starts it).
    pub replicas: Vec<NodeId>,
}

/// The units of repair of `ring`, in key order: its pieces (one per token range, the
/// wrapping one in two), or the whole key space when every node holds every key.
pub fn repair_units(ring: &Ring) -> Vec<RepairUnit> {
    ring.pieces()
        .iter()
        .map(|piece| RepairUnit {
            keys: piece.keys,
            replicas: ring.replica_sets()[piece.replica_set].clone(),
        })
        .collect()
}

/// One session over the common ranges of the units `members` (they share a replica
/// set), tagged `tag`: the session Cassandra runs over them ([`SessionSpec::common_ranges`]).
pub(crate) fn common_range_session(
    units: &[RepairUnit],
    members: impl IntoIterator<Item = usize>,
    tag: u64,
    leaves: u32,
    pairs: PairSelection,
    tree: TreeMaintenance,
) -> SessionSpec {
    let ranges: Vec<_> = members
        .into_iter()
        .map(|u| (units[u].keys, units[u].replicas.as_slice()))
        .collect();
    SessionSpec {
        tree,
        ..SessionSpec::common_ranges(tag, &ranges, leaves, pairs)
    }
}

/// `items` grouped by their key: the groups in the order their keys first appear, each
/// group's values in item order.
pub(crate) fn group_by_key<K: PartialEq, V>(items: impl IntoIterator<Item = (K, V)>) -> Vec<Vec<V>> {
    let mut groups: Vec<(K, Vec<V>)> = Vec::new();
    for (key, value) in items {
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups.into_iter().map(|(_, values)| values).collect()
}

/// The strategies aesim knows, with their parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategyKind {
    /// One tree over the whole key space; a new cycle starts every `interval_ns`
    /// (or as soon as the previous one ends, if it overruns).
    Monolithic {
        leaves: u32,
        interval_ns: u64,
        tree: TreeMaintenance,
        order: RangeOrder,
    },
    /// The key space cut into fixed segments with one tree each, compared by parallel
    /// workers in an order chosen by a scheduling policy.
    Segmented(SegmentedConfig),
    /// Riak's active anti-entropy, classic or Tictac: live trees per partition,
    /// exchanges on a tick, scheduled rebuilds of expired trees.
    RiakAae(RiakAaeConfig),
}

impl StrategyKind {
    /// How trees are kept up to date.
    pub fn tree(&self) -> TreeMaintenance {
        match self {
            StrategyKind::Monolithic { tree, .. } => *tree,
            StrategyKind::Segmented(config) => config.tree,
            StrategyKind::RiakAae(_) => TreeMaintenance::Live,
        }
    }

    /// Leaves of each tree the strategy compares.
    pub fn leaves_per_tree(&self) -> u32 {
        match self {
            StrategyKind::Monolithic { leaves, .. } => *leaves,
            StrategyKind::Segmented(config) => config.leaves,
            StrategyKind::RiakAae(config) => config.leaves,
        }
    }

    /// Whether a session's replicas build their trees one after another.
    pub fn sequential_builds(&self) -> bool {
        matches!(self, StrategyKind::Segmented(c) if c.reaper.parallelism == RepairParallelism::Sequential)
    }

    /// Most sessions one node may take part in at once, if the strategy keeps a limit.
    pub fn max_sessions_per_node(&self) -> Option<u32> {
        match self {
            StrategyKind::Monolithic { .. } => None,
            StrategyKind::Segmented(config) => config.max_sessions_per_node,
            StrategyKind::RiakAae(config) => Some(config.concurrency),
        }
    }
}

/// In which order a monolithic cycle repairs the ring's ranges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RangeOrder {
    /// Every range at once (builds queue for the nodes' cores).
    #[default]
    AllAtOnce,
    /// Node after node, as `nodetool repair -pr` run on each node in turn by Cassandra
    /// 3.0 and later: a node's primary ranges that share a replica set form one session
    /// (common ranges), and all of the node's sessions run at once
    /// (`AbstractRepairTask.submitRepairSessions`); the next node starts when they are
    /// all done.
    NodeByNode,
    /// Node after node, each node's primary ranges one session after another, as
    /// Cassandra before 3.0 repaired them (one session per range, the next started when
    /// the previous one was done: `StorageService.forceRepairAsync` in 2.x).
    RangeByRange,
}

/// Parameters of the segmented strategy.
#[derive(Clone, PartialEq)]
pub struct SegmentedConfig {
    pub segments: u64,
    /// Leaves of each segment's tree.
    pub leaves: u32,
    /// Segments compared at once.
    pub workers: u32,
    pub policy: Policy,
    /// Starvation bound of the prioritised policies: a segment not compared for this long
    /// is compared next, whatever its writes.
    pub max_interval_ns: u64,
    /// Round robin: minimum time between the starts of two passes (0: back to back).
    pub interval_ns: u64,
    /// How often idle workers look at the write counters again.
    pub poll_ns: u64,
    pub tree: TreeMaintenance,
    pub misalignment: Misalignment,
    /// Reaper's rule: a segment starts only while each of its replicas takes part in
    /// fewer than this many sessions (`None`: no limit).
    pub max_sessions_per_node: Option<u32>,
    /// Reaper's segment timeout, intensity and repair parallelism.
    pub reaper: ReaperKnobs,
}

/// As derived, but without `reaper` when it is the default: a scenario's fingerprint
/// hashes its `Debug` text, so scenarios written before the knobs keep theirs.
impl std::fmt::Debug for SegmentedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("SegmentedConfig");
        s.field("segments", &self.segments)
            .field("leaves", &self.leaves)
            .field("workers", &self.workers)
            .field("policy", &self.policy)
            .field("max_interval_ns", &self.max_interval_ns)
            .field("interval_ns", &self.interval_ns)
            .field("poll_ns", &self.poll_ns)
            .field("tree", &self.tree)
            .field("misalignment", &self.misalignment)
            .field("max_sessions_per_node", &self.max_sessions_per_node);
        if self.reaper != ReaperKnobs::default() {
            s.field("reaper", &self.reaper);
        }
        s.finish()
    }
}

/// Cassandra Reaper's per-segment knobs (thelastpickle/cassandra-reaper, docs
/// concepts.md and reaper_specific.md). The defaults change nothing: no timeout,
/// intensity 1, parallel builds, aesim's proportional split, no scheduling poll, no
/// sleep after a postponement.
#[derive(Clone, Copy, PartialEq)]
pub struct ReaperKnobs {
    /// `hangingRepairTimeoutMins` (30 min in Reaper): a segment still running this long
    /// after it started is aborted and retried later; attempt k waits k times this
    /// (`SegmentRunner.processTriggeredSegment`: `timeoutMillis * attempt`, attempt =
    /// fail count + 1). `None`: no timeout.
    pub segment_timeout_ns: Option<u64>,
    /// How a ring's token ranges are cut into segments.
    pub split: SegmentSplit,
    /// `repairManagerSchedulingIntervalSeconds` (10 s): the repair runner wakes on this
    /// period and starts at most one segment each time (`RepairRunner.startNextSegment`,
    /// then `RepairManager.scheduleRetry`). `None`: segments start as soon as a worker
    /// is free.
    pub scheduling_interval_ns: Option<u64>,
    /// `SegmentRunner.SLEEP_TIME_AFTER_POSTPONE_IN_MS` (10 s): a segment postponed
    /// because a replica was unreachable keeps its runner thread this long.
    pub postpone_sleep_ns: u64,
    /// In (0, 1]: after a segment that took d, its worker pauses d x (1 - i) / i (the
    /// duty-cycle reading of Reaper's docs: 0.5 spends half the time sleeping).
    pub intensity: f64,
    pub parallelism: RepairParallelism,
}

impl Default for ReaperKnobs {
    fn default() -> Self {
        ReaperKnobs {
            segment_timeout_ns: None,
            split: SegmentSplit::Proportional,
            scheduling_interval_ns: None,
            postpone_sleep_ns: 0,
            intensity: 1.0,
            parallelism: RepairParallelism::Parallel,
        }
    }
}

/// As derived, but without the knobs added by issue 23 while they are at their
/// defaults: a scenario's fingerprint hashes its `Debug` text, so scenarios written
/// before them keep their fingerprints.
impl std::fmt::Debug for ReaperKnobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("ReaperKnobs");
        s.field("segment_timeout_ns", &self.segment_timeout_ns);
        if self.split != SegmentSplit::Proportional {
            s.field("split", &self.split);
        }
        if self.scheduling_interval_ns.is_some() {
            s.field("scheduling_interval_ns", &self.scheduling_interval_ns);
        }
        if self.postpone_sleep_ns != 0 {
            s.field("postpone_sleep_ns", &self.postpone_sleep_ns);
        }
        s.field("intensity", &self.intensity)
            .field("parallelism", &self.parallelism)
            .finish()
    }
}

/// How a ring's token ranges are cut into `segments` segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SegmentSplit {
    /// aesim's: `max(1, round(segments x the range's share))` per range.
    #[default]
    Proportional,
    /// Reaper's `SegmentGenerator.generateSegments`: `ceil(segments x the range's
    /// share)` per range when there are fewer ranges than segments ([`reaper`]); with
    /// as many ranges or more, each replica list's ranges coalesced into segments of at
    /// most `keys / segments` (`coalesceTokenRanges`), each one session over its ranges
    /// ([`SessionSpec::common_ranges`](crate::protocol::SessionSpec::common_ranges)).
    Reaper,
}

/// How a session's replicas build their trees (Reaper's repair parallelism).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RepairParallelism {
    /// All replicas at once.
    #[default]
    Parallel,
    /// One replica after another (Cassandra validates on snapshots, one at a time).
    Sequential,
}

/// The order in which segments are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Every segment in key order, over and over.
    RoundRobin,
    /// The segment with the most local writes since its last comparison.
    HottestFirst,
    /// The segment with the largest writes-since-last-comparison x time-since-last-comparison.
    AgeWeighted,
}

/// Whether the nodes agree on where segments begin and end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misalignment {
    /// Every node derives the same boundaries (the correct setup).
    Aligned,
    /// Nodes other than node 0 shift every boundary by this many keys.
    Offset { keys: u64 },
    /// Nodes other than node 0 cut the key space into this many segments instead.
    SegmentCount { peer_segments: u64 },
}

/// A request a strategy makes of the world; applied in order once the callback returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    StartSession(SessionSpec),
    SetTimer {
        at: SimTime,
        token: u64,
    },
    FullPassCompleted {
        duration_ns: u64,
    },
    /// Stop the session tagged `tag` (started by this strategy and not finished): it is
    /// dropped, and its replicas are free again. The strategy does not hear of it.
    AbortSession {
        tag: u64,
    },
    /// A range went `gap_ns` between the starts of two comparisons (or from the start of
    /// the run to its first, or from its last to the end of the run).
    RevisitGap {
        gap_ns: u64,
    },
}

/// The strategy's window on the world during one callback.
pub struct Ctx<'a> {
    now: SimTime,
    commands: &'a mut Vec<Command>,
    faults: &'a Faults,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(now: SimTime, commands: &'a mut Vec<Command>, faults: &'a Faults) -> Ctx<'a> {
        Ctx { now, commands, faults }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Whether `node` is down (crashed and not restarted): what gossip tells every
    /// node, and what Reaper checks before it starts a segment.
    pub fn is_down(&self, node: NodeId) -> bool {
        self.faults.is_down(node)
    }

    /// The node groups that partitions in force cut off from the rest: what each
    /// node's failure detector reports as unreachable.
    pub fn isolated_groups(&self) -> Vec<Vec<NodeId>> {
        self.faults.isolated_groups()
    }

    /// Starts comparing a range on some of its replicas; [`Strategy::on_session_done`]
    /// follows.
    pub fn start_session(&mut self, spec: SessionSpec) {
        self.commands.push(Command::StartSession(spec));
    }

    /// Wakes the strategy at `at` (no earlier than now) with `token`.
    pub fn set_timer(&mut self, at: SimTime, token: u64) {
        self.commands.push(Command::SetTimer {
            at: at.max(self.now),
            token,
        });
    }

    /// Stops the session tagged `tag` (Reaper's segment timeout); see [`Command::AbortSession`].
    pub fn abort_session(&mut self, tag: u64) {
        self.commands.push(Command::AbortSession { tag });
    }

    /// Reports that a full pass over the key space took `duration_ns`.
    pub fn full_pass_completed(&mut self, duration_ns: u64) {
        self.commands.push(Command::FullPassCompleted { duration_ns });
    }

    /// Reports how long a range went without a comparison starting (the world keeps
    /// the maximum: the observed starvation bound).
    pub fn revisit_gap(&mut self, gap_ns: u64) {
        self.commands.push(Command::RevisitGap { gap_ns });
    }
}

/// A repair strategy. Callbacks run inside the world's event loop, in event order.
pub trait Strategy {
    /// Called once at time zero.
    fn start(&mut self, ctx: &mut Ctx);

    /// Called when a timer set with [`Ctx::set_timer`] fires.
    fn on_timer(&mut self, ctx: &mut Ctx, token: u64);

    /// Called when a session this strategy started has finished streaming.
    fn on_session_done(&mut self, ctx: &mut Ctx, report: &SessionReport);

    /// Called when a fault (a replica crashed, or a partition cut two replicas apart)
    /// stopped a session in flight. Return `true` to take it back (it is dropped: the
    /// strategy will start it again when it sees fit, as Reaper postpones a failed
    /// segment); `false` (the default) leaves it to the world, which restarts it from
    /// scratch once all its replicas are reachable again, holding it meanwhile.
    fn on_session_aborted(&mut self, _ctx: &mut Ctx, _spec: &SessionSpec) -> bool {
        false
    }

    /// Called when `node` applies a client or replicated write to `key`: the local
    /// knowledge (write counters) a real node has. Strategies must not use anything else
    /// about the data: the ground truth is for measuring them, not for steering them.
    fn on_local_write(&mut self, _node: NodeId, _key: Key, _now: SimTime) {}

    /// Called once when the run ends, to report what is still pending (e.g. revisit gaps).
    fn on_end(&mut self, _ctx: &mut Ctx) {}
}

/// Builds the strategy a scenario entry describes, on `ring`.
pub fn build(config: &StrategyConfig, ring: &Ring) -> Box<dyn Strategy> {
    let units = repair_units(ring);
    match &config.kind {
        &StrategyKind::Monolithic {
            leaves,
            interval_ns,
            tree,
            order,
        } => Box::new(Monolithic::new(
            units,
            ring.nodes(),
            MonolithicSchedule {
                leaves,
                interval_ns,
                tree,
                order,
                pairs: config.repair.pairs,
            },
        )),
        StrategyKind::Segmented(segmented) => Box::new(Segmented::new(
            units,
            ring.nodes(),
            segmented.clone(),
            config.repair.pairs,
        )),
        StrategyKind::RiakAae(aae) => Box::new(RiakAae::new(units, ring.nodes(), aae.clone(), config.repair.pairs)),
    }
}

/// What a monolithic strategy was configured with.
#[derive(Clone, Copy, Debug)]
pub struct MonolithicSchedule {
    pub leaves: u32,
    pub interval_ns: u64,
    pub tree: TreeMaintenance,
    pub order: RangeOrder,
    pub pairs: PairSelection,
}
