//! `aesim sweep status`: which runs of a sweep are done, missing or corrupt in a set of
//! result folders, grouped by shard, and the commands that rerun exactly what is
//! missing and then merge. `aesim merge` uses the same account to name what it lacks.
//!
//! A folder does not record which shard wrote it (shards may share one folder), so the
//! shard of a folder is read off the runs it holds: shard `k` of `N` holds only runs whose
//! plan index is `k - 1` modulo `N`. `N` is given (`--shards`), or taken as the number of
//! folders when each folder's runs fit one distinct shard. This module only reads files.

use super::files::{self, RUNS_DIR};
use super::{Plan, PlannedRun, SweepError};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// At most this many runs are listed by number per shard and state; the rest are counted.
const LISTED_RUNS_MAX: usize = 8;

/// Where one run of the plan stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    /// A valid result is in folder `folder` (an index into [`Status::folders`]).
    Done { folder: usize },
    /// A file of that name is in folder `folder` but is not a complete result of the run
    /// (cut short, or another run's rows): it will be run again.
    Corrupt { folder: usize },
    /// No folder has a file for the run.
    Missing,
}

/// The state of every run of a sweep over some result folders.
#[derive(Debug)]
pub struct Status {
    pub plan: Plan,
    pub folders: Vec<PathBuf>,
    /// Whether each folder exists (a shard that never started may have none).
    pub folder_exists: Vec<bool>,
    /// Shard count; `None` when the folders do not fit shards of one count.
    pub shards: Option<usize>,
    /// The 1-based shard held by each folder, when known.
    pub folder_shard: Vec<Option<usize>>,
    /// One state per run, in plan order.
    pub runs: Vec<RunState>,
    /// Files in `runs/` that belong to no run of this plan.
    pub foreign_files: usize,
}

