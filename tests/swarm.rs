//! The swarm test: random scenarios across every table (the cluster and its ring, the
//! network, the workload, each strategy kind and reconciler, the presets, the faults
//! and the repair paths), built from a seeded stream, run end to end with invariants
//! checked at every sample. No case may panic; an invalid one must get located errors;
//! a valid one must run without an invariant violation. For some valid cases the
//! binary is run too, and its measured peak memory must stay within the estimate.
//!
//! A failure names its case number and prints the scenario. The default suite runs a
//! few hundred small cases; many more are opt-in:
//!
//! ```sh
//! AESIM_SWARM_CASES=20000 cargo test --release --test swarm -- --ignored --nocapture
//! ```
//!
//! `AESIM_SWARM_DEBUG=1` prints the first error of every refused case.

mod common;

use aesim::run::run_scenario;
use aesim::scenario::Scenario;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Cases of the default suite.
const CASES: u64 = 240;
/// Every this many valid cases, the binary runs the scenario and its peak memory is
/// held against the estimate.
const MEASURE_EVERY: u64 = 40;

/// One random value out of `choices`.
fn pick<'a>(rng: &mut ChaCha12Rng, choices: &[&'a str]) -> &'a str {
    choices.choose(rng).expect("choices")
}

/// A random scenario. Most values are in range; with a small probability a field gets
/// a value a checker must refuse (`wild`), so both sides of the validator are reached.
fn random_scenario(rng: &mut ChaCha12Rng, case: u64) -> String {
    let wild = |rng: &mut ChaCha12Rng, good: String, bad: &str| {
        if rng.random_bool(0.03) { bad.to_string() } else { good }
    };
    let nodes = rng.random_range(2..=6u32);
    let ring = rng.random_bool(0.6);
    let rf = if ring {
        rng.random_range(2..=nodes.min(4))
    } else {
        nodes
    };
    let vnodes = if ring {
        *[1u32, 2, 4, 16].choose(rng).unwrap()
    } else {
        1
    };
    let keys = *[2_000u64, 10_000, 50_000].choose(rng).unwrap();
    let duration_s = rng.random_range(10..=60u64);
    let mut s = String::new();
    let _ = writeln!(s, "name = \"swarm-{case}\"\nseed = {}", rng.random_range(0..1_000u64));
    let _ = writeln!(s, "duration = \"{}\"", wild(rng, format!("{duration_s}s"), "0s"));
    let _ = writeln!(s, "[cluster]\nnodes = {}", wild(rng, nodes.to_string(), "1"));
    let _ = writeln!(s, "keys = {keys}\ncores = {}", rng.random_range(1..=4u32));
    let _ = writeln!(s, "scan_cost_per_key = \"{}\"", pick(rng, &["100ns", "1us", "2.4us"]));
    if ring {
        let _ = writeln!(s, "replication_factor = {}", wild(rng, rf.to_string(), "99"));
        let _ = writeln!(s, "vnodes = {vnodes}");
        let _ = writeln!(s, "tokens = \"{}\"", pick(rng, &["balanced", "random"]));
    }
    let loss = format!("{:.3}", rng.random_range(0.0..0.1));
    let _ = writeln!(s, "[network]\nloss = {}", wild(rng, loss, "1.5"));
    let _ = writeln!(
        s,
        "latency = {}",
        pick(
            rng,
            &[
                "{ kind = \"constant\", value = \"1ms\" }",
                "{ kind = \"uniform\", min = \"1ms\", max = \"5ms\" }",
                "{ kind = \"exponential\", mean = \"3ms\" }",
            ]
        )
    );
    let writes = rng.random_range(0.0..200.0f64);
    let _ = writeln!(
        s,
        "[workload]\nwrites_per_s = {}",
        wild(rng, format!("{writes:.1}"), "-1.0")
    );
    if rng.random_bool(0.5) {
        let _ = writeln!(s, "stop_at = \"{}s\"", duration_s * 2 / 3);
    }
    let _ = writeln!(
        s,
        "keys = {}",
        pick(
            rng,
            &[
                "{ kind = \"uniform\" }",
                "{ kind = \"zipf\", exponent = 1.0 }",
                "{ kind = \"hotspot\", key_fraction = 0.01, write_fraction = 0.9 }",
            ]
        )
    );
    if rng.random_bool(0.3) {
        let _ = writeln!(s, "[consistency]\nwrite = \"{}\"", pick(rng, &["one", "quorum", "all"]));
        let _ = writeln!(s, "read = \"{}\"", pick(rng, &["one", "quorum"]));
    }
    if rng.random_bool(0.3) {
        let _ = writeln!(
            s,
            "[hints]\nwindow = \"3h\"\nreplay_delay = \"{}\"",
            pick(rng, &["1s", "10s"])
        );
    }
    if rng.random_bool(0.2) {
        let _ = writeln!(s, "[reads]\nreads_per_s = {:.1}", rng.random_range(1.0..100.0f64));
    }
    if rng.random_bool(0.2) {
        let _ = writeln!(
            s,
            "[deletes]\nfraction = {:.2}\ngc_grace = \"{}\"\ncompaction_interval = \"{}\"",
            rng.random_range(0.0..0.3f64),
            pick(rng, &["5s", "20s", "10d"]),
            pick(rng, &["2s", "10s"])
        );
    }
    let strategies = rng.random_range(1..=3u32);
    for i in 0..strategies {
        strategy(rng, &mut s, i, keys, vnodes, nodes, ring);
    }
    if rng.random_bool(0.35) {
        faults(rng, &mut s, nodes, duration_s);
    }
    s
}

