//! Charts and reports: every chart is well-formed SVG holding the series it claims, the
//! report shows the run's real figures, and `aesim report` re-renders exactly what
//! `aesim run` wrote.

mod common;

use aesim::report::charts::{SERIES_STROKE_WIDTH, series_color_hex};
use aesim::report::{self, CHARTS_DIR, REPORT_FILE};
use aesim::run::run_scenario;
use common::{aesim, temp_dir};
use std::path::{Path, PathBuf};

/// The lossy scenario with a second, finer strategy: two lines per chart.
fn two_strategies() -> String {
    format!(
        "{}\n[[strategy]]\nkind = \"monolithic\"\nname = \"fine\"\nleaves = 4096\ninterval = \"15s\"\n",
        common::LOSSY
    )
}

fn rendered(name: &str) -> PathBuf {
    let scenario = common::scenario(&two_strategies());
    let results = run_scenario(&scenario, 2).expect("invariants hold");
    let dir = temp_dir(name);
    aesim::output::write_run(&dir, &scenario, &results).unwrap();
    report::render(&dir).unwrap();
    dir
}

fn read_svg(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(CHARTS_DIR).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The data lines of a chart: (stroke colour, number of points) of every polyline drawn
/// at the series' stroke width. Parsing also proves the SVG well-formed.
fn data_lines(svg: &str) -> Vec<(String, usize)> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let width = SERIES_STROKE_WIDTH.to_string();
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some(width.as_str()))
        .map(|n| {
            let points = n.attribute("points").unwrap_or("").split_whitespace().count();
            (n.attribute("stroke").unwrap_or("").to_string(), points)
        })
        .collect()
}

/// Every `<text>` of a chart.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// Filled rectangles of a chart in `color` (`#RRGGBB`).
fn rects_filled(svg: &str, color: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(color))
        .count()
}

/// Rows of `file` (a CSV of the results folder) for `strategy`.
/// Index of `column` in the header of `file`.
fn column_of(dir: &Path, file: &str, column: &str) -> usize {
    let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
    reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .expect("column present")
}

fn rows_of(dir: &Path, file: &str, strategy: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .filter(|r| r[0] == strategy)
        .collect()
}

