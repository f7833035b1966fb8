//! Self-contained HTML pages for reports (`report.html` of a run, a sweep or a
//! comparison): charts inline as SVG, tables sortable by a click on a heading, styles
//! and script inline. A page loads nothing from anywhere: it works from a file, offline.
//!
//! Deterministic like the charts: the same report gives the same bytes. This module
//! builds text; it writes nothing.

use crate::chart::escape;

/// A table for a page: headings and rows of cells. A cell's sort key is its number when
/// it has one (`sort`), else its text.
pub struct Table {
    pub headings: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One table cell: the text shown and, for figures, the exact value to sort by.
pub struct Cell {
    pub text: String,
    pub sort: Option<f64>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            sort: None,
        }
    }

    pub fn number(text: impl Into<String>, value: f64) -> Cell {
        Cell {
            text: text.into(),
            sort: value.is_finite().then_some(value),
        }
    }
}

impl Table {
    /// The table as HTML: a sortable `<table>`; figures right-aligned.
    pub fn to_html(&self) -> String {
        let mut out = String::from("<table class=\"sortable\">\n<thead><tr>");
        for heading in &self.headings {
            out.push_str(&format!("<th title=\"click to sort\">{}</th>", escape(heading)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                match cell.sort {
                    Some(v) => out.push_str(&format!(
                        "<td class=\"num\" data-sort=\"{v}\">{}</td>",
                        escape(&cell.text)
                    )),
                    None => out.push_str(&format!("<td>{}</td>", escape(&cell.text))),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

/// A figure: a chart's SVG inline, with its heading and caption.
pub fn figure(title: &str, svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\">\n<h3>{}</h3>\n{}<figcaption>{}</figcaption>\n</figure>\n",
        escape(title),
        svg.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        inline_code(caption)
    )
}

/// Text with `code` spans (backticks) made into `<code>`, everything escaped.
pub fn inline_code(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:2em auto;max-width:1000px;\
color:#141414;line-height:1.45;padding:0 1em}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}\
th,td{border:1px solid #d0d0d0;padding:3px 7px}th{background:#f2f2f2;cursor:pointer;user-select:none}\
th.asc::after{content:' \\25B2'}th.desc::after{content:' \\25BC'}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
figure.chart{margin:1.5em 0}figure.chart svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{font-size:13px;color:#444;margin-top:.4em}code{background:#f4f4f4;padding:0 3px}\
.scroll{overflow-x:auto}";

/// Sorts a table by a clicked heading: numbers by their exact value, text by its text;
/// a second click reverses. No library, nothing fetched.
const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function(table){\
var heads=table.querySelectorAll('th');heads.forEach(function(th,col){th.addEventListener('click',function(){\
var asc=!th.classList.contains('asc');heads.forEach(function(h){h.classList.remove('asc','desc');});\
th.classList.add(asc?'asc':'desc');var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);\
rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col];var p=x.dataset.sort,q=y.dataset.sort;\
var r=(p!==undefined&&q!==undefined)?(parseFloat(p)-parseFloat(q)):x.textContent.localeCompare(y.textContent);\
return asc?r:-r;});rows.forEach(function(r){body.appendChild(r);});});});});";

/// A whole page: `<title>`, inline style and script, and `body` (HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_self_contained_and_escaped() {
        let table = Table {
            headings: vec!["strategy".into(), "p50 <s>".into()],
            rows: vec![vec![Cell::text("a&b"), Cell::number("1.5 s", 1.5)]],
        };
        let html = page("t", &table.to_html());
        assert!(html.contains("<td>a&amp;b</td>"));
        assert!(html.contains("data-sort=\"1.5\""));
        assert!(html.contains("p50 &lt;s&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert_eq!(inline_code("see `x<y`"), "see <code>x&lt;y</code>");
    }
}
