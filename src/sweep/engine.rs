//! What a cluster engine tells a shard through its environment: which shard of how many
//! this process is (`--shard auto`), and how many CPUs it was granted (the default of
//! `--jobs`).
//!
//! Slurm job arrays set `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, `_MIN`,
//! `_MAX` and `_STEP` (`--array=0-15:4` gives the IDs 0, 4, 8, 12); Kubernetes Indexed
//! Jobs set a 0-based `JOB_COMPLETION_INDEX` and nothing else, so the count comes from
//! `AESIM_SHARD_COUNT` (which the generated manifest sets). Either way the task maps to
//! the 1-based [`Shard`] `(position in the array) + 1` of `count`, so the tasks of one
//! array cover every run of the plan exactly once.
//!
//! Every function here reads the environment through a lookup closure (and the cgroup
//! file as text), so the tests can play any engine; only [`shard_from_env`] and
//! [`granted_cpus`] look at the real process. This module must not know what a run is.

use super::Shard;

/// The variable that gives the shard count where the engine does not (Kubernetes).
pub const SHARD_COUNT_VAR: &str = "AESIM_SHARD_COUNT";

/// Slurm arrays are at most this many tasks (Slurm's own `MaxArraySize` is far lower);
/// the bound keeps every index computation far from overflow.
const MAX_TASKS: u64 = 1 << 32;

/// The `source` of a shard given explicitly as `--shard I/N`.
pub const EXPLICIT_SOURCE: &str = "--shard";

/// Which engine a shard came from, for the run's summary line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoShard {
    pub shard: Shard,
    /// E.g. `SLURM_ARRAY_TASK_ID=8 of 0-12:4`.
    pub source: String,
}

/// The value of `--shard`: explicit `I/N`, or `auto` (from the engine's variables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardArg {
    Explicit(Shard),
    Auto,
}

impl ShardArg {
    pub fn parse(text: &str) -> Result<ShardArg, String> {
        if text.trim() == "auto" {
            Ok(ShardArg::Auto)
        } else {
            Shard::parse(text)
                .map(ShardArg::Explicit)
                .map_err(|e| format!("{e}, or --shard auto (from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)"))
        }
    }

    /// The shard this process runs, reading the real environment for `auto`.
    pub fn resolve(&self) -> Result<AutoShard, String> {
        match self {
            ShardArg::Explicit(shard) => Ok(AutoShard {
                shard: *shard,
                source: EXPLICIT_SOURCE.into(),
            }),
            ShardArg::Auto => shard_from_env(),
        }
    }
}

/// `--shard auto` in this process's environment.
pub fn shard_from_env() -> Result<AutoShard, String> {
    shard_from(|name| std::env::var(name).ok())
}

/// `--shard auto` given the engine's variables through `var`.
pub fn shard_from(var: impl Fn(&str) -> Option<String>) -> Result<AutoShard, String> {
    let slurm = var("SLURM_ARRAY_TASK_ID");
    let kubernetes = var("JOB_COMPLETION_INDEX");
    match (slurm, kubernetes) {
        (Some(_), Some(_)) => Err(
            "--shard auto: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; \
             give the shard explicitly with --shard I/N"
                .into(),
        ),
        (Some(_), None) => slurm_shard(&var),
        (None, Some(_)) => kubernetes_shard(&var),
        (None, None) => {
            let hint = if var("SLURM_JOB_ID").is_some() {
                "this is a Slurm job but not an array task: submit it with sbatch --array=1-N"
            } else {
                "run it as a Slurm array task (sbatch --array=1-N) or a Kubernetes Indexed Job \
                 (with AESIM_SHARD_COUNT set), or give the shard explicitly with --shard I/N"
            };
            Err(format!(
                "--shard auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set; {hint}"
            ))
        }
    }
}

fn number(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<u64>, String> {
    match var(name) {
        None => Ok(None),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if n < MAX_TASKS => Ok(Some(n)),
            _ => Err(format!(
                "--shard auto: {name}={text} is not a task number (a whole number below 2^32)"
            )),
        },
    }
}

