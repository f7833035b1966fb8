//! The hash walk's cost: root first, then two children per differing node per level.

mod common;

use aesim::model::KeyRange;
use aesim::model::merkle::{MerkleTree, compare};
use aesim::sim::SimTime;
use aesim::world::World;
use std::collections::BTreeSet;

const KEYS: u64 = 1 << 20;
const LEAVES: u32 = 1024;

fn tree(records: &[(u64, u64)]) -> MerkleTree {
    MerkleTree::build(KeyRange::new(0, KEYS), LEAVES, records.iter().copied())
}

/// What the walk must cost: 1 root hash, then at each level two hashes per differing
/// node of the level above. Differing nodes are the ancestors of the differing leaves.
fn expected_hashes(divergent_leaves: &BTreeSet<u64>) -> u64 {
    let depth = LEAVES.trailing_zeros();
    let mut total = 1;
    for level in 1..=depth {
        let parents: BTreeSet<u64> = divergent_leaves
            .iter()
            .map(|leaf| leaf >> (depth - level + 1))
            .collect();
        total += 2 * parents.len() as u64;
    }
    total
}

#[test]
fn one_divergent_key_among_1024_leaves_compares_21_hashes() {
    let comparison = compare(&tree(&[(123_456, 1)]), &tree(&[]));
    assert_eq!(comparison.hashes_compared(), 21);
    assert_eq!(comparison.round_trips(), 11);
    assert_eq!(comparison.divergent_leaves, vec![(123_456 / 1024) as u32]);
}

#[test]
fn d_divergent_keys_cost_what_the_walk_implies() {
    // Two keys in sibling leaves share every ancestor: still 21 hashes.
    let siblings = compare(&tree(&[(0, 1), (1024, 1)]), &tree(&[]));
    assert_eq!(siblings.hashes_compared(), 21);
    // Keys at both ends share only the root: 1 + 2 + 4 * 9.
    let ends = compare(&tree(&[(0, 1), (KEYS - 1, 1)]), &tree(&[]));
    assert_eq!(ends.hashes_compared(), 39);
    // Scattered keys: check against the formula.
    for d in [3u64, 10, 100, 1000] {
        let keys: Vec<(u64, u64)> = (0..d).map(|i| ((i * 7_919 * 131) % KEYS, 1)).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup_by_key(|r| r.0);
        let leaves: BTreeSet<u64> = sorted.iter().map(|&(k, _)| k / 1024).collect();
        let comparison = compare(&tree(&sorted), &tree(&[]));
        assert_eq!(comparison.hashes_compared(), expected_hashes(&leaves), "d = {d}");
        assert_eq!(comparison.divergent_leaves.len(), leaves.len());
    }
    // Every leaf differs: the whole tree, 2 * 1024 - 1 hashes.
    let all: Vec<(u64, u64)> = (0..1024u64).map(|leaf| (leaf * 1024, 1)).collect();
    assert_eq!(compare(&tree(&all), &tree(&[])).hashes_compared(), 2 * 1024 - 1);
}

#[test]
fn the_world_charges_21_hashes_each_way_for_one_divergent_key() {
    let scenario = common::scenario(&format!(
        r#"
name = "descent"
seed = 1
duration = "30s"
[cluster]
keys = {KEYS}
scan_cost_per_key = "1ns"
[workload]
writes_per_s = 0.0
[[strategy]]
kind = "monolithic"
leaves = {LEAVES}
interval = "10s"
"#
    ));
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    // Cycle one (t = 0) sees identical empty replicas: one root hash each way.
    world.run_until(SimTime::from_secs(5));
    assert_eq!(world.counters().hashes_sent, 2);
    world.schedule_write(SimTime::from_secs(5), 777, 0, true);
    world.run_until(SimTime::from_secs(15));
    // Cycle two: 21 hashes compared, sent once in each direction, 11 round trips.
    assert_eq!(world.counters().hashes_sent, 2 + 2 * 21);
    assert_eq!(world.counters().round_trips, 1 + 11);
    assert_eq!(world.counters().leaves_streamed, 1);
    // The divergent leaf is streamed both ways: 2 * 1024 records for one needed.
    assert_eq!(world.counters().records_streamed, 2 * 1024);
    assert_eq!(world.counters().records_needed, 1);
    assert_eq!(world.replicas().divergent_keys(), 0);
}
