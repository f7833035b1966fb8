//! ScyllaDB's row-level repair (3.1): replicas read a small range of rows at a time (a
//! row buffer), compare one combined hash of it, and where it differs exchange one
//! 64-bit hash per row and send only the rows that differ. No leaf overstream: records
//! streamed equal records needed, at the cost of a round trip per buffer and per-row
//! hashes for every buffer that differs (scylladb `docs/dev/row_level_repair.md`,
//! steps A to C; `row_level_repair::get_max_row_buf_size`: 256 KiB a round).
//!
//! Every key of the range is a row here (the scan charges every key), so a buffer holds
//! `row_buffer_bytes / record_bytes` consecutive keys, and a differing buffer's row
//! hashes cover all of them.

use super::reconciler::{Message, Reconciler, Reconciliation, Round, Summary};
use crate::model::replicas::ReplicaTable;
use crate::model::{Column, Key, KeyRange, NodeId, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bytes of one row hash on the wire: ScyllaDB's `repair_hash` is 64 bits (xxhash since
/// 3.1, where partition-level repair sent 256-bit checksums).
pub const ROW_HASH_BYTES: u64 = 8;
/// ScyllaDB's row buffer per round without RPC streaming: 256 KiB.
pub const DEFAULT_ROW_BUFFER_BYTES: u64 = 256 << 10;
/// Bytes of a sync boundary (a partition key and a position in it).
pub const BOUNDARY_BYTES: u64 = 16;
/// Bytes naming one row a side needs (its hash).
pub const NEEDED_ROW_BYTES: u64 = ROW_HASH_BYTES;

/// A replica's records of a range, in key order: what both row-level repair and the
/// naive comparison read.
pub struct Rows {
    pub range: KeyRange,
    pub records: Vec<(Key, Version)>,
}

impl Rows {
    pub fn read(replica: Column, range: KeyRange, replicas: &ReplicaTable) -> Rows {
        Rows {
            range,
            records: replicas.records(replica, range).collect(),
        }
    }

    pub fn of(summary: &Summary) -> &Rows {
        summary
            .downcast_ref::<Rows>()
            .expect("a row comparison compares only rows")
    }

    /// This replica's version of `key` (0 if it has none).
    fn version(&self, key: Key) -> Version {
        self.records
            .binary_search_by_key(&key, |&(k, _)| k)
            .map_or(0, |i| self.records[i].1)
    }
}

/// The newest version of `key` any of `rows` holds (0 if none).
fn newest(rows: &[&Rows], key: Key) -> Version {
    rows.iter().map(|r| r.version(key)).max().unwrap_or(0)
}

/// The keys on which two sorted record lists differ, with each side's version (0 where
/// a side has no record).
pub fn differing_rows(a: &[(Key, Version)], b: &[(Key, Version)]) -> Vec<(Key, Version, Version)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        let (ka, kb) = (a.get(i).map(|r| r.0), b.get(j).map(|r| r.0));
        let key = match (ka, kb) {
            (Some(x), Some(y)) => x.min(y),
            (Some(x), None) => x,
            (None, Some(y)) => y,
            (None, None) => break,
        };
        let va = if ka == Some(key) {
            i += 1;
            a[i - 1].1
        } else {
            0
        };
        let vb = if kb == Some(key) {
            j += 1;
            b[j - 1].1
        } else {
            0
        };
        if va != vb {
            out.push((key, va, vb));
        }
    }
    out
}

/// The parts to stream for differing rows: one single-key part per row, sent by the
/// side holding the newer version (the other side's part is empty).
pub fn row_parts(rows: &[(Key, Version, Version)]) -> Vec<(KeyRange, KeyRange)> {
    rows.iter()
        .map(|&(key, va, vb)| {
            let one = KeyRange::new(key, key + 1);
            let none = KeyRange::new(key, key);
            (if va > vb { one } else { none }, if vb > va { one } else { none })
        })
        .collect()
}

/// The row-level reconciler: `rows_per_buffer` keys per round.
pub struct RowLevel {
    rows_per_buffer: u64,
}

impl RowLevel {
    pub fn new(rows_per_buffer: u64) -> RowLevel {
        RowLevel {
            rows_per_buffer: rows_per_buffer.max(1),
        }
    }
}

impl Reconciler for RowLevel {
    fn summarize(&mut self, _: NodeId, replica: Column, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        Arc::new(Rows::read(replica, range, replicas))
    }