fn slurm_shard(var: &impl Fn(&str) -> Option<String>) -> Result<AutoShard, String> {
    let id = number(var, "SLURM_ARRAY_TASK_ID")?.unwrap_or_default();
    let count = number(var, "SLURM_ARRAY_TASK_COUNT")?;
    let min = number(var, "SLURM_ARRAY_TASK_MIN")?;
    let max = number(var, "SLURM_ARRAY_TASK_MAX")?;
    let (Some(count), Some(min), Some(max)) = (count, min, max) else {
        return Err(
            "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT, _MIN or _MAX \
                    is not (Slurm sets all four for an array task); give the shard with --shard I/N"
                .into(),
        );
    };
    if count == 0 || min > max || !(min..=max).contains(&id) {
        return Err(format!(
            "--shard auto: inconsistent Slurm array: task {id} of {count} tasks from {min} to {max}"
        ));
    }
    // Older Slurm versions do not set the step: a regular array's step follows from
    // its bounds and count.
    let step = match number(var, "SLURM_ARRAY_TASK_STEP")? {
        Some(step) => step,
        None if count == 1 => 1,
        None => (max - min) / (count - 1),
    };
    let regular = step >= 1 && (max - min) % step == 0 && (max - min) / step + 1 == count;
    if !regular || (id - min) % step != 0 {
        return Err(format!(
            "--shard auto: the Slurm array ({count} tasks from {min} to {max}, step {step}) is not a \
             regular range, so task {id} has no shard number; submit with --array=A-B or --array=A-B:S, \
             or give the shard with --shard I/N"
        ));
    }
    let index = (id - min) / step + 1;
    let shard = to_shard(index, count)?;
    let range = if step == 1 {
        format!("{min}-{max}")
    } else {
        format!("{min}-{max}:{step}")
    };
    Ok(AutoShard {
        shard,
        source: format!("SLURM_ARRAY_TASK_ID={id} of {range}"),
    })
}

fn kubernetes_shard(var: &impl Fn(&str) -> Option<String>) -> Result<AutoShard, String> {
    let index = number(var, "JOB_COMPLETION_INDEX")?.unwrap_or_default();
    let Some(count) = number(var, SHARD_COUNT_VAR)? else {
        return Err(format!(
            "--shard auto: JOB_COMPLETION_INDEX={index} is set but not the number of shards: set \
             {SHARD_COUNT_VAR} to the Job's completions (the manifest of `aesim sweep plan --kubernetes` \
             does), or give the shard with --shard {}/N",
            index + 1
        ));
    };
    if index >= count {
        return Err(format!(
            "--shard auto: JOB_COMPLETION_INDEX={index} is not below {SHARD_COUNT_VAR}={count} \
             (indexes run from 0 to completions - 1)"
        ));
    }
    Ok(AutoShard {
        shard: to_shard(index + 1, count)?,
        source: format!("JOB_COMPLETION_INDEX={index} of {count}"),
    })
}

fn to_shard(index: u64, count: u64) -> Result<Shard, String> {
    match (usize::try_from(index), usize::try_from(count)) {
        (Ok(index), Ok(count)) if (1..=count).contains(&index) => Ok(Shard { index, count }),
        _ => Err(format!("--shard auto: shard {index} of {count} is out of range")),
    }
}

/// The CPUs this process may use, and where that figure came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantedCpus {
    pub cpus: usize,
    pub source: &'static str,
}

/// The default of `--jobs`: the CPUs the engine granted this process.
pub fn granted_cpus() -> GrantedCpus {
    // cgroup v2's `cpu.max`, else cgroup v1's quota and period in the same format.
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/cpu.max").ok().or_else(|| {
        let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/{name}")).ok();
        let quota = read("cpu.cfs_quota_us")?;
        let period = read("cpu.cfs_period_us")?;
        Some(format!("{} {}", quota.trim(), period.trim()))
    });
    let machine = std::thread::available_parallelism().map_or(1, usize::from);
    granted_cpus_from(|name| std::env::var(name).ok(), cgroup.as_deref(), machine)
}

