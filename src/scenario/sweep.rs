//! The `[sweep]` table of a scenario file: axes over scenario parameters and the number
//! of replications per grid point, checked like the rest of the file.
//!
//! ```toml
//! [sweep]
//! replications = 5                       # seeds per grid point (default 1)
//! strategy.leaves = [1024, 4096, 16384]  # an axis: a dotted path and its values
//! network.loss = [0.001, 0.01, 0.05]
//! ```
//!
//! The grid is the full product of the axes, in file order: the first axis varies
//! slowest. Every grid point is validated up front, each value as if it were written in
//! the file, so a sweep never starts with a point that cannot run.

use super::diagnostic::Locator;
use super::overrides::{Origin, Override, check_path, overridden_table, value_text};
use super::{Diagnostic, Scenario, ScenarioError};
use std::path::Path;
use toml::{Table, Value};

/// Most runs (grid points x replications) one sweep may have.
pub const MAX_SWEEP_RUNS: u64 = 100_000;
/// Most replications per grid point.
pub const MAX_REPLICATIONS: i64 = 10_000;

/// One axis of the grid: a parameter path and the values it takes, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<Value>,
}

impl Axis {
    /// Value `i` as text for CSV cells and chart labels (strings unquoted).
    pub fn label(&self, i: usize) -> String {
        value_text(&self.values[i])
    }
}

/// A checked `[sweep]`: the grid's axes and the replications of each point.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub axes: Vec<Axis>,
    pub replications: u32,
}

impl SweepSpec {
    /// Grid points: the product of the axes' lengths (1 without axes).
    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Runs of the whole sweep: points x replications.
    pub fn runs(&self) -> usize {
        self.points() * self.replications as usize
    }

    /// The value index on each axis of grid point `point` (the first axis varies slowest).
    pub fn coordinates(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut coordinates = vec![0; self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            coordinates[i] = rest % axis.values.len();
            rest /= axis.values.len();
        }
        coordinates
    }

    /// The overrides that make grid point `point`.
    pub fn point_overrides(&self, point: usize) -> Vec<Override> {
        self.axes
            .iter()
            .zip(self.coordinates(point))
            .map(|(axis, i)| Override {
                path: axis.path.clone(),
                value: axis.values[i].clone(),
                origin: Origin::SweepAxis,
            })
            .collect()
    }
}

/// A scenario file as loaded for running: its text, the command line's `--set`
/// overrides, the base scenario (the file plus those overrides, `[sweep]` aside) and the
/// sweep, if the file has one.
#[derive(Clone, Debug)]
pub struct ScenarioDocument {
    pub file: String,
    pub source: String,
    pub set: Vec<Override>,
    pub base: Scenario,
    pub sweep: Option<SweepSpec>,
}

impl ScenarioDocument {
    /// Reads and checks the scenario at `path` with `set` applied.
    pub fn load(path: &Path, set: Vec<Override>) -> Result<ScenarioDocument, ScenarioError> {
        let (source, file) = super::read_source(path)?;
        ScenarioDocument::parse(&source, &file, set)
    }

    /// Checks scenario text with `set` applied, and every point of its sweep.
    pub fn parse(source: &str, file: &str, set: Vec<Override>) -> Result<ScenarioDocument, ScenarioError> {
        let base = Scenario::parse_with(source, file, &set)?;
        let locator = Locator::new(source);
        let fail = |diagnostics| ScenarioError {
            file: file.to_string(),
            diagnostics,
        };
        let table = overridden_table(source, &locator, &set).map_err(fail)?;
        let sweep = match table.get("sweep") {
            Some(Value::Table(sweep)) => Some(parse_sweep(sweep, &locator, &set).map_err(fail)?),
            _ => None,
        };
        let document = ScenarioDocument {
            file: file.to_string(),
            source: source.to_string(),
            set,
            base,
            sweep,
        };
        if let Some(sweep) = &document.sweep {
            let mut diagnostics: Vec<Diagnostic> = Vec::new();
            for point in 0..sweep.points() {
                if let Err(e) = document.point_scenario(point) {
                    for d in e.diagnostics {
                        if !diagnostics.contains(&d) {
                            diagnostics.push(d);
                        }
                    }
                }
            }
            if !diagnostics.is_empty() {
                return Err(fail(diagnostics));
            }
        }
        Ok(document)
    }

