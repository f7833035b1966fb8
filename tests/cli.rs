//! The `aesim` binary: commands, located errors and exit codes.

mod common;

use common::{aesim, files_under, temp_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

fn quickstart() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/quickstart.toml")
}

#[test]
fn check_accepts_the_quickstart() {
    let out = aesim(&["check", quickstart()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (3 strategies"));
}

#[test]
fn run_writes_every_output_and_reports_events_per_second() {
    let dir = temp_dir("run");
    let out = aesim(&["run", quickstart(), "--out", dir.to_str().unwrap(), "--seed", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Data on stdout (the headline, the table), the status line on stderr.
    assert!(stderr.contains("events/s"), "{stderr}");
    assert!(!stdout.contains("events/s"), "{stdout}");
    assert!(stdout.contains("monolithic-1024"), "{stdout}");
    assert!(
        stdout.starts_with("monolithic-1024: a lost write waits "),
        "the headline comes first: {stdout}"
    );
    assert!(
        stdout.contains("unrepaired  censored p50 s"),
        "the censored median beside the open keys: {stdout}"
    );
    for file in aesim::output::RUN_FILES {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let record = std::fs::read_to_string(dir.join("run.toml")).unwrap();
    assert!(record.contains("seed = 5"), "{record}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_prints_each_strategys_wall_time_and_rate_and_changes_no_result() {
    let dir = temp_dir("profile");
    let plain_dir = temp_dir("profile-plain");
    let scenario = small_scenario(&dir, "profiled", "200.0");
    let out = aesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--profile",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let profile: Vec<&str> = stdout.lines().filter(|l| l.starts_with("profile: ")).collect();
    assert_eq!(profile.len(), 1, "one line per strategy: {stdout}");
    let line = profile[0];
    assert!(line.starts_with("profile: monolithic: "), "{line}");
    for part in [" events in ", "M events/s", "x real time", " keys stored"] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("peak memory"));
    // The profile is for the terminal only: the result files are those of a plain run.
    let plain = aesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        plain_dir.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(plain.status.code(), Some(0));
    assert!(
        plain.stdout.is_empty() && plain.stderr.is_empty(),
        "--quiet prints nothing"
    );
    assert_eq!(
        files_under(&dir)
            .into_iter()
            .filter(|(f, _)| !f.ends_with(".toml"))
            .collect::<Vec<_>>(),
        files_under(&plain_dir)
            .into_iter()
            .filter(|(f, _)| !f.ends_with(".toml"))
            .collect::<Vec<_>>()
    );
    for d in [dir, plain_dir] {
        std::fs::remove_dir_all(&d).unwrap();
    }
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

/// A scenario that runs in a fraction of a second; `name` and `seed` vary it.
fn small_scenario(dir: &Path, name: &str, writes_per_s: &str) -> PathBuf {
    let body = format!(
        "name = \"{name}\"\nseed = 3\nduration = \"20s\"\n[cluster]\nkeys = 10_000\nscan_cost_per_key = \"1us\"\n\
         [network]\nloss = 0.05\n[workload]\nwrites_per_s = {writes_per_s}\n\
         [[strategy]]\nkind = \"monolithic\"\nleaves = 64\ninterval = \"5s\"\n"
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn help_documents_the_exit_codes() {
    let out = aesim(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("0  success"), "{help}");
    assert!(help.contains("1  the run failed"), "{help}");
    assert!(help.contains("2  bad scenario file or usage"), "{help}");
}

#[test]
fn unwritable_results_exit_with_1() {
    let dir = temp_dir("unwritable");
    let scenario = small_scenario(&dir, "small", "50.0");
    // The output folder would have to be created inside a regular file.
    let blocker = dir.join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = aesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        blocker.join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write results"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_holding_another_scenario_is_refused_unless_forced() {
    let dir = temp_dir("mixing");
    let first = small_scenario(&dir, "first", "50.0");
    let second = small_scenario(&dir, "second", "60.0");
    let out_dir = dir.join("out");
    let out_arg = out_dir.to_str().unwrap();
    assert_eq!(
        aesim(&["run", first.to_str().unwrap(), "--out", out_arg, "-q"])
            .status
            .code(),
        Some(0)
    );
    let before = files_under(&out_dir);
    let record = String::from_utf8_lossy(&before.iter().find(|f| f.0 == "run.toml").unwrap().1).into_owned();
    assert!(record.contains("scenario_hash = \""), "{record}");

    // The same scenario with another seed replaces every file: allowed.
    let out = aesim(&["run", first.to_str().unwrap(), "--out", out_arg, "-q", "--seed", "9"]);
    assert_eq!(out.status.code(), Some(0));

    let out = aesim(&["run", second.to_str().unwrap(), "--out", out_arg, "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to mix results"), "{stderr}");
    assert!(stderr.contains("'first'"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");

    let out = aesim(&["run", second.to_str().unwrap(), "--out", out_arg, "-q", "--force"]);
    assert_eq!(out.status.code(), Some(0));
    let record = std::fs::read_to_string(out_dir.join("run.toml")).unwrap();
    assert!(record.contains("scenario = \"second\""), "{record}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_killed_mid_write_leaves_the_previous_results_intact() {
    let dir = temp_dir("killed");
    let scenario = small_scenario(&dir, "small", "50.0");
    let out_dir = dir.join("out");
    let out_arg = out_dir.to_str().unwrap();
    assert_eq!(
        aesim(&["run", scenario.to_str().unwrap(), "--out", out_arg, "-q"])
            .status
            .code(),
        Some(0)
    );
    let before = files_under(&out_dir);
    for file in aesim::output::RUN_FILES {
        assert!(before.iter().any(|f| f.0 == *file), "{file} missing");
    }

    // Another seed changes every CSV; the hook aborts the process (SIGABRT, as a kill
    // would) in the middle of the second file.
    let summary_len = before.iter().find(|f| f.0 == "summary.csv").unwrap().1.len();
    let out = Command::new(env!("CARGO_BIN_EXE_aesim"))
        .args(["run", scenario.to_str().unwrap(), "--out", out_arg, "-q", "--seed", "4"])
        .env(aesim::output::ABORT_AFTER_BYTES_VAR, (summary_len + 100).to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "the process was killed by a signal");

    let after = files_under(&out_dir);
    let visible: Vec<_> = after.iter().filter(|f| !f.0.starts_with('.')).cloned().collect();
    assert_eq!(visible, before, "every result file is exactly the previous run's");
    let partial: Vec<_> = after
        .iter()
        .filter(|f| f.0.starts_with('.'))
        .map(|f| f.0.clone())
        .collect();
    assert_eq!(partial.len(), 2, "only hidden temporaries: {partial:?}");
    assert!(
        partial[0].starts_with(".summary.csv.") && partial[0].ends_with(".tmp"),
        "{partial:?}"
    );
    assert!(partial[1].starts_with(".timeseries.csv."), "{partial:?}");

    // The next run completes and removes the killed run's leftovers: their names carry
    // the dead process's id, so nothing else would ever replace them.
    let out = aesim(&["run", scenario.to_str().unwrap(), "--out", out_arg, "-q", "--seed", "4"]);
    assert_eq!(out.status.code(), Some(0));
    let after = files_under(&out_dir);
    let hidden: Vec<_> = after
        .iter()
        .filter(|f| f.0.split('/').any(|part| part.starts_with('.')))
        .map(|f| f.0.clone())
        .collect();
    assert_eq!(hidden, Vec::<String>::new(), "no temporary survives the next run");
    assert_ne!(after, before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_scenario_over_the_memory_limit_is_refused_with_its_estimate() {
    let dir = temp_dir("memory");
    // 10^6 writes/s for 20 s onto 10^7 keys: the estimate is in the gigabytes.
    let body = std::fs::read_to_string(small_scenario(&dir, "big", "1000000.0"))
        .unwrap()
        .replace("keys = 10_000", "keys = 10_000_000");
    let path = dir.join("big.toml");
    std::fs::write(&path, body).unwrap();
    let out = aesim(&[
        "run",
        path.to_str().unwrap(),
        "--memory-limit",
        "256MiB",
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs an estimated 1.2 GiB of memory, more than the limit of 256.0 MiB"),
        "{stderr}"
    );
    assert!(
        stderr.contains(", tree cache "),
        "the tree cache is one of the parts: {stderr}"
    );
    assert!(!dir.join("o").exists(), "nothing was written");
    // A sweep is refused on its largest run times the runs at once.
    let sweep = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/interval-leaves-sweep.toml");
    let out = aesim(&[
        "run",
        sweep,
        "--memory-limit",
        "10MiB",
        "--jobs",
        "2",
        "--out",
        dir.join("s").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the sweep of"), "{stderr}");
    assert!(
        stderr.contains("2 at once), more than the limit of 10.0 MiB"),
        "{stderr}"
    );
    assert!(!dir.join("s").exists(), "nothing was written");
    // A bad limit is a usage error.
    let out = aesim(&["run", path.to_str().unwrap(), "--memory-limit", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_seed_toml_cannot_hold_is_refused_naming_the_limit() {
    // run.toml and the scenario echo record the seed as a TOML integer (signed 64-bit):
    // a larger seed would write a record that cannot be read back.
    let dir = temp_dir("huge-seed");
    let out = aesim(&[
        "run",
        quickstart(),
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        "18446744073709551615",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--seed 18446744073709551615: seeds must be at most 9223372036854775807"),
        "{stderr}"
    );
    assert!(!dir.join("run.toml").exists());
    // The largest accepted seed reads back from run.toml.
    let scenario = small_scenario(&dir, "max-seed", "10.0");
    let out = aesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "-q",
        "--seed",
        "9223372036854775807",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let record: toml::Table = std::fs::read_to_string(dir.join("run.toml")).unwrap().parse().unwrap();
    assert_eq!(record["seed"].as_integer(), Some(i64::MAX));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unclear_inputs_get_messages_that_say_what_to_fix() {
    let dir = temp_dir("messages");
    // A scenario that is not UTF-8: located at the bad byte, not at 0:0.
    let latin1 = dir.join("latin1.toml");
    std::fs::write(&latin1, b"name = \"x\"\nseed = 1\ndescription = \"caf\xe9\"\n").unwrap();
    let out = aesim(&["check", latin1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not UTF-8 text: byte 0xE9"), "{stderr}");
    assert!(stderr.contains("latin1.toml:3:19"), "{stderr}");
    assert!(stderr.contains("save the file as UTF-8"), "{stderr}");
    assert!(!stderr.contains("check the path"), "{stderr}");
    // A file that cannot be read names the file, not a position `:0:0` in it.
    let missing = dir.join("missing.toml");
    let stderr = String::from_utf8_lossy(&aesim(&["check", missing.to_str().unwrap()]).stderr).into_owned();
    assert!(stderr.contains(&format!("--> {}\n", missing.display())), "{stderr}");
    assert!(!stderr.contains(":0:0"), "{stderr}");

    // Serde's Rust type names stay out of the messages.
    let typed = dir.join("typed.toml");
    std::fs::write(
        &typed,
        "name = \"x\"\nseed = 1\nduration = \"10s\"\n[cluster]\nkeys = -1\n[network]\nlatency = 5\n\
         [workload]\nwrites_per_s = 1.0\n",
    )
    .unwrap();
    let stderr = String::from_utf8_lossy(&aesim(&["check", typed.to_str().unwrap()]).stderr).into_owned();
    assert!(stderr.contains("expected a whole number >= 0"), "{stderr}");
    for leak in ["u64", "LatencyFile", "internally tagged"] {
        assert!(!stderr.contains(leak), "{leak} in {stderr}");
    }
    std::fs::write(&typed, "name = \"x\"\nseed = 1\nduration = \"10s\"\n[cluster]\nkeys = 10\n[network]\nlatency = 5\n[workload]\nwrites_per_s = 1.0\n").unwrap();
    let stderr = String::from_utf8_lossy(&aesim(&["check", typed.to_str().unwrap()]).stderr).into_owned();
    assert!(stderr.contains("expected a table with a `kind`"), "{stderr}");
    assert!(!stderr.contains("LatencyFile"), "{stderr}");

    // --out naming a file: said so, not "File exists".
    let scenario = small_scenario(&dir, "to-a-file", "10.0");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = aesim(&["run", scenario.to_str().unwrap(), "--out", file.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is a file, not a folder"), "{stderr}");
    assert!(!stderr.contains("File exists"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_whose_report_cannot_be_written_publishes_nothing() {
    let dir = temp_dir("all-or-nothing");
    let scenario = small_scenario(&dir, "whole", "50.0");
    let out_dir = dir.join("out");
    let out_arg = out_dir.to_str().unwrap();
    let first = aesim(&["run", scenario.to_str().unwrap(), "--out", out_arg, "-q"]);
    assert_eq!(first.status.code(), Some(0));
    // charts/ replaced by a file: the charts cannot be written.
    std::fs::remove_dir_all(out_dir.join("charts")).unwrap();
    std::fs::write(out_dir.join("charts"), "in the way").unwrap();
    let before = files_under(&out_dir);
    let out = aesim(&["run", scenario.to_str().unwrap(), "--out", out_arg, "-q", "--seed", "8"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("previous results, if any, are intact"), "{stderr}");
    assert_eq!(files_under(&out_dir), before, "no CSV of the failed run was published");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `aesim run ... | head`: the reader goes away; aesim must end quietly, not panic.
#[test]
#[cfg(unix)]
fn a_closed_pipe_ends_the_run_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("closed-pipe");
    let scenario = small_scenario(&dir, "piped", "10.0");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aesim"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        output.status.success() || output.status.signal() == Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        output.status
    );
    assert!(
        dir.join("out/summary.csv").exists(),
        "results are written before anything is printed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quiet_and_color_are_accepted_by_every_subcommand() {
    for args in [
        &["check", quickstart(), "-q"][..],
        &["presets", "list", "-q", "--color", "never"],
        &["--color", "always", "presets", "show", "naive"],
        &["reference", "-q"],
    ] {
        let out = aesim(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(aesim(&["check", quickstart(), "-q"]).stdout.is_empty());
    let bad = aesim(&["--color", "sometimes", "presets", "list"]);
    assert_eq!(bad.status.code(), Some(2), "an unknown --color value is a usage error");
}

#[test]
fn every_subcommand_shows_examples_in_its_help() {
    for command in ["run", "report", "compare", "check", "merge"] {
        let out = aesim(&[command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Example"), "{command} --help: {help}");
        assert!(help.contains(&format!("aesim {command} ")), "{command} --help: {help}");
    }
}

#[test]
fn presets_list_and_show_every_knob_with_its_source() {
    let list = String::from_utf8_lossy(&aesim(&["presets", "list"]).stdout).into_owned();
    for name in ["cassandra-full", "reaper", "riak-tictac"] {
        assert!(list.lines().any(|l| l.starts_with(name)), "{name} in {list}");
    }
    let show = String::from_utf8_lossy(&aesim(&["presets", "show", "reaper"]).stdout).into_owned();
    assert!(show.contains("segment_timeout"), "{show}");
    assert!(show.contains("= \"30min\""), "{show}");
    assert!(show.contains("hangingRepairTimeoutMins"), "the source: {show}");
    let json = aesim(&["presets", "show", "cassandra-incremental", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["schema_version"], aesim::JSON_SCHEMA_VERSION);
    let knobs = value["knobs"].as_array().unwrap();
    let optional = knobs
        .iter()
        .find(|k| k["key"] == "anticompaction_cost_per_key")
        .unwrap();
    assert_eq!(optional["set"], false, "a commented-out knob is shown as not set");
    assert!(
        knobs.iter().all(|k| !k["source"].as_str().unwrap().is_empty()),
        "{knobs:?}"
    );
    let unknown = aesim(&["presets", "show", "reapr"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean \"reaper\""));
}

#[test]
fn a_run_of_more_events_than_the_limit_is_refused_unless_allowed() {
    let dir = temp_dir("events");
    // 10^9 writes/s for 20 s: 2 x 10^10 client writes, each with its replication and
    // the repair work it causes, far over the limit of 10^10.
    let path = small_scenario(&dir, "forever", "1000000000.0");
    let out = aesim(&["run", path.to_str().unwrap(), "--out", dir.join("o").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is estimated at 1.4e11 events, more than the limit of 1e10"),
        "{stderr}"
    );
    assert!(
        stderr.contains("client writes and replication 1.0e11 (the largest)"),
        "the breakdown names the source: {stderr}"
    );
    assert!(stderr.contains("--allow-long-run"), "{stderr}");
    assert!(!dir.join("o").exists(), "nothing was written");
    // `aesim check` accepts the file and says why `run` would refuse it.
    let out = aesim(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("events: at most about 1.4e11"), "{stdout}");
    assert!(stdout.contains("warning: `aesim run` refuses this"), "{stdout}");
    // The quickstart is far below the limit and prints no warning.
    let out = aesim(&["check", quickstart()]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("warning"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_format_json_gives_the_estimates_or_every_located_error() {
    let out = aesim(&["check", quickstart(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["strategies"].as_array().unwrap().len(), 3);
    assert_eq!(doc["keys"], 1_000_000);
    let parts = doc["memory"]["parts"].as_array().unwrap();
    let sum: u64 = parts.iter().map(|p| p["bytes"].as_u64().unwrap()).sum();
    assert!(
        sum <= doc["memory"]["total_bytes"].as_u64().unwrap(),
        "parts within the total"
    );
    assert_eq!(doc["events"]["refused_without_allow_long_run"], false);
    assert_eq!(doc["events"]["limit"], 10_000_000_000u64);
    // An invalid file: exit 2 and each error with its line, column and hint.
    let dir = temp_dir("check-json");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "name = \"x\"\nseed = 1\nduration = \"0s\"\n[cluster]\nkeys = 10\n[workload]\nwrites_per_s = 1.0\n\
         [[strategy]]\nkind = \"monolithic\"\nleaves = 4\ninterval = \"1s\"\n",
    )
    .unwrap();
    let out = aesim(&["check", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["ok"], false);
    let error = &doc["errors"][0];
    assert_eq!(
        (error["path"].as_str(), error["line"].as_u64(), error["column"].as_u64()),
        (Some("duration"), Some(3), Some(12))
    );
    assert_eq!(error["message"], "`duration` must be positive, got 0s");
    // A bad --set is located on the command line.
    let out = aesim(&["check", quickstart(), "--format", "json", "--set", "cluster.kes=4"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["errors"][0]["origin"], "the command line");
    assert_eq!(doc["errors"][0]["hint"], "did you mean `keys`?");
    std::fs::remove_dir_all(&dir).unwrap();
}
