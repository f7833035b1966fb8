//! Set-reconciliation reconcilers in whole runs: the sketches find exactly the divergent
//! keys and stream only them, a fixed IBLT's failed decodes are paid in rounds and
//! bytes, the rateless code needs about 1.35 symbols per difference, and runs repeat
//! byte for byte.

mod common;

use aesim::metrics::StrategyResult;
use aesim::output::summary_csv;
use aesim::run::run_scenario;

/// 10^6 keys on two replicas; every replication message of the first 5 s is lost (about
/// 1,000 divergent keys); the range is compared at t = 0, 10 s and 20 s.
const BODY: &str = r#"name = "sets"
seed = 15
duration = "30s"
sample_interval = "5s"
[cluster]
keys = 1_000_000
scan_cost_per_key = "10ns"
[network]
loss = 1.0
latency = { kind = "constant", value = "1ms" }
[workload]
writes_per_s = 200.0
stop_at = "5s"
[[strategy]]
kind = "monolithic"
name = "merkle"
leaves = 1024
interval = "10s"
[[strategy]]
kind = "monolithic"
name = "iblt-64"
leaves = 1024
interval = "10s"
reconciler = "iblt"
iblt_cells = 64
[[strategy]]
kind = "monolithic"
name = "rateless"
leaves = 1024
interval = "10s"
reconciler = "rateless_iblt"
[[strategy]]
kind = "monolithic"
name = "pinsketch-64"
leaves = 1024
interval = "10s"
reconciler = "pinsketch"
pinsketch_capacity = 64
"#;

fn run() -> Vec<StrategyResult> {
    run_scenario(&common::scenario(BODY), 2).expect("invariants hold")
}

#[test]
fn sketches_stream_exactly_the_divergent_keys_and_trees_do_not() {
    let results = run();
    let [merkle, iblt, rateless, pinsketch] = &results[..] else {
        panic!("four strategies")
    };
    let d = merkle.counters.keys_repaired;
    assert!((900..=1_100).contains(&d), "{d} divergent keys");
    for r in &results {
        assert_eq!(r.divergent_at_end, 0, "{}", r.strategy);
        assert_eq!(r.counters.keys_repaired, d, "{}: same writes, same losses", r.strategy);
    }
    for sketch in [iblt, rateless, pinsketch] {
        assert_eq!(sketch.counters.records_streamed, d, "{}", sketch.strategy);
        assert_eq!(sketch.counters.records_needed, d, "{}", sketch.strategy);
        assert_eq!(sketch.counters.stream_bytes, d * 100);
    }
    // 1,024 leaves of ~977 keys: nearly every divergent key drags its whole leaf, both ways.
    assert!(
        merkle.counters.records_streamed > 500 * d,
        "{}",
        merkle.counters.records_streamed
    );
}

#[test]
fn a_fixed_iblt_pays_every_failed_decode_in_rounds_and_bytes() {
    let results = run();
    let (iblt, rateless) = (&results[1], &results[2]);
    // Sessions at 0, 10 and 20 s; the first and last compare identical sets: one round
    // of 64 cells each. The one at 10 s doubles 64 cells until ~1.3 x d: at least
    // 64 -> 2,048 (six attempts) for ~1,000 differences.
    let rounds = iblt.counters.round_trips;
    assert!((2 + 6..=2 + 7).contains(&rounds), "{rounds} round trips");
    let attempts = rounds - 2;
    let cells: u64 = 64 * 2 + (0..attempts).map(|n| 64u64 << n).sum::<u64>();
    assert_eq!(iblt.counters.hashes_sent, cells);
    // Cells of 28 bytes, and the reply naming the keys the responder needs (8 bytes each).
    let key_bytes = iblt.counters.hash_bytes - cells * 28;
    assert!(key_bytes.is_multiple_of(8) && key_bytes / 8 < iblt.counters.keys_repaired);
    assert_eq!(
        rateless.counters.round_trips, 3,
        "one round trip per session, however large d"
    );
}

