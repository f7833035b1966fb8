//! The real systems' own test cases, ported as tests of aesim's models of them. Each
//! test names the repository, file and test it comes from; the expected values are
//! theirs, not aesim's.

use aesim::protocol::cassandra::{
    CASSANDRA_3_11_MAX_TREE_DEPTH, DEFAULT_SESSION_SPACE_BYTES, TreeSizing, estimated_max_depth_for_bytes,
    tree_heap_bytes,
};

/// apache/cassandra `test/unit/org/apache/cassandra/utils/MerkleTreeTest.java`,
/// `testEstimatedSizes` (4.0): `MerkleTree.estimatedMaxDepthForBytes(Murmur3Partitioner,
/// numBytes, 32)` for each budget.
#[test]
fn cassandra_merkle_tree_test_estimated_sizes() {
    let mib: i64 = 1_048_576;
    let cases: [(i64, u32); 7] = [
        // "With no or negative allowed space we should still get a depth of 1"
        (-20, 1),
        (0, 1),
        (1, 1),
        // "The minimum of 1 mebibyte split between RF=3 should yield trees of around 10"
        (mib / 3, 10),
        // "With a single mebibyte of space we should get 12"
        (mib, 12),
        // "With 100 mebibytes we should get a limit of 19"
        (100 * mib, 19),
        // "With 300 mebibytes we should get the old limit of 20"
        (300 * mib, 20),
    ];
    for (bytes, depth) in cases {
        assert_eq!(estimated_max_depth_for_bytes(bytes), depth, "{bytes} bytes");
    }
}

/// The same file's `testEstimatedSizesRealMeasurement` checks, on real trees, that the
/// depth estimated for 2^14 .. 2^23 bytes fits and one level more does not; aesim's
/// closed form satisfies the same bracket with its object sizes.
#[test]
fn cassandra_estimated_depth_fits_and_one_more_level_does_not() {
    for shift in 14..24 {
        let bytes = 1i64 << shift;
        let depth = estimated_max_depth_for_bytes(bytes);
        assert!(tree_heap_bytes(depth) < bytes, "{bytes}: depth {depth} fits");
        assert!(
            tree_heap_bytes(depth + 1) > bytes,
            "{bytes}: depth {} does not",
            depth + 1
        );
    }
}

/// apache/cassandra 4.0 `repair/ValidationManager.createMerkleTrees`: `availableBytes =
/// repair_session_space / RF`; a range owning `ratio` of the session's partitions gets
/// `max(1, (int) (ratio * availableBytes))`, depth `min(ceil(log2(partitions)),
/// min(estimatedMaxDepthForBytes, repair_session_max_tree_depth))`.
#[test]
fn cassandra_4_validation_depth_for_the_default_session_space() {
    // 512 MiB (1/16 of an 8 GiB heap) at RF 3: 179 MB a tree, depth 19; at RF 2, 20.
    let rf3 = TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 1);
    assert_eq!(rf3.depth(1_000_000), 19);
    assert_eq!(
        TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 2, 1).depth(1_000_000),
        20
    );
    // 256 ranges in one session: each owns 1/256 of 179 MB, 699 KB, depth 11.
    assert_eq!(
        TreeSizing::new(20, DEFAULT_SESSION_SPACE_BYTES, 3, 256).depth(1_000_000),
        11
    );
    // Few partitions: one leaf each.
    assert_eq!(rf3.depth(1_000), 10);
    assert_eq!(rf3.depth(1), 0);
}

/// apache/cassandra 3.11 `db/compaction/CompactionManager.createMerkleTrees`
/// (CASSANDRA-11390): `maxDepth = floor(cap - log2(1 / rangeOwningRatio))`, the cap
/// `repair_session_max_tree_depth` = 18 (3.11 `config/Config.java`).
#[test]
fn cassandra_3_11_validation_depth_shrinks_with_the_ranges_share() {
    let cap = CASSANDRA_3_11_MAX_TREE_DEPTH;
    assert_eq!(cap, 18);
    let whole = TreeSizing::cassandra_3_11(cap, 1);
    assert_eq!(whole.depth(1_000_000_000), 18);
    // 16 vnode ranges of a session: floor(18 - 4) = 14; 256: 10; 3: floor(16.42) = 16.
    assert_eq!(TreeSizing::cassandra_3_11(cap, 16).depth(1_000_000), 14);
    assert_eq!(TreeSizing::cassandra_3_11(cap, 256).depth(1_000_000), 10);
    assert_eq!(TreeSizing::cassandra_3_11(cap, 3).depth(1_000_000), 16);
}

