//! Running a scenario: one world per strategy, the same seed for all of them.
//!
//! Strategies are independent runs over identical inputs, so they may run on several
//! threads; results are always returned in the scenario's strategy order, so the
//! output does not depend on the thread count.

use crate::metrics::ring::RingResult;
use crate::metrics::{CensoredLatency, StrategyResult};
use crate::model::ring::Ownership;
use crate::scenario::Scenario;
use crate::sim::{SimTime, format_secs};
use crate::world::{InvariantChecks, InvariantViolation, World};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Runs every strategy of `scenario` on up to `jobs` threads, checking invariants at
/// every sample point.
pub fn run_scenario(scenario: &Scenario, jobs: usize) -> Result<Vec<StrategyResult>, InvariantViolation> {
    run_scenario_with(scenario, jobs, InvariantChecks::default())
}

/// [`run_scenario`] with a choice of when whole-state invariants are checked. The
/// results are identical either way; only a violation's detection time differs.
pub fn run_scenario_with(
    scenario: &Scenario,
    jobs: usize,
    checks: InvariantChecks,
) -> Result<Vec<StrategyResult>, InvariantViolation> {
    run_scenario_observed(scenario, jobs, checks, &|_| {})
}

/// Slices of the run between two calls of a progress observer.
const PROGRESS_SLICES: u64 = 200;

/// [`run_scenario_with`], calling `progress` with the virtual nanoseconds simulated so
/// far, summed over the strategies (at most duration x strategies), as the worlds
/// advance. Each world runs to the end in slices (`World::run_until`), which processes
/// exactly the events an unsliced run does, in the same order: the results are the same.
pub fn run_scenario_observed(
    scenario: &Scenario,
    jobs: usize,
    checks: InvariantChecks,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<StrategyResult>, InvariantViolation> {
    let done = AtomicU64::new(0);
    let slice_ns = (scenario.duration_ns / PROGRESS_SLICES).max(1);
    let run_one = |world: &mut World| {
        let mut reached = 0;
        while reached < scenario.duration_ns && world.violation().is_none() {
            let until = reached.saturating_add(slice_ns).min(scenario.duration_ns);
            world.run_until(SimTime::from_nanos(until));
            progress(done.fetch_add(until - reached, Ordering::Relaxed) + (until - reached));
            reached = until;
        }
    };
    let count = scenario.strategies.len();
    let slots: Vec<Mutex<Option<Result<StrategyResult, InvariantViolation>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let mut world = World::new(scenario, &scenario.strategies[i]);
                    world.set_invariant_checks(checks);
                    run_one(&mut world);
                    let result = world.run();
                    *slots[i].lock().expect("no panics while holding the lock") = Some(result);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().expect("not poisoned").expect("every strategy ran"))
        .collect()
}

/// The comparison table printed after a run: one row per strategy.
pub fn comparison_table(results: &[StrategyResult]) -> String {
    let header = [
        "strategy",
        "repaired",
        "p50 s",
        "p99 s",
        "max s",
        "unrepaired",
        "censored p50 s",
        "key-s",
        "hashes",
        "MB",
        "streamed",
        "overstream",
        "pass s",
    ];
    let rows: Vec<Vec<String>> = results.iter().map(strategy_row).collect();
    let mut out = aligned(&header, &rows);
    if let Some(ring) = results.iter().find_map(|r| r.ring.as_ref()) {
        out.push_str(&ownership_line(ring));
    }
    for r in results {
        if let Some(ring) = &r.ring {
            out.push_str(&ring_line(&r.strategy, ring, &r.counters));
        }
    }
    for r in results {
        out.push_str(&paths_line(r));
    }
    for r in results {
        if let Some(f) = &r.faults {
            out.push_str(&faults_line(&r.strategy, f));
        }
    }
    out
}

/// One strategy's row of the comparison table.
fn strategy_row(r: &StrategyResult) -> Vec<String> {
    let c = &r.counters;
    let h = &r.repair_latency;
    vec![
        r.strategy.clone(),
        c.keys_repaired.to_string(),
        short_secs(h.quantile_ns(0.5)),
        short_secs(h.quantile_ns(0.99)),
        short_secs(h.max_ns()),
        r.divergent_at_end.to_string(),
        // Open keys counted at their age (Kaplan-Meier); n/e: beyond this run.
        CensoredLatency::new(h, &r.open_divergence_ages)
            .quantile_ns(0.5)
            .map_or_else(|| "n/e".into(), short_secs),
        format!("{:.1}", r.divergence_key_ns as f64 / 1e9),
        c.hashes_sent.to_string(),
        format!("{:.1}", (c.hash_bytes + c.stream_bytes) as f64 / 1e6),
        c.records_streamed.to_string(),
        c.records_overstreamed().to_string(),
        if c.full_passes == 0 {
            "-".into()
        } else {
            short_secs(c.mean_full_pass_ns())
        },
    ]
}

