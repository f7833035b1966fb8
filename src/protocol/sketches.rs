//! Set-reconciliation reconcilers: each replica's summary is its records of the range,
//! (key, version) pairs, encoded into a sketch; the exchange decodes the exact symmetric
//! difference (`model::sketch`), and only the differing keys are streamed, each by the
//! side holding the newer version.
//!
//! The sketches run for real on the simulated sets; what they cost comes from what they
//! did: cells or symbols sent ([`CELL_BYTES`] each), the operations counted while
//! encoding and peeling ([`SKETCH_OP_NS`] each) and one round trip per attempt. The
//! exchange of one attempt is one round trip: the initiator sends its sketch, the
//! responder subtracts its own and peels; its reply is a retry request, or the keys it
//! needs from the initiator (8 bytes each), after which both stream.

use super::reconciler::{Message, Reconciler, Reconciliation, Round, Summary};
use crate::model::replicas::ReplicaTable;
use crate::model::sketch::iblt::{self, Iblt};
use crate::model::sketch::pinsketch::{Sketch, Work};
use crate::model::sketch::{CELL_BYTES, Difference, Element, SKETCH_OP_NS, checksum, riblt};
use crate::model::{Column, Key, KeyRange, NodeId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Bytes naming one key in the responder's reply (the keys it needs sent).
pub const KEY_BYTES: u64 = 8;

/// A replica's records of a range, sorted by key, and the sketch built from them.
pub struct SetSummary {
    pub range: KeyRange,
    pub elements: Vec<Element>,
    /// The fixed-size IBLT built with the summary (none for the rateless code, whose
    /// symbols are produced during the exchange).
    iblt: Option<Iblt>,
    /// The PinSketch of the whole range built with the summary.
    pin: Option<Sketch>,
}

fn set(summary: &Summary) -> &SetSummary {
    summary
        .downcast_ref::<SetSummary>()
        .expect("a sketch reconciler compares only its own summaries")
}

fn records(replica: Column, range: KeyRange, replicas: &ReplicaTable) -> Vec<Element> {
    replicas.records(replica, range).collect()
}

/// The parts to stream for a decoded difference: one single-key range per differing
/// key, on the side whose version is newer (the other side's range is empty).
pub fn parts(difference: &Difference) -> Vec<(KeyRange, KeyRange)> {
    let (mut first, mut second) = (
        difference.only_first.iter().peekable(),
        difference.only_second.iter().peekable(),
    );
    let mut parts = Vec::with_capacity(difference.len());
    loop {
        let key = match (first.peek(), second.peek()) {
            (Some(a), Some(b)) => a.0.min(b.0),
            (Some(a), None) => a.0,
            (None, Some(b)) => b.0,
            (None, None) => break,
        };
        let take = |side: &mut std::iter::Peekable<std::slice::Iter<'_, Element>>| {
            let mut version = 0;
            while let Some(&&(k, v)) = side.peek() {
                if k != key {
                    break;
                }
                version = version.max(v);
                side.next();
            }
            version
        };
        let (va, vb) = (take(&mut first), take(&mut second));
        let one = KeyRange::new(key, key + 1);
        let none = KeyRange::new(key, key);
        parts.push((if va > vb { one } else { none }, if vb > va { one } else { none }));
    }
    parts
}

/// The reply that ends a successful attempt: the keys the responder needs.
fn keys_reply(parts: &[(KeyRange, KeyRange)]) -> Message {
    let keys = parts.iter().filter(|(a, _)| !a.is_empty()).count() as u64;
    Message {
        hashes: 0,
        bytes: keys * KEY_BYTES,
    }
}

/// Both ranges streamed whole: what a sketch falls back to if it never decodes.
fn whole(a: &SetSummary, b: &SetSummary) -> Vec<(KeyRange, KeyRange)> {
    vec![(a.range, b.range)]
}

/// An IBLT of a fixed cell count per range; a failed decode doubles the cells and tries
/// again, each attempt a round trip with its bytes.
pub struct FixedIblt {
    cells: u32,
}

impl FixedIblt {
    /// Attempts after which a sketch that still fails gives up and streams the range.
    pub const MAX_ATTEMPTS: u32 = 40;

    pub fn new(cells: u32) -> FixedIblt {
        FixedIblt {
            cells: cells.max(iblt::MIN_CELLS as u32),
        }
    }
}