/// One `testDifferences` case of apache/cassandra `MerkleTreeTest.java` (4.0): trees
/// over (0, 16] holding tokens 1..=16 (aesim's keys 1..=16, range [1, 17)), of depths
/// `depths`; `changed` lists, per tree, the tokens given another hash (`addHash` of a
/// "diff_" digest); `entirely` makes every token's hash differ (two seeds). Returns the
/// differences found, as (depth, index) nodes, checked equal both ways
/// (`assertDiffer` compares `difference(mt1, mt2)` and `difference(mt2, mt1)`).
///
/// Trees of the same depth are aesim's own trees (`MerkleTree::build`), compared
/// through `tree_difference` as Cassandra full repair compares them. Trees of different
/// depths, which aesim never pairs (both replicas size a range's tree alike), are
/// compared by content: a Cassandra node's hash is the XOR of its partitions' hashes,
/// equal on both sides exactly when their contents are.
fn cassandra_difference(depths: (u32, u32), changed: (&[u64], &[u64]), entirely: bool) -> Vec<(u32, u64)> {
    use aesim::model::KeyRange;
    use aesim::model::merkle::MerkleTree;
    use aesim::protocol::cassandra::{difference, node_ranges, tree_difference};
    let range = KeyRange::new(1, 17);
    let versions = |changes: &[u64], seed: u64| -> Vec<(u64, u64)> {
        (1..=16)
            .map(|key| (key, 100 * seed + key + if changes.contains(&key) { 50 } else { 0 }))
            .collect()
    };
    let one = versions(changed.0, 1);
    let two = versions(changed.1, if entirely { 2 } else { 1 });
    let by_content = |a: &[(u64, u64)], b: &[(u64, u64)], (depth, index): (u32, u64)| {
        let part = range.part(index, 1 << depth);
        let inside = |records: &[(u64, u64)]| -> Vec<(u64, u64)> {
            records.iter().copied().filter(|&(k, _)| part.contains(k)).collect()
        };
        inside(a) != inside(b)
    };
    let shallower = depths.0.min(depths.1);
    let (forward, backward) = if depths.0 == depths.1 {
        let tree = |records: &[(u64, u64)]| MerkleTree::build(range, 1 << depths.0, records.iter().copied());
        let (t1, t2) = (tree(&one), tree(&two));
        let walk =
            |a: &MerkleTree, b: &MerkleTree| difference(shallower, |(d, i)| a.node_hash(d, i) != b.node_hash(d, i)).0;
        let (forward, backward) = (walk(&t1, &t2), walk(&t2, &t1));
        // What full repair streams: the same ranges, on both sides.
        let streamed: Vec<KeyRange> = tree_difference(&t1, &t2).0.into_iter().map(|(a, _)| a).collect();
        assert_eq!(streamed, node_ranges(range, &forward));
        (forward, backward)
    } else {
        (
            difference(shallower, |node| by_content(&one, &two, node)).0,
            difference(shallower, |node| by_content(&two, &one, node)).0,
        )
    };
    assert_eq!(forward, backward, "difference is symmetric");
    forward
}

/// `makeTreeRange(start, end, depth)` of `MerkleTreeTest` as a node of a tree over
/// (0, 16].
fn tree_range(start: u64, end: u64, depth: u32) -> (u32, u64) {
    let width = 16 >> depth;
    assert_eq!(end - start, width);
    (depth, start / width)
}

/// apache/cassandra `MerkleTreeTest`: `testEqualTreesSameDepth`,
/// `testEqualTreesDifferentDepth`, `testEntirelyDifferentTrees`.
#[test]
fn cassandra_merkle_tree_test_equal_and_entirely_different_trees() {
    assert!(cassandra_difference((3, 3), (&[], &[]), false).is_empty());
    assert!(cassandra_difference((2, 3), (&[], &[]), false).is_empty());
    assert_eq!(
        cassandra_difference((3, 3), (&[], &[]), true),
        vec![tree_range(0, 16, 0)]
    );
}

/// apache/cassandra `MerkleTreeTest`: `testDifferentTrees1SameDepth`,
/// `testDifferentTrees1DifferentDepth`, `testDifferentTrees2SameDepth`,
/// `testDifferentTrees2DifferentDepth`.
#[test]
fn cassandra_merkle_tree_test_different_trees_1_and_2() {
    assert_eq!(
        cassandra_difference((3, 3), (&[1], &[]), false),
        vec![tree_range(0, 2, 3)]
    );
    assert_eq!(
        cassandra_difference((2, 3), (&[1], &[]), false),
        vec![tree_range(0, 4, 2)]
    );
    assert_eq!(
        cassandra_difference((3, 3), (&[1], &[16]), false),
        vec![tree_range(0, 2, 3), tree_range(14, 16, 3)]
    );
    assert_eq!(
        cassandra_difference((2, 3), (&[1], &[16]), false),
        vec![tree_range(0, 4, 2), tree_range(12, 16, 2)]
    );
}

