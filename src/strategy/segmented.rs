//! The segmented strategy: fixed segments, one Merkle tree each, parallel workers, and a
//! scheduling policy that decides which segment to compare next.
//!
//! Each segment is an independent unit of work: build its tree (a scan of ~keys/segments
//! keys), compare, stream. Repairs of a segment start as soon as that segment is done,
//! not after a full pass. `workers` segments are in flight at once; the node's cores
//! bound how many of their builds actually run in parallel (the world enforces that).
//!
//! Policies may only use what real nodes know: how many writes each segment received
//! since its last comparison, as counted by the replicas themselves (each node counts
//! the writes it applies, in [`Strategy::on_local_write`]; the scheduler adds up the
//! counters of the replicas it compares, as if they were exchanged with the session
//! request), the measured duration of past comparisons, and the clock. They never see
//! which keys actually differ.

use super::{
    ClusterShape, Ctx, Misalignment, Policy, SegmentedConfig, SessionReport, SessionSpec, Strategy, TreeMaintenance,
};
use crate::model::{Key, KeyRange, NodeId};
use crate::sim::SimTime;
use std::cmp::Reverse;
use std::collections::{BTreeSet, VecDeque};

/// Timer token: an idle worker looks for work again.
const WAKE: u64 = 0;

pub struct Segmented {
    cluster: ClusterShape,
    config: SegmentedConfig,
    key_space: KeyRange,
    /// Local writes (summed over nodes) to each segment since its last comparison began.
    writes_since_visit: Vec<u64>,
    /// When each segment's last comparison began (time zero before the first).
    last_visit: Vec<SimTime>,
    in_flight: Vec<bool>,
    /// Segments not in flight, ordered by their last comparison's start (oldest first).
    idle_by_last_visit: BTreeSet<(SimTime, u64)>,
    /// Segments with local writes since their last comparison began (age-weighted only).
    written: BTreeSet<u64>,
    /// Idle segments with writes, ordered by (writes, lowest index first): hottest-first's
    /// answer in O(log segments) instead of a scan (hottest-first only).
    idle_by_writes: BTreeSet<(u64, Reverse<u64>)>,
    busy_workers: u32,
    /// Round robin: the next segment in key order.
    next_in_order: u64,
    passes: PassTracker,
    wake_at: Option<SimTime>,
    /// Comparisons finished and their total duration: the node's own measure of how
    /// long a visit takes, used to start starved segments early enough.
    visits_done: u64,
    visit_ns_total: u64,
}

/// Measures full passes: the time until every segment has been compared afresh.
///
/// Round robin numbers its passes (segment 0 opens one); a pass is done when all of its
/// segments are. Prioritised policies have no order: a pass is done once every segment
/// has finished a comparison that began after the pass began, and the next begins then.
struct PassTracker {
    /// Open passes, oldest first: number, start, segments still unfinished.
    open: VecDeque<(u64, SimTime, u64)>,
    opened: u64,
    /// When the newest pass began (kept after it completes, for `interval` pacing).
    newest_start: Option<SimTime>,
    /// The pass each in-flight segment belongs to (round robin).
    pass_of: Vec<u64>,
    /// Segments refreshed in the current pass (prioritised policies).
    refreshed: Vec<bool>,
    refreshed_count: u64,
}

impl PassTracker {
    fn new(segments: u64) -> PassTracker {
        PassTracker {
            open: VecDeque::new(),
            opened: 0,
            newest_start: None,
            pass_of: vec![0; segments as usize],
            refreshed: vec![false; segments as usize],
            refreshed_count: 0,
        }
    }

    fn open(&mut self, now: SimTime, segments: u64) {
        self.open.push_back((self.opened, now, segments));
        self.opened += 1;
        self.newest_start = Some(now);
    }
}

impl Segmented {
    pub fn new(cluster: ClusterShape, config: SegmentedConfig) -> Segmented {
        let segments = config.segments as usize;
        let mut passes = PassTracker::new(config.segments);
        if config.policy != Policy::RoundRobin {
            passes.open(SimTime::ZERO, config.segments);
        }
        Segmented {
            cluster,
            key_space: KeyRange::new(0, cluster.key_count),
            writes_since_visit: vec![0; segments],
            last_visit: vec![SimTime::ZERO; segments],
            in_flight: vec![false; segments],
            idle_by_last_visit: (0..config.segments).map(|s| (SimTime::ZERO, s)).collect(),
            written: BTreeSet::new(),
            idle_by_writes: BTreeSet::new(),
            busy_workers: 0,
            next_in_order: 0,
            passes,
            wake_at: None,
            visits_done: 0,
            visit_ns_total: 0,
            config,
        }
    }