impl Reconciler for FixedIblt {
    fn summarize(&mut self, _: NodeId, replica: Column, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        let elements = records(replica, range, replicas);
        let iblt = Iblt::encode(self.cells as usize, &elements);
        Arc::new(SetSummary {
            range,
            elements,
            iblt: Some(iblt),
            pin: None,
        })
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (set(a), set(b));
        let mut rounds = Vec::new();
        let mut hashes_compared = 0;
        let mut cells = self.cells as usize;
        for attempt in 0..Self::MAX_ATTEMPTS {
            // The first attempt uses the tables built with the summaries; a retry encodes
            // both sets again at twice the size (the responder's work counted here).
            let (mut encode_ops, table_a, table_b) = match (attempt, &a.iblt, &b.iblt) {
                (0, Some(ta), Some(tb)) => (0, ta.clone(), tb.clone()),
                _ => (
                    ((a.elements.len() + b.elements.len()) * iblt::HASHES) as u64,
                    Iblt::encode(cells, &a.elements),
                    Iblt::encode(cells, &b.elements),
                ),
            };
            let decoded = table_a.subtract(&table_b).decode();
            encode_ops += cells as u64 + decoded.operations;
            hashes_compared += cells as u64;
            let request = Message {
                hashes: cells as u64,
                bytes: cells as u64 * CELL_BYTES,
            };
            let compute_ns = encode_ops.saturating_mul(SKETCH_OP_NS);
            if let Some(difference) = decoded.difference {
                let divergent = parts(&difference);
                rounds.push(Round {
                    request,
                    reply: keys_reply(&divergent),
                    compute_ns,
                });
                return Reconciliation {
                    rounds,
                    hashes_compared,
                    divergent,
                };
            }
            rounds.push(Round {
                request,
                reply: Message::default(),
                compute_ns,
            });
            cells = cells.saturating_mul(2);
        }
        Reconciliation {
            rounds,
            hashes_compared,
            divergent: whole(a, b),
        }
    }

    fn build_cost_ns(&self, summary: &Summary, range: KeyRange, scan_cost_ns_per_key: u64) -> u64 {
        let encode = (set(summary).elements.len() * iblt::HASHES) as u64 * SKETCH_OP_NS;
        range.len().saturating_mul(scan_cost_ns_per_key).saturating_add(encode)
    }
}

/// The rateless IBLT: the initiator streams coded symbols until the responder has
/// peeled the whole difference (its reply stops the stream).
pub struct RatelessIblt;

impl Reconciler for RatelessIblt {
    fn summarize(&mut self, _: NodeId, replica: Column, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        Arc::new(SetSummary {
            range,
            elements: records(replica, range, replicas),
            iblt: None,
            pin: None,
        })
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (set(a), set(b));
        // Far more symbols than any difference of these sets needs (about 1.35 per
        // element): reaching it means something is wrong, and the range is streamed.
        let limit = 4 * (a.elements.len() + b.elements.len()) as u64 + 64;
        let exchange = riblt::reconcile(&a.elements, &b.elements, limit);
        let request = Message {
            hashes: exchange.symbols,
            bytes: exchange.symbols * CELL_BYTES,
        };
        let compute_ns = (exchange.sender_operations + exchange.receiver_operations).saturating_mul(SKETCH_OP_NS);
        let divergent = match &exchange.difference {
            Some(difference) => parts(difference),
            None => whole(a, b),
        };
        Reconciliation {
            rounds: vec![Round {
                request,
                reply: keys_reply(&divergent),
                compute_ns,
            }],
            hashes_compared: exchange.symbols,
            divergent,
        }
    }

    fn build_cost_ns(&self, summary: &Summary, range: KeyRange, scan_cost_ns_per_key: u64) -> u64 {
        // Reading the records and hashing each once; symbols are coded while streaming.
        let hash = set(summary).elements.len() as u64 * SKETCH_OP_NS;
        range.len().saturating_mul(scan_cost_ns_per_key).saturating_add(hash)
    }
}

