//! `aesim calibrate` on small data: a profile is written, parses, and a scenario takes
//! it (explicit scenario values and `--set` win); bad profiles and unwritable folders
//! are clear errors. Times are not asserted (they are measurements, not results).

use aesim::calibrate::engine::EngineKind;
use aesim::calibrate::{CalibrateOptions, calibrate, profile};
use aesim::scenario::{Override, Scenario, ScenarioDocument};
use indicatif::ProgressBar;

fn small(engine: EngineKind, folder: &std::path::Path) -> CalibrateOptions {
    CalibrateOptions {
        engine,
        records: 3_000,
        record_bytes: 64,
        warmups: 0,
        runs: 2,
        point_ops: 200,
        folder: folder.to_path_buf(),
    }
}

const SCENARIO: &str = "name = \"t\"\nseed = 1\nduration = \"1s\"\n\
    [cluster]\nkeys = 1000\nrecord_bytes = 200\ncosts = \"profile.toml\"\n\
    [workload]\nwrites_per_s = 0.0\n\
    [[strategy]]\nkind = \"monolithic\"\nleaves = 64\ninterval = \"1s\"\n";

#[test]
fn a_calibrated_profile_parses_and_a_scenario_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    for engine in [EngineKind::Fjall, EngineKind::Redb] {
        let calibration = calibrate(&small(engine, dir.path()), &ProgressBar::hidden()).unwrap();
        // The temporary store is gone: only what the test writes stays.
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{engine:?} left its store"
        );
        assert_eq!(calibration.hashes.len(), 4);
        assert_eq!(calibration.scan_warm.runs, 2);
        let text = profile::render(&calibration);
        assert!(text.contains(&format!("# engine: {} ", engine.name())), "{text}");
        let (scan, hash, apply) = profile::model_values(&calibration);
        std::fs::write(dir.path().join("profile.toml"), &text).unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, SCENARIO).unwrap();
        let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scenario.cluster.scan_cost_ns_per_key, scan);
        assert_eq!(scenario.cluster.hash_cost_ns, hash);
        assert_eq!(scenario.cluster.apply_cost_ns_per_record, apply);
        assert!(apply >= 1);
        // The scenario's own record_bytes wins over the profile's 64.
        assert_eq!(scenario.cluster.record_bytes, 200);
        // --set wins over the profile.
        let set = vec![Override::parse_set("cluster.scan_cost_per_key=\"7us\"").unwrap()];
        let document = ScenarioDocument::load(&path, set).unwrap();
        assert_eq!(document.base.cluster.scan_cost_ns_per_key, 7_000);
        std::fs::remove_file(dir.path().join("profile.toml")).unwrap();
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn bad_profiles_are_located_in_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(&profile, "record_bytes = 64\nhash_cost = \"quick\"\n").unwrap();
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!(e.file, profile.display().to_string());
    assert_eq!(e.diagnostics[0].line, 2);
    std::fs::write(&profile, "scan_cost = \"1us\"\n").unwrap();
    let text = Scenario::load(&path).unwrap_err().to_string();
    assert!(
        text.contains("unknown field `scan_cost`") && text.contains("aesim calibrate"),
        "{text}"
    );
    std::fs::remove_file(&profile).unwrap();
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!((e.file.as_str(), e.diagnostics[0].line), (path.to_str().unwrap(), 7));
}

#[test]
fn an_unwritable_folder_is_a_clear_error() {
    let options = small(EngineKind::Fjall, std::path::Path::new("/nonexistent/aesim"));
    let e = calibrate(&options, &ProgressBar::hidden()).unwrap_err();
    assert!(
        e.message
            .contains("cannot create a temporary store in /nonexistent/aesim"),
        "{e}"
    );
    assert_eq!(e.hint.as_deref(), Some("choose a writable folder with --dir"));
}

#[test]
fn a_run_with_a_cost_profile_echoes_its_values_and_reruns_without_it() {
    // The results folder's scenario.toml carries the profile's values, not its path:
    // it reruns byte for byte once the profile is gone, and a sweep's run identity
    // changes when the profile's values do.
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(&profile, "scan_cost_per_key = \"3us\"\nhash_cost = \"250ns\"\n").unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, SCENARIO.replace("writes_per_s = 0.0", "writes_per_s = 50.0")).unwrap();
    let out = dir.path().join("out");
    let run = |args: &[&str]| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_aesim"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            status.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    run(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    let echo = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    assert!(echo.contains("scan_cost_per_key = \"3us\""), "{echo}");
    assert!(echo.contains("hash_cost = \"250ns\""), "{echo}");
    assert!(!echo.contains("costs ="), "the profile's name is left out: {echo}");
    assert!(
        echo.starts_with("# ") && echo.lines().next().unwrap().contains("cost profile"),
        "{echo}"
    );
    std::fs::remove_file(&profile).unwrap();
    let again = dir.path().join("again");
    run(&[
        "run",
        out.join("scenario.toml").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        std::fs::read(out.join("summary.csv")).unwrap(),
        std::fs::read(again.join("summary.csv")).unwrap()
    );
    // The run identity follows the profile's values.
    let source = SCENARIO.to_string();
    let file = scenario.to_str().unwrap();
    std::fs::write(&profile, "scan_cost_per_key = \"3us\"\n").unwrap();
    let first = aesim::sweep::run_hash(&source, file, &[], 1);
    std::fs::write(&profile, "scan_cost_per_key = \"4us\"\n").unwrap();
    assert_ne!(first, aesim::sweep::run_hash(&source, file, &[], 1));
}
