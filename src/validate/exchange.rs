//! One real anti-entropy session per segment over a TCP connection: the initiator asks
//! for a segment, both sides build their real trees at once, the initiator walks the
//! trees level by level (one round trip per level: its frontier's hashes out, the
//! responder's back, both sides descending where they differ), and then both sides
//! stream every record of every differing leaf to each other at once (a sender thread
//! per side while the main thread applies what arrives: a record is written when its
//! version is newer than the local one).
//!
//! Both ends run in this process, so their instants share one clock: the phases are cut
//! at the same instants on both sides. The responder hands its side's figures to the
//! initiator through a channel (bookkeeping, not traffic).

use super::tree::{RealTree, descend};
use super::wire::{Counted, Kind, Receiver, Sender};
use crate::calibrate::engine::{EngineError, Store};
use crate::calibrate::records;
use crate::model::KeyRange;
use std::sync::mpsc;
use std::time::Instant;

/// An I/O or engine failure during the exchange.
#[derive(Debug)]
pub struct ExchangeError(pub String);

impl From<std::io::Error> for ExchangeError {
    fn from(e: std::io::Error) -> Self {
        ExchangeError(format!("connection: {e}"))
    }
}

impl From<EngineError> for ExchangeError {
    fn from(e: EngineError) -> Self {
        ExchangeError(e.0)
    }
}

/// What one side did in one segment's session.
#[derive(Clone, Copy, Debug)]
pub struct SideReport {
    pub build_end: Instant,
    pub stream_end: Instant,
    pub records_scanned: u64,
    /// Records this side streamed (every record of every differing leaf).
    pub records_sent: u64,
    /// Received records newer than this side's, written to its store.
    pub records_applied: u64,
    pub exchange_bytes: u64,
    pub stream_bytes: u64,
}

/// One segment's session, both sides.
#[derive(Clone, Copy, Debug, Default)]
pub struct SegmentOutcome {
    pub build_ns: u64,
    /// Core time of the two builds (each side's own).
    pub build_core_ns: u64,
    pub exchange_ns: u64,
    pub stream_ns: u64,
    pub total_ns: u64,
    pub round_trips: u64,
    /// Hashes sent, both directions.
    pub hashes: u64,
    pub leaves_streamed: u64,
    pub records_scanned: u64,
    pub records_streamed: u64,
    pub records_applied: u64,
    pub exchange_bytes: u64,
    pub stream_bytes: u64,
}

fn hashes_of(tree: &RealTree, frontier: &[usize]) -> Vec<u8> {
    frontier.iter().flat_map(|&n| tree.node(n)).collect()
}

fn as_hashes(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32 bytes"))
        .collect()
}

/// The initiator's side of the session over `range` with `leaves` leaves.
#[allow(clippy::too_many_arguments)]
pub fn initiate(
    store: &Store,
    sender: &mut Sender,
    receiver: &mut Receiver,
    sent: &Counted,
    peer: &mpsc::Receiver<SideReport>,
    range: KeyRange,
    leaves: u32,
    record_bytes: u64,
) -> Result<SegmentOutcome, ExchangeError> {
    let start = Instant::now();
    let mut request = Vec::with_capacity(20);
    request.extend_from_slice(&range.start.to_le_bytes());
    request.extend_from_slice(&range.end.to_le_bytes());
    request.extend_from_slice(&leaves.to_le_bytes());
    sender.frame(Kind::Segment, &request)?;
    sender.flush()?;
    let tree = RealTree::build(store, range, leaves)?;
    let build_end = Instant::now();
    let bytes_before = sent.bytes();
    let (mut frontier, mut differing, mut round_trips, mut hashes) = (vec![1usize], Vec::new(), 0, 0);
    let mut payload = Vec::new();
    while !frontier.is_empty() {
        let mine = hashes_of(&tree, &frontier);
        sender.frame(Kind::Hashes, &mine)?;
        sender.flush()?;
        receiver.expect(Kind::Hashes, &mut payload)?;
        let theirs = as_hashes(&payload);
        if theirs.len() != frontier.len() {
            return Err(ExchangeError(format!(
                "expected {} hashes, got {}",
                frontier.len(),
                theirs.len()
            )));
        }
        round_trips += 1;
        hashes += 2 * frontier.len() as u64;
        frontier = descend(&tree, &frontier, &as_hashes(&mine), &theirs, &mut differing);
    }
    let exchange_end = Instant::now();
    let exchange_bytes = sent.bytes() - bytes_before;
    let (records_sent, records_applied) = stream_both(store, sender, receiver, &tree, &differing, record_bytes)?;
    let mine = SideReport {
        build_end,
        stream_end: Instant::now(),
        records_scanned: tree.records_scanned,
        records_sent,
        records_applied,
        exchange_bytes,
        stream_bytes: sent.bytes() - bytes_before - exchange_bytes,
    };
    let theirs = peer.recv().map_err(|_| ExchangeError("the responder stopped".into()))?;
    let built = mine.build_end.max(theirs.build_end);
    let ended = mine.stream_end.max(theirs.stream_end);
    let ns = |a: Instant, b: Instant| b.saturating_duration_since(a).as_nanos() as u64;
    Ok(SegmentOutcome {
        build_ns: ns(start, built),
        build_core_ns: ns(start, mine.build_end) + ns(start, theirs.build_end),
        exchange_ns: ns(built, exchange_end),
        stream_ns: ns(exchange_end, ended),
        total_ns: ns(start, ended),
        round_trips,
        hashes,
        leaves_streamed: differing.len() as u64,
        records_scanned: mine.records_scanned + theirs.records_scanned,
        records_streamed: mine.records_sent + theirs.records_sent,
        records_applied: mine.records_applied + theirs.records_applied,
        exchange_bytes: mine.exchange_bytes + theirs.exchange_bytes,
        stream_bytes: mine.stream_bytes + theirs.stream_bytes,
    })
}

