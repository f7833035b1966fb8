//! Overrides: one scenario parameter, named by its dotted path, replaced by a value.
//!
//! `aesim run --set network.loss=0.05` and every point of a `[sweep]` grid are
//! overrides. They are applied to the parsed TOML document *before* it is deserialized,
//! so an overridden value goes through exactly the same type checks and validation as a
//! value written in the file; only the error's location differs (it names the override
//! instead of a line of the file).
//!
//! Paths: `network.loss`, `workload.keys.exponent`, `seed`. `[[strategy]]` is an array
//! of tables: `strategy.leaves` sets `leaves` in *every* strategy entry, `strategy[1].leaves`
//! only in the second one (indices count from 0, in file order).

use super::diagnostic::Locator;
use super::file::ScenarioFile;
use super::{Checker, Diagnostic, Scenario, ScenarioError, deserialize_hint};
use toml::{Table, Value};

/// Where an override came from, for its error messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// `--set path=value` on the command line.
    CommandLine,
    /// One value of a `[sweep]` axis in the scenario file.
    SweepAxis,
    /// `--seed N` on the command line: the seed of a single run, the base seed of a sweep.
    SeedFlag,
    /// A key of the cost profile at this path (`[cluster] costs`, `--costs`).
    CostProfile(String),
}

/// One parameter replaced: `path = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: Value,
    pub origin: Origin,
}

/// One step of a path: a key, and for arrays of tables an optional index.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Segment {
    key: String,
    index: Option<usize>,
}

impl Override {
    /// Parses `path=value` from the command line. The value is read as a TOML value
    /// (`0.05`, `1024`, `"30s"`, `[1, 2]`, `{ kind = "uniform" }`); text that is not
    /// valid TOML is taken as a string, so `--set strategy.interval=30s` works unquoted.
    pub fn parse_set(text: &str) -> Result<Override, String> {
        let Some((path, value)) = text.split_once('=') else {
            return Err(format!(
                "--set {text}: expected PATH=VALUE, e.g. --set network.loss=0.05"
            ));
        };
        let path = path.trim().to_string();
        parse_path(&path).map_err(|e| format!("--set {text}: {e}"))?;
        Ok(Override {
            path,
            value: parse_value(value.trim()),
            origin: Origin::CommandLine,
        })
    }

    /// The override `--seed` makes: `seed = N`. Seeds above `i64::MAX` are refused,
    /// because TOML integers are signed 64-bit and the seed must read back from the
    /// scenario echo and `run.toml`.
    pub fn seed(seed: u64) -> Result<Override, String> {
        let value = i64::try_from(seed).map_err(|_| {
            format!(
                "--seed {seed}: seeds must be at most {} (2^63 - 1), the largest integer a TOML file \
                 such as run.toml can hold",
                i64::MAX
            )
        })?;
        Ok(Override {
            path: "seed".into(),
            value: Value::Integer(value),
            origin: Origin::SeedFlag,
        })
    }

    /// The override as `path=value` text, which [`Override::parse_set`] reads back.
    pub fn to_set_text(&self) -> String {
        format!("{}={}", self.path, value_text(&self.value))
    }

    /// A diagnostic about this override, located where it was written.
    fn diagnostic(&self, locator: &Locator, message: &str, hint: Option<String>) -> Diagnostic {
        match self.origin {
            Origin::CommandLine => Diagnostic::elsewhere(
                &self.path,
                "the command line",
                format!("--set {}: {message}", self.to_set_text()),
                hint,
            ),
            Origin::SeedFlag => Diagnostic::elsewhere(
                &self.path,
                "the command line",
                format!("--seed {}: {message}", value_text(&self.value)),
                hint,
            ),
            Origin::CostProfile(ref profile) => Diagnostic::elsewhere(
                &self.path,
                profile,
                format!(
                    "cost profile {profile}: {} = {}: {message}",
                    self.path,
                    value_text(&self.value)
                ),
                hint,
            ),
            Origin::SweepAxis => locator.at_path(
                &format!("sweep.{}", self.path),
                format!("[sweep] {} = {}: {message}", self.path, value_text(&self.value)),
                hint,
            ),
        }
    }

    /// Whether a validation error at `field` (e.g. `strategy[0].leaves`) concerns a
    /// value this override set.
    fn covers(&self, field: &str) -> bool {
        let (Ok(mine), Ok(theirs)) = (parse_path(&self.path), parse_path(field)) else {
            return false;
        };
        mine.len() <= theirs.len()
            && mine
                .iter()
                .zip(&theirs)
                .all(|(m, t)| m.key == t.key && (m.index.is_none() || m.index == t.index))
    }
}

