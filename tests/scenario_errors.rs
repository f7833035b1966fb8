//! The table of bad scenarios: each mistake gets exactly these errors, at exactly these
//! lines and columns. A change to a message or a location is a change to this table.

use aesim::scenario::Scenario;

/// A valid scenario; each case below edits one line of it.
const BASE: &str = r#"name = "table"
seed = 1
duration = "10min"
sample_interval = "5s"
[cluster]
nodes = 2
keys = 1_000
cores = 4
scan_cost_per_key = "1us"
record_bytes = 100
[network]
loss = 0.01
bandwidth_bytes_per_s = 1_000_000
latency = { kind = "uniform", min = "1ms", max = "2ms" }
[workload]
writes_per_s = 10.0
stop_at = "8min"
keys = { kind = "zipf", exponent = 1.1 }
[[strategy]]
kind = "monolithic"
name = "mono"
leaves = 256
interval = "30s"
"#;

/// (what the case is, line replaced, its replacement, expected errors as
/// (line, column, message)).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(usize, usize, &'static str)],
);

const CASES: &[Case] = &[
    (
        "more than a million samples",
        "sample_interval = \"5s\"",
        "sample_interval = \"100us\"",
        &[(
            4,
            19,
            "`sample_interval` must be at least duration / 1,000,000 (600 us here), got 6000000 rows",
        )],
    ),
    (
        "loss above one",
        "loss = 0.01",
        "loss = 1.5",
        &[(12, 8, "`network.loss` must be a probability in [0, 1], got 1.5")],
    ),
    (
        "negative loss",
        "loss = 0.01",
        "loss = -0.1",
        &[(12, 8, "`network.loss` must be a probability in [0, 1], got -0.1")],
    ),
    (
        "one node",
        "nodes = 2",
        "nodes = 1",
        &[(6, 9, "`cluster.nodes` must be between 2 and 1,000, got 1")],
    ),
    (
        "a replication factor above the node count",
        "nodes = 2",
        "nodes = 2\nreplication_factor = 3",
        &[(
            7,
            22,
            "`cluster.replication_factor` must be between 2 and `nodes` (2), got 3",
        )],
    ),
    (
        "more tokens than keys",
        "nodes = 2",
        "nodes = 2\nvnodes = 600",
        &[(
            7,
            10,
            "`cluster.vnodes` must be small enough that `nodes` x `vnodes` is at most the number of keys (1000), got 600 (1200 tokens)",
        )],
    ),
    (
        "a rack list of the wrong length",
        "nodes = 2",
        "nodes = 2\nracks = [0, 1, 1]",
        &[(
            7,
            9,
            "`cluster.racks` must be a rack number for each of the 2 nodes, got 3 entries",
        )],
    ),
    (
        "node cores of the wrong length",
        "nodes = 2",
        "nodes = 2\nnode_cores = [4]",
        &[(
            7,
            14,
            "`cluster.node_cores` must be one core count for each of the 2 nodes, got 1 entry",
        )],
    ),
    (
        "a coordinator choice without a ring",
        "nodes = 2",
        "nodes = 2\ncoordinator = \"replica\"",
        &[(
            7,
            15,
            "`coordinator` matters only on a token ring, where some nodes do not hold a key",
        )],
    ),
    (
        "negative nodes",
        "nodes = 2",
        "nodes = -1",
        &[(6, 9, "invalid value: integer `-1`, expected a whole number >= 0")],
    ),
    (
        "no keys: the leaves no longer fit either",
        "keys = 1_000",
        "keys = 0",
        &[
            (7, 8, "`cluster.keys` must be between 1 and 2^40, got 0"),
            (
                22,
                10,
                "`strategy[0].leaves` must be at most the number of keys (0), got 256",
            ),
        ],
    ),
    (
        "too many keys",
        "keys = 1_000",
        "keys = 2_000_000_000_000",
        &[(7, 8, "`cluster.keys` must be between 1 and 2^40, got 2000000000000")],
    ),
    (
        "no cores",
        "cores = 4",
        "cores = 0",
        &[(8, 9, "`cluster.cores` must be between 1 and 4096, got 0")],
    ),
    (
        "empty records",
        "record_bytes = 100",
        "record_bytes = 0",
        &[(10, 16, "`cluster.record_bytes` must be between 1 and 16 MiB, got 0")],
    ),
    (
        "zero duration: the sample interval no longer fits",
        "duration = \"10min\"",
        "duration = \"0s\"",
        &[
            (3, 12, "`duration` must be positive, got 0s"),
            (
                4,
                19,
                "`sample_interval` must be at most `duration`, got 5000000000 ns > 0 ns",
            ),
        ],
    ),
    (
        "sample interval longer than the run",
        "sample_interval = \"5s\"",
        "sample_interval = \"20min\"",
        &[(
            4,
            19,
            "`sample_interval` must be at most `duration`, got 1200000000000 ns > 600000000000 ns",
        )],
    ),
    (
        "a duration that is not one",
        "duration = \"10min\"",
        "duration = \"ten minutes\"",
        &[(
            3,
            12,
            "expected a duration such as \"250ms\", \"2.4us\" or \"40min\", got \"ten minutes\" \
             (expected number at 0)",
        )],
    ),
    (
        "a rate that is not a number",
        "writes_per_s = 10.0",
        "writes_per_s = nan",
        &[(
            16,
            16,
            "`workload.writes_per_s` must be a finite rate between 0 and 10^9, got NaN",
        )],
    ),
    (
        "an infinite rate",
        "writes_per_s = 10.0",
        "writes_per_s = inf",
        &[(
            16,
            16,
            "`workload.writes_per_s` must be a finite rate between 0 and 10^9, got inf",
        )],
    ),
    (
        "writes that stop at once",
        "stop_at = \"8min\"",
        "stop_at = \"0s\"",
        &[(17, 11, "`workload.stop_at` must be positive, got 0s")],
    ),
    (
        "a flat zipf",
        "keys = { kind = \"zipf\", exponent = 1.1 }",
        "keys = { kind = \"zipf\", exponent = 0.0 }",
        &[(18, 36, "`workload.keys.exponent` must be a positive number, got 0")],
    ),
    (
        "a hotspot as large as the key space",
        "keys = { kind = \"zipf\", exponent = 1.1 }",
        "keys = { kind = \"hotspot\", key_fraction = 1.0, write_fraction = 0.9 }",
        &[(
            18,
            43,
            "`workload.keys.key_fraction` must be strictly between 0 and 1, got 1",
        )],
    ),
    (
        "latency bounds the wrong way round",
        "latency = { kind = \"uniform\", min = \"1ms\", max = \"2ms\" }",
        "latency = { kind = \"uniform\", min = \"3ms\", max = \"2ms\" }",
        &[(
            14,
            50,
            "`network.latency.max` must be at least `network.latency.min`, got 2000000 ns < 3000000 ns",
        )],
    ),
    (
        "no bandwidth",
        "bandwidth_bytes_per_s = 1_000_000",
        "bandwidth_bytes_per_s = 0",
        &[(13, 25, "`network.bandwidth_bytes_per_s` must be at least 1, got 0")],
    ),
    (
        "leaves not a power of two",
        "leaves = 256",
        "leaves = 1000",
        &[(
            22,
            10,
            "`strategy[0].leaves` must be a power of two up to 2^24, got 1000",
        )],
    ),
    (
        "more leaves than keys",
        "leaves = 256",
        "leaves = 2048",
        &[(
            22,
            10,
            "`strategy[0].leaves` must be at most the number of keys (1000), got 2048",
        )],
    ),
    (
        "an empty strategy name",
        "name = \"mono\"",
        "name = \"\"",
        &[(
            21,
            8,
            "`strategy[0].name` must be 1 to 64 characters without commas, quotes or control \
             characters, got \"\"",
        )],
    ),
    (
        "a scenario name that is not a folder name",
        "name = \"table\"",
        "name = \"a/b\"",
        &[(
            1,
            8,
            "`name` must be a non-empty name of letters, digits, '-', '_' or '.', got \"a/b\"",
        )],
    ),
    (
        "a misspelt field",
        "loss = 0.01",
        "lose = 0.01",
        &[(
            12,
            1,
            "unknown field `lose`, expected one of `loss`, `latency`, `bandwidth_bytes_per_s`",
        )],
    ),
    (
        "an IBLT of fewer than three cells",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"iblt\"\niblt_cells = 2",
        &[(25, 14, "`strategy[0].iblt_cells` must be between 3 and 2^24, got 2")],
    ),
    (
        "IBLT cells for the Merkle walk",
        "interval = \"30s\"",
        "interval = \"30s\"\niblt_cells = 100",
        &[(
            24,
            14,
            "`iblt_cells` applies only to `reconciler = \"iblt\"` (this strategy's is \"merkle\")",
        )],
    ),
    (
        "a PinSketch of capacity one",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"pinsketch\"\npinsketch_capacity = 1",
        &[(
            25,
            22,
            "`strategy[0].pinsketch_capacity` must be between 2 and 4,096, got 1",
        )],
    ),
    (
        "a PinSketch capacity for an IBLT",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"iblt\"\npinsketch_capacity = 64",
        &[(
            25,
            22,
            "`pinsketch_capacity` applies only to `reconciler = \"pinsketch\"` (this strategy's is \"iblt\")",
        )],
    ),
    (
        "a sketch kept live",
        "interval = \"30s\"",
        "interval = \"30s\"\ntree = \"live\"\nreconciler = \"rateless_iblt\"",
        &[(
            24,
            8,
            "a set-reconciliation sketch is built from a snapshot, not kept live",
        )],
    ),
    (
        "a Cassandra tree deeper than 24",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"cassandra_tree\"\nmax_tree_depth = 30",
        &[(25, 18, "`strategy[0].max_tree_depth` must be between 1 and 24, got 30")],
    ),
    (
        "a tree depth cap for the Merkle walk",
        "interval = \"30s\"",
        "interval = \"30s\"\nmax_tree_depth = 15",
        &[(
            24,
            18,
            "`max_tree_depth` applies only to `reconciler = \"cassandra_tree\"` (this strategy's is \"merkle\")",
        )],
    ),
    (
        "no session space",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"cassandra_incremental\"\nrepair_session_space_mib = 0",
        &[(
            25,
            28,
            "`strategy[0].repair_session_space_mib` must be between 1 and 1,048,576 (1 TiB), got 0",
        )],
    ),
    (
        "an anticompaction cost for full repair",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"cassandra_tree\"\nanticompaction_cost_per_key = \"1us\"",
        &[(
            25,
            31,
            "`anticompaction_cost_per_key` applies only to `reconciler = \"cassandra_incremental\"` \
             (this strategy's is \"cassandra_tree\")",
        )],
    ),
    (
        "row-level repair kept live",
        "interval = \"30s\"",
        "interval = \"30s\"\ntree = \"live\"\nreconciler = \"row_level\"",
        &[(
            24,
            8,
            "`reconciler = \"row_level\"` reads a snapshot of the range; it is not kept live",
        )],
    ),
    (
        "an empty row buffer",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"row_level\"\nrow_buffer_bytes = 0",
        &[(
            25,
            20,
            "`strategy[0].row_buffer_bytes` must be between 1 and 2^32, got 0",
        )],
    ),
    (
        "an unknown preset",
        "kind = \"monolithic\"",
        "preset = \"casandra-full\"",
        &[(20, 10, "unknown preset \"casandra-full\"")],
    ),
    (
        "a knob for another reconciler than the table's, next to a preset",
        "kind = \"monolithic\"",
        "preset = \"cassandra-full\"\nreconciler = \"merkle\"\nmax_tree_depth = 12",
        // The preset's own knobs of its Cassandra tree are dropped with its reconciler;
        // one the table writes is an error, at the table's key.
        &[(
            22,
            18,
            "`max_tree_depth` applies only to `reconciler = \"cassandra_tree\"` (this strategy's is \"merkle\")",
        )],
    ),
    (
        "an unknown reconciler",
        "interval = \"30s\"",
        "interval = \"30s\"\nreconciler = \"minisketch\"",
        &[(
            24,
            14,
            "unknown variant `minisketch`, expected one of `merkle`, `iblt`, `rateless_iblt`, `pinsketch`, \
             `cassandra_tree`, `cassandra_incremental`, `row_level`, `naive`",
        )],
    ),
    (
        "an unknown strategy kind",
        "kind = \"monolithic\"",
        "kind = \"monolitic\"",
        &[(
            20,
            8,
            "unknown variant `monolitic`, expected one of `monolithic`, `segmented`, `riak_aae`",
        )],
    ),
    (
        "a missing required field",
        "keys = 1_000",
        "",
        &[(5, 1, "missing field `keys`")],
    ),
    (
        "not TOML at all",
        "loss = 0.01",
        "loss = ",
        &[(12, 8, "string values must be quoted, expected literal string")],
    ),
];

