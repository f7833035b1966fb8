//! The Repair paths section of a run's report: every divergence episode by the path
//! that ended it (replication, hint replay, read repair, tombstone purge, anti-entropy,
//! or still open), the stale reads, and the gc_grace headline (the longest a range went
//! without a complete repair against gc_grace, the ranges over it, resurrections). From
//! `summary.csv` alone; absent for folders written before these columns existed.

use super::charts::Chart;
use super::data::{RunData, Table};
use super::{ReportError, markdown_table};
use crate::chart::{Axis, Figure, LegendEntry, Mark, Plot, Scale, Unit, human, series_color};

/// The `summary.csv` columns of the attribution, in report order, with their headings:
/// first the transient divergence a write's own replication ends, then every path that
/// ends a lost write's divergence.
const PARTS: [(&str, &str); 7] = [
    ("healed_by_replication", "own replication"),
    ("lost_writes_covered", "later write"),
    ("healed_by_hint", "hint replay"),
    ("healed_by_read_repair", "read repair"),
    ("healed_by_purge", "tombstone purge"),
    ("keys_repaired", "anti-entropy"),
    ("divergent_at_end", "open at end"),
];

/// The section's table: headings and rows of text.
pub struct PathsSection {
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Each strategy's episodes by path, in [`PARTS`] order (for the chart).
    shares: Vec<[f64; 7]>,
    /// When and where deleted values came back, per strategy with any (from
    /// `resurrections.csv`), one sentence each.
    pub resurrections: Vec<String>,
}

/// How to read the section.
pub const NOTE: &str = "Every divergence episode (a key whose replicas went from agreement to \
     disagreement) is ended by exactly one path, or still open at the end: *own replication* (the \
     write's own messages: transient divergence), *later write* (a later write's replication \
     covering a lost one), *hint replay* (hinted handoff), \
     *read repair* (a read at QUORUM or ALL that found its replicas differ), *tombstone purge* \
     (replicas forgetting a deleted key now agree with those that never had it), *anti-entropy* \
     (repaired, including repairs that raced replication). *AE share*: anti-entropy's part of the \
     lasting episodes (all but own replication's, those still open included). *stale reads*: reads that returned an older version than the newest \
     acknowledged one. *max unrepaired*: the longest any range of the ring (without a ring, the \
     key space) went without a complete repair (from a repair's snapshot to the next one's \
     completion: the longest a delete could wait), held against *gc_grace*; *over*: ranges beyond it; *resurrections*: deleted \
     values a repair brought back (`resurrections.csv` says when and where).";

impl PathsSection {
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## Repair paths\n\n{}\n{NOTE}\n\n",
            markdown_table(self.headings.clone(), self.rows.iter().cloned())
        );
        for line in &self.resurrections {
            out.push_str(&format!("- {line}\n"));
        }
        if !self.resurrections.is_empty() {
            out.push('\n');
        }
        out
    }
}

/// Per strategy with resurrections: how many, when (first and last, in days), in how
/// many ranges and from how many replicas.
fn resurrection_lines(table: &Table, strategies: &[String]) -> Result<Vec<String>, ReportError> {
    let (strategy, time, range, node) = (
        table.require("strategy")?,
        table.require("time_s")?,
        table.require("range")?,
        table.require("node")?,
    );
    let mut lines = Vec::new();
    for name in strategies {
        let rows: Vec<usize> = (0..table.rows.len())
            .filter(|&r| table.text(r, strategy) == name)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut times = Vec::new();
        for &r in &rows {
            times.push(table.number(r, time)?);
        }
        let first = times.iter().copied().fold(f64::INFINITY, f64::min) / 86_400.0;
        let last = times.iter().copied().fold(0.0, f64::max) / 86_400.0;
        let distinct = |col: usize| {
            let set: std::collections::BTreeSet<&str> = rows.iter().map(|&r| table.text(r, col)).collect();
            set.len()
        };
        lines.push(format!(
            "{name}: {} resurrections between day {first:.1} and day {last:.1}, in {} ranges, \
             brought back from {} replicas that missed the delete (`resurrections.csv`).",
            rows.len(),
            distinct(range),
            distinct(node)
        ));
    }
    Ok(lines)
}