    /// ScyllaDB's repair master merges every replica's rows and sends each replica only
    /// what it lacks, in the newest version: pair by pair, a row goes to a replica once,
    /// and only from a replica holding its newest version when a pair joins the two
    /// (the buffers' hashes are still exchanged pair by pair).
    fn reconcile_session(&self, summaries: &[Summary], pairs: &[(usize, usize)]) -> Vec<Reconciliation> {
        let rows: Vec<&Rows> = summaries.iter().map(Rows::of).collect();
        if is_star(pairs, rows.len()) {
            return self.master_and_followers(&rows, pairs);
        }
        let differing: Vec<Vec<(Key, Version, Version)>> = pairs
            .iter()
            .map(|&(a, b)| differing_rows(&rows[a].records, &rows[b].records))
            .collect();
        let version = |replica: usize, key: Key| rows[replica].version(key);
        let paired = |x: usize, y: usize| pairs.iter().any(|&p| p == (x, y) || p == (y, x));
        let mut delivered: BTreeMap<(usize, Key), Version> = BTreeMap::new();
        pairs
            .iter()
            .zip(&differing)
            .map(|(&(ia, ib), differing)| {
                let mut reconciliation = self.rounds(rows[ia].range, differing);
                let mut parts = Vec::with_capacity(differing.len());
                for &(key, va, vb) in differing {
                    let (receiver, sent) = if va > vb { (ib, va) } else { (ia, vb) };
                    let best = newest(&rows, key);
                    // A stale sender stays silent when a holder of the newest version
                    // is paired with the receiver: that pair sends it.
                    let stale = sent < best && (0..rows.len()).any(|h| version(h, key) == best && paired(h, receiver));
                    let already = delivered.get(&(receiver, key)).is_some_and(|&v| v >= sent);
                    if !stale && !already {
                        delivered.insert((receiver, key), sent);
                        parts.extend(row_parts(&[(key, va, vb)]));
                    }
                }
                reconciliation.divergent = parts;
                reconciliation
            })
            .collect()
    }

    /// A repair master pulls before it pushes (`row_level_repair.md`: the working row
    /// buffer is complete before the rows a follower lacks are sent to it).
    fn pushes_after_pulls(&self, pairs: &[(usize, usize)], participants: usize) -> bool {
        is_star(pairs, participants)
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (Rows::of(a), Rows::of(b));
        let differing = differing_rows(&a.records, &b.records);
        self.rounds(a.range, &differing)
    }
}

/// Whether `pairs` are the first participant with each other one, in order: a repair
/// master and its followers.
fn is_star(pairs: &[(usize, usize)], participants: usize) -> bool {
    participants > 2 && pairs.len() == participants - 1 && pairs.iter().enumerate().all(|(i, &p)| p == (0, i + 1))
}

