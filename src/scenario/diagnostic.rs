//! Located errors in scenario files: the file, line and column, what was expected, and
//! a hint, rendered with the offending source line the way compilers do.

use std::fmt;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Dotted path of the offending field (e.g. `network.loss`, `strategy[1].leaves`).
    pub path: String,
    /// 1-based line and column of the offending text (0 when it cannot be located).
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The source line, for display.
    source_line: String,
    /// Length of the offending text on that line, for the caret underline.
    width: usize,
    /// Where the problem was written when it is not in the file (e.g. the command line).
    origin: Option<String>,
}

impl Diagnostic {
    /// Where the problem was written when it is not in the file (`"the command line"`
    /// for a `--set`), or `None`.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// A problem that no line of the file shows, such as a `--set` override: `origin`
    /// says where it was written.
    pub fn elsewhere(path: &str, origin: &str, message: String, hint: Option<String>) -> Diagnostic {
        Diagnostic {
            path: path.to_string(),
            line: 0,
            column: 0,
            message,
            hint,
            source_line: String::new(),
            width: 0,
            origin: Some(origin.to_string()),
        }
    }
}

impl Diagnostic {
    /// The same diagnostic with another hint.
    pub fn with_hint(self, hint: String) -> Diagnostic {
        Diagnostic {
            hint: Some(hint),
            ..self
        }
    }
}

/// Everything wrong with one scenario file (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "error: {}", d.message)?;
            match &d.origin {
                Some(origin) => writeln!(f, "  --> {origin}")?,
                None => writeln!(f, "  --> {}:{}:{}", self.file, d.line, d.column)?,
            }
            if d.line > 0 {
                let gutter = d.line.to_string().len();
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{} | {}", d.line, d.source_line)?;
                let pad = d.column.saturating_sub(1);
                writeln!(f, "{:gutter$} | {:pad$}{}", "", "", "^".repeat(d.width.max(1)))?;
            }
            if let Some(hint) = &d.hint {
                writeln!(f, "  = hint: {hint}")?;
            }
        }
        let n = self.diagnostics.len();
        write!(f, "{} error{} in {}", n, if n == 1 { "" } else { "s" }, self.file)
    }
}

impl std::error::Error for ScenarioError {}