/// PinSketch (BCH syndromes, as in Minisketch) of a fixed capacity per sketch over
/// 64-bit element ids (a hash of key and version, as Erlay's short ids). The estimate
/// of d is the previous round's: the difference last decoded on the same range (none
/// before its first session), which splits the range's first round into enough parts
/// to hold about half a capacity each. The fallback when d exceeds the capacity is
/// bisection: a part that fails to decode is halved, and the next round trip carries
/// one sketch per half, until every part decodes (about log2(d / c) extra rounds).
pub struct PinSketchBisect {
    capacity: usize,
    /// Elements of the difference last decoded per range (start, end): the estimate
    /// of the next session's d. Sessions run in event order, so it is deterministic.
    estimates: Mutex<BTreeMap<(Key, Key), u64>>,
}

impl PinSketchBisect {
    /// Bisection depth after which a part that still fails is streamed whole (a key
    /// range of 10^10 keys is down to single keys after 34 halvings).
    pub const MAX_ROUNDS: usize = 64;

    pub fn new(capacity: u32) -> PinSketchBisect {
        PinSketchBisect {
            capacity: capacity.max(2) as usize,
            estimates: Mutex::new(BTreeMap::new()),
        }
    }

    /// Parts the first round cuts `span` into for an estimated difference of `estimate`
    /// elements: the smallest power of two giving at most half a capacity per part.
    fn first_parts(&self, span: KeyRange, estimate: u64) -> Vec<KeyRange> {
        let half = (self.capacity as u64 / 2).max(1);
        let mut parts = 1u64;
        while estimate.div_ceil(parts) > half && parts < span.len() && parts < 1 << 20 {
            parts *= 2;
        }
        (0..parts).map(|i| span.part(i, parts)).collect()
    }

    /// A side's records in `part` (its elements are sorted by key).
    fn within(elements: &[Element], part: KeyRange) -> &[Element] {
        let start = elements.partition_point(|e| e.0 < part.start);
        let end = elements.partition_point(|e| e.0 < part.end);
        &elements[start..end]
    }

    /// The non-zero id of a record.
    fn id(element: Element) -> u64 {
        checksum(element).max(1)
    }

    /// One part's exchange: its difference, or `None` beyond the capacity.
    fn part(
        &self,
        a: &[Element],
        b: &[Element],
        prebuilt: Option<(&Sketch, &Sketch)>,
        work: &mut Work,
    ) -> Option<Difference> {
        let index = |side: &[Element]| {
            let mut ids: Vec<(u64, Element)> = side.iter().map(|&e| (Self::id(e), e)).collect();
            ids.sort_unstable();
            ids
        };
        let (ia, ib) = (index(a), index(b));
        let ids = |v: &[(u64, Element)]| v.iter().map(|p| p.0).collect::<Vec<u64>>();
        let (ids_a, ids_b) = (ids(&ia), ids(&ib));
        let combined = match prebuilt {
            Some((sa, sb)) => sa.combine(sb),
            None => Sketch::of(self.capacity, ids_a.iter().copied(), work).combine(&Sketch::of(
                self.capacity,
                ids_b.iter().copied(),
                work,
            )),
        };
        let (found_a, found_b) = combined.decode(&ids_a, &ids_b, work)?;
        let lookup = |index: &[(u64, Element)], found: &[u64]| -> Vec<Element> {
            let mut out: Vec<Element> = found
                .iter()
                .filter_map(|id| index.binary_search_by_key(id, |p| p.0).ok().map(|at| index[at].1))
                .collect();
            out.sort_unstable();
            out
        };
        Some(Difference {
            only_first: lookup(&ia, &found_a),
            only_second: lookup(&ib, &found_b),
        })
    }
}

