//! Reading a scenario file and deserializing it, with the presets its strategies name
//! merged in, and every deserialization error located at its key in the source.

use super::diagnostic::Locator;
use super::file::ScenarioFile;
use super::{Diagnostic, ScenarioError, did_you_mean, file, overrides, presets};
use std::path::Path;

/// Reads the scenario file at `path`; returns its text and its name for diagnostics.
pub(crate) fn read_source(path: &Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    let fail = |diagnostic| ScenarioError {
        file: file.clone(),
        diagnostics: vec![diagnostic],
    };
    let bytes = std::fs::read(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => "check the path; scenarios live in scenarios/",
            std::io::ErrorKind::IsADirectory => "name a .toml file, not a folder",
            _ => "check the file's permissions",
        };
        // Nothing in the file to point at: the diagnostic names the file alone.
        fail(Diagnostic::elsewhere(
            "",
            &file,
            format!("cannot read the scenario file: {e}"),
            Some(hint.into()),
        ))
    })?;
    match String::from_utf8(bytes) {
        Ok(source) => Ok((source, file)),
        Err(e) => {
            // Locate the first bad byte in the text as far as it can be read.
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let byte = e.as_bytes()[at];
            Err(fail(Locator::new(&text).at_span(
                "",
                Some(at..at + 1),
                format!("the scenario file is not UTF-8 text: byte 0x{byte:02X} here is not valid UTF-8"),
                Some("save the file as UTF-8 (TOML files must be UTF-8)".into()),
            )))
        }
    }
}

/// The scenario file deserialized from `source`, with the presets its strategies name
/// merged in. Without presets, errors are located by the TOML parser in the source
/// itself; with them, an error in the merged document is located at the same field of
/// the source (its closest written parent when a preset supplied it).
pub(super) fn deserialize_with_presets(
    source: &str,
    locator: &Locator,
) -> Result<(ScenarioFile, Vec<presets::PresetUse>), Vec<Diagnostic>> {
    let plain = |table: Option<&toml::Table>| {
        toml::from_str::<ScenarioFile>(source)
            .map(|raw| (raw, Vec::new()))
            .map_err(|e| {
                // An error anywhere in the `[[strategy]]` array is spanned by the TOML
                // parser at the array's first header: look for it table by table.
                let in_strategies = locator.path_at(e.span().map_or(0, |s| s.start)).starts_with("strategy");
                let narrowed = table
                    .filter(|_| in_strategies)
                    .and_then(|t| strategy_diagnostic(locator, t));
                vec![narrowed.unwrap_or_else(|| deserialize_diagnostic(locator, &e))]
            })
    };
    let Ok(mut table) = source.parse::<toml::Table>() else {
        return plain(None);
    };
    let uses = presets::merge(&mut table, locator)?;
    if uses.is_empty() {
        return plain(Some(&table));
    }
    match table.clone().try_into::<ScenarioFile>() {
        Ok(raw) => Ok((raw, uses)),
        Err(_) => Err(vec![
            strategy_diagnostic(locator, &table).unwrap_or_else(|| merged_diagnostic(locator, &table)),
        ]),
    }
}

/// The first `[[strategy]]` table of `document` that does not deserialize on its own,
/// located at its offending key in the source (or at its header when a preset supplied
/// the key): each table is written out alone and read back, so the TOML parser's span
/// falls inside that one table.
fn strategy_diagnostic(locator: &Locator, document: &toml::Table) -> Option<Diagnostic> {
    let Some(toml::Value::Array(entries)) = document.get("strategy") else {
        return None;
    };
    entries.iter().enumerate().find_map(|(index, entry)| {
        let whole = entry.clone().try_into::<file::StrategyFile>().err()?;
        let at_table = |message: String, field: &str| {
            let hint = deserialize_hint(&message);
            locator.at_path(&format!("strategy[{index}]{field}"), message, hint)
        };
        let toml::Value::Table(entry) = entry else {
            return Some(at_table(
                format!("`strategy[{index}]` must be a table, got {entry}"),
                "",
            ));
        };
        // The kind's own struct, without the tag: serde's tagged enum buffers a table
        // and loses its spans, a plain struct keeps them.
        let mut fields = entry.clone();
        let kind = fields.remove("kind");
        let text = toml::to_string(&fields).ok()?;
        let error = match kind.as_ref().and_then(toml::Value::as_str) {
            Some("monolithic") => toml::from_str::<file::MonolithicFile>(&text).err(),
            Some("segmented") => toml::from_str::<file::SegmentedFile>(&text).err(),
            Some("riak_aae") => toml::from_str::<file::RiakAaeFile>(&text).err(),
            _ => None,
        };
        let Some(error) = error else {
            let field = if kind.is_some() { ".kind" } else { "" };
            return Some(at_table(overrides::friendly(whole.message()), field));
        };
        // A missing field has no text of its own: the table's header stands for it.
        let field = match error.message().starts_with("missing field") {
            true => String::new(),
            false => Locator::new(&text).path_at(error.span().map_or(0, |s| s.start)),
        };
        let path = match field.is_empty() {
            true => format!("strategy[{index}]"),
            false => format!("strategy[{index}].{field}"),
        };
        let message = overrides::friendly(error.message());
        let hint = deserialize_hint(&message);
        Some(match message.starts_with("unknown field") {
            true => locator.at_key(&path, message, hint),
            false => locator.at_path(&path, message, hint),
        })
    })
}

/// The deserialization error of `table`, located at the same field of the source.
pub(super) fn merged_diagnostic(locator: &Locator, table: &toml::Table) -> Diagnostic {
    let text = toml::to_string(table).unwrap_or_default();
    let error = match toml::from_str::<ScenarioFile>(&text) {
        Err(e) => e,
        // The text reads back where the table did not (never seen): say so at the top.
        Ok(_) => match table.clone().try_into::<ScenarioFile>() {
            Err(e) => {
                let message = overrides::friendly(e.message());
                let hint = deserialize_hint(&message);
                return locator.at_path("strategy", message, hint);
            }
            Ok(_) => return locator.at_path("strategy", "the merged presets are invalid".into(), None),
        },
    };
    let path = Locator::new(&text).path_at(error.span().map_or(0, |s| s.start));
    let message = overrides::friendly(error.message());
    let hint = deserialize_hint(&message);
    locator.at_path(&path, message, hint)
}

/// Turns a serde/TOML error into a diagnostic, with a "did you mean" for unknown fields.
pub(super) fn deserialize_diagnostic(locator: &Locator, error: &toml::de::Error) -> Diagnostic {
    let message = overrides::friendly(error.message());
    let hint = deserialize_hint(&message);
    // Every TOML error is located; one without a span (rare) points at the file's start.
    locator.at_span("", Some(error.span().unwrap_or(0..0)), message, hint)
}

/// The hint for a serde/TOML error message, if there is one.
pub(super) fn deserialize_hint(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (word, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        Some(match did_you_mean(word, candidates.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("remove `{word}`; see scenarios/quickstart.toml for every field"),
        })
    } else if message.starts_with("unknown variant") {
        Some("see scenarios/quickstart.toml for the kinds aesim knows".into())
    } else if message.starts_with("missing field") {
        Some("add the field; scenarios/quickstart.toml shows each one with a comment".into())
    } else {
        None
    }
}
