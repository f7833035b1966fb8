//! `aesim validate`: a real anti-entropy exchange on this machine, set against the
//! simulator's prediction of the same configuration.
//!
//! Two fjall stores (the replicas) get the same records; then a chosen fraction of keys
//! gets a newer version on store A only (the writes whose replication was lost). For
//! each configuration (a monolithic tree, then `segments` segment trees with each worker
//! count asked for) the replicas run real sessions over loopback TCP ([`exchange`]):
//! real trees built by scanning the stores ([`tree`]), hashes exchanged level by level,
//! differing leaves streamed both ways and applied; at the end the stores must be
//! equal. The same configuration is simulated ([`predict`]) with the calibrated costs
//! and the loopback's measured latency and bandwidth ([`loopback`]), and [`report`]
//! sets predicted beside measured: counts must be equal, bytes within 5%.

pub mod exchange;
pub mod loopback;
pub mod predict;
pub mod report;
pub mod tree;
pub mod wire;

use crate::calibrate::engine::{EngineKind, Store};
use crate::calibrate::records;
use crate::calibrate::{CalibrateError, temporary_folder};
use crate::model::KeyRange;
use exchange::{SegmentOutcome, initiate, respond};
use predict::{Configuration, Costs, Prediction, predict};
use rand::SeedableRng;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Records written to the replicas per batch.
const LOAD_BATCH: u64 = 10_000;

/// What to validate.
#[derive(Clone, Debug)]
pub struct ValidateOptions {
    pub keys: u64,
    pub record_bytes: u64,
    /// Leaves of the monolithic tree.
    pub leaves: u32,
    /// Share of the keys whose newer version store B never got.
    pub fraction: f64,
    pub segments: u64,
    /// Leaves of each segment's tree.
    pub segment_leaves: u32,
    /// Worker counts of the segmented runs (none: monolithic only).
    pub workers: Vec<u32>,
    /// Seeds the choice of the lost writes.
    pub seed: u64,
    /// A cost profile; without one the build cost per key is measured in place.
    pub costs: Option<PathBuf>,
    pub folder: PathBuf,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            keys: 100_000,
            record_bytes: 100,
            leaves: 1024,
            fraction: 0.001,
            segments: 16,
            segment_leaves: 64,
            workers: vec![1, 2],
            seed: 1,
            costs: None,
            folder: std::env::temp_dir(),
        }
    }
}

/// One configuration's real run and prediction.
#[derive(Clone, Debug)]
pub struct Validation {
    pub config: Configuration,
    pub lost_writes: u64,
    pub measured: Measured,
    pub predicted: Prediction,
}

/// The real run of one configuration, summed over its segments.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub phases: SegmentOutcome,
    /// Wall time from the first session's start to the last one's end, ns.
    pub wall_ns: u64,
    /// Every byte both sides wrote on their sockets (frames, headers, requests).
    pub wire_bytes: u64,
    pub frames: u64,
    pub sessions: u64,
    pub stores_equal: bool,
}

fn error(message: String) -> CalibrateError {
    CalibrateError { message, hint: None }
}

/// Runs every configuration `options` asks for; `progress` is told what runs.
pub fn validate(options: &ValidateOptions, progress: &dyn Fn(&str)) -> Result<Vec<Validation>, CalibrateError> {
    check_options(options)?;
    let dir = temporary_folder(
        &options.folder,
        "aesim-validate-",
        2 * options.keys.saturating_mul(options.record_bytes),
    )?;
    let open = |name: &str| Store::open(EngineKind::Fjall, &dir.path().join(name)).map_err(CalibrateError::from);
    let (a, b) = (open("replica-a")?, open("replica-b")?);
    progress("loading both replicas");
    for store in [&a, &b] {
        load(store, options)?;
    }
    progress("measuring the loopback connection");
    let net = loopback::measure().map_err(|e| error(format!("measuring the loopback connection: {e}")))?;
    let costs = match &options.costs {
        Some(path) => Costs::Profile(std::path::absolute(path).map_err(|e| error(format!("{}: {e}", path.display())))?),
        None => {
            progress("measuring the build cost per key in place");
            Costs::ScanPerKey(build_cost_per_key(&a, options)?)
        }
    };
    let mut configs = vec![(1, options.leaves, 1)];
    configs.extend(
        options
            .workers
            .iter()
            .map(|&w| (options.segments, options.segment_leaves, w)),
    );
    let mut validations = Vec::new();
    for (round, (segments, leaves, workers)) in configs.into_iter().enumerate() {
        let config = Configuration {
            keys: options.keys,
            record_bytes: options.record_bytes,
            leaves,
            segments,
            workers,
            latency_ns: net.latency_ns,
            bandwidth_bytes_per_s: net.bandwidth_bytes_per_s.max(1),
        };
        let lost = lose_writes(&a, options, round as u64)?;
        progress(&report::config_name(&config));
        let measured = run_real(&a, &b, &config)?;
        let predicted = predict(&config, &costs, &lost).map_err(error)?;
        validations.push(Validation {
            config,
            lost_writes: lost.len() as u64,
            measured,
            predicted,
        });
    }
    drop((a, b));
    drop(dir);
    Ok(validations)
}