#[test]
fn the_rateless_code_sends_about_1_35_symbols_per_difference() {
    let results = run();
    let rateless = &results[2];
    let d = rateless.counters.keys_repaired as f64;
    // Two symbols for the identical comparisons at 0 and 20 s.
    let symbols = rateless.counters.hashes_sent as f64 - 2.0;
    let ratio = symbols / d;
    assert!((1.2..=1.6).contains(&ratio), "{ratio} symbols per difference");
    // Per divergent key, against the floor of (log2 10^6 + 64) bits = 10.5 bytes.
    let per_key = rateless.counters.hash_bytes as f64 / d;
    let floor = (1e6f64.log2() + 64.0) / 8.0;
    assert!(
        per_key > floor && per_key < 5.0 * floor,
        "{per_key} bytes per key, floor {floor}"
    );
}

#[test]
fn pinsketch_bisects_a_difference_beyond_its_capacity() {
    let results = run();
    let pinsketch = &results[3];
    let d = pinsketch.counters.keys_repaired;
    // ~1,000 keys against 64 syndromes: the range is halved until each part holds at
    // most 64 differing records, about log2(1,000 / 64) + 1 = 5 levels, and a few more
    // where a part's keys cluster; the identical comparisons take one round each, the
    // one at 20 s split in 32 parts by the previous round's estimate (~1,000 elements).
    let rounds = pinsketch.counters.round_trips - 2;
    assert!((5..=12).contains(&rounds), "{rounds} rounds");
    // Every sketch is 64 x 8 bytes: at least one per 64 differing records.
    let sketches = pinsketch.counters.hashes_sent / 64;
    assert_eq!(pinsketch.counters.hashes_sent % 64, 0);
    assert!(sketches >= 2 + d / 64, "{sketches} sketches");
    assert!(sketches >= 2 + d / 64 + 32, "{sketches} sketches");
    let per_key = pinsketch.counters.hash_bytes as f64 / d as f64;
    assert!(per_key < 60.0, "{per_key} bytes per key");
}

#[test]
fn the_same_seed_gives_byte_identical_results() {
    assert_eq!(summary_csv(&run()), summary_csv(&run()));
}

/// Six nodes, RF 3, 8 vnodes, 1% loss and a crash of node 0 mid-run: sketches over every
/// pair of each token range, Reaper-style segments, sessions aborted by the crash.
const RING: &str = r#"name = "sets-ring"
seed = 16
duration = "4min"
sample_interval = "10s"
[cluster]
nodes = 6
keys = 1_000_000
cores = 2
scan_cost_per_key = "100ns"
replication_factor = 3
vnodes = 8
tokens = "balanced"
[network]
loss = 0.01
latency = { kind = "constant", value = "1ms" }
[workload]
writes_per_s = 200.0
stop_at = "2min"
[faults]
[[faults.crash]]
node = 0
at = "30s"
restart = "60s"
[[strategy]]
kind = "segmented"
name = "rateless"
segments = 4
leaves = 16
workers = 2
interval = "20s"
max_sessions_per_node = 2
reconciler = "rateless_iblt"
[[strategy]]
kind = "segmented"
name = "pinsketch"
segments = 4
leaves = 16
workers = 2
interval = "20s"
max_sessions_per_node = 2
reconciler = "pinsketch"
pinsketch_capacity = 16
[[strategy]]
kind = "monolithic"
name = "iblt"
leaves = 16
interval = "10s"
reconciler = "iblt"
iblt_cells = 32
"#;

#[test]
fn sketches_repair_a_ring_through_loss_and_a_crash() {
    let results = run_scenario(&common::scenario(RING), 2).expect("invariants hold");
    for r in &results {
        assert_eq!(r.divergent_at_end, 0, "{}", r.strategy);
        assert!(
            r.counters.keys_repaired > 100,
            "{}: {}",
            r.strategy,
            r.counters.keys_repaired
        );
        // Three pairs per range can carry the same record twice. A key counts as streamed
        // when a pair found it different in the snapshots; it is needed only if the
        // receiver still lacks it when the stream is read, so a snapshot that caught a
        // replication message in flight (1 ms) streams a record nobody needs: rare
        // with a session every 20 s per segment, common with passes back to back.
        assert!(r.counters.records_streamed >= r.counters.records_needed);
        assert!(
            r.counters.records_streamed <= 2 * r.counters.records_needed + 10,
            "{}: {} streamed, {} needed",
            r.strategy,
            r.counters.records_streamed,
            r.counters.records_needed
        );
    }
}