/// Turns byte spans and field paths into line/column diagnostics for one source text.
pub struct Locator<'a> {
    source: &'a str,
    tree: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    pub fn new(source: &'a str) -> Locator<'a> {
        Locator {
            source,
            tree: DeTable::parse(source).ok(),
        }
    }

    /// A diagnostic at byte `span` of the source.
    pub fn at_span(
        &self,
        path: &str,
        span: Option<std::ops::Range<usize>>,
        message: String,
        hint: Option<String>,
    ) -> Diagnostic {
        let (line, column, source_line, width) = match span {
            Some(span) => {
                // Spans come from the TOML parser; snapping them to character boundaries
                // keeps a malformed one from ever panicking here.
                let start = self.floor_char_boundary(span.start);
                let line_start = self.source[..start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = self.source[start..].find('\n').map_or(self.source.len(), |i| start + i);
                let line = self.source[..start].matches('\n').count() + 1;
                let column = self.source[line_start..start].chars().count() + 1;
                let end = self.floor_char_boundary(span.end.clamp(start, line_end));
                let width = self.source[start..end].chars().count();
                (line, column, self.source[line_start..line_end].to_string(), width)
            }
            None => (0, 0, String::new(), 0),
        };
        Diagnostic {
            path: path.to_string(),
            line,
            column,
            message,
            hint,
            source_line,
            width,
            origin: None,
        }
    }

    /// A diagnostic at the value of the field `path` (dotted; array items as `[i]`). A
    /// missing field is reported at its closest present parent, or at the end of the
    /// file (where it could be added) when no part of the path is present.
    pub fn at_path(&self, path: &str, message: String, hint: Option<String>) -> Diagnostic {
        let span = self.span_of(path).unwrap_or_else(|| self.end_of_file());
        self.at_span(path, Some(span), message, hint)
    }

    /// An empty span at the start of the file's last non-blank line.
    pub fn end_of_file(&self) -> std::ops::Range<usize> {
        let text = self.source.trim_end();
        let start = text.rfind('\n').map_or(0, |i| i + 1);
        start..start
    }

    /// The dotted path (`strategy[1].leaves`) of the deepest field whose key or value
    /// spans byte `offset` of the source: how an error found in one text is located in
    /// another holding the same fields (a merged preset, in the user's file).
    pub fn path_at(&self, offset: usize) -> String {
        self.tree
            .as_ref()
            .and_then(|tree| field_at(tree.get_ref(), offset))
            .unwrap_or_default()
    }

    fn floor_char_boundary(&self, index: usize) -> usize {
        let mut index = index.min(self.source.len());
        while !self.source.is_char_boundary(index) {
            index -= 1;
        }
        index
    }

    /// A diagnostic at the key of the field `path` (an unknown field: its name is the
    /// mistake), else as [`Locator::at_path`].
    pub fn at_key(&self, path: &str, message: String, hint: Option<String>) -> Diagnostic {
        match self.spans_of(path).1 {
            Some(span) => self.at_span(path, Some(span), message, hint),
            None => self.at_path(path, message, hint),
        }
    }

    fn span_of(&self, path: &str) -> Option<std::ops::Range<usize>> {
        self.spans_of(path).0
    }

    /// The span of the value of `path` (or of its closest present parent), and of its
    /// own key when the whole path is present.
    fn spans_of(&self, path: &str) -> (Option<std::ops::Range<usize>>, Option<std::ops::Range<usize>>) {
        let Some(tree) = self.tree.as_ref() else {
            return (None, None);
        };
        let mut span = None;
        let mut key_span = None;
        let segments = path.split('.').count();
        let mut table = Some(tree.get_ref());
        for (depth, segment) in path.split('.').enumerate() {
            let (name, index) = match segment.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (segment, None),
            };
            let Some((key, item)) = table.and_then(|t| t.iter().find(|(key, _)| key.get_ref().as_ref() == name)) else {
                break;
            };
            span = Some(item.span());
            if depth + 1 == segments && index.is_none() {
                key_span = Some(key.span());
            }
            let mut value = Some(item.get_ref());
            if let (Some(i), Some(DeValue::Array(items))) = (index, value) {
                let Some(element) = items.get(i) else { break };
                span = Some(element.span());
                value = Some(element.get_ref());
            }
            table = match value {
                Some(DeValue::Table(t)) => Some(t),
                _ => None,
            };
        }
        (span, key_span)
    }
}

/// The closest of `candidates` to `word`, if it is plausibly a misspelling.
pub fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, c)| d <= (c.len().max(word.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The path of the deepest field of `table` whose key or value spans `offset`. A table
/// written as a `[header]` spans only its header, so tables are searched by their fields
/// whatever their own span.
fn field_at(table: &DeTable<'_>, offset: usize) -> Option<String> {
    table.iter().find_map(|(key, item)| {
        let name = key.get_ref();
        let here = item.span().contains(&offset) || key.span().contains(&offset);
        match item.get_ref() {
            DeValue::Table(inner) => match field_at(inner, offset) {
                Some(rest) => Some(format!("{name}.{rest}")),
                None => here.then(|| name.to_string()),
            },
            DeValue::Array(items) => {
                let element = items
                    .iter()
                    .enumerate()
                    .find_map(|(i, element)| match element.get_ref() {
                        DeValue::Table(inner) => match field_at(inner, offset) {
                            Some(rest) => Some(format!("{name}[{i}].{rest}")),
                            None => element.span().contains(&offset).then(|| format!("{name}[{i}]")),
                        },
                        _ => element.span().contains(&offset).then(|| format!("{name}[{i}]")),
                    });
                element.or_else(|| here.then(|| name.to_string()))
            }
            _ => here.then(|| name.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_and_array_paths() {
        let source = "name = \"x\"\n[network]\nloss = 1.5\n[[strategy]]\nleaves = 3\n[[strategy]]\nleaves = 5\n";
        let locator = Locator::new(source);
        let d = locator.at_path("network.loss", "bad".into(), None);
        assert_eq!((d.line, d.column, d.width), (3, 8, 3));
        let d = locator.at_path("strategy[1].leaves", "bad".into(), None);
        assert_eq!((d.line, d.column), (7, 10));
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(did_you_mean("lose", ["loss", "latency"]), Some("loss"));
        assert_eq!(did_you_mean("zzzzzz", ["loss", "latency"]), None);
    }
}
