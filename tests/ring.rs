//! Token rings: placement (every key on exactly RF nodes, nodes x vnodes ranges, even
//! ownership with balanced tokens), pairwise repair (how many pairs compare), local
//! faults (a crash stalls only the ranges the node replicates), Reaper's per-node
//! concurrency limit, and the ring with every node holding every key being exactly the
//! model without a ring.

use aesim::output::{latency_csv, summary_csv, timeseries_csv};
use aesim::run::run_scenario;
use aesim::scenario::Scenario;
use aesim::sim::SimTime;
use aesim::world::World;
use std::collections::BTreeSet;

/// Six nodes, RF 3, 16 balanced vnodes each, 1% loss; `extra` is appended (strategies,
/// faults) and `cluster` replaces the ring lines.
fn ring_scenario(cluster: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"name = "ring"
seed = 11
duration = "4min"
sample_interval = "5s"
[cluster]
nodes = 6
keys = 600_000
cores = 2
scan_cost_per_key = "1us"
{cluster}
[network]
loss = 0.01
[workload]
writes_per_s = 200.0
stop_at = "3min"
{extra}"#
    );
    Scenario::parse(&text, "ring.toml").unwrap_or_else(|e| panic!("{e}"))
}

const RF3: &str = "replication_factor = 3\nvnodes = 16";

const MONOLITHIC: &str = r#"
[[strategy]]
kind = "monolithic"
name = "mono"
leaves = 64
interval = "20s"
"#;

#[test]
fn every_key_lives_on_exactly_rf_nodes_and_ranges_number_nodes_times_vnodes() {
    let scenario = ring_scenario(RF3, MONOLITHIC);
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    world.run_until(SimTime::from_secs(60));
    let ring = world.ring();
    assert_eq!(ring.token_ranges(), 6 * 16);
    let token_ranges: BTreeSet<usize> = ring.pieces().iter().map(|p| p.token_range).collect();
    assert_eq!(token_ranges.len(), 96);
    assert_eq!(world.replicas().nodes(), 3, "the table keeps one column per replica");
    for key in (0..600_000).step_by(997) {
        let replicas: BTreeSet<usize> = ring.replicas_of(key).iter().copied().collect();
        assert_eq!(replicas.len(), 3, "key {key} is stored on 3 distinct nodes");
        let holders = (0..6).filter(|&n| ring.position(n, key).is_some()).count();
        assert_eq!(holders, 3, "and on no other node");
    }
    let ownership = ring.ownership();
    for share in &ownership.per_node {
        assert!(
            (share - 0.5).abs() < 1e-4,
            "balanced tokens: each node owns RF/N = 1/2, got {share}"
        );
    }
    assert!(world.replicas().stored_keys() > 0);
    world.check_invariants().unwrap();
}

#[test]
fn random_tokens_skew_ownership_and_balanced_do_not() {
    let random = ring_scenario("replication_factor = 3\nvnodes = 4\ntokens = \"random\"", MONOLITHIC);
    let balanced = ring_scenario("replication_factor = 3\nvnodes = 4", MONOLITHIC);
    let skew = |s: &Scenario| World::new(s, &s.strategies[0]).ring().ownership().stdev;
    assert!(skew(&random) > 0.01, "random tokens: stdev {}", skew(&random));
    assert!(skew(&balanced) < 1e-4, "balanced tokens: stdev {}", skew(&balanced));
}

/// Round trips of the first monolithic cycle, with no write yet: every pair compares
/// equal roots, one round trip each.
fn first_cycle_round_trips(pairs: &str) -> (u64, u64) {
    let strategy = format!("{MONOLITHIC}pairs = \"{pairs}\"\n");
    let text_scenario = ring_scenario("replication_factor = 3\nvnodes = 1", &strategy);
    let mut scenario = text_scenario;
    scenario.workload.writes_per_s = 0.0;
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    world.run_until(SimTime::from_secs(10));
    (world.counters().round_trips, world.counters().sessions)
}

