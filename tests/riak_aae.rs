//! Riak's active anti-entropy in the world: Tictac's double compare leaves a write in
//! flight to replication and repairs a lost one; classic AAE's rebuild wave delays
//! repairs while exchanges of rebuilding partitions pause.

mod common;

use aesim::run::run_scenario;
use aesim::sim::SimTime;
use aesim::world::World;

/// Two nodes holding every key, every message `latency` on the wire, no workload; node
/// 0's manager ticks at 7.5 s, 22.5 s, 37.5 s... (a 15 s tick, classic AAE's, rather
/// than Tictac's 480 s).
fn world_with(latency: &str, strategy: &str) -> World {
    let scenario = common::scenario(&format!(
        r#"name = "tictac-in-flight"
seed = 1
duration = "60s"
sample_interval = "5s"
[cluster]
keys = 1_000
[network]
latency = {{ kind = "constant", value = "{latency}" }}
[workload]
writes_per_s = 0.0
[[strategy]]
kind = "riak_aae"
tick = "15s"
{strategy}
"#
    ));
    World::new(&scenario, &scenario.strategies[0])
}

fn world(strategy: &str) -> World {
    world_with("2s", strategy)
}

#[test]
fn a_cap_on_segments_per_exchange_spreads_a_large_divergence_over_exchanges() {
    // Five lost writes before the first exchange; each exchange repairs at most two
    // differing segments (Tictac's max_results), so 2 + 2 + 1 over three ticks (each
    // repair lands just after the second look, 1 s after the tick).
    let mut world = world_with(
        "1ms",
        "reconciler = \"tictac\"\ntictac_max_segments = 2\ntictac_pause = \"1s\"",
    );
    for (i, key) in [10, 200, 400, 600, 800].into_iter().enumerate() {
        world.schedule_write(SimTime::from_secs(1 + i as u64), key, 0, true);
    }
    let mut divergent = Vec::new();
    for at in [7, 9, 24, 39, 54] {
        world.run_until(SimTime::from_secs(at));
        divergent.push(world.replicas().divergent_keys());
    }
    assert_eq!(divergent, vec![5, 3, 1, 0, 0]);
    world.check_invariants().expect("invariants hold");
}

/// A write at 5 s whose replication is lost (repaired by the 7.5 s exchange, whose four
/// round trips and stream last until 25.5 s, so the 22.5 s tick finds the partition
/// busy), and one at 36 s whose replication arrives at 38 s (in flight at the 37.5 s
/// exchange); returns (records streamed, records needed) after the run.
fn exchange(strategy: &str) -> (u64, u64) {
    let mut world = world(strategy);
    world.schedule_write(SimTime::from_secs(5), 10, 0, true);
    world.schedule_write(SimTime::from_secs(36), 700, 0, false);
    world.run_until(SimTime::from_secs(60));
    world.check_invariants().expect("invariants hold");
    assert_eq!(world.replicas().divergent_keys(), 0);
    let c = world.counters();
    (c.records_streamed, c.records_needed)
}

#[test]
fn the_double_compare_leaves_a_write_in_flight_to_replication() {
    // One look at 37.5 s sees key 700 on node 0 only, and streams it (after 16 s of
    // round trips replication has delivered it: streamed, not needed); the lost key 10
    // was repaired at the 7.5 s exchange.
    let (streamed, needed) = exchange("reconciler = \"tictac\"\ntictac_pause = \"0s\"");
    assert_eq!((streamed, needed), (2, 1));
    // Two looks 1 s apart: at 38.5 s replication has arrived, so key 700 is not
    // confirmed and not streamed; the lost write is still repaired.
    let (streamed, needed) = exchange("reconciler = \"tictac\"\ntictac_pause = \"1s\"");
    assert_eq!((streamed, needed), (1, 1));
}

#[test]
fn classic_aae_repairs_later_during_its_rebuild_wave_than_without_expiry() {
    let body = |expire: &str| {
        format!(
            r#"name = "riak-wave"
seed = 4
duration = "20min"
sample_interval = "30s"
[cluster]
nodes = 6
keys = 120_000_000
cores = 2
scan_cost_per_key = "12us"
replication_factor = 3
vnodes = 2
[network]
loss = 0.02
[workload]
writes_per_s = 10.0
[[strategy]]
kind = "riak_aae"
expire = "{expire}"
build_limit_period = "5min"
"#
        )
    };
    // Partitions of 10^7 keys: a rebuild scans for 120 s; trees expire at 5 min, and
    // each node rebuilds one per 5 min.
    let waves = run_scenario(&common::scenario(&body("5min")), 1).expect("runs");
    let steady = run_scenario(&common::scenario(&body("never")), 1).expect("runs");
    let (waves, steady) = (&waves[0], &steady[0]);
    // Without expiry each partition is exchanged every 30 s (two managed partitions per
    // node, one per 15 s tick): no repair waits longer.
    assert!(
        steady.repair_latency.max_ns() <= 31_000_000_000,
        "{}",
        steady.repair_latency.max_ns()
    );
    assert_eq!(steady.counters.tree_builds, 0);
    // With the wave (19 of the 36 trees rebuilt in 15 min, one per node per 5 min),
    // repairs of partitions with a tree rebuilding wait for it: minutes, not seconds
    // (165 s here).
    assert_eq!(waves.counters.tree_builds, 19);
    assert!(
        waves.repair_latency.max_ns() > 120_000_000_000,
        "{}",
        waves.repair_latency.max_ns()
    );
}
