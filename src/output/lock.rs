//! One writer per folder: a single run (or a comparison) holds an exclusive advisory
//! lock on its output folder from before its checks until its files are published, and
//! a sweep's shards hold a shared one (they may write one folder together). A second
//! command into a folder in use is refused at once with a clear message, instead of
//! racing the first one (whose temporaries a single run sweeps away, which made the
//! loser fail with "No such file or directory").
//!
//! The lock is `flock(2)` on the folder itself, so nothing is written to take it and
//! nothing is left behind: the kernel releases it when the process ends, however it
//! ends. A folder the lock created is removed again if it is still empty when the lock
//! is dropped (a run refused or stopped before writing leaves nothing).

use std::path::{Path, PathBuf};

/// How a command shares its output folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// Alone: a single run, a comparison.
    Exclusive,
    /// With other commands of the same mode: a sweep's shards and merges.
    Shared,
}

/// A held lock on an output folder; released when dropped.
#[derive(Debug)]
pub struct FolderLock {
    dir: PathBuf,
    // Kept open: the lock lives as long as this descriptor.
    _handle: std::fs::File,
    created: bool,
}

/// Why a folder could not be locked.
#[derive(Debug, PartialEq, Eq)]
pub enum LockError {
    /// Another aesim command holds it: the user's doing (exit 2).
    InUse(String),
    /// It cannot be created or opened: the results cannot be written (exit 1).
    Unwritable(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::InUse(message) | LockError::Unwritable(message) => f.write_str(message),
        }
    }
}

/// Takes the lock of `dir` (created if needed), or says why it cannot: another aesim
/// command holds it, or the folder cannot be created or opened.
pub fn lock_folder(dir: &Path, mode: LockMode) -> Result<FolderLock, LockError> {
    let created = !dir.exists();
    let unwritable = |what: &str, e: std::io::Error| {
        LockError::Unwritable(format!("cannot write results: cannot {what} {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| unwritable("create", e))?;
    let handle = std::fs::File::open(dir).map_err(|e| unwritable("open", e))?;
    let lock = FolderLock {
        dir: dir.to_path_buf(),
        _handle: handle,
        created,
    };
    if !try_lock(&lock._handle, mode) {
        let other = match mode {
            LockMode::Exclusive => "another aesim command (a run, sweep or comparison)",
            LockMode::Shared => "another aesim run or comparison",
        };
        return Err(LockError::InUse(format!(
            "{} is in use: {other} is writing its results there right now\n  \
             = hint: wait for it to finish, or choose another --out",
            dir.display()
        )));
    }
    Ok(lock)
}

/// Tries the lock without waiting (std's `File::try_lock`: `flock(2)` on Unix,
/// `LockFileEx` on Windows).
fn try_lock(file: &std::fs::File, mode: LockMode) -> bool {
    match mode {
        LockMode::Exclusive => file.try_lock().is_ok(),
        LockMode::Shared => file.try_lock_shared().is_ok(),
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        if self.created {
            // Fails (harmlessly) unless the folder is still empty.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_exclusive_lock_is_refused_and_shared_locks_coexist() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let first = lock_folder(&dir, LockMode::Exclusive).unwrap();
        let refused = lock_folder(&dir, LockMode::Exclusive).unwrap_err();
        assert!(
            matches!(&refused, LockError::InUse(m) if m.contains("is in use")),
            "{refused}"
        );
        assert!(lock_folder(&dir, LockMode::Shared).is_err());
        drop(first);
        // The folder it created was empty: removed with the lock.
        assert!(!dir.exists());
        let a = lock_folder(&dir, LockMode::Shared).unwrap();
        let b = lock_folder(&dir, LockMode::Shared).unwrap();
        assert!(lock_folder(&dir, LockMode::Exclusive).is_err());
        std::fs::write(dir.join("kept"), "x").unwrap();
        drop((a, b));
        assert!(dir.join("kept").is_file());
    }
}