    /// Every override of grid point `point`: the command line's, then the axes'.
    pub fn point_overrides(&self, point: usize) -> Vec<Override> {
        let mut overrides = self.set.clone();
        if let Some(sweep) = &self.sweep {
            overrides.extend(sweep.point_overrides(point));
        }
        overrides
    }

    /// The checked scenario of grid point `point` (with the base seed).
    pub fn point_scenario(&self, point: usize) -> Result<Scenario, ScenarioError> {
        Scenario::parse_with(&self.source, &self.file, &self.point_overrides(point))
    }
}

/// Checks a `[sweep]` table, collecting every problem.
fn parse_sweep(table: &Table, locator: &Locator, set: &[Override]) -> Result<SweepSpec, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut replications = 1;
    match table.get("replications") {
        None => {}
        Some(Value::Integer(n)) if (1..=MAX_REPLICATIONS).contains(n) => replications = *n as u32,
        Some(other) => diagnostics.push(locator.at_path(
            "sweep.replications",
            format!("`sweep.replications` must be a whole number from 1 to {MAX_REPLICATIONS}, got {other}"),
            Some("seeds run per grid point; 5 to 30 give useful confidence intervals".into()),
        )),
    }
    let mut axes = Vec::new();
    collect_axes(table, "", locator, &mut axes, &mut diagnostics);
    for (i, a) in axes.iter().enumerate() {
        for b in &axes[..i] {
            if overlaps(&a.path, &b.path) {
                diagnostics.push(locator.at_path(
                    &format!("sweep.{}", a.path),
                    format!("sweep axes `{}` and `{}` set the same parameter", b.path, a.path),
                    Some("keep one of them".into()),
                ));
            }
        }
        if let Some(o) = set.iter().find(|o| overlaps(&o.path, &a.path)) {
            diagnostics.push(Diagnostic::elsewhere(
                &o.path,
                "the command line",
                format!(
                    "--set {}: conflicts with the sweep axis `{}`, which would replace it",
                    o.to_set_text(),
                    a.path
                ),
                Some(format!(
                    "to fix the axis to one value, use --set 'sweep.{}=[...]'",
                    a.path
                )),
            ));
        }
    }
    let runs = axes.iter().map(|a| a.values.len() as u64).product::<u64>() * u64::from(replications);
    if runs > MAX_SWEEP_RUNS {
        diagnostics.push(locator.at_path(
            "sweep",
            format!("the sweep has {runs} runs; at most {MAX_SWEEP_RUNS} are supported"),
            Some("use fewer values or replications, or split it into several sweeps".into()),
        ));
    }
    if diagnostics.is_empty() {
        Ok(SweepSpec { axes, replications })
    } else {
        Err(diagnostics)
    }
}

/// Flattens nested tables (`network.loss = [...]` is `{ network = { loss = [...] } }`)
/// into axes, in file order.
fn collect_axes(
    table: &Table,
    above: &str,
    locator: &Locator,
    axes: &mut Vec<Axis>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (key, value) in table {
        if above.is_empty() && key == "replications" {
            continue;
        }
        let path = if above.is_empty() {
            key.clone()
        } else {
            format!("{above}.{key}")
        };
        let at = format!("sweep.{path}");
        match value {
            Value::Table(inner) => collect_axes(inner, &path, locator, axes, diagnostics),
            Value::Array(values) => {
                if let Err(e) = check_path(&path) {
                    diagnostics.push(locator.at_path(&at, format!("sweep axis: {e}"), None));
                } else if path == "sweep" || path.starts_with("sweep.") {
                    diagnostics.push(locator.at_path(&at, "a sweep cannot sweep itself".into(), None));
                } else if values.is_empty() {
                    diagnostics.push(locator.at_path(
                        &at,
                        format!("sweep axis `{path}` has no values"),
                        Some(format!("e.g. {path} = [1, 2, 4]")),
                    ));
                } else if let Some(twice) = values.iter().enumerate().find(|(i, v)| values[..*i].contains(v)) {
                    diagnostics.push(locator.at_path(
                        &at,
                        format!("sweep axis `{path}` lists {} twice", value_text(twice.1)),
                        Some("each value makes one grid point; list it once".into()),
                    ));
                } else {
                    axes.push(Axis {
                        path,
                        values: values.clone(),
                    });
                }
            }
            other => diagnostics.push(locator.at_path(
                &at,
                format!("sweep axis `{path}` must be a list of values to try, got {other}"),
                Some(format!("e.g. {path} = [{other}]")),
            )),
        }
    }
}

