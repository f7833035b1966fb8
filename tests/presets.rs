//! Presets: every registered preset is a valid strategy on its own with every key
//! cited; a `[[strategy]]` table's own keys win over its preset's; errors stay in the
//! user's file; an unknown preset names the known ones; `--set` and sweeps see merged
//! tables.

use aesim::protocol::registry::ReconcilerChoice;
use aesim::scenario::presets::{PRESETS, preset_table};
use aesim::scenario::{Override, Scenario};
use aesim::strategy::StrategyKind;

const HEAD: &str = r#"name = "presets"
seed = 1
duration = "1min"
[cluster]
keys = 100_000
[workload]
writes_per_s = 10.0
"#;

fn parse(strategies: &str) -> Result<Scenario, String> {
    Scenario::parse(&format!("{HEAD}{strategies}"), "presets.toml").map_err(|e| e.to_string())
}

#[test]
fn every_preset_is_a_valid_strategy_named_after_it() {
    assert!(PRESETS.len() >= 4);
    for (name, _) in PRESETS {
        let scenario = parse(&format!("[[strategy]]\npreset = \"{name}\"\n")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(scenario.strategies[0].name, *name);
        let table = preset_table(name).unwrap();
        assert!(!table.contains_key("name") && !table.contains_key("preset"), "{name}");
    }
}

#[test]
fn every_key_of_every_preset_cites_its_source() {
    for (name, text) in PRESETS {
        let lines: Vec<&str> = text.lines().collect();
        let mut in_strategy = false;
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                assert_eq!(line, "[strategy]", "{name}: one [strategy] table only");
                in_strategy = true;
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            assert!(in_strategy, "{name}: a key outside [strategy]: {line}");
            let commented_above = i > 0 && lines[i - 1].trim().starts_with('#');
            assert!(
                line.contains('#') || commented_above,
                "{name}: `{line}` has no comment citing its source"
            );
        }
        assert!(
            text.starts_with('#'),
            "{name}: starts with a comment on the system modelled"
        );
    }
}

#[test]
fn the_tables_own_keys_win_and_the_rest_comes_from_the_preset() {
    let scenario = parse(
        "[[strategy]]\npreset = \"cassandra-full\"\nname = \"c\"\ninterval = \"10s\"\nmax_tree_depth = 15\n\
         [[strategy]]\npreset = \"naive\"\n",
    )
    .unwrap();
    let (full, naive) = (&scenario.strategies[0], &scenario.strategies[1]);
    assert_eq!(full.name, "c");
    let StrategyKind::Monolithic { interval_ns, .. } = full.kind else {
        panic!("the preset's kind")
    };
    assert_eq!(
        interval_ns, 10_000_000_000,
        "the table's interval, not the preset's 7 days"
    );
    let ReconcilerChoice::CassandraTree { sizing } = full.repair.reconciler else {
        panic!("the preset's reconciler, got {:?}", full.repair.reconciler)
    };
    assert_eq!(sizing.max_depth, 15, "the table's depth cap");
    // 512 MiB shared by the two replicas' trees.
    assert_eq!(sizing.tree_budget_bytes, 256 << 20);
    assert_eq!(naive.name, "naive");
    assert_eq!(naive.repair.reconciler, ReconcilerChoice::Naive);
    let StrategyKind::Monolithic { interval_ns, .. } = naive.kind else {
        panic!()
    };
    assert_eq!(interval_ns, 30_000_000_000);
}

#[test]
fn an_unknown_preset_is_located_and_lists_the_known_ones() {
    let e = parse("[[strategy]]\npreset = \"scylla\"\n").unwrap_err();
    assert!(e.contains("error: unknown preset \"scylla\""), "{e}");
    assert!(e.contains("presets.toml:9:10"), "{e}");
    assert!(
        e.contains("known presets: \"cassandra-full\", \"cassandra-incremental\", \"scylla-row-level\", \"naive\""),
        "{e}"
    );
    let e = parse("[[strategy]]\npreset = \"cassandra-ful\"\n").unwrap_err();
    assert!(e.contains("did you mean \"cassandra-full\"?"), "{e}");
    let e = parse("[[strategy]]\npreset = 3\n").unwrap_err();
    assert!(e.contains("`preset` must be a preset's name in quotes, got 3"), "{e}");
}

