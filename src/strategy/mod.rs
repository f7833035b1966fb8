//! Repair strategies: when to compare which key ranges.
//!
//! A strategy is a scheduler. It never touches replicas, trees or the network; it asks
//! the world, through [`Ctx`], to start sessions (compare a range on all replicas) and to
//! wake it up later, and it hears back when a session finishes. The world does the
//! building, hashing, exchanging and streaming, and charges their cost in virtual time.
//!
//! To add a strategy: implement [`Strategy`] in a new file here, add a variant to
//! [`StrategyKind`], build it in [`build`], and accept it in `scenario`.

mod monolithic;

pub use monolithic::Monolithic;

use crate::model::{Key, NodeId};
use crate::sim::SimTime;
pub use crate::world::{SessionReport, SessionSpec};

/// A validated strategy entry of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyConfig {
    /// Name in outputs (unique within a scenario).
    pub name: String,
    pub kind: StrategyKind,
}

/// The strategies aesim knows, with their parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategyKind {
    /// One tree over the whole key space; a new cycle starts every `interval_ns`
    /// (or as soon as the previous one ends, if it overruns).
    Monolithic { leaves: u32, interval_ns: u64 },
}

/// What the cluster looks like, for strategies that size their work by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClusterShape {
    pub nodes: usize,
    pub key_count: u64,
    pub cores: u32,
}

/// A request a strategy makes of the world; applied in order once the callback returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    StartSession(SessionSpec),
    SetTimer { at: SimTime, token: u64 },
    FullPassCompleted { duration_ns: u64 },
}

/// The strategy's window on the world during one callback.
pub struct Ctx<'a> {
    now: SimTime,
    cluster: ClusterShape,
    commands: &'a mut Vec<Command>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(now: SimTime, cluster: ClusterShape, commands: &'a mut Vec<Command>) -> Ctx<'a> {
        Ctx { now, cluster, commands }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn cluster(&self) -> ClusterShape {
        self.cluster
    }

    /// Starts comparing a range on all replicas; [`Strategy::on_session_done`] follows.
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

    /// Reports that a full pass over the key space took `duration_ns`.
    pub fn full_pass_completed(&mut self, duration_ns: u64) {
        self.commands.push(Command::FullPassCompleted { duration_ns });
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

    /// Called when `node` applies a client or replicated write to `key`: the local
    /// knowledge (write counters) a real node has. Strategies must not use anything else
    /// about the data: the ground truth is for measuring them, not for steering them.
    fn on_local_write(&mut self, _node: NodeId, _key: Key, _now: SimTime) {}
}

/// Builds the strategy a scenario entry describes.
pub fn build(config: &StrategyConfig, cluster: ClusterShape) -> Box<dyn Strategy> {
    match config.kind {
        StrategyKind::Monolithic { leaves, interval_ns } => Box::new(Monolithic::new(cluster, leaves, interval_ns)),
    }
}
