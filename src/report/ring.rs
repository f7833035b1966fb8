//! The report's "Ring" section, from `nodes.csv` and `ranges.csv` (written only for
//! scenarios with a token ring): how the ring spreads the keys, how long a full repair
//! of the ring takes, how long ranges go without a complete repair (the figure held
//! against gc_grace), and how the repair load falls on the nodes.

use super::data::{Folder, Table};
use super::{ReportError, markdown_table, millis_text};
use crate::model::ring::Ownership;

/// Cassandra's default gc_grace_seconds: 10 days.
const GC_GRACE_S: f64 = 864_000.0;

/// The Ring section's parts, for `report.md` and `report.html` alike.
pub struct RingSection {
    /// The ring's shape, in one paragraph.
    pub intro: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// How to read the table (Markdown emphasis).
    pub note: String,
}

impl RingSection {
    pub fn to_markdown(&self) -> String {
        format!(
            "## Ring\n\n{}\n\n{}\n{}\n\n",
            self.intro,
            markdown_table(self.headings.clone(), self.rows.iter().cloned()),
            self.note
        )
    }
}

/// The section, or `None` when the folder has no ring files.
pub fn section(folder: Folder, summary: &Table) -> Result<Option<RingSection>, ReportError> {
    if !folder.has("nodes.csv") && !folder.has("ranges.csv") {
        return Ok(None);
    }
    let nodes = folder.table("nodes.csv")?;
    let ranges = folder.table("ranges.csv")?;
    let strategy_col = summary.require("strategy")?;
    let pass_col = summary.require("mean_full_pass_s")?;
    let passes_col = summary.require("full_passes")?;
    let strategies: Vec<String> = (0..summary.rows.len())
        .map(|row| summary.text(row, strategy_col).to_string())
        .collect();
    let intro = ownership_text(&nodes, strategies.first().map_or("", String::as_str))?;

    let n_strategy = nodes.require("strategy")?;
    let n_core = nodes.require("build_core_s")?;
    let n_sent = nodes.require("bytes_sent")?;
    let n_received = nodes.require("bytes_received")?;
    let n_stale = nodes.require("stale_keys")?;
    let r_strategy = ranges.require("strategy")?;
    let r_gap = ranges.require("max_unrepaired_s")?;
    let r_last = ranges.require("last_repaired_s")?;
    let mut rows = Vec::new();
    for (row, strategy) in strategies.iter().enumerate() {
        let node_rows: Vec<usize> = (0..nodes.rows.len())
            .filter(|&r| nodes.text(r, n_strategy) == strategy)
            .collect();
        let range_rows: Vec<usize> = (0..ranges.rows.len())
            .filter(|&r| ranges.text(r, r_strategy) == strategy)
            .collect();
        let mut gaps = range_rows
            .iter()
            .map(|&r| ranges.number(r, r_gap))
            .collect::<Result<Vec<f64>, _>>()?;
        gaps.sort_by(f64::total_cmp);
        let never = range_rows
            .iter()
            .filter(|&&r| ranges.text(r, r_last).is_empty())
            .count();
        let core = node_rows
            .iter()
            .map(|&r| nodes.number(r, n_core))
            .collect::<Result<Vec<f64>, _>>()?;
        let mut traffic = Vec::new();
        let mut stale = Vec::new();
        for &r in &node_rows {
            traffic.push(nodes.number(r, n_sent)? + nodes.number(r, n_received)?);
            stale.push(nodes.number(r, n_stale)?);
        }
        let passes = summary.text(row, passes_col);
        let pass = if passes == "0" { "" } else { summary.text(row, pass_col) };
        rows.push(vec![
            strategy.clone(),
            if pass.is_empty() { "-".into() } else { millis_text(pass) },
            format!("{:.1}", quantile(&gaps, 0.5)),
            format!("{:.1}", gaps.last().copied().unwrap_or(0.0)),
            never.to_string(),
            format!("{:.1} / {:.1}", min(&core), max(&core)),
            format!("{:.1}", max(&traffic) / 1e6),
            format!("{:.0}", max(&stale)),
        ]);
    }
    let headings = [
        "strategy",
        "full ring repair s",
        "range unrepaired p50 s",
        "range unrepaired max s",
        "ranges never repaired",
        "build core-s per node min / max",
        "busiest node MB",
        "most stale keys on a node",
    ];
    let note = format!(
        "*full ring repair*: mean time for every range to be compared afresh; *range unrepaired*: per \
         range, the longest a change could wait for a complete repair (from the start of the run or \
         a repair's snapshot to the next repair's completion, or to the end), over the ranges: the \
         figure to hold against gc_grace \
         (Cassandra's default is {GC_GRACE_S:.0} s, 10 days); *never repaired*: ranges no repair \
         covered completely; *build core-s*: core time each node spent scanning for tree builds; \
         *busiest node MB*: anti-entropy bytes sent and received by the node with the most; *stale \
         keys*: keys on which a node held an older version than another replica when the run \
         ended. Per node figures are in `nodes.csv`, per range figures in `ranges.csv`."
    );
    Ok(Some(RingSection {
        intro,
        headings: headings.iter().map(|h| h.to_string()).collect(),
        rows,
        note,
    }))
}

/// One paragraph on the ring's shape, from the first strategy's rows of `nodes.csv`.
fn ownership_text(nodes: &Table, strategy: &str) -> Result<String, ReportError> {
    let s = nodes.require("strategy")?;
    let o = nodes.require("ownership")?;
    let t = nodes.require("tokens")?;
    let mut shares = Vec::new();
    let mut tokens = 0.0;
    for row in (0..nodes.rows.len()).filter(|&r| nodes.text(r, s) == strategy) {
        shares.push(nodes.number(row, o)?);
        tokens += nodes.number(row, t)?;
    }
    let shares = Ownership::of(shares);
    Ok(format!(
        "{} nodes, {tokens:.0} token ranges. Each node stores {:.1}% of the keys on average (min \
         {:.1}%, max {:.1}%, standard deviation {:.2} points).",
        shares.per_node.len(),
        100.0 * shares.mean,
        100.0 * shares.min,
        100.0 * shares.max,
        100.0 * shares.stdev
    ))
}

/// The smallest and largest of `values`, as `Ownership::of` takes them (0 when empty).
fn min(values: &[f64]) -> f64 {
    values.iter().copied().reduce(f64::min).unwrap_or(0.0)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().reduce(f64::max).unwrap_or(0.0)
}

/// The value at `q` of sorted `values` (nearest rank); 0 when empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
