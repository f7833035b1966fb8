//! Segmented, parallel, prioritised, misaligned and live-tree strategies: the figures the
//! lesson predicts, measured.

mod common;

use aesim::metrics::StrategyResult;
use aesim::output::summary_csv;
use aesim::run::run_scenario;
use aesim::sim::SimTime;
use aesim::strategy::StrategyKind;
use aesim::world::World;

/// A scenario over 10^6 keys scanned at 2.4 us/key (a full pass is 2.4 s), 8 cores per
/// node, 1 ms links; `network` and `workload` are extra lines for those tables.
fn scenario_text(name: &str, duration: &str, network: &str, workload: &str, strategies: &str) -> String {
    format!(
        r#"name = "{name}"
seed = 5
duration = "{duration}"
sample_interval = "10s"
[cluster]
keys = 1_000_000
cores = 8
scan_cost_per_key = "2.4us"
hash_cost = "2us"
[network]
latency = {{ kind = "constant", value = "1ms" }}
{network}
[workload]
{workload}
{strategies}"#
    )
}

fn run(body: &str) -> Vec<StrategyResult> {
    run_scenario(&common::scenario(body), 2).expect("invariants hold")
}

fn by_name<'a>(results: &'a [StrategyResult], name: &str) -> &'a StrategyResult {
    results.iter().find(|r| r.strategy == name).expect("strategy ran")
}

#[test]
fn aligned_segments_find_nothing_on_identical_replicas_and_misaligned_ones_always_do() {
    let body = scenario_text(
        "align",
        "30s",
        "",
        "writes_per_s = 0.0",
        r#"[[strategy]]
kind = "segmented"
name = "aligned"
segments = 100
leaves = 16
workers = 4
[[strategy]]
kind = "segmented"
name = "offset"
segments = 100
leaves = 16
workers = 4
misalignment = { kind = "offset", keys = 2_500 }
[[strategy]]
kind = "segmented"
name = "count"
segments = 100
leaves = 16
workers = 4
misalignment = { kind = "segments", peer_segments = 99 }
"#,
    );
    let scenario = common::scenario(&body);
    // Both nodes derive the same boundaries in aligned mode.
    let StrategyKind::Segmented(config) = &scenario.strategies[0].kind else {
        panic!("segmented")
    };
    assert_eq!(config.misalignment, aesim::strategy::Misalignment::Aligned);
    let results = run_scenario(&scenario, 2).unwrap();
    let aligned = by_name(&results, "aligned");
    assert!(aligned.counters.sessions >= 100, "at least one full pass");
    assert_eq!(aligned.counters.leaves_streamed, 0);
    assert_eq!(aligned.counters.records_streamed, 0);
    assert_eq!(
        aligned.counters.hashes_sent,
        2 * aligned.counters.sessions,
        "one root hash each way"
    );
    for name in ["offset", "count"] {
        let r = by_name(&results, name);
        // Every leaf of every comparison hashes a different key set: all flagged, all
        // streamed, none needed. The replicas are identical throughout.
        assert!(r.counters.sessions >= 100);
        // (Leaves are counted when streaming starts, sessions when they end: a few of the
        // last sessions are still streaming when the run ends.)
        let in_flight = r.counters.leaves_streamed - 16 * r.counters.sessions;
        assert!(in_flight <= 16 * 4, "{name}: {in_flight} leaves of unfinished sessions");
        assert_eq!(
            r.counters.clean_leaves_streamed, r.counters.leaves_streamed,
            "{name}: all false divergence"
        );
        assert_eq!(r.counters.records_needed, 0);
        assert!(r.counters.records_streamed > 10_000 * r.counters.sessions, "{name}");
        // The whole tree of 16 leaves (31 hashes), each way, every time.
        let extra_hashes = r.counters.hashes_sent - 2 * 31 * r.counters.sessions;
        assert!(
            extra_hashes <= 2 * 31 * 4,
            "{name}: {extra_hashes} hashes of unfinished sessions"
        );
    }
}

