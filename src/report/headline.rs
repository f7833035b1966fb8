//! The headline: per strategy, in human units, how long a lost write waits, the worst
//! range against gc_grace and what the repair cost; then the caveats where this run
//! cannot support a conclusion (too few lost deletes to show resurrections, hints or
//! reads off where the preset's system has them on, latencies censored by the end of
//! the run, no full pass within the run).
//!
//! Built from `summary.csv` and the scenario echo alone, so `aesim run` (terminal),
//! `report.md` and `report.html` say the same words.

use super::ReportError;
use super::data::RunData;
use crate::chart::units::{Unit, human};

/// Lost deletes below which a run without resurrections says nothing about them.
const FEW_LOST_DELETES: f64 = 30.0;

const DAY_S: f64 = 86_400.0;

/// What the headline says: one line per strategy, then the caveats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headline {
    pub lines: Vec<String>,
    pub caveats: Vec<String>,
}

/// A duration for the headline: days once it reaches a day (gc_grace is counted in
/// days), otherwise the charts' units.
fn duration(seconds: f64) -> String {
    if seconds >= DAY_S {
        format!("{:.1} d", seconds / DAY_S)
    } else {
        human(seconds, Unit::Seconds)
    }
}

/// The gc_grace margin: "7.3 d of 10 d: 2.7 d to spare", or how far over.
pub fn gc_grace_margin(worst_s: f64, grace_s: f64) -> String {
    let (worst, grace) = (duration(worst_s), duration(grace_s).replace(".0 d", " d"));
    if worst_s <= grace_s {
        format!("{worst} of {grace}: {} to spare", duration(grace_s - worst_s))
    } else {
        format!("{worst} of {grace}: {} over", duration(worst_s - grace_s))
    }
}

/// Reads the figures of strategy `i`; a missing column reads as 0.
struct Figures<'a> {
    data: &'a RunData,
    index: usize,
}

impl Figures<'_> {
    fn get(&self, column: &str) -> Result<Option<f64>, ReportError> {
        self.data.summary_number(self.index, column)
    }

    fn or_zero(&self, column: &str) -> Result<f64, ReportError> {
        Ok(self.get(column)?.unwrap_or(0.0))
    }
}

/// The headline of a run.
pub fn headline(data: &RunData) -> Result<Headline, ReportError> {
    let mut lines = Vec::new();
    let mut caveats = Vec::new();
    for (index, name) in data.strategies.iter().enumerate() {
        let f = Figures { data, index };
        let mut parts = vec![wait_text(&f)?];
        if data.configured.deletes || data.configured.ring {
            parts.push(gc_grace_text(&f)?);
        }
        parts.push(cost_text(&f)?);
        lines.push(format!("{name}: {}", parts.join("; ")));
        caveats.extend(strategy_caveats(&f, name)?);
    }
    caveats.extend(run_caveats(data)?);
    Ok(Headline { lines, caveats })
}

fn wait_text(f: &Figures) -> Result<String, ReportError> {
    let repaired = f.or_zero("keys_repaired")?;
    let open = f.or_zero("divergent_at_end")?;
    if repaired == 0.0 {
        return Ok(format!(
            "no lost write repaired ({} still open)",
            human(open, Unit::Count)
        ));
    }
    let median = f.get("repair_km_p50_s")?.or(f.get("repair_p50_s")?);
    let median = median.map_or_else(|| "n/e (too many still open)".into(), duration);
    // The worst wait: the longest repair, or a key still open for longer.
    let (repaired_max, oldest_open) = (f.or_zero("repair_max_s")?, f.or_zero("oldest_divergence_s")?);
    let worst = if oldest_open > repaired_max {
        format!("{} and counting (a key still open)", duration(oldest_open))
    } else {
        duration(repaired_max)
    };
    Ok(format!(
        "a lost write waits {median} at the median, {worst} at worst ({} repaired, {} still open)",
        human(repaired, Unit::Count),
        human(open, Unit::Count)
    ))
}

fn gc_grace_text(f: &Figures) -> Result<String, ReportError> {
    let (Some(worst), Some(grace)) = (f.get("max_unrepaired_s")?, f.get("gc_grace_s")?) else {
        return Ok("gc_grace not measured".into());
    };
    let over = f.or_zero("ranges_over_gc_grace")?;
    let mut text = format!("worst range {}", gc_grace_margin(worst, grace));
    if over > 0.0 {
        text.push_str(&format!(" ({} ranges over)", human(over, Unit::Count)));
    }
    Ok(text)
}

fn cost_text(f: &Figures) -> Result<String, ReportError> {
    let scan_h = f.or_zero("scan_core_s")? / 3600.0;
    let streamed = f.or_zero("records_streamed")?;
    let needed = f.or_zero("records_needed")?;
    let bytes = f.or_zero("hash_bytes")? + f.or_zero("stream_bytes")?;
    let ratio = if needed > 0.0 {
        format!(" ({}x)", human(streamed / needed, Unit::Ratio))
    } else {
        String::new()
    };
    Ok(format!(
        "cost {} scan core-h, {} sent, {} records streamed for {} needed{ratio}",
        human(scan_h, Unit::Ratio),
        human(bytes, Unit::Bytes),
        human(streamed, Unit::Count),
        human(needed, Unit::Count)
    ))
}