/// apache/cassandra `MerkleTreeTest`: `testDifferentTrees3SameDepth`,
/// `testDifferentTrees3Differentepth` (sic): two fully inconsistent siblings, (0, 2]
/// and (2, 4], are reported as their parent (0, 4].
#[test]
fn cassandra_merkle_tree_test_fully_inconsistent_siblings_merge() {
    assert_eq!(
        cassandra_difference((3, 3), (&[1, 3], &[]), false),
        vec![tree_range(0, 4, 2)]
    );
    assert_eq!(
        cassandra_difference((2, 3), (&[1, 3], &[]), false),
        vec![tree_range(0, 4, 2)]
    );
}

/// apache/cassandra `MerkleTreeTest`: `testDifferentTrees4SameDepth`,
/// `testDifferentTrees4DifferentDepth`: every other leaf differs at depth 3; at depth 2
/// all four leaves do, and the whole range is reported.
#[test]
fn cassandra_merkle_tree_test_different_trees_4() {
    assert_eq!(
        cassandra_difference((3, 3), (&[4, 8, 12, 16], &[]), false),
        vec![
            tree_range(2, 4, 3),
            tree_range(6, 8, 3),
            tree_range(10, 12, 3),
            tree_range(14, 16, 3)
        ]
    );
    assert_eq!(
        cassandra_difference((2, 3), (&[4, 8, 12, 16], &[]), false),
        vec![tree_range(0, 16, 0)]
    );
}

/// thelastpickle/cassandra-reaper `SegmentGeneratorTest.testGenerateSegments`: six
/// tokens, three of them 1 token after another, 10 segments requested: the three
/// one-token ranges get a segment each and the three large ones ceil(10/3) = 4 each, 15
/// in all. Reaper's RandomPartitioner ring of 2^127 tokens is scaled to 2^63 here
/// (aesim's tokens are u64): the large ranges' shares, and so the counts, are the same.
#[test]
fn reaper_segment_generator_test_generate_segments() {
    use aesim::strategy::reaper::generate_segments;
    let ring: u64 = 1 << 63;
    let third = ring / 3;
    for low in [0, 5] {
        let tokens = [low, low + 1, third, third + 1, 2 * third, 2 * third + 1];
        let segments = generate_segments(10, &tokens, ring).expect("a valid ring");
        assert_eq!(segments.len(), 15);
        assert_eq!(segments[0], (low, low + 1));
        assert_eq!(segments[5], (third, third + 1));
        assert_eq!(segments[10], (2 * third, 2 * third + 1));
    }
}

/// `SegmentGeneratorTest.testRotatedRing`: the same ring listed from another token.
#[test]
fn reaper_segment_generator_test_rotated_ring() {
    use aesim::strategy::reaper::generate_segments;
    let ring: u64 = 1 << 63;
    let third = ring / 3;
    let tokens = [third + 1, 2 * third, 2 * third + 1, 5, 6, third];
    let segments = generate_segments(10, &tokens, ring).expect("a valid ring");
    assert_eq!(segments.len(), 15);
    assert_eq!(segments[4], (2 * third, 2 * third + 1));
    assert_eq!(segments[9], (5, 6));
    assert_eq!(segments[14], (third, third + 1));
}

/// `SegmentGeneratorTest.testZeroSizeRange` and `testDisorderedRing`: two equal
/// tokens, and tokens out of ring order, are refused.
#[test]
fn reaper_segment_generator_test_zero_size_and_disordered_rings() {
    use aesim::strategy::reaper::{SegmentError, generate_segments};
    let ring: u64 = 1 << 63;
    let third = ring / 3;
    let zero = [0, 1, third, third, 2 * third, 2 * third + 1];
    assert_eq!(generate_segments(10, &zero, ring), Err(SegmentError::SameToken(third)));
    let disordered = [0, 2 * third + 1, 1, third, third + 1, 2 * third];
    assert_eq!(
        generate_segments(10, &disordered, ring),
        Err(SegmentError::NotEntireRing)
    );
}

