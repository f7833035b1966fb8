//! Committed results match a rerun: every scenario in `scenarios/` marked
//! `# reproduce: fast` is run again with its fixed seed, and every file of its
//! `results/<name>/` folder (CSV, scenario echo, charts, report) must come out byte for
//! byte the same. Scenarios marked `# reproduce: slow` are rerun only when
//! `AESIM_REPRODUCE_SLOW=1` is set. `scripts/regenerate-results` rewrites `results/`.

mod common;

use aesim::scenario::Scenario;
use common::files_under;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// How a scenario is checked, from its `# reproduce: ...` line.
#[derive(Debug, PartialEq, Eq)]
enum Speed {
    Fast,
    Slow,
}

/// Every scenario file with its results folder name and speed, in file-name order.
fn scenarios() -> Vec<(PathBuf, String, Speed)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let speed = match text.lines().find_map(|l| l.strip_prefix("# reproduce: ")) {
                Some("fast") => Speed::Fast,
                Some("slow") => Speed::Slow,
                other => panic!(
                    "{}: needs a line `# reproduce: fast` or `# reproduce: slow`, found {other:?}",
                    path.display()
                ),
            };
            let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            (path, scenario.name, speed)
        })
        .collect()
}

/// The first line where two files differ, for the failure message.
fn first_difference(committed: &[u8], rerun: &[u8]) -> String {
    let a = String::from_utf8_lossy(committed);
    let b = String::from_utf8_lossy(rerun);
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  committed: {x}\n  rerun:     {y}", i + 1);
        }
    }
    format!("lengths differ: {} vs {} lines", a.lines().count(), b.lines().count())
}

#[test]
fn every_scenario_says_how_it_is_reproduced_and_has_committed_results() {
    let all = scenarios();
    assert!(all.len() >= 7, "the story's scenarios are missing: {all:?}");
    for (path, name, _) in &all {
        let results = Path::new(ROOT).join("results").join(name);
        assert!(
            // A single run has a report; a sweep has its plan (sweep.toml) and aggregates.
            results.join("summary.csv").is_file()
                && (results.join("report.md").is_file() || results.join("sweep.toml").is_file()),
            "{}: no committed results in results/{name}/; run scripts/regenerate-results",
            path.display()
        );
    }
    // And no results folder is left without its scenario.
    for entry in std::fs::read_dir(Path::new(ROOT).join("results")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            all.iter().any(|(_, n, _)| *n == name),
            "results/{name}/ has no scenario in scenarios/"
        );
    }
}

#[test]
fn committed_results_match_a_rerun() {
    let slow_too = std::env::var("AESIM_REPRODUCE_SLOW").is_ok_and(|v| v == "1");
    let base = std::env::temp_dir().join(format!("aesim-reproduce-{}", std::process::id()));
    let mut checked = 0;
    for (path, name, speed) in scenarios() {
        if speed == Speed::Slow && !slow_too {
            continue;
        }
        let out = base.join(&name);
        let run = Command::new(env!("CARGO_BIN_EXE_aesim"))
            .args(["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"])
            .output()
            .expect("the binary runs");
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        let committed = files_under(&Path::new(ROOT).join("results").join(&name));
        let rerun = files_under(&out);
        let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&committed),
            names(&rerun),
            "results/{name}/ does not hold the files a rerun writes; run scripts/regenerate-results"
        );
        for ((file, a), (_, b)) in committed.iter().zip(&rerun) {
            assert!(
                a == b,
                "results/{name}/{file} differs from a rerun of {} ({}); if the change is intended, \
                 run scripts/regenerate-results and commit",
                path.display(),
                first_difference(a, b)
            );
        }
        checked += 1;
    }
    std::fs::remove_dir_all(&base).ok();
    assert!(checked >= 6, "only {checked} scenarios were checked");
}
