//! `aesim check`: validates a scenario without running it, and prints what a run would
//! need (memory by part, events by source), as text or as JSON.

use super::{EXIT_BAD_INPUT, EXIT_OK, LoadError, default_jobs, event_check, format_bytes, load, load_document};
use aesim::resources;
use aesim::scenario::Scenario;
use std::path::{Path, PathBuf};

/// The text form: the verdict, the estimates, and a warning when `aesim run` would refuse.
pub(super) fn check(path: PathBuf, set: &[String], quiet: bool) -> u8 {
    let document = match load(&path, set, None) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if quiet {
        return EXIT_OK;
    }
    let s = &document.base;
    print!(
        "{}: ok ({} strategies, {} keys, {} nodes",
        path.display(),
        s.strategies.len(),
        s.cluster.key_count,
        s.cluster.nodes
    );
    match &document.sweep {
        Some(sweep) => println!(
            "; sweep of {} points x {} replications = {} runs)",
            sweep.points(),
            sweep.replications,
            sweep.runs()
        ),
        None => {
            let memory = resources::estimate(s, default_jobs());
            println!("; about {} of memory)", format_bytes(memory.total_bytes));
            println!("  memory by part: {}", memory.explain());
            let events = resources::estimate_events(s);
            println!(
                "  events: at most about {:.1e} ({})",
                events.total as f64,
                events.explain()
            );
            if let Err(message) = event_check(&path, s) {
                let reason = message.trim_start_matches("error: ");
                println!("  warning: `aesim run` refuses this without --allow-long-run: {reason}");
            }
        }
    }
    EXIT_OK
}

/// The JSON form (`--format json`): the same verdict and estimates, or every located error,
/// with `"schema_version"` as every JSON document aesim prints. Exit 0 when the scenario is
/// valid, 2 when it is not.
pub(super) fn check_json(path: &Path, set: &[String]) -> u8 {
    let file = path.display().to_string();
    let (doc, code) = match load_document(path, set, None) {
        Ok(document) => {
            let s = &document.base;
            let sweep = document.sweep.as_ref().map(|sweep| {
                serde_json::json!({
                    "points": sweep.points(),
                    "replications": sweep.replications,
                    "runs": sweep.runs(),
                })
            });
            let mut doc = serde_json::json!({
                "schema_version": aesim::JSON_SCHEMA_VERSION,
                "file": file,
                "ok": true,
                "strategies": s.strategies.iter().map(|st| st.name.clone()).collect::<Vec<_>>(),
                "keys": s.cluster.key_count,
                "nodes": s.cluster.nodes,
                "sweep": sweep,
            });
            if document.sweep.is_none() {
                doc["memory"] = memory_json(s);
                doc["events"] = events_json(path, s);
            }
            (doc, EXIT_OK)
        }
        Err(LoadError::Usage(message)) => (
            serde_json::json!({
                "schema_version": aesim::JSON_SCHEMA_VERSION,
                "file": file,
                "ok": false,
                "errors": [{ "path": null, "line": null, "column": null, "message": message, "hint": null, "origin": "the command line" }],
            }),
            EXIT_BAD_INPUT,
        ),
        Err(LoadError::Scenario(error)) => {
            let errors: Vec<_> = error
                .diagnostics
                .iter()
                .map(|d| {
                    let located = d.line > 0;
                    serde_json::json!({
                        "path": d.path,
                        "line": located.then_some(d.line),
                        "column": located.then_some(d.column),
                        "message": d.message,
                        "hint": d.hint,
                        "origin": d.origin(),
                    })
                })
                .collect();
            (
                serde_json::json!({
                    "schema_version": aesim::JSON_SCHEMA_VERSION,
                    "file": error.file,
                    "ok": false,
                    "errors": errors,
                }),
                EXIT_BAD_INPUT,
            )
        }
    };
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON of plain values"));
    code
}

/// The memory estimate of one run at the default `--jobs`, by part.
fn memory_json(s: &Scenario) -> serde_json::Value {
    let memory = resources::estimate(s, default_jobs());
    let parts: Vec<_> = memory
        .parts()
        .into_iter()
        .map(|(name, bytes)| serde_json::json!({ "part": name, "bytes": bytes }))
        .collect();
    serde_json::json!({
        "total_bytes": memory.total_bytes,
        "worlds_at_once": memory.worlds_at_once,
        "parts": parts,
    })
}

/// The event estimate by source, the limit, and whether `aesim run` refuses it.
fn events_json(path: &Path, s: &Scenario) -> serde_json::Value {
    let events = resources::estimate_events(s);
    let parts: Vec<_> = events
        .parts
        .iter()
        .map(|(name, n)| serde_json::json!({ "source": name, "events": n }))
        .collect();
    serde_json::json!({
        "total": events.total,
        "limit": resources::EVENT_LIMIT,
        "refused_without_allow_long_run": event_check(path, s).is_err(),
        "parts": parts,
    })
}