/// A value read from text: TOML if it parses as a TOML value, else a plain string.
pub fn parse_value(text: &str) -> Value {
    format!("v = {text}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// A value as short text for messages, file names and CSV cells: strings without
/// quotes, everything else as inline TOML.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Splits `a.b[2].c` into segments, rejecting empty keys and malformed indices.
fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    if path.is_empty() {
        return Err("the path is empty; write e.g. network.loss".into());
    }
    path.split('.')
        .map(|part| {
            let (key, index) = match part.split_once('[') {
                Some((key, rest)) => {
                    let digits = rest.strip_suffix(']').ok_or_else(|| {
                        format!("`{part}` in path `{path}`: an index is written [N], e.g. strategy[1]")
                    })?;
                    let index = digits.parse::<usize>().map_err(|_| {
                        format!("`{part}` in path `{path}`: the index must be a number from 0, e.g. strategy[1]")
                    })?;
                    (key, Some(index))
                }
                None => (part, None),
            };
            let key_ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
            if !key_ok {
                return Err(format!(
                    "`{part}` in path `{path}` is not a field name; paths look like network.loss or strategy[1].leaves"
                ));
            }
            Ok(Segment {
                key: key.to_string(),
                index,
            })
        })
        .collect()
}

/// Checks that `path` is well formed (not that it names a real field).
pub fn check_path(path: &str) -> Result<(), String> {
    parse_path(path).map(|_| ())
}

/// Sets `value` at `path` in `table`, creating missing tables on the way.
pub fn apply(table: &mut Table, path: &str, value: &Value) -> Result<(), String> {
    let segments = parse_path(path)?;
    apply_segments(table, &segments, value, "")
}

fn apply_segments(table: &mut Table, segments: &[Segment], value: &Value, above: &str) -> Result<(), String> {
    let (segment, rest) = segments.split_first().expect("paths are never empty");
    let here = if above.is_empty() {
        segment.key.clone()
    } else {
        format!("{above}.{}", segment.key)
    };
    if let Some(index) = segment.index {
        let Some(Value::Array(items)) = table.get_mut(&segment.key) else {
            return Err(format!(
                "`{here}` is not a list of entries, so `{here}[{index}]` does not exist"
            ));
        };
        let count = items.len();
        let item = items.get_mut(index).ok_or_else(|| {
            format!(
                "`{here}` has {count} entries (indices 0 to {}), so there is no `{here}[{index}]`",
                count.saturating_sub(1)
            )
        })?;
        let here = format!("{here}[{index}]");
        if rest.is_empty() {
            *item = value.clone();
            return Ok(());
        }
        return match item {
            Value::Table(inner) => apply_segments(inner, rest, value, &here),
            other => Err(format!("`{here}` is {}, not a table", type_name(other))),
        };
    }
    if rest.is_empty() {
        table.insert(segment.key.clone(), value.clone());
        return Ok(());
    }
    match table
        .entry(segment.key.clone())
        .or_insert_with(|| Value::Table(Table::new()))
    {
        Value::Table(inner) => apply_segments(inner, rest, value, &here),
        // An array of tables (`[[strategy]]`): the path applies to every entry.
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_table) => {
            for (i, item) in items.iter_mut().enumerate() {
                let Value::Table(inner) = item else {
                    unreachable!("checked above")
                };
                apply_segments(inner, rest, value, &format!("{here}[{i}]"))?;
            }
            Ok(())
        }
        Value::Array(items) if items.is_empty() => Err(format!("`{here}` has no entries to set `{}` in", rest[0].key)),
        other => Err(format!("`{here}` is {}, not a table", type_name(other))),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// Rewrites serde's type names into words a scenario author knows.
pub(super) fn friendly(message: &str) -> String {
    let mut text = message.trim().to_string();
    // Serde names the Rust type it wanted; the reader knows only the file's words.
    for (rust, words) in [
        ("expected internally tagged enum ", "expected a table with a `kind`"),
        ("expected struct ", "expected a table"),
        ("expected enum ", "expected one of the documented values"),
    ] {
        if let Some(at) = text.find(rust) {
            let name_end = text[at + rust.len()..]
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .map_or(text.len(), |n| at + rust.len() + n);
            text.replace_range(at..name_end, words);
        }
    }
    for (rust, words) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected u32", "expected a whole number from 0 to 4294967295"),
        (
            "expected a string",
            "expected a string (e.g. a duration such as \"30s\")",
        ),
        ("expected a sequence", "expected a list"),
    ] {
        if let Some(at) = text.find(rust)
            && text[at + rust.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            text.replace_range(at..at + rust.len(), words);
        }
    }
    text
}

/// The scenario document with `overrides` applied in order, or every override that
/// could not be applied.
pub(super) fn overridden_table(
    source: &str,
    locator: &Locator,
    overrides: &[Override],
) -> Result<Table, Vec<Diagnostic>> {
    let mut table: Table = source
        .parse()
        .map_err(|e: toml::de::Error| vec![locator.at_span("", e.span(), e.message().trim().to_string(), None)])?;
    let mut diagnostics = Vec::new();
    for o in overrides {
        if let Err(message) = apply(&mut table, &o.path, &o.value) {
            diagnostics.push(o.diagnostic(locator, &message, None));
        }
    }
    if diagnostics.is_empty() {
        Ok(table)
    } else {
        Err(diagnostics)
    }
}

/// The overrides the cost profile named by `source` (or by `overrides`) adds, to go in
/// front of `overrides`; none when no profile is named.
fn profile_overrides(source: &str, file: &str, overrides: &[Override]) -> Result<Vec<Override>, ScenarioError> {
    let from_flag = overrides
        .iter()
        .rev()
        .find(|o| o.path == "cluster.costs")
        .map(|o| &o.value);
    let overridden = |path: &str| overrides.iter().any(|o| o.path == path);
    let Some(profile) = super::costs::profile_values(source, file, from_flag, overridden)? else {
        return Ok(Vec::new());
    };
    Ok(profile
        .values
        .into_iter()
        .map(|(path, value)| Override {
            path,
            value,
            origin: Origin::CostProfile(profile.name.clone()),
        })
        .collect())
}

/// Does `source` name a cost profile (`[cluster] costs`)?
pub fn names_cost_profile(source: &str) -> bool {
    source
        .parse::<Table>()
        .ok()
        .and_then(|t| {
            t.get("cluster")
                .and_then(Value::as_table)
                .map(|c| c.contains_key("costs"))
        })
        .unwrap_or(false)
}

/// The document of one run with its seed, as canonical TOML text: the same text for
/// the same effective scenario, whatever the file's comments or layout. Sweeps hash it
/// to recognise a run already done. A cost profile the text (or `overrides`) names is
/// applied as the run applies it and its name left out, so the text stands alone (a
/// results folder's echo reruns without the profile) and changes with the profile's
/// values. `source` (read from `file`) and `overrides` must be valid.
pub fn canonical_text(source: &str, file: &str, overrides: &[Override], seed: u64) -> String {
    let locator = Locator::new(source);
    // A cost profile's values are written in, and the profile's name dropped: the text
    // stands alone, and it changes when the profile's values do.
    let mut with_profile = profile_overrides(source, file, overrides).expect("validated before");
    with_profile.extend_from_slice(overrides);
    let mut table = overridden_table(source, &locator, &with_profile).expect("validated before");
    super::presets::merge(&mut table, &locator).expect("validated before");
    if let Some(Value::Table(cluster)) = table.get_mut("cluster") {
        cluster.remove("costs");
    }
    table.remove("sweep");
    let seed = i64::try_from(seed).expect("sweep seeds fit in a TOML integer");
    table.insert("seed".into(), Value::Integer(seed));
    toml::to_string(&table).expect("a TOML table serializes")
}

impl Scenario {
    /// Parses scenario text with `overrides` applied, validating the result exactly as
    /// [`Scenario::parse`] does. Problems in the file are located in the file; problems
    /// caused by an override name the override.
    pub fn parse_with(source: &str, file: &str, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        // A cost profile's values go first, so the file's own values and `--set` win.
        let mut overrides_with_profile = profile_overrides(source, file, overrides)?;
        overrides_with_profile.extend_from_slice(overrides);
        let overrides = &overrides_with_profile[..];
        if overrides.is_empty() {
            return Scenario::parse_plain(source, file);
        }
        let locator = Locator::new(source);
        let fail = |diagnostics| ScenarioError {
            file: file.to_string(),
            diagnostics,
        };
        // The file as written (with its presets) must have the right shape and types:
        // its errors have a line.
        super::deserialize_with_presets(source, &locator).map_err(fail)?;
        let mut table = overridden_table(source, &locator, overrides).map_err(fail)?;
        let presets = super::presets::merge(&mut table, &locator).map_err(fail)?;
        let raw: ScenarioFile = match table.try_into() {
            Ok(raw) => raw,
            Err(_) => {
                // The file alone deserializes, so an override broke it: find which, by
                // applying each one alone.
                let base = overridden_table(source, &locator, &[]).map_err(fail)?;
                let mut diagnostics = Vec::new();
                for o in overrides {
                    let mut alone = base.clone();
                    apply(&mut alone, &o.path, &o.value).expect("applied above");
                    // An override's own preset may be unknown: the merge says so.
                    if let Err(mut located) = super::presets::merge(&mut alone, &locator) {
                        diagnostics.append(&mut located);
                        continue;
                    }
                    if let Err(e) = alone.try_into::<ScenarioFile>() {
                        let message = friendly(e.message());
                        let hint = deserialize_hint(&message);
                        diagnostics.push(o.diagnostic(&locator, &message, hint));
                    }
                }
                if diagnostics.is_empty() {
                    let list: Vec<String> = overrides.iter().map(Override::to_set_text).collect();
                    diagnostics.push(Diagnostic::elsewhere(
                        "",
                        "the command line",
                        format!(
                            "the overrides {} together do not make a valid scenario",
                            list.join(", ")
                        ),
                        None,
                    ));
                }
                return Err(fail(diagnostics));
            }
        };
        let mut checker = Checker {
            locator: &locator,
            diagnostics: Vec::new(),
        };
        let scenario = checker.scenario(raw, source);
        if checker.diagnostics.is_empty() {
            return Ok(scenario);
        }
        // A value the checker rejected that an override set is the override's fault; the
        // last override that touched it wins, as it did when applied.
        let diagnostics = checker
            .diagnostics
            .into_iter()
            .map(|d| match overrides.iter().rev().find(|o| o.covers(&d.path)) {
                Some(o) => o.diagnostic(&locator, &d.message, d.hint.clone()),
                None => super::presets::explain(d, &presets),
            })
            .collect();
        Err(fail(diagnostics))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> Override {
        Override::parse_set(text).unwrap()
    }

    #[test]
    fn values_are_toml_or_plain_strings() {
        assert_eq!(set("network.loss=0.05").value, Value::Float(0.05));
        assert_eq!(set("strategy.leaves=1024").value, Value::Integer(1024));
        assert_eq!(set("strategy.interval=30s").value, Value::String("30s".into()));
        assert_eq!(set("name=\"x y\"").value, Value::String("x y".into()));
        assert_eq!(set("strategy.interval=30s").to_set_text(), "strategy.interval=30s");
    }

    #[test]
    fn bad_paths_are_refused() {
        assert!(Override::parse_set("network.loss").unwrap_err().contains("PATH=VALUE"));
        assert!(
            Override::parse_set("network..loss=1")
                .unwrap_err()
                .contains("not a field name")
        );
        assert!(
            Override::parse_set("strategy[x].leaves=1")
                .unwrap_err()
                .contains("index")
        );
    }

    #[test]
    fn array_paths_apply_to_all_or_one_entry() {
        let mut t: Table = "[[strategy]]\nleaves = 1\n[[strategy]]\nleaves = 2\n".parse().unwrap();
        apply(&mut t, "strategy.leaves", &Value::Integer(8)).unwrap();
        apply(&mut t, "strategy[1].interval", &Value::String("5s".into())).unwrap();
        apply(&mut t, "network.loss", &Value::Float(0.5)).unwrap();
        assert_eq!(
            t.to_string(),
            "[[strategy]]\nleaves = 8\n\n[[strategy]]\nleaves = 8\ninterval = \"5s\"\n\n[network]\nloss = 0.5\n"
        );
        let e = apply(&mut t, "strategy[2].leaves", &Value::Integer(1)).unwrap_err();
        assert!(e.contains("has 2 entries"), "{e}");
        let e = apply(&mut t, "network.loss.x", &Value::Integer(1)).unwrap_err();
        assert_eq!(e, "`network.loss` is a number, not a table");
    }

    #[test]
    fn coverage_matches_indices_and_prefixes() {
        assert!(set("strategy.leaves=1").covers("strategy[3].leaves"));
        assert!(set("strategy[3].leaves=1").covers("strategy[3].leaves"));
        assert!(!set("strategy[2].leaves=1").covers("strategy[3].leaves"));
        assert!(set("network.latency={kind=\"constant\"}").covers("network.latency.max"));
        assert!(!set("network.loss=1").covers("network.latency"));
    }
}
