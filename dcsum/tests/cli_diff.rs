//! `dcsum diff EXPECTED ACTUAL`: the IDs it names, its exit codes and its self-check.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

fn dcsum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dcsum"))
}

/// A fresh file under the target directory's temporary folder with these lines.
fn file(name: &str, lines: &[String]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_diff");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    path
}

fn diff(expected: &PathBuf, actual: &PathBuf, extra_args: &[&str]) -> Output {
    dcsum()
        .arg("diff")
        .arg(expected)
        .arg(actual)
        .args(extra_args)
        .output()
        .unwrap()
}

/// IDs `high low` with distinct small values.
fn ids(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(|i| format!("{} {}", i * 7 + 1, i)).collect()
}

fn uuid_of(high: u64, low: u64) -> String {
    dispatcher_checksum::DispatcherId::new(high, low).to_string()
}

#[test]
fn equal_lists_exit_zero() {
    let a = file("equal_a", &ids(0..500));
    let mut reversed = ids(0..500);
    reversed.reverse();
    let b = file("equal_b", &reversed);
    let output = diff(&a, &b, &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("0 missing, 0 extra"), "{stdout}");
}

#[test]
fn names_missing_and_extra_ids_and_exits_one() {
    let expected = file("named_expected", &ids(0..1000));
    let mut actual_lines = ids(3..1000);
    actual_lines.push("99999 88888".into());
    let actual = file("named_actual", &actual_lines);
    let output = diff(&expected, &actual, &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    for i in 0..3 {
        assert!(
            stdout.contains(&format!("missing {}", uuid_of(i * 7 + 1, i))),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!("extra   {}", uuid_of(99999, 88888))),
        "{stdout}"
    );
    assert!(stdout.contains("3 missing, 1 extra"), "{stdout}");
    assert!(
        stdout.contains("checked against the exact difference"),
        "{stdout}"
    );
}

#[test]
fn a_difference_larger_than_the_first_sketch_grows_it() {
    let expected = file("large_expected", &ids(0..3000));
    let actual = file("large_actual", &ids(600..3000));
    let output = diff(&expected, &actual, &["--json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("could not decode"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["missing"].as_array().unwrap().len(), 600);
    assert_eq!(json["extra"].as_array().unwrap().len(), 0);
    assert!(json["sketchBytes"].as_u64().unwrap() > 4096);
}

#[test]
fn an_id_listed_twice_is_found_or_the_self_check_says_why() {
    // The XOR cells cannot see a pair of equal IDs; the sketch path refuses and exits 3.
    let expected = file("twice_expected", &ids(0..10));
    let mut doubled = ids(0..10);
    doubled.push(doubled[0].clone());
    doubled.push(doubled[0].clone());
    let actual = file("twice_actual", &doubled);
    let output = diff(&expected, &actual, &["--max-bytes", "16384"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("self-check failed"), "{stderr}");
    assert!(stderr.contains("0 missing and 2 extra"), "{stderr}");
}

#[test]
fn excluded_states_are_not_counted_unless_all_states() {
    let expected = file("states_expected", &ids(0..5));
    let mut with_state = ids(0..5);
    with_state.push("12345 678 Initializing".into());
    let actual = file("states_actual", &with_state);
    assert_eq!(diff(&expected, &actual, &[]).status.code(), Some(0));
    let output = diff(&expected, &actual, &["--all-states"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(&uuid_of(12345, 678)), "{stdout}");
}

#[test]
fn a_malformed_line_names_file_and_line_and_exits_two() {
    let expected = file("bad_expected", &ids(0..3));
    let actual = file(
        "bad_actual",
        &["1 2".to_string(), "not-an-id at all here".to_string()],
    );
    let output = diff(&expected, &actual, &[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("bad_actual:2:"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_missing_file_exits_two() {
    let expected = file("exists", &ids(0..3));
    let output = diff(&expected, &PathBuf::from("/nonexistent/ids.txt"), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("/nonexistent/ids.txt"));
}
