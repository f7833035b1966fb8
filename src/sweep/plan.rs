//! `aesim sweep plan`: what a sweep will cost and how to hand it to a cluster engine.
//!
//! The report gives the number of runs, each run's cost estimated from the scenario
//! alone (events simulated, memory from [`crate::resources::estimate`], CPU time at a
//! nominal event rate) and the wall time per shard for a few shard counts. The job files
//! are generated, never hand-written: a Slurm submission script (a job array of
//! `aesim run --shard auto`, one folder per shard, and a merge job that depends on the
//! whole array) and a Kubernetes manifest (the scenario as a ConfigMap, an Indexed Job,
//! and a suspended merge Job). Both run exactly the commands docs/cli.md documents and
//! `scripts/slurm-local-test` submits. This module writes text only; it runs nothing.

use super::Plan;
use super::status::quote;
use crate::resources::{self, format_bytes};
use crate::scenario::Scenario;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Events per second one CPU simulates, for the time estimates: the order of what the
/// docs/reference.md's Performance section measures (1 to 1.7 M events/s), rounded down.
pub const EVENTS_PER_CPU_SECOND: f64 = 1.0e6;
/// A shard is suggested to take at most this long (seconds of estimated wall time).
const SHARD_WALL_TARGET_S: f64 = 3600.0;

/// Which engine's job files to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The report only.
    None,
    Slurm,
    Kubernetes,
}

/// How the sweep is to be split and where things go.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The scenario file as the job will name it (relative to the submission folder).
    pub scenario: PathBuf,
    /// Where the merged results go; shard folders are `<out>.shards/shard-<i>`.
    pub out: PathBuf,
    /// Shards (array tasks); `None`: the suggested count.
    pub shards: Option<usize>,
    /// CPUs per shard (`--cpus-per-task`, the CPU request): each shard runs that many
    /// runs at once.
    pub cpus_per_task: usize,
    /// The command that runs aesim on the cluster's nodes.
    pub aesim: String,
    /// Kubernetes: the container image holding aesim.
    pub image: String,
    /// Kubernetes: the PersistentVolumeClaim (ReadWriteMany) the shards write to.
    pub volume_claim: String,
}

/// The estimated cost of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunCost {
    /// Events simulated over all strategies, a floor: each client write, its
    /// replication messages (one per other replica) and the samples; anti-entropy adds
    /// from a few percent to many times as many (14x with 10,000 segments and 16
    /// workers in `segments-workers-sweep`).
    pub events: u64,
    /// The event bound's upper estimate ([`resources::estimate_events`]: sessions,
    /// streams and timers included), what a time limit should be planned on.
    pub events_at_most: u64,
    /// Estimated peak memory of the run alone.
    pub memory_bytes: u64,
}

impl RunCost {
    /// CPU seconds of the floor.
    pub fn cpu_seconds(&self) -> f64 {
        self.events as f64 / EVENTS_PER_CPU_SECOND
    }

    /// CPU seconds of the upper estimate.
    pub fn cpu_seconds_at_most(&self) -> f64 {
        self.events_at_most.max(self.events) as f64 / EVENTS_PER_CPU_SECOND
    }
}

/// The estimated cost of one run of `scenario`, from the scenario alone.
pub fn run_cost(scenario: &Scenario) -> RunCost {
    let active_s = scenario.workload.stop_at.nanos().min(scenario.duration_ns) as f64 / 1e9;
    let writes = (scenario.workload.writes_per_s * active_s).max(0.0);
    let samples = (scenario.duration_ns / scenario.sample_interval_ns.max(1) + 1) as f64;
    // A write is one event at its coordinator and one per other replica of its key:
    // every node without a token ring, `replication_factor` nodes with one.
    let replicas = scenario
        .cluster
        .ring
        .as_ref()
        .map_or(scenario.cluster.nodes, |r| r.replication_factor);
    let per_strategy = writes * replicas as f64 + samples;
    let events = per_strategy * scenario.strategies.len() as f64;
    RunCost {
        // `as` saturates; the figure is an estimate.
        events: events.ceil() as u64,
        events_at_most: resources::estimate_events(scenario).total,
        memory_bytes: resources::estimate(scenario, 1).total_bytes,
    }
}