#[test]
fn errors_stay_in_the_users_file_and_name_the_preset() {
    // A value the table wrote: located at it.
    let e = parse("[[strategy]]\npreset = \"cassandra-full\"\nmax_tree_depth = 99\n").unwrap_err();
    assert!(e.contains("presets.toml:10:18"), "{e}");
    // A value the preset supplied: located at the table, the hint names the preset.
    let few_keys = format!(
        "{}[[strategy]]\npreset = \"reaper\"\n",
        HEAD.replace("keys = 100_000", "keys = 50")
    );
    let e = Scenario::parse(&few_keys, "presets.toml").unwrap_err().to_string();
    assert!(
        e.contains("`strategy[0].segments` must be between 1 and the number of keys"),
        "{e}"
    );
    assert!(e.contains("presets.toml:8:1"), "{e}");
    assert!(
        e.contains("`segments` comes from preset \"reaper\" (scenarios/presets/reaper.toml)"),
        "{e}"
    );
    // A shape error of the merged table (segmented needs `segments`): located at the table.
    let e = parse("[[strategy]]\npreset = \"naive\"\nkind = \"segmented\"\n").unwrap_err();
    assert!(e.contains("missing field `segments`"), "{e}");
    assert!(e.contains("presets.toml:8:"), "{e}");
    // A type error in the table's own key: at its value, with a preset as without one
    // (issue 27: both used to point at the table's header).
    let e = parse("[[strategy]]\npreset = \"naive\"\ninterval = 5\n").unwrap_err();
    let plain = parse("[[strategy]]\nkind = \"monolithic\"\nleaves = 4\ninterval = 5\n").unwrap_err();
    assert!(e.contains("invalid type: integer `5`, expected a string"), "{e}");
    assert!(
        e.contains("presets.toml:10:12") && plain.contains("presets.toml:11:12"),
        "{e}\n{plain}"
    );
}

#[test]
fn an_error_outside_the_strategies_is_located_at_its_key_when_presets_are_merged() {
    // `[cluster]` is a header table: its span is the header alone, so the field is
    // found by its own span, as it is without presets.
    let text = "[[strategy]]\npreset = \"naive\"\n".to_string();
    let bad = format!(
        "{}{text}",
        HEAD.replace("keys = 100_000", "keys = 100_000\nscan_cost_per_key = \"100000000d\"")
    );
    let e = Scenario::parse(&bad, "presets.toml").unwrap_err().to_string();
    assert!(e.contains("is longer than 584 years"), "{e}");
    assert!(e.contains("presets.toml:6:21"), "{e}");
}

#[test]
fn overrides_and_sweeps_see_the_merged_table() {
    let source = format!("{HEAD}[[strategy]]\npreset = \"cassandra-incremental\"\n");
    let set = Override::parse_set("strategy.interval=2s").unwrap();
    let scenario = Scenario::parse_with(&source, "presets.toml", &[set]).unwrap();
    let StrategyKind::Monolithic { interval_ns, .. } = scenario.strategies[0].kind else {
        panic!()
    };
    assert_eq!(interval_ns, 2_000_000_000);
    let set = Override::parse_set("strategy[0].preset=nope").unwrap();
    let e = Scenario::parse_with(&source, "presets.toml", &[set])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown preset \"nope\""), "{e}");
    let swept = format!("{source}[sweep]\nstrategy.max_tree_depth = [10, 15]\n");
    let document = aesim::scenario::ScenarioDocument::parse(&swept, "presets.toml", Vec::new()).unwrap();
    let ReconcilerChoice::CassandraIncremental { sizing, .. } =
        document.point_scenario(1).unwrap().strategies[0].repair.reconciler
    else {
        panic!()
    };
    assert_eq!(sizing.max_depth, 15);
}

#[test]
fn the_report_names_each_strategys_preset() {
    let source = format!(
        "{HEAD}[[strategy]]\npreset = \"naive\"\ninterval = \"20s\"\n\
         [[strategy]]\npreset = \"cassandra-full\"\nname = \"cassandra\"\ninterval = \"20s\"\n\
         [[strategy]]\nkind = \"monolithic\"\nname = \"plain\"\nleaves = 64\ninterval = \"20s\"\n"
    );
    let scenario = Scenario::parse(&source, "presets.toml").unwrap();
    let results = aesim::run::run_scenario(&scenario, 1).expect("invariants hold");
    let dir = std::env::temp_dir().join(format!("aesim-presets-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    aesim::output::write_run(&dir, &scenario, &results).unwrap();
    let line = "Presets: *naive* is preset `naive`, *cassandra* is preset `cassandra-full` \
                (their defaults and sources: `scenarios/presets/<preset>.toml`).";
    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(markdown.contains(line), "{markdown}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("is preset <code>cassandra-full</code>"), "{html}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_table_choosing_another_reconciler_drops_the_presets_knobs_of_its_own() {
    // cassandra-full's depth cap and session space belong to its Cassandra tree.
    let scenario = parse("[[strategy]]\npreset = \"cassandra-full\"\nreconciler = \"merkle\"\nleaves = 64\n")
        .expect("the preset with the binary Merkle tree");
    assert_eq!(scenario.strategies[0].repair.reconciler, ReconcilerChoice::Merkle);
    let scenario = parse("[[strategy]]\npreset = \"reaper\"\nreconciler = \"row_level\"\n")
        .expect("Reaper's segments with row-level repair");
    assert!(matches!(
        scenario.strategies[0].repair.reconciler,
        ReconcilerChoice::RowLevel { .. }
    ));
    // Knobs the table writes itself are still checked against its reconciler.
    let e =
        parse("[[strategy]]\npreset = \"cassandra-full\"\nreconciler = \"merkle\"\nleaves = 64\nmax_tree_depth = 12\n")
            .unwrap_err();
    assert!(e.contains("max_tree_depth"), "{e}");
}
