//! The scenario reference cannot drift from the scenario types: every table of the file
//! is probed with an unknown key, and the keys serde says it expected must be exactly
//! the keys `aesim::scenario::reference` documents for it; the committed page
//! `docs/scenario-reference.md` must be the generated one.

use aesim::scenario::Scenario;
use aesim::scenario::reference::{self, TABLES};
use std::collections::BTreeSet;

const BASE: &str =
    "name = \"probe\"\nseed = 1\nduration = \"1min\"\n[cluster]\nkeys = 1000\n[workload]\nwrites_per_s = 1.0\n";
const PROBE: &str = "zzz_probe = 1";

/// A scenario text whose only error is `PROBE` in the table `table` of the reference.
fn probe_text(table: &str) -> String {
    let strategy = |body: &str| format!("{BASE}[[strategy]]\n{body}\n{PROBE}\n");
    let segmented = "kind = \"segmented\"\nsegments = 4\nleaves = 16";
    match table {
        "(top level)" => format!("{PROBE}\n{BASE}"),
        "[cluster]" => BASE.replace("[cluster]\n", &format!("[cluster]\n{PROBE}\n")),
        "[workload]" => BASE.replace("[workload]\n", &format!("[workload]\n{PROBE}\n")),
        "[network]" => format!("{BASE}[network]\n{PROBE}\n"),
        "network.latency kind = \"constant\"" => {
            format!("{BASE}[network]\nlatency = {{ kind = \"constant\", value = \"1ms\", {PROBE} }}\n")
        }
        "network.latency kind = \"uniform\"" => {
            format!("{BASE}[network]\nlatency = {{ kind = \"uniform\", min = \"1ms\", max = \"2ms\", {PROBE} }}\n")
        }
        "network.latency kind = \"exponential\"" => {
            format!("{BASE}[network]\nlatency = {{ kind = \"exponential\", mean = \"1ms\", {PROBE} }}\n")
        }
        "workload.keys kind = \"zipf\"" => BASE.replace(
            "[workload]\n",
            &format!("[workload]\nkeys = {{ kind = \"zipf\", exponent = 1.0, {PROBE} }}\n"),
        ),
        "workload.keys kind = \"hotspot\"" => BASE.replace(
            "[workload]\n",
            &format!(
                "[workload]\nkeys = {{ kind = \"hotspot\", key_fraction = 0.1, write_fraction = 0.9, {PROBE} }}\n"
            ),
        ),
        "[[strategy]] kind = \"monolithic\"" => strategy("kind = \"monolithic\"\nleaves = 16\ninterval = \"1s\""),
        "[[strategy]] kind = \"segmented\"" => strategy(segmented),
        "[[strategy]] kind = \"riak_aae\"" => strategy("kind = \"riak_aae\""),
        "strategy.misalignment kind = \"offset\"" => {
            format!("{BASE}[[strategy]]\n{segmented}\nmisalignment = {{ kind = \"offset\", keys = 1, {PROBE} }}\n")
        }
        "strategy.misalignment kind = \"segments\"" => format!(
            "{BASE}[[strategy]]\n{segmented}\nmisalignment = {{ kind = \"segments\", peer_segments = 5, {PROBE} }}\n"
        ),
        "[faults]" => format!("{BASE}[faults]\n{PROBE}\n"),
        "[[faults.crash]]" => format!("{BASE}[[faults.crash]]\nnode = 0\nat = \"1s\"\nrestart = \"2s\"\n{PROBE}\n"),
        "[[faults.partition]]" => {
            format!("{BASE}[[faults.partition]]\nstart = \"1s\"\nend = \"2s\"\nisolate = [1]\n{PROBE}\n")
        }
        "[consistency]" => format!("{BASE}[consistency]\n{PROBE}\n"),
        "[hints]" => format!("{BASE}[hints]\n{PROBE}\n"),
        "[reads]" => format!("{BASE}[reads]\nreads_per_s = 1.0\n{PROBE}\n"),
        "[deletes]" => format!("{BASE}[deletes]\nfraction = 0.1\n{PROBE}\n"),
        other => panic!("no probe for table {other}: add one here"),
    }
}

/// The keys serde lists after "expected" in the unknown-field error.
fn expected_keys(error: &str) -> BTreeSet<String> {
    let line = error
        .lines()
        .find(|l| l.contains("unknown field `zzz_probe`"))
        .unwrap_or_else(|| panic!("no unknown-field error in:\n{error}"));
    let (_, expected) = line
        .split_once("expected")
        .unwrap_or_else(|| panic!("no expected list: {line}"));
    expected.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn every_table_documents_exactly_the_keys_the_file_types_accept() {
    let keys = reference::keys();
    for table in TABLES {
        let text = probe_text(table);
        let error = match Scenario::parse(&text, "probe.toml") {
            Ok(_) => panic!("{table}: the probe key was accepted:\n{text}"),
            Err(e) => e.to_string(),
        };
        let accepted = expected_keys(&error);
        let documented: BTreeSet<String> = keys
            .iter()
            .filter(|k| k.table == *table)
            .map(|k| k.key.to_string())
            .collect();
        let missing: Vec<_> = accepted.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&accepted).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{table}: undocumented keys {missing:?}, documented keys the file does not accept {extra:?}"
        );
    }
}

#[test]
fn the_committed_page_is_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenario-reference.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == reference::markdown(),
        "docs/scenario-reference.md is stale: regenerate it with `aesim reference > docs/scenario-reference.md`"
    );
}

#[test]
fn documented_defaults_are_the_checkers() {
    let text = format!("{BASE}[[strategy]]\nkind = \"monolithic\"\nleaves = 16\ninterval = \"1s\"\n");
    let scenario = Scenario::parse(&text, "probe.toml").unwrap_or_else(|e| panic!("{e}"));
    let keys = reference::keys();
    let default_of = |table: &str, key: &str| {
        keys.iter()
            .find(|k| k.table == table && k.key == key)
            .map(|k| k.default.clone())
            .unwrap()
    };
    assert_eq!(default_of("[cluster]", "nodes"), scenario.cluster.nodes.to_string());
    assert_eq!(default_of("[cluster]", "cores"), scenario.cluster.cores.to_string());
    assert_eq!(
        default_of("[cluster]", "record_bytes"),
        scenario.cluster.record_bytes.to_string()
    );
    assert_eq!(default_of("[deletes]", "gc_grace"), "\"10d\"");
    assert_eq!(default_of("[hints]", "window"), "\"3h\"");
}