fn strategy_caveats(f: &Figures, name: &str) -> Result<Vec<String>, ReportError> {
    let mut caveats = Vec::new();
    let open = f.or_zero("divergent_at_end")?;
    if open > 0.0 && f.or_zero("keys_repaired")? > 0.0 {
        caveats.push(format!(
            "{name}: {} lost writes still open at the end (the oldest {}): the plain percentiles leave \
             them out; the median above is the censored estimate",
            human(open, Unit::Count),
            duration(f.or_zero("oldest_divergence_s")?)
        ));
    }
    let scans = f.or_zero("keys_scanned")? > 0.0;
    if scans && f.or_zero("full_passes")? == 0.0 {
        caveats.push(format!(
            "{name}: no full pass completed within the run: its worst case is longer than the run shows; \
             run at least two passes"
        ));
    }
    Ok(caveats)
}

/// Systems whose presets imply hinted handoff and read repair on by default.
fn system_of(preset: &str) -> Option<&'static str> {
    match preset {
        "cassandra-full" | "cassandra-incremental" | "reaper" => Some("Cassandra"),
        "scylla-row-level" => Some("ScyllaDB"),
        "riak-aae" | "riak-tictac" => Some("Riak"),
        _ => None,
    }
}

fn run_caveats(data: &RunData) -> Result<Vec<String>, ReportError> {
    let mut caveats = Vec::new();
    let mut systems: Vec<&str> = Vec::new();
    for system in data.presets.iter().filter_map(|(_, p)| system_of(p)) {
        if !systems.contains(&system) {
            systems.push(system);
        }
    }
    if !systems.is_empty() {
        let system = systems.join(" and ");
        if !data.configured.hints {
            caveats.push(format!(
                "hinted handoff is off in this run (no [hints] table), while {system} {} it on by default: \
                 anti-entropy here repairs what hints would heal",
                if systems.len() > 1 { "have" } else { "has" }
            ));
        }
        if !data.configured.reads {
            caveats.push(format!(
                "no reads are modelled (no [reads] table), so no read repair, which {system} {} on reads at \
                 QUORUM or ALL",
                if systems.len() > 1 { "do" } else { "does" }
            ));
        }
    }
    if data.configured.deletes && !data.strategies.is_empty() {
        let f = Figures { data, index: 0 };
        let writes = f.or_zero("writes")?;
        let lost_deletes = if writes > 0.0 {
            f.or_zero("deletes")? * f.or_zero("lost_messages")? / writes
        } else {
            0.0
        };
        let resurrections: f64 = (0..data.strategies.len())
            .map(|index| Figures { data, index }.or_zero("resurrections"))
            .sum::<Result<f64, _>>()?;
        if resurrections == 0.0 && lost_deletes < FEW_LOST_DELETES {
            caveats.push(format!(
                "about {} lost deletes in this run: too few to show resurrections, so 0 resurrections proves \
                 nothing; read the worst range against gc_grace instead",
                lost_deletes.round()
            ));
        }
        let grace = f.or_zero("gc_grace_s")?;
        if data.duration_s > 0.0 && data.duration_s <= grace {
            caveats.push(format!(
                "the run ({}) is no longer than gc_grace ({}): no tombstone is purged, so no resurrection can \
                 show",
                duration(data.duration_s),
                duration(grace)
            ));
        }
    }
    Ok(caveats)
}

impl Headline {
    /// The block at the top of the terminal output.
    pub fn to_terminal(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&format!("{line}\n"));
        }
        for caveat in &self.caveats {
            text.push_str(&format!("caveat: {caveat}\n"));
        }
        text
    }

    /// The `## Headline` section of report.md.
    pub fn to_markdown(&self) -> String {
        let mut text = String::from("## Headline\n\n");
        for line in &self.lines {
            text.push_str(&format!("- {}\n", bold_name(line)));
        }
        if !self.caveats.is_empty() {
            text.push_str("\nCaveats:\n\n");
            for caveat in &self.caveats {
                text.push_str(&format!("- {caveat}\n"));
            }
        }
        text.push('\n');
        text
    }

    /// The headline section of report.html.
    pub fn to_html(&self) -> String {
        use crate::chart::escape;
        let mut html = String::from("<h2>Headline</h2>\n<ul>\n");
        for line in &self.lines {
            let (name, rest) = line.split_once(": ").unwrap_or((line, ""));
            html.push_str(&format!(
                "<li><strong>{}</strong>: {}</li>\n",
                escape(name),
                escape(rest)
            ));
        }
        html.push_str("</ul>\n");
        if !self.caveats.is_empty() {
            html.push_str("<p>Caveats:</p>\n<ul>\n");
            for caveat in &self.caveats {
                html.push_str(&format!("<li>{}</li>\n", escape(caveat)));
            }
            html.push_str("</ul>\n");
        }
        html
    }
}

fn bold_name(line: &str) -> String {
    match line.split_once(": ") {
        Some((name, rest)) => format!("**{}**: {rest}", super::escape_cell(name)),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gc_grace_margin_reads_in_days() {
        assert_eq!(
            gc_grace_margin(7.3 * DAY_S, 10.0 * DAY_S),
            "7.3 d of 10 d: 2.7 d to spare"
        );
        assert_eq!(gc_grace_margin(1_382_415.13, 864_000.0), "16.0 d of 10 d: 6.0 d over");
        assert_eq!(gc_grace_margin(601.2, 864_000.0), "10 min of 10 d: 10.0 d to spare");
    }

    #[test]
    fn presets_name_their_system() {
        assert_eq!(system_of("reaper"), Some("Cassandra"));
        assert_eq!(system_of("naive"), None);
    }
}
