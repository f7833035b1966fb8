//! The monolithic strategy: one Merkle tree per range of the ring, rebuilt on a
//! schedule.
//!
//! Each cycle builds the whole tree of a range on every replica (a full scan),
//! compares, streams, and waits for the next scheduled rebuild. Nothing of a range is
//! repaired until its full scan is over, and writes after the snapshot wait for the
//! next cycle: the baseline every other strategy is measured against. When every node
//! holds every key the ring is one range, and a cycle is one tree over the whole key
//! space.
//!
//! On a ring, `all_at_once` gives every range its own cycle, all started together: a
//! range's next comparison starts `interval` after its previous one started (or as soon
//! as it ends, if it overran), so a range stalled by a crashed replica delays no other.
//! `node_by_node` runs one cycle over the ring at a time, node after node, as
//! `nodetool repair -pr` on each node in turn does in Cassandra 3.0 and later: the
//! node's primary ranges that share a replica set are one session (common ranges,
//! apache/cassandra `repair/CommonRange.java`), all of the node's sessions run at once
//! (`AbstractRepairTask.submitRepairSessions` submits them together), and the next node
//! starts when they are all done. `range_by_range` is Cassandra before 3.0: node after
//! node, one session per primary range, one after another.

use super::{
    Ctx, MonolithicSchedule, RangeOrder, RepairUnit, SessionReport, SessionSpec, Strategy, common_range_session,
    group_by_key,
};
use crate::sim::SimTime;
use std::collections::VecDeque;

pub struct Monolithic {
    units: Vec<RepairUnit>,
    schedule: MonolithicSchedule,
    /// When each unit's current (or last) comparison started.
    unit_started: Vec<SimTime>,
    /// The open full pass: when it began, and which units it still waits for.
    pass: Option<(SimTime, Vec<bool>, usize)>,
    /// Range by range: the units of the cycle not yet started, in order, and the
    /// cycle's start.
    queued: VecDeque<u64>,
    cycle_started: SimTime,
    /// Node by node: each node's primary units grouped by replica set (common ranges),
    /// in node order; the node whose turn it is, and its sessions still running.
    turns: Vec<Vec<Vec<u64>>>,
    turn: usize,
    turn_sessions: usize,
}

impl Monolithic {
    pub fn new(units: Vec<RepairUnit>, nodes: usize, schedule: MonolithicSchedule) -> Monolithic {
        let mut queued = VecDeque::new();
        let mut turns = Vec::new();
        let units_ref = &units;
        let primary = |node| (0..units_ref.len() as u64).filter(move |&u| units_ref[u as usize].replicas[0] == node);
        match schedule.order {
            RangeOrder::AllAtOnce => {}
            RangeOrder::RangeByRange => {
                for node in 0..nodes {
                    queued.extend(primary(node));
                }
            }
            RangeOrder::NodeByNode => {
                for node in 0..nodes {
                    // Common ranges: the same replicas, whatever their order.
                    turns.push(group_by_key(primary(node).map(|unit| {
                        let mut set = units[unit as usize].replicas.clone();
                        set.sort_unstable();
                        (set, unit)
                    })));
                }
            }
        }
        Monolithic {
            unit_started: vec![SimTime::ZERO; units.len()],
            units,
            schedule,
            pass: None,
            queued,
            cycle_started: SimTime::ZERO,
            turns,
            turn: 0,
            turn_sessions: 0,
        }
    }

    /// One session over the common ranges `members` (units sharing a replica set), its
    /// tag the first unit's.
    fn group_session(&self, members: &[u64]) -> SessionSpec {
        common_range_session(
            &self.units,
            members.iter().map(|&u| u as usize),
            members[0],
            self.schedule.leaves,
            self.schedule.pairs,
            self.schedule.tree,
        )
    }

    /// Node by node: starts the sessions of the next node that has primary ranges, or
    /// closes the cycle when every node has had its turn. Returns whether a turn began.
    fn start_turn(&mut self, ctx: &mut Ctx) -> bool {
        while self.turn < self.turns.len() {
            let groups = std::mem::take(&mut self.turns[self.turn]);
            self.turn_sessions = groups.len();
            for members in &groups {
                ctx.start_session(self.group_session(members));
            }
            self.turns[self.turn] = groups;
            self.turn += 1;
            if self.turn_sessions > 0 {
                return true;
            }
        }
        false
    }