#[test]
fn all_pairs_compare_three_pairs_per_range_chain_two_and_ring_three() {
    // Six token ranges (one vnode per node), each on three replicas.
    assert_eq!(first_cycle_round_trips("all"), (6 * 3, 6));
    assert_eq!(first_cycle_round_trips("chain"), (6 * 2, 6));
    assert_eq!(first_cycle_round_trips("ring"), (6 * 3, 6));
}

#[test]
fn a_crash_stalls_only_the_ranges_the_node_replicates() {
    let crash = "[faults]\n[[faults.crash]]\nnode = 0\nat = \"30s\"\nrestart = \"2min 30s\"\n";
    let scenario = ring_scenario(RF3, &format!("{MONOLITHIC}{crash}"));
    let results = run_scenario(&scenario, 1).unwrap();
    let ring = results[0].ring.as_ref().expect("a ring scenario reports its ranges");
    let mut with_node0 = 0;
    for range in &ring.ranges {
        let gap_s = range.max_unrepaired_ns as f64 / 1e9;
        if range.replicas.contains(&0) {
            with_node0 += 1;
            // Last repaired at 20 s, next after the restart at 150 s: 130 s or more.
            assert!(gap_s >= 129.0, "range {:?} with node 0 waited {gap_s} s", range.keys);
        } else {
            // The others keep their 20 s cycle.
            assert!(gap_s <= 21.0, "range {:?} without node 0 waited {gap_s} s", range.keys);
        }
    }
    assert_eq!(with_node0, 48, "node 0 replicates half of the 96 ranges");
}

#[test]
fn segments_on_a_crashed_node_are_postponed_and_the_rest_keep_their_bound() {
    // Hottest first with a 30 s starvation bound; node 0 down from 30 s to 150 s. The
    // segments it replicates are postponed (not started, or taken back when the crash
    // stops them) and the workers serve the rest.
    let strategy = "[[strategy]]\nkind = \"segmented\"\nname = \"seg\"\nsegments = 192\nleaves = 16\n\
                    workers = 4\npolicy = \"hottest_first\"\nmax_interval = \"30s\"\n";
    let crash = "[faults]\n[[faults.crash]]\nnode = 0\nat = \"30s\"\nrestart = \"2min 30s\"\n";
    let scenario = ring_scenario(RF3, &format!("{strategy}{crash}"));
    let results = run_scenario(&scenario, 1).unwrap();
    let ring = results[0].ring.as_ref().unwrap();
    for range in &ring.ranges {
        let gap_s = range.max_unrepaired_ns as f64 / 1e9;
        if range.replicas.contains(&0) {
            assert!(
                gap_s >= 119.0,
                "range {:?} with node 0 waited only {gap_s} s",
                range.keys
            );
        } else {
            assert!(gap_s <= 31.0, "range {:?} without node 0 waited {gap_s} s", range.keys);
        }
    }
    assert_eq!(
        results[0].divergent_at_end, 0,
        "after the restart everything is repaired"
    );
}

#[test]
fn the_per_node_session_limit_holds_at_every_instant() {
    let segmented = |limit: &str| {
        format!(
            "[[strategy]]\nkind = \"segmented\"\nname = \"seg\"\nsegments = 192\nleaves = 16\nworkers = 6\n{limit}\n"
        )
    };
    let limited = ring_scenario(RF3, &segmented("max_sessions_per_node = 1"));
    let mut world = World::new(&limited, &limited.strategies[0]);
    world.run_until(SimTime::from_secs(240));
    assert!(world.violation().is_none(), "{:?}", world.violation());
    assert_eq!(world.peak_node_sessions(), 1, "Reaper's rule: one session per node");
    assert!(world.counters().sessions > 1_000, "and repair still runs");

    let unlimited = ring_scenario(RF3, &segmented(""));
    let mut world = World::new(&unlimited, &unlimited.strategies[0]);
    world.run_until(SimTime::from_secs(240));
    assert!(
        world.peak_node_sessions() > 1,
        "without the limit six workers overlap on nodes"
    );
}

