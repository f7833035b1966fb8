//! The `aesim` binary: commands, located errors and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn aesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aesim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aesim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn quickstart() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/quickstart.toml")
}

#[test]
fn check_accepts_the_quickstart() {
    let out = aesim(&["check", quickstart()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (2 strategies"));
}

#[test]
fn run_writes_every_output_and_reports_events_per_second() {
    let dir = temp_dir("run");
    let out = aesim(&["run", quickstart(), "--out", dir.to_str().unwrap(), "--seed", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("events/s"), "{stdout}");
    assert!(stdout.contains("monolithic-1024"), "{stdout}");
    for file in aesim::output::RUN_FILES {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let record = std::fs::read_to_string(dir.join("run.toml")).unwrap();
    assert!(record.contains("seed = 5"), "{record}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// 1-based line of the first line of `body` starting with `text`.
fn line_of(body: &str, text: &str) -> usize {
    body.lines().position(|l| l.starts_with(text)).expect("text present") + 1
}

fn check_error(name: &str, body: &str) -> String {
    let dir = temp_dir(name);
    let path: &Path = &dir.join("bad.toml");
    std::fs::write(path, body).unwrap();
    let out = aesim(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "bad scenarios exit with 2");
    std::fs::remove_dir_all(&dir).unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_unknown_field_is_located_with_a_suggestion() {
    let body = std::fs::read_to_string(quickstart())
        .unwrap()
        .replace("loss = 0.01", "lose = 0.01");
    let stderr = check_error("unknown", &body);
    assert!(stderr.contains("unknown field `lose`"), "{stderr}");
    assert!(
        stderr.contains(&format!("bad.toml:{}:1\n", line_of(&body, "lose = "))),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `loss`?"), "{stderr}");
}

#[test]
fn invalid_values_are_all_reported_with_locations() {
    let body = std::fs::read_to_string(quickstart())
        .unwrap()
        .replace("loss = 0.01", "loss = 1.5")
        .replace("leaves = 1024", "leaves = 1000");
    let stderr = check_error("invalid", &body);
    assert!(
        stderr.contains("`network.loss` must be a probability in [0, 1], got 1.5"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("bad.toml:{}:8\n", line_of(&body, "loss = "))),
        "{stderr}"
    );
    assert!(
        stderr.contains("`strategy[0].leaves` must be a power of two"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors"), "{stderr}");
}

#[test]
fn a_bad_duration_is_located() {
    let body = std::fs::read_to_string(quickstart())
        .unwrap()
        .replace("duration = \"10min\"", "duration = \"ten minutes\"");
    let stderr = check_error("duration", &body);
    assert!(stderr.contains("expected a duration"), "{stderr}");
    assert!(
        stderr.contains(&format!("bad.toml:{}:12\n", line_of(&body, "duration = "))),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_and_bad_usage_exit_with_2() {
    assert_eq!(aesim(&["check", "/nonexistent/x.toml"]).status.code(), Some(2));
    assert_eq!(aesim(&["frobnicate"]).status.code(), Some(2));
}