#[test]
fn a_segment_repairs_one_key_long_before_a_monolithic_pass_would() {
    let body = scenario_text(
        "single",
        "10s",
        "",
        "writes_per_s = 0.0",
        r#"[[strategy]]
kind = "monolithic"
leaves = 1024
interval = "0s"
[[strategy]]
kind = "segmented"
segments = 100
leaves = 16
"#,
    );
    let scenario = common::scenario(&body);
    let repaired_after = |strategy: usize, key: u64| {
        let mut world = World::new(&scenario, &scenario.strategies[strategy]);
        // The write lands just after the first snapshots were taken; its replication is lost.
        world.schedule_write(SimTime::from_nanos(1), key, 0, true);
        world.run_until(SimTime::from_secs(10));
        assert_eq!(world.replicas().divergent_keys(), 0);
        world.repair_latency().max_ns()
    };
    // Monolithic: the first pass (2.4 s scan) missed it; the second pass ends after 4.8 s.
    let monolithic = repaired_after(0, 25_000);
    assert!(
        (4_800_000_000..4_900_000_000).contains(&monolithic),
        "monolithic {monolithic} ns"
    );
    // Segmented: key 25,000 is in segment 2 of 100 (10,000 keys, 24 ms to scan). Its first
    // visit starts after segments 0 and 1 (about 26 ms each: scan plus one round trip)
    // and includes the write; the repair streams as soon as segment 2 is compared.
    let segmented = repaired_after(1, 25_000);
    assert!(
        (70_000_000..100_000_000).contains(&segmented),
        "segmented {segmented} ns"
    );
    // Even the last segment is repaired within one pass, before the monolithic scan ends.
    let last = repaired_after(1, 999_999);
    assert!((2_400_000_000..2_700_000_000).contains(&last), "last segment {last} ns");
    assert!(last < monolithic / 2 + 200_000_000);
}

fn workers_scenario(workers: &[u32], network: &str, workload: &str) -> String {
    let strategies: String = workers
        .iter()
        .map(|w| {
            format!("[[strategy]]\nkind = \"segmented\"\nname = \"w{w}\"\nsegments = 100\nleaves = 16\nworkers = {w}\n")
        })
        .collect();
    scenario_text("workers", "20s", network, workload, &strategies)
}

#[test]
fn parallel_speedup_is_within_ten_percent_of_the_worker_count() {
    let results = run(&workers_scenario(&[1, 2, 4, 8, 16], "", "writes_per_s = 0.0"));
    let pass = |name: &str| by_name(&results, name).counters.mean_full_pass_ns() as f64;
    let one = pass("w1");
    // 100 segments x (10,000 keys x 2.4 us + one 2 ms round trip) = 2.6 s.
    assert!((2.59e9..2.61e9).contains(&one), "one worker: {one} ns");
    for w in [2u32, 4, 8] {
        let speedup = one / pass(&format!("w{w}"));
        assert!(
            (0.9 * f64::from(w)..=1.1 * f64::from(w)).contains(&speedup),
            "{w} workers on 8 cores: speedup {speedup:.2}"
        );
    }
    // 16 workers on 8 cores: builds queue for cores, so no more than 8x (plus the
    // exchanges that overlap with scans).
    let sixteen = one / pass("w16");
    assert!(sixteen < 8.8, "16 workers on 8 cores: speedup {sixteen:.2}");
}

#[test]
fn hottest_first_repairs_hot_keys_faster_and_cold_segments_still_get_visited() {
    let body = scenario_text(
        "hot",
        "5min",
        "loss = 0.02",
        "writes_per_s = 400.0\nkeys = { kind = \"hotspot\", key_fraction = 0.02, write_fraction = 0.9 }",
        r#"[[strategy]]
kind = "segmented"
name = "round-robin"
segments = 100
leaves = 16
workers = 2
[[strategy]]
kind = "segmented"
name = "hottest-first"
segments = 100
leaves = 16
workers = 2
policy = "hottest_first"
max_interval = "20s"
[[strategy]]
kind = "segmented"
name = "age-weighted"
segments = 100
leaves = 16
workers = 2
policy = "age_weighted"
max_interval = "20s"
"#,
    );
    let results = run(&body);
    let rr = by_name(&results, "round-robin");
    assert!(rr.hot_repair_latency.count() > 300, "enough hot repairs to compare");
    for name in ["hottest-first", "age-weighted"] {
        let r = by_name(&results, name);
        let (hot, rr_hot) = (
            r.hot_repair_latency.quantile_ns(0.99),
            rr.hot_repair_latency.quantile_ns(0.99),
        );
        assert!(hot * 2 < rr_hot, "{name}: hot p99 {hot} ns vs round robin {rr_hot} ns");
        // The starvation bound: no segment waits more than max_interval (20 s). Starved
        // segments are served a full sweep early (100 segments x ~26 ms / 2 workers, about
        // 1.3 s), so cold segments wait 18 to 20 s between comparisons.
        let gap = r.counters.max_revisit_gap_ns;
        assert!((18_000_000_000..=20_000_000_000).contains(&gap), "{name}: gap {gap} ns");
        assert!(r.cold_repair_latency.count() > 0);
    }
}

