//! `aesim sweep plan` and `aesim sweep status`: flags, terminal output and exit codes.
//! The work is done by `aesim::sweep::plan` and `aesim::sweep::status`.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, load};
use aesim::sweep::Plan;
use aesim::sweep::plan::{Engine, PlanOptions};
use aesim::sweep::status::Status;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SweepCommand {
    /// Report a sweep's runs, their estimated cost and shard counts; with --slurm or
    /// --kubernetes, print the job files that run it sharded and merge it.
    #[command(after_help = "Examples:\n  \
        aesim sweep plan scenarios/segments-workers-sweep.toml\n  \
        aesim sweep plan sweep.toml --slurm --shards 4 --out results/sweep > submit.sh")]
    Plan(PlanArgs),
    /// List the runs of a sweep done, missing and corrupt in result folders, by shard, and
    /// print the commands that run exactly what is missing and merge (exit 1 if incomplete).
    #[command(
        after_help = "Example:\n  aesim sweep status results/sweep.shards/shard-{1,2,3,4} --shards 4 --out results/sweep"
    )]
    Status {
        /// Result folders of the sweep (shard folders, or one folder).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The shard count the sweep was run with [default: inferred from the folders].
        #[arg(long)]
        shards: Option<usize>,
        /// Where the printed merge command writes [default: results/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct PlanArgs {
    /// The sweep's scenario file (TOML with a [sweep] table).
    scenario: PathBuf,
    /// Override one parameter, as for `run` (recorded in the job files).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print an sbatch submission script: a job array and a dependent merge job.
    #[arg(long, conflicts_with = "kubernetes")]
    slurm: bool,
    /// Print a Kubernetes manifest: an Indexed Job and a suspended merge Job.
    #[arg(long)]
    kubernetes: bool,
    /// Number of shards (array tasks) [default: the suggested count].
    #[arg(long)]
    shards: Option<usize>,
    /// CPUs per shard; each shard runs that many runs at once.
    #[arg(long, default_value_t = 1)]
    cpus_per_task: usize,
    /// Folder of the merged results [default: results/<scenario name>]; shards write to
    /// <out>.shards/shard-<i>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The aesim command on the cluster's nodes.
    #[arg(long, default_value = "aesim")]
    aesim: String,
    /// Kubernetes: the container image holding aesim.
    #[arg(long, default_value = "aesim:latest")]
    image: String,
    /// Kubernetes: the ReadWriteMany PersistentVolumeClaim for the results.
    #[arg(long, default_value = "aesim-results")]
    volume_claim: String,
}

pub fn run(command: SweepCommand) -> u8 {
    match command {
        SweepCommand::Plan(args) => plan(args),
        SweepCommand::Status { dirs, shards, out } => status(&dirs, shards, out),
    }
}

fn plan(args: PlanArgs) -> u8 {
    let document = match load(&args.scenario, &args.set, None) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(&document.base.name));
    let plan = match Plan::new(document) {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            eprintln!(
                "error: {} has no [sweep] table: there is nothing to shard",
                args.scenario.display()
            );
            return EXIT_BAD_INPUT;
        }
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.cpus_per_task == 0 {
        eprintln!("error: --cpus-per-task must be at least 1");
        return EXIT_BAD_INPUT;
    }
    let options = PlanOptions {
        scenario: args.scenario,
        out,
        shards: args.shards,
        cpus_per_task: args.cpus_per_task,
        aesim: args.aesim,
        image: args.image,
        volume_claim: args.volume_claim,
    };
    let engine = match (args.slurm, args.kubernetes) {
        (true, _) => Engine::Slurm,
        (_, true) => Engine::Kubernetes,
        _ => Engine::None,
    };
    let text = match engine {
        Engine::None => aesim::sweep::plan::report(&plan, &options, ""),
        Engine::Slurm => aesim::sweep::plan::slurm_script(&plan, &options),
        Engine::Kubernetes => aesim::sweep::plan::kubernetes_manifest(&plan, &options),
    };
    match text {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn status(dirs: &[PathBuf], shards: Option<usize>, out: Option<PathBuf>) -> u8 {
    match Status::read(dirs, shards) {
        Ok(status) => {
            let merged = out.unwrap_or_else(|| PathBuf::from("results").join(&status.plan.document.base.name));
            print!("{}", status.report(&merged));
            if status.is_complete() { EXIT_OK } else { EXIT_RUN_FAILED }
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
