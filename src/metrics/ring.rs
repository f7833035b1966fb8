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
    /// The instant up to which every key of the range is covered by a completed repair:
    /// the oldest of its parts' last repaired snapshots (`None`: some part never was).
    pub last_repaired: Option<SimTime>,
    /// The longest a change to the range could wait for a repair: from the snapshot of
    /// one completed repair (or the start of the run) to the completion of the next one
    /// over the same keys, or to the end of the run. A delete just after a repair's
    /// snapshot is healed only by the next repair, so this is the figure to hold against
    /// gc_grace.
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
    /// Disjoint repaired parts: start -> (end, the snapshot of its last completed repair,
    /// i.e. the instant up to which its changes are repaired).
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

    /// A session over `part` of piece `piece`, whose summaries were taken from
    /// `snapshot` on, completed at `now`: the part's changes up to `snapshot` are repaired.
    pub fn completed(&mut self, piece: usize, part: KeyRange, snapshot: SimTime, now: SimTime) {
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
        // The oldest instant up to which the part's keys were repaired before (the start
        // of the run for keys never repaired): a change just after it waited until now.
        let mut previous = SimTime::MAX;
        let mut previously_covered = 0;
        for start in overlapping {
            let (end, when) = state.parts.remove(&start).expect("listed");
            state.by_time.remove(&(when, start));
            state.covered -= end - start;
            previous = previous.min(when);
            previously_covered += end.min(part.end) - start.max(part.start);
        }
        if previously_covered < part.len() {
            previous = SimTime::ZERO;
        }
        state.max_gap_ns = state.max_gap_ns.max(now.since(previous));
        state.parts.insert(part.start, (part.end, snapshot));
        state.by_time.insert((snapshot, part.start));
        state.covered += part.len();
        if state.covered == whole.len() {
            state.complete_since = state.by_time.first().expect("covered").0;
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
                let complete = state.covered == keys.len();
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
        repairs.completed(0, KeyRange::new(0, 50), t(8), t(10));
        let rows = repairs.finish(t(20), |_| 0, |_| vec![0, 1]);
        assert_eq!(rows[0].last_repaired, None, "half the range is not a repair");
        assert_eq!(rows[0].max_unrepaired_ns, t(20).nanos());
        repairs.completed(0, KeyRange::new(50, 100), t(25), t(30));
        // Repaired up to t=8 (its oldest part's snapshot).
        repairs.completed(0, KeyRange::new(0, 50), t(35), t(40));
        repairs.completed(0, KeyRange::new(50, 100), t(90), t(100));
        let rows = repairs.finish(t(110), |_| 0, |_| vec![0, 1]);
        assert_eq!(rows[0].repairs, 4);
        assert_eq!(rows[0].last_repaired, Some(t(35)));
        // Waits: keys 50.. from the start to 30 s, then from the snapshot at 25 s to the
        // completion at 100 s (75 s); keys ..50 from 35 s to the end (75 s).
        assert_eq!(rows[0].max_unrepaired_ns, t(75).nanos());
    }

    #[test]
    fn a_change_just_after_a_snapshot_waits_for_the_next_completion() {
        // Back-to-back sessions of 6 s: snapshots at 0, 6, 12; completions at 6, 12, 18.
        // A delete at 0.1 s is healed only by the second session (at 12 s): 12 s, not
        // the 6 s between completions.
        let mut repairs = RangeRepairs::new(vec![KeyRange::new(0, 10)]);
        for i in 0..3 {
            repairs.completed(0, KeyRange::new(0, 10), t(6 * i), t(6 * i + 6));
        }
        let rows = repairs.finish(t(18), |_| 0, |_| vec![0, 1]);
        assert_eq!(rows[0].max_unrepaired_ns, t(12).nanos());
        assert_eq!(rows[0].last_repaired, Some(t(12)));
    }
}
