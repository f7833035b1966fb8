//! Book-keeping of one anti-entropy session in flight: one range, the replicas taking
//! part (each with the summary it built), and the exchange of each chosen pair.

use crate::model::{Column, Key, NodeId};
use crate::protocol::reconciler::{Reconciliation, Summary};
use crate::protocol::{SessionId, SessionReport, SessionSpec};
use crate::sim::SimTime;
use std::collections::BTreeSet;

/// The exchange and streaming of one pair of participants.
pub(in crate::world) struct PairExchange {
    /// The initiator, as an index into the session's participants.
    pub a: usize,
    /// The responder.
    pub b: usize,
    pub reconciliation: Reconciliation,
    /// Index into `reconciliation.rounds` of the round trip in flight.
    pub round: usize,
    pub streams_pending: usize,
    /// The parts whose pull found nothing newer on the responder, when the initiator
    /// pulls before it pushes (for the clean-leaf count once it has pushed).
    pub pulled_nothing: Vec<bool>,
}

/// Which way a session's streams go now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::world) enum StreamPhase {
    /// Each pair streams both ways at once (the usual case).
    BothWays,
    /// The initiators pull: responders' parts stream to them.
    Pulls,
    /// Every pull is applied: the initiators push what their responders lack.
    Pushes,
}

/// A session in flight.
pub(in crate::world) struct Session {
    pub spec: SessionSpec,
    /// Each participant's table column (its position in the range's replica set).
    pub columns: Vec<Column>,
    /// Each participant's summary, kept until all are built and reconciled.
    pub summaries: Vec<Option<Summary>>,
    /// The summaries once reconciled, kept to the session's end only for a reconciler
    /// that [remembers sessions](crate::protocol::reconciler::Reconciler::remembers_sessions).
    pub reconciled: Vec<Summary>,
    /// The first look of a double compare, kept during its pause.
    pub first_looks: Option<Vec<Summary>>,
    /// When the first participant took its summary: the session repairs the changes up
    /// to this instant (the gc_grace figure counts from it).
    pub snapshot_at: Option<SimTime>,
    /// Set when the session's setup overhead has passed and its builds were asked for.
    pub builds_pending: usize,
    /// Which participants' builds were asked for (a session over common ranges asks for
    /// one node's next range when its previous one is built).
    pub builds_requested: Vec<bool>,
    pub pairs: Vec<PairExchange>,
    pub pairs_pending: usize,
    /// Pairs still exchanging: a reconciler that [syncs after every
    /// exchange](crate::protocol::reconciler::Reconciler::syncs_after_every_exchange)
    /// starts the session's streams when this reaches 0.
    pub exchanges_pending: usize,
    /// (receiver, key) records already counted as needed: with three or more replicas
    /// two pairs may stream the same record to the same receiver, and only the first
    /// is needed.
    pub needed: BTreeSet<(NodeId, Key)>,
    pub report: SessionReport,
    pub phase: StreamPhase,
    /// Pull streams not yet applied (pushes start at 0).
    pub pulls_pending: usize,
}

impl Session {
    pub fn new(id: SessionId, spec: SessionSpec, columns: Vec<Column>, now: SimTime) -> Session {
        let participants = spec.participants.len();
        let report = SessionReport {
            id,
            tag: spec.tag,
            started: now,
            trees_ready: now,
            finished: now,
            hashes_compared: 0,
            divergent_leaves: 0,
            records_streamed: 0,
            records_needed: 0,
        };
        Session {
            spec,
            columns,
            summaries: (0..participants).map(|_| None).collect(),
            reconciled: Vec::new(),
            first_looks: None,
            snapshot_at: None,
            builds_pending: participants,
            builds_requested: vec![false; participants],
            pairs: Vec::new(),
            pairs_pending: 0,
            exchanges_pending: 0,
            needed: BTreeSet::new(),
            report,
            phase: StreamPhase::BothWays,
            pulls_pending: 0,
        }
    }
}