impl RowLevel {
    /// ScyllaDB's repair master (participant 0) with each follower
    /// (`docs/dev/row_level_repair.md`): for a buffer whose hash differs from a
    /// follower's, the master gets that follower's row hashes; it pulls every row it
    /// lacks from one follower holding its newest version (the working row buffer), then
    /// pushes to each follower the rows it lacks, in the newest version (the world
    /// starts the pushes once every pull is applied: [`Reconciler::pushes_after_pulls`]).
    /// A row one follower alone holds thus reaches the other through the master, and the
    /// row hashes are those of RF - 1 exchanges, not RF (RF - 1) / 2.
    fn master_and_followers(&self, rows: &[&Rows], pairs: &[(usize, usize)]) -> Vec<Reconciliation> {
        // Every key some replica differs on, with its newest version and the follower the
        // master pulls it from (none when the master holds the newest).
        let mut keys: Vec<Key> = pairs
            .iter()
            .flat_map(|&(a, b)| {
                differing_rows(&rows[a].records, &rows[b].records)
                    .into_iter()
                    .map(|(k, _, _)| k)
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let keys: Vec<(Key, Version, Option<usize>)> = keys
            .into_iter()
            .map(|key| {
                let best = newest(rows, key);
                let source = (rows[0].version(key) < best)
                    .then(|| (1..rows.len()).find(|&f| rows[f].version(key) == best))
                    .flatten();
                (key, best, source)
            })
            .collect();
        pairs
            .iter()
            .map(|&(master, follower)| {
                let differing = differing_rows(&rows[master].records, &rows[follower].records);
                let mut reconciliation = self.rounds(rows[master].range, &differing);
                let one = |key: Key| KeyRange::new(key, key + 1);
                let none = |key: Key| KeyRange::new(key, key);
                reconciliation.divergent = keys
                    .iter()
                    .filter_map(|&(key, best, source)| {
                        if source == Some(follower) {
                            Some((none(key), one(key)))
                        } else if rows[follower].version(key) < best {
                            Some((one(key), none(key)))
                        } else {
                            None
                        }
                    })
                    .collect();
                reconciliation
            })
            .collect()
    }

    /// The rounds of one pair over `range` whose differing rows are `differing`, and
    /// the parts that stream them.
    fn rounds(&self, range: KeyRange, differing: &[(Key, Version, Version)]) -> Reconciliation {
        let buffers = range.len().div_ceil(self.rows_per_buffer);
        let mut rounds = Vec::new();
        let mut hashes_compared = 0;
        // Step A for every buffer: the sync boundary and the buffer's combined hash.
        let combined = Message {
            hashes: 1,
            bytes: ROW_HASH_BYTES + BOUNDARY_BYTES,
        };
        let mut next = differing.iter().peekable();
        for buffer in 0..buffers {
            let start = range.start + buffer * self.rows_per_buffer;
            let end = (start + self.rows_per_buffer).min(range.end);
            rounds.push(Round {
                request: combined,
                reply: combined,
                compute_ns: 0,
            });
            hashes_compared += 1;
            let mut need_a = 0;
            let mut differs = false;
            while let Some(&&(key, va, vb)) = next.peek() {
                if key >= end {
                    break;
                }
                differs = true;
                need_a += u64::from(vb > va);
                next.next();
            }
            if differs {
                // Step B: the follower's full row hashes; the master answers with the
                // hashes of the rows it needs (step C then streams both ways).
                let rows = end - start;
                hashes_compared += rows;
                rounds.push(Round {
                    request: Message {
                        hashes: 0,
                        bytes: need_a * NEEDED_ROW_BYTES,
                    },
                    reply: Message {
                        hashes: rows,
                        bytes: rows * ROW_HASH_BYTES,
                    },
                    compute_ns: 0,
                });
            }
        }
        Reconciliation {
            rounds,
            hashes_compared,
            divergent: row_parts(differing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    #[test]
    fn only_differing_rows_are_streamed_and_only_differing_buffers_send_row_hashes() {
        let mut table = ReplicaTable::for_key_space(2, 10_000);
        let t = SimTime::ZERO;
        for key in (0..10_000).step_by(7) {
            table.client_write(Column(0), key, key + 1, t);
            table.apply(Column(1), key, key + 1, t);
        }
        table.client_write(Column(0), 1_500, 20_000, t); // newer on node 0
        table.client_write(Column(1), 8_001, 20_001, t); // only on node 1
        let range = KeyRange::new(0, 10_000);
        let mut rows = RowLevel::new(1_000);
        let (a, b) = (
            rows.summarize(0, Column(0), range, 0, &table),
            rows.summarize(1, Column(1), range, 0, &table),
        );
        let found = rows.reconcile(&a, &b);
        assert_eq!(
            found.divergent,
            vec![
                (KeyRange::new(1_500, 1_501), KeyRange::new(1_500, 1_500)),
                (KeyRange::new(8_001, 8_001), KeyRange::new(8_001, 8_002)),
            ]
        );
        // Ten buffers, two of them differ: 10 + 2 round trips, 10 + 2 x 1,000 hashes.
        assert_eq!(found.rounds.len(), 12);
        assert_eq!(found.hashes_compared, 2_010);
        let reply_hashes: u64 = found.rounds.iter().map(|r| r.reply.hashes).sum();
        assert_eq!(reply_hashes, 2_010);
    }

    #[test]
    fn differing_rows_walks_both_lists() {
        let a = [(1, 5), (3, 2), (9, 9)];
        let b = [(1, 5), (2, 4), (3, 3)];
        assert_eq!(differing_rows(&a, &b), vec![(2, 0, 4), (3, 2, 3), (9, 9, 0)]);
        assert!(differing_rows(&a, &a).is_empty());
    }
}

#[cfg(test)]
mod session_tests {
    use super::*;
    use crate::sim::SimTime;

    #[test]
    fn a_row_two_replicas_lack_is_sent_to_each_once_whatever_the_pairs() {
        let mut table = ReplicaTable::for_key_space(3, 1_000);
        let t = SimTime::ZERO;
        table.client_write(Column(0), 10, 1, t); // on replica 0 only: 1 and 2 need it
        table.client_write(Column(1), 20, 2, t);
        table.apply(Column(2), 20, 2, t); // on 1 and 2: replica 0 needs it, from either
        let range = KeyRange::new(0, 1_000);
        let mut rows = RowLevel::new(100);
        let summaries: Vec<Summary> = (0..3).map(|r| rows.summarize(r, Column(r), range, 0, &table)).collect();
        let pairs = [(0, 1), (0, 2), (1, 2)];
        let found = rows.reconcile_session(&summaries, &pairs);
        let sent: usize = found
            .iter()
            .flat_map(|r| &r.divergent)
            .map(|(a, b)| (a.len() + b.len()) as usize)
            .sum();
        assert_eq!(sent, 3, "key 10 to replicas 1 and 2, key 20 to replica 0 once");
        // Pair by pair, key 20 would reach replica 0 twice.
        let pairwise: usize = pairs
            .iter()
            .flat_map(|&(a, b)| rows.reconcile(&summaries[a], &summaries[b]).divergent)
            .map(|(a, b)| (a.len() + b.len()) as usize)
            .sum();
        assert_eq!(pairwise, 4);
    }
}