/// The costs of every run, in plan order.
pub fn costs(plan: &Plan) -> Vec<RunCost> {
    plan.runs.iter().map(|r| run_cost(&r.scenario)).collect()
}

/// The estimated wall time of the slowest of `shards` shards, each running `cpus` runs
/// at once (its runs spread over the CPUs, no run split), from each run's CPU seconds
/// as `cpu` gives them (the floor or the upper estimate).
fn shard_wall_s(costs: &[RunCost], shards: usize, cpus: usize, cpu: fn(&RunCost) -> f64) -> f64 {
    (1..=shards)
        .map(|index| {
            let mine: Vec<f64> = costs
                .iter()
                .enumerate()
                .filter(|(i, _)| i % shards == index - 1)
                .map(|(_, c)| cpu(c))
                .collect();
            let total: f64 = mine.iter().sum();
            let longest = mine.iter().copied().fold(0.0, f64::max);
            (total / cpus.max(1) as f64).max(longest)
        })
        .fold(0.0, f64::max)
}

/// Shard counts worth considering: 1, powers of two, and the run count (one run per
/// shard), each at most the run count.
fn candidate_shards(runs: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |n| n.checked_mul(2))
        .take_while(|&n| n < runs)
        .collect();
    counts.push(runs.max(1));
    counts.dedup();
    counts
}

/// The suggested shard count: the smallest candidate whose slowest shard is estimated,
/// on the upper estimate, to finish within an hour.
pub fn suggested_shards(costs: &[RunCost], cpus: usize) -> usize {
    let candidates = candidate_shards(costs.len());
    candidates
        .iter()
        .copied()
        .find(|&n| shard_wall_s(costs, n, cpus, RunCost::cpu_seconds_at_most) <= SHARD_WALL_TARGET_S)
        .unwrap_or_else(|| *candidates.last().expect("at least one candidate"))
}

/// The shard count to use: the one given, else the suggestion.
pub fn shard_count(plan: &Plan, options: &PlanOptions) -> Result<usize, String> {
    match options.shards {
        Some(0) => Err("--shards must be at least 1".into()),
        Some(n) if n > plan.runs.len() => Err(format!(
            "--shards {n}: the sweep has only {} runs, so some shards would have none",
            plan.runs.len()
        )),
        Some(n) => Ok(n),
        None => Ok(suggested_shards(&costs(plan), options.cpus_per_task)),
    }
}

/// Least memory requested per shard: the process itself, the merge, the shell.
const TASK_MEMORY_MIN_BYTES: u64 = 128 << 20;

