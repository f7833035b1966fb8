//! Reaper's knobs on the segmented strategy, measured: intensity stretches a pass by
//! its duty cycle, a segment timeout aborts and retries segments that run too long,
//! sequential repair builds one replica after another.

mod common;

use aesim::metrics::StrategyResult;
use aesim::run::run_scenario;

/// 10^6 keys on `nodes` nodes (every node holds every key), scanned at 2.4 us/key; no
/// writes; 10 segments of 100,000 keys (a build takes 0.24 s), one worker, passes
/// back to back; `knobs` are extra lines of each strategy.
fn run(nodes: u32, duration: &str, strategies: &[(&str, &str)]) -> Vec<StrategyResult> {
    let mut body = format!(
        r#"name = "reaper-knobs"
seed = 3
duration = "{duration}"
sample_interval = "10s"
[cluster]
nodes = {nodes}
keys = 1_000_000
cores = 8
scan_cost_per_key = "2.4us"
[network]
latency = {{ kind = "constant", value = "1ms" }}
[workload]
writes_per_s = 0.0
"#
    );
    for (name, knobs) in strategies {
        body.push_str(&format!(
            "[[strategy]]\nkind = \"segmented\"\nname = \"{name}\"\nsegments = 10\nleaves = 64\n{knobs}\n"
        ));
    }
    run_scenario(&common::scenario(&body), 2).expect("invariants hold")
}

fn by_name<'a>(results: &'a [StrategyResult], name: &str) -> &'a StrategyResult {
    results.iter().find(|r| r.strategy == name).expect("strategy ran")
}

#[test]
fn intensity_one_half_halves_the_passes_and_sleeps_as_long_as_it_works() {
    let results = run(
        2,
        "60s",
        &[
            ("full", ""),
            ("half", "intensity = 0.5"),
            ("quarter", "intensity = 0.25"),
        ],
    );
    let full = &by_name(&results, "full").counters;
    let half = &by_name(&results, "half").counters;
    let quarter = &by_name(&results, "quarter").counters;
    // A segment takes d = 0.24 s of scan plus a few ms of exchange: ~24.3 passes a minute.
    assert!((24..=25).contains(&full.full_passes), "{}", full.full_passes);
    // At intensity 0.5 every segment is followed by a pause as long as itself: a pass
    // is 10 segments and 9 pauses between them (the 10th pause opens the next pass).
    let ratio = half.mean_full_pass_ns() as f64 / full.mean_full_pass_ns() as f64;
    assert!((ratio - 1.9).abs() < 0.01, "pass time ratio {ratio}");
    // Over the run the work done halves (one segment in two units of time).
    assert!(half.sessions * 2 >= full.sessions - 2 && half.sessions * 2 <= full.sessions + 2);
    // At 0.25 the pause is 3 d: a pass is 10 d + 9 x 3 d = 37 d.
    let ratio = quarter.mean_full_pass_ns() as f64 / full.mean_full_pass_ns() as f64;
    assert!((ratio - 3.7).abs() < 0.02, "pass time ratio {ratio}");
}

#[test]
fn a_segment_timeout_grows_with_each_attempt_and_a_longer_one_changes_nothing() {
    let results = run(
        2,
        "10s",
        &[
            ("none", ""),
            ("short", "segment_timeout = \"100ms\""),
            ("long", "segment_timeout = \"30min\""),
        ],
    );
    let (none, short, long) = (
        &by_name(&results, "none").counters,
        &by_name(&results, "short").counters,
        &by_name(&results, "long").counters,
    );
    // Each visit needs 0.24 s of scan. Attempt k of a segment waits k x 100 ms
    // (thelastpickle/cassandra-reaper SegmentRunner.processTriggeredSegment:
    // `timeoutMillis * attempt`, attempt = fail count + 1): aborted at 100 ms and at
    // 200 ms, a segment finishes at its third attempt, after 0.1 + 0.2 + 0.245 s:
    // 18 segments in 10 s, two aborts each (and one of the 19th).
    assert_eq!(short.sessions, 18);
    assert_eq!(short.full_passes, 1);
    assert_eq!(short.sessions_timed_out, 2 * 18 + 1);
    // Two builds per visit: the completed ones, the aborted ones and the one running
    // at the end.
    assert_eq!(short.tree_builds, 2 * (short.sessions + short.sessions_timed_out + 1));
    // A timeout no segment reaches changes no figure.
    assert_eq!(long.sessions_timed_out, 0);
    assert_eq!(long.sessions, none.sessions);
    assert_eq!(long.full_pass_ns_total, none.full_pass_ns_total);
    assert_eq!(long.hashes_sent, none.hashes_sent);
}

#[test]
fn sequential_repair_builds_one_replica_at_a_time() {
    let results = run(
        3,
        "30s",
        &[
            ("parallel", "parallelism = \"parallel\""),
            ("sequential", "parallelism = \"sequential\""),
        ],
    );
    let parallel = &by_name(&results, "parallel").counters;
    let sequential = &by_name(&results, "sequential").counters;
    // Three replicas build 0.24 s each: side by side 0.24 s, one after another 0.72 s
    // (the exchange's few ms aside).
    let ratio = sequential.mean_full_pass_ns() as f64 / parallel.mean_full_pass_ns() as f64;
    assert!((2.9..3.0).contains(&ratio), "pass time ratio {ratio}");
    // The same builds, spread over three times as long.
    assert_eq!(sequential.keys_scanned / sequential.tree_builds, 100_000);
}