/// The responder: serves segment sessions until the initiator sends `Done`.
pub fn respond(
    store: &Store,
    sender: &mut Sender,
    receiver: &mut Receiver,
    sent: &Counted,
    report: &mpsc::Sender<SideReport>,
    record_bytes: u64,
) -> Result<(), ExchangeError> {
    let mut payload = Vec::new();
    loop {
        match receiver.frame(&mut payload)? {
            Kind::Done => return Ok(()),
            Kind::Segment if payload.len() == 20 => {}
            other => return Err(ExchangeError(format!("expected a Segment frame, got {other:?}"))),
        }
        let word = |at: usize| u64::from_le_bytes(payload[at..at + 8].try_into().expect("8 bytes"));
        let range = KeyRange::new(word(0), word(8));
        let leaves = u32::from_le_bytes(payload[16..20].try_into().expect("4 bytes"));
        if !leaves.is_power_of_two() || range.end < range.start {
            return Err(ExchangeError(format!(
                "bad segment request: {range:?}, {leaves} leaves"
            )));
        }
        let tree = RealTree::build(store, range, leaves)?;
        let build_end = Instant::now();
        let bytes_before = sent.bytes();
        let (mut frontier, mut differing) = (vec![1usize], Vec::new());
        while !frontier.is_empty() {
            receiver.expect(Kind::Hashes, &mut payload)?;
            let theirs = as_hashes(&payload);
            let mine = hashes_of(&tree, &frontier);
            sender.frame(Kind::Hashes, &mine)?;
            sender.flush()?;
            if theirs.len() != frontier.len() {
                return Err(ExchangeError(format!(
                    "expected {} hashes, got {}",
                    frontier.len(),
                    theirs.len()
                )));
            }
            frontier = descend(&tree, &frontier, &as_hashes(&mine), &theirs, &mut differing);
        }
        let exchange_bytes = sent.bytes() - bytes_before;
        let (records_sent, records_applied) = stream_both(store, sender, receiver, &tree, &differing, record_bytes)?;
        let side = SideReport {
            build_end,
            stream_end: Instant::now(),
            records_scanned: tree.records_scanned,
            records_sent,
            records_applied,
            exchange_bytes,
            stream_bytes: sent.bytes() - bytes_before - exchange_bytes,
        };
        report
            .send(side)
            .map_err(|_| ExchangeError("the initiator stopped".into()))?;
    }
}

/// Streams this side's records of every `differing` leaf (one `Records` frame per leaf,
/// then `Done`) while applying the peer's; returns (records sent, records applied).
fn stream_both(
    store: &Store,
    sender: &mut Sender,
    receiver: &mut Receiver,
    tree: &RealTree,
    differing: &[usize],
    record_bytes: u64,
) -> Result<(u64, u64), ExchangeError> {
    // Read before anything arrives: what this side holds when streaming starts.
    let mut frames = Vec::with_capacity(differing.len());
    let mut records_sent = 0;
    for &leaf in differing {
        let bounds = tree.leaf_range(leaf);
        let mut frame = Vec::new();
        let end = records::key_bytes(bounds.end);
        records_sent += store.scan(&records::key_bytes(bounds.start), Some(&end), |key, value| {
            frame.extend_from_slice(key);
            frame.extend_from_slice(value);
        })?;
        frames.push(frame);
    }
    std::thread::scope(|scope| {
        let sending = scope.spawn(move || -> std::io::Result<()> {
            for frame in &frames {
                sender.frame(Kind::Records, frame)?;
            }
            sender.frame(Kind::Done, &[])?;
            sender.flush()
        });
        let applied = apply_incoming(store, receiver, record_bytes);
        let sent = sending
            .join()
            .map_err(|_| ExchangeError("the sending thread panicked".into()))?;
        sent?;
        Ok((records_sent, applied?))
    })
}

/// Reads `Records` frames until `Done`, writing each record newer than the local one.
fn apply_incoming(store: &Store, receiver: &mut Receiver, record_bytes: u64) -> Result<u64, ExchangeError> {
    let mut payload = Vec::new();
    let mut applied = 0;
    loop {
        match receiver.frame(&mut payload)? {
            Kind::Done => return Ok(applied),
            Kind::Records => {}
            other => return Err(ExchangeError(format!("expected a Records frame, got {other:?}"))),
        }
        if !(payload.len() as u64).is_multiple_of(record_bytes) {
            return Err(ExchangeError(format!("a Records frame of {} bytes", payload.len())));
        }
        let mut newer = Vec::new();
        for record in payload.chunks_exact(record_bytes as usize) {
            let (key, value) = record.split_at(8);
            let local = store.get(key)?.map_or(0, |v| records::value_version(&v));
            if records::value_version(value) > local {
                newer.push((key, value));
            }
        }
        applied += newer.len() as u64;
        if !newer.is_empty() {
            store.write_batch(newer)?;
        }
    }
}
