//! What a run measures per node and per token range of the ring: each node's repair
//! load and staleness, and how long each range went without a completed repair (the
//! figure operators hold against gc_grace). Plain data, no I/O.

use crate::model::{Key, KeyRange, NodeId};
use crate::sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// One node's share of the repair work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeLoad {
    /// Core time spent scanning for tree builds, in nanoseconds.
    pub build_core_ns: u64,
    /// Anti-entropy bytes (hashes and streamed records, with headers) sent and received.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Sessions the node took part in that completed.
    pub sessions: u64,
}

/// One node, as the run summary reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRow {
    pub node: NodeId,
    pub rack: u32,
    /// Tokens the node owns (primary token ranges).
    pub tokens: u64,
    /// Share of the key space the node stores.
    pub ownership: f64,
    pub load: NodeLoad,
    /// Keys on which the node holds an older version than another replica, at the end.
    pub stale_keys: u64,
}

/// One piece of the ring (a token range, or half of the wrapping one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRow {
    pub token_range: usize,
    pub keys: KeyRange,
    /// Replicas in preference order.
    pub replicas: Vec<NodeId>,
    /// Sessions completed over (part of) the range.
    pub repairs: u64,
    /// When every key of the range had last been covered by a completed repair: the
    /// oldest of its parts' last repairs (`None`: some part never was).
    pub last_repaired: Option<SimTime>,
    /// The longest the range went without a complete repair, from the start of the run
    /// (or its previous complete repair) to the next one, or to the end of the run.
    pub max_unrepaired_ns: u64,
}

/// Per node and per range results of a run on a ring.
#[derive(Clone, Debug, PartialEq)]
pub struct RingResult {
    pub nodes: Vec<NodeRow>,
    pub ranges: Vec<RangeRow>,
}

impl RingResult {
    /// The largest time any range went without a complete repair.
    pub fn max_unrepaired_ns(&self) -> u64 {
        self.ranges.iter().map(|r| r.max_unrepaired_ns).max().unwrap_or(0)
    }
}

/// Completed repairs of one piece: which parts were repaired when.
#[derive(Default)]
struct PieceRepairs {
    /// Disjoint repaired parts: start -> (end, when last repaired).
    parts: BTreeMap<Key, (Key, SimTime)>,
    /// The same parts by (when, start): the oldest first.
    by_time: BTreeSet<(SimTime, Key)>,
    /// Keys covered by `parts`.
    covered: u64,
    /// When the whole piece was last covered (zero: the start of the run).
    complete_since: SimTime,
    max_gap_ns: u64,
    repairs: u64,
}

/// Tracks, for every piece of the ring, when it was last completely repaired.
pub struct RangeRepairs {
    pieces: Vec<KeyRange>,
    repairs: Vec<PieceRepairs>,
}

impl RangeRepairs {
    pub fn new(pieces: Vec<KeyRange>) -> RangeRepairs {
        let repairs = pieces.iter().map(|_| PieceRepairs::default()).collect();
        RangeRepairs { pieces, repairs }
    }

    /// A session over `part` of piece `piece` completed at `now`.
    pub fn completed(&mut self, piece: usize, part: KeyRange, now: SimTime) {
        let whole = self.pieces[piece];
        let part = KeyRange::new(part.start.max(whole.start), part.end.min(whole.end));
        if part.is_empty() {
            return;
        }
        let state = &mut self.repairs[piece];
        state.repairs += 1;
        // Drop the parts this one overlaps (a strategy repeats its own parts, so this is
        // normally just the same part's previous repair).
        let overlapping: Vec<Key> = state
            .parts
            .range(..part.end)
            .rev()
            .take_while(|(_, (end, _))| *end > part.start)
            .map(|(&start, _)| start)
            .collect();
        for start in overlapping {
            let (end, when) = state.parts.remove(&start).expect("listed");
            state.by_time.remove(&(when, start));
            state.covered -= end - start;
        }
        state.parts.insert(part.start, (part.end, now));
        state.by_time.insert((now, part.start));
        state.covered += part.len();
        if state.covered == whole.len() {
            let oldest = state.by_time.first().expect("covered").0;
            if oldest > state.complete_since {
                state.max_gap_ns = state.max_gap_ns.max(oldest.since(state.complete_since));
                state.complete_since = oldest;
            }
        }
    }

    /// The rows at `end`, with each piece's token range and replicas.
    pub fn finish(
        &self,
        end: SimTime,
        token_range: impl Fn(usize) -> usize,
        replicas: impl Fn(usize) -> Vec<NodeId>,
    ) -> Vec<RangeRow> {
        self.pieces
            .iter()
            .zip(&self.repairs)
            .enumerate()
            .map(|(i, (&keys, state))| {
                let complete = state.covered == keys.len() && state.complete_since > SimTime::ZERO;
                RangeRow {
                    token_range: token_range(i),
                    keys,
                    replicas: replicas(i),
                    repairs: state.repairs,
                    last_repaired: complete.then_some(state.complete_since),
                    max_unrepaired_ns: state.max_gap_ns.max(end.since(state.complete_since)),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    #[test]
    fn a_range_is_repaired_when_all_its_parts_are() {
        let mut repairs = RangeRepairs::new(vec![KeyRange::new(0, 100)]);
        repairs.completed(0, KeyRange::new(0, 50), t(10));
        let rows = repairs.finish(t(20), |_| 0, |_| vec![0, 1]);
        assert_eq!(rows[0].last_repaired, None, "half the range is not a repair");
        assert_eq!(rows[0].max_unrepaired_ns, t(20).nanos());
        repairs.completed(0, KeyRange::new(50, 100), t(30));
        // Complete since t=10 (its oldest part); the gap from the start is 10 s.
        repairs.completed(0, KeyRange::new(0, 50), t(40));
        repairs.completed(0, KeyRange::new(50, 100), t(100));
        let rows = repairs.finish(t(110), |_| 0, |_| vec![0, 1]);
        assert_eq!(rows[0].repairs, 4);
        assert_eq!(rows[0].last_repaired, Some(t(40)));
        // Gaps: 0 -> 10 (10 s), 10 -> 40 (30 s), then 40 -> end (70 s).
        assert_eq!(rows[0].max_unrepaired_ns, t(70).nanos());
    }
}
