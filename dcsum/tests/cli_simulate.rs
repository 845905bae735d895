//! `dcsum simulate`: the summary, the exit status, and bad arguments.

use std::process::Command;

fn dcsum(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dcsum"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("run dcsum");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn the_cli_prints_a_summary_and_exits_nonzero_on_violations() {
    let (code, text) = dcsum(&["--seed", "5", "--seeds", "20", "--redo", "--ticks", "80"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("violations: none"), "{text}");
    assert!(text.contains("p50") && text.contains("p99"), "{text}");

    let (code, text) = dcsum(&["--seeds", "5", "--ticks", "80", "--gate-rule", "contract"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("safety:") && text.contains("--seed"),
        "{text}"
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_dcsum"))
        .args(["simulate", "--loss", "1.5"])
        .output()
        .expect("run dcsum");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("probability"));
}
