//! A whole scenario, events per second: 10^7 keys, 1,000 writes/s for 300 s under 1%
//! loss, a monolithic tree rebuilt every 30 s (and the same with 1,000 segments and 4
//! workers). Reference: the hold rate (pop + push) of a bare `BinaryHeap` of
//! (time, sequence, u64) with 100 pending, measured in the same run: the cost of the
//! event loop alone, with no model behind it.
//!
//! `cargo bench --bench scenario`

mod common;

use aesim::scenario::Scenario;
use aesim::world::World;
use common::{Rng, best_secs, print_ratio};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const SCENARIO: &str = r#"
name = "bench"
seed = 1
duration = "300s"
sample_interval = "10s"

[cluster]
nodes = 2
keys = 10_000_000
cores = 4
scan_cost_per_key = "2.4us"

[network]
loss = 0.01

[workload]
writes_per_s = 1000.0
keys = { kind = "uniform" }

[[strategy]]
kind = "monolithic"
name = "monolithic"
leaves = 16384
interval = "30s"

[[strategy]]
kind = "segmented"
name = "segmented"
segments = 1000
leaves = 64
workers = 4
"#;

fn scenario() -> Scenario {
    Scenario::parse(SCENARIO, "bench").expect("valid scenario")
}

/// Runs strategy `i`; returns its event count.
fn run(scenario: &Scenario, i: usize) -> u64 {
    World::new(scenario, &scenario.strategies[i])
        .run()
        .expect("invariants hold")
        .events
}

#[divan::bench(args = [0, 1])]
fn scenario_strategy(bencher: divan::Bencher, strategy: usize) {
    let scenario = scenario();
    bencher.bench_local(|| run(&scenario, strategy));
}

fn bare_heap_hold(ops: usize) {
    let mut rng = Rng::new(9);
    let mut heap: BinaryHeap<Reverse<(u64, u64, u64)>> = (0..100).map(|i| Reverse((rng.next() % 1000, i, i))).collect();
    for seq in 100..100 + ops as u64 {
        let Reverse((time, _, payload)) = heap.pop().expect("pending");
        heap.push(Reverse((time + rng.next() % 1000, seq, payload)));
    }
    std::hint::black_box(heap);
}

fn main() {
    let scenario = scenario();
    println!("whole scenario: events/s, same run");
    const OPS: usize = 5_000_000;
    let heap_s = best_secs(3, || bare_heap_hold(OPS));
    for (i, strategy) in scenario.strategies.iter().enumerate() {
        let events = run(&scenario, i);
        let s = best_secs(3, || {
            run(&scenario, i);
        });
        print_ratio(
            &format!("  {} ({events} events)", strategy.name),
            "events/s",
            events as f64 / s,
            "bare BinaryHeap hold",
            OPS as f64 / heap_s,
        );
    }
    common::divan().main();
}