/// The base scenario with faults; the fault cases edit one line of it.
fn with_faults() -> String {
    format!(
        "{BASE}[faults]\nduplicate = 0.1\nreorder_delay = \"10ms\"\nbitrot_per_s = 0.5\n\
         [[faults.crash]]\nnode = 1\nat = \"1min\"\nrestart = \"2min\"\n\
         [[faults.partition]]\nstart = \"3min\"\nend = \"4min\"\nisolate = [1]\n"
    )
}

/// Fault cases: lines 24 on are the `[faults]` tables of [`with_faults`].
const FAULT_CASES: &[Case] = &[
    (
        "a duplication probability above one",
        "duplicate = 0.1",
        "duplicate = 1.1",
        &[(25, 13, "`faults.duplicate` must be a probability in [0, 1], got 1.1")],
    ),
    (
        "a zero reorder delay",
        "reorder_delay = \"10ms\"",
        "reorder_delay = \"0s\"",
        &[(26, 17, "`faults.reorder_delay` must be positive, got 0s")],
    ),
    (
        "a negative bitrot rate",
        "bitrot_per_s = 0.5",
        "bitrot_per_s = -1.0",
        &[(
            27,
            16,
            "`faults.bitrot_per_s` must be a finite rate between 0 and 10^6, got -1",
        )],
    ),
    (
        "a crash of a node that does not exist",
        "node = 1",
        "node = 2",
        &[(29, 8, "`faults.crash[0].node` must be a node index below 2, got 2")],
    ),
    (
        "a restart before the crash",
        "restart = \"2min\"",
        "restart = \"30s\"",
        &[(
            31,
            11,
            "`faults.crash[0].restart` must be later than `at`, got 30000000000 ns <= 60000000000 ns",
        )],
    ),
    (
        "a partition that ends before it starts",
        "end = \"4min\"",
        "end = \"2min\"",
        &[(
            34,
            7,
            "`faults.partition[0].end` must be later than `start`, got 120000000000 ns <= 180000000000 ns",
        )],
    ),
    (
        "a partition isolating every node",
        "isolate = [1]",
        "isolate = [0, 1]",
        &[(
            35,
            11,
            "`faults.partition[0].isolate` must be distinct node indices below 2, at least one node and not \
             all of them, got [0, 1]",
        )],
    ),
    (
        "a partition starting after the run (and so ending before it starts)",
        "start = \"3min\"",
        "start = \"11min\"",
        &[
            (
                34,
                7,
                "`faults.partition[0].end` must be later than `start`, got 240000000000 ns <= 660000000000 ns",
            ),
            (
                33,
                9,
                "`faults.partition[0].start` must be before the end of the run, got 660000000000 ns",
            ),
        ],
    ),
    (
        "a misspelt fault",
        "bitrot_per_s = 0.5",
        "bitrot = 0.5",
        &[(
            27,
            1,
            "unknown field `bitrot`, expected one of `crash`, `partition`, `duplicate`, `reorder`, \
             `reorder_delay`, `bitrot_per_s`",
        )],
    ),
];

