//! `dcsum simulate`: the summary, the exit status, the trace, and bad arguments.

use std::process::Command;

fn dcsum(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dcsum"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("run dcsum");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_cli_prints_a_summary_and_exits_nonzero_on_violations() {
    let (code, text, _) = dcsum(&[
        "--seed",
        "5",
        "--seeds",
        "20",
        "--redo",
        "--fault-seconds",
        "20",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("violations: none"), "{text}");
    assert!(text.contains("p50") && text.contains("p99"), "{text}");
    assert!(text.contains("simulated seconds per wall second"), "{text}");

    let (code, text, _) = dcsum(&["--seeds", "20", "--plant-bug", "no-monotone-guard"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("checkpoint-regressed:") && text.contains("--seed"),
        "{text}"
    );
}

#[test]
fn the_trace_of_a_violating_seed_ends_with_the_violation() {
    let (code, text, _) = dcsum(&["--seeds", "10", "--plant-bug", "no-monotone-guard"]);
    assert_eq!(code, 1);
    let seed = text
        .split("--seed ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a replay seed");
    let (code, trace, _) = dcsum(&["--trace", seed, "--plant-bug", "no-monotone-guard"]);
    assert_eq!(code, 1, "{trace}");
    assert!(
        trace.starts_with(&format!("trace of seed {seed}")),
        "{trace}"
    );
    assert!(trace.contains("VIOLATION checkpoint-regressed"), "{trace}");
}

#[test]
fn bad_arguments_are_errors() {
    let (code, _, error) = dcsum(&["--loss", "1.5"]);
    assert_ne!(code, 0);
    assert!(error.contains("probability"), "{error}");
    let (code, _, error) = dcsum(&["--trace", "1", "--until", "nonsense"]);
    assert_ne!(code, 0);
    assert!(error.contains("unknown violation kind"), "{error}");
    let (code, _, error) = dcsum(&["--plant-bug", "nonsense"]);
    assert_ne!(code, 0);
    assert!(
        error.contains("unknown planted bug") && error.contains("no-monotone-guard"),
        "{error}"
    );
    let (code, _, error) = dcsum(&["--nodes", "1"]);
    assert_ne!(code, 0);
    assert!(error.contains("nodes"), "{error}");
}

#[test]
fn the_trace_is_also_written_as_json_lines() {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("trace-7.jsonl");
    let (code, text, _) = dcsum(&[
        "--trace",
        "7",
        "--whole-trace",
        "--fault-seconds",
        "2",
        "--trace-json",
        path.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "{text}");
    let json = std::fs::read_to_string(&path).unwrap();
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    // One event per printed trace line (the header line aside, and the closing verdict).
    let printed = text
        .lines()
        .filter(|line| !line.starts_with("trace of seed") && !line.starts_with("no violation"))
        .count();
    assert!(!events.is_empty());
    assert!(
        events.len() <= printed,
        "{} events, {printed} lines",
        events.len()
    );
    for event in &events {
        assert_eq!(event["seed"], 7);
        assert!(event["at_ms"].is_u64() && event["who"].is_string() && event["text"].is_string());
    }
}