/// The granted CPUs from Slurm's variables (`SLURM_CPUS_PER_TASK`, set with `-c`, else
/// `SLURM_CPUS_ON_NODE`, the CPUs of this job on this node), else a cgroup quota
/// (`cpu.max`, as Kubernetes sets from a CPU limit: quota / period, rounded up; cgroup
/// v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` are passed in the same form), and never
/// more than the CPUs this process can be scheduled on (`machine`, from
/// `available_parallelism`, which honours CPU affinity).
pub fn granted_cpus_from(
    var: impl Fn(&str) -> Option<String>,
    cgroup_cpu_max: Option<&str>,
    machine: usize,
) -> GrantedCpus {
    let machine = machine.max(1);
    let slurm = |name: &str| {
        var(name)
            .and_then(|t| t.trim().parse::<usize>().ok())
            .filter(|&n| n >= 1)
    };
    let granted = if let Some(n) = slurm("SLURM_CPUS_PER_TASK") {
        Some((n, "SLURM_CPUS_PER_TASK"))
    } else if let Some(n) = slurm("SLURM_CPUS_ON_NODE") {
        Some((n, "SLURM_CPUS_ON_NODE"))
    } else {
        cgroup_cpu_max
            .and_then(cgroup_quota)
            .map(|n| (n, "the cgroup's cpu.max"))
    };
    match granted {
        Some((n, source)) if n <= machine => GrantedCpus { cpus: n, source },
        _ => GrantedCpus {
            cpus: machine,
            source: "the CPUs available to this process",
        },
    }
}

/// `cpu.max` is `max PERIOD` (no limit) or `QUOTA PERIOD` in microseconds; cgroup v1
/// writes no limit as a quota of -1.
fn cgroup_quota(text: &str) -> Option<usize> {
    let mut fields = text.split_whitespace();
    let quota: u64 = fields.next()?.parse().ok()?;
    let period: u64 = fields.next()?.parse().ok()?;
    if period == 0 || quota == 0 {
        return None;
    }
    usize::try_from(quota.div_ceil(period)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn cpus_come_from_slurm_then_cgroup_then_the_machine() {
        let g = granted_cpus_from(
            env(&[("SLURM_CPUS_PER_TASK", "3"), ("SLURM_CPUS_ON_NODE", "8")]),
            None,
            16,
        );
        assert_eq!((g.cpus, g.source), (3, "SLURM_CPUS_PER_TASK"));
        let g = granted_cpus_from(env(&[("SLURM_CPUS_ON_NODE", "2")]), Some("max 100000"), 16);
        assert_eq!((g.cpus, g.source), (2, "SLURM_CPUS_ON_NODE"));
        let g = granted_cpus_from(env(&[]), Some("150000 100000\n"), 16);
        assert_eq!((g.cpus, g.source), (2, "the cgroup's cpu.max"));
        let g = granted_cpus_from(env(&[]), Some("max 100000\n"), 16);
        assert_eq!(g.cpus, 16);
        // cgroup v1: no limit is a quota of -1.
        assert_eq!(granted_cpus_from(env(&[]), Some("-1 100000"), 16).cpus, 16);
        assert_eq!(granted_cpus_from(env(&[]), Some("400000 100000"), 16).cpus, 4);
        // Never more than the process can run on; garbage is ignored.
        assert_eq!(
            granted_cpus_from(env(&[("SLURM_CPUS_PER_TASK", "64")]), None, 4).cpus,
            4
        );
        assert_eq!(
            granted_cpus_from(env(&[("SLURM_CPUS_PER_TASK", "x")]), Some("junk"), 4).cpus,
            4
        );
        assert_eq!(granted_cpus_from(env(&[("SLURM_CPUS_PER_TASK", "0")]), None, 0).cpus, 1);
    }

    #[test]
    fn explicit_and_auto_parse() {
        assert_eq!(ShardArg::parse("auto"), Ok(ShardArg::Auto));
        assert_eq!(
            ShardArg::parse("2/3"),
            Ok(ShardArg::Explicit(Shard { index: 2, count: 3 }))
        );
        assert!(ShardArg::parse("0/3").unwrap_err().contains("--shard auto"));
    }
}
