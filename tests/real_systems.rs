//! Real systems' reconcilers in whole runs, against the figures their sources publish
//! or imply: Cassandra's leaf overstream (about n / 2^depth partitions per divergent
//! leaf), incremental repair validating only what was written since, ScyllaDB's
//! row-level repair streaming exactly what is needed, and the naive comparison sending
//! one hash per record of the range.

mod common;

use aesim::metrics::StrategyResult;
use aesim::run::run_scenario;

/// 10^6 keys (partitions) on two replicas; every replication message of the first 5 s
/// is lost (about 130 divergent keys); sessions at t = 0 and 10 s (and 20 s with a
/// longer duration).
fn scenario(duration: &str, strategies: &str) -> String {
    format!(
        r#"name = "real"
seed = 14
duration = "{duration}"
sample_interval = "5s"
[cluster]
keys = 1_000_000
scan_cost_per_key = "10ns"
[network]
loss = 1.0
latency = {{ kind = "constant", value = "1ms" }}
[workload]
writes_per_s = 20.0
stop_at = "5s"
{strategies}"#
    )
}

fn strategy(name: &str, reconciler: &str, extra: &str) -> String {
    format!(
        "[[strategy]]\nkind = \"monolithic\"\nname = \"{name}\"\nleaves = 1024\ninterval = \"10s\"\n\
         reconciler = \"{reconciler}\"\n{extra}\n"
    )
}

fn run(duration: &str, strategies: &[String]) -> Vec<StrategyResult> {
    run_scenario(&common::scenario(&scenario(duration, &strategies.concat())), 2).expect("invariants hold")
}

#[test]
fn cassandra_depth_15_streams_n_over_2_15_partitions_per_divergent_leaf() {
    let results = run(
        "15s",
        &[
            strategy("depth-15", "cassandra_tree", "max_tree_depth = 15"),
            strategy("default", "cassandra_tree", ""),
            strategy("vnodes-256", "cassandra_tree", "session_ranges = 256"),
        ],
    );
    let [depth15, default, vnodes] = &results[..] else {
        panic!("three strategies")
    };
    let d = depth15.counters.keys_repaired;
    assert!((80..=160).contains(&d), "{d} divergent keys");
    let per_leaf = |r: &StrategyResult| r.counters.records_streamed as f64 / (2.0 * r.counters.leaves_streamed as f64);
    // 10^6 / 2^15 = 30.5 partitions a leaf, streamed both ways (DataStax: "about 30").
    let expected = 1e6 / 32_768.0;
    assert!(
        (per_leaf(depth15) - expected).abs() < 0.1 * expected,
        "{} per divergent leaf",
        per_leaf(depth15)
    );
    assert_eq!(depth15.counters.leaves_streamed, d, "about one divergent key per leaf");
    // Depth min(ceil(log2 10^6), 20) = 20: leaves of 0 or 1 partition, nothing overstreamed.
    assert!(per_leaf(default) <= 1.0, "{}", per_leaf(default));
    assert_eq!(default.counters.records_streamed, 2 * d);
    // 256 ranges share the 512 MiB of session space: 2^12 leaves, 244 partitions each.
    let expected = 1e6 / 4_096.0;
    assert!(
        (per_leaf(vnodes) - expected).abs() < 0.1 * expected,
        "{}",
        per_leaf(vnodes)
    );
    for r in &results {
        assert_eq!(r.divergent_at_end, 0, "{}", r.strategy);
        assert_eq!(r.counters.keys_repaired, d, "{}", r.strategy);
        assert_eq!(
            r.counters.keys_scanned,
            2 * 2 * 1_000_000,
            "two sessions scan the range on each replica"
        );
    }
}

#[test]
fn row_level_streams_exactly_what_is_needed_and_naive_hashes_every_record() {
    let results = run(
        "15s",
        &[
            strategy("row-level", "row_level", ""),
            strategy("naive", "naive", ""),
            strategy("partition-level", "cassandra_tree", "max_tree_depth = 15"),
        ],
    );
    let [row, naive, partition] = &results[..] else {
        panic!("three strategies")
    };
    let d = row.counters.keys_repaired;
    for r in [row, naive] {
        assert_eq!(r.counters.records_streamed, d, "{}", r.strategy);
        assert_eq!(r.counters.records_needed, d, "{}", r.strategy);
        assert_eq!(r.divergent_at_end, 0);
    }
    // Two sessions, one pair each: one hash per record of the 10^6-key range each time.
    assert_eq!(naive.counters.hashes_sent, 2 * 1_000_000);
    assert_eq!(naive.counters.round_trips, 2);
    // Row level: 256 KiB buffers of 100-byte rows (2,621 rows); the first session finds
    // nothing (one round trip per buffer), the second sends every differing buffer's
    // row hashes: more hashes than the tree, far fewer records.
    let buffers = 1_000_000u64.div_ceil(2_621);
    assert!(
        row.counters.round_trips >= 2 * buffers + d / 2,
        "{}",
        row.counters.round_trips
    );
    // Cassandra's replica sends its whole depth-15 tree each session, whatever differs
    // (ValidationResponse): 32,768 leaf hashes twice.
    assert_eq!(partition.counters.hashes_sent, 2 * 32_768);
    assert_eq!(partition.counters.round_trips, 2);
    assert!(partition.counters.records_streamed > 25 * row.counters.records_streamed);
}

