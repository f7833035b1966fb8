//! Modelled faults: a crash loses the messages sent to the node and forces a rebuild
//! before the next comparison; replicas converge after a partition heals within the
//! bound the strategy implies; duplicates and reordering leave nothing behind; bitrot
//! is found by the trees and repaired; a fault-free scenario is untouched.

mod common;

use aesim::model::{Column, KeyRange};
use aesim::output::{faults_csv, latency_csv, summary_csv, timeseries_csv};
use aesim::run::run_scenario;
use aesim::sim::SimTime;
use aesim::world::World;

/// LOSSY's timing: 200 writes/s on 3 nodes, a monolithic cycle every 20 s whose scan
/// of 50,000 keys at 10 us takes 0.5 s; writes stop at 2 min.
const INTERVAL_NS: u64 = 20_000_000_000;
const PASS_NS: u64 = 500_000_000;

fn ms(millis: u64) -> SimTime {
    SimTime::from_nanos(millis * 1_000_000)
}

#[test]
fn a_crash_loses_what_is_sent_to_the_node_and_forces_a_rebuild() {
    let scenario = common::lossless_with("[[faults.crash]]\nnode = 1\nat = \"20s 200ms\"\nrestart = \"30s\"\n");
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    // The cycle of 20 s is scanning when node 1 crashes at 20.2 s: it is aborted.
    world.run_until(ms(20_300));
    assert_eq!(world.fault_counters().sessions_aborted, 1);
    assert_eq!(world.counters().sessions, 1, "only the cycle of 0 s finished");
    let builds = world.counters().tree_builds;
    assert_eq!(builds, 6, "two cycles of three builds started");
    let all = KeyRange::new(0, 50_000);
    let node1: Vec<_> = world.replicas().records(Column(1), all).collect();

    world.run_until(ms(29_999));
    // Without loss, every divergent key is a record node 1 missed while down (give or
    // take a write in flight).
    let stale = world.replicas().divergent_keys();
    let lost = world.fault_counters().lost_to_crash;
    let redirected = world.fault_counters().writes_redirected;
    // ~1,960 writes in 9.8 s, each replicated to node 1 by a live coordinator; the third
    // whose client chose node 1 is redirected (3 standard deviations either side).
    assert!((1_830..=2_090).contains(&lost), "{lost} messages lost to the crash");
    assert!((580..=730).contains(&redirected), "{redirected} writes redirected");
    assert_eq!(
        world.replicas().records(Column(1), all).collect::<Vec<_>>(),
        node1,
        "nothing reached node 1 while it was down"
    );
    assert_eq!(
        world.counters().tree_builds,
        builds,
        "no comparison while a node is down"
    );
    assert_eq!(world.counters().sessions, 1);

    // At the restart the waiting session starts over: every node rebuilds its tree.
    world.run_until(SimTime::from_secs(30));
    assert_eq!(world.counters().tree_builds, builds + 3);
    assert_eq!(world.counters().sessions, 1, "the comparison waits for the rebuild");
    world.run_until(ms(31_000));
    assert_eq!(world.counters().sessions, 2);
    let repaired = world.fault_counters().repaired_after_crash;
    // The zipf workload hits hot keys many times, so the lost messages left fewer stale
    // keys; that session repairs all of them but the few rewritten meanwhile (which
    // replication fixed first).
    assert!(stale > 800 && stale < lost, "{stale} stale keys");
    assert!(
        repaired > stale * 9 / 10 && repaired <= stale,
        "{repaired} of {stale} repaired"
    );
    assert_eq!(world.replicas().divergent_keys(), 0);

    let result = world.run().expect("invariants hold");
    assert_eq!(result.divergent_at_end, 0);
    assert_eq!(result.faults.unwrap().crashes, 1);
}

#[test]
fn replicas_converge_after_a_partition_within_one_interval_and_pass() {
    let scenario = common::lossless_with("[[faults.partition]]\nstart = \"30s\"\nend = \"60s\"\nisolate = [2]\n");
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    world.run_until(ms(59_999));
    let lost = world.fault_counters().lost_to_partition;
    // 6,000 writes in 30 s; a write on node 2 loses 2 messages, one elsewhere loses 1.
    assert!((7_700..=8_300).contains(&lost), "{lost} messages lost to the partition");
    let divergent = world.replicas().divergent_keys();
    assert!(
        divergent > 2_000,
        "{divergent} keys divergent at the end of the partition"
    );
    assert_eq!(world.counters().sessions, 2, "the cycle of 40 s waits");

    let result = world.run().expect("invariants hold");
    let faults = result.faults.unwrap();
    assert_eq!(faults.partitions, 1);
    assert_eq!(faults.partitions_unhealed, 0);
    // The bound the strategy implies: the next cycle starts within one interval and
    // needs one pass (plus the walk and the streams). Here the waiting cycle starts the
    // moment the partition ends, so healing takes one pass and a little.
    let heal = faults.partition_heal_ns_max;
    assert!(heal <= INTERVAL_NS + PASS_NS + 1_000_000_000, "healed in {heal} ns");
    assert!(heal > PASS_NS && heal < PASS_NS + 500_000_000, "healed in {heal} ns");
    assert!(faults.repaired_after_partition > divergent * 9 / 10, "{faults:?}");
    assert_eq!(result.divergent_at_end, 0);
}

