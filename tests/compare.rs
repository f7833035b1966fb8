//! `aesim compare`, `--format json`, completions, the man page and `--version`: the
//! commands that only read results or describe the tool.

mod common;

use common::{aesim, temp_dir};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stdout(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn compare_on_two_committed_runs_gives_the_golden_table() {
    // The same hotspot workload, with and without the hotspot moving: comparable runs
    // (same key space, same duration), the same three strategies.
    let out = aesim(&["compare", "results/07-hot-first", "results/07b-hot-first-shifting"]);
    let table = stdout(&out);
    let golden_path = Path::new(ROOT).join("tests/golden/compare-07-vs-07b.md");
    if std::env::var_os("AESIM_BLESS").is_some() {
        std::fs::write(&golden_path, &table).unwrap();
    }
    let golden = std::fs::read_to_string(&golden_path).unwrap();
    assert_eq!(
        table, golden,
        "compare output changed (AESIM_BLESS=1 rewrites the golden file)"
    );
    assert!(table.contains("| hottest-first | repair latency p50 |"));
}

#[test]
fn compare_refuses_incomparable_runs_with_a_clear_message() {
    let out = aesim(&["compare", "results/quickstart", "results/02-descent"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not comparable"), "{stderr}");
    assert!(stderr.contains("key space 1000000 vs 1048576"), "{stderr}");
    assert!(stderr.contains("duration 10 min vs 15 s"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    // Forced, it compares anyway.
    stdout(&aesim(&[
        "compare",
        "--force",
        "results/quickstart",
        "results/02-descent",
    ]));
    // A run and a sweep never compare.
    let out = aesim(&[
        "compare",
        "results/quickstart",
        "results/interval-leaves-sweep",
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compare runs with runs"));
    // A folder that is not a results folder names its missing file.
    let out = aesim(&["compare", "results/quickstart", "scenarios"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("summary.csv"));
}

#[test]
fn compare_sweeps_with_confidence_intervals_and_writes_a_report() {
    let dir = temp_dir("compare-sweeps");
    let out = dir.join("cmp");
    let text = stdout(&aesim(&[
        "compare",
        "results/interval-leaves-sweep",
        "results/interval-leaves-sweep",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(text.contains(" ± "), "{text}");
    assert!(text.contains("same (CI spans 0)"), "a sweep against itself: {text}");
    for file in ["report.md", "report.html", "charts/compare.svg"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let json = stdout(&aesim(&[
        "compare",
        "results/interval-leaves-sweep",
        "results/interval-leaves-sweep",
        "--format",
        "json",
    ]));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], aesim::JSON_SCHEMA_VERSION);
    assert_eq!(value["kind"], "sweep");
    assert_eq!(value["inputs"].as_array().unwrap().len(), 2);
    let row = &value["rows"][0];
    assert_eq!(row["differences"][0]["mean"], 0.0);
    assert!(row["values"][0]["ci95"].is_array());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_output_parses_and_carries_every_column_of_summary_csv() {
    let dir = temp_dir("json");
    let scenario = dir.join("lossy.toml");
    std::fs::write(&scenario, common::LOSSY).unwrap();
    let out = dir.join("out");
    let text = stdout(&aesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let value: serde_json::Value = serde_json::from_str(&text).expect("stdout is JSON alone");
    let mut reader = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(value["schema_version"], aesim::JSON_SCHEMA_VERSION);
    let rows = value["rows"].as_array().unwrap();
    assert_eq!(rows.len(), records.len());
    for (row, record) in rows.iter().zip(&records) {
        let object = row.as_object().unwrap();
        assert_eq!(object.len(), header.len(), "every column, nothing else");
        for (column, cell) in header.iter().zip(record.iter()) {
            let field = &object[column];
            match field {
                serde_json::Value::String(s) => assert_eq!(s, cell, "{column}"),
                serde_json::Value::Number(n) => {
                    assert_eq!(n.as_f64().unwrap(), cell.parse::<f64>().unwrap(), "{column}")
                }
                serde_json::Value::Null => assert!(cell.is_empty(), "{column}"),
                other => panic!("{column}: unexpected {other}"),
            }
        }
    }
    assert_eq!(value["seed"], 7);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn completions_man_page_and_version() {
    let bash = stdout(&aesim(&["completions", "bash"]));
    assert!(bash.contains("aesim") && bash.contains("compare"), "{bash}");
    stdout(&aesim(&["completions", "zsh"]));
    let man = stdout(&aesim(&["man"]));
    assert!(man.starts_with(".ie") || man.contains(".TH"), "{man}");
    assert!(man.contains("compare"));
    let version = stdout(&aesim(&["--version"]));
    assert!(
        version.starts_with(&format!("aesim {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // Built from a git checkout, the version names the commit.
    if Path::new(ROOT).join(".git").exists() {
        assert!(version.contains("(commit "), "{version}");
    }
    let bad = aesim(&["completions", "no-such-shell"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn fail_if_gates_trip_on_a_change_past_their_limit_with_exit_3() {
    let gated = |gates: &[&str]| {
        let mut args = vec!["compare", "results/07-hot-first", "results/07b-hot-first-shifting"];
        for gate in gates {
            args.extend(["--fail-if", gate]);
        }
        aesim(&args)
    };
    // hottest-first repaired 77 keys fewer in B (10.7k -> 10.6k, the golden table) and
    // its p50 fell 37.7 ms (2.13 s -> 2.09 s): within these limits...
    let within = gated(&["keys_repaired<-5%", "repair_p50_s>+5%"]);
    assert_eq!(
        within.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&within.stderr)
    );
    // ...past this one, which names the strategy, the metric, the input and the change.
    let tripped = gated(&["repair_p50_s>+5%", "keys_repaired<-50"]);
    assert_eq!(tripped.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&tripped.stderr);
    assert!(
        stderr.contains("--fail-if keys_repaired<-50: hottest-first keys_repaired changed by -77.00 in B"),
        "{stderr}"
    );
    assert!(!stderr.contains("repair_p50_s"), "{stderr}");
    // The table is still printed on stdout.
    assert!(String::from_utf8_lossy(&tripped.stdout).contains("| hottest-first | keys repaired |"));
    // A gate that cannot be read is bad input, before anything is compared.
    let bad = gated(&["repair_p50>1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean repair_p50_s?"));
}
