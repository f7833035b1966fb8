//! Presets: real systems' strategy tables (`scenarios/presets/<name>.toml`, embedded in
//! the binary), merged under a `[[strategy]]` table that names one with
//! `preset = "..."`. The table's own keys win; without a `name` the strategy is named
//! after the preset. Merging works on the TOML document before it is deserialized, so
//! a merged table goes through exactly the checks of a written one.
//!
//! Adding a preset is adding its file and one line to [`PRESETS`] (see
//! `scenarios/presets/README.md` for the format).

use super::diagnostic::Locator;
use super::file::ReconcilerKnobs;
use super::{Diagnostic, did_you_mean};
use toml::{Table, Value};

/// Every known preset: its name and its file's text.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "cassandra-full",
        include_str!("../../scenarios/presets/cassandra-full.toml"),
    ),
    (
        "cassandra-incremental",
        include_str!("../../scenarios/presets/cassandra-incremental.toml"),
    ),
    (
        "scylla-row-level",
        include_str!("../../scenarios/presets/scylla-row-level.toml"),
    ),
    ("naive", include_str!("../../scenarios/presets/naive.toml")),
    ("reaper", include_str!("../../scenarios/presets/reaper.toml")),
    ("riak-aae", include_str!("../../scenarios/presets/riak-aae.toml")),
    ("riak-tictac", include_str!("../../scenarios/presets/riak-tictac.toml")),
    // The same table under its version's name.
    (
        "cassandra-4",
        include_str!("../../scenarios/presets/cassandra-full.toml"),
    ),
    (
        "cassandra-3.11",
        include_str!("../../scenarios/presets/cassandra-3.11.toml"),
    ),
];

/// Keys that tune one reconciler: dropped from a preset whose table picks another. The
/// tree strategies' knobs are declared in `knobs.rs`; Tictac's two are Riak AAE fields.
fn is_reconciler_knob(key: &str) -> bool {
    ReconcilerKnobs::NAMES.contains(&key) || ["tictac_pause", "tictac_max_segments"].contains(&key)
}

/// The `[strategy]` table of preset `name`, if there is one.
pub fn preset_table(name: &str) -> Option<Table> {
    let (_, text) = PRESETS.iter().find(|(n, _)| *n == name)?;
    let mut file: Table = text
        .parse()
        .expect("embedded presets are valid TOML (tests/presets.rs)");
    match file.remove("strategy") {
        Some(Value::Table(table)) => Some(table),
        _ => panic!("preset {name} has no [strategy] table (tests/presets.rs)"),
    }
}

/// What merging did to one `[[strategy]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresetUse {
    /// The entry's index in the file.
    pub index: usize,
    pub preset: String,
    /// The keys the preset supplied (the entry did not set them).
    pub supplied: Vec<String>,
}

/// Merges every preset the `[[strategy]]` entries of `document` name; an unknown or
/// malformed `preset` is a diagnostic located in the file.
pub fn merge(document: &mut Table, locator: &Locator) -> Result<Vec<PresetUse>, Vec<Diagnostic>> {
    let Some(Value::Array(entries)) = document.get_mut("strategy") else {
        return Ok(Vec::new());
    };
    let mut uses = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, entry) in entries.iter_mut().enumerate() {
        let Value::Table(entry) = entry else { continue };
        let path = format!("strategy[{index}].preset");
        let name = match entry.get("preset") {
            None => continue,
            Some(Value::String(name)) => name.clone(),
            Some(other) => {
                diagnostics.push(locator.at_path(
                    &path,
                    format!("`preset` must be a preset's name in quotes, got {other}"),
                    Some(format!("known presets: {}", known())),
                ));
                continue;
            }
        };
        let Some(preset) = preset_table(&name) else {
            let hint = match did_you_mean(&name, PRESETS.iter().map(|(n, _)| *n)) {
                Some(best) => format!("did you mean \"{best}\"? known presets: {}", known()),
                None => format!("known presets: {} (scenarios/presets/)", known()),
            };
            diagnostics.push(locator.at_path(&path, format!("unknown preset \"{name}\""), Some(hint)));
            continue;
        };
        // A table that chooses another reconciler takes none of the preset's knobs of
        // its own reconciler (they would be refused as belonging to another one).
        let reconciler_changed = match (entry.get("reconciler"), preset.get("reconciler")) {
            (Some(mine), Some(theirs)) => mine != theirs,
            (Some(_), None) => true,
            _ => false,
        };
        let mut supplied = Vec::new();
        for (key, value) in preset {
            if reconciler_changed && is_reconciler_knob(&key) {
                continue;
            }
            if !entry.contains_key(&key) {
                entry.insert(key.clone(), value);
                supplied.push(key);
            }
        }
        if !entry.contains_key("name") {
            entry.insert("name".into(), Value::String(name.clone()));
        }
        uses.push(PresetUse {
            index,
            preset: name,
            supplied,
        });
    }
    if diagnostics.is_empty() {
        Ok(uses)
    } else {
        Err(diagnostics)
    }
}

