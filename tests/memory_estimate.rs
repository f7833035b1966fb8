//! The memory guard's estimate against the measured peak of real runs: an accepted run
//! must stay within its estimate. Each shape stresses one term: trees of a million leaves
//! (the tree cache at its budget), many workers holding trees at once, trees too large
//! to keep (rebuilt every visit), and an ordinary small run.
//!
//! The peak is the child process's `VmHWM` (Linux), which `aesim run` prints on its last
//! line. The stated margin: measured <= estimate <= 4 x measured + 64 MiB (the estimate
//! is an upper bound, but not a uselessly loose one).

mod common;

use aesim::scenario::Scenario;
use common::{aesim, temp_dir};

/// (name, scenario body): a few shapes that each fill one term of the estimate.
const SHAPES: &[(&str, &str)] = &[
    (
        "mono-million-leaves",
        "duration = \"20s\"\n[cluster]\nnodes = 4\nkeys = 100_000_000\ncores = 8\nscan_cost_per_key = \"1ns\"\n\
         [network]\nloss = 0.01\n[workload]\nwrites_per_s = 100.0\n\
         [[strategy]]\nkind = \"monolithic\"\nleaves = 1048576\ninterval = \"2s\"\n",
    ),
    (
        "many-workers",
        "duration = \"10s\"\n[cluster]\nnodes = 4\nkeys = 10_000_000\ncores = 16\nscan_cost_per_key = \"1ns\"\n\
         [network]\nloss = 0.01\n[workload]\nwrites_per_s = 200.0\n\
         [[strategy]]\nkind = \"segmented\"\nsegments = 64\nleaves = 16384\nworkers = 32\n",
    ),
    (
        "over-the-cache-budget",
        "duration = \"300ms\"\nsample_interval = \"50ms\"\n[cluster]\nnodes = 4\nkeys = 100_000_000\ncores = 8\n\
         scan_cost_per_key = \"1ns\"\n[network]\nloss = 0.01\n[workload]\nwrites_per_s = 1000.0\n\
         [[strategy]]\nkind = \"segmented\"\nsegments = 8\nleaves = 524288\nworkers = 2\n",
    ),
    (
        "riak-wide-trees",
        "duration = \"40s\"\n[cluster]\nnodes = 6\nkeys = 100_000_000\nreplication_factor = 3\nvnodes = 4\n\
         scan_cost_per_key = \"1ns\"\n[network]\nloss = 0.01\n[workload]\nwrites_per_s = 5000.0\n\
         [[strategy]]\nkind = \"riak_aae\"\nreconciler = \"tictac\"\ntick = \"1s\"\n",
    ),
    (
        "small",
        "duration = \"2min\"\n[cluster]\nkeys = 100_000\nscan_cost_per_key = \"10us\"\n[network]\nloss = 0.01\n\
         [workload]\nwrites_per_s = 500.0\n[[strategy]]\nkind = \"monolithic\"\nleaves = 1024\ninterval = \"10s\"\n\
         [[strategy]]\nkind = \"segmented\"\nsegments = 100\nleaves = 64\nworkers = 4\n",
    ),
];

/// The `peak memory N MiB` (or `N.NN GiB`) of aesim's summary line, in bytes.
fn peak_bytes(stdout: &str) -> Option<u64> {
    let rest = stdout.split("peak memory ").nth(1)?;
    let mut words = rest.split([' ', ';']);
    let value: f64 = words.next()?.parse().ok()?;
    let scale = match words.next()? {
        "MiB" => 1u64 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    Some((value * scale as f64) as u64)
}

#[test]
fn accepted_runs_stay_within_their_memory_estimate() {
    if !cfg!(target_os = "linux") {
        return; // The peak is read from /proc.
    }
    let dir = temp_dir("memory");
    let mut report = Vec::new();
    for (name, body) in SHAPES {
        let text = format!("name = \"{name}\"\nseed = 1\n{body}");
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, &text).unwrap();
        let scenario = Scenario::parse(&text, name).unwrap_or_else(|e| panic!("{e}"));
        // One strategy at a time, as run below.
        let estimate = aesim::resources::estimate(&scenario, 1).total_bytes;
        let out = aesim(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            dir.join(name).to_str().unwrap(),
            "--jobs",
            "1",
            "--invariants",
            "end",
        ]);
        // The status line with the peak memory is on stderr.
        let stdout = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let measured = peak_bytes(&stdout).unwrap_or_else(|| panic!("{name}: no peak in {stdout}"));
        report.push(format!(
            "{name}: estimate {} MiB, measured {} MiB",
            estimate >> 20,
            measured >> 20
        ));
        assert!(
            measured <= estimate,
            "{name}: measured {measured} > estimate {estimate}\n{report:?}"
        );
        assert!(
            estimate <= 4 * measured + (64 << 20),
            "{name}: estimate {estimate} is more than 4x the measured {measured}"
        );
    }
    eprintln!("{}", report.join("\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_issues_shape_is_estimated_with_its_tree_cache() {
    // 16 nodes, 10,000 segments of 65,536 leaves: once estimated at ~420 MiB while the
    // tree cache grew past 3 GiB. The cache is now bounded by a budget the estimate counts.
    let text = "name = \"x\"\nseed = 1\nduration = \"2h\"\n[cluster]\nnodes = 16\nkeys = 1_000_000_000\ncores = 64\n\
                scan_cost_per_key = \"1ns\"\n[workload]\nwrites_per_s = 100.0\n\
                [[strategy]]\nkind = \"segmented\"\nsegments = 10_000\nleaves = 65536\nworkers = 4\n";
    let scenario = Scenario::parse(text, "x").unwrap();
    let memory = aesim::resources::estimate(&scenario, 1);
    assert_eq!(memory.cache_bytes, aesim::model::tree_cache::TREE_CACHE_BUDGET_BYTES);
    assert!(
        memory.total_bytes > memory.tree_bytes + memory.cache_bytes,
        "{memory:?}"
    );
}
