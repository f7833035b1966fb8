//! Writing files so that no reader ever sees half of one: every file goes to a hidden
//! temporary name beside its target, is synced, and is renamed into place; several files
//! are renamed only once all are written. Temporaries a killed process left behind are
//! recognised and swept.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Test hook: when set to a number N, the process aborts after writing N bytes of
/// temporary files, exactly as if it were killed mid-write (see tests/cli.rs).
pub const ABORT_AFTER_BYTES_VAR: &str = "AESIM_TEST_ABORT_AFTER_BYTES";

/// The temporary name of `name` (relative to `dir`, e.g. `charts/cost.svg`) while it is
/// being written: hidden, beside the target, and unique to this process and call, so
/// that threads or processes writing the same file at once (sweep shards sharing a
/// folder) never write one temporary file. [`remove_stale_temporaries`] recognises
/// these names.
fn temp_name(dir: &Path, name: &str, unique: u64) -> PathBuf {
    let target = dir.join(name);
    let file = target
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let folder = target.parent().unwrap_or(dir);
    folder.join(format!(".{file}.{}-{unique}{TEMP_SUFFIX}", std::process::id()))
}

/// The ending of every temporary file aesim writes.
const TEMP_SUFFIX: &str = ".tmp";

/// Whether `name` is one of aesim's temporary names (`.NAME.PID-N.tmp`).
fn is_temporary_name(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(TEMP_SUFFIX)) else {
        return false;
    };
    let Some((_, stamp)) = inner.rsplit_once('.') else {
        return false;
    };
    let Some((pid, unique)) = stamp.split_once('-') else {
        return false;
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(pid) && digits(unique)
}

/// Removes aesim's temporary files in `dir` (not below it) last modified at least
/// `older_than` ago: leftovers of runs killed while writing, which no later run would
/// otherwise replace, since their names carry the dead process's id. Files of other
/// programs are never touched. Returns how many were removed; errors are ignored (a
/// leftover that cannot be removed harms nothing).
pub fn remove_stale_temporaries(dir: &Path, older_than: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        if !is_temporary_name(&name.to_string_lossy()) {
            continue;
        }
        let old_enough = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .is_some_and(|modified| now.duration_since(modified).unwrap_or_default() >= older_than);
        if old_enough && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// How old a temporary file of a sweep's folder must be to be removed as stale: far
/// longer than any file takes to write, because shards sharing the folder (possibly
/// from other machines) may be writing theirs right now.
pub const STALE_TEMPORARY_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Writes `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("output path has no file name"))?;
    write_all_atomic(dir, &[(&name.to_string_lossy(), contents.to_vec())])
}

/// Writes several files into `dir` as one unit, as far as a file system allows: every
/// file is first written whole to its temporary name and synced; only then are they
/// renamed over their targets, in order. A run killed while writing leaves every
/// previous file intact (and at worst a hidden `.NAME.PID-N.tmp`); a run killed during
/// the renames, a window of microseconds, leaves each file either old or new, never
/// partial.
pub fn write_all_atomic(dir: &Path, files: &[(&str, Vec<u8>)]) -> io::Result<()> {
    let mut abort_after_bytes: Option<u64> = std::env::var(ABORT_AFTER_BYTES_VAR).ok().and_then(|v| v.parse().ok());
    static NEXT_TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = NEXT_TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let written = (|| {
        for (name, contents) in files {
            let mut file = std::fs::File::create(temp_name(dir, name, unique))?;
            match abort_after_bytes.as_mut() {
                Some(budget) if (contents.len() as u64) >= *budget => {
                    file.write_all(&contents[..*budget as usize])?;
                    file.sync_all()?;
                    std::process::abort();
                }
                Some(budget) => *budget -= contents.len() as u64,
                None => {}
            }
            file.write_all(contents)?;
            file.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        for (name, _) in files {
            let _ = std::fs::remove_file(temp_name(dir, name, unique));
        }
        return Err(e);
    }
    for (name, _) in files {
        std::fs::rename(temp_name(dir, name, unique), dir.join(name))?;
    }
    // Make the renames durable too (best effort: not every platform syncs folders).
    let mut folders: Vec<PathBuf> = files
        .iter()
        .filter_map(|(name, _)| dir.join(name).parent().map(Path::to_path_buf))
        .collect();
    folders.dedup();
    for folder in folders {
        if let Ok(folder) = std::fs::File::open(folder) {
            let _ = folder.sync_all();
        }
    }
    Ok(())
}
