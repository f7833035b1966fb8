//! Every relative link of the documentation leads somewhere: the file (or folder) it
//! names exists, and a `#fragment` into a markdown file names one of its headings.
//!
//! Covers README.md, ARCHITECTURE.md and every markdown file under docs/ and
//! scenarios/. Links inside code blocks and to other sites are not checked.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The markdown files whose links are checked, relative to the crate root.
fn documentation_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    for folder in ["docs", "scenarios"] {
        collect_markdown(&root.join(folder), &mut files);
    }
    files.sort();
    files
}

fn collect_markdown(folder: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_markdown(&path, files);
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
}

/// The lines of a markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut in_fence = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            return false;
        }
        !in_fence
    })
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes.
fn heading_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors_of(text: &str) -> BTreeSet<String> {
    prose_lines(text)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|rest| heading_anchor(rest.trim_start_matches('#')))
        .collect()
}

/// The targets of `[label](target)` links on a line.
fn link_targets(line: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        targets.push(&after[..end]);
        rest = &after[end..];
    }
    targets
}

fn broken_links_of(file: &Path) -> Vec<String> {
    let text = fs::read_to_string(file).unwrap();
    let folder = file.parent().unwrap();
    let mut broken = Vec::new();
    for line in prose_lines(&text) {
        for target in link_targets(line) {
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked = if path.is_empty() {
                file.to_path_buf()
            } else {
                folder.join(path)
            };
            if !linked.exists() {
                broken.push(format!("{}: {target}: no such file", file.display()));
                continue;
            }
            let is_markdown = linked.extension().is_some_and(|e| e == "md");
            if !fragment.is_empty() && is_markdown {
                let anchors = anchors_of(&fs::read_to_string(&linked).unwrap());
                if !anchors.contains(fragment) {
                    broken.push(format!("{}: {target}: no such heading", file.display()));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_of_the_documentation_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = documentation_files(root);
    assert!(files.len() > 10, "found only {} markdown files", files.len());
    let broken: Vec<String> = files.iter().flat_map(|f| broken_links_of(f)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_stays_a_front_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; move reference material into docs/"
    );
    assert!(
        readme.contains("cargo test"),
        "the README names the test command .ci/run runs"
    );
    assert!(readme.contains("docs/guide/README.md"), "the README links the guide");
}

#[test]
fn heading_anchors_follow_github() {
    assert_eq!(
        heading_anchor("Repair paths: hints, reads, deletes"),
        "repair-paths-hints-reads-deletes"
    );
    assert_eq!(
        heading_anchor("The lesson's case, measured"),
        "the-lessons-case-measured"
    );
    assert_eq!(link_targets("see [a](x.md#b) and [c](d)"), vec!["x.md#b", "d"]);
}
