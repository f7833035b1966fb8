//! The monolithic strategy: one Merkle tree per range of the ring, each cycle.
//!
//! Each cycle builds the whole tree of every range on every replica (a full scan),
//! compares, streams, and waits for the next scheduled rebuild. Nothing of a range is
//! repaired until its full scan is over, and writes after the snapshot wait for the
//! next cycle: the baseline every other strategy is measured against. When every node
//! holds every key the ring is one range, and a cycle is one tree over the whole key
//! space. On a ring, a cycle repairs every range at once (builds queue for the cores)
//! or node by node, each node's primary ranges one after another.

use super::{Ctx, MonolithicSchedule, RangeOrder, RepairUnit, SessionReport, SessionSpec, Strategy};
use crate::sim::SimTime;
use std::collections::VecDeque;

pub struct Monolithic {
    units: Vec<RepairUnit>,
    schedule: MonolithicSchedule,
    /// The units each node is primary for, in key order (node-by-node order).
    primary: Vec<Vec<u64>>,
    cycle_started: SimTime,
    /// Units of the cycle not yet started (node by node), in order.
    queued: VecDeque<u64>,
    /// Sessions of the cycle in flight.
    in_flight: u64,
}

impl Monolithic {
    pub fn new(units: Vec<RepairUnit>, nodes: usize, schedule: MonolithicSchedule) -> Monolithic {
        let mut primary: Vec<Vec<u64>> = vec![Vec::new(); nodes];
        for (i, unit) in units.iter().enumerate() {
            primary[unit.replicas[0]].push(i as u64);
        }
        Monolithic {
            units,
            schedule,
            primary,
            cycle_started: SimTime::ZERO,
            queued: VecDeque::new(),
            in_flight: 0,
        }
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

    fn start_cycle(&mut self, ctx: &mut Ctx) {
        ctx.revisit_gap(ctx.now().since(self.cycle_started));
        self.cycle_started = ctx.now();
        match self.schedule.order {
            RangeOrder::AllAtOnce => {
                for unit in 0..self.units.len() as u64 {
                    self.in_flight += 1;
                    ctx.start_session(self.session(unit));
                }
            }
            RangeOrder::NodeByNode => {
                self.queued = self.primary.iter().flatten().copied().collect();
                self.start_next(ctx);
            }
        }
    }

    /// Node by node: the next range in the cycle's order.
    fn start_next(&mut self, ctx: &mut Ctx) {
        if let Some(unit) = self.queued.pop_front() {
            self.in_flight += 1;
            ctx.start_session(self.session(unit));
        }
    }
}

impl Strategy for Monolithic {
    fn start(&mut self, ctx: &mut Ctx) {
        self.start_cycle(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        self.start_cycle(ctx);
    }

    fn on_session_done(&mut self, ctx: &mut Ctx, _report: &SessionReport) {
        self.in_flight -= 1;
        if !self.queued.is_empty() {
            self.start_next(ctx);
            return;
        }
        if self.in_flight > 0 {
            return;
        }
        ctx.full_pass_completed(ctx.now().since(self.cycle_started));
        let next = self.cycle_started.after(self.schedule.interval_ns);
        if next <= ctx.now() {
            self.start_cycle(ctx);
        } else {
            ctx.set_timer(next, 0);
        }
    }

    fn on_end(&mut self, ctx: &mut Ctx) {
        ctx.revisit_gap(ctx.now().since(self.cycle_started));
    }
}