impl Reconciler for PinSketchBisect {
    fn summarize(&mut self, _: NodeId, replica: Column, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        let mut elements = records(replica, range, replicas);
        elements.sort_unstable();
        let pin = Sketch::of(
            self.capacity,
            elements.iter().map(|&e| Self::id(e)),
            &mut Work::default(),
        );
        Arc::new(SetSummary {
            range,
            elements,
            iblt: None,
            pin: Some(pin),
        })
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (set(a), set(b));
        let span = KeyRange::new(a.range.start.min(b.range.start), a.range.end.max(b.range.end));
        let estimate = self
            .estimates
            .lock()
            .map(|e| e.get(&(span.start, span.end)).copied().unwrap_or(0))
            .unwrap_or(0);
        let mut pending = self.first_parts(span, estimate);
        // The sketches built with the summaries cover the whole range: usable only when
        // the first round does not split it.
        let whole_first = pending.len() == 1;
        let mut difference = Difference::default();
        let mut streamed_whole = Vec::new();
        let mut rounds = Vec::new();
        let mut hashes_compared = 0;
        for level in 0..Self::MAX_ROUNDS {
            if pending.is_empty() {
                break;
            }
            let mut work = Work::default();
            let mut failed = Vec::new();
            for &part in &pending {
                let prebuilt = match (level, &a.pin, &b.pin) {
                    (0, Some(sa), Some(sb)) if whole_first => Some((sa, sb)),
                    _ => None,
                };
                let (ea, eb) = (Self::within(&a.elements, part), Self::within(&b.elements, part));
                match self.part(ea, eb, prebuilt, &mut work) {
                    Some(found) => {
                        difference.only_first.extend(found.only_first);
                        difference.only_second.extend(found.only_second);
                    }
                    None if part.len() >= 2 && level + 1 < Self::MAX_ROUNDS => {
                        let middle = part.start + part.len() / 2;
                        failed.push(KeyRange::new(part.start, middle));
                        failed.push(KeyRange::new(middle, part.end));
                    }
                    None => streamed_whole.push((part, part)),
                }
            }
            let sketches = pending.len() as u64;
            hashes_compared += sketches * self.capacity as u64;
            rounds.push(Round {
                request: Message {
                    hashes: sketches * self.capacity as u64,
                    bytes: sketches * self.capacity as u64 * 8,
                },
                // One bit per part: decoded, or split.
                reply: Message {
                    hashes: 0,
                    bytes: sketches.div_ceil(8),
                },
                compute_ns: work.multiplications.saturating_mul(SKETCH_OP_NS),
            });
            pending = failed;
        }
        difference.only_first.sort_unstable();
        difference.only_second.sort_unstable();
        if let Ok(mut estimates) = self.estimates.lock() {
            estimates.insert((span.start, span.end), difference.len() as u64);
        }
        let mut divergent = parts(&difference);
        divergent.extend(streamed_whole);
        divergent.sort_unstable_by_key(|(p, q)| (p.start.min(q.start), p.end.max(q.end)));
        if let Some(last) = rounds.last_mut() {
            last.reply.bytes += keys_reply(&divergent).bytes;
        }
        Reconciliation {
            rounds,
            hashes_compared,
            divergent,
        }
    }

