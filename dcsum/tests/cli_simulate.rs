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

#[test]
fn the_rebalance_draws_its_charts_and_links_them_from_the_markdown() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rebalance-svg");
    std::fs::remove_dir_all(&dir).ok();
    let (code, text, error) = dcsum(&[
        "--rebalance",
        "200/4",
        "--fault-seconds",
        "5",
        "--svg",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}{error}");
    for name in ["rebalance-lag.svg", "rebalance-not-match.svg"] {
        let path = dir.join(name);
        let svg = std::fs::read_to_string(&path).expect("the chart is written");
        assert!(
            svg.starts_with("<svg") && svg.ends_with("</svg>\n"),
            "{svg}"
        );
        // A panel per ordering, with a line for each run (or one for identical runs).
        assert!(svg.contains("200 dispatchers, 4 nodes: eager"), "{svg}");
        assert!(svg.contains("200 dispatchers, 4 nodes: reference"), "{svg}");
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(
            text.contains(&format!("]({})", path.display())),
            "no link to {name}: {text}"
        );
    }
    let lag = std::fs::read_to_string(dir.join("rebalance-lag.svg")).unwrap();
    assert_eq!(lag.matches("<polyline").count(), 6);
    for gate in ["no gate (baseline)", "plain gate", "explained gate"] {
        assert!(lag.contains(&format!(">{gate}</text>")), "{gate}");
    }

    // Without an experiment there is nothing to draw.
    let (code, _, error) = dcsum(&["--seeds", "1", "--svg", dir.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        error.starts_with("dcsum: --svg") && error.lines().count() == 1,
        "{error}"
    );
    // A directory that cannot be made is refused before the experiment runs.
    let file = dir.join("rebalance-lag.svg");
    let (code, text, error) = dcsum(&["--verdict", "--svg", file.to_str().unwrap()]);
    assert_eq!((code, text.as_str()), (2, ""), "{error}");
    assert!(
        error.starts_with("dcsum: --svg") && error.lines().count() == 1,
        "{error}"
    );
}

#[test]
fn the_verdict_draws_its_grid() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verdict-svg");
    std::fs::remove_dir_all(&dir).ok();
    let (code, text, error) = dcsum(&["--verdict", "--seeds", "1", "--svg", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}{error}");
    let path = dir.join("verdict.svg");
    let svg = std::fs::read_to_string(&path).expect("the grid is written");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    // A cell per row of the Markdown matrix and fault mix.
    let header = text
        .lines()
        .find(|line| line.starts_with("| protocol | ordering |"))
        .expect("the matrix");
    let separators = header.matches(" | ").count();
    let mixes = separators - 1;
    let rows = text
        .lines()
        .filter(|line| {
            line.starts_with("| ") && *line != header && line.matches(" | ").count() == separators
        })
        .count();
    assert!(rows >= 7 && mixes >= 7, "{text}");
    assert_eq!(svg.matches("<g><title>").count(), rows * mixes);
    assert!(svg.contains(">no violation</text>"));
    assert!(text.contains(&format!("]({})", path.display())), "{text}");
}

/// `--zoo 4077-...` brings its balance splits with it; `--split-plans` alone runs the fixed rule
/// on the same workload; the trace shows the race and the two Working dispatchers.
#[test]
fn the_4077_zoo_bug_runs_on_balance_splits_and_its_fixed_rule_is_clean() {
    let network_only = [
        "--seeds",
        "3",
        "--failovers",
        "0",
        "--error-restarts",
        "0",
        "--moves",
        "0",
        "--move-dest-fails",
        "0",
        "--restarts",
        "0",
        "--leaves",
        "0",
        "--replacements",
        "0",
        "--zombie",
        "0",
        "--protocol",
        "reference",
        "--ordering",
        "reference",
        "--gate",
        "none",
    ];
    let zoo = ["--zoo", "4077-split-postfinish-on-count-mismatch"];
    let (code, text, _) = dcsum(&[&network_only[..], &zoo[..]].concat());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("two-working:"), "{text}");
    let (code, text, _) = dcsum(&[&network_only[..], &["--split-plans"][..]].concat());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("violations: none"), "{text}");
    let (_, trace, _) = dcsum(
        &[
            &network_only[2..],
            &zoo[..],
            &["--trace", "1", "--until", "two-working"][..],
        ]
        .concat(),
    );
    assert!(trace.contains("both pass AddOperator's check"), "{trace}");
    assert!(trace.contains("VIOLATION two-working"), "{trace}");
}