#[test]
fn a_scheduling_interval_starts_one_segment_per_wake_up() {
    // Reaper's repair runner starts at most one segment each time it wakes, every
    // repairManagerSchedulingIntervalSeconds (thelastpickle/cassandra-reaper
    // RepairRunner.startNextSegment, then RepairManager.scheduleRetry): ten segments of
    // 0.24 s start at 0, 1, ..., 9 s, so a pass takes 9.24 s instead of 2.4 s.
    let results = run(
        2,
        "30s",
        &[
            ("free", "workers = 4"),
            ("polled", "workers = 4\nscheduling_interval = \"1s\""),
        ],
    );
    let free = &by_name(&results, "free").counters;
    let polled = &by_name(&results, "polled").counters;
    assert_eq!(polled.full_passes, 3);
    assert_eq!(polled.sessions, 30);
    let pass_s = polled.mean_full_pass_ns() as f64 / 1e9;
    assert!((9.2..9.3).contains(&pass_s), "pass of {pass_s} s");
    assert!(free.full_passes > 4 * polled.full_passes, "{}", free.full_passes);
}

#[test]
fn fewer_segments_than_token_ranges_coalesce_ranges_of_one_replica_list() {
    // SegmentGenerator.generateSegments: with no more segments asked for than the ring
    // has token ranges, Reaper coalesces each replica list's ranges up to ring / segments
    // tokens (coalesceTokenRanges); each segment is one repair session over its ranges.
    // 6 nodes, RF 3, 16 balanced vnodes: 96 token ranges of ~6,250 keys.
    let body = |split: &str, segments: u32| {
        format!(
            r#"name = "coalesce"
seed = 5
duration = "5min"
sample_interval = "10s"
[cluster]
nodes = 6
keys = 600_000
cores = 2
scan_cost_per_key = "1us"
replication_factor = 3
vnodes = 16
tokens = "balanced"
[network]
loss = 0.01
[workload]
writes_per_s = 200.0
stop_at = "4min"
[[strategy]]
kind = "segmented"
name = "reaper"
segments = {segments}
leaves = 64
workers = 2
max_sessions_per_node = 1
session_overhead = "200ms"
{split}
"#
        )
    };
    let run = |split: &str, segments: u32| {
        let results = run_scenario(&common::scenario(&body(split, segments)), 1).expect("invariants hold");
        let r = &results[0];
        let ring = r.ring.as_ref().expect("a ring");
        let worst_gap = ring.ranges.iter().map(|range| range.max_unrepaired_ns).max().unwrap();
        (
            r.counters.sessions,
            r.counters.full_passes,
            r.divergent_at_end,
            worst_gap,
        )
    };
    let (coalesced, coalesced_passes, coalesced_left, coalesced_gap) = run("segment_split = \"reaper\"", 24);
    let (one_per_range, passes, left, gap) = run("", 24);
    // aesim's own split keeps at least one segment per token range: 96 a pass (25
    // passes and part of the 26th in 5 minutes). Reaper's coalesces the 24 asked for
    // per replica list: 64 a pass here (the ordered replica lists of 96 ranges are many,
    // so most segments hold one or two ranges), 36 passes, fewer 200 ms setups.
    assert_eq!((one_per_range, passes), (2410, 25));
    assert_eq!((coalesced, coalesced_passes), (2312, 36));
    assert!(coalesced_gap < gap, "{coalesced_gap} ns vs {gap} ns");
    assert_eq!((coalesced_left, left), (0, 0), "writes stop at 4 min: all repaired");
}

#[test]
fn a_postponed_segment_holds_its_worker_for_the_postpone_sleep() {
    // SegmentRunner.postponeCurrentSegment sleeps SLEEP_TIME_AFTER_POSTPONE_IN_MS (10 s)
    // before the runner's thread is free again. Node 1 crashes at 1.1 s, during the
    // fifth segment's builds, and restarts at 1.2 s: the segment is postponed; with the
    // sleep, the only worker waits 10 s before the next segment, so the first pass ends
    // about 10 s later.
    let body = |sleep: &str| {
        format!(
            r#"name = "postpone"
seed = 3
duration = "30s"
sample_interval = "10s"
[cluster]
nodes = 2
keys = 1_000_000
cores = 8
scan_cost_per_key = "2.4us"
[network]
latency = {{ kind = "constant", value = "1ms" }}
[workload]
writes_per_s = 0.0
[[strategy]]
kind = "segmented"
name = "reaper"
segments = 10
leaves = 64
workers = 1
max_sessions_per_node = 1
{sleep}
[faults]
[[faults.crash]]
node = 1
at = "1.1s"
restart = "1.2s"
"#
        )
    };
    let run = |sleep: &str| {
        let results = run_scenario(&common::scenario(&body(sleep)), 1).expect("invariants hold");
        let c = results[0].counters.clone();
        let aborted = results[0].faults.as_ref().expect("faults").sessions_aborted;
        (c.sessions, c.full_passes, c.mean_full_pass_ns() as f64 / 1e9, aborted)
    };
    let (sessions, passes, pass_s, aborted) = run("");
    let (slept_sessions, slept_passes, slept_pass_s, slept_aborted) = run("postpone_sleep = \"10s\"");
    assert_eq!((aborted, slept_aborted), (1, 1), "one session stopped by the crash");
    // Without the sleep: 12 passes of 2.44 s in 30 s (123 sessions); with it, the worker
    // idles 10 s: 8 passes (82 sessions), one of them 10 s longer than the others.
    assert_eq!((sessions, passes), (123, 12));
    assert_eq!((slept_sessions, slept_passes), (82, 8));
    let extra_s = slept_pass_s * 8.0 - pass_s * 8.0;
    assert!((extra_s - 10.0).abs() < 0.1, "the postponement cost {extra_s} s");
}
