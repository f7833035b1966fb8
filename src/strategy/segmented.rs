//! The segmented strategy: fixed segments, one Merkle tree each, parallel workers, and a
//! scheduling policy that decides which segment to compare next.
//!
//! Each segment is an independent unit of work: build its tree (a scan of ~keys/segments
//! keys), compare, stream. Repairs of a segment start as soon as that segment is done,
//! not after a full pass. `workers` segments are in flight at once; the node's cores
//! bound how many of their builds actually run in parallel (the world enforces that).
//!
//! On a token ring each range is cut into its own segments (Reaper's subranges: at
//! least one per range, `segments` over the ring in proportion to the ranges' sizes),
//! each compared on the range's replicas. With `max_sessions_per_node` a segment
//! starts only while every one of its replicas is in fewer sessions than the limit
//! (Reaper's rule); busy segments are passed over for ones whose replicas are free.
//!
//! Reaper's knobs (`ReaperKnobs`): a segment still running `segment_timeout` x its
//! attempt number after it started is aborted and postponed like one a fault stopped
//! (`SegmentRunner.processTriggeredSegment`); with `intensity` i < 1 a worker pauses
//! d x (1 - i) / i after a segment that took d (`SegmentRunner.intensityBasedDelayMillis`);
//! `parallelism = "sequential"` makes a session's replicas build one after another (the
//! world does that part); `segment_split = "reaper"` cuts ranges as Reaper's
//! `SegmentGenerator` does (or coalesces them, one session over a replica list's ranges,
//! when no more segments are asked for than there are ranges); with `scheduling_interval` segments start only when the
//! repair runner wakes, one per wake-up (`RepairRunner.startNextSegment`); a segment a
//! fault postponed holds its worker `postpone_sleep` longer.
//!
//! Policies may only use what real nodes know: how many writes each segment received
//! since its last comparison, as counted by the replicas themselves (each node counts
//! the writes it applies, in [`Strategy::on_local_write`]; the scheduler adds up the
//! counters of the replicas it compares, as if they were exchanged with the session
//! request), the measured duration of past comparisons, and the clock. They never see
//! which keys actually differ.

use super::{
    Ctx, Misalignment, Policy, RepairUnit, SegmentSplit, SegmentedConfig, SessionReport, SessionSpec, Strategy,
    common_range_session, group_by_key, reaper,
};
use crate::model::{Key, KeyRange, NodeId};
use crate::protocol::{PairSelection, Participant};
use crate::sim::SimTime;
use std::cmp::Reverse;
use std::collections::{BTreeSet, VecDeque};

/// Timer token: an idle worker looks for work again.
const WAKE: u64 = 0;
/// Timer token: a worker's intensity pause is over.
const RESUME: u64 = 1;
/// Timer tokens from here on: segment `token - TIMEOUT` may have run past its timeout.
const TIMEOUT: u64 = 2;
/// Timer token: Reaper's repair runner wakes on its scheduling interval.
const SCHEDULE: u64 = u64::MAX;

