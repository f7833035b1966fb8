//! Invariants checked during every run: a broken repair stops the run with a report
//! naming the time, key, nodes and event; sample-point checks change no result.

mod common;

use aesim::output::{summary_csv, timeseries_csv};
use aesim::run::run_scenario_with;
use aesim::world::{InvariantChecks, World};

#[test]
fn a_broken_repair_stops_the_run_with_a_report() {
    let scenario = common::scenario(common::LOSSY);
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    world.break_repairs_for_test();
    let Err(violation) = world.run() else {
        panic!("a backwards repair must be caught")
    };
    // The first cycle snapshots at t=0 with nothing to repair; the second starts at 20 s
    // and finishes its 0.5 s scan before streaming.
    assert!(violation.time.nanos() > 20_500_000_000, "{violation}");
    assert!(violation.time.nanos() < 21_000_000_000, "{violation}");
    assert!(violation.event.starts_with("StreamArrives (session 1,"), "{violation}");
    assert_eq!(violation.nodes.len(), 2, "{violation}");
    let key = violation.key.expect("names the key");
    assert!(key < 50_000);
    assert!(violation.message.contains("a repair lowered node"), "{violation}");
    let report = violation.to_string();
    assert!(report.starts_with("invariant violated at t=20."), "{report}");
    assert!(report.contains(&format!("key:   {key}")), "{report}");
    assert!(report.contains("nodes: "), "{report}");
}

#[test]
fn a_broken_repair_fails_the_whole_run_and_nothing_is_written() {
    let dir = std::env::temp_dir().join(format!("aesim-broken-{}", std::process::id()));
    let scenario = common::scenario(common::LOSSY);
    let mut world = World::new(&scenario, &scenario.strategies[0]);
    world.break_repairs_for_test();
    world.run_until(aesim::sim::SimTime::from_secs(60));
    assert!(world.violation().is_some());
    assert!(world.now().nanos() < 21_000_000_000, "the run stopped at the violation");
    assert!(!dir.exists());
}

#[test]
fn sample_point_checks_pass_and_change_no_result() {
    let lossless = common::LOSSY.replace("loss = 0.05", "loss = 0.0");
    for body in [common::LOSSY, lossless.as_str()] {
        let scenario = common::scenario(body);
        let every = run_scenario_with(&scenario, 1, InvariantChecks::EverySample).unwrap();
        let end = run_scenario_with(&scenario, 1, InvariantChecks::EndOnly).unwrap();
        assert_eq!(summary_csv(&every), summary_csv(&end));
        assert_eq!(timeseries_csv(&every), timeseries_csv(&end));
    }
}
