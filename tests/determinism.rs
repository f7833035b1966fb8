//! Same scenario + same seed = byte-identical outputs; another seed = different ones.

mod common;

use aesim::output::{latency_csv, summary_csv, timeseries_csv};
use aesim::run::run_scenario;

fn outputs(seed: u64, jobs: usize) -> Vec<Vec<u8>> {
    let mut scenario = common::scenario(&format!(
        "{}\n[[strategy]]\nkind = \"monolithic\"\nname = \"fine\"\nleaves = 4096\ninterval = \"15s\"\n",
        common::LOSSY
    ));
    scenario.seed = seed;
    let results = run_scenario(&scenario, jobs).expect("invariants hold");
    vec![summary_csv(&results), timeseries_csv(&results), latency_csv(&results)]
}

#[test]
fn same_seed_gives_identical_bytes() {
    let first = outputs(11, 1);
    assert_eq!(first, outputs(11, 1));
    // The thread count must not leak into the results either.
    assert_eq!(first, outputs(11, 2));
    let summary = String::from_utf8(first[0].clone()).unwrap();
    assert!(summary.lines().count() == 3, "one row per strategy:\n{summary}");
}

#[test]
fn another_seed_gives_different_results() {
    let a = outputs(11, 2);
    let b = outputs(12, 2);
    assert_ne!(a[0], b[0]);
    assert_ne!(a[1], b[1]);
}

#[test]
fn written_files_are_identical_across_runs() {
    let scenario = common::scenario(common::LOSSY);
    let base = std::env::temp_dir().join(format!("aesim-det-{}", std::process::id()));
    for run in ["a", "b"] {
        let results = run_scenario(&scenario, 2).unwrap();
        aesim::output::write_run(&base.join(run), &scenario, &results).unwrap();
    }
    for file in aesim::output::RUN_FILES {
        let a = std::fs::read(base.join("a").join(file)).unwrap();
        let b = std::fs::read(base.join("b").join(file)).unwrap();
        assert_eq!(a, b, "{file} differs between two runs");
    }
    std::fs::remove_dir_all(&base).unwrap();
}