pub struct Segmented {
    /// Reaper: each segment's failed attempts (postponements) since it last finished.
    fails: Vec<u64>,
    /// Reaper's scheduling interval: when the runner last started a segment, and the
    /// wake-up it has set.
    scheduled_start: Option<SimTime>,
    schedule_wake: Option<SimTime>,
    config: SegmentedConfig,
    pairs: PairSelection,
    units: Vec<RepairUnit>,
    /// Every segment's keys and unit, in key order (`config.segments` is their number);
    /// a coalesced segment's first unit.
    segments: Vec<(KeyRange, usize)>,
    /// Reaper's coalesced segments ([`SegmentSplit::Reaper`] with no more segments than
    /// token ranges): each segment's units, which share a replica set. Empty otherwise.
    coalesced: Vec<Vec<usize>>,
    /// Where each piece of the key space starts and the segment holding it, in key
    /// order, for finding a key's segment.
    segment_starts: Vec<(Key, u64)>,
    /// Sessions each node takes part in now (for `max_sessions_per_node`).
    node_busy: Vec<u32>,
    /// Round robin with a limit or on a ring: segments of the current pass passed over
    /// because a replica was busy or down, in key order.
    passed_over: BTreeSet<u64>,
    /// On a ring (or with a session limit) segments are passed over while a replica is
    /// busy or down, and a session a fault stopped is taken back rather than left
    /// waiting (Reaper postpones it). With every node holding every key and no limit,
    /// every session needs every node: segments are never passed over.
    reaper_rules: bool,
    /// Which nodes were down at the last dispatch (ring only).
    down: Vec<bool>,
    /// The node groups partitions cut off at the last dispatch (ring only).
    cut: Vec<Vec<NodeId>>,
    /// Round robin: the passes each segment in `passed_over` still owes a visit to,
    /// oldest first (a segment passed over while in flight, then stopped by a fault,
    /// owes both its own pass and the next one).
    owed: Vec<VecDeque<u64>>,
    /// Each in-flight segment's last visit and writes before the visit began, restored
    /// if a fault stops it (the visit did not happen, so its urgency stays).
    before_visit: Vec<(SimTime, u64)>,
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

/// Cuts each unit into segments: all `segments` in the unit when there is one; on a
/// ring, `max(1, round(segments x the unit's share of the key space))` per unit, or
/// Reaper's `ceil` ([`SegmentSplit::Reaper`]).
fn cut_segments(units: &[RepairUnit], segments: u64, split: SegmentSplit) -> Vec<(KeyRange, usize)> {
    let key_count: u64 = units.iter().map(|u| u.keys.len()).sum();
    let mut cut = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        let share = u128::from(segments) * u128::from(unit.keys.len());
        let count = if units.len() == 1 {
            segments
        } else if split == SegmentSplit::Reaper {
            // A wrapping token range is two units here, each rounded up on its own.
            reaper::segment_count(unit.keys.len(), key_count, segments).max(1)
        } else {
            ((share + u128::from(key_count) / 2) / u128::from(key_count)).max(1) as u64
        };
        let count = count.min(unit.keys.len());
        cut.extend((0..count).map(|i| (unit.keys.part(i, count), u)));
    }
    cut
}

/// Reaper's segments when a run asks for no more segments than the ring has token
/// ranges (`SegmentGenerator.generateSegments` then calls `coalesceTokenRanges`): the
/// ranges of each replica list (in preference order, as Reaper keys them), in key
/// order, gathered into segments of at most `key_count / segments` keys. `None` when
/// Reaper would split instead.
fn coalesce_units(units: &[RepairUnit], segments: u64, split: SegmentSplit) -> Option<Vec<Vec<usize>>> {
    if split != SegmentSplit::Reaper || units.len() <= 1 || segments > units.len() as u64 {
        return None;
    }
    let key_count: u64 = units.iter().map(|u| u.keys.len()).sum();
    // Each replica list's ranges as (start, end) keys.
    let by_replicas = group_by_key(
        units
            .iter()
            .map(|unit| (unit.replicas.as_slice(), (unit.keys.start, unit.keys.end))),
    );
    let target = key_count / segments.max(1);
    let unit_at = |start: u64| {
        units
            .iter()
            .position(|u| u.keys.start == start)
            .expect("a unit's range")
    };
    Some(
        reaper::coalesce_token_ranges(target, &by_replicas)
            .into_iter()
            .map(|segment| segment.into_iter().map(|(start, _)| unit_at(start)).collect())
            .collect(),
    )
}

