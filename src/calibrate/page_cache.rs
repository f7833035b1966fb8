//! Dropping a store's files from the operating system's page cache, for cold scans.
//!
//! On Linux `posix_fadvise(POSIX_FADV_DONTNEED)` on each file (after syncing it) evicts
//! its clean pages without root and without touching other processes' data; whether it
//! worked is checked with `mincore` on a mapping of each file. Elsewhere, or when
//! pages stay resident, [`drop_folder`] says so and the cold figure is reported as an
//! approximation (a reopened engine, so at least its own caches are empty).

use std::path::Path;

/// What dropping the cache achieved: resident bytes of the store's files before and
/// after (None where residency cannot be read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub files: u64,
    pub bytes: u64,
    pub resident_after: Option<u64>,
}

impl Dropped {
    /// Whether the store's files left the page cache (at most 1% still resident).
    pub fn evicted(&self) -> bool {
        self.resident_after.is_some_and(|r| r.saturating_mul(100) <= self.bytes)
    }
}

/// Syncs every file under `folder` and asks the kernel to drop its cached pages.
pub fn drop_folder(folder: &Path) -> std::io::Result<Dropped> {
    let mut dropped = Dropped {
        files: 0,
        bytes: 0,
        resident_after: Some(0),
    };
    for path in files_under(folder)? {
        let file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        file.sync_all().ok();
        advise_dontneed(&file);
        dropped.files += 1;
        dropped.bytes += len;
        dropped.resident_after = match (dropped.resident_after, resident_bytes(&file, len)) {
            (Some(total), Some(resident)) => Some(total + resident),
            _ => None,
        };
    }
    Ok(dropped)
}

fn files_under(folder: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(target_os = "linux")]
fn advise_dontneed(file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; the advice only affects cached pages.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_dontneed(_file: &std::fs::File) {}

/// Bytes of `file` (of length `len`) in the page cache, read with `mincore`.
#[cfg(target_os = "linux")]
fn resident_bytes(file: &std::fs::File, len: u64) -> Option<u64> {
    use std::os::fd::AsRawFd;
    if len == 0 {
        return Some(0);
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    let pages = len.div_ceil(page) as usize;
    // SAFETY: a read-only shared mapping of an open file, unmapped below; mincore
    // writes one byte per page into a vector of exactly that many bytes.
    unsafe {
        let map = libc::mmap(
            std::ptr::null_mut(),
            len as usize,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        );
        if map == libc::MAP_FAILED {
            return None;
        }
        let mut vec = vec![0u8; pages];
        let ok = libc::mincore(map, len as usize, vec.as_mut_ptr()) == 0;
        libc::munmap(map, len as usize);
        ok.then(|| vec.iter().filter(|&&b| b & 1 == 1).count() as u64 * page)
    }
}

#[cfg(not(target_os = "linux"))]
fn resident_bytes(_file: &std::fs::File, _len: u64) -> Option<u64> {
    None
}