    /// The session comparing `segment`: node 0 uses the agreed boundaries; with a
    /// misalignment, the other nodes derive theirs differently and hash other key sets.
    /// Either way each side's segments tile the whole key space, so every key is still
    /// compared (and repaired) by some session: only the cost of misalignment shows.
    fn session(&self, segment: u64) -> SessionSpec {
        let segments = self.config.segments;
        let agreed = self.key_space.part(segment, segments);
        let peer = match self.config.misalignment {
            Misalignment::Aligned => agreed,
            Misalignment::Offset { keys } => {
                // Every interior boundary moves `keys` later (clamped to the key space);
                // the first segment starts at 0 and the last ends at the end, as before.
                let end = self.key_space.end;
                let boundary = |i: u64| match i {
                    0 => 0,
                    i if i == segments => end,
                    i => self.key_space.part(i, segments).start.saturating_add(keys).min(end),
                };
                KeyRange::new(boundary(segment), boundary(segment + 1))
            }
            Misalignment::SegmentCount { peer_segments } => {
                // Fewer segments on the peers (validated): segment i meets peer segment i,
                // and the agreed segments past the peers' last meet that last one.
                self.key_space.part(segment.min(peer_segments - 1), peer_segments)
            }
        };
        let mut ranges = vec![peer; self.cluster.nodes];
        ranges[0] = agreed;
        SessionSpec {
            tag: segment,
            leaves: self.config.leaves,
            ranges,
            tree: self.config.tree,
        }
    }

    /// Starts comparisons until every worker is busy or nothing is worth comparing; then
    /// sleeps until the next segment falls due or the next poll.
    fn dispatch(&mut self, ctx: &mut Ctx) {
        while self.busy_workers < self.config.workers {
            let Some(segment) = self.pick(ctx.now()) else { break };
            self.visit(ctx, segment);
        }
        if self.busy_workers < self.config.workers {
            self.sleep_until_due(ctx);
        }
    }

    fn visit(&mut self, ctx: &mut Ctx, segment: u64) {
        let s = segment as usize;
        let now = ctx.now();
        ctx.revisit_gap(now.since(self.last_visit[s]));
        let was_idle = self.idle_by_last_visit.remove(&(self.last_visit[s], segment));
        debug_assert!(was_idle, "a segment is compared by one worker at a time");
        self.last_visit[s] = now;
        if self.config.policy == Policy::HottestFirst {
            self.idle_by_writes
                .remove(&(self.writes_since_visit[s], Reverse(segment)));
        }
        // The snapshot is taken now: writes from here on count towards the next visit.
        self.writes_since_visit[s] = 0;
        self.written.remove(&segment);
        self.in_flight[s] = true;
        self.busy_workers += 1;
        ctx.start_session(self.session(segment));
    }

    /// The next segment to compare, or `None` to leave workers idle for now.
    fn pick(&mut self, now: SimTime) -> Option<u64> {
        match self.config.policy {
            Policy::RoundRobin => self.pick_in_order(now),
            Policy::HottestFirst | Policy::AgeWeighted => self.pick_overdue(now).or_else(|| self.pick_by_score(now)),
        }
    }

    fn pick_in_order(&mut self, now: SimTime) -> Option<u64> {
        let segment = self.next_in_order;
        if self.in_flight[segment as usize] {
            return None;
        }
        if segment == 0 {
            // A new pass, paced by `interval` from the start of the previous one.
            let due = self
                .passes
                .newest_start
                .map(|started| started.after(self.config.interval_ns));
            if due.is_some_and(|due| now < due) {
                return None;
            }
            self.passes.open(now, self.config.segments);
        }
        self.passes.pass_of[segment as usize] = self.passes.opened - 1;
        self.next_in_order = (segment + 1) % self.config.segments;
        Some(segment)
    }

    /// How long the workers need to visit every segment once, from the measured mean
    /// visit time. Starved segments are served this early, so that when many fall due
    /// together (cold segments last visited in the same sweep) they all still meet the
    /// bound instead of queueing past it.
    fn sweep_estimate_ns(&self) -> u64 {
        let mean_visit_ns = self.visit_ns_total.checked_div(self.visits_done).unwrap_or(0);
        mean_visit_ns.saturating_mul(self.config.segments) / u64::from(self.config.workers)
    }

    /// When `segment` must start its next comparison to meet the starvation bound, less
    /// the time a full sweep takes. Until one comparison has finished there is no measure
    /// of a sweep, so every segment counts as urgent: the first visits give the estimate.
    fn urgent_at(&self, segment: usize) -> SimTime {
        if self.visits_done == 0 {
            return SimTime::ZERO;
        }
        let deadline = self.last_visit[segment].after(self.config.max_interval_ns);
        SimTime::from_nanos(deadline.nanos().saturating_sub(self.sweep_estimate_ns()))
    }

    /// Earliest deadline first among the segments that are urgent: those whose deadline
    /// is nearer than a full sweep. Deadlines are in last-visit order, so the oldest idle
    /// segment is the only candidate.
    fn pick_overdue(&self, now: SimTime) -> Option<u64> {
        let &(_, oldest) = self.idle_by_last_visit.first()?;
        (self.urgent_at(oldest as usize) <= now).then_some(oldest)
    }

