//! `aesim validate` on small data: a real exchange over loopback TCP between two fjall
//! stores, and the simulator's prediction of it. Every count must be equal, the stores
//! equal at the end, wire bytes within 5%; times are reported, never asserted.

use aesim::validate::{ValidateOptions, report, validate};

#[test]
fn a_real_exchange_matches_the_simulator_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let options = ValidateOptions {
        keys: 4_000,
        leaves: 128,
        fraction: 0.005,
        segments: 4,
        segment_leaves: 16,
        workers: vec![1, 2],
        folder: dir.path().to_path_buf(),
        ..ValidateOptions::default()
    };
    let validations = validate(&options, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(validations.len(), 3);
    for v in &validations {
        assert_eq!(report::failures(v), Vec::<String>::new(), "{}", report::table(v));
        assert!(v.measured.stores_equal);
        // 20 lost writes, each applied once; both replicas scanned whole.
        assert_eq!(v.lost_writes, 20);
        assert_eq!(v.measured.phases.records_applied, 20);
        assert_eq!(v.measured.phases.records_scanned, 8_000);
        assert_eq!(v.measured.sessions, v.config.segments);
        // Every streamed leaf is sent both ways, whole: leaves of 4000 / (segments x
        // leaves) keys, rounded down or up.
        let (m, tree_leaves) = (&v.measured.phases, v.config.segments * u64::from(v.config.leaves));
        let (smallest, largest) = (4_000 / tree_leaves, 4_000u64.div_ceil(tree_leaves));
        assert!((2 * smallest * m.leaves_streamed..=2 * largest * m.leaves_streamed).contains(&m.records_streamed));
        assert!(m.leaves_streamed >= 1 && m.leaves_streamed <= 20);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the replicas were left behind"
    );
}
