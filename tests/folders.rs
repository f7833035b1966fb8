//! A results folder holds the outputs of exactly one thing (a run, a sweep, a
//! comparison), named by its manifest: `--force` and reruns replace or remove only files
//! aesim wrote, never a user's; nothing of another scenario survives a rerun; a sweep's
//! aggregates are published all or nothing (issue 27, defects 4 to 7 and 9).

mod common;

use common::{aesim, files_under, temp_dir};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A two-second run with deletes (it writes `resurrections.csv`) or without.
fn scenario(dir: &Path, name: &str, deletes: bool) -> String {
    let deletes = if deletes {
        "[deletes]\nfraction = 0.2\ngc_grace = \"1s\"\ncompaction_interval = \"1s\"\n"
    } else {
        ""
    };
    let text = format!(
        "name = \"{name}\"\nseed = 3\nduration = \"4s\"\nsample_interval = \"1s\"\n[cluster]\nkeys = 500\n\
         [workload]\nwrites_per_s = 100.0\n{deletes}[[strategy]]\nkind = \"monolithic\"\nleaves = 16\ninterval = \"1s\"\n"
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A small sweep: 2 points x 1 replication.
fn sweep_scenario(dir: &Path) -> String {
    let text = "name = \"tiny\"\nseed = 3\nduration = \"2s\"\nsample_interval = \"1s\"\n[cluster]\nkeys = 200\n\
                [workload]\nwrites_per_s = 50.0\n[[strategy]]\nkind = \"monolithic\"\nleaves = 16\ninterval = \"1s\"\n\
                [sweep]\nreplications = 1\n\"strategy[0].leaves\" = [8, 16]\n";
    let path = dir.join("tiny-sweep.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn ok(output: &std::process::Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn names(dir: &Path) -> Vec<String> {
    files_under(dir).into_iter().map(|f| f.0).collect()
}

#[test]
fn a_rerun_of_another_scenario_leaves_none_of_the_previous_ones_files() {
    // Defect 7: resurrections.csv of a deletes run survived a --force run without deletes.
    let dir = temp_dir("stale");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    ok(&aesim(&[
        "run",
        &scenario(&dir, "with-deletes", true),
        "--out",
        out_s,
        "-q",
    ]));
    assert!(out.join("resurrections.csv").is_file());
    ok(&aesim(&[
        "run",
        &scenario(&dir, "plain", false),
        "--out",
        out_s,
        "-q",
        "--force",
    ]));
    let fresh = dir.join("fresh");
    ok(&aesim(&[
        "run",
        &scenario(&dir, "plain", false),
        "--out",
        fresh.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(names(&out), names(&fresh));
    assert_eq!(files_under(&out), files_under(&fresh));
}

#[test]
fn a_run_forced_over_a_sweep_replaces_the_whole_sweep_but_not_a_users_file() {
    // Defect 6: sweep.toml, raw.csv and runs/ stayed beside the run's files.
    let dir = temp_dir("run-over-sweep");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    ok(&aesim(&["run", &sweep_scenario(&dir), "--out", out_s, "-q"]));
    assert!(out.join("raw.csv").is_file());
    std::fs::write(out.join("charts").join("my-notes.txt"), "mine").unwrap();
    let run = scenario(&dir, "plain", false);
    let refused = aesim(&["run", &run, "--out", out_s, "-q"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a sweep's results"));
    ok(&aesim(&["run", &run, "--out", out_s, "-q", "--force"]));
    let fresh = dir.join("fresh");
    ok(&aesim(&["run", &run, "--out", fresh.to_str().unwrap(), "-q"]));
    let mut expected = names(&fresh);
    expected.push("charts/my-notes.txt".into());
    expected.sort();
    assert_eq!(names(&out), expected);
    assert_eq!(std::fs::read(out.join("charts/my-notes.txt")).unwrap(), b"mine");
    // `aesim report` works on the folder again: it is a run's.
    ok(&aesim(&["report", out_s]));
}

#[test]
fn a_forced_sweep_removes_only_files_aesim_wrote() {
    // Defect 4: --force deleted the folder's whole charts/ tree.
    let dir = temp_dir("sweep-force");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    ok(&aesim(&["run", &scenario(&dir, "plain", false), "--out", out_s, "-q"]));
    std::fs::write(out.join("charts").join("slide.svg"), "<svg/>").unwrap();
    std::fs::write(out.join("notes.md"), "mine").unwrap();
    let refused = aesim(&["run", &sweep_scenario(&dir), "--out", out_s, "-q"]);
    assert_eq!(refused.status.code(), Some(2));
    ok(&aesim(&["run", &sweep_scenario(&dir), "--out", out_s, "-q", "--force"]));
    assert_eq!(std::fs::read(out.join("charts/slide.svg")).unwrap(), b"<svg/>");
    assert_eq!(std::fs::read(out.join("notes.md")).unwrap(), b"mine");
    assert!(!out.join("run.toml").exists() && !out.join("timeseries.csv").exists());
    assert!(out.join("raw.csv").is_file());
}

#[test]
fn a_users_file_where_aesim_would_write_stops_the_run_even_with_force() {
    let dir = temp_dir("users-report");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "my own report").unwrap();
    for force in [false, true] {
        let mut args = vec!["run".to_string(), scenario(&dir, "plain", false), "--out".into()];
        args.extend([out.to_string_lossy().into_owned(), "-q".into()]);
        if force {
            args.push("--force".into());
        }
        let refused = aesim(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(refused.status.code(), Some(2), "force {force}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("report.md that aesim did not write"), "{stderr}");
        assert!(!stderr.contains("--force"), "{stderr}");
    }
    assert_eq!(std::fs::read(out.join("report.md")).unwrap(), b"my own report");
}

#[test]
fn compare_refuses_to_write_into_a_results_folder_or_over_a_users_report() {
    // Defect 5: `compare A B --out A` overwrote A's report with exit 0.
    let dir = temp_dir("compare-out");
    let a = dir.join("a");
    let b = dir.join("b");
    ok(&aesim(&[
        "run",
        &scenario(&dir, "plain", false),
        "--out",
        a.to_str().unwrap(),
        "-q",
    ]));
    ok(&aesim(&[
        "run",
        &scenario(&dir, "plain", false),
        "--out",
        b.to_str().unwrap(),
        "-q",
        "--seed",
        "4",
    ]));
    let before = files_under(&a);
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let into_run = aesim(&["compare", a_s, b_s, "--out", a_s]);
    assert_eq!(into_run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&into_run.stderr).contains("a run's results folder"));
    assert_eq!(files_under(&a), before);
    let sweep = Path::new(ROOT).join("results/interval-leaves-sweep");
    let sweep_copy = dir.join("sweep");
    std::fs::create_dir_all(&sweep_copy).unwrap();
    for (name, bytes) in files_under(&sweep) {
        let path = sweep_copy.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let sweep_s = sweep_copy.to_str().unwrap();
    let into_sweep = aesim(&["compare", sweep_s, sweep_s, "--out", sweep_s]);
    assert_ne!(into_sweep.status.code(), Some(0));
    let users = dir.join("users");
    std::fs::create_dir_all(&users).unwrap();
    std::fs::write(users.join("report.md"), "mine").unwrap();
    let over_users = aesim(&["compare", a_s, b_s, "--out", users.to_str().unwrap()]);
    assert_ne!(over_users.status.code(), Some(0));
    assert_eq!(std::fs::read(users.join("report.md")).unwrap(), b"mine");
    // A new folder, and again over the comparison it holds: fine.
    let fresh = dir.join("cmp");
    ok(&aesim(&["compare", a_s, b_s, "--out", fresh.to_str().unwrap()]));
    ok(&aesim(&["compare", a_s, b_s, "--out", fresh.to_str().unwrap()]));
    assert!(fresh.join("aesim-manifest.toml").is_file());
}

#[test]
fn a_sweep_killed_while_writing_its_aggregates_leaves_none_of_them() {
    // Defect 9: on a full disk, raw.csv and summary.csv were written without report.md.
    // The test hook aborts once one unit of files passes the byte budget: the runs'
    // files are small, the aggregates (report.html above all) are not.
    let dir = temp_dir("sweep-abort");
    let out = dir.join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_aesim"))
        .args(["run", &sweep_scenario(&dir), "--out", out.to_str().unwrap(), "-q"])
        .env(aesim::output::ABORT_AFTER_BYTES_VAR, "20000")
        .output()
        .unwrap();
    assert_ne!(status.status.code(), Some(0), "the hook should have aborted the sweep");
    let written = names(&out);
    assert!(written.iter().any(|n| n.starts_with("runs/")), "{written:?}");
    for aggregate in ["raw.csv", "summary.csv", "report.md", "report.html"] {
        assert!(
            !out.join(aggregate).exists(),
            "{aggregate} was published alone: {written:?}"
        );
    }
}

/// Issue 27: the loser of two runs into one folder failed with "No such file or
/// directory" (the winner swept its temporaries away), or both "succeeded" and the folder
/// held whichever finished last. A folder in use is now refused at once (exit 2).
#[test]
fn a_run_into_a_folder_another_command_is_writing_is_refused_clearly() {
    use aesim::output::{LockMode, lock_folder};
    let dir = temp_dir("in-use");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    let run = scenario(&dir, "plain", false);
    // This test plays the other command: a single run holding the folder.
    let held = lock_folder(&out, LockMode::Exclusive).unwrap();
    for args in [
        vec!["run", run.as_str(), "--out", out_s, "-q"],
        vec!["run", run.as_str(), "--out", out_s, "-q", "--force"],
        vec!["run", &sweep_scenario(&dir), "--out", out_s, "-q"],
    ] {
        let refused = aesim(&args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("is in use"), "{stderr}");
        assert!(stderr.contains("choose another --out"), "{stderr}");
        assert!(names(&out).is_empty(), "{:?}", names(&out));
    }
    drop(held);
    // Sweep shards share a folder: a shared lock does not stop a sweep, but stops a run.
    let shard = lock_folder(&out, LockMode::Shared).unwrap();
    ok(&aesim(&["run", &sweep_scenario(&dir), "--out", out_s, "-q"]));
    let refused = aesim(&["run", &run, "--out", out_s, "-q", "--force"]);
    assert_eq!(refused.status.code(), Some(2));
    drop(shard);
    ok(&aesim(&["run", &run, "--out", out_s, "-q", "--force"]));
    std::fs::remove_dir_all(&dir).unwrap();
}