impl Segmented {
    pub fn new(units: Vec<RepairUnit>, nodes: usize, mut config: SegmentedConfig, pairs: PairSelection) -> Segmented {
        let coalesced = coalesce_units(&units, config.segments, config.reaper.split).unwrap_or_default();
        let cut = if coalesced.is_empty() {
            cut_segments(&units, config.segments, config.reaper.split)
        } else {
            coalesced
                .iter()
                .map(|members| (units[members[0]].keys, members[0]))
                .collect()
        };
        let mut segment_starts: Vec<(Key, u64)> = if coalesced.is_empty() {
            cut.iter()
                .enumerate()
                .map(|(s, (keys, _))| (keys.start, s as u64))
                .collect()
        } else {
            coalesced
                .iter()
                .enumerate()
                .flat_map(|(s, members)| {
                    let units = &units;
                    members.iter().map(move |&u| (units[u].keys.start, s as u64))
                })
                .collect()
        };
        segment_starts.sort_unstable();
        // A segment timeout also needs them: a timed-out segment is passed over and
        // comes back later in its pass.
        let reaper_rules =
            config.max_sessions_per_node.is_some() || units.len() > 1 || config.reaper.segment_timeout_ns.is_some();
        config.segments = cut.len() as u64;
        let segments = cut.len();
        let mut passes = PassTracker::new(config.segments);
        if config.policy != Policy::RoundRobin {
            passes.open(SimTime::ZERO, config.segments);
        }
        Segmented {
            fails: vec![0; segments],
            scheduled_start: None,
            schedule_wake: None,
            segment_starts,
            segments: cut,
            coalesced,
            units,
            pairs,
            node_busy: vec![0; nodes],
            passed_over: BTreeSet::new(),
            reaper_rules,
            down: vec![false; nodes],
            cut: Vec::new(),
            owed: vec![VecDeque::new(); segments],
            before_visit: vec![(SimTime::ZERO, 0); segments],
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

    /// The session comparing `segment` on its unit's replicas. The first replica uses
    /// the agreed boundaries; with a misalignment (only when every node holds every key,
    /// as validated), the others derive theirs differently and hash other key sets.
    /// Either way each side's segments tile the whole key space, so every key is still
    /// compared (and repaired) by some session: only the cost of misalignment shows.
    fn session(&self, segment: u64) -> SessionSpec {
        if let Some(members) = self.coalesced.get(segment as usize) {
            // One Cassandra repair session over the segment's ranges (common ranges).
            return common_range_session(
                &self.units,
                members.iter().copied(),
                segment,
                self.config.leaves,
                self.pairs,
                self.config.tree,
            );
        }
        let segments = self.config.segments;
        let (agreed, unit) = self.segments[segment as usize];
        let key_space = self.units[unit].keys;
        let peer = match self.config.misalignment {
            Misalignment::Aligned => agreed,
            Misalignment::Offset { keys } => {
                // Every interior boundary moves `keys` later (clamped to the key space);
                // the first segment starts at 0 and the last ends at the end, as before.
                let end = key_space.end;
                let boundary = |i: u64| match i {
                    0 => 0,
                    i if i == segments => end,
                    i => key_space.part(i, segments).start.saturating_add(keys).min(end),
                };
                KeyRange::new(boundary(segment), boundary(segment + 1))
            }
            Misalignment::SegmentCount { peer_segments } => {
                // Fewer segments on the peers (validated): segment i meets peer segment i,
                // and the agreed segments past the peers' last meet that last one.
                key_space.part(segment.min(peer_segments - 1), peer_segments)
            }
        };
        let replicas = &self.units[unit].replicas;
        let participants = replicas
            .iter()
            .enumerate()
            .map(|(i, &node)| Participant {
                node,
                range: if i == 0 { agreed } else { peer },
            })
            .collect();
        SessionSpec {
            tag: segment,
            leaves: self.config.leaves,
            participants,
            pairs: self.pairs.pairs(replicas.len()),
            tree: self.config.tree,
            ranges: 1,
        }
    }

    /// Whether every replica of `segment` is up and can take one more session.
    fn replicas_free(&self, segment: u64) -> bool {
        if !self.reaper_rules {
            return true;
        }
        let limit = self.config.max_sessions_per_node.unwrap_or(u32::MAX);
        let unit = self.segments[segment as usize].1;
        let replicas = &self.units[unit].replicas;
        replicas.iter().all(|&n| self.node_busy[n] < limit && !self.down[n])
            && self.cut.iter().all(|group| {
                let inside = replicas.iter().filter(|n| group.contains(n)).count();
                inside == 0 || inside == replicas.len()
            })
    }

    /// The segment holding `key`.
    fn segment_of(&self, key: Key) -> u64 {
        if self.units.len() == 1 {
            return self.units[0].keys.part_index(key, self.config.segments);
        }
        self.segment_starts[self.segment_starts.partition_point(|&(start, _)| start <= key) - 1].1
    }

    /// Starts comparisons until every worker is busy or nothing is worth comparing; then
    /// sleeps until the next segment falls due or the next poll.
    fn dispatch(&mut self, ctx: &mut Ctx) {
        if self.reaper_rules {
            for (node, down) in self.down.iter_mut().enumerate() {
                *down = ctx.is_down(node);
            }
            self.cut = ctx.isolated_groups();
        }
        while self.busy_workers < self.config.workers && self.runner_awake(ctx) {
            let Some(segment) = self.pick(ctx.now()) else { break };
            self.visit(ctx, segment);
            if self.config.reaper.scheduling_interval_ns.is_some() {
                self.scheduled_start = Some(ctx.now());
            }
        }
        if self.busy_workers < self.config.workers {
            self.sleep_until_due(ctx);
            self.wake_runner(ctx);
        }
    }

    /// Whether Reaper's repair runner may start a segment now: always without a
    /// scheduling interval; with one, only at its wake-ups (multiples of the interval)
    /// and once per wake-up.
    fn runner_awake(&self, ctx: &Ctx) -> bool {
        let Some(interval) = self.config.reaper.scheduling_interval_ns else {
            return true;
        };
        let now = ctx.now();
        now.nanos().is_multiple_of(interval) && self.scheduled_start != Some(now)
    }

    /// Sets the runner's next wake-up (the next multiple of the interval) if a worker
    /// is free and none is set.
    fn wake_runner(&mut self, ctx: &mut Ctx) {
        let Some(interval) = self.config.reaper.scheduling_interval_ns else {
            return;
        };
        let now = ctx.now().nanos();
        let next = SimTime::from_nanos((now / interval + 1).saturating_mul(interval));
        if self.schedule_wake.is_none_or(|at| at > next) {
            self.schedule_wake = Some(next);
            ctx.set_timer(next, SCHEDULE);
        }
    }

    /// The current attempt's timeout of `segment`: Reaper's timeout times the attempt.
    fn attempt_timeout_ns(&self, segment: usize, timeout_ns: u64) -> u64 {
        timeout_ns.saturating_mul(self.fails[segment] + 1)
    }

    fn visit(&mut self, ctx: &mut Ctx, segment: u64) {
        let s = segment as usize;
        let now = ctx.now();
        ctx.revisit_gap(now.since(self.last_visit[s]));
        let was_idle = self.idle_by_last_visit.remove(&(self.last_visit[s], segment));
        debug_assert!(was_idle, "a segment is compared by one worker at a time");
        self.before_visit[s] = (self.last_visit[s], self.writes_since_visit[s]);
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
        let unit = self.segments[s].1;
        for &node in &self.units[unit].replicas {
            self.node_busy[node] += 1;
        }
        ctx.start_session(self.session(segment));
        if let Some(timeout_ns) = self.config.reaper.segment_timeout_ns {
            ctx.set_timer(now.after(self.attempt_timeout_ns(s, timeout_ns)), TIMEOUT + segment);
        }
    }

    /// The next segment to compare, or `None` to leave workers idle for now.
    fn pick(&mut self, now: SimTime) -> Option<u64> {
        match self.config.policy {
            Policy::RoundRobin => self.pick_in_order(now),
            Policy::HottestFirst | Policy::AgeWeighted => self.pick_overdue(now).or_else(|| self.pick_by_score(now)),
        }
    }

    fn pick_in_order(&mut self, now: SimTime) -> Option<u64> {
        if self.reaper_rules {
            // Segments passed over earlier in this pass come first, in key order.
            let ready = self
                .passed_over
                .iter()
                .copied()
                .find(|&s| !self.in_flight[s as usize] && self.replicas_free(s));
            if let Some(segment) = ready {
                let owed = &mut self.owed[segment as usize];
                self.passes.pass_of[segment as usize] = owed.pop_front().expect("a passed-over segment owes a pass");
                if owed.is_empty() {
                    self.passed_over.remove(&segment);
                }
                return Some(segment);
            }
        }
        loop {
            let segment = self.next_in_order;
            if self.in_flight[segment as usize] && !self.reaper_rules {
                return None;
            }
            if segment == 0 {
                // A new pass, paced by `interval` from the start of the previous one,
                // once every segment of the previous one has started.
                if !self.passed_over.is_empty() {
                    return None;
                }
                let due = self
                    .passes
                    .newest_start
                    .map(|started| started.after(self.config.interval_ns));
                if due.is_some_and(|due| now < due) {
                    return None;
                }
                self.passes.open(now, self.config.segments);
            }
            self.next_in_order = (segment + 1) % self.config.segments;
            if self.replicas_free(segment) && !self.in_flight[segment as usize] {
                self.passes.pass_of[segment as usize] = self.passes.opened - 1;
                return Some(segment);
            }
            // In flight, or a replica is busy: come back to it later in this pass.
            self.passed_over.insert(segment);
            self.owed[segment as usize].push_back(self.passes.opened - 1);
            if self.next_in_order == 0 {
                return None;
            }
        }
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
        self.idle_by_last_visit
            .iter()
            .map(|&(_, segment)| segment)
            .take_while(|&segment| self.urgent_at(segment as usize) <= now)
            .find(|&segment| self.replicas_free(segment))
    }

    /// The segment with the highest positive score; ties go to the lowest index.
    fn pick_by_score(&self, now: SimTime) -> Option<u64> {
        if self.config.policy == Policy::HottestFirst {
            return self
                .idle_by_writes
                .iter()
                .rev()
                .map(|&(_, Reverse(segment))| segment)
                .find(|&segment| self.replicas_free(segment));
        }
        let mut best: Option<(u128, u64)> = None;
        for &s in &self.written {
            let i = s as usize;
            if self.in_flight[i] || !self.replicas_free(s) {
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

    /// Postponed (a fault stopped the segment, or it timed out): the visit did not
    /// happen, so the segment goes back to the idle ones with its previous last visit
    /// and writes (as urgent as it was), and its worker moves on.
    fn postpone(&mut self, segment: u64) {
        let s = segment as usize;
        // Reaper's `SegmentRunner.postpone`: `withFailCount(segment.getFailCount() + 1)`.
        self.fails[s] += 1;
        let unit = self.segments[s].1;
        for &node in &self.units[unit].replicas {
            self.node_busy[node] -= 1;
        }
        self.in_flight[s] = false;
        self.busy_workers -= 1;
        let (last_visit, writes_before) = self.before_visit[s];
        self.last_visit[s] = last_visit;
        self.writes_since_visit[s] += writes_before;
        self.idle_by_last_visit.insert((self.last_visit[s], segment));
        let writes = self.writes_since_visit[s];
        if writes > 0 && self.config.policy == Policy::HottestFirst {
            self.idle_by_writes.insert((writes, Reverse(segment)));
        }
        if writes > 0 && self.config.policy == Policy::AgeWeighted {
            self.written.insert(segment);
        }
        if self.config.policy == Policy::RoundRobin {
            // It still owes the pass it was started in, before any it was passed over for.
            self.passed_over.insert(segment);
            let pass = self.passes.pass_of[s];
            self.owed[s].push_front(pass);
        }
    }
}

impl Strategy for Segmented {
    fn start(&mut self, ctx: &mut Ctx) {
        self.dispatch(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        match token {
            // The worker taken by an intensity pause is free again.
            RESUME => self.busy_workers -= 1,
            SCHEDULE => {
                if self.schedule_wake == Some(ctx.now()) {
                    self.schedule_wake = None;
                }
            }
            WAKE => {
                if self.wake_at.is_some_and(|at| at <= ctx.now()) {
                    self.wake_at = None;
                }
            }
            _ => {
                // Reaper's segment timeout: the segment is still running the visit that
                // began exactly one timeout ago; abort it and retry it later.
                let segment = token - TIMEOUT;
                let s = segment as usize;
                let timeout_ns = self.config.reaper.segment_timeout_ns.expect("set only with a timeout");
                let attempt_ns = self.attempt_timeout_ns(s, timeout_ns);
                if !(self.in_flight[s] && self.last_visit[s].after(attempt_ns) == ctx.now()) {
                    return;
                }
                ctx.abort_session(segment);
                self.postpone(segment);
            }
        }
        self.dispatch(ctx);
    }

    fn on_session_done(&mut self, ctx: &mut Ctx, report: &SessionReport) {
        let segment = report.tag;
        let unit = self.segments[segment as usize].1;
        for &node in &self.units[unit].replicas {
            self.node_busy[node] -= 1;
        }
        self.visits_done += 1;
        self.fails[segment as usize] = 0;
        self.visit_ns_total += report.finished.since(report.started);
        self.in_flight[segment as usize] = false;
        self.idle_by_last_visit
            .insert((self.last_visit[segment as usize], segment));
        let writes = self.writes_since_visit[segment as usize];
        if writes > 0 && self.config.policy == Policy::HottestFirst {
            self.idle_by_writes.insert((writes, Reverse(segment)));
        }
        let intensity = self.config.reaper.intensity;
        let pause_ns = if intensity < 1.0 {
            // Reaper's intensity as a duty cycle: pause d x (1 - i) / i after a segment of d.
            let took = report.finished.since(report.started) as f64;
            (took * (1.0 - intensity) / intensity).round() as u64
        } else {
            0
        };
        if pause_ns > 0 {
            // The worker stays taken until its pause is over.
            ctx.set_timer(ctx.now().after(pause_ns), RESUME);
        } else {
            self.busy_workers -= 1;
        }
        self.finish_visit(ctx, segment, report.started);
        self.dispatch(ctx);
    }

    fn on_session_aborted(&mut self, ctx: &mut Ctx, spec: &SessionSpec) -> bool {
        if !self.reaper_rules {
            return false;
        }
        self.postpone(spec.tag);
        let sleep_ns = self.config.reaper.postpone_sleep_ns;
        if sleep_ns > 0 {
            // `SegmentRunner.postponeCurrentSegment` sleeps before the thread is free.
            self.busy_workers += 1;
            ctx.set_timer(ctx.now().after(sleep_ns), RESUME);
        }
        self.dispatch(ctx);
        true
    }

    fn on_local_write(&mut self, _node: NodeId, key: Key, _now: SimTime) {
        let segment = self.segment_of(key);
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