    /// The segment with the highest positive score; ties go to the lowest index.
    fn pick_by_score(&self, now: SimTime) -> Option<u64> {
        if self.config.policy == Policy::HottestFirst {
            return self.idle_by_writes.last().map(|&(_, Reverse(segment))| segment);
        }
        let mut best: Option<(u128, u64)> = None;
        for &s in &self.written {
            let i = s as usize;
            if self.in_flight[i] {
                continue;
            }
            let writes = u128::from(self.writes_since_visit[i]);
            let score = match self.config.policy {
                Policy::AgeWeighted => writes * u128::from(now.since(self.last_visit[i]).max(1)),
                _ => writes,
            };
            if score > 0 && best.is_none_or(|(b, _)| score > b) {
                best = Some((score, s));
            }
        }
        best.map(|(_, s)| s)
    }

    /// Sets one wake-up timer: at the next poll, or earlier if a segment falls due.
    fn sleep_until_due(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let mut at = now.after(self.config.poll_ns);
        let due = match self.config.policy {
            Policy::RoundRobin => self
                .passes
                .newest_start
                .map(|started| started.after(self.config.interval_ns)),
            Policy::HottestFirst | Policy::AgeWeighted => self
                .idle_by_last_visit
                .first()
                .map(|&(_, oldest)| self.urgent_at(oldest as usize)),
        };
        if let Some(due) = due.filter(|&due| due > now) {
            at = at.min(due);
        }
        if self.wake_at.is_some_and(|pending| pending > now && pending <= at) {
            return;
        }
        self.wake_at = Some(at);
        ctx.set_timer(at, WAKE);
    }

    /// Books a finished segment against its pass; reports passes that completed.
    fn finish_visit(&mut self, ctx: &mut Ctx, segment: u64, started: SimTime) {
        let now = ctx.now();
        let s = segment as usize;
        let passes = &mut self.passes;
        match self.config.policy {
            Policy::RoundRobin => {
                let number = passes.pass_of[s];
                let pass = passes
                    .open
                    .iter_mut()
                    .find(|p| p.0 == number)
                    .expect("pass of an in-flight segment");
                pass.2 -= 1;
                while passes.open.front().is_some_and(|p| p.2 == 0) {
                    let (_, pass_started, _) = passes.open.pop_front().expect("checked");
                    ctx.full_pass_completed(now.since(pass_started));
                }
            }
            Policy::HottestFirst | Policy::AgeWeighted => {
                let (_, pass_started, _) = *passes.open.front().expect("a pass is always open");
                if started >= pass_started && !passes.refreshed[s] {
                    passes.refreshed[s] = true;
                    passes.refreshed_count += 1;
                }
                if passes.refreshed_count == self.config.segments {
                    ctx.full_pass_completed(now.since(pass_started));
                    passes.open.clear();
                    passes.open(now, self.config.segments);
                    passes.refreshed.iter_mut().for_each(|r| *r = false);
                    passes.refreshed_count = 0;
                }
            }
        }
    }
}

impl Strategy for Segmented {
    fn start(&mut self, ctx: &mut Ctx) {
        self.dispatch(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        if self.wake_at.is_some_and(|at| at <= ctx.now()) {
            self.wake_at = None;
        }
        self.dispatch(ctx);
    }

    fn on_session_done(&mut self, ctx: &mut Ctx, report: &SessionReport) {
        let segment = report.tag;
        self.visits_done += 1;
        self.visit_ns_total += report.finished.since(report.started);
        self.in_flight[segment as usize] = false;
        self.idle_by_last_visit
            .insert((self.last_visit[segment as usize], segment));
        let writes = self.writes_since_visit[segment as usize];
        if writes > 0 && self.config.policy == Policy::HottestFirst {
            self.idle_by_writes.insert((writes, Reverse(segment)));
        }
        self.busy_workers -= 1;
        self.finish_visit(ctx, segment, report.started);
        self.dispatch(ctx);
    }

    fn on_local_write(&mut self, _node: NodeId, key: Key, _now: SimTime) {
        let segment = self.key_space.part_index(key, self.config.segments);
        let writes = &mut self.writes_since_visit[segment as usize];
        *writes += 1;
        // Each policy keeps only the index it reads: these are updated on every write.
        if *writes == 1 && self.config.policy == Policy::AgeWeighted {
            self.written.insert(segment);
        }
        if self.config.policy == Policy::HottestFirst && !self.in_flight[segment as usize] {
            self.idle_by_writes.remove(&(*writes - 1, Reverse(segment)));
            self.idle_by_writes.insert((*writes, Reverse(segment)));
        }
    }

    fn on_end(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        for &last in &self.last_visit {
            ctx.revisit_gap(now.since(last));
        }
    }
}

impl TreeMaintenance {
    /// Name in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            TreeMaintenance::Scheduled => "scheduled",
            TreeMaintenance::Live => "live",
        }
    }
}
