//! `aesim calibrate`: the cost constants of aesim's model measured on a real embedded
//! storage engine on this machine, written as a cost profile that scenarios can use.
//!
//! N records are written into fjall (default) or redb in a temporary folder, removed
//! whatever happens (a `tempfile::TempDir`, dropped on errors and on Ctrl-C, which the
//! loops check). After warm-ups, each cost is measured in repeated runs and summarised
//! by its median and spread ([`stats`]): a full ordered scan per key and per byte, warm
//! and cold (the store's files dropped from the page cache, [`page_cache`]), point reads
//! and writes, and the per-record cost of each reconciler's hash ([`hashes`]).
//! [`profile`] turns the figures into the profile's TOML and the comparison table.

pub mod engine;
pub mod hashes;
pub mod interrupt;
pub mod machine;
pub mod page_cache;
pub mod profile;
pub mod records;
pub mod stats;

use engine::{EngineKind, Store};
use hashes::HashKind;
use indicatif::ProgressBar;
use machine::Machine;
use stats::{Stats, measure};
use std::path::{Path, PathBuf};

/// Records written per engine batch while loading the store.
const LOAD_BATCH: u64 = 10_000;

/// What to measure, and where.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    pub engine: EngineKind,
    pub records: u64,
    /// Bytes of a record (key and value), at least [`records::RECORD_HEADER_BYTES`].
    pub record_bytes: u64,
    pub warmups: usize,
    pub runs: usize,
    /// Point reads and point writes per run.
    pub point_ops: u64,
    /// The folder the temporary store is made in.
    pub folder: PathBuf,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            engine: EngineKind::Fjall,
            records: 200_000,
            record_bytes: 100,
            warmups: 2,
            runs: 7,
            point_ops: 20_000,
            folder: std::env::temp_dir(),
        }
    }
}

/// Every figure measured, with its conditions.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub options: CalibrateOptions,
    pub machine: Machine,
    /// Bytes the loaded store occupied on disk.
    pub store_bytes: u64,
    /// Full ordered scan, ns per key, warm (pages and engine caches hot).
    pub scan_warm: Stats,
    /// Full ordered scan, ns per key, after reopening the engine and dropping its files
    /// from the page cache.
    pub scan_cold: Stats,
    /// Whether the page cache was verifiably dropped (else `scan_cold` only reopened
    /// the engine: an approximation of a cold scan).
    pub cold_evicted: bool,
    pub point_read: Stats,
    pub point_write: Stats,
    /// ns per record for each hash, in [`HashKind::ALL`] order.
    pub hashes: Vec<(HashKind, Stats)>,
}

impl Calibration {
    pub fn hash(&self, kind: HashKind) -> Stats {
        self.hashes
            .iter()
            .find(|(k, _)| *k == kind)
            .expect("every hash is measured")
            .1
    }
}

/// A calibration that could not be made, with what to do.
#[derive(Debug)]
pub struct CalibrateError {
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for CalibrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

impl From<engine::EngineError> for CalibrateError {
    fn from(e: engine::EngineError) -> Self {
        CalibrateError {
            message: e.0,
            hint: None,
        }
    }
}

fn check_interrupt() -> Result<(), CalibrateError> {
    if interrupt::interrupted() {
        Err(CalibrateError {
            message: "interrupted (the temporary store was removed)".into(),
            hint: None,
        })
    } else {
        Ok(())
    }
}

/// Makes the temporary folder for a store of about `bytes` bytes in `parent`, or says
/// why it cannot (not writable, too little space).
pub fn temporary_folder(parent: &Path, prefix: &str, bytes: u64) -> Result<tempfile::TempDir, CalibrateError> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(|e| CalibrateError {
            message: format!("cannot create a temporary store in {}: {e}", parent.display()),
            hint: Some("choose a writable folder with --dir".into()),
        })?;
    if let Some(free) = free_bytes(dir.path())
        && free < bytes.saturating_mul(3)
    {
        return Err(CalibrateError {
            message: format!(
                "{} has {free} bytes free, too little for a store of about {bytes} bytes (3x kept free for \
                 the engine's compactions)",
                parent.display()
            ),
            hint: Some("fewer --records, or another folder with --dir".into()),
        });
    }
    Ok(dir)
}

/// Free bytes of the file system holding `path` (None where it cannot be read).
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into a zeroed struct it is given, from a NUL-terminated path.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c_path.as_ptr(), &mut stat) == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
    }
}

/// Measures everything `options` asks for; `progress` counts steps (its length is set
/// here).
pub fn calibrate(options: &CalibrateOptions, progress: &ProgressBar) -> Result<Calibration, CalibrateError> {
    if options.record_bytes < records::RECORD_HEADER_BYTES || options.records < 2 {
        return Err(CalibrateError {
            message: format!(
                "{} records of {} bytes: calibration needs at least 2 records of at least {} bytes (key and version)",
                options.records,
                options.record_bytes,
                records::RECORD_HEADER_BYTES
            ),
            hint: None,
        });
    }
    let dir = temporary_folder(
        &options.folder,
        "aesim-calibrate-",
        options.records.saturating_mul(options.record_bytes),
    )?;
    let folder = dir.path().join(options.engine.name());
    let steps_per_measure = (options.warmups + options.runs) as u64;
    progress.set_length(options.records / LOAD_BATCH + 1 + steps_per_measure * (4 + HashKind::ALL.len() as u64));
    progress.set_message("loading");
    let store = Store::open(options.engine, &folder)?;
    load(&store, options, progress)?;
    store.flush()?;
    let store_bytes = folder_bytes(&folder);
    progress.set_message("warm scans");
    let scan_warm = measure(options.warmups, options.runs, || {
        check_interrupt()?;
        progress.inc(1);
        full_scan(&store)
    })?;
    progress.set_message("cold scans");
    let (store, scan_cold, cold_evicted) = cold_scans(store, options, progress)?;
    progress.set_message("point reads and writes");
    let (point_read, point_write) = point_ops(&store, options, progress)?;
    drop(store);
    progress.set_message("hashes");
    let hashes = hash_costs(options, progress)?;
    drop(dir);
    Ok(Calibration {
        options: options.clone(),
        machine: Machine::this(),
        store_bytes,
        scan_warm,
        scan_cold,
        cold_evicted,
        point_read,
        point_write,
        hashes,
    })
}

