//! Sweeps on cluster engines: `--shard auto` under Slurm's and Kubernetes' variables
//! covers every run exactly once (and fails clearly without them), `sweep status`
//! names a missing shard and a damaged run file and prints commands that, run as
//! printed, finish the sweep byte-identically, `merge` names what it lacks, and
//! `sweep plan` writes job files that run exactly those commands. The real Slurm run
//! is `scripts/slurm-local-test` (in `.ci/run`, not in `cargo test`).

use aesim::scenario::ScenarioDocument;
use aesim::sweep::Plan;
use aesim::sweep::engine::shard_from;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{files_under, temp_dir};

/// The committed smoke sweep: 4 points x 3 replications = 12 runs.
const SWEEP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sweeps/smoke-sweep.toml");

/// The variables of every engine, removed from each child so that the test machine's
/// own environment (a CI job inside Slurm, say) cannot leak in.
const ENGINE_VARS: [&str; 11] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_JOB_ID",
    "SLURM_CPUS_PER_TASK",
    "SLURM_CPUS_ON_NODE",
    "JOB_COMPLETION_INDEX",
    "AESIM_SHARD_COUNT",
    "AESIM_UNUSED",
];

fn aesim_env(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aesim"));
    command.args(args);
    for var in ENGINE_VARS {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

fn aesim(args: &[&str]) -> Output {
    aesim_env(args, &[])
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

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` but temporaries (names starting with '.').
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let hidden = |name: &str| name.split(std::path::MAIN_SEPARATOR).any(|part| part.starts_with('.'));
    files_under(dir).into_iter().filter(|(name, _)| !hidden(name)).collect()
}

/// The Slurm variables of task `id` of an array `min..=max` with `step`.
fn slurm(id: u64, min: u64, max: u64, step: u64) -> Vec<(&'static str, String)> {
    let count = (max - min) / step + 1;
    vec![
        ("SLURM_ARRAY_TASK_ID", id.to_string()),
        ("SLURM_ARRAY_TASK_COUNT", count.to_string()),
        ("SLURM_ARRAY_TASK_MIN", min.to_string()),
        ("SLURM_ARRAY_TASK_MAX", max.to_string()),
        ("SLURM_ARRAY_TASK_STEP", step.to_string()),
        ("SLURM_JOB_ID", "77".to_string()),
    ]
}

fn lookup<'a>(vars: &'a [(&'static str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
    |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
}

/// The plan index of every run each task of an engine takes, checked to cover the plan
/// exactly once.
fn assert_covers_exactly_once(tasks: &[Vec<(&'static str, String)>], runs: usize, what: &str) {
    let mut taken = vec![0usize; runs];
    for vars in tasks {
        let shard = shard_from(lookup(vars)).unwrap_or_else(|e| panic!("{what}: {e}")).shard;
        assert_eq!(shard.count, tasks.len(), "{what}");
        for (run, count) in taken.iter_mut().enumerate() {
            if shard.contains(run) {
                *count += 1;
            }
        }
    }
    assert!(taken.iter().all(|&n| n == 1), "{what}: runs taken {taken:?}");
}

#[test]
fn shard_auto_maps_every_engines_tasks_onto_every_run_exactly_once() {
    let document = ScenarioDocument::load(Path::new(SWEEP), Vec::new()).unwrap();
    let runs = Plan::new(document).unwrap().unwrap().runs.len();
    assert_eq!(runs, 12);
    // Slurm: 1-based (--array=1-4), 0-based (0-3), an offset (5-8), a step (0-9:3, so
    // 0, 3, 6, 9), an offset and a step (10-22:4), one task, and a task per run.
    for (min, max, step) in [
        (1, 4, 1),
        (0, 3, 1),
        (5, 8, 1),
        (0, 9, 3),
        (10, 22, 4),
        (1, 1, 1),
        (0, 11, 1),
    ] {
        let tasks: Vec<_> = (min..=max)
            .step_by(step as usize)
            .map(|id| slurm(id, min, max, step))
            .collect();
        assert_covers_exactly_once(&tasks, runs, &format!("--array={min}-{max}:{step}"));
    }
    // Slurm before it set the step: the step follows from the bounds and the count.
    let tasks: Vec<_> = (0..=9)
        .step_by(3)
        .map(|id| {
            let mut vars = slurm(id, 0, 9, 3);
            vars.retain(|(k, _)| *k != "SLURM_ARRAY_TASK_STEP");
            vars
        })
        .collect();
    assert_covers_exactly_once(&tasks, runs, "no SLURM_ARRAY_TASK_STEP");
    // Kubernetes: JOB_COMPLETION_INDEX is 0-based; the count comes from AESIM_SHARD_COUNT.
    for count in [1u64, 3, 4, 12] {
        let tasks: Vec<_> = (0..count)
            .map(|i| {
                vec![
                    ("JOB_COMPLETION_INDEX", i.to_string()),
                    ("AESIM_SHARD_COUNT", count.to_string()),
                ]
            })
            .collect();
        assert_covers_exactly_once(&tasks, runs, &format!("Indexed Job of {count}"));
    }
    let source = shard_from(lookup(&slurm(8, 0, 12, 4))).unwrap();
    assert_eq!((source.shard.index, source.shard.count), (3, 4));
    assert_eq!(source.source, "SLURM_ARRAY_TASK_ID=8 of 0-12:4");
}

#[test]
fn shard_auto_fails_clearly_without_or_with_inconsistent_variables() {
    let error = |vars: Vec<(&'static str, String)>| shard_from(lookup(&vars)).unwrap_err();
    let none = error(vec![]);
    assert!(
        none.contains("neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set"),
        "{none}"
    );
    let not_array = error(vec![("SLURM_JOB_ID", "5".into())]);
    assert!(
        not_array.contains("not an array task: submit it with sbatch --array=1-N"),
        "{not_array}"
    );
    let no_count = error(vec![("JOB_COMPLETION_INDEX", "2".into())]);
    assert!(
        no_count.contains("set AESIM_SHARD_COUNT") && no_count.contains("--shard 3/N"),
        "{no_count}"
    );
    let past = error(vec![
        ("JOB_COMPLETION_INDEX", "4".into()),
        ("AESIM_SHARD_COUNT", "4".into()),
    ]);
    assert!(past.contains("is not below AESIM_SHARD_COUNT=4"), "{past}");
    // --array=1,3,7: three tasks whose IDs are no regular range.
    let mut list = slurm(3, 1, 7, 1);
    list[1].1 = "3".into();
    assert!(error(list).contains("is not a regular range"));
    // A task off its array's step.
    assert!(error(slurm(2, 0, 9, 3)).contains("is not a regular range"));
    let mut both = slurm(1, 1, 4, 1);
    both.push(("JOB_COMPLETION_INDEX", "0".into()));
    assert!(error(both).contains("both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX"));
    let mut garbage = slurm(1, 1, 4, 1);
    garbage[0].1 = "one".into();
    assert!(error(garbage).contains("SLURM_ARRAY_TASK_ID=one is not a task number"));

    // Through the binary: exit code 2 and the message, nothing run.
    let dir = temp_dir("auto-errors");
    let out = aesim(&["run", SWEEP, "--shard", "auto", "--out", path(&dir.join("x"))]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--shard auto: neither SLURM_ARRAY_TASK_ID"), "{stderr}");
    assert!(!dir.join("x").exists(), "nothing is written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The Slurm array's tasks, each in its own folder with `--shard auto` and `--jobs`
/// from SLURM_CPUS_PER_TASK, merged: the bytes of the single-machine sweep.
#[test]
fn slurm_array_tasks_with_shard_auto_merge_to_the_single_machine_bytes() {
    let dir = temp_dir("slurm-env");
    let whole = dir.join("whole");
    ok(&aesim(&["run", SWEEP, "--quiet", "--out", path(&whole)]));
    let mut parts = Vec::new();
    // --array=0-6:2: task IDs 0, 2, 4, 6.
    for id in [0u64, 2, 4, 6] {
        let part = dir.join(format!("task-{id}"));
        let mut env = slurm(id, 0, 6, 2);
        env.push(("SLURM_CPUS_PER_TASK", "1".into()));
        let stdout = ok(&aesim_env(
            &["run", SWEEP, "--shard", "auto", "--out", path(&part)],
            &env,
        ));
        let index = id / 2 + 1;
        assert!(
            stdout.starts_with(&format!(
                "shard {index}/4 from SLURM_ARRAY_TASK_ID={id} of 0-6:2; --jobs 1 from SLURM_CPUS_PER_TASK\n"
            )),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("shard {index}/4: 3 of them; ran 3")),
            "{stdout}"
        );
        parts.push(part);
    }
    let merged = dir.join("merged");
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(parts.iter().map(|p| path(p)));
    args.extend(["--out", path(&merged)]);
    ok(&aesim(&args));
    assert_eq!(tree(&merged), tree(&whole));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Splits a printed command into words (the test's paths need no quoting) and runs it
/// with the test's binary in place of `aesim`.
fn run_printed(line: &str) -> Output {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[0], "aesim", "{line}");
    aesim(&words[1..])
}

#[test]
fn status_names_a_missing_shard_and_a_truncated_run_and_its_commands_finish_the_sweep() {
    let dir = temp_dir("status");
    let whole = dir.join("whole");
    ok(&aesim(&["run", SWEEP, "--quiet", "--out", path(&whole)]));
    // Shards 1 to 3 of 4 ran, each in its own folder; shard 4 never did.
    let parts: Vec<PathBuf> = (1..=4).map(|i| dir.join(format!("part{i}"))).collect();
    for (i, part) in parts.iter().enumerate().take(3) {
        let shard = format!("{}/4", i + 1);
        ok(&aesim(&[
            "run",
            SWEEP,
            "--shard",
            &shard,
            "--quiet",
            "--out",
            path(part),
        ]));
    }
    // One run file of shard 2 is cut short (a node died while copying it back).
    let mut runs: Vec<PathBuf> = std::fs::read_dir(parts[1].join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    let truncated = runs[0].clone();
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();

    let merged = dir.join("merged");
    let given: Vec<&str> = parts[..3].iter().map(|p| path(p)).collect();
    let mut args = vec!["sweep", "status"];
    args.extend(&given);
    args.extend(["--shards", "4", "--out", path(&merged)]);
    let out = aesim(&args);
    assert_eq!(out.status.code(), Some(1), "incomplete: exit code 1");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(report.contains("12 runs; 8 done, 3 missing, 1 corrupt"), "{report}");
    let line = |prefix: &str| {
        report
            .lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in\n{report}"))
            .to_string()
    };
    assert!(line("shard 1/4").ends_with("3 of 3 runs done"), "{report}");
    let shard2 = line("shard 2/4");
    assert!(shard2.contains("2 of 3 runs done; corrupt"), "{report}");
    assert!(shard2.contains(path(&truncated)), "names the file: {report}");
    let shard4 = line("shard 4/4");
    assert!(
        shard4.contains(
            "(no folder): 0 of 3 runs done; missing: run 3 (point 1, replication 0), \
                         run 7 (point 2, replication 1), run 11 (point 3, replication 2)"
        ),
        "{report}"
    );
    // The commands: rerun shard 2 in its folder, run shard 4 into a new one beside the
    // others, merge all four.
    let commands: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("to run exactly what is missing"))
        .skip(1)
        .map(str::trim)
        .collect();
    let scenario = parts[0].join("scenario.toml");
    assert_eq!(
        commands,
        vec![
            format!("aesim run {} --shard 2/4 --out {}", path(&scenario), path(&parts[1])),
            format!("aesim run {} --shard 4/4 --out {}", path(&scenario), path(&parts[3])),
            format!(
                "aesim merge {} {} {} {} --out {}",
                path(&parts[0]),
                path(&parts[1]),
                path(&parts[2]),
                path(&parts[3]),
                path(&merged)
            ),
        ]
    );
    // Merging now names what is missing, by shard.
    let mut args = vec!["merge"];
    args.extend(&given);
    let early = dir.join("early");
    args.extend(["--out", path(&early)]);
    let out = aesim(&args);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("3 of the sweep's 12 runs are in none of the partial results"),
        "{stderr}"
    );
    assert!(stderr.contains("shard 4/4 (no folder): 0 of 3 runs done"), "{stderr}");
    assert!(
        stderr.contains(&format!("{} is incomplete or damaged", path(&truncated))),
        "{stderr}"
    );
    assert!(stderr.contains("shard 2/4") && stderr.contains("corrupt"), "{stderr}");

    // Run as printed: only the missing and corrupt runs are simulated.
    let rerun = ok(&run_printed(commands[0]));
    assert!(rerun.contains("ran 1, 2 already done"), "{rerun}");
    let rerun = ok(&run_printed(commands[1]));
    assert!(rerun.contains("ran 3, 0 already done"), "{rerun}");
    ok(&run_printed(commands[2]));
    assert_eq!(tree(&merged), tree(&whole));
    let mut args = vec!["sweep", "status"];
    args.extend(parts.iter().map(|p| path(p)));
    let report = ok(&aesim(&args));
    assert!(report.contains("12 done, 0 missing, 0 corrupt"), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_of_one_folder_resumes_it_in_place() {
    let dir = temp_dir("status-one");
    let whole = dir.join("whole");
    ok(&aesim(&["run", SWEEP, "--quiet", "--out", path(&whole)]));
    let out = dir.join("out");
    ok(&aesim(&[
        "run",
        SWEEP,
        "--shard",
        "1/2",
        "--quiet",
        "--out",
        path(&out),
    ]));
    let status = aesim(&["sweep", "status", path(&out)]);
    assert_eq!(status.status.code(), Some(1));
    let report = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(report.contains("6 done, 6 missing, 0 corrupt"), "{report}");
    let command = report.lines().last().unwrap().trim();
    assert_eq!(
        command,
        format!("aesim run {} --out {}", path(&out.join("scenario.toml")), path(&out))
    );
    ok(&run_printed(command));
    assert_eq!(tree(&out), tree(&whole));
    // Bad input: more shards than runs, no such folders, a folder that is no sweep's.
    let too_many = aesim(&["sweep", "status", path(&out), "--shards", "13"]);
    assert_eq!(too_many.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&too_many.stderr).contains("has only 12 runs"));
    let missing = aesim(&["sweep", "status", path(&dir.join("nowhere"))]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none of the folders exists"));
    let not_sweep = aesim(&["sweep", "status", path(&dir)]);
    assert_eq!(not_sweep.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_sweep.stderr).contains("not a sweep's result folder"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plan_reports_costs_and_writes_job_files_that_run_the_documented_commands() {
    let report = ok(&aesim(&["sweep", "plan", SWEEP]));
    assert!(
        report.contains("sweep smoke-sweep: 4 points x 3 replications = 12 runs"),
        "{report}"
    );
    assert!(report.contains("each run: at least 24014 to 24014 events"), "{report}");
    assert!(report.contains("memory at most"), "{report}");
    assert!(report.contains("4 shards of      3 runs each"), "{report}");

    let script = ok(&aesim(&[
        "sweep",
        "plan",
        SWEEP,
        "--slurm",
        "--shards",
        "4",
        "--cpus-per-task",
        "2",
        "--out",
        "results/smoke",
    ]));
    for expected in [
        "#SBATCH --array=1-4\n",
        "#SBATCH --cpus-per-task=2\n",
        &format!("exec aesim run {SWEEP} --shard auto --out results/smoke.shards/shard-\"$SLURM_ARRAY_TASK_ID\"\n"),
        "--dependency=afterok:\"$array_job\" --kill-on-invalid-dep=yes",
        "exec aesim merge results/smoke.shards/shard-1 results/smoke.shards/shard-2 \
         results/smoke.shards/shard-3 results/smoke.shards/shard-4 --out results/smoke\n",
    ] {
        assert!(script.contains(expected), "{expected:?} not in\n{script}");
    }
    let manifest = ok(&aesim(&[
        "sweep",
        "plan",
        SWEEP,
        "--kubernetes",
        "--shards",
        "3",
        "--set",
        "sweep.replications=2",
    ]));
    for expected in [
        "completionMode: Indexed\n",
        "completions: 3\n",
        "value: \"3\"\n",
        "--set sweep.replications=2 --shard auto --out results/smoke-sweep.shards/shard-\\\"$((JOB_COMPLETION_INDEX + 1))\\\"",
        "suspend: true\n",
    ] {
        assert!(manifest.contains(expected), "{expected:?} not in\n{manifest}");
    }
    // Bad input: no sweep, too many shards.
    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/quickstart.toml");
    let out = aesim(&["sweep", "plan", quickstart, "--slurm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no [sweep] table"));
    let out = aesim(&["sweep", "plan", SWEEP, "--slurm", "--shards", "13"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only 12 runs"));
}

/// Issue 27: `--aesim ''` wrote a broken job script; a scenario name with dots, capitals
/// and runs of symbols made a manifest Kubernetes rejects; a bad claim name too.
#[test]
fn generated_jobs_refuse_an_empty_command_and_keep_kubernetes_names_valid() {
    let smoke = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sweeps/smoke-sweep.toml");
    let empty = common::aesim(&["sweep", "plan", smoke, "--slurm", "--shards", "2", "--aesim", ""]);
    assert_eq!(
        empty.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&empty.stdout)
    );
    let claim = common::aesim(&[
        "sweep",
        "plan",
        smoke,
        "--kubernetes",
        "--shards",
        "2",
        "--volume-claim",
        "My_Claim",
    ]);
    assert_eq!(claim.status.code(), Some(2));
    let dir = common::temp_dir("k8s-names");
    let text = std::fs::read_to_string(smoke).unwrap().replace(
        "name = \"smoke-sweep\"",
        "name = \"Smoke..Sweep__of_a_Very-Long-Name-Indeed-Far-Beyond-Limits-\"",
    );
    let path = dir.join("named.toml");
    std::fs::write(&path, text).unwrap();
    let manifest = common::aesim(&["sweep", "plan", path.to_str().unwrap(), "--kubernetes", "--shards", "2"]);
    assert_eq!(
        manifest.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&manifest.stderr)
    );
    let yaml = String::from_utf8_lossy(&manifest.stdout);
    for line in yaml.lines().filter(|l| l.trim_start().starts_with("name: aesim-")) {
        let name = line.trim_start().trim_start_matches("name: ");
        let label = |n: &str| {
            n.len() <= 63
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !n.starts_with('-')
                && !n.ends_with('-')
                && !n.contains("--")
        };
        assert!(label(name), "{name}");
    }
}

/// Issue 27: `sweep status --shards N` over a complete folder (and a shard's copy) printed
/// `aesim merge shard-1 shard-2 ... --out ...`, naming folders that do not exist. The
/// merge now names only folders that exist or that a printed command creates, and the
/// report says which given folders are missing.
#[test]
fn status_merges_only_folders_that_exist_and_names_the_missing_ones() {
    let dir = temp_dir("status-exist");
    let whole = dir.join("whole");
    ok(&aesim(&["run", SWEEP, "--quiet", "--out", path(&whole)]));
    let part = dir.join("part1");
    ok(&aesim(&[
        "run",
        SWEEP,
        "--shard",
        "1/5",
        "--quiet",
        "--out",
        path(&part),
    ]));
    let absent = dir.join("part2");
    let merged = dir.join("merged");
    let report = ok(&aesim(&[
        "sweep",
        "status",
        path(&whole),
        path(&part),
        path(&absent),
        "--shards",
        "5",
        "--out",
        path(&merged),
    ]));
    assert!(report.contains("12 done, 0 missing, 0 corrupt"), "{report}");
    assert!(
        report.contains(&format!("(no such folder: {};", path(&absent))),
        "{report}"
    );
    assert!(
        report.contains(&format!("shard 3/5 (runs in {})", path(&whole))),
        "{report}"
    );
    let command = report.lines().last().unwrap().trim();
    assert_eq!(
        command,
        // Every run is found first in `whole`: the copy in part1 adds nothing.
        format!("aesim merge {} --out {}", path(&whole), path(&merged))
    );
    ok(&run_printed(command));
    assert_eq!(tree(&merged), tree(&whole));
    std::fs::remove_dir_all(&dir).unwrap();
}
