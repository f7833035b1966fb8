//! The closed set of things that can happen in a run.

use crate::model::faults::FaultEvent;
use crate::model::workload::ClientWrite;
use crate::model::{Key, NodeId, Version};
use crate::protocol::SessionId;
use crate::sim::SimTime;

/// An event; the queue orders them by (time, insertion sequence).
#[derive(Debug)]
pub enum Event {
    /// The next client write from the workload arrives. Its key and coordinator were
    /// drawn when it was scheduled (from their own streams, with its arrival time), so
    /// the replica table can fetch the key's memory ahead of it.
    ClientWrite(ClientWrite),
    /// A write placed by a test or script: applied by `coordinator`, and its replication
    /// messages are all lost when `lose_replication` is set.
    ScriptedWrite {
        key: Key,
        coordinator: NodeId,
        lose_replication: bool,
        /// The write is a delete (a tombstone).
        delete: bool,
    },
    /// A replication message from `from` reaches `to`.
    ReplicationArrives {
        from: NodeId,
        to: NodeId,
        key: Key,
        version: Version,
        /// When the client write was made (to tell a write's own replication from a
        /// later write covering an earlier lost one).
        written: SimTime,
    },
    /// A session's setup overhead has passed: its participants start their builds.
    SessionReady { session: SessionId },
    /// A participant's tree for `session` is ready (a scheduled build's scan on `node`
    /// ended, releasing the core it `held_core`; or a live tree was snapshotted).
    BuildDone {
        session: SessionId,
        node: NodeId,
        held_core: bool,
    },
    /// The pause of a double compare is over: every participant looks again.
    SecondLook { session: SessionId },
    /// A pair's hash request for the current level reaches the responder.
    HashRequestArrives { session: SessionId, pair: usize },
    /// The responder has computed its reply to the current round (sketch decoding).
    ReplyReady { session: SessionId, pair: usize },
    /// The responder's hashes for the current level reach the initiator.
    HashReplyArrives { session: SessionId, pair: usize },
    /// Streamed records of one divergent leaf reach `to`. Only the records that were
    /// newer than `to`'s when sent are carried; the others could not change anything
    /// (versions only grow), but are still charged as streamed bytes and time.
    StreamArrives {
        session: SessionId,
        pair: usize,
        to: NodeId,
        records: Box<[(Key, Version)]>,
    },
    /// The hint queue from `coordinator` to `target` may replay its next hint.
    HintReplay { coordinator: NodeId, target: NodeId },
    /// A client read (its key and chosen coordinator drawn from the read streams, or
    /// placed by a test).
    ClientRead(super::paths::ClientRead),
    /// Every replica compacts, purging tombstones older than gc_grace.
    Compaction,
    /// A timer a strategy set.
    StrategyTimer { token: u64 },
    /// Record a time-series row.
    Sample,
    /// A scheduled fault begins or ends (crash, restart, partition start or end).
    Fault(FaultEvent),
    /// Bitrot corrupts a stored record.
    Bitrot,
}
