//! The naive full comparison, the lesson's strawman: every cycle, the initiator sends
//! one hash for every record of the range, the responder compares each with its own
//! and answers with the keys it needs; only differing records are streamed. It finds
//! exactly the difference in one round trip, and pays for it with as many hashes as
//! the range has records, every time, however little differs.
//!
//! Every key of the range is a record here (the scan charges every key, written or in
//! its initial state), so the hashes sent equal the range's length.

use super::reconciler::{Message, Reconciler, Reconciliation, Round, Summary};
use super::row_level::{NEEDED_ROW_BYTES, Rows, differing_rows, row_parts};
use crate::model::merkle::HASH_BYTES;
use crate::model::replicas::ReplicaTable;
use crate::model::{Column, KeyRange, NodeId};
use std::sync::Arc;

/// Every record's hash, every cycle.
pub struct NaiveComparison;

impl Reconciler for NaiveComparison {
    fn summarize(&mut self, _: NodeId, replica: Column, range: KeyRange, _: u32, replicas: &ReplicaTable) -> Summary {
        Arc::new(Rows::read(replica, range, replicas))
    }

    fn reconcile(&self, a: &Summary, b: &Summary) -> Reconciliation {
        let (a, b) = (Rows::of(a), Rows::of(b));
        let differing = differing_rows(&a.records, &b.records);
        let records = a.range.len();
        let needed = differing.iter().filter(|&&(_, va, vb)| va > vb).count() as u64;
        Reconciliation {
            rounds: vec![Round {
                request: Message {
                    hashes: records,
                    bytes: records.saturating_mul(HASH_BYTES),
                },
                reply: Message {
                    hashes: 0,
                    bytes: needed * NEEDED_ROW_BYTES,
                },
                compute_ns: 0,
            }],
            hashes_compared: records,
            divergent: row_parts(&differing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    #[test]
    fn one_hash_per_record_of_the_range_and_only_the_difference_streamed() {
        let mut table = ReplicaTable::for_key_space(2, 5_000);
        table.client_write(Column(0), 42, 1, SimTime::ZERO);
        let range = KeyRange::new(0, 5_000);
        let mut naive = NaiveComparison;
        let (a, b) = (
            naive.summarize(0, Column(0), range, 0, &table),
            naive.summarize(1, Column(1), range, 0, &table),
        );
        let found = naive.reconcile(&a, &b);
        assert_eq!(found.hashes_compared, 5_000);
        assert_eq!(found.rounds.len(), 1);
        assert_eq!(found.rounds[0].request.bytes, 5_000 * 32);
        assert_eq!(
            found.rounds[0].reply.bytes, 8,
            "the responder names the one key it needs"
        );
        assert_eq!(found.divergent, vec![(KeyRange::new(42, 43), KeyRange::new(42, 42))]);
    }
}
