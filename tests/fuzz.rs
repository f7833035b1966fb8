//! Fuzzing the scenario parser and validator: random and mutated scenario files must
//! never panic, and must always give either a valid scenario or located errors.
//!
//! The mutator is deterministic (a ChaCha stream per run), so a failure is reproduced by
//! its case number. The default suite runs a short smoke run; the long run is opt-in:
//!
//! ```sh
//! AESIM_FUZZ_INPUTS=1000000 cargo test --release --test fuzz -- --ignored --nocapture
//! ```

mod common;

use aesim::scenario::Scenario;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Inputs of the smoke run in the default test suite.
const SMOKE_INPUTS: u64 = 4_000;

/// Scenario files the mutations start from: every table and kind appears in one.
fn corpus() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut files: Vec<String> = paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    files.extend([
        common::LOSSY.to_string(),
        common::LOSSY.replace(
            r#"keys = { kind = "zipf", exponent = 1.0 }"#,
            r#"keys = { kind = "hotspot", key_fraction = 0.01, write_fraction = 0.9, shift_every = "30s" }"#,
        ),
        common::LOSSY.replace(
            r#"latency = { kind = "uniform", min = "1ms", max = "5ms" }"#,
            r#"latency = { kind = "constant", value = "1ms" }"#,
        ),
    ]);
    files.extend(common::FAULTY.iter().map(|s| s.to_string()));
    files
}

/// Values that sit on or beyond the edges of what fields accept.
const INTERESTING: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "64",
    "65",
    "1024",
    "16777216",
    "33554432",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "1099511627776",
    "0.0",
    "-0.0",
    "1.0",
    "1.0000001",
    "0.5",
    "1e9",
    "1e10",
    "1e308",
    "1e309",
    "5e-324",
    "nan",
    "inf",
    "-inf",
    "true",
    "\"\"",
    "\"0s\"",
    "\"1ns\"",
    "\"1s\"",
    "\"600000 years\"",
    "\"584y\"",
    "\"1h 30min\"",
    "\"-1s\"",
    "\"é\"",
    "[]",
    "{}",
    "{ kind = \"zipf\" }",
    "{ kind = \"uniform\", min = \"9s\", max = \"1s\" }",
    "{ kind = \"exponential\", mean = \"0s\" }",
    "{ kind = \"hotspot\", key_fraction = 0.0, write_fraction = 2.0 }",
    "\"monolithic\"",
    "\"segmented\"",
];

/// Lines worth inserting: table headers and fields, some misplaced.
const FRAGMENTS: &[&str] = &[
    "[cluster]",
    "[network]",
    "[workload]",
    "[[strategy]]",
    "[faults]",
    "[[faults.crash]]",
    "[[faults.partition]]",
    "[network.latency]",
    "[workload.keys]",
    "kind = \"monolithic\"",
    "kind = \"segmented\"",
    "segments = 16",
    "workers = 4",
    "tree = \"live\"",
    "policy = \"hottest_first\"",
    "max_interval = \"1min\"",
    "misalignment = { kind = \"offset\", keys = 7 }",
    "[sweep]",
    "network.loss = [0.0, 0.5]",
    "leaves = 8",
    "interval = \"1s\"",
    "keys = 10",
    "nodes = 3",
    "name = \"x\"",
    "loss = 0.5",
    "node = 0",
    "at = \"1s\"",
    "until = \"2s\"",
    "start = \"1s\"",
    "end = \"2s\"",
    "sides = [[0], [1]]",
    "duplicate = 0.1",
    "reorder = 0.1",
    "bitrot_per_s = 0.5",
    "lose = 1",
    "\u{0}",
    "=",
    "[",
    "\"",
    "'''",
    "a.b.c = 1",
];