    fn build_cost_ns(&self, summary: &Summary, range: KeyRange, scan_cost_ns_per_key: u64) -> u64 {
        // c multiplications per record for the whole range's sketch.
        let encode = (set(summary).elements.len() * self.capacity) as u64 * SKETCH_OP_NS;
        range.len().saturating_mul(scan_cost_ns_per_key).saturating_add(encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(range: KeyRange, elements: Vec<Element>, cells: Option<usize>) -> Summary {
        let iblt = cells.map(|c| Iblt::encode(c, &elements));
        Arc::new(SetSummary {
            range,
            elements,
            iblt,
            pin: None,
        })
    }

    #[test]
    fn parts_stream_only_the_newer_side() {
        let difference = Difference {
            only_first: vec![(3, 9), (5, 2)],
            only_second: vec![(5, 7), (8, 1)],
        };
        let one = |k| KeyRange::new(k, k + 1);
        let none = |k| KeyRange::new(k, k);
        assert_eq!(
            parts(&difference),
            vec![(one(3), none(3)), (none(5), one(5)), (none(8), one(8))]
        );
    }

    #[test]
    fn a_fixed_iblt_too_small_retries_and_every_round_counts() {
        let range = KeyRange::new(0, 1_000_000);
        let a: Vec<Element> = (0..2_000).map(|k| (k * 7, 1)).collect();
        // 100 keys newer on b: 200 elements of difference against 12 cells.
        let b: Vec<Element> = a.iter().map(|&(k, v)| (k, if k % 140 == 0 { 2 } else { v })).collect();
        let r = FixedIblt::new(12).reconcile(&summary(range, a.clone(), Some(12)), &summary(range, b, Some(12)));
        // 12, 24, ..., 384 cells fail; 12 x 2^n >= ~1.3 x 200 elements decodes.
        let cells: Vec<u64> = r.rounds.iter().map(|round| round.request.hashes).collect();
        assert!(cells.len() >= 5, "{cells:?}");
        for (n, &c) in cells.iter().enumerate() {
            assert_eq!(c, 12 << n);
        }
        assert_eq!(
            r.rounds.iter().map(|round| round.request.bytes).sum::<u64>(),
            cells.iter().sum::<u64>() * 28
        );
        assert!(r.rounds[..cells.len() - 1].iter().all(|round| round.reply.bytes == 0));
        assert_eq!(
            r.rounds.last().unwrap().reply.bytes,
            0,
            "b is newer: a needs nothing sent"
        );
        assert_eq!(r.divergent.len(), 100);
        assert!(
            r.divergent
                .iter()
                .all(|(pa, pb)| pa.is_empty() && pb.len() == 1 && pb.start % 140 == 0)
        );
        assert!(r.rounds[1..].iter().all(|round| round.compute_ns > 0));
    }

    #[test]
    fn the_rateless_code_finds_every_differing_key_in_one_round_trip() {
        let range = KeyRange::new(0, 10_000_000);
        let a: Vec<Element> = (0..5_000).map(|k| (k * 1_999, 5)).collect();
        let mut b = a.clone();
        b.retain(|&(k, _)| k % 3 != 0 || k > 1_999 * 300);
        let missing = a.len() - b.len();
        let r = RatelessIblt.reconcile(&summary(range, a, None), &summary(range, b, None));
        assert_eq!(r.rounds.len(), 1);
        assert_eq!(r.divergent.len(), missing);
        let symbols = r.rounds[0].request.hashes as f64;
        assert!(
            symbols > missing as f64 && symbols < 2.5 * missing as f64,
            "{symbols} for {missing}"
        );
        assert_eq!(r.rounds[0].reply.bytes, missing as u64 * KEY_BYTES);
    }
}

#[cfg(test)]
mod pinsketch_tests {
    use super::*;

    fn summary(capacity: u32, range: KeyRange, mut elements: Vec<Element>) -> Summary {
        elements.sort_unstable();
        let pin = Sketch::of(
            capacity as usize,
            elements.iter().map(|&e| PinSketchBisect::id(e)),
            &mut Work::default(),
        );
        Arc::new(SetSummary {
            range,
            elements,
            iblt: None,
            pin: Some(pin),
        })
    }

    #[test]
    fn within_capacity_one_round_beyond_it_bisection_finds_every_key() {
        let range = KeyRange::new(0, 1 << 20);
        let a: Vec<Element> = (0..4_000).map(|k| (k * 250, 3)).collect();
        for (d, min_rounds) in [(10usize, 1usize), (500, 4)] {
            let b: Vec<Element> = a
                .iter()
                .enumerate()
                .map(|(i, &(k, v))| (k, if i < d { v + 1 } else { v }))
                .collect();
            let r = PinSketchBisect::new(32).reconcile(&summary(32, range, a.clone()), &summary(32, range, b));
            assert_eq!(r.divergent.len(), d, "d {d}");
            assert!(r.divergent.iter().all(|(pa, pb)| pa.is_empty() && pb.len() == 1));
            assert!(r.rounds.len() >= min_rounds, "d {d}: {} rounds", r.rounds.len());
            if d <= 16 {
                // Two elements per key (old and new version): 20 <= 32 decodes at once.
                assert_eq!(r.rounds.len(), 1);
                assert_eq!(r.rounds[0].request.bytes, 32 * 8);
            }
        }
    }

    #[test]
    fn the_previous_round_estimate_splits_the_first_round() {
        let range = KeyRange::new(0, 1 << 20);
        let a: Vec<Element> = (0..4_000).map(|k| (k * 250, 3)).collect();
        let b: Vec<Element> = a
            .iter()
            .enumerate()
            .map(|(i, &(k, v))| (k, if i % 8 == 0 { v + 1 } else { v }))
            .collect();
        let reconciler = PinSketchBisect::new(32);
        let (sa, sb) = (summary(32, range, a), summary(32, range, b));
        let first = reconciler.reconcile(&sa, &sb);
        let second = reconciler.reconcile(&sa, &sb);
        assert_eq!(first.divergent, second.divergent);
        assert_eq!(second.divergent.len(), 500);
        // 1,000 elements at <= 16 per part: 64 parts at once, then a round for the
        // parts that drew more than the capacity by chance.
        assert!(first.rounds.len() >= 6, "{} rounds", first.rounds.len());
        assert!(second.rounds.len() <= 3, "{} rounds", second.rounds.len());
        assert_eq!(second.rounds[0].request.hashes, 64 * 32);
    }
}
