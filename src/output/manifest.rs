//! The manifest of a results folder: which one thing (a run, a sweep, a comparison) the
//! folder holds, and every file aesim writes or may write there for it. A rerun, and
//! `--force` over another thing's folder, replace and remove only the files a manifest
//! names (and a sweep's run files, named by their hash): a file aesim did not write is
//! never touched, whatever its name.
//!
//! The manifest is a small TOML file, written with the outputs it lists (the same
//! unit: all or nothing) and deterministic (the names are sorted), so committed results
//! carry it byte for byte.

use std::io;
use std::path::Path;

/// The manifest's name in every results folder aesim writes.
pub const MANIFEST_FILE: &str = "aesim-manifest.toml";

/// What a results folder holds: exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    Run,
    Sweep,
    Comparison,
}

impl FolderKind {
    pub fn name(self) -> &'static str {
        match self {
            FolderKind::Run => "run",
            FolderKind::Sweep => "sweep",
            FolderKind::Comparison => "comparison",
        }
    }

    /// The kind a folder without a manifest holds, by its record file (results written
    /// before manifests existed), if any.
    fn of_legacy_folder(dir: &Path) -> Option<FolderKind> {
        if dir.join("run.toml").is_file() {
            Some(FolderKind::Run)
        } else if dir.join(crate::sweep::SWEEP_FILE).is_file() {
            Some(FolderKind::Sweep)
        } else {
            None
        }
    }
}

/// The files of one thing in one folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub kind: FolderKind,
    /// Paths relative to the folder, `/`-separated, sorted, the manifest itself excluded.
    pub files: Vec<String>,
}

/// Files every results folder written before manifests existed may hold: what a run, a
/// sweep's aggregation or a comparison wrote at the top of the folder.
const LEGACY_FILES: &[&str] = &[
    "summary.csv",
    "timeseries.csv",
    "latency.csv",
    "staleness.csv",
    "faults.csv",
    "nodes.csv",
    "ranges.csv",
    "resurrections.csv",
    "scenario.toml",
    "run.toml",
    "report.md",
    "report.html",
    "raw.csv",
    "sweep.toml",
];

impl Manifest {
    /// A manifest of `files` (any order; duplicates and the manifest itself dropped), with
    /// the PNG each chart may get from `aesim report --png`.
    pub fn new<'a>(kind: FolderKind, files: impl IntoIterator<Item = &'a str>) -> Manifest {
        let mut names: Vec<String> = Vec::new();
        for name in files {
            if name == MANIFEST_FILE {
                continue;
            }
            names.push(name.to_string());
            if let Some(stem) = name.strip_suffix(".svg") {
                names.push(format!("{stem}.png"));
            }
        }
        names.sort();
        names.dedup();
        Manifest { kind, files: names }
    }

    /// The manifest's text.
    pub fn bytes(&self) -> Vec<u8> {
        let mut text = format!(
            "# Written by aesim: this folder holds one {}, and these are the files aesim writes\n\
             # here for it. A rerun or --force replaces or removes these files and no other.\n\
             kind = \"{}\"\nfiles = [\n",
            self.kind.name(),
            self.kind.name()
        );
        for name in &self.files {
            text.push_str(&format!("  \"{name}\",\n"));
        }
        text.push_str("]\n");
        text.into_bytes()
    }

    /// The manifest of `dir`: read from its file, or for results written before
    /// manifests existed, the files of their kind that aesim wrote at the folder's top
    /// (their charts are left alone). `None` for a folder of no aesim results.
    pub fn of_folder(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            // No folder there yet (or a file in its way, which writing reports): no results.
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                return Ok(FolderKind::of_legacy_folder(dir).map(|kind| legacy_manifest(dir, kind)));
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let bad = |why: &str| format!("{} is not an aesim manifest: {why}", path.display());
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| bad(e.message()))?;
        let kind = match table.get("kind").and_then(toml::Value::as_str) {
            Some("run") => FolderKind::Run,
            Some("sweep") => FolderKind::Sweep,
            Some("comparison") => FolderKind::Comparison,
            _ => return Err(bad("`kind` must be \"run\", \"sweep\" or \"comparison\"")),
        };
        let files = table
            .get("files")
            .and_then(toml::Value::as_array)
            .ok_or_else(|| bad("no `files` list"))?
            .iter()
            .map(|v| v.as_str().filter(|name| is_inside(name)).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`files` must list relative paths inside the folder"))?;
        Ok(Some(Manifest { kind, files }))
    }

    /// Removes from `dir` every file this manifest names that `keep` does not, and for a
    /// sweep its run files; folders left empty by that go too. Files it does not name
    /// are never touched.
    pub fn remove_except(&self, dir: &Path, keep: &[&str]) -> io::Result<()> {
        for name in self.files.iter().filter(|n| !keep.contains(&n.as_str())) {
            remove_if_present(&dir.join(name))?;
        }
        if self.kind == FolderKind::Sweep {
            let runs = dir.join(crate::sweep::RUNS_DIR);
            if let Ok(entries) = std::fs::read_dir(&runs) {
                for entry in entries.filter_map(Result::ok) {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if crate::sweep::is_run_file_name(&name) {
                        remove_if_present(&entry.path())?;
                    }
                }
            }
        }
        for folder in [crate::report::CHARTS_DIR, crate::sweep::RUNS_DIR] {
            // Only an empty folder is removed (`remove_dir` refuses any other).
            let _ = std::fs::remove_dir(dir.join(folder));
        }
        Ok(())
    }
}

/// The files aesim wrote in a folder of results written before manifests existed: the
/// names of [`LEGACY_FILES`], and every SVG and PNG in its `charts/` (what `--force`
/// cleared there before).
fn legacy_manifest(dir: &Path, kind: FolderKind) -> Manifest {
    let charts_dir = dir.join(crate::report::CHARTS_DIR);
    let charts: Vec<String> = std::fs::read_dir(charts_dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".svg") || name.ends_with(".png"))
        .map(|name| format!("{}/{name}", crate::report::CHARTS_DIR))
        .collect();
    Manifest::new(
        kind,
        LEGACY_FILES.iter().copied().chain(charts.iter().map(String::as_str)),
    )
}

/// Whether `name` is a relative path that stays inside its folder.
fn is_inside(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty() && path.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_and_refuses_paths_outside_its_folder() {
        let dir = std::env::temp_dir().join(format!("aesim-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = Manifest::new(FolderKind::Run, ["run.toml", "charts/a.svg", "run.toml"]);
        assert_eq!(manifest.files, ["charts/a.png", "charts/a.svg", "run.toml"]);
        std::fs::write(dir.join(MANIFEST_FILE), manifest.bytes()).unwrap();
        assert_eq!(Manifest::of_folder(&dir), Ok(Some(manifest)));
        std::fs::write(dir.join(MANIFEST_FILE), "kind = \"run\"\nfiles = [\"../x\"]\n").unwrap();
        assert!(Manifest::of_folder(&dir).unwrap_err().contains("inside the folder"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