fn check_options(o: &ValidateOptions) -> Result<(), CalibrateError> {
    let bad = |message: String| Err(CalibrateError { message, hint: None });
    if o.keys < 2 || o.record_bytes < records::RECORD_HEADER_BYTES {
        return bad(format!(
            "--keys {} --record-bytes {}: at least 2 keys of at least 16 bytes",
            o.keys, o.record_bytes
        ));
    }
    if !(o.leaves.is_power_of_two() && o.segment_leaves.is_power_of_two()) {
        return bad(format!(
            "--leaves {} and --segment-leaves {} must be powers of two",
            o.leaves, o.segment_leaves
        ));
    }
    if !(0.0..=1.0).contains(&o.fraction) {
        return bad(format!("--fraction {}: a share between 0 and 1", o.fraction));
    }
    if o.segments < 1 || o.segments > o.keys || o.workers.iter().any(|&w| w < 1 || u64::from(w) > o.segments) {
        return bad(format!(
            "--segments {} --workers {:?}: between 1 and --keys segments, between 1 and --segments workers",
            o.segments, o.workers
        ));
    }
    Ok(())
}

/// Writes every key at version 1.
fn load(store: &Store, options: &ValidateOptions) -> Result<(), CalibrateError> {
    let mut key = 0;
    while key < options.keys {
        let end = (key + LOAD_BATCH).min(options.keys);
        let batch: Vec<([u8; 8], Vec<u8>)> = (key..end)
            .map(|k| (records::key_bytes(k), records::value_bytes(k, 1, options.record_bytes)))
            .collect();
        store.write_batch(batch.iter().map(|(k, v)| (&k[..], &v[..])))?;
        key = end;
    }
    store.flush()?;
    Ok(())
}

/// Writes a newer version of `fraction` of the keys (a seeded choice, new for each
/// round) to `a` only; returns the keys, sorted.
fn lose_writes(a: &Store, options: &ValidateOptions, round: u64) -> Result<Vec<u64>, CalibrateError> {
    let count = ((options.keys as f64 * options.fraction).round() as usize).min(options.keys as usize);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(options.seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut keys: Vec<u64> = rand::seq::index::sample(&mut rng, options.keys as usize, count)
        .into_iter()
        .map(|k| k as u64)
        .collect();
    keys.sort_unstable();
    let version = round + 2;
    let values: Vec<([u8; 8], Vec<u8>)> = keys
        .iter()
        .map(|&k| {
            (
                records::key_bytes(k),
                records::value_bytes(k, version, options.record_bytes),
            )
        })
        .collect();
    a.write_batch(values.iter().map(|(k, v)| (&k[..], &v[..])))?;
    Ok(keys)
}

/// The median build cost per key of full trees of store `a` (one warm-up, five runs).
fn build_cost_per_key(a: &Store, options: &ValidateOptions) -> Result<u64, CalibrateError> {
    let range = KeyRange::new(0, options.keys);
    let mut samples = Vec::new();
    for run in 0..6 {
        let start = Instant::now();
        let tree = tree::RealTree::build(a, range, options.leaves)?;
        let ns = start.elapsed().as_nanos() as f64 / tree.records_scanned.max(1) as f64;
        if run > 0 {
            samples.push(ns);
        }
    }
    Ok(crate::calibrate::stats::Stats::of(&samples).median.round().max(1.0) as u64)
}

/// The real sessions of `config`: `workers` initiator threads, each with its own TCP
/// connection to a responder thread, taking segments in key order until none is left.
fn run_real(a: &Store, b: &Store, config: &Configuration) -> Result<Measured, CalibrateError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| error(format!("listening on loopback: {e}")))?;
    let address = listener.local_addr().map_err(|e| error(e.to_string()))?;
    // Each worker's connection, paired here (connect, then accept) so that each
    // initiator talks to its own responder.
    let mut connections = Vec::new();
    for _ in 0..config.workers {
        let client = TcpStream::connect(address).map_err(|e| error(format!("connecting on loopback: {e}")))?;
        let (server, _) = listener
            .accept()
            .map_err(|e| error(format!("accepting on loopback: {e}")))?;
        connections.push((client, server));
    }
    let next_segment = AtomicU64::new(0);
    let start = Instant::now();
    let outcomes: Vec<Result<WorkerResult, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = connections
            .into_iter()
            .map(|(client, server)| {
                let next = &next_segment;
                scope.spawn(move || worker(a, b, config, client, server, next))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a worker panicked".into())))
            .collect()
    });
    let wall_ns = start.elapsed().as_nanos() as u64;
    let mut measured = Measured {
        wall_ns,
        ..Measured::default()
    };
    for outcome in outcomes {
        let (segments, bytes, frames) = outcome.map_err(|e| error(format!("the real exchange failed: {e}")))?;
        measured.wire_bytes += bytes;
        measured.frames += frames;
        for s in segments {
            measured.sessions += 1;
            add(&mut measured.phases, &s);
        }
    }
    measured.stores_equal = stores_equal(a, b)?;
    Ok(measured)
}

