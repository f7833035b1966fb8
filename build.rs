//! Build script: records the git commit aesim is built from, for `aesim --version`.
//!
//! Built outside a git checkout (a source tarball, a crates.io package) or without git
//! installed, the version is the package version alone: the build never fails for want
//! of git.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let suffix = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => format!(" (commit {commit})"),
        None => String::new(),
    };
    println!("cargo:rustc-env=AESIM_GIT_SUFFIX={suffix}");
    // Rebuild when HEAD moves (a commit, a checkout), where git can say where that is.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