/// A text table: the first column left-aligned, the others right-aligned, two spaces
/// apart.
fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    out.push_str(&line(header.to_vec()));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// What the faults of one strategy's run did, on one line.
fn faults_line(strategy: &str, f: &crate::model::faults::FaultCounters) -> String {
    format!(
        "faults in {}: crash lost {} messages ({} repaired), partition lost {} ({} repaired, \
         healed {} s after it ended{}), bitrot corrupted {} ({} repaired), {} duplicated, \
         {} reordered, {} sessions aborted\n",
        strategy,
        f.lost_to_crash,
        f.repaired_after_crash,
        f.lost_to_partition,
        f.repaired_after_partition,
        short_secs(f.partition_heal_ns_max),
        if f.partitions_unhealed > 0 {
            format!(", {} not healed by the end", f.partitions_unhealed)
        } else {
            String::new()
        },
        f.bitrot_corruptions,
        f.bitrot_repaired,
        f.duplicated_messages,
        f.reordered_messages,
        f.sessions_aborted,
    )
}

/// One strategy's repair paths before anti-entropy and the gc_grace headline, when the
/// scenario uses any of them (hints, reads, deletes) or a range outlived gc_grace.
fn paths_line(r: &StrategyResult) -> String {
    let c = &r.counters;
    let a = crate::metrics::paths::Attribution::of(r);
    let hints = r.hints.stored + r.hints.dropped + r.hints.refused_window > 0;
    let over_gc_grace = r.ring.as_ref().map(|ring| {
        ring.ranges
            .iter()
            .filter(|x| x.max_unrepaired_ns > r.gc_grace_ns)
            .count()
    });
    if !hints && c.paths.reads == 0 && r.deletes.is_none() && over_gc_grace.unwrap_or(0) == 0 {
        return String::new();
    }
    let days = |ns: u64| format!("{:.2} d", ns as f64 / 86_400e9);
    let mut line = format!(
        "paths in {}: of {} divergences, {} ended by replication, {} by hints, {} by read repair, \
         {} by purges, {} by anti-entropy, {} open; hints {} stored, {} dropped, {} refused (window), \
         {} lost to crashes; {} of {} reads stale",
        r.strategy,
        a.begun,
        a.replication,
        a.hint,
        a.read_repair,
        a.purge,
        a.anti_entropy,
        a.open,
        r.hints.stored,
        r.hints.dropped,
        r.hints.refused_window,
        r.hints.lost_to_crash,
        c.paths.reads_stale,
        c.paths.reads,
    );
    line.push_str(&format!(
        "; longest unrepaired range {} vs gc_grace {}: {} ranges over",
        days(r.max_unrepaired_ns),
        days(r.gc_grace_ns),
        r.ranges_over_gc_grace
    ));
    if let Some(d) = &r.deletes {
        line.push_str(&format!(
            "; {} deletes, {} tombstones purged, {} resurrections",
            d.deletes,
            d.purged,
            d.resurrections.len()
        ));
    }
    line.push('\n');
    line
}

/// How the ring spreads the key space: token ranges and each node's share.
fn ownership_line(ring: &RingResult) -> String {
    let shares = Ownership::of(ring.nodes.iter().map(|n| n.ownership).collect());
    let token_ranges = ring.nodes.iter().map(|n| n.tokens).sum::<u64>();
    format!(
        "ring: {} nodes, {} token ranges; each node stores {:.1}% of the keys on average \
         (min {:.1}%, max {:.1}%, stdev {:.2} points)\n",
        ring.nodes.len(),
        token_ranges,
        100.0 * shares.mean,
        100.0 * shares.min,
        100.0 * shares.max,
        100.0 * shares.stdev
    )
}

/// One strategy's repair of the ring: full repair time, the oldest range, the load.
fn ring_line(strategy: &str, ring: &RingResult, counters: &crate::metrics::Counters) -> String {
    let core_s: Vec<u64> = ring.nodes.iter().map(|n| n.load.build_core_ns).collect();
    let busiest = ring
        .nodes
        .iter()
        .max_by_key(|n| (n.load.bytes_sent + n.load.bytes_received, std::cmp::Reverse(n.node)))
        .expect("a ring has nodes");
    format!(
        "ring in {strategy}: full repair {} s; longest a range went without a complete repair {} s; \
         build core-s per node {}..{}; busiest node {} sent+received {:.1} MB\n",
        if counters.full_passes == 0 {
            "-".to_string()
        } else {
            short_secs(counters.mean_full_pass_ns())
        },
        short_secs(ring.max_unrepaired_ns()),
        short_secs(core_s.iter().copied().min().unwrap_or(0)),
        short_secs(core_s.iter().copied().max().unwrap_or(0)),
        busiest.node,
        (busiest.load.bytes_sent + busiest.load.bytes_received) as f64 / 1e6,
    )
}

/// Seconds with three decimals, for the terminal.
fn short_secs(nanos: u64) -> String {
    let full = format_secs(nanos);
    full[..full.len() - 3].to_string()
}