/// A worker's sessions, and the bytes and frames both ends of its connection sent.
type WorkerResult = (Vec<SegmentOutcome>, u64, u64);

/// One worker: sessions over its connection (initiator here, responder on a thread of
/// its own) for segments taken in key order until none is left.
fn worker(
    a: &Store,
    b: &Store,
    config: &Configuration,
    client: TcpStream,
    server: TcpStream,
    next: &AtomicU64,
) -> Result<WorkerResult, String> {
    let key_space = KeyRange::new(0, config.keys);
    let (mut sender, mut receiver, sent) = wire::split(client).map_err(|e| e.to_string())?;
    let (report_tx, report_rx) = mpsc::channel();
    std::thread::scope(|inner| {
        let responder = inner.spawn(move || -> Result<(u64, u64), String> {
            let (mut tx, mut rx, sent_b) = wire::split(server).map_err(|e| e.to_string())?;
            respond(b, &mut tx, &mut rx, &sent_b, &report_tx, config.record_bytes).map_err(|e| e.0)?;
            Ok((sent_b.bytes(), sent_b.frames()))
        });
        let mut outcomes = Vec::new();
        let mut run = || -> Result<(), String> {
            loop {
                let segment = next.fetch_add(1, Ordering::SeqCst);
                if segment >= config.segments {
                    break;
                }
                let range = key_space.part(segment, config.segments);
                let outcome = initiate(
                    a,
                    &mut sender,
                    &mut receiver,
                    &sent,
                    &report_rx,
                    range,
                    config.leaves,
                    config.record_bytes,
                )
                .map_err(|e| e.0)?;
                outcomes.push(outcome);
            }
            sender.frame(wire::Kind::Done, &[]).map_err(|e| e.to_string())?;
            sender.flush().map_err(|e| e.to_string())
        };
        let ran = run();
        if ran.is_err() {
            // Unblock the responder: it ends when the connection closes.
            let _ = sender.shutdown();
        }
        let (b_bytes, b_frames) = responder.join().map_err(|_| "the responder panicked".to_string())??;
        ran?;
        Ok((outcomes, sent.bytes() + b_bytes, sent.frames() + b_frames))
    })
}

fn add(total: &mut SegmentOutcome, s: &SegmentOutcome) {
    total.build_ns += s.build_ns;
    total.build_core_ns += s.build_core_ns;
    total.exchange_ns += s.exchange_ns;
    total.stream_ns += s.stream_ns;
    total.total_ns += s.total_ns;
    total.round_trips += s.round_trips;
    total.hashes += s.hashes;
    total.leaves_streamed += s.leaves_streamed;
    total.records_scanned += s.records_scanned;
    total.records_streamed += s.records_streamed;
    total.records_applied += s.records_applied;
    total.exchange_bytes += s.exchange_bytes;
    total.stream_bytes += s.stream_bytes;
}

/// Whether both stores hold exactly the same records (a full scan of each).
pub fn stores_equal(a: &Store, b: &Store) -> Result<bool, CalibrateError> {
    let digest = |store: &Store| -> Result<(u64, blake3::Hash), CalibrateError> {
        let mut hasher = blake3::Hasher::new();
        let count = store.scan(&[], None, |key, value| {
            hasher.update(key);
            hasher.update(value);
        })?;
        Ok((count, hasher.finalize()))
    };
    Ok(digest(a)? == digest(b)?)
}