/// Whether two parameter paths can set the same value (one is a prefix of the other,
/// an index-free `strategy` matching any `strategy[i]`).
fn overlaps(a: &str, b: &str) -> bool {
    let strip = |p: &str| -> Vec<(String, Option<String>)> {
        p.split('.')
            .map(|s| match s.split_once('[') {
                Some((k, i)) => (k.to_string(), Some(i.to_string())),
                None => (s.to_string(), None),
            })
            .collect()
    };
    let (a, b) = (strip(a), strip(b));
    a.iter()
        .zip(&b)
        .all(|(x, y)| x.0 == y.0 && (x.1.is_none() || y.1.is_none() || x.1 == y.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"t\"\nseed = 1\nduration = \"10s\"\n[cluster]\nkeys = 1000\n\
                        [workload]\nwrites_per_s = 10.0\n[[strategy]]\nkind = \"monolithic\"\nleaves = 16\n\
                        interval = \"1s\"\n";

    fn parse(sweep: &str) -> Result<ScenarioDocument, ScenarioError> {
        ScenarioDocument::parse(&format!("{BASE}{sweep}"), "t.toml", Vec::new())
    }

    #[test]
    fn grid_is_the_product_in_file_order() {
        let doc =
            parse("[sweep]\nreplications = 3\nstrategy.leaves = [16, 64]\nnetwork.loss = [0.0, 0.1, 0.2]\n").unwrap();
        let sweep = doc.sweep.as_ref().unwrap();
        assert_eq!((sweep.points(), sweep.runs()), (6, 18));
        assert_eq!(sweep.axes[0].path, "strategy.leaves");
        assert_eq!(sweep.coordinates(4), vec![1, 1]);
        let s = doc.point_scenario(5).unwrap();
        assert_eq!(s.network.loss_probability, 0.2);
        assert_eq!(
            s.strategies[0].kind,
            crate::strategy::StrategyKind::Monolithic {
                leaves: 64,
                interval_ns: 1_000_000_000,
                tree: crate::protocol::TreeMaintenance::Scheduled,
                order: crate::strategy::RangeOrder::AllAtOnce,
            }
        );
    }

    #[test]
    fn a_bad_axis_value_is_located_at_the_axis() {
        let e = parse("[sweep]\nnetwork.loss = [0.1, 1.5]\n").unwrap_err().to_string();
        assert!(
            e.contains("[sweep] network.loss = 1.5: `network.loss` must be a probability"),
            "{e}"
        );
        assert!(e.contains("t.toml:13:16"), "{e}");
        let e = parse("[sweep]\nstrategy.leaves = [16, \"many\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[sweep] strategy.leaves = many: invalid type: string \"many\", expected"),
            "{e}"
        );
    }

    #[test]
    fn malformed_sweeps_are_refused() {
        let e = parse("[sweep]\nreplications = 0\nnetwork.loss = 0.1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`sweep.replications` must be a whole number"), "{e}");
        assert!(e.contains("must be a list of values"), "{e}");
        let e = parse("[sweep]\nstrategy.leaves = [16]\n\"strategy[0].leaves\" = [32]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("set the same parameter"), "{e}");
        let e = parse("[sweep]\nnetwork.loss = [0.1, 0.1]\n").unwrap_err().to_string();
        assert!(e.contains("lists 0.1 twice"), "{e}");
    }
}
