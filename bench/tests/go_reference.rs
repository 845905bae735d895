//! The Go reference program end to end, at tiny sizes: it builds, runs, prints answers that agree
//! with the naive oracle (checked inside `GoProgram::run`), and its rows reach the report's
//! heartbeat and maintainer tables.
//!
//! Without `go` on `PATH` the tests print why and pass, so `cargo test` works on a machine
//! without Go; with `DCSUM_REQUIRE_GO=1` (which `.ci/run` sets after installing Go) a missing `go`
//! fails them instead, so CI cannot silently skip the comparison.

use dispatcher_checksum_bench::config::HeadlineConfig;
use dispatcher_checksum_bench::experiments;
use dispatcher_checksum_bench::go_reference::{
    self, GoProgram, GoReferenceError, GoRunConfig, Prepared,
};
use dispatcher_checksum_bench::measure::MeasureConfig;
use dispatcher_checksum_bench::report::summary;
use std::io::Write;
use std::time::Duration;

const TINY: MeasureConfig = MeasureConfig {
    warm_up: Duration::from_millis(1),
    batch_time: Duration::from_millis(1),
    repetitions: 3,
};

/// The built program, or `None` (after saying why) when `go` is missing and not required.
fn program() -> Option<GoProgram> {
    let Some(go) = go_reference::find_go() else {
        let missing = GoReferenceError::GoNotFound;
        if std::env::var_os("DCSUM_REQUIRE_GO").is_some_and(|v| v == "1") {
            panic!("DCSUM_REQUIRE_GO=1 but {missing}");
        }
        // Straight to stderr, not `eprintln!`: the test harness captures the macros' output of a
        // passing test, and a skip has to be seen.
        let line = format!(
            "go_reference test skipped: {}\n",
            go_reference::HOW_TO_GET_GO
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        return None;
    };
    Some(GoProgram::build(&go).unwrap_or_else(|error| panic!("{error}")))
}

#[test]
fn the_go_program_agrees_with_the_oracle_at_tiny_sizes() {
    let Some(program) = program() else { return };
    assert!(
        program.toolchain.starts_with("go version"),
        "{}",
        program.toolchain
    );
    let config = GoRunConfig {
        heartbeat_sizes: vec![1_000, 7_000],
        seed: experiments::HEARTBEAT_SEED,
        maintainer_size: 3_000,
        measure: TINY,
        budget: Duration::from_millis(100),
    };
    let mut progress = Vec::new();
    let results = program
        .run(&config, &mut |what| progress.push(what.to_string()))
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(progress.len(), 3, "{progress:?}");
    assert!(
        results.go_version.starts_with("go"),
        "{}",
        results.go_version
    );
    assert!(results.gomaxprocs >= 1);
    let sizes: Vec<usize> = results.heartbeat.iter().map(|r| r.dispatchers).collect();
    assert_eq!(sizes, [1_000, 7_000]);
    for row in &results.heartbeat {
        assert!(
            row.sync_map.median > 0.0 && row.plain_map.median > 0.0,
            "{row:?}"
        );
        assert!(row.sync_map.batches >= 3, "{row:?}");
    }
    let maintainer = results.maintainer.expect("asked for the maintainer");
    assert_eq!((maintainer.dispatchers, maintainer.nodes), (3_000, 64));
    assert!(maintainer.move_one.median > 0.0 && maintainer.add_one.median > 0.0);
}

#[test]
fn the_go_rows_reach_the_heartbeat_and_maintainer_tables() {
    let Some(program) = program() else { return };
    let config = HeadlineConfig {
        heartbeat_sizes: vec![2_000],
        kernel_sizes: vec![1_000],
        churn_size: 2_000,
        churn_changes: vec![0],
        short_input_sizes: vec![4],
        parallel_sizes: vec![4_096],
        maintainer_size: 2_000,
        go_budget: Duration::from_millis(50),
        measure: TINY,
        profile: "test",
    };
    let mut steps = 0;
    let results = experiments::run(&config, &Prepared::Ready(program), &mut |_| steps += 1)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(steps, config.step_count());
    assert!(results.go_reference_absent.is_none());

    let heartbeat = summary::go_heartbeat_table(&results).expect("the Go program ran");
    assert!(
        heartbeat.contains("**reference (Go)**: `sync.Map`"),
        "{heartbeat}"
    );
    assert!(heartbeat.contains("incremental verify"), "{heartbeat}");
    assert!(
        heartbeat.contains("×)"),
        "speedups against the Go row: {heartbeat}"
    );
    let maintainer = summary::maintainer_table(&results);
    assert!(maintainer.contains("**reference (Go)**"), "{maintainer}");
    let report = summary::summary_markdown(&results);
    assert!(
        report.contains("different language and runtime"),
        "the note: {report}"
    );
    let performance = summary::performance_markdown(&results);
    assert!(performance.contains("### Against the reference (Go)"));
    assert!(performance.contains(&maintainer));
    assert!(
        performance.contains("Against the reference's shape in Go"),
        "{performance}"
    );
    let chart = summary::heartbeat_chart(&results);
    assert!(chart.panels[0]
        .series
        .iter()
        .any(|s| s.name == "Go reference, sync.Map" && s.dashed));
}
