//! The monolithic strategy: one Merkle tree over the whole key space.
//!
//! Each cycle builds the whole tree on every replica (a full scan), compares, streams,
//! and waits for the next scheduled rebuild. Nothing is repaired until the full scan is
//! over, and writes after the snapshot wait for the next cycle: the baseline every
//! other strategy is measured against.

use super::{ClusterShape, Ctx, SessionReport, SessionSpec, Strategy, TreeMaintenance};
use crate::model::KeyRange;
use crate::sim::SimTime;

pub struct Monolithic {
    cluster: ClusterShape,
    leaves: u32,
    interval_ns: u64,
    tree: TreeMaintenance,
    cycle_started: SimTime,
}

impl Monolithic {
    pub fn new(cluster: ClusterShape, leaves: u32, interval_ns: u64, tree: TreeMaintenance) -> Monolithic {
        Monolithic {
            cluster,
            leaves,
            interval_ns,
            tree,
            cycle_started: SimTime::ZERO,
        }
    }

    fn start_cycle(&mut self, ctx: &mut Ctx) {
        ctx.revisit_gap(ctx.now().since(self.cycle_started));
        self.cycle_started = ctx.now();
        let whole = KeyRange::new(0, self.cluster.key_count);
        let mut spec = SessionSpec::aligned(0, whole, self.leaves, self.cluster.nodes);
        spec.tree = self.tree;
        ctx.start_session(spec);
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
        ctx.full_pass_completed(ctx.now().since(self.cycle_started));
        let next = self.cycle_started.after(self.interval_ns);
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
