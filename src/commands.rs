//! The subcommands that only read or print: `compare`, `completions` and `man`, and the
//! JSON form of a run's summary. Kept out of `cli.rs`, which holds the argument types
//! and dispatch.

use std::path::{Path, PathBuf};

/// Exit codes, as in `cli.rs`.
const EXIT_OK: u8 = 0;
const EXIT_RUN_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
/// `aesim compare --fail-if`: a regression gate tripped.
const EXIT_GATE_TRIPPED: u8 = 3;

/// How a command prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON for programs.
    Json,
}

/// `aesim compare`: prints the table (or JSON); with `out`, also writes a report there.
pub fn compare(
    dirs: &[PathBuf],
    force: bool,
    format: Format,
    out: Option<&Path>,
    png: bool,
    quiet: bool,
    fail_if: &[String],
) -> u8 {
    let gates: Vec<aesim::compare::gate::Gate> =
        match fail_if.iter().map(|g| aesim::compare::gate::Gate::parse(g)).collect() {
            Ok(gates) => gates,
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_BAD_INPUT;
            }
        };
    let comparison = match aesim::compare::compare(dirs, force) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot compare: {e}");
            return if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED };
        }
    };
    match format {
        Format::Table => print!("{}", comparison.markdown()),
        Format::Json => print!("{}", comparison.json()),
    }
    if let Some(out) = out {
        let _lock = match lock_out(out, aesim::output::LockMode::Exclusive, "cannot write the comparison: ") {
            Ok(lock) => lock,
            Err(code) => return code,
        };
        match comparison.write(out, png) {
            Ok(files) => {
                if format == Format::Table && !quiet {
                    eprintln!("wrote {} files to {}", files.len(), out.display());
                }
            }
            Err(e) => {
                eprintln!("error: cannot write the comparison: {e}");
                // A refused folder is bad input (exit 2), like a run's; a failed write is 1.
                return if e.bad_input { EXIT_BAD_INPUT } else { EXIT_RUN_FAILED };
            }
        }
    }
    let tripped: Vec<String> = gates.iter().flat_map(|g| g.tripped(&comparison)).collect();
    for line in &tripped {
        eprintln!("{line}");
    }
    if tripped.is_empty() { EXIT_OK } else { EXIT_GATE_TRIPPED }
}

/// Prints a results folder's summary as JSON.
pub fn print_summary_json(dir: &Path) -> u8 {
    match aesim::report::summary_json(dir) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot read the summary: {e}");
            EXIT_RUN_FAILED
        }
    }
}

/// `aesim completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell, mut command: clap::Command) -> u8 {
    clap_complete::generate(shell, &mut command, "aesim", &mut std::io::stdout());
    EXIT_OK
}

/// `aesim man`: the man page (roff) on standard output.
pub fn man(command: clap::Command) -> u8 {
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(command).render(&mut out) {
        eprintln!("error: cannot render the man page: {e}");
        return EXIT_RUN_FAILED;
    }
    use std::io::Write as _;
    match std::io::stdout().write_all(&out) {
        Ok(()) => EXIT_OK,
        Err(_) => EXIT_RUN_FAILED,
    }
}

/// The `schema_version` of aesim's JSON documents.
const SCHEMA_VERSION: u32 = aesim::JSON_SCHEMA_VERSION;

/// `aesim presets list`: every preset's name and the first sentence of its file.
pub fn presets_list(format: Format) -> u8 {
    use aesim::scenario::presets::{PRESETS, preset_about};
    let rows: Vec<(&str, String)> = PRESETS
        .iter()
        .map(|(name, _)| {
            let about = preset_about(name).unwrap_or_default();
            let first = about.first().map(|p| first_sentence(p)).unwrap_or_default();
            (*name, first)
        })
        .collect();
    match format {
        Format::Table => {
            let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, summary) in &rows {
                println!("{name:width$}  {summary}");
            }
        }
        Format::Json => {
            let presets: Vec<_> = rows
                .iter()
                .map(|(name, summary)| serde_json::json!({ "name": name, "summary": summary }))
                .collect();
            let doc = serde_json::json!({ "schema_version": SCHEMA_VERSION, "presets": presets });
            println!("{}", serde_json::to_string_pretty(&doc).expect("JSON of strings"));
        }
    }
    EXIT_OK
}