#[test]
fn a_ring_where_every_node_holds_every_key_is_the_model_without_a_ring() {
    let plain = ring_scenario("", MONOLITHIC);
    let ring = ring_scenario("replication_factor = 6\nvnodes = 8\ntokens = \"random\"", MONOLITHIC);
    let a = run_scenario(&plain, 1).unwrap();
    let b = run_scenario(&ring, 1).unwrap();
    assert!(a[0].ring.is_none() && b[0].ring.is_some());
    assert_eq!(summary_csv(&a), summary_csv(&b));
    assert_eq!(timeseries_csv(&a), timeseries_csv(&b));
    assert_eq!(latency_csv(&a), latency_csv(&b));
}

#[test]
fn writes_forwarded_by_a_non_replica_are_acknowledged_and_repaired() {
    let scenario = ring_scenario(RF3, MONOLITHIC);
    let results = run_scenario(&scenario, 1).unwrap();
    let c = &results[0].counters;
    // Half the nodes hold a key: about half of the writes are forwarded.
    let share = c.writes_forwarded as f64 / c.writes as f64;
    assert!((0.45..0.55).contains(&share), "forwarded share {share}");
    // Forwarded writes send RF messages, the others RF - 1.
    assert_eq!(c.replication_messages, 2 * c.writes + c.writes_forwarded);
    assert!(c.keys_repaired > 0);

    let replica = ring_scenario(&format!("{RF3}\ncoordinator = \"replica\""), MONOLITHIC);
    let results = run_scenario(&replica, 1).unwrap();
    assert_eq!(
        results[0].counters.writes_forwarded, 0,
        "token-aware clients write to a replica"
    );
}

#[test]
fn ring_runs_are_deterministic() {
    let scenario = ring_scenario(
        "replication_factor = 3\nvnodes = 8\ntokens = \"random\"\nracks = 3",
        &format!("{MONOLITHIC}order = \"node_by_node\"\n"),
    );
    let a = run_scenario(&scenario, 1).unwrap();
    let b = run_scenario(&scenario, 2).unwrap();
    assert_eq!(aesim::output::nodes_csv(&a), aesim::output::nodes_csv(&b));
    assert_eq!(aesim::output::ranges_csv(&a), aesim::output::ranges_csv(&b));
    assert_eq!(summary_csv(&a), summary_csv(&b));
}

#[test]
fn round_robin_segments_stopped_by_crashes_still_complete_their_passes() {
    // Back-to-back round robin on a ring: passes overlap (the next one opens while the
    // last segments of the previous are in flight), and crashes stop sessions of both.
    // Six ranges of 100,000 keys, two segments each: 50 ms scans, so a crash often
    // stops a segment of the previous pass after the next pass has opened.
    let strategy = "[[strategy]]\nkind = \"segmented\"\nname = \"seg\"\nsegments = 12\nleaves = 16\nworkers = 4\n";
    let crashes: String = (0..40)
        .map(|i| {
            format!(
                "[[faults.crash]]\nnode = {}\nat = \"{}ms\"\nrestart = \"{}ms\"\n",
                i % 6,
                10_000 + i * 3_917,
                10_700 + i * 3_917
            )
        })
        .collect();
    let scenario = ring_scenario(
        "replication_factor = 3\nvnodes = 1",
        &format!("{strategy}[faults]\n{crashes}"),
    );
    let results = run_scenario(&scenario, 1).unwrap();
    let r = &results[0];
    assert!(
        r.faults.as_ref().unwrap().sessions_aborted > 0,
        "the crashes stopped sessions"
    );
    assert!(
        r.counters.full_passes > 10,
        "passes keep completing: {}",
        r.counters.full_passes
    );
    assert_eq!(r.divergent_at_end, 0, "writes stop at 3 min: everything is repaired");
}

