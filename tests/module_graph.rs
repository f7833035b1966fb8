//! The library's modules import one another without a cycle: a module that needs another
//! module's types never sits in a circle with it, so each can be read (and changed)
//! knowing only what it imports. The graph is read from the sources: every
//! `crate::a::b` and `super::x` path in a file (its tests left out) is an edge from the
//! file's module to the longest module that path names. A child using its own ancestors
//! (`super::Type`) is not counted: a parent module is its children's shared vocabulary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module of `src/`, by path, with its file's text.
fn modules() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if path.is_dir() {
                let mut child = prefix.to_vec();
                child.push(name);
                walk(&path, &child, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut module = prefix.to_vec();
                if !["mod", "lib", "main"].contains(&name.as_str()) {
                    module.push(name);
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                out.insert(module, text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path(),
        &[],
        &mut out,
    );
    out
}

/// The paths a source names after `crate::` or `super::`, as (head, segments); a
/// grouped import (`use crate::{a::B, c::{d, e}}`) names each of its paths.
fn paths(text: &str) -> Vec<(&str, Vec<String>)> {
    let mut found = Vec::new();
    for head in ["crate", "super"] {
        let needle = format!("{head}::");
        let mut rest = text;
        while let Some(at) = rest.find(&needle) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + needle.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for path in expand(use_tree(rest)) {
                found.push((head, path));
            }
        }
    }
    found
}

/// The use tree at the start of `text`: a path, possibly ending in a braced group.
fn use_tree(text: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return &text[..i],
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            c if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':') => return &text[..i],
            _ => {}
        }
    }
    text
}

/// Every path a use tree names, as segments: `a::{b, c::d}` gives `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect()];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let inner = &tree[open + 1..tree.len().saturating_sub(1)];
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|item| !item.trim().is_empty())
        .flat_map(|item| {
            let item = item.trim().split(" as ").next().unwrap_or_default();
            expand(item)
                .into_iter()
                .map(|rest| prefix.iter().cloned().chain(rest).collect())
        })
        .collect()
}

/// The module graph: each module's set of modules it imports.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    let resolve = |full: Vec<String>| {
        (0..=full.len())
            .rev()
            .map(|n| full[..n].to_vec())
            .find(|m| modules.contains_key(m))
    };
    modules
        .iter()
        .map(|(module, text)| {
            let mut edges = BTreeSet::new();
            for (head, mut segments) in paths(text) {
                let mut full: Module = if head == "crate" {
                    Vec::new()
                } else {
                    let mut up = 1;
                    while segments.first().is_some_and(|s| s == "super") {
                        segments.remove(0);
                        up += 1;
                    }
                    module[..module.len().saturating_sub(up)].to_vec()
                };
                full.extend(segments);
                if let Some(target) = resolve(full) {
                    let ancestor = target.len() < module.len() && module.starts_with(&target);
                    if target != *module && !ancestor {
                        edges.insert(target);
                    }
                }
            }
            (module.clone(), edges)
        })
        .collect()
}

/// A cycle of `graph` as module names, if there is one (depth-first search).
fn find_cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<String>> {
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<Module, bool>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<String>> {
        state.insert(node.clone(), false);
        stack.push(node.clone());
        for next in &graph[node] {
            match state.get(next) {
                Some(false) => {
                    let from = stack.iter().position(|m| m == next).expect("on the stack");
                    return Some(stack[from..].iter().chain([next]).map(|m| m.join("::")).collect());
                }
                Some(true) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.clone(), true);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node)
            && let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn modules_import_one_another_without_a_cycle() {
    let graph = graph();
    assert!(graph.len() > 80, "found only {} modules", graph.len());
    assert!(
        graph[&vec!["world".to_string(), "repairs".to_string()]]
            .contains(&vec!["protocol".to_string(), "reconciler".to_string()]),
        "the graph reader misses an import it should see"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules import one another in a circle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle() {
    let m = |s: &str| vec![s.to_string()];
    let graph: BTreeMap<Module, BTreeSet<Module>> = [
        (m("a"), [m("b")].into()),
        (m("b"), [m("c")].into()),
        (m("c"), [m("a")].into()),
        (m("d"), BTreeSet::new()),
    ]
    .into();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a", "b", "c", "a"].into_iter().map(String::from).collect())
    );
}