/// The first sentence of a paragraph (up to the first ". ").
fn first_sentence(paragraph: &str) -> String {
    match paragraph.find(". ") {
        Some(end) => paragraph[..=end].to_string(),
        None => paragraph.to_string(),
    }
}

/// `aesim presets show NAME`: the preset's account of itself, then every knob with its
/// value and source.
pub fn presets_show(name: &str, format: Format) -> u8 {
    use aesim::scenario::presets::{PRESETS, preset_about, preset_knobs};
    let (Some(about), Some(knobs)) = (preset_about(name), preset_knobs(name)) else {
        let known: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        let hint = match aesim::scenario::did_you_mean(name, known.iter().copied()) {
            Some(best) => format!("did you mean \"{best}\"? "),
            None => String::new(),
        };
        eprintln!(
            "error: unknown preset \"{name}\"\n  = hint: {hint}known presets: {}",
            known.join(", ")
        );
        return EXIT_BAD_INPUT;
    };
    match format {
        Format::Table => print!("{}", preset_text(name, &about, &knobs)),
        Format::Json => {
            let knobs: Vec<_> = knobs
                .iter()
                .map(|k| serde_json::json!({ "key": k.key, "value": k.value, "set": k.set, "source": k.source }))
                .collect();
            let doc = serde_json::json!({
                "schema_version": SCHEMA_VERSION,
                "name": name,
                "file": format!("scenarios/presets/{name}.toml"),
                "about": about,
                "knobs": knobs,
            });
            println!("{}", serde_json::to_string_pretty(&doc).expect("JSON of strings"));
        }
    }
    EXIT_OK
}

fn preset_text(name: &str, about: &[String], knobs: &[aesim::scenario::presets::PresetKnob]) -> String {
    use std::fmt::Write as _;
    let mut text = format!("preset {name} (scenarios/presets/{name}.toml)\n\n");
    for paragraph in about {
        let _ = writeln!(text, "{}\n", wrap(paragraph, 88, ""));
    }
    let width = knobs.iter().map(|k| k.key.len()).max().unwrap_or(0);
    text.push_str("knobs (a key written in the [[strategy]] table that names the preset wins):\n");
    for k in knobs {
        let value = if k.set {
            k.value.clone()
        } else {
            format!("(not set; e.g. {})", k.value)
        };
        let _ = writeln!(text, "  {:width$} = {value}", k.key);
        if !k.source.is_empty() {
            let _ = writeln!(text, "{}", wrap(&k.source, 88, &" ".repeat(width + 5)));
        }
    }
    text
}

/// `text` wrapped at `columns`, every line starting with `indent`.
fn wrap(text: &str, columns: usize, indent: &str) -> String {
    let mut lines = vec![indent.to_string()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if line.len() > indent.len() && line.len() + 1 + word.len() > columns {
            lines.push(format!("{indent}{word}"));
        } else {
            if line.len() > indent.len() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

/// `aesim reference`: the reference of every scenario key (docs/scenario-reference.md).
pub fn reference() -> u8 {
    print!("{}", aesim::scenario::reference::markdown());
    EXIT_OK
}

/// Takes the lock of the output folder `out` (`aesim::output::lock_folder`), or prints
/// why not (after `context`) and gives the exit code: 2 when another aesim command holds
/// it, 1 when the folder cannot be created or opened.
pub(crate) fn lock_out(
    out: &Path,
    mode: aesim::output::LockMode,
    context: &str,
) -> Result<aesim::output::FolderLock, u8> {
    aesim::output::lock_folder(out, mode).map_err(|reason| {
        eprintln!("error: {context}{reason}");
        match reason {
            aesim::output::LockError::InUse(_) => EXIT_BAD_INPUT,
            aesim::output::LockError::Unwritable(_) => EXIT_RUN_FAILED,
        }
    })
}
