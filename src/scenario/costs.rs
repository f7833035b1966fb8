//! Cost profiles in scenarios: `[cluster] costs = "profile.toml"` (a path relative to the
//! scenario file) or `aesim run --costs profile.toml` (the override `cluster.costs`,
//! relative to the working folder) names a profile written by `aesim calibrate`.
//!
//! Its `[cluster]` keys (`scan_cost_per_key`, `record_bytes`, `hash_cost`,
//! `apply_cost_per_record`) become
//! overrides applied before any `--set`, for each key the scenario's `[cluster]` does not
//! write itself: explicit scenario values win, and `--set` wins over both. Its
//! `[measured]` table is every figure the calibration measured; it is checked (numbers
//! only) but does not reach the model. A profile that cannot be read, or with an unknown
//! key or a wrong value, is an error located in the profile.

use super::diagnostic::Locator;
use super::file::DurationText;
use super::{Diagnostic, ScenarioError, deserialize_diagnostic};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The profile's keys that are `[cluster]` keys, in the order they are applied.
const CLUSTER_KEYS: [&str; 4] = [
    "scan_cost_per_key",
    "record_bytes",
    "hash_cost",
    "apply_cost_per_record",
];

/// A profile as written (types checked by serde, unknown keys refused). The durations
/// are deserialized to check them; their text is what the overrides carry.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    scan_cost_per_key: Option<DurationText>,
    record_bytes: Option<u64>,
    hash_cost: Option<DurationText>,
    apply_cost_per_record: Option<DurationText>,
    #[serde(default)]
    measured: std::collections::BTreeMap<String, f64>,
}

/// What a cost profile sets: its name (the path it was read from) and the `cluster.*`
/// values the scenario does not set itself, each a dotted path with its value.
pub(super) struct ProfileValues {
    pub name: String,
    pub values: Vec<(String, Value)>,
}

/// The values of the cost profile named by `source`'s `[cluster] costs` or by the
/// command line's `cluster.costs` (`from_flag`, which wins); `None` when no profile is
/// named. A key the scenario sets in `[cluster]`, or that `overridden` says the command
/// line sets, keeps its own value.
pub(super) fn profile_values(
    source: &str,
    file: &str,
    from_flag: Option<&Value>,
    overridden: impl Fn(&str) -> bool,
) -> Result<Option<ProfileValues>, ScenarioError> {
    let Ok(table) = source.parse::<Table>() else {
        return Ok(None);
    };
    let cluster = table.get("cluster").and_then(Value::as_table);
    let (path, named_in_file) = match (from_flag, cluster.and_then(|c| c.get("costs"))) {
        (Some(Value::String(p)), _) => (PathBuf::from(p), false),
        (Some(_), _) => return Ok(None),
        (None, Some(Value::String(p))) => {
            let relative = Path::new(p);
            let base = Path::new(file).parent().unwrap_or(Path::new(""));
            (
                if relative.is_absolute() {
                    relative.to_path_buf()
                } else {
                    base.join(relative)
                },
                true,
            )
        }
        // Not a string: deserialization reports it, located.
        _ => return Ok(None),
    };
    let profile_name = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let message = format!("cannot read the cost profile {profile_name}: {e}");
        let hint = Some("write one with `aesim calibrate --out FILE`; a path in the scenario is relative to it".into());
        let diagnostic = if named_in_file {
            Locator::new(source).at_path("cluster.costs", message, hint)
        } else {
            Diagnostic::elsewhere("cluster.costs", "the command line", message, hint)
        };
        ScenarioError {
            file: if named_in_file {
                file.to_string()
            } else {
                "the command line".into()
            },
            diagnostics: vec![diagnostic],
        }
    })?;
    let values = parse_profile(&text, &profile_name)?;
    let explicit = |key: &str| cluster.is_some_and(|c| c.contains_key(key)) || overridden(&format!("cluster.{key}"));
    let values = values
        .into_iter()
        .filter(|(key, _)| !explicit(key))
        .map(|(key, value)| (format!("cluster.{key}"), value))
        .collect();
    Ok(Some(ProfileValues {
        name: profile_name,
        values,
    }))
}

/// The `[cluster]` values of the profile `text`, checked; errors are located in it.
fn parse_profile(text: &str, name: &str) -> Result<Vec<(&'static str, Value)>, ScenarioError> {
    let locator = Locator::new(text);
    let fail = |diagnostics| ScenarioError {
        file: name.to_string(),
        diagnostics,
    };
    let profile: ProfileFile = toml::from_str(text).map_err(|e| {
        let diagnostic = deserialize_diagnostic(&locator, &e);
        let diagnostic = match &diagnostic.hint {
            Some(hint) if hint.contains("quickstart") => diagnostic.with_hint(
                "a cost profile holds scan_cost_per_key, record_bytes, hash_cost and [measured]; \
                 `aesim calibrate` writes one"
                    .into(),
            ),
            _ => diagnostic,
        };
        fail(vec![diagnostic])
    })?;
    let mut diagnostics = Vec::new();
    if let Some(bytes) = profile.record_bytes
        && !(1..=super::MAX_RECORD_BYTES).contains(&bytes)
    {
        diagnostics.push(locator.at_path(
            "record_bytes",
            format!("expected between 1 and 16 MiB, got {bytes}"),
            Some("record_bytes is the calibrated record's size in bytes".into()),
        ));
    }
    for (key, value) in &profile.measured {
        if !value.is_finite() || *value < 0.0 {
            diagnostics.push(locator.at_path(
                &format!("measured.{key}"),
                format!("expected a finite, non-negative number of ns, got {value}"),
                None,
            ));
        }
    }
    if !diagnostics.is_empty() {
        return Err(fail(diagnostics));
    }
    let table: Table = text.parse().expect("deserialized above");
    Ok(CLUSTER_KEYS
        .iter()
        .filter_map(|&key| table.get(key).map(|v| (key, v.clone())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_values_fill_only_unwritten_cluster_keys() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("p.toml");
        std::fs::write(
            &profile,
            "scan_cost_per_key = \"300ns\"\nrecord_bytes = 64\n[measured]\nx_ns = 1.5\n",
        )
        .unwrap();
        let scenario = dir.path().join("s.toml");
        let source = "[cluster]\nkeys = 10\nrecord_bytes = 100\ncosts = \"p.toml\"\n";
        let found = profile_values(source, &scenario.display().to_string(), None, |_| false)
            .unwrap()
            .expect("a profile is named");
        assert_eq!(found.values.len(), 1);
        assert_eq!(found.values[0].0, "cluster.scan_cost_per_key");
        assert_eq!(found.values[0].1, Value::String("300ns".into()));
    }

    #[test]
    fn a_bad_profile_is_located_in_the_profile() {
        let e = parse_profile("record_bytes = 64\nscan_cost = \"1us\"\n", "p.toml").unwrap_err();
        assert_eq!(e.file, "p.toml");
        assert_eq!(e.diagnostics[0].line, 2);
        let e = parse_profile("record_bytes = 0\n", "p.toml").unwrap_err();
        assert_eq!(
            (e.diagnostics[0].line, e.diagnostics[0].path.as_str()),
            (1, "record_bytes")
        );
        let e = parse_profile("hash_cost = \"fast\"\n", "p.toml").unwrap_err();
        assert_eq!(e.diagnostics[0].line, 1);
    }
}
