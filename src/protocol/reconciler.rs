//! What two replicas exchange to find where their data differ.
//!
//! A [`Reconciler`] turns a replica's records of a range into a summary (for the Merkle
//! walk: a tree), and two summaries into a [`Reconciliation`]: the round trips the
//! exchange takes (message sizes each way) and the parts of the range to stream. The
//! world replays the round trips on the network, then streams the parts; it charges
//! the summary's build (a scan) on the node's cores. A new way of finding differences
//! (a depth-capped tree, a Tictac XOR tree, row hashes, a set-reconciliation sketch) is
//! a new implementation of this trait, not a branch in the world.

use crate::model::replicas::ReplicaTable;
use crate::model::{Column, KeyRange, NodeId};
use std::any::Any;
use std::sync::Arc;

/// A replica's summary of its range: what the reconciler built, opaque to the world.
pub type Summary = Arc<dyn Any + Send + Sync>;

/// One message of an exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Hashes (or summary cells) the message carries.
    pub hashes: u64,
    /// Its payload, without the per-message header the world adds.
    pub bytes: u64,
}

/// One round trip: the initiator's request and the responder's reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub request: Message,
    pub reply: Message,
    /// Virtual time the endpoints compute between the request's arrival and the reply
    /// (decoding a sketch, encoding a larger one for a retry); 0 for the Merkle walk.
    pub compute_ns: u64,
}

/// What reconciling two summaries found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// The exchange's round trips, in order.
    pub rounds: Vec<Round>,
    /// Summary entries compared (for the Merkle walk: hashes).
    pub hashes_compared: u64,
    /// The parts to stream both ways, as (the initiator's keys, the responder's keys):
    /// equal when both sides agree on boundaries.
    pub divergent: Vec<(KeyRange, KeyRange)>,
}

/// A way for two replicas to find their differences.
pub trait Reconciler {
    /// `node`'s summary of `range`, from its records in column `replica` of the table,
    /// as they stand now (a snapshot); `leaves` is the summary's resolution.
    fn summarize(
        &mut self,
        node: NodeId,
        replica: Column,
        range: KeyRange,
        leaves: u32,
        replicas: &ReplicaTable,
    ) -> Summary;

    /// The exchange between an initiator holding `a` and a responder holding `b`.
    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation;

    /// Every chosen pair's exchange in one session, `pairs` as (initiator, responder)
    /// indices into `summaries`: by default each pair on its own. A reconciler whose
    /// real protocol is run by one coordinator for all replicas (ScyllaDB's repair
    /// master) overrides it so that a row is not sent twice to the same replica.
    fn reconcile_session(&self, summaries: &[Summary], pairs: &[(usize, usize)]) -> Vec<Reconciliation> {
        pairs
            .iter()
            .map(|&(a, b)| self.reconcile(&summaries[a], &summaries[b]))
            .collect()
    }

    /// Hash operations one changed record costs on the write path while a replica keeps
    /// its summary live (trees of `leaves` leaves), rather than rebuilding it on a
    /// schedule. Default, a Merkle tree: the record's leaf and every ancestor up to the
    /// root. This assumes a leaf digest that can be updated in one hash (e.g. a sum of
    /// per-record hashes) rather than re-reading the leaf; the simulator's own leaf hash
    /// is only its equality check and is not what is charged.
    fn live_write_path_hashes(&self, leaves: u32) -> u64 {
        u64::from(leaves.trailing_zeros()) + 1
    }

    /// The session whose participants are summarised next validates `ranges` ranges
    /// (more than 1 for a session over common ranges): Cassandra sizes each range's tree
    /// by its share of the session. Called before every summary. Default: ignored.
    fn session_ranges(&mut self, ranges: u64) {
        let _ = ranges;
    }

    /// Whether, in a session of `participants` whose chosen pairs are `pairs`, once every
    /// pair's round trips are over each pair's initiator first pulls (the responders'
    /// parts stream to the initiators) and pushes only when every pull of the session is
    /// applied, reading its data as it then is (ScyllaDB's repair master: rows one
    /// follower alone held reach the others through it). Default: both ways at once,
    /// each pair as soon as its rounds are over.
    fn pushes_after_pulls(&self, pairs: &[(usize, usize)], participants: usize) -> bool {
        let _ = (pairs, participants);
        false
    }

    /// Whether a session's pairs start streaming only once every pair's round trips are
    /// over (Cassandra: the coordinator creates the sync tasks when it holds every
    /// replica's tree, `RepairJob`), rather than each pair as soon as its own are.
    fn syncs_after_every_exchange(&self) -> bool {
        false
    }

    /// Virtual time a scheduled build of `summary` over `range` holds a core: by default
    /// a scan of the range's keys (the Merkle walk); sketches add their encoding.
    fn build_cost_ns(&self, summary: &Summary, range: KeyRange, scan_cost_ns_per_key: u64) -> u64 {
        let _ = summary;
        range.len().saturating_mul(scan_cost_ns_per_key)
    }

    /// Virtual time a scheduled build of `summary` over `range` sleeps on top of its
    /// [cost](Self::build_cost_ns): the build keeps its core meanwhile, but the sleep
    /// is not counted as core time (Riak's build throttle). Default: none.
    fn build_pause_ns(&self, summary: &Summary, range: KeyRange) -> u64 {
        let _ = (summary, range);
        0
    }

    /// Keys a scheduled build of `summary` read (`keys_scanned`): by default the whole
    /// range; incremental repair reads only its unrepaired data.
    fn keys_validated(&self, summary: &Summary, range: KeyRange) -> u64 {
        let _ = summary;
        range.len()
    }

    /// Whether [`session_succeeded`](Self::session_succeeded) wants the summaries of
    /// each finished session (the world then keeps them until the session ends).
    fn remembers_sessions(&self) -> bool {
        false
    }

    /// A session whose participants built `summaries` (in participant order) finished:
    /// every pair compared and streamed. Incremental repair marks the data it validated
    /// as repaired here; aborted sessions never get here.
    fn session_succeeded(&mut self, summaries: &[Summary]) {
        let _ = summaries;
    }

    /// Whether the exchange looks twice, and how long after the first look: the world
    /// then snapshots every participant again and calls [`Reconciler::reconcile_twice`]
    /// (Tictac's filter of writes in flight). Default: one look.
    fn second_look_after_ns(&self) -> Option<u64> {
        None
    }

    /// The exchange given a first look at both sides and a second one: by default the
    /// second alone.
    fn reconcile_twice(&self, first: (&Summary, &Summary), second: (&Summary, &Summary)) -> Reconciliation {
        let _ = first;
        self.reconcile(second.0, second.1)
    }
}