#[test]
fn adding_a_strategy_does_not_change_the_others() {
    let one = run(&workers_scenario(&[2], "loss = 0.05", "writes_per_s = 300.0"));
    let three = run(&workers_scenario(&[1, 2, 4], "loss = 0.05", "writes_per_s = 300.0"));
    let row = |results: &[StrategyResult]| {
        let csv = String::from_utf8(summary_csv(results)).unwrap();
        csv.lines().find(|l| l.starts_with("w2,")).unwrap().to_string()
    };
    assert!(one[0].counters.lost_messages > 100);
    assert_eq!(row(&one), row(&three));
    assert_eq!(one[0].samples, by_name(&three, "w2").samples);
}

#[test]
fn live_trees_pay_on_the_write_path_and_skip_the_scan() {
    let body = scenario_text(
        "live",
        "60s",
        "loss = 0.05",
        "writes_per_s = 200.0",
        r#"[[strategy]]
kind = "monolithic"
name = "scheduled"
leaves = 64
interval = "5s"
[[strategy]]
kind = "monolithic"
name = "live"
leaves = 64
interval = "5s"
tree = "live"
"#,
    );
    let results = run(&body);
    let (scheduled, live) = (by_name(&results, "scheduled"), by_name(&results, "live"));
    assert_eq!(scheduled.counters.write_path_hash_ops, 0);
    assert_eq!(live.counters.keys_scanned, 0, "a live tree is never scanned");
    // Every changed record (client writes, replication, repairs) rehashes its leaf and
    // the 6 levels above it: 7 hashes of 2 us each.
    let delivered = live.counters.replication_messages - live.counters.lost_messages;
    let changes = live.counters.writes + delivered + live.counters.records_applied;
    let ops = live.counters.write_path_hash_ops;
    assert!(
        ops <= 7 * changes && ops > 7 * (changes - changes / 100),
        "{ops} hashes for {changes} changes"
    );
    assert_eq!(live.counters.write_path_hash_ns, 2_000 * ops);
    // Without the 2.4 s scan before each comparison, lost writes are repaired sooner. Not
    // by the full scan time: streams carry current data, so a write made during the scan
    // into a leaf that differs anyway is repaired along with it.
    for q in [0.5, 0.99] {
        let (s, l) = (
            scheduled.repair_latency.quantile_ns(q),
            live.repair_latency.quantile_ns(q),
        );
        assert!(s > l + 1_000_000_000, "q{q}: scheduled {s} ns vs live {l} ns");
    }
}

#[test]
fn misaligned_boundaries_cost_bytes_but_still_repair_every_key() {
    let strategy = |name: &str, misalignment: &str| {
        format!(
            "[[strategy]]\nkind = \"segmented\"\nname = \"{name}\"\nsegments = 100\nleaves = 16\nworkers = 4\n{misalignment}\n"
        )
    };
    let strategies = [
        strategy("aligned", ""),
        strategy("offset", "misalignment = { kind = \"offset\", keys = 30_000 }"),
        strategy("count", "misalignment = { kind = \"segments\", peer_segments = 20 }"),
    ]
    .concat();
    let body = scenario_text(
        "misaligned",
        "60s",
        "loss = 0.05",
        "writes_per_s = 300.0\nstop_at = \"30s\"",
        &strategies,
    );
    let results = run(&body);
    let aligned = by_name(&results, "aligned");
    assert!(aligned.counters.keys_repaired > 100);
    for name in ["aligned", "offset", "count"] {
        let r = by_name(&results, name);
        // Each side's segments tile the key space, so every lost write is found.
        assert_eq!(r.divergent_at_end, 0, "{name}: unrepaired keys");
        if name != "aligned" {
            assert!(
                r.counters.clean_leaves_streamed > 10 * aligned.counters.clean_leaves_streamed.max(1),
                "{name}"
            );
            assert!(
                r.counters.records_streamed > 10 * aligned.counters.records_streamed,
                "{name}"
            );
        }
    }
}

