//! Parameter sweeps: identical bytes whatever the thread count, sharding, merging or
//! resuming; confidence intervals with a known answer; `--set` errors.

use aesim::scenario::ScenarioDocument;
use aesim::sweep::{Plan, SweepOptions, run_sweep};
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{aesim, files_under, temp_dir};

/// A small sweep: 2 x 2 points x 3 replications = 12 runs of 20 simulated seconds.
const SWEEP: &str = r#"
name = "tiny-sweep"
seed = 3
duration = "20s"
sample_interval = "5s"
[cluster]
keys = 10_000
scan_cost_per_key = "10us"
[network]
loss = 0.05
[workload]
writes_per_s = 200.0
[[strategy]]
kind = "monolithic"
name = "mono"
leaves = 64
interval = "4s"
[[strategy]]
kind = "monolithic"
name = "fine"
leaves = 1024
interval = "4s"
[sweep]
replications = 3
strategy.interval = ["2s", "5s"]
network.loss = [0.01, 0.1]
"#;

/// Writes the sweep scenario into `dir` and returns its path.
fn scenario_in(dir: &Path) -> String {
    let path = dir.join("sweep.toml");
    std::fs::write(&path, SWEEP).unwrap();
    path.to_str().unwrap().to_string()
}

/// What a successful command printed: its data (stdout), then its status lines (stderr).
fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir` (relative path and bytes), temporary files (names starting
/// with '.') excepted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let hidden = |name: &str| name.split(std::path::MAIN_SEPARATOR).any(|part| part.starts_with('.'));
    files_under(dir).into_iter().filter(|(name, _)| !hidden(name)).collect()
}

fn names(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn jobs_1_and_jobs_2_give_identical_bytes() {
    let dir = temp_dir("jobs");
    let scenario = scenario_in(&dir);
    let (one, two) = (dir.join("one"), dir.join("two"));
    let output = aesim(&["run", &scenario, "--jobs", "1", "--out", one.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "no progress bar when stderr is not a terminal, only the status line: {stderr}"
    );
    let stdout = ok(&output);
    assert!(
        stdout.contains("4 points x 3 replications = 12 runs; ran 12, 0 already done"),
        "{stdout}"
    );
    ok(&aesim(&[
        "run",
        &scenario,
        "--jobs",
        "2",
        "--out",
        two.to_str().unwrap(),
    ]));
    let files = tree(&one);
    assert_eq!(files, tree(&two));
    // 12 run files, the echo and record, raw and summary, 8 charts per axis, the
    // report in Markdown and HTML, the manifest.
    assert_eq!(files.len(), 12 + 2 + 2 + 16 + 2 + 1, "{:?}", names(&files));
    let raw = String::from_utf8(files.iter().find(|f| f.0 == "raw.csv").unwrap().1.clone()).unwrap();
    assert_eq!(raw.lines().count(), 1 + 12 * 2, "one row per run and strategy");
    assert!(raw.starts_with("point,strategy.interval,network.loss,replication,seed,run_hash,strategy,writes,"));
    let summary = String::from_utf8(files.iter().find(|f| f.0 == "summary.csv").unwrap().1.clone()).unwrap();
    assert_eq!(summary.lines().count(), 1 + 4 * 2, "one row per point and strategy");
    assert!(
        summary.lines().nth(8).unwrap().starts_with("3,5s,0.1,fine,3,"),
        "{summary}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn three_shards_merged_equal_the_unsharded_sweep() {
    let dir = temp_dir("shards");
    let scenario = scenario_in(&dir);
    let whole = dir.join("whole");
    ok(&aesim(&["run", &scenario, "--out", whole.to_str().unwrap()]));
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = dir.join(format!("part{i}"));
        let shard = format!("{i}/3");
        let stdout = ok(&aesim(&[
            "run",
            &scenario,
            "--shard",
            &shard,
            "--jobs",
            "1",
            "--out",
            part.to_str().unwrap(),
        ]));
        assert!(stdout.contains(&format!("shard {i}/3: 4 of them; ran 4")), "{stdout}");
        assert!(
            stdout.contains("8 runs of other shards are not in this folder yet"),
            "{stdout}"
        );
        assert!(!part.join("summary.csv").exists(), "a partial result has no aggregates");
        parts.push(part.to_str().unwrap().to_string());
    }
    let merged = dir.join("merged");
    let mut args = vec!["merge"];
    args.extend(parts.iter().rev().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    assert!(ok(&aesim(&args)).contains("merged 12 runs from 3 folders"));
    assert_eq!(tree(&merged), tree(&whole));

    // Shards sharing one folder (a cluster's shared file system): the last one to finish
    // writes the aggregates itself.
    let shared = dir.join("shared");
    for i in [2, 3, 1] {
        ok(&aesim(&[
            "run",
            &scenario,
            "--shard",
            &format!("{i}/3"),
            "--out",
            shared.to_str().unwrap(),
        ]));
    }
    assert_eq!(tree(&shared), tree(&whole));

    // Merging an incomplete set, or folders of different sweeps, is refused.
    let out = aesim(&[
        "merge",
        &parts[0],
        &parts[1],
        "--out",
        dir.join("bad").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 of the sweep's 12 runs are in none"));
    let other = dir.join("other");
    ok(&aesim(&[
        "run",
        &scenario,
        "--shard",
        "3/3",
        "--set",
        "sweep.replications=2",
        "--out",
        other.to_str().unwrap(),
    ]));
    let out = aesim(&[
        "merge",
        &parts[0],
        other.to_str().unwrap(),
        "--out",
        dir.join("bad2").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hold results of different sweeps"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_sweep_resumes_and_never_trusts_a_damaged_file() {
    let dir = temp_dir("resume");
    let scenario = scenario_in(&dir);
    let out = dir.join("out");
    ok(&aesim(&["run", &scenario, "--out", out.to_str().unwrap()]));
    let complete = tree(&out);
    let runs: Vec<PathBuf> = {
        let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        runs.sort();
        runs
    };
    // An interruption: one run never finished, one file cut short at a row boundary,
    // one cut mid-row, one whose rows name another run; the aggregates are gone.
    std::fs::remove_file(&runs[0]).unwrap();
    let text = std::fs::read_to_string(&runs[1]).unwrap();
    std::fs::write(
        &runs[1],
        text.lines().take(2).map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let bytes = std::fs::read(&runs[2]).unwrap();
    std::fs::write(&runs[2], &bytes[..bytes.len() / 2]).unwrap();
    let text = std::fs::read_to_string(&runs[3]).unwrap();
    let hash = runs[3].file_stem().unwrap().to_str().unwrap();
    std::fs::write(&runs[3], text.replace(hash, &"0".repeat(32))).unwrap();
    std::fs::remove_file(out.join("summary.csv")).unwrap();
    let stdout = ok(&aesim(&["run", &scenario, "--out", out.to_str().unwrap()]));
    assert!(stdout.contains("ran 4, 8 already done"), "{stdout}");
    assert_eq!(tree(&out), complete);
    // Extending the grid reuses every run already done.
    let stdout = ok(&aesim(&[
        "run",
        &scenario,
        "--set",
        "sweep.replications=4",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(stdout.contains("16 runs; ran 4, 12 already done"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Client writes are a Poisson process: over 10 s at 100 writes/s their count has mean
/// and variance 1,000. The summary's interval must cover the mean, and its standard
/// deviation must be close to sqrt(1000) = 31.6.
#[test]
fn confidence_interval_of_a_poisson_count_covers_its_known_mean() {
    let source = r#"
name = "poisson"
seed = 11
duration = "10s"
[cluster]
keys = 1000
[workload]
writes_per_s = 100.0
[[strategy]]
kind = "monolithic"
leaves = 16
interval = "1h"
[sweep]
replications = 40
"#;
    let document = ScenarioDocument::parse(source, "poisson.toml", Vec::new()).unwrap();
    let plan = Plan::new(document).unwrap().expect("a sweep");
    let dir = temp_dir("poisson");
    let options = SweepOptions {
        jobs: 2,
        shard: None,
        progress: false,
    };
    let outcome = run_sweep(&plan, &dir, options).unwrap();
    assert_eq!((outcome.ran, outcome.missing), (40, 0));
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let get = |name: &str| -> f64 { row[header.iter().position(|h| *h == name).unwrap()].parse().unwrap() };
    assert_eq!(get("replications"), 40.0);
    let (mean, sd) = (get("writes_mean"), get("writes_sd"));
    let (low, high) = (get("writes_ci95_low"), get("writes_ci95_high"));
    assert!(low <= 1000.0 && 1000.0 <= high, "CI [{low}, {high}] misses 1000");
    // t(39) = 2.022691: the half-width is t * sd / sqrt(40).
    assert!(((high - low) / 2.0 - 2.022691 * sd / 40f64.sqrt()).abs() < 2e-3);
    assert!((mean - (low + high) / 2.0).abs() < 1e-5);
    // The sample sd of 40 draws is within 25% of the truth (about 2.2 standard errors).
    assert!((sd - 1000f64.sqrt()).abs() < 0.25 * 1000f64.sqrt(), "sd {sd}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn set_error(dir: &Path, set: &str) -> String {
    let scenario = scenario_in(dir);
    let out = aesim(&["check", &scenario, "--set", set]);
    assert_eq!(out.status.code(), Some(2), "--set {set} is refused with exit code 2");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_bad_set_path_or_value_names_the_path_and_expected_type() {
    let dir = temp_dir("set");
    let stderr = set_error(&dir, "cluster.keys=abc");
    assert!(
        stderr.contains("--set cluster.keys=abc: invalid type: string \"abc\", expected a whole number >= 0"),
        "{stderr}"
    );
    assert!(stderr.contains("--> the command line"), "{stderr}");
    let stderr = set_error(&dir, "workload.writes_per_s=fast");
    assert!(
        stderr.contains("--set workload.writes_per_s=fast: invalid type: string \"fast\", expected a number"),
        "{stderr}"
    );
    let stderr = set_error(&dir, "network.lose=0.1");
    assert!(
        stderr.contains("--set network.lose=0.1: unknown field `lose`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `loss`?"), "{stderr}");
    let stderr = set_error(&dir, "strategy[2].leaves=8");
    assert!(
        stderr.contains("`strategy` has 2 entries (indices 0 to 1), so there is no `strategy[2]`"),
        "{stderr}"
    );
    let stderr = set_error(&dir, "cluster.nodes=1");
    assert!(
        stderr.contains("--set cluster.nodes=1: `cluster.nodes` must be between 2 and 1,000, got 1"),
        "{stderr}"
    );
    let stderr = set_error(&dir, "network.loss");
    assert!(stderr.contains("expected PATH=VALUE"), "{stderr}");
    let stderr = set_error(&dir, "duration=10 parsecs");
    assert!(
        stderr.contains("--set duration=10 parsecs: expected a duration"),
        "{stderr}"
    );
    let stderr = set_error(&dir, "network.loss=0.5");
    assert!(
        stderr.contains("conflicts with the sweep axis `network.loss`"),
        "{stderr}"
    );
    // A good override is accepted, and `--shard` needs a sweep.
    let scenario = scenario_in(&dir);
    assert!(ok(&aesim(&["check", &scenario, "--set", "sweep.replications=5"])).contains("4 points x 5 replications"));
    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/quickstart.toml");
    assert_eq!(aesim(&["run", quickstart, "--shard", "1/2"]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn set_overrides_a_single_run_and_its_echo_reproduces_it() {
    let dir = temp_dir("single");
    let path = dir.join("one.toml");
    std::fs::write(&path, SWEEP.split("[sweep]").next().unwrap()).unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    ok(&aesim(&[
        "run",
        path.to_str().unwrap(),
        "--set",
        "network.loss=0",
        "--set",
        "strategy[1].leaves=256",
        "--out",
        a.to_str().unwrap(),
    ]));
    let summary = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    assert!(
        summary.lines().skip(1).all(|l| l.split(',').nth(2) == Some("0")),
        "no message lost:\n{summary}"
    );
    let echo = std::fs::read_to_string(a.join("scenario.toml")).unwrap();
    assert!(echo.contains("leaves = 256"), "{echo}");
    ok(&aesim(&[
        "run",
        a.join("scenario.toml").to_str().unwrap(),
        "--seed",
        "3",
        "--out",
        b.to_str().unwrap(),
    ]));
    assert_eq!(summary, std::fs::read_to_string(b.join("summary.csv")).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_refuses_a_folder_of_other_results_unless_forced() {
    let dir = temp_dir("sweep-guard");
    let scenario = scenario_in(&dir);
    // A single run's folder.
    let single = dir.join("single");
    let single_scenario = dir.join("single.toml");
    std::fs::write(&single_scenario, SWEEP.split("[sweep]").next().unwrap()).unwrap();
    ok(&aesim(&[
        "run",
        single_scenario.to_str().unwrap(),
        "--out",
        single.to_str().unwrap(),
        "-q",
    ]));
    let quick = [
        "--set",
        "sweep.replications=1",
        "--set",
        "sweep.strategy.interval=[\"5s\"]",
    ];
    let mut args = vec!["run", scenario.as_str(), "--out", single.to_str().unwrap(), "-q"];
    args.extend(quick);
    let out = aesim(&args);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds the results of a single run"), "{stderr}");
    assert!(!single.join("raw.csv").exists(), "nothing of the sweep was written");

    // --force replaces them: the folder then holds the sweep's files only.
    args.push("--force");
    ok(&aesim(&args));
    assert!(!single.join("run.toml").exists() && !single.join("timeseries.csv").exists());
    assert!(single.join("raw.csv").exists() && single.join("sweep.toml").exists());

    // Another sweep's folder (another scenario: its base differs) is refused too...
    let mut other = vec![
        "run",
        scenario.as_str(),
        "--out",
        single.to_str().unwrap(),
        "-q",
        "--set",
        "workload.writes_per_s=50.0",
    ];
    other.extend(quick);
    let out = aesim(&other);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds results of another sweep"));
    // ...while the same sweep resumes and extends in place.
    let mut more = vec![
        "run",
        scenario.as_str(),
        "--out",
        single.to_str().unwrap(),
        "-q",
        "--set",
        "sweep.replications=2",
    ];
    more.extend(&quick[2..]);
    ok(&aesim(&more));

    // merge --out is guarded the same way.
    let merged = dir.join("merged");
    let single_again = dir.join("single-again");
    ok(&aesim(&[
        "run",
        single_scenario.to_str().unwrap(),
        "--out",
        single_again.to_str().unwrap(),
        "-q",
    ]));
    let out = aesim(&[
        "merge",
        single.to_str().unwrap(),
        "--out",
        single_again.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to mix results"));
    ok(&aesim(&[
        "merge",
        single.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "-q",
    ]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn merge_names_a_truncated_run_file() {
    let dir = temp_dir("merge-truncated");
    let scenario = scenario_in(&dir);
    let part = dir.join("part");
    ok(&aesim(&[
        "run",
        &scenario,
        "--out",
        part.to_str().unwrap(),
        "-q",
        "--set",
        "sweep.replications=1",
    ]));
    let runs: Vec<PathBuf> = std::fs::read_dir(part.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let victim = &runs[0];
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..bytes.len() / 2]).unwrap();
    let out = aesim(&[
        "merge",
        part.to_str().unwrap(),
        "--out",
        dir.join("merged").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{} is incomplete or damaged", victim.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("in none of the partial results"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The x pixel of every point of every data line (`<polyline>` at the series width) of a
/// chart, and the x pixel of the y axis (the vertical axis line, where x = 0).
fn line_xs_and_origin(svg: &str) -> (Vec<Vec<f64>>, f64) {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let width = aesim::chart::SERIES_STROKE_WIDTH.to_string();
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some(width.as_str()))
        .map(|n| {
            n.attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|p| p.split(',').next().unwrap().parse::<f64>().unwrap())
                .collect()
        })
        .collect();
    // The y axis: the only vertical line in the axis colour spanning the plot's height.
    let origin = doc
        .descendants()
        .filter(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#505050"))
        .filter(|n| n.attribute("x1") == n.attribute("x2"))
        .filter(|n| {
            let y = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (y("y2") - y("y1")).abs() > 100.0
        })
        .map(|n| n.attribute("x1").unwrap().parse::<f64>().unwrap())
        .next()
        .expect("a y axis");
    (lines, origin)
}

/// Writes sweep `text` as `dir/name` and runs it into `dir/out`, which it returns.
fn run_sweep_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    ok(&aesim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    out
}

#[test]
fn sweep_charts_put_values_on_a_true_numeric_axis() {
    // Axis values 1 and 10 (linear: they span one decade), and 1s / 10s as durations.
    let dir = temp_dir("sweep-numeric");
    let text = SWEEP
        .replace("replications = 3", "replications = 2")
        .replace(
            "strategy.interval = [\"2s\", \"5s\"]",
            "strategy.interval = [\"1s\", \"10s\"]",
        )
        .replace("network.loss = [0.01, 0.1]", "workload.writes_per_s = [1.0, 10.0]");
    let out = run_sweep_file(&dir, "numeric.toml", &text);
    for chart in [
        "repair_p50_s-vs-workload.writes_per_s.svg",
        "repair_p50_s-vs-strategy.interval.svg",
    ] {
        let svg = std::fs::read_to_string(out.join("charts").join(chart)).unwrap();
        let (lines, origin) = line_xs_and_origin(&svg);
        assert!(!lines.is_empty(), "{chart}: no data line");
        for xs in lines {
            assert_eq!(xs.len(), 2, "{chart}: one point per axis value");
            let (one, ten) = (xs[0] - origin, xs[1] - origin);
            assert!(one > 0.0, "{chart}: x = 1 is right of the origin");
            assert!(
                (ten / one - 10.0).abs() < 0.05,
                "{chart}: x = 10 lies {:.3} times as far from the origin as x = 1",
                ten / one
            );
        }
        assert!(svg.contains("Repair latency p50 vs"), "{chart}: a title in words");
    }
    // The sweep's report, in Markdown and HTML, shows every chart.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("](charts/repair_p50_s-vs-strategy.interval.svg)"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg ").count(), 16, "every chart inline");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn log_axes_for_values_spanning_decades_with_human_units() {
    let dir = temp_dir("sweep-log");
    let text = SWEEP.replace("replications = 3", "replications = 2").replace(
        "strategy.interval = [\"2s\", \"5s\"]",
        "strategy.leaves = [16, 256, 4096]",
    );
    let out = run_sweep_file(&dir, "log.toml", &text);
    let svg = std::fs::read_to_string(out.join("charts/stream_bytes-vs-strategy.leaves.svg")).unwrap();
    assert!(svg.contains("strategy.leaves (log scale)"));
    let (lines, origin) = line_xs_and_origin(&svg);
    for xs in lines {
        // Equal ratios, equal distances.
        let (a, b) = (xs[1] - xs[0], xs[2] - xs[1]);
        assert!((a - b).abs() < 0.2, "16 -> 256 spans {a} px, 256 -> 4096 {b} px");
        assert!(xs[0] > origin);
    }
    assert!(svg.contains(" kB<") || svg.contains(" MB<"), "bytes in human units");
    assert!(!svg.contains("opacity"));
    std::fs::remove_dir_all(&dir).unwrap();
}