    fn session(&self, unit: u64) -> SessionSpec {
        let unit_ref = &self.units[unit as usize];
        let mut spec = SessionSpec::aligned(
            unit,
            unit_ref.keys,
            self.schedule.leaves,
            &unit_ref.replicas,
            self.schedule.pairs,
        );
        spec.tree = self.schedule.tree;
        spec
    }

    /// All at once: starts `unit`'s next comparison; the first start after a pass
    /// completed opens the next pass.
    fn start_unit(&mut self, ctx: &mut Ctx, unit: u64) {
        let now = ctx.now();
        ctx.revisit_gap(now.since(self.unit_started[unit as usize]));
        self.unit_started[unit as usize] = now;
        if self.pass.is_none() {
            self.pass = Some((now, vec![false; self.units.len()], self.units.len()));
        }
        ctx.start_session(self.session(unit));
    }

    /// Node by node or range by range: a cycle over the ring, in the queued order.
    fn start_cycle(&mut self, ctx: &mut Ctx) {
        ctx.revisit_gap(ctx.now().since(self.cycle_started));
        self.cycle_started = ctx.now();
        if self.schedule.order == RangeOrder::NodeByNode {
            self.turn = 0;
            self.start_turn(ctx);
            return;
        }
        for u in 0..self.units.len() as u64 {
            let unit = self.queued[u as usize];
            self.queued.push_back(unit);
        }
        self.start_next(ctx);
    }

    /// The cycle is over: the full pass is booked and the next cycle set.
    fn end_cycle(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        ctx.full_pass_completed(now.since(self.cycle_started));
        let next = self.cycle_started.after(self.schedule.interval_ns);
        if next <= now {
            self.start_cycle(ctx);
        } else {
            ctx.set_timer(next, 0);
        }
    }

    fn start_next(&mut self, ctx: &mut Ctx) {
        // The queue holds one cycle's order, then the units still to start this cycle.
        let order_len = self.units.len();
        if self.queued.len() > order_len {
            let unit = self.queued.remove(order_len).expect("checked");
            ctx.start_session(self.session(unit));
        }
    }
}

impl Strategy for Monolithic {
    fn start(&mut self, ctx: &mut Ctx) {
        match self.schedule.order {
            RangeOrder::AllAtOnce => {
                for unit in 0..self.units.len() as u64 {
                    self.start_unit(ctx, unit);
                }
            }
            RangeOrder::NodeByNode | RangeOrder::RangeByRange => self.start_cycle(ctx),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        match self.schedule.order {
            RangeOrder::AllAtOnce => self.start_unit(ctx, token),
            RangeOrder::NodeByNode | RangeOrder::RangeByRange => self.start_cycle(ctx),
        }
    }

    fn on_session_done(&mut self, ctx: &mut Ctx, report: &SessionReport) {
        let now = ctx.now();
        match self.schedule.order {
            RangeOrder::AllAtOnce => {
                let unit = report.tag;
                if let Some((opened, waiting, left)) = &mut self.pass
                    && report.started >= *opened
                    && !waiting[unit as usize]
                {
                    waiting[unit as usize] = true;
                    *left -= 1;
                    if *left == 0 {
                        ctx.full_pass_completed(now.since(*opened));
                        self.pass = None;
                    }
                }
                let next = self.unit_started[unit as usize].after(self.schedule.interval_ns);
                if next <= now {
                    self.start_unit(ctx, unit);
                } else {
                    ctx.set_timer(next, unit);
                }
            }
            RangeOrder::RangeByRange => {
                if self.queued.len() > self.units.len() {
                    self.start_next(ctx);
                    return;
                }
                self.end_cycle(ctx);
            }
            RangeOrder::NodeByNode => {
                self.turn_sessions -= 1;
                if self.turn_sessions == 0 && !self.start_turn(ctx) {
                    self.end_cycle(ctx);
                }
            }
        }
    }

    fn on_end(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        match self.schedule.order {
            RangeOrder::AllAtOnce => {
                for &started in &self.unit_started {
                    ctx.revisit_gap(now.since(started));
                }
            }
            RangeOrder::NodeByNode | RangeOrder::RangeByRange => ctx.revisit_gap(now.since(self.cycle_started)),
        }
    }
}