/// Memory to request per shard: the largest run's estimate times the runs at once, plus
/// a quarter (the estimate bounds the model's structures, not every allocation), and at
/// least [`TASK_MEMORY_MIN_BYTES`]: an engine that enforces it kills a shard that exceeds it.
fn task_memory_bytes(costs: &[RunCost], cpus: usize) -> u64 {
    let largest = costs.iter().map(|c| c.memory_bytes).max().unwrap_or(0);
    let at_once = largest.saturating_mul(cpus.max(1) as u64);
    at_once.saturating_add(at_once / 4).max(TASK_MEMORY_MIN_BYTES)
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// The plan's report, one line per item; `comment` prefixes every line (`# ` inside a
/// job file).
pub fn report(plan: &Plan, options: &PlanOptions, comment: &str) -> Result<String, String> {
    let costs = costs(plan);
    let shards = shard_count(plan, options)?;
    let cpus = options.cpus_per_task.max(1);
    let events: Vec<u64> = costs.iter().map(|c| c.events).collect();
    let (least, most) = (events.iter().min().copied(), events.iter().max().copied());
    let upper = costs.iter().map(|c| c.events_at_most.max(c.events)).max().unwrap_or(0);
    let total_cpu_s: f64 = costs.iter().map(RunCost::cpu_seconds).sum();
    let total_cpu_upper_s: f64 = costs.iter().map(RunCost::cpu_seconds_at_most).sum();
    let largest = costs.iter().map(|c| c.memory_bytes).max().unwrap_or(0);
    let mut text = String::new();
    let mut line = |s: String| {
        let _ = writeln!(text, "{comment}{s}");
    };
    line(format!(
        "sweep {}: {} points x {} replications = {} runs",
        plan.document.base.name,
        plan.sweep.points(),
        plan.sweep.replications,
        plan.runs.len()
    ));
    line(format!(
        "each run: at least {} to {} events (client writes x replicas + samples, all strategies: a floor; \
         anti-entropy adds from a few percent to many times as many), at most {} (the event bound's estimate, \
         sessions, streams and timers included); {} to {} of CPU at {:.0} M events/s; memory at most {} \
         (the memory guard's estimate)",
        least.unwrap_or(0),
        most.unwrap_or(0),
        upper,
        seconds(least.unwrap_or(0) as f64 / EVENTS_PER_CPU_SECOND),
        seconds(upper as f64 / EVENTS_PER_CPU_SECOND),
        EVENTS_PER_CPU_SECOND / 1e6,
        format_bytes(largest),
    ));
    line(format!(
        "whole sweep: {} to at most {} of CPU (plan time limits on the second)",
        seconds(total_cpu_s),
        seconds(total_cpu_upper_s)
    ));
    line(format!(
        "shards with {cpus} CPU(s) each ({} of memory per shard): estimated wall time of the slowest shard",
        format_bytes(task_memory_bytes(&costs, cpus))
    ));
    let suggested = suggested_shards(&costs, cpus);
    for n in candidate_shards(plan.runs.len()) {
        let marks = [(n == suggested, "suggested"), (n == shards, "this plan")];
        let mark: Vec<&str> = marks.iter().filter(|(on, _)| *on).map(|(_, m)| *m).collect();
        line(format!(
            "  {n:>6} shards of {:>6} runs each: {} to {}{}",
            plan.runs.len().div_ceil(n),
            seconds(shard_wall_s(&costs, n, cpus, RunCost::cpu_seconds)),
            seconds(shard_wall_s(&costs, n, cpus, RunCost::cpu_seconds_at_most)),
            if mark.is_empty() {
                String::new()
            } else {
                format!("   <- {}", mark.join(", "))
            }
        ));
    }
    if !candidate_shards(plan.runs.len()).contains(&shards) {
        line(format!(
            "  {shards:>6} shards of {:>6} runs each: {} to {}   <- this plan",
            plan.runs.len().div_ceil(shards),
            seconds(shard_wall_s(&costs, shards, cpus, RunCost::cpu_seconds)),
            seconds(shard_wall_s(&costs, shards, cpus, RunCost::cpu_seconds_at_most))
        ));
    }
    Ok(text)
}

/// The folder of shard `index` (1-based) under the plan's output.
pub fn shard_folder(out: &Path, index: &str) -> String {
    format!("{}.shards/shard-{index}", out.display())
}

/// The `aesim run` arguments that every shard shares: the scenario and its overrides.
fn run_words(plan: &Plan, options: &PlanOptions, scenario: &str) -> Vec<String> {
    let mut words = vec![options.aesim.clone(), "run".into(), quote(scenario)];
    for o in plan.set() {
        words.push("--set".into());
        words.push(quote(&o.to_set_text()));
    }
    words
}

fn merge_words(options: &PlanOptions, shards: usize) -> Vec<String> {
    let mut words = vec![options.aesim.clone(), "merge".into()];
    words.extend((1..=shards).map(|i| quote(&shard_folder(&options.out, &i.to_string()))));
    words.push("--out".into());
    words.push(quote(&options.out.display().to_string()));
    words
}

/// The longest job name: Kubernetes names an Indexed Job's pods `<job>-<index>-<5
/// letters>` and their hostnames `<job>-<index>`, which must be DNS labels of at most 63
/// characters; `-scenario` and `-merge` are appended to it too.
const JOB_NAME_MAX_CHARS: usize = 40;

/// The job's name, a DNS-1123 label (lowercase letters, digits and single `-`, starting
/// and ending with a letter or digit) from the scenario's name.
fn job_name(plan: &Plan) -> String {
    let mut name = String::from("aesim-");
    for c in plan.document.base.name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    name.truncate(JOB_NAME_MAX_CHARS);
    name.trim_end_matches('-').to_string()
}

/// Refuses options that would generate a broken job: an empty `--aesim`, and for
/// Kubernetes an image or claim name the API server rejects.
fn check_options(options: &PlanOptions, kubernetes: bool) -> Result<(), String> {
    if options.aesim.trim().is_empty() {
        return Err("--aesim must name the aesim command on the cluster's nodes (e.g. /opt/aesim/bin/aesim)".into());
    }
    if kubernetes {
        let claim = &options.volume_claim;
        let dns_subdomain = !claim.is_empty()
            && claim.len() <= 253
            && claim
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && claim.starts_with(|c: char| c.is_ascii_alphanumeric())
            && claim.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !dns_subdomain {
            return Err(format!(
                "--volume-claim \"{claim}\" is not a valid Kubernetes name: lowercase letters, digits, \
                 '-' and '.', starting and ending with a letter or digit, at most 253 characters"
            ));
        }
        if options.image.trim().is_empty() || options.image.chars().any(char::is_whitespace) {
            return Err(format!(
                "--image \"{}\" is not a container image reference",
                options.image
            ));
        }
    }
    Ok(())
}

/// A bash script that submits the sweep to Slurm: a job array of `shards` tasks, each
/// `aesim run --shard auto` into its own folder with `--jobs` from the CPUs Slurm grants,
/// and a merge job that starts when every task succeeded (and is cancelled if one fails).
pub fn slurm_script(plan: &Plan, options: &PlanOptions) -> Result<String, String> {
    check_options(options, false)?;
    let shards = shard_count(plan, options)?;
    let costs = costs(plan);
    let cpus = options.cpus_per_task.max(1);
    let memory_mib = task_memory_bytes(&costs, cpus).div_ceil(1 << 20).max(1);
    let name = job_name(plan);
    // `#SBATCH` lines are not shell words: the folder goes there unquoted.
    let shards_raw = format!("{}.shards", options.out.display());
    if shards_raw.chars().any(|c| c.is_whitespace() || "'\"$`\\".contains(c)) {
        return Err(format!(
            "--out {}: Slurm's #SBATCH lines cannot hold spaces, quotes, $ or backslashes in paths",
            options.out.display()
        ));
    }
    let shards_dir = quote(&shards_raw);
    let mut run = run_words(plan, options, &options.scenario.display().to_string());
    run.extend([
        "--shard".into(),
        "auto".into(),
        "--out".into(),
        format!("{}\"$SLURM_ARRAY_TASK_ID\"", quote(&shard_folder(&options.out, ""))),
    ]);
    let merge = merge_words(options, shards).join(" ");
    let status = {
        let mut words = vec![options.aesim.clone(), "sweep".into(), "status".into()];
        words.extend((1..=shards).map(|i| quote(&shard_folder(&options.out, &i.to_string()))));
        words.extend(["--shards".into(), shards.to_string()]);
        words.extend(["--out".into(), quote(&options.out.display().to_string())]);
        words.join(" ")
    };
    let mut text = String::from("#!/usr/bin/env bash\n");
    text.push_str(&format!(
        "# Generated by `aesim sweep plan --slurm`: submits {shards} array tasks and a merge job.\n\
         # Run it with bash from the folder the paths below are relative to. Partition, account\n\
         # and time limit come from sbatch's environment (SBATCH_PARTITION, SBATCH_ACCOUNT,\n\
         # SBATCH_TIMELIMIT).\n#\n"
    ));
    text.push_str(&report(plan, options, "# ")?);
    text.push_str(&format!(
        "set -euo pipefail\n\
         mkdir -p {shards_dir}\n\
         array_job=$(sbatch --parsable <<'SBATCH'\n\
         #!/usr/bin/env bash\n\
         #SBATCH --job-name={name}\n\
         #SBATCH --array=1-{shards}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --mem={memory_mib}M\n\
         #SBATCH --output={shards_raw}/slurm-%A_%a.out\n\
         set -euo pipefail\n\
         # The shard comes from SLURM_ARRAY_TASK_ID and --jobs from SLURM_CPUS_PER_TASK.\n\
         exec {}\n\
         SBATCH\n\
         )\n\
         array_job=${{array_job%%;*}}\n\
         merge_job=$(sbatch --parsable --dependency=afterok:\"$array_job\" --kill-on-invalid-dep=yes <<'SBATCH'\n\
         #!/usr/bin/env bash\n\
         #SBATCH --job-name={name}-merge\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --mem=256M\n\
         #SBATCH --output={shards_raw}/slurm-merge-%j.out\n\
         set -euo pipefail\n\
         exec {merge}\n\
         SBATCH\n\
         )\n\
         merge_job=${{merge_job%%;*}}\n\
         echo \"submitted array job $array_job ({shards} shards) and merge job $merge_job\"\n\
         echo \"progress: {}\"\n",
        run.join(" "),
        status.replace('"', "\\\""),
    ));
    Ok(text)
}

/// A YAML string (double-quoted, escaped).
fn yaml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Kubernetes manifest: the scenario file as a ConfigMap, an Indexed Job of `shards`
/// completions running `aesim run --shard auto` (index from `JOB_COMPLETION_INDEX`,
/// count from `AESIM_SHARD_COUNT`, `--jobs` from the CPU limit) on a shared volume, and a
/// merge Job created suspended, to be resumed once the Indexed Job is complete.
pub fn kubernetes_manifest(plan: &Plan, options: &PlanOptions) -> Result<String, String> {
    check_options(options, true)?;
    let shards = shard_count(plan, options)?;
    let costs = costs(plan);
    let cpus = options.cpus_per_task.max(1);
    let memory_mib = task_memory_bytes(&costs, cpus).div_ceil(1 << 20).max(1);
    let name = job_name(plan);
    let scenario_in_pod = "/aesim/scenario.toml";
    let mut run = run_words(plan, options, scenario_in_pod);
    run.extend([
        "--shard".into(),
        "auto".into(),
        "--out".into(),
        format!(
            "{}\"$((JOB_COMPLETION_INDEX + 1))\"",
            quote(&shard_folder(&options.out, ""))
        ),
    ]);
    let merge = merge_words(options, shards).join(" ");
    let source = &plan.document.source;
    let mut text = format!(
        "# Generated by `aesim sweep plan --kubernetes`: {shards} shards and a merge step.\n\
         # The image must hold aesim; the claim `{claim}` must be ReadWriteMany (every shard\n\
         # writes its own folder on it, the merge reads them all). Paths are relative to its root.\n\
         #   kubectl apply -f THIS_FILE\n\
         #   kubectl wait --for=condition=complete job/{name} --timeout=24h\n\
         #   kubectl patch job/{name}-merge --type=merge -p '{{\"spec\":{{\"suspend\":false}}}}'\n\
         #   kubectl wait --for=condition=complete job/{name}-merge --timeout=1h\n#\n",
        claim = options.volume_claim,
    );
    text.push_str(&report(plan, options, "# ")?);
    let container = |command: &str, cpu: usize, memory: u64| {
        format!(
            "      containers:\n\
             \x20       - name: aesim\n\
             \x20         image: {image}\n\
             \x20         workingDir: /work\n\
             \x20         command: [\"sh\", \"-c\", {command}]\n\
             \x20         env:\n\
             \x20           - name: AESIM_SHARD_COUNT\n\
             \x20             value: \"{shards}\"\n\
             \x20         resources:\n\
             \x20           requests: {{ cpu: \"{cpu}\", memory: \"{memory}Mi\" }}\n\
             \x20           limits: {{ cpu: \"{cpu}\", memory: \"{memory}Mi\" }}\n\
             \x20         volumeMounts:\n\
             \x20           - {{ name: results, mountPath: /work }}\n\
             \x20           - {{ name: scenario, mountPath: /aesim, readOnly: true }}\n\
             \x20     volumes:\n\
             \x20       - name: results\n\
             \x20         persistentVolumeClaim: {{ claimName: {claim} }}\n\
             \x20       - name: scenario\n\
             \x20         configMap: {{ name: {name}-scenario }}\n",
            image = yaml_string(&options.image),
            command = yaml_string(command),
            claim = yaml_string(&options.volume_claim),
        )
    };
    let _ = write!(
        text,
        "apiVersion: v1\n\
         kind: ConfigMap\n\
         metadata:\n  name: {name}-scenario\n\
         data:\n  scenario.toml: {}\n\
         ---\n\
         apiVersion: batch/v1\n\
         kind: Job\n\
         metadata:\n  name: {name}\n\
         spec:\n\
         \x20 completionMode: Indexed\n\
         \x20 completions: {shards}\n\
         \x20 parallelism: {shards}\n\
         \x20 backoffLimit: {}\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     restartPolicy: Never\n\
         {}\
         ---\n\
         apiVersion: batch/v1\n\
         kind: Job\n\
         metadata:\n  name: {name}-merge\n\
         spec:\n\
         \x20 suspend: true\n\
         \x20 backoffLimit: 2\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     restartPolicy: Never\n\
         {}",
        yaml_string(source),
        shards.saturating_mul(2),
        container(&format!("exec {}", run.join(" ")), cpus, memory_mib),
        container(&format!("exec {merge}"), 1, 256),
    );
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_end_with_one_run_per_shard() {
        assert_eq!(candidate_shards(1), vec![1]);
        assert_eq!(candidate_shards(12), vec![1, 2, 4, 8, 12]);
        assert_eq!(candidate_shards(16), vec![1, 2, 4, 8, 16]);
    }

    #[test]
    fn the_slowest_shard_bounds_the_wall_time() {
        let cost = |events| RunCost {
            events,
            events_at_most: events,
            memory_bytes: 1,
        };
        // Four runs of 1 s: one shard with 2 CPUs takes 2 s; a run is never split.
        let costs = vec![cost(1_000_000); 4];
        assert_eq!(shard_wall_s(&costs, 1, 2, RunCost::cpu_seconds), 2.0);
        assert_eq!(shard_wall_s(&costs, 4, 2, RunCost::cpu_seconds), 1.0);
        // The suggestion follows the upper estimate: runs of 1 s that may take 1,000 s.
        let wide = RunCost {
            events_at_most: 1_000_000_000,
            ..cost(1_000_000)
        };
        assert_eq!(shard_wall_s(&[wide; 8], 1, 1, RunCost::cpu_seconds_at_most), 8_000.0);
        assert_eq!(suggested_shards(&[wide; 8], 1), 4);
        assert_eq!(suggested_shards(&costs, 1), 1);
        // Eight runs of 1,000 s: four shards of two finish within the hour.
        assert_eq!(suggested_shards(&[cost(1_000_000_000); 8], 1), 4);
        // Runs longer than the hour each: one run per shard is the best there is.
        assert_eq!(suggested_shards(&[cost(4_000_000_000); 8], 1), 8);
        assert_eq!(yaml_string("a \"b\"\n"), r#""a \"b\"\n""#);
    }
}