/// One `[[strategy]]` table of a random kind.
fn strategy(rng: &mut ChaCha12Rng, s: &mut String, i: u32, keys: u64, vnodes: u32, nodes: u32, ring: bool) {
    let _ = writeln!(s, "[[strategy]]\nname = \"s{i}\"");
    let ranges = u64::from(vnodes * nodes);
    let range_keys = if ring { keys / ranges } else { keys };
    match rng.random_range(0..6u32) {
        0 => {
            let preset = pick(
                rng,
                &[
                    "cassandra-full",
                    "cassandra-incremental",
                    "scylla-row-level",
                    "naive",
                    "reaper",
                    "riak-aae",
                    "riak-tictac",
                ],
            );
            let _ = writeln!(s, "preset = \"{preset}\"");
            match preset {
                "riak-aae" => {
                    let _ = writeln!(s, "expire = \"20s\"\nbuild_limit_period = \"5s\"");
                }
                "riak-tictac" => {
                    let _ = writeln!(s, "tick = \"5s\"");
                }
                _ => {
                    let _ = writeln!(s, "interval = \"10s\"");
                }
            }
        }
        1 | 2 => {
            let leaves = [16u64, 64, 256].into_iter().rfind(|&l| l <= range_keys).unwrap_or(1);
            let _ = writeln!(
                s,
                "kind = \"monolithic\"\nleaves = {leaves}\ninterval = \"{}\"",
                pick(rng, &["5s", "20s"])
            );
            if ring {
                let _ = writeln!(
                    s,
                    "order = \"{}\"",
                    pick(rng, &["all_at_once", "node_by_node", "range_by_range"])
                );
            }
            let _ = writeln!(
                s,
                "reconciler = \"{}\"",
                pick(
                    rng,
                    &[
                        "merkle",
                        "cassandra_tree",
                        "row_level",
                        "naive",
                        "iblt",
                        "rateless_iblt"
                    ]
                )
            );
            if rng.random_bool(0.3) {
                let _ = writeln!(s, "session_overhead = \"100ms\"");
            }
            if ring {
                let _ = writeln!(s, "pairs = \"{}\"", pick(rng, &["all", "chain", "ring", "star"]));
            }
        }
        3 | 4 => {
            let segments = rng.random_range(ranges.max(1)..=ranges.max(1) * 4);
            let leaves = [4u64, 16].into_iter().rfind(|&l| l * segments <= keys).unwrap_or(1);
            let _ = writeln!(
                s,
                "kind = \"segmented\"\nsegments = {segments}\nleaves = {leaves}\nworkers = {}",
                rng.random_range(1..=4u32)
            );
            let policy = pick(rng, &["round_robin", "hottest_first", "age_weighted"]);
            let _ = writeln!(s, "policy = \"{policy}\"");
            if policy != "round_robin" {
                let _ = writeln!(s, "max_interval = \"{}\"", pick(rng, &["5s", "30s"]));
            }
            if ring && rng.random_bool(0.5) {
                let _ = writeln!(s, "max_sessions_per_node = 1\nsegment_split = \"reaper\"");
                if rng.random_bool(0.5) {
                    let _ = writeln!(s, "segment_timeout = \"2s\"\nscheduling_interval = \"1s\"");
                }
            }
        }
        _ => {
            let reconciler = pick(rng, &["riak_hashtree", "tictac"]);
            let _ = writeln!(s, "kind = \"riak_aae\"\nreconciler = \"{reconciler}\"\ntick = \"3s\"");
            if reconciler == "riak_hashtree" {
                let _ = writeln!(s, "expire = \"15s\"\nbuild_limit_period = \"2s\"");
            }
        }
    }
}