#[test]
fn the_starvation_bound_holds_from_the_first_sweep_without_writes() {
    let strategies = ["hottest_first", "age_weighted"]
        .map(|policy| {
            format!(
                "[[strategy]]\nkind = \"segmented\"\nname = \"{policy}\"\nsegments = 100\nleaves = 16\nworkers = 1\npolicy = \"{policy}\"\nmax_interval = \"20s\"\n"
            )
        })
        .concat();
    let results = run(&scenario_text("starved", "70s", "", "writes_per_s = 0.0", &strategies));
    for r in &results {
        // Nothing is ever written, so only the bound schedules comparisons: a sweep of
        // 100 x 26 ms ahead of each deadline, never after it.
        assert!(
            r.counters.max_revisit_gap_ns <= 20_000_000_000,
            "{}: {}",
            r.strategy,
            r.counters.max_revisit_gap_ns
        );
        assert!(
            r.counters.sessions >= 300,
            "{}: every segment visited about every 17 s",
            r.strategy
        );
    }
}

#[test]
fn busy_cores_are_integrated_over_time_between_samples() {
    // Each monolithic build scans 10^6 keys at 2.4 us: a core held for 2.4 s, two
    // nodes per session. Whenever a sample finds no build running, the integral of
    // busy cores is exactly the builds so far times 2.4 s.
    let body = scenario_text(
        "busy",
        "2min",
        "",
        "writes_per_s = 50.0",
        "[[strategy]]\nkind = \"monolithic\"\nleaves = 1024\ninterval = \"7s\"\n",
    );
    let result = &run(&body)[0];
    let idle: Vec<_> = result.samples.iter().filter(|s| s.cores_busy == 0).collect();
    assert!(idle.len() >= 3, "some samples between builds");
    for sample in idle {
        let builds = u128::from(sample.counters.tree_builds);
        assert!(builds > 0 || sample.time == SimTime::ZERO);
        assert_eq!(sample.cores_busy_ns, builds * 2_400_000_000, "at {}", sample.time);
    }
    // The time series reports the mean over each interval: summed back, the integral.
    let csv = String::from_utf8(aesim::output::timeseries_csv(std::slice::from_ref(result))).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let (time, mean) = (
        header.iter().position(|&h| h == "time_s").unwrap(),
        header.iter().position(|&h| h == "cores_busy_mean").unwrap(),
    );
    let mut previous = 0.0;
    let mut integral = 0.0;
    for line in csv.lines().skip(1) {
        let cells: Vec<f64> = line.split(',').skip(1).map(|c| c.parse().unwrap()).collect();
        let (t, m) = (cells[time - 1], cells[mean - 1]);
        assert!((0.0..=2.0).contains(&m), "at most both nodes' cores: {m}");
        integral += m * (t - previous);
        previous = t;
    }
    let last = result.samples.last().unwrap();
    assert!((integral - last.cores_busy_ns as f64 / 1e9).abs() < 1e-3, "{integral}");
}

#[test]
fn a_receiver_applies_its_streams_one_after_another_at_the_apply_cost_per_record() {
    let scenario = |apply: &str| {
        let text = scenario_text(
            "apply",
            "60s",
            "loss = 0.01",
            "writes_per_s = 200.0",
            r#"[[strategy]]
kind = "monolithic"
leaves = 1024
interval = "10s""#,
        )
        .replace(
            "hash_cost = \"2us\"",
            &format!("hash_cost = \"2us\"\napply_cost_per_record = \"{apply}\""),
        );
        run(&text)
    };
    let (free, costly) = (scenario("0s"), scenario("10us"));
    let (free, costly) = (&free[0], &costly[0]);
    // The same divergences are found and repaired, each later: a divergent leaf of
    // 10^6 / 1024 = 976 keys is streamed whole, and its receiver takes 976 x 10 us =
    // 9.76 ms to apply it, after the streams it received before.
    assert!(free.counters.keys_repaired > 50, "{}", free.counters.keys_repaired);
    assert_eq!(free.counters.records_streamed, costly.counters.records_streamed);
    let delay = costly.repair_latency.quantile_ns(0.5) - free.repair_latency.quantile_ns(0.5);
    let one_stream = 976 * 10_000;
    let all_streams = free.counters.records_streamed * 10_000;
    assert!(
        (one_stream..=all_streams).contains(&delay),
        "p50 later by {delay} ns; one stream applies in {one_stream} ns, all of them in {all_streams} ns"
    );
}