#[test]
fn a_partition_stalls_only_the_ranges_it_cuts_under_reapers_rules() {
    // Node 4 is cut off from 60 s to 150 s. Reaper's rules see it unreachable: segments
    // with node 4 are neither started nor left holding workers, so the other ranges keep
    // their 30 s bound.
    let strategy = "[[strategy]]\nkind = \"segmented\"\nname = \"seg\"\nsegments = 192\nleaves = 16\n\
                    workers = 3\npolicy = \"hottest_first\"\nmax_interval = \"30s\"\nmax_sessions_per_node = 1\n";
    let partition = "[faults]\n[[faults.partition]]\nstart = \"60s\"\nend = \"150s\"\nisolate = [4]\n";
    let scenario = ring_scenario(RF3, &format!("{strategy}{partition}"));
    let results = run_scenario(&scenario, 1).unwrap();
    let ring = results[0].ring.as_ref().unwrap();
    for range in &ring.ranges {
        let gap_s = range.max_unrepaired_ns as f64 / 1e9;
        if !range.replicas.contains(&4) {
            assert!(gap_s <= 31.0, "range {:?} without node 4 waited {gap_s} s", range.keys);
        }
    }
    assert_eq!(results[0].divergent_at_end, 0);
}

/// Each node's primary ranges grouped by replica set (the sets Cassandra's common
/// ranges are): how many sessions one `nodetool repair -pr` per node makes.
fn common_range_groups(scenario: &Scenario) -> usize {
    let world = World::new(scenario, &scenario.strategies[0]);
    let ring = world.ring();
    let mut groups = BTreeSet::new();
    for piece in ring.pieces() {
        let replicas = &ring.replica_sets()[piece.replica_set];
        let mut set = replicas.clone();
        set.sort_unstable();
        groups.insert((replicas[0], set));
    }
    groups.len()
}

#[test]
fn node_by_node_repairs_common_ranges_in_one_session_and_range_by_range_one_per_range() {
    // apache/cassandra `repair/CommonRange.java`, `AbstractRepairTask.submitRepairSessions`:
    // since 3.0 a node's ranges that share replicas are one session, its overhead paid
    // once; before 3.0 each range was a session of its own, one after another.
    let with_order = |order: &str| {
        ring_scenario(
            RF3,
            &format!(
                "{}order = \"{order}\"\nsession_overhead = \"500ms\"\n",
                MONOLITHIC.replace("20s", "1min")
            ),
        )
    };
    let grouped = with_order("node_by_node");
    let groups = common_range_groups(&grouped);
    // 16 vnodes on 6 nodes: each node's 16 primary ranges fall into at most C(5, 2) =
    // 10 replica sets.
    assert!(groups <= 6 * 10, "{groups} groups");
    let grouped = run_scenario(&grouped, 1).unwrap();
    let single = run_scenario(&with_order("range_by_range"), 1).unwrap();
    let (g, s) = (&grouped[0].counters, &single[0].counters);
    // 4 min, a pass a minute: 4 passes each; 53 sessions a pass against 96 (one per
    // token range).
    assert_eq!(groups, 53);
    assert_eq!((g.full_passes, s.full_passes), (4, 4));
    assert_eq!((g.sessions, s.sessions), (4 * 53, 4 * 96));
    // Range by range pays 96 setups of 500 ms one after another (and 96 scans of 6,250
    // keys at 1 us); node by node one setup per node's turn, its ranges' scans on two
    // cores: 3.4 s against 49.9 s.
    let (g_pass, s_pass) = (g.mean_full_pass_ns() as f64 / 1e9, s.mean_full_pass_ns() as f64 / 1e9);
    assert!((48.0..52.0).contains(&s_pass), "range by range: {s_pass} s");
    assert!((3.0..4.0).contains(&g_pass), "node by node: {g_pass} s");
    for result in [&grouped[0], &single[0]] {
        let ring = result.ring.as_ref().unwrap();
        assert!(
            ring.ranges.iter().all(|r| r.max_unrepaired_ns <= 121_000_000_000),
            "every range is repaired every pass"
        );
    }
    assert_eq!(
        grouped[0].divergent_at_end, 0,
        "nothing left unrepaired (writes stop at 3 min)"
    );
}