/// `SegmentGeneratorTest.coalesceTokenRangesTests`,
/// `coalesceTokenRangesTooFewTokensPerSegmentTests` and
/// `coalesceTokenRangesBy200TokensPerSegmentTests`: ranges grouped by replica set (a
/// set in any order is one set: `RepairRunService.buildReplicasToRangeMap`), then
/// coalesced up to the target size. aesim's sessions cover one range, so the strategy
/// does not coalesce (docs/real-systems.md); the generator is ported and tested here.
#[test]
fn reaper_segment_generator_test_coalesce_token_ranges() {
    use aesim::strategy::reaper::coalesce_token_ranges;
    // Three replica sets: {1, 2, 3} (its ranges include one listed as node2, node3,
    // node1), {1} and {1, 2}: never fewer than 3 segments.
    let three_sets = [
        vec![(1, 200), (200, 400), (1_100, 1_200)],
        vec![(400, 600)],
        vec![(600, 800), (800, 1_000)],
    ];
    assert_eq!(coalesce_token_ranges(1_200, &three_sets).len(), 3);
    let one_set = vec![vec![
        (1, 200),
        (200, 400),
        (400, 600),
        (600, 800),
        (800, 1_000),
        (1_100, 1_200),
        (1_200, 1_300),
        (1_300, 1_400),
        (1_400, 1_500),
    ]];
    // "number of tokens per segment is smaller than the number of tokens per range":
    // one segment per range.
    assert_eq!(coalesce_token_ranges(1, &one_set).len(), 9);
    // "Ranges with 100 tokens will get coalesced two by two".
    assert_eq!(coalesce_token_ranges(200, &one_set).len(), 7);
}

/// martinsumner/kv_index_tictactree `test/end_to_end/basic_SUITE.erl`,
/// `dual_store_compare_tester(10000, _)`: two stores loaded alike (10,000 keys, some
/// removed and 100 changed on both) compare equal at the root (`{root_compare, 0}`);
/// after `create_discrepancy` puts 10 new keys into one store, an exchange finds 10
/// (`{clock_compare, 10}`), and finds 10 again when nothing was repaired; once the
/// keys are added to the other store the next exchange is back to `{root_compare, 0}`.
/// aesim compares one partition of each store (the suite also maps 2 partitions onto
/// 3; aesim's replicas always agree on their ranges) with Tictac's large tree.
#[test]
fn tictac_basic_suite_dual_store_compare() {
    use aesim::model::replicas::ReplicaTable;
    use aesim::model::tictac_tree::TreeShape;
    use aesim::model::{Column, KeyRange};
    use aesim::protocol::reconciler::Reconciler;
    use aesim::protocol::tictac::TictacExchange;
    use aesim::sim::SimTime;

    let now = SimTime::ZERO;
    let mut table = ReplicaTable::new(2);
    let mut version = 0;
    let mut on = |table: &mut ReplicaTable, columns: &[usize], key: u64| {
        version += 1;
        for &c in columns {
            table.apply(Column(c), key, version, now);
        }
    };
    // initial_load: the keys on both stores, 10 of them then removed (a newer clock on
    // both here), and 100 updated on both.
    for key in 0..10_000 {
        on(&mut table, &[0, 1], key);
    }
    for key in 0..10 {
        on(&mut table, &[0, 1], key);
    }
    for key in 0..100 {
        on(&mut table, &[0, 1], key);
    }
    let shape = TreeShape {
        branches: 4_096,
        segments_per_branch: 256,
    };
    let mut exchange = TictacExchange::new(shape, 0, Some(128));
    let range = KeyRange::new(0, 20_000);
    let mut compare = |table: &ReplicaTable| {
        let leaves = shape.branches * shape.segments_per_branch;
        let a = exchange.summarize(0, Column(0), range, leaves, table);
        let b = exchange.summarize(1, Column(1), range, leaves, table);
        let reconciliation = exchange.reconcile(&a, &b);
        // One round: the roots alone (root_compare); more: down to the clocks.
        (reconciliation.rounds.len() == 1, reconciliation.divergent.len())
    };
    assert_eq!(compare(&table), (true, 0), "{{root_compare, 0}}");
    // create_discrepancy: 10 new keys in one store only.
    for key in 10_000..10_010 {
        on(&mut table, &[0], key);
    }
    assert_eq!(compare(&table), (false, 10), "{{clock_compare, 10}}");
    assert_eq!(compare(&table), (false, 10), "nothing repaired: 10 again");
    for key in 10_000..10_010 {
        let v = table.version(Column(0), key);
        table.apply(Column(1), key, v, now);
    }
    assert_eq!(compare(&table), (true, 0), "repaired: {{root_compare, 0}}");
}