#[test]
fn every_chart_is_well_formed_svg_holding_its_series() {
    let dir = rendered("series");
    let strategies = ["mono", "fine"];
    let samples = rows_of(&dir, "timeseries.csv", "mono").len();
    // 3 minutes sampled every 10 s, both ends included.
    assert_eq!(samples, 19);

    // Divergent keys: one line per strategy, in its colour, one point per sample.
    let svg = read_svg(&dir, "divergent-keys.svg");
    let lines = data_lines(&svg);
    assert_eq!(
        lines,
        vec![(series_color_hex(0), samples), (series_color_hex(1), samples)]
    );
    let labels = texts(&svg);
    for name in strategies {
        assert!(labels.iter().any(|t| t == name), "legend lacks {name}: {labels:?}");
    }

    // Latency CDF: one line per strategy, one point per quantile of latency.csv.
    let svg = read_svg(&dir, "repair-latency.svg");
    let quantiles = rows_of(&dir, "latency.csv", "mono").len();
    assert_eq!(quantiles, aesim::output::LATENCY_QUANTILES.len());
    assert_eq!(
        data_lines(&svg),
        vec![(series_color_hex(0), quantiles), (series_color_hex(1), quantiles)]
    );
    let repaired = &rows_of(&dir, "summary.csv", "mono")[0][column_of(&dir, "summary.csv", "keys_repaired")];
    assert!(
        texts(&svg).contains(&format!("mono ({repaired} repairs)")),
        "{:?}",
        texts(&svg)
    );

    // Cost: per strategy one hashes bar, one hash-bytes bar, streamed and needed.
    let svg = read_svg(&dir, "cost.svg");
    assert!(data_lines(&svg).is_empty());
    for i in 0..strategies.len() {
        let color = series_color_hex(i);
        assert_eq!(rects_filled(&svg, &color), 3, "strategy {i}: hashes, bytes, needed");
        let light = aesim::chart::series_color(i).lighten(0.4).hex();
        assert_eq!(rects_filled(&svg, &light), 1, "strategy {i}: streamed, drawn light");
    }
    let streamed = &rows_of(&dir, "summary.csv", "mono")[0][column_of(&dir, "summary.csv", "records_streamed")];
    let shown = aesim::chart::human(streamed.parse().unwrap(), aesim::chart::Unit::Count);
    assert!(
        texts(&svg).contains(&shown),
        "streamed {streamed} not labelled as {shown}"
    );

    // Staleness: one panel per strategy, with heat cells.
    let svg = read_svg(&dir, "staleness.svg");
    let labels = texts(&svg);
    for name in strategies {
        assert_eq!(labels.iter().filter(|t| *t == name).count(), 1, "{name} panel");
    }
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let heat_cells = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill").is_some_and(|f| f != "#FFFFFF"))
        .count();
    assert!(heat_cells > 10, "only {heat_cells} heat cells");

    // Workers: cores busy and sessions in flight, one line per strategy each.
    let svg = read_svg(&dir, "workers.svg");
    let lines = data_lines(&svg);
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|(_, points)| *points == samples));

    // No chart carries an `opacity` attribute (ImageMagick 6 fills such polylines black),
    // and the writes-stop marker appears only when the scenario stops writes.
    for file in [
        "divergent-keys.svg",
        "repair-latency.svg",
        "cost.svg",
        "staleness.svg",
        "workers.svg",
    ] {
        assert!(!read_svg(&dir, file).contains("opacity"), "{file} uses opacity");
    }

    // No write-path columns: no live-tree chart, and the report says why.
    assert!(!dir.join(CHARTS_DIR).join("live-vs-scheduled.svg").exists());
    let report = std::fs::read_to_string(dir.join(REPORT_FILE)).unwrap();
    assert!(report.contains("live-tree vs scheduled-rebuild chart is left out"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_report_shows_the_runs_figures_and_every_chart() {
    let dir = rendered("figures");
    let report = std::fs::read_to_string(dir.join(REPORT_FILE)).unwrap();
    assert!(report.starts_with("# lossy\n"), "{report}");
    assert!(report.contains("Seed 7."), "{report}");
    for strategy in ["mono", "fine"] {
        let summary = &rows_of(&dir, "summary.csv", strategy)[0];
        let cell = |column: &str| summary[column_of(&dir, "summary.csv", column)].clone();
        // repaired, unrepaired, p50 cut to milliseconds, hashes.
        let p50 = cell("repair_p50_s");
        let p50 = &p50[..p50.len() - 3];
        let row = format!(
            "| {strategy} | {} | {} | {p50} |",
            cell("keys_repaired"),
            cell("divergent_at_end")
        );
        assert!(report.contains(&row), "no row {row} in\n{report}");
        assert!(
            report.contains(&format!(" {} |", cell("hashes_sent"))),
            "hashes of {strategy}"
        );
    }
    for chart in [
        "divergent-keys",
        "repair-latency",
        "cost",
        "staleness",
        "workers",
        "repair-paths",
    ] {
        assert!(report.contains(&format!("](charts/{chart}.svg)")), "{chart} missing");
    }
    // The HTML page: self-contained (every chart inline, nothing loaded from anywhere).
    let html = std::fs::read_to_string(dir.join(report::HTML_FILE)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg ").count(), 6, "every chart inline");
    for forbidden in ["<img", "<link", " src=", "@import", "url("] {
        assert!(
            !html.contains(forbidden),
            "report.html refers outside itself: {forbidden}"
        );
    }
    assert!(html.contains("class=\"sortable\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn faults_get_their_own_table_only_when_the_scenario_models_them() {
    let plain = rendered("no-faults");
    let report = std::fs::read_to_string(plain.join(REPORT_FILE)).unwrap();
    assert!(!report.contains("## Faults"), "{report}");
    assert!(!report.contains("faults.csv"), "{report}");
    std::fs::remove_dir_all(&plain).unwrap();

    let scenario = common::lossless_with(
        "[faults]\nduplicate = 0.1\n[[faults.crash]]\nnode = 1\nat = \"20s\"\nrestart = \"40s\"\n",
    );
    let results = run_scenario(&scenario, 1).expect("invariants hold");
    let dir = temp_dir("faults");
    aesim::output::write_run(&dir, &scenario, &results).unwrap();
    report::render(&dir).unwrap();
    let report = std::fs::read_to_string(dir.join(REPORT_FILE)).unwrap();
    let faults = &rows_of(&dir, "faults.csv", "mono")[0];
    let cell = |column: &str| faults[column_of(&dir, "faults.csv", column)].clone();
    assert_eq!(cell("crashes"), "1");
    assert_ne!(cell("lost_to_crash"), "0", "the crash lost messages");
    let row = format!(
        "| mono | 1 | {} | {} | {} |",
        cell("writes_redirected"),
        cell("lost_to_crash"),
        cell("repaired_after_crash")
    );
    assert!(report.contains("## Faults"), "{report}");
    assert!(
        report.contains("| strategy | crashes | writes redirected | lost to crash |"),
        "{report}"
    );
    assert!(report.contains(&row), "no row {row} in\n{report}");
    assert!(
        report.contains(&format!(" {} |", cell("duplicated_messages"))),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_live_tree_chart_appears_with_write_path_columns() {
    let dir = rendered("live");
    // Give the second strategy a live tree's write-path cost (both ran scheduled trees).
    let path = dir.join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (ops, secs) = (
        column_of(&dir, "summary.csv", "write_path_hash_ops"),
        column_of(&dir, "summary.csv", "write_path_hash_s"),
    );
    let mut lines: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    lines[2][ops] = "36000".into();
    lines[2][secs] = "1.250000".into();
    let edited: Vec<String> = lines.iter().map(|l| l.join(",")).collect();
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();
    report::render(&dir).unwrap();

    let svg = read_svg(&dir, "live-vs-scheduled.svg");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    for i in 0..2 {
        // Filled markers (any shape) in the strategy's colour: its p99 point and its
        // legend entry; the p50 point is hollow.
        let color = series_color_hex(i);
        let filled = doc
            .descendants()
            .filter(|n| {
                ["circle", "rect", "polygon"].iter().any(|t| n.has_tag_name(*t))
                    && n.attribute("fill") == Some(color.as_str())
                    && n.attribute("stroke") == Some(color.as_str())
            })
            .count();
        assert_eq!(filled, 2, "one p99 point and one legend marker for strategy {i}");
    }
    assert!(texts(&svg).contains(&"fine".to_string()));
    let report = std::fs::read_to_string(dir.join(REPORT_FILE)).unwrap();
    assert!(report.contains("](charts/live-vs-scheduled.svg)"));
    assert!(report.contains("| write-path hash s |"), "table gains the column");
    assert!(report.contains(" 1.250 |"));

    // With no write-path cost again, the chart is removed rather than left stale.
    std::fs::write(&path, text).unwrap();
    report::render(&dir).unwrap();
    assert!(!dir.join(CHARTS_DIR).join("live-vs-scheduled.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_results_are_errors_naming_the_file_and_line() {
    let dir = rendered("bad");
    let path = dir.join("timeseries.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen(",0,", ",zero,", 1);
    std::fs::write(&path, broken).unwrap();
    let error = report::render(&dir).unwrap_err();
    assert!(error.bad_input);
    assert_eq!(error.path, path);
    assert!(error.message.starts_with("line 2, column `"), "{error}");
    assert!(error.message.contains("got \"zero\""), "{error}");

    // Only headers: nothing to draw, but no panic either: the run had no strategy.
    for file in ["summary.csv", "timeseries.csv", "latency.csv", "staleness.csv"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        std::fs::write(dir.join(file), text.lines().next().unwrap().to_string() + "\n").unwrap();
    }
    report::render(&dir).expect("an empty run still renders");
    let report = std::fs::read_to_string(dir.join(REPORT_FILE)).unwrap();
    assert!(report.contains("| strategy |"), "{report}");

    std::fs::remove_file(dir.join("summary.csv")).unwrap();
    let error = report::render(&dir).unwrap_err();
    assert_eq!(error.path, dir.join("summary.csv"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every file of the report, relative name and bytes, in name order.
fn report_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        (REPORT_FILE.to_string(), std::fs::read(dir.join(REPORT_FILE)).unwrap()),
        (
            report::HTML_FILE.to_string(),
            std::fs::read(dir.join(report::HTML_FILE)).unwrap(),
        ),
    ];
    let mut charts: Vec<_> = std::fs::read_dir(dir.join(CHARTS_DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    charts.sort();
    for chart in charts {
        let name = chart.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, std::fs::read(&chart).unwrap()));
    }
    files
}

#[test]
fn aesim_report_reproduces_what_aesim_run_wrote() {
    let dir = temp_dir("cli");
    let scenario = dir.join("lossy.toml");
    std::fs::write(&scenario, two_strategies()).unwrap();
    let out = dir.join("out");
    let run = aesim(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let from_run = report_files(&out);
    assert_eq!(from_run.len(), 8, "report.md, report.html and six charts");

    std::fs::remove_file(out.join(REPORT_FILE)).unwrap();
    std::fs::remove_file(out.join(report::HTML_FILE)).unwrap();
    std::fs::remove_dir_all(out.join(CHARTS_DIR)).unwrap();
    let report = aesim(&["report", out.to_str().unwrap()]);
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(
        String::from_utf8_lossy(&report.stderr).contains("wrote 8 files"),
        "status on stderr"
    );
    assert_eq!(
        report_files(&out),
        from_run,
        "re-rendered report differs from the run's"
    );

    // A folder without results is bad input: exit 2, naming the missing file.
    let missing = aesim(&["report", dir.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("summary.csv"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_column_missing_from_summary_csv_is_named() {
    let dir = rendered("missing-column");
    let path = dir.join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let col = column_of(&dir, "summary.csv", "repair_p50_s");
    let without: Vec<String> = text
        .lines()
        .map(|line| {
            let mut cells: Vec<&str> = line.split(',').collect();
            cells.remove(col);
            cells.join(",")
        })
        .collect();
    std::fs::write(&path, without.join("\n") + "\n").unwrap();
    let error = report::render(&dir).unwrap_err();
    assert!(error.bad_input);
    assert_eq!(error.path, path);
    assert!(error.message.starts_with("no column `repair_p50_s`"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_summary_csv_is_named_not_the_file_after_it() {
    let dir = rendered("truncated-summary");
    let path = dir.join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    // Cut after the first strategy's row: a clean line boundary, so the CSV still parses.
    let cut: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&path, cut.join("\n") + "\n").unwrap();
    let error = report::render(&dir).unwrap_err();
    assert_eq!(error.path, path, "{error}");
    assert!(error.message.contains("no row for strategy \"fine\""), "{error}");
    assert!(error.message.contains("truncated"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 27: raw HTML in a strategy's name or the scenario's description reached
/// report.md unchanged, where a Markdown renderer passes it into a page. It is now
/// shown as text there (entities), and stays escaped in report.html and the comparison.
#[test]
fn html_in_names_and_descriptions_is_shown_as_text_not_passed_through() {
    let dir = temp_dir("html-names");
    let text = "name = \"html\"\nseed = 1\ndescription = \"it <i>is</i> <img src=x onerror=alert(2)>\"\n\
                duration = \"4s\"\n[cluster]\nkeys = 500\n[workload]\nwrites_per_s = 100.0\n\
                [[strategy]]\nkind = \"monolithic\"\nname = \"<script>alert(1)</script> a|b\"\nleaves = 16\n\
                interval = \"1s\"\n[[strategy]]\nkind = \"segmented\"\nname = \"<b>seg</b>\"\nsegments = 4\nleaves = 16\n";
    let path = dir.join("html.toml");
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    let run = aesim(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let markdown = std::fs::read_to_string(out.join(REPORT_FILE)).unwrap();
    let compare = aesim(&["compare", out.to_str().unwrap(), out.to_str().unwrap()]);
    let compared = String::from_utf8_lossy(&compare.stdout).into_owned();
    assert!(compared.contains("&lt;b&gt;seg&lt;/b&gt;"), "{compared}");
    for (what, page) in [("report.md", &markdown), ("compare", &compared)] {
        for raw in ["<script", "<img", "<b>", "<i>"] {
            assert!(!page.contains(raw), "{what} passes {raw} through:\n{page}");
        }
    }
    assert!(
        markdown.contains("&lt;script&gt;alert(1)&lt;/script&gt; a\\|b"),
        "{markdown}"
    );
    assert!(
        markdown.contains("it &lt;i&gt;is&lt;/i&gt; &lt;img src=x onerror=alert(2)&gt;"),
        "{markdown}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for raw in ["<script>alert", "<img src=x", "<b>seg"] {
        assert!(!html.contains(raw), "report.html passes {raw} through");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
