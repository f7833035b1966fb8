//! Metrics that must not mislead: repair latency with keys still open at the end counted
//! as censored observations, the true (not sampled) peak of divergence, and the CPU of
//! scheduled scans beside a live tree's write-path hashing.

mod common;

use aesim::output::{latency_csv, summary_csv, timeseries_csv};
use aesim::run::run_scenario;

/// Rows of a CSV as maps from column name to cell.
fn rows(csv: &[u8]) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn number(row: &std::collections::BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: {:?}", row[column]))
}

/// Writes until the end with a rebuild interval longer than half the run: many lost
/// writes are still open when it ends.
fn slow_repairs() -> String {
    common::LOSSY
        .replace("stop_at = \"2min\"\n", "")
        .replace("interval = \"20s\"", "interval = \"100s\"")
}

#[test]
fn open_keys_count_as_censored_repair_latencies() {
    let scenario = common::scenario(&slow_repairs());
    let results = run_scenario(&scenario, 1).unwrap();
    let summary = &rows(&summary_csv(&results))[0];
    let open = number(summary, "divergent_at_end");
    assert!(open > 100.0, "the run leaves keys open: {open}");
    // Leaving the open keys out makes the median look shorter than it is.
    let plain = number(summary, "repair_p50_s");
    let censored = number(summary, "repair_km_p50_s");
    assert!(censored > plain, "censored p50 {censored} vs plain {plain}");
    assert!(number(summary, "repair_km_p99_s") >= number(summary, "repair_p99_s"));

    let latency = rows(&latency_csv(&results));
    assert!(latency.iter().all(|r| number(r, "open_at_end") == open));
    let median = latency.iter().find(|r| r["quantile"] == "0.5").unwrap();
    assert_eq!(median["censored_latency_s"], summary["repair_km_p50_s"]);
}

#[test]
fn the_peak_of_divergence_is_exact_not_sampled() {
    let scenario = common::scenario(&slow_repairs());
    let results = run_scenario(&scenario, 1).unwrap();
    let peak = number(&rows(&summary_csv(&results))[0], "divergent_peak");
    let sampled = rows(&timeseries_csv(&results))
        .iter()
        .map(|r| number(r, "divergent_keys"))
        .fold(0.0, f64::max);
    assert!(peak >= sampled, "{peak} < {sampled}");
    // Samples every 10 s miss the instant before a repair pass, when divergence peaks.
    assert!(peak > sampled, "peak {peak}, sampled {sampled}");
}

#[test]
fn scheduled_scans_report_their_core_seconds_beside_write_path_hashing() {
    let text = format!(
        "{}\n[[strategy]]\nkind = \"monolithic\"\nname = \"live\"\nleaves = 256\ninterval = \"20s\"\ntree = \"live\"\n",
        common::LOSSY
    );
    let scenario = common::scenario(&text);
    let results = run_scenario(&scenario, 1).unwrap();
    let summary = rows(&summary_csv(&results));
    let (scheduled, live) = (&summary[0], &summary[1]);
    // 50,000 keys at 10 us each per build, 3 nodes per session.
    let scanned = number(scheduled, "keys_scanned");
    assert!(scanned > 0.0);
    assert!((number(scheduled, "scan_core_s") - scanned * 10e-6).abs() < 1e-3);
    assert_eq!(number(scheduled, "write_path_hash_s"), 0.0);
    assert_eq!(number(live, "scan_core_s"), 0.0, "a live tree scans nothing");
    assert!(number(live, "write_path_hash_s") > 0.0);
}

#[test]
fn the_latency_chart_draws_the_censored_estimate_and_the_table_shows_it() {
    let scenario = common::scenario(&slow_repairs());
    let results = run_scenario(&scenario, 1).unwrap();
    let dir = common::temp_dir("censored-chart");
    aesim::output::write_run(&dir, &scenario, &results).unwrap();
    let svg = std::fs::read_to_string(dir.join("charts/repair-latency.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    // The censored (Kaplan-Meier) estimate: hollow markers in the first strategy's colour,
    // the line's own markers are filled.
    let color = aesim::chart::series_color_hex(0);
    let hollow = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("circle")
                && n.attribute("stroke") == Some(color.as_str())
                && n.attribute("fill") == Some("#FFFFFF")
        })
        .count();
    assert!(hollow >= 3, "the censored estimate is drawn: {hollow} hollow markers");
    assert!(svg.contains("open at end)"), "the legend counts the open keys");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("| p50 censored s | p99 censored s |"), "{report}");
    assert!(report.contains("3 significant digits"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lost_write_covered_by_a_later_one_is_counted_apart_from_transient_divergence() {
    // No workload, no loss, no repair before 100 s: only scripted writes.
    let mut scenario = common::lossless_with("");
    scenario.workload.writes_per_s = 0.0;
    let mut world = aesim::world::World::new(&scenario, &scenario.strategies[0]);
    let at = |millis: u64| aesim::sim::SimTime::from_nanos(millis * 1_000_000);
    // Key 7: its first write's messages are lost; the second write, 5 s later, reaches
    // every replica and covers the loss up. Key 9: one ordinary write.
    world.schedule_write(at(1_000), 7, 0, true);
    world.schedule_write(at(6_000), 7, 1, false);
    world.schedule_write(at(2_000), 9, 2, false);
    world.run_until(at(10_000));
    let counters = world.counters();
    assert_eq!(counters.lost_writes_covered, 1, "key 7's lost write was covered up");
    assert_eq!(counters.healed_by_replication, 1, "key 9 healed by its own replication");
    assert_eq!(world.replicas().divergent_keys(), 0);
}