/// Writes every record at version 1, in batches.
fn load(store: &Store, options: &CalibrateOptions, progress: &ProgressBar) -> Result<(), CalibrateError> {
    let mut key = 0;
    while key < options.records {
        check_interrupt()?;
        let end = (key + LOAD_BATCH).min(options.records);
        let batch: Vec<([u8; 8], Vec<u8>)> = (key..end)
            .map(|k| (records::key_bytes(k), records::value_bytes(k, 1, options.record_bytes)))
            .collect();
        store.write_batch(batch.iter().map(|(k, v)| (&k[..], &v[..])))?;
        progress.inc(1);
        key = end;
    }
    Ok(())
}

/// One full ordered scan: (records visited, a checksum of what was read).
fn full_scan(store: &Store) -> Result<(u64, u64), CalibrateError> {
    let mut checksum = 0u64;
    let count = store.scan(&[], None, |key, value| {
        checksum = checksum.wrapping_add(key.len() as u64 + value.len() as u64 + u64::from(value[value.len() - 1]));
    })?;
    Ok((count, checksum))
}

/// Cold scans: each run closes the engine, drops its files from the page cache and
/// reopens it. Returns the reopened store.
fn cold_scans(
    mut store: Store,
    options: &CalibrateOptions,
    progress: &ProgressBar,
) -> Result<(Store, Stats, bool), CalibrateError> {
    let folder = store.folder().to_path_buf();
    let mut samples = Vec::new();
    let mut evicted = true;
    for run in 0..options.warmups + options.runs {
        check_interrupt()?;
        drop(store);
        let dropped = page_cache::drop_folder(&folder).map_err(|e| CalibrateError {
            message: format!("dropping the store's pages from the cache: {e}"),
            hint: None,
        })?;
        evicted &= dropped.evicted();
        store = Store::open(options.engine, &folder)?;
        let start = std::time::Instant::now();
        let (count, checksum) = full_scan(&store)?;
        std::hint::black_box(checksum);
        if run >= options.warmups {
            samples.push(start.elapsed().as_nanos() as f64 / count.max(1) as f64);
        }
        progress.inc(1);
    }
    Ok((store, Stats::of(&samples), evicted))
}

/// Point reads of random keys and point writes of new versions, `point_ops` per run.
fn point_ops(
    store: &Store,
    options: &CalibrateOptions,
    progress: &ProgressBar,
) -> Result<(Stats, Stats), CalibrateError> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next_key = move || {
        // xorshift64*: a fixed sequence of keys, spread over the whole store.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % options.records
    };
    let read = measure(options.warmups, options.runs, || {
        check_interrupt()?;
        progress.inc(1);
        let mut checksum = 0u64;
        for _ in 0..options.point_ops {
            let value = store.get(&records::key_bytes(next_key()))?;
            checksum = checksum.wrapping_add(value.map_or(0, |v| v.len() as u64));
        }
        Ok::<_, CalibrateError>((options.point_ops, checksum))
    })?;
    let mut version = 1;
    let write = measure(options.warmups, options.runs, || {
        check_interrupt()?;
        progress.inc(1);
        version += 1;
        for _ in 0..options.point_ops {
            let key = next_key();
            store.put(
                &records::key_bytes(key),
                &records::value_bytes(key, version, options.record_bytes),
            )?;
        }
        Ok::<_, CalibrateError>((options.point_ops, version))
    })?;
    Ok((read, write))
}

/// Each hash over every record, in memory (the records as the store holds them).
fn hash_costs(options: &CalibrateOptions, progress: &ProgressBar) -> Result<Vec<(HashKind, Stats)>, CalibrateError> {
    let size = options.record_bytes as usize;
    let mut buffer = Vec::with_capacity(options.records as usize * size);
    for key in 0..options.records {
        buffer.extend_from_slice(&records::key_bytes(key));
        buffer.extend_from_slice(&records::value_bytes(key, 1, options.record_bytes));
    }
    let mut costs = Vec::new();
    for kind in HashKind::ALL {
        let stats = measure(options.warmups, options.runs, || {
            check_interrupt()?;
            progress.inc(1);
            let checksum = buffer.chunks_exact(size).fold(0u64, |acc, r| acc ^ kind.hash(r));
            Ok::<_, CalibrateError>((options.records, checksum))
        })?;
        costs.push((kind, stats));
    }
    Ok(costs)
}

/// Bytes of the files under `folder`.
fn folder_bytes(folder: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