#[test]
fn incremental_repair_validates_only_what_was_written_since_the_last_session() {
    let strategies = [
        strategy("incremental", "cassandra_incremental", ""),
        strategy("full", "cassandra_tree", ""),
    ];
    let short = run("15s", &strategies);
    let long = run("25s", &strategies);
    let (inc, full) = (&long[0], &long[1]);
    assert_eq!(inc.divergent_at_end, 0);
    assert_eq!(inc.counters.keys_repaired, full.counters.keys_repaired);
    // The session at 20 s follows one that repaired everything, with no write since:
    // it validates nothing.
    assert_eq!(inc.counters.keys_scanned, short[0].counters.keys_scanned);
    assert_eq!(inc.counters.records_streamed, short[0].counters.records_streamed);
    // The first validates the whole range on both replicas (nothing is repaired yet);
    // the one at 10 s only the partitions written since: every write was lost, so each
    // is one record on one replica (a key written twice, on both, is two).
    let second = inc.counters.keys_scanned - 2 * 1_000_000;
    let written = inc.counters.keys_repaired;
    assert!(
        second >= written && second <= written + written / 10,
        "{second} partitions validated at 10 s for {written} written"
    );
    assert_eq!(full.counters.keys_scanned, 3 * 2 * 1_000_000);
    // Streaming only unrepaired data: each partition validated, both ways at most.
    assert!(inc.counters.records_streamed <= 2 * second);
    assert_eq!(inc.counters.records_needed, full.counters.records_needed);
}

#[test]
fn row_level_sends_each_replica_a_row_once_with_three_replicas() {
    // Three replicas, every pair compared: a row two replicas lack, or two replicas
    // hold, would travel twice pair by pair; ScyllaDB's master sends it once.
    let body = scenario(
        "15s",
        &[strategy("row-level", "row_level", ""), strategy("naive", "naive", "")].concat(),
    )
    .replace("keys = 1_000_000", "nodes = 3\nkeys = 1_000_000")
    // Half the replication messages lost: many rows end up on two of the three.
    .replace("loss = 1.0", "loss = 0.5");
    let results = run_scenario(&common::scenario(&body), 2).expect("invariants hold");
    let (row, naive) = (&results[0], &results[1]);
    assert_eq!(row.divergent_at_end, 0);
    assert_eq!(row.counters.records_needed, naive.counters.records_needed);
    assert!(row.counters.records_needed > 50, "{}", row.counters.records_needed);
    assert_eq!(row.counters.records_streamed, row.counters.records_needed);
    assert!(naive.counters.records_streamed > naive.counters.records_needed);
}

#[test]
fn scylla_repair_master_pulls_from_each_follower_then_pushes_what_each_lacks() {
    // scylladb docs/dev/row_level_repair.md, "Performance evaluation", case 3: every
    // node holds rows no other node has; the master receives 2,000,000 rows and sends
    // 4,000,000 (each follower lacks the master's and the other follower's). Here 100
    // rows on each of 3 nodes, all replication lost, one session over `pairs = "star"`:
    // the master pulls 200 and pushes 400, a row of one follower reaching the other
    // through the master; RF - 1 = 2 exchanges of row hashes instead of 3.
    let body = |pairs: &str| {
        format!(
            r#"name = "master"
seed = 1
duration = "20s"
sample_interval = "1s"
[cluster]
nodes = 3
keys = 30_000
scan_cost_per_key = "1us"
record_bytes = 100
[workload]
writes_per_s = 0.0
[[strategy]]
kind = "monolithic"
leaves = 1
interval = "15s"
reconciler = "row_level"
row_buffer_bytes = 25600
pairs = "{pairs}"
"#
        )
    };
    let run = |pairs: &str| {
        let scenario = common::scenario(&body(pairs));
        let mut world = aesim::world::World::new(&scenario, &scenario.strategies[0]);
        for node in 0..3u64 {
            for i in 0..100u64 {
                let key = node * 10_000 + i * 97;
                world.schedule_write(
                    aesim::sim::SimTime::from_nanos((100 + i) * 1_000_000),
                    key,
                    node as usize,
                    true,
                );
            }
        }
        world.run_until(aesim::sim::SimTime::from_secs(20));
        world.check_invariants().expect("invariants hold");
        assert_eq!(world.replicas().divergent_keys(), 0, "{pairs}: every row everywhere");
        let c = world.counters();
        let received: Vec<u64> = world.node_loads().iter().map(|l| l.bytes_received).collect();
        (c.records_streamed, c.records_needed, c.hashes_sent, received)
    };
    // The writes land after the first session's snapshot (0 s): the session at 15 s
    // repairs everything, and with star pairs nodes 1 and 2 never exchange: a row of
    // one reaches the other only through the master.
    let (streamed, needed, hashes, received) = run("star");
    assert_eq!((streamed, needed), (600, 600), "200 pulled + 400 pushed, each needed");
    assert_eq!(received[1], received[2], "the followers are served alike");
    let (_, all_needed, all_hashes, _) = run("all");
    assert_eq!(all_needed, 600);
    // Row hashes: 2 exchanges instead of 3.
    let ratio = hashes as f64 / all_hashes as f64;
    assert!((ratio - 2.0 / 3.0).abs() < 0.05, "hashes {hashes} vs {all_hashes}");
}