fn mutate(rng: &mut ChaCha12Rng, corpus: &[String]) -> String {
    let mut text = corpus[rng.random_range(0..corpus.len())].clone();
    let rounds = rng.random_range(1..=4);
    for _ in 0..rounds {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let at = rng.random_range(0..lines.len());
        match rng.random_range(0..10) {
            // Replace the value of a `key = value` line.
            0..=2 => {
                if let Some((key, _)) = lines[at].split_once('=') {
                    let value = INTERESTING[rng.random_range(0..INTERESTING.len())];
                    lines[at] = format!("{key}= {value}");
                }
            }
            3 => {
                lines.remove(at);
            }
            4 => {
                let line = lines[at].clone();
                lines.insert(rng.random_range(0..=lines.len()), line);
            }
            5 => {
                let fragment = FRAGMENTS[rng.random_range(0..FRAGMENTS.len())];
                lines.insert(rng.random_range(0..=lines.len()), fragment.to_string());
            }
            6 => {
                let other = rng.random_range(0..lines.len());
                lines.swap(at, other);
            }
            // Byte-level damage: flip, insert or delete characters of one line.
            7 | 8 => {
                let mut chars: Vec<char> = lines[at].chars().collect();
                let edits = rng.random_range(1..=3);
                for _ in 0..edits {
                    let pos = rng.random_range(0..=chars.len());
                    let c = char::from(rng.random_range(0u8..128));
                    match rng.random_range(0..3) {
                        0 if pos < chars.len() => chars[pos] = c,
                        1 if pos < chars.len() => {
                            chars.remove(pos);
                        }
                        _ => chars.insert(pos, c),
                    }
                }
                lines[at] = chars.into_iter().collect();
            }
            // Splice the head of this file onto the tail of another.
            _ => {
                let other = &corpus[rng.random_range(0..corpus.len())];
                let other_lines: Vec<&str> = other.lines().collect();
                let from = rng.random_range(0..=other_lines.len());
                lines.truncate(at);
                lines.extend(other_lines[from..].iter().map(|s| s.to_string()));
            }
        }
        text = lines.join("\n");
        text.push('\n');
    }
    text
}

/// Entirely random text, mostly printable, sometimes not UTF-8-clean in spirit.
fn noise(rng: &mut ChaCha12Rng) -> String {
    let len = rng.random_range(0..200);
    (0..len)
        .map(|_| match rng.random_range(0..10) {
            0 => char::from_u32(rng.random_range(0..0x11_0000)).unwrap_or('\u{fffd}'),
            1 => '\n',
            2 => '=',
            3 => '"',
            4 => '[',
            _ => char::from(rng.random_range(32u8..127)),
        })
        .collect()
}

/// Outcome counts of a fuzz run.
#[derive(Debug, Default)]
struct Tally {
    valid: u64,
    invalid: u64,
    diagnostics: u64,
}

/// Checks one input: no panic; valid, or every error located on a real line.
fn check(text: &str, case: u64, tally: &mut Tally) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let parsed = Scenario::parse(text, "fuzz.toml");
        if let Err(e) = &parsed {
            // Rendering must not panic either.
            let _ = e.to_string();
        }
        if let Ok(s) = &parsed {
            // What a run would compute before simulating must not panic on it.
            let _ = aesim::resources::estimate(s, 1);
        }
        parsed
    }));
    let line_count = text.split('\n').count();
    match outcome {
        Err(_) => panic!("case {case}: the parser panicked on:\n{text}"),
        Ok(Ok(_)) => tally.valid += 1,
        Ok(Err(e)) => {
            assert!(!e.diagnostics.is_empty(), "case {case}: an error without diagnostics");
            for d in &e.diagnostics {
                assert!(
                    d.line >= 1 && d.line <= line_count && d.column >= 1,
                    "case {case}: error '{}' not located (line {}, column {}) in:\n{text}",
                    d.message,
                    d.line,
                    d.column
                );
            }
            tally.invalid += 1;
            tally.diagnostics += e.diagnostics.len() as u64;
        }
    }
}

fn fuzz(inputs: u64, seed: u64) -> Tally {
    let corpus = corpus();
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mut tally = Tally::default();
    for case in 0..inputs {
        let text = if case % 10 == 9 {
            noise(&mut rng)
        } else {
            mutate(&mut rng, &corpus)
        };
        check(&text, case, &mut tally);
    }
    tally
}

#[test]
fn the_corpus_is_valid() {
    for (i, text) in corpus().iter().enumerate() {
        if let Err(e) = Scenario::parse(text, "corpus.toml") {
            panic!("corpus file {i} is invalid:\n{e}");
        }
    }
}

#[test]
fn fuzz_smoke_never_panics_and_always_locates() {
    let tally = fuzz(SMOKE_INPUTS, 1);
    assert_eq!(tally.valid + tally.invalid, SMOKE_INPUTS);
    // The mutations must reach both sides of the validator to be worth anything.
    assert!(tally.valid > SMOKE_INPUTS / 20, "{tally:?}");
    assert!(tally.invalid > SMOKE_INPUTS / 2, "{tally:?}");
}

/// The long run: `AESIM_FUZZ_INPUTS` inputs (default 1,000,000).
#[test]
#[ignore = "long: run with --ignored (see the module docs)"]
fn fuzz_long() {
    let inputs = std::env::var("AESIM_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = std::time::Instant::now();
    let tally = fuzz(inputs, 2);
    println!(
        "fuzz: {inputs} inputs in {:.1}s: {} valid, {} invalid ({} diagnostics)",
        started.elapsed().as_secs_f64(),
        tally.valid,
        tally.invalid,
        tally.diagnostics
    );
    assert_eq!(tally.valid + tally.invalid, inputs);
}