/// The section, or `None` when `summary.csv` predates the attribution columns.
/// `resurrections` is `resurrections.csv`, when the run had deletes.
pub fn section(data: &RunData, resurrections: Option<&Table>) -> Result<Option<PathsSection>, ReportError> {
    if data.summary.column("divergences_begun").is_none() {
        return Ok(None);
    }
    let number =
        |row: usize, column: &str| -> Result<f64, ReportError> { Ok(data.summary_number(row, column)?.unwrap_or(0.0)) };
    let mut rows = Vec::new();
    let mut shares = Vec::new();
    for (row, name) in data.strategies.iter().enumerate() {
        let mut parts = [0.0; 7];
        for (i, (column, _)) in PARTS.iter().enumerate() {
            parts[i] = match *column {
                "keys_repaired" => number(row, "keys_repaired")? + number(row, "repairs_raced_replication")?,
                other => number(row, other)?,
            };
        }
        // Anti-entropy's share of the episodes that outlived their write's replication,
        // those still open included (as in the chart).
        let lasting: f64 = parts[1..7].iter().sum();
        let ae_share = if lasting > 0.0 {
            format!("{:.1}%", 100.0 * parts[5] / lasting)
        } else {
            "-".into()
        };
        let text = |column: &str| {
            data.summary
                .column(column)
                .map_or(String::new(), |c| data.summary.text(row, c).to_string())
        };
        let days = |column: &str| {
            let t = text(column);
            t.parse::<f64>().map_or("-".to_string(), |s| {
                if s >= 2.0 * 86_400.0 {
                    format!("{:.1} d", s / 86_400.0)
                } else {
                    human(s, Unit::Seconds)
                }
            })
        };
        let mut cells = vec![name.clone(), text("divergences_begun")];
        cells.extend(parts.iter().map(|v| format!("{v:.0}")));
        cells.push(ae_share);
        cells.push(format!("{} / {}", text("reads_stale"), text("reads")));
        cells.push(days("max_unrepaired_s"));
        cells.push(days("gc_grace_s"));
        cells.push(text("ranges_over_gc_grace"));
        cells.push(text("resurrections"));
        rows.push(cells);
        shares.push(parts);
    }
    let mut headings: Vec<String> = vec!["strategy".into(), "episodes".into()];
    headings.extend(PARTS.iter().map(|(_, h)| h.to_string()));
    headings.extend(
        [
            "AE share",
            "stale reads",
            "max unrepaired",
            "gc_grace",
            "over",
            "resurrections",
        ]
        .map(String::from),
    );
    let resurrections = match resurrections {
        Some(table) => resurrection_lines(table, &data.strategies)?,
        None => Vec::new(),
    };
    Ok(Some(PathsSection {
        headings,
        rows,
        shares,
        resurrections,
    }))
}

/// Each strategy's episodes as one bar split by path, as shares of the episodes begun.
pub fn chart(section: &PathsSection, names: &[String]) -> Chart {
    let category = Axis::new(Scale::Category(names.to_vec()), Unit::Count, "");
    let x = Axis::new(
        Scale::Linear { lo: 0.0, hi: 1.0 },
        Unit::Ratio,
        "share of the divergence episodes that outlived their write's replication",
    );
    let mut plot = Plot::new("Which path ended each lasting divergence", x, category);
    for (row, parts) in section.shares.iter().enumerate() {
        let total: f64 = parts[1..].iter().sum();
        let mut start = 0.0;
        for (i, value) in parts.iter().enumerate().skip(1) {
            if total <= 0.0 || *value <= 0.0 {
                continue;
            }
            let end = start + value / total;
            plot.marks.push(Mark::Rect {
                x0: start,
                y0: row as f64 - 0.35,
                x1: end,
                y1: row as f64 + 0.35,
                fill: series_color(i),
            });
            start = end;
        }
    }
    for (i, (_, heading)) in PARTS.iter().enumerate().skip(1) {
        plot.legend.push(LegendEntry {
            label: heading.to_string(),
            series: i,
            line: false,
        });
    }
    let height = 120 + 40 * names.len().max(1) as u32;
    Chart {
        file: "repair-paths.svg",
        title: "Repair paths",
        caption: "Each strategy's lasting divergence episodes (all but those a write's own \
                  replication ended: the transient divergence while its messages travel) split by the \
                  path that ended them; the last part is still open at the end. Without hints, reads \
                  or deletes, a later write and anti-entropy are the only paths."
            .into(),
        svg: Figure::single(960, height, plot).to_svg(),
    }
}