/// A `[faults]` table with some of every kind.
fn faults(rng: &mut ChaCha12Rng, s: &mut String, nodes: u32, duration_s: u64) {
    let _ = writeln!(
        s,
        "[faults]\nduplicate = {:.2}\nreorder = {:.2}\nbitrot_per_s = {:.2}",
        rng.random_range(0.0..0.1f64),
        rng.random_range(0.0..0.1f64),
        rng.random_range(0.0..0.5f64)
    );
    if rng.random_bool(0.6) {
        let at = rng.random_range(1..duration_s);
        let _ = writeln!(
            s,
            "[[faults.crash]]\nnode = {}\nat = \"{at}s\"\nrestart = \"{}s\"",
            rng.random_range(0..nodes),
            at + rng.random_range(1..=10u64)
        );
    }
    if rng.random_bool(0.4) {
        let start = rng.random_range(1..duration_s);
        let _ = writeln!(
            s,
            "[[faults.partition]]\nstart = \"{start}s\"\nend = \"{}s\"\nisolate = [{}]",
            start + rng.random_range(1..=10u64),
            rng.random_range(0..nodes)
        );
    }
}

/// What the cases did.
#[derive(Debug, Default)]
struct Tally {
    valid: u64,
    invalid: u64,
    measured: u64,
}

/// The peak memory the binary reports on its last status line ("peak memory 25 MiB").
fn measured_peak_bytes(stderr: &str) -> Option<u64> {
    let after = stderr.rsplit("peak memory ").next()?;
    let text = after.split(';').next()?.trim();
    aesim::resources::parse_size(&text.replace(' ', "")).ok()
}

fn swarm(cases: u64, seed: u64) -> Tally {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let dir = common::temp_dir("swarm");
    for case in 0..cases {
        let text = random_scenario(&mut rng, case);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let parsed = Scenario::parse(&text, "swarm.toml");
            let run = parsed.as_ref().ok().map(|s| run_scenario(s, 1));
            (parsed, run)
        }));
        let line_count = text.split('\n').count();
        match outcome {
            Err(_) => panic!("case {case} panicked on:\n{text}"),
            Ok((Err(e), _)) => {
                assert!(!e.diagnostics.is_empty(), "case {case}: an error without diagnostics");
                for d in &e.diagnostics {
                    assert!(
                        d.line >= 1 && d.line <= line_count && d.column >= 1,
                        "case {case}: '{}' not located (line {}, column {}) in:\n{text}",
                        d.message,
                        d.line,
                        d.column
                    );
                }
                if std::env::var("AESIM_SWARM_DEBUG").is_ok() {
                    eprintln!("invalid: {}", e.diagnostics[0].message);
                }
                tally.invalid += 1;
            }
            Ok((Ok(scenario), run)) => {
                if let Some(Err(violation)) = run {
                    panic!("case {case}: invariant violated: {violation:?}\n{text}");
                }
                tally.valid += 1;
                if tally.valid % MEASURE_EVERY == 1 {
                    let path = dir.join(format!("case-{case}.toml"));
                    std::fs::write(&path, &text).unwrap();
                    let out = common::aesim(&[
                        "run",
                        path.to_str().unwrap(),
                        "--out",
                        dir.join(format!("out-{case}")).to_str().unwrap(),
                        "--jobs",
                        "1",
                    ]);
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "case {case}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    if let Some(peak) = measured_peak_bytes(&stderr) {
                        let estimate = aesim::resources::estimate(&scenario, 1).total_bytes;
                        assert!(
                            peak <= estimate,
                            "case {case}: measured peak {peak} bytes above the estimate {estimate}:\n{text}"
                        );
                        tally.measured += 1;
                    }
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    tally
}

#[test]
fn swarm_of_random_scenarios_runs_with_invariants_and_locates_every_error() {
    let tally = swarm(CASES, 1);
    eprintln!("swarm: {tally:?}");
    assert_eq!(tally.valid + tally.invalid, CASES);
    // Both sides of the validator, and the memory check, must be reached.
    assert!(tally.valid > CASES / 2, "{tally:?}");
    assert!(tally.invalid > CASES / 50, "{tally:?}");
    if cfg!(target_os = "linux") {
        assert!(tally.measured >= 3, "{tally:?}");
    }
}

/// The long run: `AESIM_SWARM_CASES` cases (default 20,000).
#[test]
#[ignore = "long: run with --ignored (see the module docs)"]
fn swarm_long() {
    let cases = std::env::var("AESIM_SWARM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let started = std::time::Instant::now();
    let tally = swarm(cases, 2);
    println!(
        "swarm: {cases} cases in {:.1}s: {} valid, {} invalid, {} measured",
        started.elapsed().as_secs_f64(),
        tally.valid,
        tally.invalid,
        tally.measured
    );
}
