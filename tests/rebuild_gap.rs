//! Scheduled rebuilds: a write after the snapshot waits for the next cycle.

mod common;

use aesim::sim::SimTime;
use aesim::world::World;

/// 1,000 keys at 1 ms per key: each build takes 1 s; a cycle starts every 10 s.
const GAP: &str = r#"
name = "gap"
seed = 3
duration = "30s"
[cluster]
keys = 1_000
scan_cost_per_key = "1ms"
[network]
latency = { kind = "constant", value = "1ms" }
[workload]
writes_per_s = 0.0
[[strategy]]
kind = "monolithic"
leaves = 64
interval = "10s"
"#;

fn world() -> World {
    let scenario = common::scenario(GAP);
    World::new(&scenario, &scenario.strategies[0])
}

#[test]
fn a_write_just_after_the_snapshot_waits_for_the_next_cycle() {
    let mut world = world();
    // The first cycle's snapshot is taken at t = 0; this write lands 1 ms later, while
    // the trees are still being built, and its replication message is lost.
    world.schedule_write(SimTime::from_nanos(1_000_000), 500, 0, true);
    world.run_until(SimTime::from_secs(9));
    assert_eq!(world.counters().sessions, 1, "the first cycle has finished");
    assert_eq!(world.replicas().divergent_keys(), 1, "and did not see the write");
    world.run_until(SimTime::from_secs(12));
    assert_eq!(world.replicas().divergent_keys(), 0, "the second cycle repaired it");
    // Diverged at 0.001 s; the second snapshot at 10 s, built by 11 s, then two round
    // trips (root and one level of 64 leaves... 7 levels) and the stream, 1 ms each way.
    let latency = world.repair_latency().max_ns();
    assert!(
        (11_000_000_000..11_100_000_000).contains(&latency),
        "latency {latency} ns"
    );
}

#[test]
fn a_write_just_before_the_snapshot_is_repaired_in_that_cycle() {
    let mut world = world();
    world.schedule_write(SimTime::from_nanos(9_999_000_000), 500, 0, true);
    world.run_until(SimTime::from_secs(12));
    assert_eq!(world.replicas().divergent_keys(), 0);
    let latency = world.repair_latency().max_ns();
    assert!(
        (1_000_000_000..1_100_000_000).contains(&latency),
        "latency {latency} ns"
    );
}