#[test]
fn duplicated_and_reordered_messages_leave_nothing_behind() {
    let scenario = common::lossless_with("[faults]\nduplicate = 0.3\nreorder = 0.3\nreorder_delay = \"50ms\"\n");
    let result = run_scenario(&scenario, 1)
        .expect("invariants hold, quiescence included")
        .remove(0);
    let faults = result.faults.unwrap();
    let messages = result.counters.replication_messages as f64;
    let duplicated = faults.duplicated_messages as f64 / messages;
    let reordered = faults.reordered_messages as f64 / messages;
    assert!((0.29..0.31).contains(&duplicated), "{duplicated}");
    assert!((0.29..0.31).contains(&reordered), "{reordered}");
    assert_eq!(result.counters.lost_messages, 0);
    assert_eq!(result.divergent_at_end, 0);
    // A held-back message keeps its key divergent for up to 50 ms more than the 5 ms
    // latency; anti-entropy never finds anything older.
    assert!(
        result.repair_latency.max_ns() <= 55_000_000,
        "{}",
        result.repair_latency.max_ns()
    );
}

#[test]
fn bitrot_is_found_by_the_trees_and_repaired() {
    let scenario = common::lossless_with("[faults]\nbitrot_per_s = 2.0\n");
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    // Writes stop at 2 min; the cycle of 2:00 repairs everything before it.
    world.run_until(ms(120_000));
    let before = world.fault_counters();
    assert!(
        (190..=290).contains(&(before.bitrot_corruptions + before.bitrot_skipped)),
        "~240 strikes in 2 min: {before:?}"
    );
    world.run_until(ms(139_999));
    let after = world.fault_counters();
    let late = after.bitrot_corruptions - before.bitrot_corruptions;
    assert!(late > 20, "strikes after the writes stopped: {after:?}");
    assert!(
        world.replicas().divergent_keys() >= late - 1,
        "every corruption is divergence"
    );
    // With no writes and no loss, only anti-entropy can repair these: the cycle of
    // 2:20 finds them by their leaves' hashes. Only strikes after its snapshot remain.
    world.run_until(ms(140_000));
    let at_snapshot = world.fault_counters().bitrot_corruptions;
    world.run_until(ms(141_000));
    let since_snapshot = world.fault_counters().bitrot_corruptions - at_snapshot;
    assert!(world.replicas().divergent_keys() <= since_snapshot);
    let repaired = world.fault_counters().bitrot_repaired;
    assert!(repaired >= before.bitrot_repaired + late, "{repaired}");
    let result = world.run().expect("invariants hold");
    assert!(result.faults.unwrap().bitrot_corruptions > 300);
}

#[test]
fn an_empty_faults_table_changes_no_byte() {
    let plain = common::scenario(common::LOSSY);
    let empty = common::scenario(&format!("{}\n[faults]\n", common::LOSSY));
    let a = run_scenario(&plain, 1).unwrap();
    let b = run_scenario(&empty, 1).unwrap();
    assert_eq!(summary_csv(&a), summary_csv(&b));
    assert_eq!(timeseries_csv(&a), timeseries_csv(&b));
    assert_eq!(latency_csv(&a), latency_csv(&b));
}

#[test]
fn faulty_runs_are_deterministic() {
    let scenario = common::scenario(common::FAULTY[0]);
    let a = run_scenario(&scenario, 1).unwrap();
    let b = run_scenario(&scenario, 2).unwrap();
    assert_eq!(faults_csv(&a), faults_csv(&b));
    assert_eq!(summary_csv(&a), summary_csv(&b));
    let text = String::from_utf8(faults_csv(&a)).unwrap();
    assert!(text.starts_with("strategy,crashes,"), "{text}");
    let f = a[0].faults.clone().unwrap();
    assert!(
        f.lost_to_crash > 0 && f.lost_to_partition > 0 && f.bitrot_corruptions > 0,
        "{f:?}"
    );
}

#[test]
fn a_live_tree_lost_in_a_crash_is_rebuilt_by_one_scan_per_segment() {
    let body = common::LOSSY.replace("loss = 0.05", "loss = 0.0").replace(
        "kind = \"monolithic\"\nname = \"mono\"\nleaves = 256\ninterval = \"20s\"",
        "kind = \"segmented\"\nname = \"live\"\nsegments = 4\nleaves = 64\nworkers = 1\ntree = \"live\"\ninterval = \"5s\"",
    );
    let scenario = common::scenario(&format!(
        "{body}\n[[faults.crash]]\nnode = 1\nat = \"20s\"\nrestart = \"30s\"\n"
    ));
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    world.run_until(ms(19_999));
    assert!(world.counters().sessions > 4, "live sessions ran before the crash");
    assert_eq!(world.counters().tree_builds, 0, "live trees are never scanned");
    // After the restart, node 1's tree of each segment is rebuilt once by a scan of the
    // segment (12,500 keys); the other nodes' live trees were never lost.
    world.run_until(SimTime::from_secs(60));
    assert_eq!(world.counters().tree_builds, 4);
    assert_eq!(world.counters().keys_scanned, 50_000);
    assert_eq!(world.replicas().divergent_keys(), 0, "the crash's losses are repaired");
    world.run_until(SimTime::from_secs(120));
    assert_eq!(world.counters().tree_builds, 4, "rebuilt trees stay live");
    let result = world.run().expect("invariants hold");
    assert!(result.faults.unwrap().repaired_after_crash > 800);
}