/// The known presets' names, quoted, for messages.
fn known() -> String {
    PRESETS
        .iter()
        .map(|(n, _)| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One key of a preset file, as `aesim presets show` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresetKnob {
    pub key: String,
    /// The value as written in the preset file.
    pub value: String,
    /// The comment above the key and after it: where the value comes from.
    pub source: String,
    /// False for a knob the file shows commented out (absent: the code's default holds).
    pub set: bool,
}

/// Preset `name`'s opening comment, one paragraph per blank-line-separated block.
pub fn preset_about(name: &str) -> Option<Vec<String>> {
    let (_, text) = PRESETS.iter().find(|(n, _)| *n == name)?;
    let mut paragraphs = vec![String::new()];
    for line in text.lines().take_while(|l| l.trim_start().starts_with('#')) {
        let words = line.trim_start().trim_start_matches('#').trim();
        let last = paragraphs.last_mut().expect("never empty");
        if words.is_empty() {
            if !last.is_empty() {
                paragraphs.push(String::new());
            }
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(words);
        }
    }
    paragraphs.retain(|p| !p.is_empty());
    Some(paragraphs)
}

/// Preset `name`'s keys in file order, each with its value and the comments citing its
/// source (`tests/presets.rs` requires one for every key).
pub fn preset_knobs(name: &str) -> Option<Vec<PresetKnob>> {
    let (_, text) = PRESETS.iter().find(|(n, _)| *n == name)?;
    let body = text.lines().skip_while(|l| l.trim() != "[strategy]").skip(1);
    let mut knobs = Vec::new();
    let mut comment: Vec<String> = Vec::new();
    for line in body {
        let line = line.trim();
        if line.is_empty() {
            comment.clear();
        } else if let Some(words) = line.strip_prefix('#') {
            let words = words.trim();
            match key_and_value(words) {
                Some((key, value, _)) => knobs.push(PresetKnob {
                    key,
                    value,
                    source: std::mem::take(&mut comment).join(" "),
                    set: false,
                }),
                None => comment.push(words.to_string()),
            }
        } else if let Some((key, value, inline)) = key_and_value(line) {
            comment.extend(inline);
            knobs.push(PresetKnob {
                key,
                value,
                source: std::mem::take(&mut comment).join(" "),
                set: true,
            });
        }
    }
    Some(knobs)
}

/// `key = value # comment` split into its parts, if `line` is a TOML key-value line.
fn key_and_value(line: &str) -> Option<(String, String, Option<String>)> {
    let (key, rest) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut in_string = false;
    let comment_at = rest.char_indices().find_map(|(i, c)| {
        if c == '"' {
            in_string = !in_string;
        }
        (c == '#' && !in_string).then_some(i)
    });
    let (value, inline) = match comment_at {
        Some(i) => (&rest[..i], Some(rest[i + 1..].trim().to_string())),
        None => (rest, None),
    };
    let value = value.trim();
    format!("{key} = {value}").parse::<Table>().ok()?;
    Some((key.to_string(), value.to_string(), inline))
}

/// A checker diagnostic about a value a preset supplied gets a hint saying so.
pub fn explain(diagnostic: Diagnostic, uses: &[PresetUse]) -> Diagnostic {
    for u in uses {
        let prefix = format!("strategy[{}].", u.index);
        let Some(field) = diagnostic.path.strip_prefix(&prefix) else {
            continue;
        };
        let key = field.split(['.', '[']).next().unwrap_or(field);
        if u.supplied.iter().any(|s| s == key) {
            let note = format!(
                "`{key}` comes from preset \"{}\" (scenarios/presets/{}.toml); set `{key}` in this [[strategy]] to override it",
                u.preset, u.preset
            );
            let hint = match &diagnostic.hint {
                Some(h) => format!("{h}; {note}"),
                None => note,
            };
            return diagnostic.with_hint(hint);
        }
    }
    diagnostic
}