fn errors_of(body: &str) -> Vec<(usize, usize, String)> {
    match Scenario::parse(body, "bad.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics
            .into_iter()
            .map(|d| (d.line, d.column, d.message))
            .collect(),
    }
}

#[test]
fn the_base_scenario_is_valid() {
    assert_eq!(errors_of(BASE), vec![]);
}

#[test]
fn each_bad_scenario_gets_exactly_its_errors() {
    let mut failures = Vec::new();
    for &(what, line, replacement, expected) in CASES {
        assert_eq!(BASE.matches(line).count(), 1, "case '{what}': ambiguous line {line:?}");
        let body = BASE.replacen(line, replacement, 1);
        let got = errors_of(&body);
        let expected: Vec<_> = expected.iter().map(|&(l, c, m)| (l, c, m.to_string())).collect();
        if got != expected {
            failures.push(format!("{what}:\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_bad_fault_gets_exactly_its_errors() {
    let base = with_faults();
    assert_eq!(errors_of(&base), vec![]);
    let mut failures = Vec::new();
    for &(what, line, replacement, expected) in FAULT_CASES {
        assert_eq!(base.matches(line).count(), 1, "case '{what}': ambiguous line {line:?}");
        let got = errors_of(&base.replacen(line, replacement, 1));
        let expected: Vec<_> = expected.iter().map(|&(l, c, m)| (l, c, m.to_string())).collect();
        if got != expected {
            failures.push(format!("{what}:\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn several_errors_come_at_once_and_a_missing_table_is_located() {
    let body = BASE
        .replace("loss = 0.01", "loss = 2.0")
        .replace("cores = 4", "cores = 0")
        .replace("interval = \"30s\"", "interval = \"0s\"");
    let lines: Vec<usize> = errors_of(&body).iter().map(|e| e.0).collect();
    assert_eq!(lines, vec![8, 12]);

    // A zero interval runs passes back to back: fine while a scan takes time, an
    // endless loop at one instant otherwise.
    let back_to_back = BASE.replace("interval = \"30s\"", "interval = \"0s\"");
    assert_eq!(errors_of(&back_to_back), vec![]);
    let body = back_to_back.replace("scan_cost_per_key = \"1us\"", "scan_cost_per_key = \"0s\"");
    assert_eq!(
        errors_of(&body),
        vec![(
            23,
            12,
            "`strategy[0].interval` must be positive for a live tree or when `cluster.scan_cost_per_key` is zero, got 0s".to_string()
        )]
    );

    // No strategy at all: the error points at the end of the file, where one goes.
    let body = BASE.split("[[strategy]]").next().unwrap();
    let errors = errors_of(body);
    assert_eq!(
        errors,
        vec![(18, 1, "a scenario needs at least one [[strategy]]".to_string())]
    );

    // Two strategies with one name: the second is reported.
    let body = format!("{BASE}[[strategy]]\nkind = \"monolithic\"\nname = \"mono\"\nleaves = 64\ninterval = \"1s\"\n");
    assert_eq!(
        errors_of(&body),
        vec![(26, 8, "two strategies are named \"mono\"".to_string())]
    );
}

#[test]
fn rendered_errors_name_file_line_column_and_hint() {
    let body = BASE.replacen("loss = 0.01", "lose = 0.01", 1);
    let text = Scenario::parse(&body, "bad.toml").unwrap_err().to_string();
    assert!(text.contains("  --> bad.toml:12:1\n"), "{text}");
    assert!(text.contains("12 | lose = 0.01\n"), "{text}");
    assert!(text.contains("= hint: did you mean `loss`?"), "{text}");
    assert!(text.ends_with("1 error in bad.toml"), "{text}");
}

#[test]
fn segmented_knobs_a_policy_ignores_or_that_loop_forever_are_refused() {
    let segmented = |extra: &str| {
        BASE.replace(
            "kind = \"monolithic\"",
            &format!("kind = \"segmented\"\nsegments = 10\nworkers = 2\n{extra}"),
        )
        .replace("interval = \"30s\"\n", "")
        .replace("leaves = 256", "leaves = 16")
    };
    let messages = |body: &str| errors_of(body).into_iter().map(|e| e.2).collect::<Vec<_>>();
    assert_eq!(messages(&segmented("")), Vec::<String>::new());
    assert_eq!(
        messages(&segmented(
            "policy = \"hottest_first\"\nmax_interval = \"1min\"\ninterval = \"5s\""
        )),
        ["`interval` paces round-robin passes; prioritised policies do not use it"]
    );
    assert_eq!(
        messages(&segmented("max_interval = \"1min\"")),
        ["`max_interval` is the starvation bound of prioritised policies; round robin does not use it"]
    );
    assert_eq!(
        messages(&segmented("tree = \"live\"")),
        ["`strategy[0].interval` must be positive for live trees or when `cluster.scan_cost_per_key` is zero, got 0s"]
    );
    assert_eq!(
        messages(&segmented("misalignment = { kind = \"segments\", peer_segments = 12 }")),
        ["`strategy[0].misalignment.peer_segments` must be between 1 and `segments` - 1, got 12"]
    );
}

#[test]
fn reaper_knobs_out_of_range_are_refused_at_their_line() {
    let segmented = |extra: &str| {
        BASE.replace(
            "kind = \"monolithic\"",
            &format!("kind = \"segmented\"\nsegments = 10\n{extra}"),
        )
        .replace("interval = \"30s\"\n", "interval = \"1s\"\n")
        .replace("leaves = 256", "leaves = 16")
    };
    assert_eq!(
        errors_of(&segmented("intensity = 0.75\nsegment_timeout = \"30min\"")),
        vec![]
    );
    assert_eq!(
        errors_of(&segmented("intensity = 1.5")),
        vec![(
            22,
            13,
            "`strategy[0].intensity` must be a number in (0, 1], got 1.5".to_string()
        )]
    );
    assert_eq!(
        errors_of(&segmented("segment_timeout = \"0s\"")),
        vec![(
            22,
            19,
            "`strategy[0].segment_timeout` must be positive, got 0s".to_string()
        )]
    );
    assert_eq!(
        errors_of(&segmented("parallelism = \"serial\""))[0].2,
        "unknown variant `serial`, expected one of `parallel`, `sequential`, `datacenter_aware`"
    );
}

#[test]
fn riak_aae_knobs_are_checked_where_they_are_written() {
    let riak = |extra: &str| {
        BASE.replace(
            "[[strategy]]\n",
            &format!("[[strategy]]\nkind = \"riak_aae\"\n{extra}\n[[strategy]]\n"),
        )
    };
    assert_eq!(errors_of(&riak("expire = \"2h\"\nbuild_limit = 2")), vec![]);
    assert_eq!(
        errors_of(&riak("reconciler = \"tictac\"\ntictac_pause = \"2s\"")),
        vec![]
    );
    assert_eq!(
        errors_of(&riak("reconciler = \"tictac\"\nexpire = \"1week\"")),
        vec![(
            22,
            10,
            "Tictac trees are kept current by XOR deltas and never expire".to_string()
        )]
    );
    assert_eq!(
        errors_of(&riak("expire = \"soon\"")),
        vec![(
            21,
            10,
            "`strategy[0].expire` must be a positive duration or \"never\", got \"soon\"".to_string()
        )]
    );
    assert_eq!(
        errors_of(&riak("tictac_pause = \"1s\"")),
        vec![(
            21,
            16,
            "`tictac_pause` is the pause of Tictac's double compare; the classic hashtree looks once".to_string()
        )]
    );
    assert_eq!(
        errors_of(&riak("tictac_max_segments = 8"))[0].2,
        "`tictac_max_segments` bounds Tictac's clock fetches; the classic hashtree repairs every differing segment"
    );
    assert_eq!(
        errors_of(&riak("reconciler = \"tictac\"\ntictac_max_segments = 0"))[0].2,
        "`strategy[0].tictac_max_segments` must be at least 1, got 0"
    );
    assert_eq!(
        errors_of(&riak("width = 1")),
        vec![(
            21,
            9,
            "`strategy[0].width` must be between 2 and 4096, got 1".to_string()
        )]
    );
    assert_eq!(
        errors_of(&riak("concurrency = 0")),
        vec![(
            21,
            15,
            "`strategy[0].concurrency` must be at least 1, got 0".to_string()
        )]
    );
}

/// The base scenario with every repair path on; the path cases edit one line of it.
fn with_paths() -> String {
    format!(
        "{BASE}[consistency]\nwrite = \"quorum\"\nread = \"all\"\nwrite_timeout = \"2s\"\n\
         [hints]\nwindow = \"3h\"\nreplay_delay = \"10s\"\nreplay_rate = 100.0\ndrop = 0.1\n\
         [reads]\nreads_per_s = 50.0\n\
         [deletes]\nfraction = 0.1\ngc_grace = \"10d\"\ncompaction_interval = \"1h\"\n"
    )
}

/// Path cases: lines 24 on are the tables of [`with_paths`].
const PATH_CASES: &[Case] = &[
    (
        "an unknown consistency level",
        "write = \"quorum\"",
        "write = \"most\"",
        &[(25, 9, "unknown variant `most`, expected one of `one`, `quorum`, `all`")],
    ),
    (
        "a zero write timeout",
        "write_timeout = \"2s\"",
        "write_timeout = \"0s\"",
        &[(27, 17, "`consistency.write_timeout` must be positive, got 0s")],
    ),
    (
        "a hint drop probability above one",
        "drop = 0.1",
        "drop = 1.5",
        &[(32, 8, "`hints.drop` must be a probability in [0, 1], got 1.5")],
    ),
    (
        "a zero replay rate",
        "replay_rate = 100.0",
        "replay_rate = 0.0",
        &[(
            31,
            15,
            "`hints.replay_rate` must be a finite rate between 0.001 and 10^9, got 0",
        )],
    ),
    (
        "a replay rate and a throttle both",
        "replay_rate = 100.0",
        "replay_rate = 100.0\nthrottle_kib = 1024.0",
        &[(
            32,
            16,
            "`hints.throttle_kib` must be left out when replay_rate is given, got 1024",
        )],
    ),
    (
        "a zero hint throttle",
        "replay_rate = 100.0",
        "throttle_kib = 0.0",
        &[(
            31,
            16,
            "`hints.throttle_kib` must be a finite rate between 0.001 and 10^9 KiB/s, got 0",
        )],
    ),
    (
        "a zero hint window",
        "window = \"3h\"",
        "window = \"0s\"",
        &[(29, 10, "`hints.window` must be positive, got 0s")],
    ),
    (
        "a negative read rate",
        "reads_per_s = 50.0",
        "reads_per_s = -1.0",
        &[(
            34,
            15,
            "`reads.reads_per_s` must be a finite positive rate up to 10^9, got -1",
        )],
    ),
    (
        "a delete fraction above one",
        "fraction = 0.1",
        "fraction = 2.0",
        &[(36, 12, "`deletes.fraction` must be a probability in [0, 1], got 2")],
    ),
    (
        "compactions less than a second apart",
        "compaction_interval = \"1h\"",
        "compaction_interval = \"1us\"",
        &[(
            38,
            23,
            "`deletes.compaction_interval` must be at least 1s, got 0.000001 s",
        )],
    ),
    (
        "a zero gc_grace",
        "gc_grace = \"10d\"",
        "gc_grace = \"0s\"",
        &[(37, 12, "`deletes.gc_grace` must be positive, got 0s")],
    ),
    (
        "a misspelt hints field",
        "replay_delay = \"10s\"",
        "replay_dealy = \"10s\"",
        &[(
            30,
            1,
            "unknown field `replay_dealy`, expected one of `window`, `replay_delay`, `replay_rate`, `throttle_kib`, `drop`",
        )],
    ),
];

#[test]
fn each_bad_repair_path_gets_exactly_its_errors() {
    let base = with_paths();
    assert_eq!(errors_of(&base), vec![]);
    let mut failures = Vec::new();
    for &(what, line, replacement, expected) in PATH_CASES {
        assert_eq!(base.matches(line).count(), 1, "case '{what}': ambiguous line {line:?}");
        let got = errors_of(&base.replacen(line, replacement, 1));
        let expected: Vec<_> = expected.iter().map(|&(l, c, m)| (l, c, m.to_string())).collect();
        if got != expected {
            failures.push(format!("{what}:\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Issue 27, defect 8: an error inside any `[[strategy]]` table (unknown field, wrong
/// type, bad value), written there or supplied by a preset, is located at its key in
/// that table, not at the first strategy's header.
#[test]
fn errors_in_a_later_strategy_table_are_located_at_their_key() {
    let second = "[[strategy]]\nkind = \"monolithic\"\nname = \"second\"\nleaves = 64\ninterval = \"30s\"\n";
    assert_eq!(errors_of(&format!("{BASE}{second}")), vec![]);
    let cases: &[(&str, &str, &str, (usize, usize))] = &[
        ("an unknown field", "leaves = 64", "leavse = 64", (27, 1)),
        ("a wrong type", "leaves = 64", "leaves = \"many\"", (27, 10)),
        (
            "a bad value",
            "interval = \"30s\"\n",
            "interval = \"30 parsecs\"\n",
            (28, 12),
        ),
    ];
    for &(what, line, replacement, expected) in cases {
        let at: Vec<_> = errors_of(&format!("{BASE}{}", second.replacen(line, replacement, 1)))
            .into_iter()
            .map(|(l, c, _)| (l, c))
            .collect();
        assert_eq!(at, vec![expected], "{what}");
    }
    // With a preset in the document (merged before deserialization), the same.
    let with_preset = format!(
        "{BASE}[[strategy]]\npreset = \"cassandra-full\"\nname = \"preset\"\n[[strategy]]\n\
         kind = \"monolithic\"\nname = \"third\"\nleavse = 64\ninterval = \"30s\"\n"
    );
    let at: Vec<_> = errors_of(&with_preset).into_iter().map(|(l, c, _)| (l, c)).collect();
    assert_eq!(at, vec![(30, 1)]);
}