impl Status {
    /// Reads the folders. `shards` fixes the shard count; without it the count is the
    /// number of folders if their runs fit one shard each, else one shard (one folder) or
    /// unknown.
    pub fn read(folders: &[PathBuf], shards: Option<usize>) -> Result<Status, SweepError> {
        if shards == Some(0) {
            return Err(SweepError::Input("--shards must be at least 1".into()));
        }
        let folder_exists: Vec<bool> = folders.iter().map(|d| d.is_dir()).collect();
        let existing: Vec<PathBuf> = folders
            .iter()
            .zip(&folder_exists)
            .filter(|(_, e)| **e)
            .map(|(d, _)| d.clone())
            .collect();
        if existing.is_empty() {
            return Err(SweepError::Input(format!(
                "none of the folders exists: {}",
                folders
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let plan = files::plan_of_partials(&existing)?;
        if let Some(n) = shards
            && n > plan.runs.len()
        {
            return Err(SweepError::Input(format!(
                "--shards {n}: the sweep has only {} runs, so it cannot have been run in {n} shards",
                plan.runs.len()
            )));
        }
        let runs: Vec<RunState> = plan
            .runs
            .iter()
            .map(|run| {
                let present = |i: usize| folder_exists[i] && files::run_path(&folders[i], run).is_file();
                if let Some(folder) =
                    (0..folders.len()).find(|&i| present(i) && files::read_run(&folders[i], run).is_some())
                {
                    RunState::Done { folder }
                } else if let Some(folder) = (0..folders.len()).find(|&i| present(i)) {
                    RunState::Corrupt { folder }
                } else {
                    RunState::Missing
                }
            })
            .collect();
        let foreign_files = count_foreign(&plan, folders, &folder_exists);
        let (shards, folder_shard) = assign_shards(&runs, folders.len(), shards);
        Ok(Status {
            plan,
            folders: folders.to_vec(),
            folder_exists,
            shards,
            folder_shard,
            runs,
            foreign_files,
        })
    }

    pub fn done(&self) -> usize {
        self.runs.iter().filter(|s| matches!(s, RunState::Done { .. })).count()
    }

    pub fn is_complete(&self) -> bool {
        self.done() == self.runs.len()
    }

    /// One line per shard (or per folder when shards are unknown): runs done, and the
    /// missing and corrupt ones by number.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match self.shards {
            Some(count) => {
                for index in 1..=count {
                    let runs: Vec<&PlannedRun> =
                        self.plan.runs.iter().filter(|r| r.index % count == index - 1).collect();
                    let folder = self.folder_shard.iter().position(|s| *s == Some(index));
                    let place = match folder {
                        Some(f) if self.folder_exists[f] => self.folders[f].display().to_string(),
                        Some(f) => format!("{}: no such folder", self.folders[f].display()),
                        None => self.holders(&runs).unwrap_or_else(|| "no folder".into()),
                    };
                    lines.push(format!("shard {index}/{count} ({place}): {}", self.describe(&runs)));
                }
            }
            None => {
                let all: Vec<&PlannedRun> = self.plan.runs.iter().collect();
                lines.push(format!(
                    "the folders' runs do not fit one shard each (pass --shards N): {}",
                    self.describe(&all)
                ));
            }
        }
        lines
    }

    /// `runs in A, B`: the folders holding some of `runs` finished, when a shard has no
    /// folder of its own (a folder holding several shards' runs).
    fn holders(&self, runs: &[&PlannedRun]) -> Option<String> {
        let mut holders: Vec<usize> = runs
            .iter()
            .filter_map(|r| match self.runs[r.index] {
                RunState::Done { folder } => Some(folder),
                _ => None,
            })
            .collect();
        holders.sort_unstable();
        holders.dedup();
        (!holders.is_empty()).then(|| {
            let names: Vec<String> = holders.iter().map(|f| self.folders[*f].display().to_string()).collect();
            format!("runs in {}", names.join(", "))
        })
    }

    fn describe(&self, runs: &[&PlannedRun]) -> String {
        let done = runs
            .iter()
            .filter(|r| matches!(self.runs[r.index], RunState::Done { .. }))
            .count();
        let mut text = format!("{done} of {} runs done", runs.len());
        let missing: Vec<&PlannedRun> = runs
            .iter()
            .copied()
            .filter(|r| self.runs[r.index] == RunState::Missing)
            .collect();
        let corrupt: Vec<&PlannedRun> = runs
            .iter()
            .copied()
            .filter(|r| matches!(self.runs[r.index], RunState::Corrupt { .. }))
            .collect();
        if !missing.is_empty() {
            let _ = write!(text, "; missing: {}", list_runs(&missing));
        }
        if !corrupt.is_empty() {
            let names: Vec<String> = corrupt
                .iter()
                .take(LISTED_RUNS_MAX)
                .map(|r| {
                    let RunState::Corrupt { folder } = self.runs[r.index] else {
                        unreachable!("filtered on Corrupt")
                    };
                    format!(
                        "run {} ({})",
                        r.index,
                        files::run_path(&self.folders[folder], r).display()
                    )
                })
                .collect();
            let more = corrupt.len().saturating_sub(LISTED_RUNS_MAX);
            let _ = write!(
                text,
                "; corrupt (cut short or not this run's rows): {}{}",
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        text
    }

    /// The whole report: totals, one line per shard, and the commands that finish the
    /// sweep (none when it is complete). `merged` is where the merge command writes.
    pub fn report(&self, merged: &Path) -> String {
        let plan = &self.plan;
        let missing = self.runs.iter().filter(|s| **s == RunState::Missing).count();
        let corrupt = self.runs.len() - self.done() - missing;
        let mut text = format!(
            "sweep {}: {} points x {} replications = {} runs; {} done, {missing} missing, {corrupt} corrupt\n",
            plan.document.base.name,
            plan.sweep.points(),
            plan.sweep.replications,
            plan.runs.len(),
            self.done(),
        );
        for line in self.lines() {
            let _ = writeln!(text, "  {line}");
        }
        let absent = self.absent_folders();
        if !absent.is_empty() {
            let _ = writeln!(
                text,
                "  (no such folder: {}; only folders that exist, or that a command below creates, are merged)",
                absent.join(", ")
            );
        }
        if self.foreign_files > 0 {
            let _ = writeln!(
                text,
                "  ({} files in runs/ belong to no run of this sweep; they are ignored)",
                self.foreign_files
            );
        }
        match self.commands(merged) {
            Some(commands) if self.is_complete() => {
                let _ = writeln!(text, "complete; to write the aggregates:");
                for c in commands {
                    let _ = writeln!(text, "  {c}");
                }
            }
            Some(commands) => {
                let _ = writeln!(text, "to run exactly what is missing, then merge:");
                for c in commands {
                    let _ = writeln!(text, "  {c}");
                }
            }
            None => {
                let _ = writeln!(
                    text,
                    "pass --shards N (the shard count the sweep was run with) to get the commands that finish it"
                );
            }
        }
        text
    }

    /// The commands that run every missing or corrupt run once, each into the folder of
    /// its shard, and then merge all folders into `merged`; `None` when the shards are
    /// unknown. One folder is simply resumed in place.
    pub fn commands(&self, merged: &Path) -> Option<Vec<String>> {
        let first = self.folder_exists.iter().position(|e| *e).expect("one folder exists");
        let scenario = self.folders[first].join(files::SCENARIO_FILE);
        let mut base = vec![
            "aesim".to_string(),
            "run".into(),
            quote(&scenario.display().to_string()),
        ];
        for o in self.plan.set() {
            base.push("--set".into());
            base.push(quote(&o.to_set_text()));
        }
        if self.folders.len() == 1 {
            // Resuming in place runs what is missing or corrupt and writes the aggregates
            // (all a complete folder of sharded runs lacks).
            return Some(vec![join(&base, &["--out", &quote_path(&self.folders[0])])]);
        }
        let count = self.shards?;
        let mut commands = Vec::new();
        // The merge names only folders that exist or that a command above creates.
        let mut created: Vec<PathBuf> = Vec::new();
        for index in 1..=count {
            let incomplete = self
                .plan
                .runs
                .iter()
                .any(|r| r.index % count == index - 1 && !matches!(self.runs[r.index], RunState::Done { .. }));
            if incomplete {
                let folder = match self.folder_shard.iter().position(|s| *s == Some(index)) {
                    Some(f) => self.folders[f].clone(),
                    None => self.new_folder(index),
                };
                let shard = format!("{index}/{count}");
                commands.push(join(&base, &["--shard", &shard, "--out", &quote_path(&folder)]));
                created.push(folder);
            }
        }
        commands.push(self.merge_command(&created, merged));
        Some(commands)
    }

    /// `aesim merge` of every existing folder that holds a finished run of the plan (a
    /// shard's, or a copy holding several shards' runs) and of the folders the commands
    /// before it create, each once, in shard order.
    fn merge_command(&self, created: &[PathBuf], merged: &Path) -> String {
        let holds_runs = |f: usize| self.runs.contains(&RunState::Done { folder: f });
        let mut order: Vec<usize> = (0..self.folders.len()).collect();
        order.sort_by_key(|f| self.folder_shard[*f].unwrap_or(usize::MAX));
        let mut folders: Vec<PathBuf> = Vec::new();
        for folder in order
            .into_iter()
            .filter(|f| self.folder_exists[*f] && holds_runs(*f))
            .map(|f| self.folders[f].clone())
            .chain(created.iter().cloned())
        {
            if !folders.contains(&folder) {
                folders.push(folder);
            }
        }
        let mut merge = vec!["aesim".to_string(), "merge".into()];
        merge.extend(folders.iter().map(|f| quote_path(f)));
        merge.push("--out".into());
        merge.push(quote_path(merged));
        merge.join(" ")
    }

    /// The folders named on the command line that do not exist, for the report.
    fn absent_folders(&self) -> Vec<String> {
        self.folders
            .iter()
            .zip(&self.folder_exists)
            .filter(|(_, exists)| !**exists)
            .map(|(f, _)| f.display().to_string())
            .collect()
    }

    /// A folder name for shard `index`, which has none: a sibling folder's name with its
    /// shard number replaced (`part1` -> `part4`, `shard-2-of-4` -> `shard-4-of-4`),
    /// else `shard-<index>` beside the first folder.
    fn new_folder(&self, index: usize) -> PathBuf {
        for (f, shard) in self.folder_shard.iter().enumerate() {
            let Some(shard) = shard else { continue };
            let path = &self.folders[f];
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(renamed) = replace_number(name, *shard, index) {
                return path.with_file_name(renamed);
            }
        }
        let parent = self.folders[0].parent().unwrap_or(Path::new(""));
        parent.join(format!("shard-{index}"))
    }
}

/// `name` with its one decimal number equal to `from` replaced by `to`, if it has exactly
/// one such number.
fn replace_number(name: &str, from: usize, to: usize) -> Option<String> {
    let mut spans = Vec::new();
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if name[start..i].parse::<usize>().ok() == Some(from) {
                spans.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    match spans.as_slice() {
        [(start, end)] => Some(format!("{}{to}{}", &name[..*start], &name[*end..])),
        _ => None,
    }
}

/// The shard count and each folder's shard. A count given is kept; otherwise it is the
/// smallest count from the number of folders up that fits: each folder's runs in one
/// shard, no shard in two folders. A folder holding runs of exactly one shard gets it;
/// folders with no runs get the shards left over, if exactly as many are.
fn assign_shards(runs: &[RunState], folders: usize, given: Option<usize>) -> (Option<usize>, Vec<Option<usize>>) {
    if let Some(count) = given {
        return (Some(count), assign(runs, folders, count).1);
    }
    if folders == 1 {
        return (Some(1), vec![Some(1)]);
    }
    let most = runs.len().min(folders.saturating_mul(4).saturating_add(4));
    (folders..=most)
        .find_map(|count| match assign(runs, folders, count) {
            (true, assigned) => Some((Some(count), assigned)),
            (false, _) => None,
        })
        .unwrap_or((None, vec![None; folders]))
}

/// Each folder's shard for `count` shards, and whether the folders fit that count.
fn assign(runs: &[RunState], folders: usize, count: usize) -> (bool, Vec<Option<usize>>) {
    let mut residues: Vec<Vec<usize>> = vec![Vec::new(); folders];
    for (index, state) in runs.iter().enumerate() {
        if let RunState::Done { folder } | RunState::Corrupt { folder } = state {
            let shard = index % count + 1;
            if !residues[*folder].contains(&shard) {
                residues[*folder].push(shard);
            }
        }
    }
    let mut assigned: Vec<Option<usize>> = residues
        .iter()
        .map(|r| if r.len() == 1 { Some(r[0]) } else { None })
        .collect();
    let mut fits = residues.iter().all(|r| r.len() <= 1);
    let mut seen = vec![false; count + 1];
    for shard in assigned.iter().flatten() {
        // Two folders holding the same shard: a copy, or a wrong count.
        fits &= !std::mem::replace(&mut seen[*shard], true);
    }
    let empty: Vec<usize> = (0..folders).filter(|f| residues[*f].is_empty()).collect();
    let free: Vec<usize> = (1..=count).filter(|s| !seen[*s]).collect();
    if empty.len() == free.len() {
        // Folders without runs take the shards without folders, in order.
        for (f, s) in empty.into_iter().zip(free) {
            assigned[f] = Some(s);
        }
    }
    (fits, assigned)
}

fn count_foreign(plan: &Plan, folders: &[PathBuf], exists: &[bool]) -> usize {
    let known: std::collections::BTreeSet<String> = plan.runs.iter().map(|r| format!("{}.csv", r.hash)).collect();
    folders
        .iter()
        .zip(exists)
        .filter(|(_, e)| **e)
        .filter_map(|(d, _)| std::fs::read_dir(d.join(RUNS_DIR)).ok())
        .flat_map(|entries| entries.filter_map(Result::ok))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && !known.contains(&name)
        })
        .count()
}

fn list_runs(runs: &[&PlannedRun]) -> String {
    let mut names: Vec<String> = runs
        .iter()
        .take(LISTED_RUNS_MAX)
        .map(|r| format!("run {} (point {}, replication {})", r.index, r.point, r.replication))
        .collect();
    if runs.len() > LISTED_RUNS_MAX {
        names.push(format!("and {} more", runs.len() - LISTED_RUNS_MAX));
    }
    names.join(", ")
}

fn join(base: &[String], more: &[&str]) -> String {
    base.iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_path(path: &Path) -> String {
    quote(&path.display().to_string())
}

/// `text` as one POSIX shell word: unchanged when it holds only safe characters, else in
/// single quotes.
pub fn quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_folder_names_are_replaced_once() {
        assert_eq!(replace_number("part1", 1, 4).as_deref(), Some("part4"));
        assert_eq!(replace_number("shard-2-of-4", 2, 3).as_deref(), Some("shard-3-of-4"));
        assert_eq!(replace_number("s2-2", 2, 3), None);
        assert_eq!(replace_number("results", 1, 2), None);
    }

    #[test]
    fn shards_are_read_off_the_runs_a_folder_holds() {
        let done = |folder| RunState::Done { folder };
        // 8 runs in 4 shards; folder 0 holds shard 2, folder 1 shard 1, folder 2 nothing.
        let runs = vec![
            done(1),
            done(0),
            RunState::Missing,
            RunState::Missing,
            done(1),
            RunState::Corrupt { folder: 0 },
            RunState::Missing,
            RunState::Missing,
        ];
        assert_eq!(
            assign_shards(&runs, 3, Some(4)),
            (Some(4), vec![Some(2), Some(1), None])
        );
        // Three folders are not three shards of these runs, but fit four.
        assert_eq!(assign_shards(&runs, 3, None), (Some(4), vec![Some(2), Some(1), None]));
        let runs = [done(0), done(1), RunState::Missing];
        assert_eq!(
            assign_shards(&runs, 3, None),
            (Some(3), vec![Some(1), Some(2), Some(3)])
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(quote("results/sweep-1"), "results/sweep-1");
        assert_eq!(quote("network.loss=0.1"), "network.loss=0.1");
        assert_eq!(quote("it's here"), r"'it'\''s here'");
        assert_eq!(quote(""), "''");
    }
}
