//! The `dcsum fingerprint` and `dcsum kernels` commands, run as the built binary: each ID text
//! form, standard input, state exclusion, the errors and exit codes of malformed input and of
//! unavailable kernels, and agreement across kernels.

use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, Kernel};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const UUIDS: [&str; 3] = [
    "67e55044-10b1-426f-9247-bb680e5fe0c8",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
];

/// Runs `dcsum` with `args`, feeding `stdin`.
fn dcsum(args: &[&str], stdin: &str) -> Output {
    dcsum_with_env(args, stdin, &[])
}

fn dcsum_with_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dcsum"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dcsum starts");
    let mut pipe = child.stdin.take().expect("piped stdin");
    let input = stdin.to_string();
    // A thread, so a large input cannot deadlock against the child's output; a child that exits
    // before reading everything (a usage error, a bad line) closes the pipe, which is fine.
    let writer = std::thread::spawn(move || match pipe.write_all(input.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error),
        _ => Ok(()),
    });
    let output = child.wait_with_output().expect("dcsum finishes");
    writer
        .join()
        .expect("writer thread")
        .expect("stdin written");
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

/// A file under cargo's per-test scratch directory.
fn write_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}.txt"));
    std::fs::write(&path, contents).expect("scratch file written");
    path
}

/// The one JSON object a successful `dcsum fingerprint` prints, checked for its field names.
fn parse_fingerprint(output: &Output) -> Fingerprint {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "one line of output: {text}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON output");
    let mut names: Vec<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["count", "sumHigh", "sumLow", "xorHigh", "xorLow"]);
    serde_json::from_value(value).expect("a fingerprint")
}

fn ids() -> Vec<DispatcherId> {
    UUIDS
        .iter()
        .map(|text| text.parse().expect("UUID"))
        .collect()
}

/// The same three IDs in every text form.
fn forms() -> Vec<(&'static str, String)> {
    let ids = ids();
    let join = |f: &dyn Fn(&DispatcherId, &str) -> String| -> String {
        ids.iter()
            .zip(UUIDS)
            .map(|(id, text)| f(id, text) + "\n")
            .collect()
    };
    vec![
        ("uuid", join(&|_, text| text.to_string())),
        ("uuid-upper", join(&|_, text| text.to_uppercase())),
        ("uuid-simple", join(&|_, text| text.replace('-', ""))),
        ("decimal", join(&|id, _| format!("{} {}", id.high, id.low))),
        (
            "hex",
            join(&|id, _| format!("{:#x} {:#x}", id.high, id.low)),
        ),
        (
            "json-numbers",
            join(&|id, _| format!(r#"{{"low": {}, "high": {}}}"#, id.low, id.high)),
        ),
        (
            "json-strings",
            join(&|id, _| format!(r#"{{"low": "{:#x}", "high": "{}"}}"#, id.low, id.high)),
        ),
        (
            "mixed-with-comments",
            format!(
                "# three IDs, three forms\n\n{}\n  {} {}  \n{{\"high\": {}, \"low\": {}}}\n",
                UUIDS[0], ids[1].high, ids[1].low, ids[2].high, ids[2].low
            ),
        ),
    ]
}

#[test]
fn every_text_form_gives_the_same_fingerprint() {
    let expected = Fingerprint::of(&ids());
    assert_eq!(expected.count, 3);
    for (name, contents) in forms() {
        let path = write_file(name, &contents);
        let path = path.to_str().expect("UTF-8 path");
        assert_eq!(
            parse_fingerprint(&dcsum(&["fingerprint", path], "")),
            expected,
            "{name}"
        );
    }
}

#[test]
fn standard_input_by_dash_and_by_default() {
    let expected = Fingerprint::of(&ids());
    let contents = UUIDS.join("\n");
    assert_eq!(
        parse_fingerprint(&dcsum(&["fingerprint", "-"], &contents)),
        expected
    );
    assert_eq!(
        parse_fingerprint(&dcsum(&["fingerprint"], &contents)),
        expected
    );
    assert_eq!(
        parse_fingerprint(&dcsum(&["fingerprint"], "")),
        Fingerprint::EMPTY
    );
}

#[test]
fn the_output_is_exact_for_64_bit_values() {
    let output = dcsum(
        &["fingerprint"],
        "0xffffffffffffffff 0xfffffffffffffffe\n1 1\n",
    );
    assert_eq!(
        stdout(&output).trim(),
        r#"{"count":2,"xorHigh":18446744073709551614,"xorLow":18446744073709551615,"sumHigh":0,"sumLow":18446744073709551615}"#
    );
}

#[test]
fn states_are_excluded_by_default_and_on_request() {
    // One ID per state, plus one without a state (always counted).
    let mut contents = String::new();
    let mut by_state = Vec::new();
    for state in ComponentState::ALL {
        let id = DispatcherId::new(u64::from(state.number()) + 100, 7);
        contents.push_str(&format!("{} {} {}\n", id.high, id.low, state));
        by_state.push((state, id));
    }
    let unstated = DispatcherId::new(1, 1);
    contents.push_str("1 1\n");
    let counting = |keep: &dyn Fn(ComponentState) -> bool| {
        let mut ids: Vec<DispatcherId> = by_state
            .iter()
            .filter(|(state, _)| keep(*state))
            .map(|(_, id)| *id)
            .collect();
        ids.push(unstated);
        Fingerprint::of(&ids)
    };

    assert_eq!(
        parse_fingerprint(&dcsum(&["fingerprint"], &contents)),
        counting(&ComponentState::is_included_by_default)
    );
    assert_eq!(
        parse_fingerprint(&dcsum(
            &["fingerprint", "--exclude-state", "none"],
            &contents
        )),
        counting(&|_| true)
    );
    let only_working_and_removed_out =
        counting(&|state| !matches!(state, ComponentState::Working | ComponentState::Removed));
    assert_eq!(
        parse_fingerprint(&dcsum(
            &["fingerprint", "--exclude-state", "Working,2"],
            &contents
        )),
        only_working_and_removed_out
    );
    assert_eq!(
        parse_fingerprint(&dcsum(
            &[
                "fingerprint",
                "--exclude-state",
                "working",
                "--exclude-state",
                "REMOVED"
            ],
            &contents
        )),
        only_working_and_removed_out
    );

    let mixed = dcsum(
        &["fingerprint", "--exclude-state", "none,Working"],
        &contents,
    );
    assert_eq!(mixed.status.code(), Some(2));
    assert!(stdout(&mixed).is_empty());
    assert!(
        stderr(&mixed).contains("cannot be combined"),
        "{}",
        stderr(&mixed)
    );

    let unknown = dcsum(&["fingerprint", "--exclude-state", "Sleeping"], &contents);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stdout(&unknown).is_empty());
    assert!(
        stderr(&unknown).contains("unknown lifecycle state \"Sleeping\""),
        "{}",
        stderr(&unknown)
    );
}

/// Malformed input: exit code 2, nothing on stdout, `dcsum: FILE:LINE: what was expected`.
#[test]
fn malformed_input_names_file_line_and_expectation() {
    let cases = [
        (
            "bad-uuid",
            "67e55044-10b1-426f-9247-bb680e5fe0cz",
            "is not a UUID",
        ),
        ("one-column", "12345", "one column"),
        ("overflow", "18446744073709551616 1", "overflows a u64"),
        ("hex-overflow", "0x10000000000000000 1", "overflows a u64"),
        (
            "unknown-state",
            "1 2 Running",
            "unknown lifecycle state \"Running\"",
        ),
        ("state-number", "1 2 9", "unknown lifecycle state \"9\""),
        ("four-columns", "1 2 3 4", "4 columns"),
        ("bad-json", r#"{"low": 1, "high": }"#, "not a JSON ID"),
    ];
    for (name, bad_line, message) in cases {
        // The bad line is line 4: after a good line, a comment and a blank line.
        let contents = format!("{}\n# comment\n\n{bad_line}\n3 4\n", UUIDS[0]);
        let path = write_file(name, &contents);
        let path = path.to_str().expect("UTF-8 path");
        let output = dcsum(&["fingerprint", path], "");
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(stdout(&output).is_empty(), "{name}: {}", stdout(&output));
        let error = stderr(&output);
        let prefix = format!("dcsum: {path}:4: ");
        assert!(error.starts_with(&prefix), "{name}: {error}");
        assert!(error.contains(message), "{name}: {error}");
        assert_eq!(error.lines().count(), 1, "{name}: {error}");

        let piped = dcsum(&["fingerprint", "-"], &contents);
        assert_eq!(piped.status.code(), Some(2), "{name}");
        assert!(stdout(&piped).is_empty());
        assert!(
            stderr(&piped).starts_with("dcsum: <stdin>:4: "),
            "{name}: {}",
            stderr(&piped)
        );
    }
}

/// A bad line's quote is cut to at most 64 characters with its length: a 10 MB line, a long
/// column. Exit code 2, nothing on stdout, one short line on stderr, from a file and from stdin.
#[test]
fn long_bad_lines_are_quoted_short() {
    let huge = "x".repeat(10 << 20);
    let column = "z".repeat(3000);
    let cases = [
        (
            "huge-line",
            format!("{}\n{huge}\n3 4\n", UUIDS[0]),
            2,
            format!(
                "line too long (10485760 bytes, starting \"{}\"…)",
                "x".repeat(64)
            ),
        ),
        (
            "long-state",
            format!("1 2\n# c\n\n1 2 {column}\r\n"),
            4,
            format!(
                "unknown lifecycle state \"{}\"… (3000 bytes)",
                "z".repeat(64)
            ),
        ),
    ];
    for (name, contents, line, message) in cases {
        let path = write_file(name, &contents);
        let path = path.to_str().expect("UTF-8 path");
        for (output, source) in [
            (dcsum(&["fingerprint", path], ""), path),
            (dcsum(&["fingerprint"], &contents), "<stdin>"),
        ] {
            assert_eq!(output.status.code(), Some(2), "{name}");
            assert!(stdout(&output).is_empty(), "{name}");
            let error = stderr(&output);
            assert_eq!(error.lines().count(), 1, "{name}: {error}");
            assert!(
                error.starts_with(&format!("dcsum: {source}:{line}: {message}")),
                "{name}: {error}"
            );
            assert!(error.len() < source.len() + 300, "{name}: {error}");
        }
    }
}

/// A list long enough to cross many read blocks, with CRLF endings: the fingerprint, then the
/// line number of an error near its end.
#[test]
fn a_long_crlf_list_and_a_late_error() {
    let ids: Vec<DispatcherId> = (0..300_000u64)
        .map(|i| DispatcherId::new(!i, i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect();
    let mut contents: String = ids.iter().map(|id| format!("{id}\r\n")).collect();
    assert_eq!(
        parse_fingerprint(&dcsum(&["fingerprint"], &contents)),
        Fingerprint::of(&ids)
    );
    contents.push_str("1 2 3 4\r\n");
    let output = dcsum(&["fingerprint"], &contents);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).starts_with("dcsum: <stdin>:300001: 4 columns"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    let missing = concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-no-such-file.txt");
    let output = dcsum(&["fingerprint", missing], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).starts_with(&format!("dcsum: {missing}: cannot open")),
        "{}",
        stderr(&output)
    );

    let unknown_kernel = dcsum(&["fingerprint", "--kernel", "avx1024"], "1 2\n");
    assert_eq!(unknown_kernel.status.code(), Some(2));
    assert!(stdout(&unknown_kernel).is_empty());
    let error = stderr(&unknown_kernel);
    assert!(error.contains("unknown kernel \"avx1024\""), "{error}");
    for &kernel in Kernel::all() {
        assert!(error.contains(kernel.name()), "{error}");
    }
}

#[test]
fn every_available_kernel_prints_the_same_fingerprint() {
    // Long enough to leave the short-input bypass, with states so the masked forms run too.
    let mut contents = String::new();
    let mut counted = Vec::new();
    for i in 0..3000u64 {
        let id = DispatcherId::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), !i);
        let state = ComponentState::ALL[(i % 7) as usize];
        if i % 5 == 0 {
            contents.push_str(&format!("{} {}\n", id.high, id.low));
            counted.push(id);
        } else {
            contents.push_str(&format!("{id} {state}\n"));
            if state.is_included_by_default() {
                counted.push(id);
            }
        }
    }
    let expected = Fingerprint::of(&counted);
    let automatic = dcsum(&["fingerprint"], &contents);
    assert_eq!(parse_fingerprint(&automatic), expected);
    for &kernel in Kernel::all() {
        let output = dcsum(&["fingerprint", "--kernel", kernel.name()], &contents);
        if kernel.is_available() {
            assert_eq!(stdout(&output), stdout(&automatic), "{kernel}");
            assert_eq!(output.status.code(), Some(0), "{kernel}");
        } else {
            // A kernel this CPU or build cannot run: exit 3 and the reason, nothing on stdout.
            assert_eq!(output.status.code(), Some(3), "{kernel}");
            assert!(stdout(&output).is_empty());
            let error = stderr(&output);
            assert!(
                error.starts_with(&format!("dcsum: kernel {kernel} cannot run here: ")),
                "{error}"
            );
        }
    }
}

#[cfg(feature = "no_avx512")]
#[test]
fn a_kernel_switched_off_by_the_build_exits_3() {
    let output = dcsum(&["fingerprint", "--kernel", "avx512"], "1 2\n");
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("cannot run here"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn kernels_lists_every_kernel_and_the_choice() {
    let output = dcsum(&["kernels"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for &kernel in Kernel::all() {
        let row = text
            .lines()
            .find(|line| line.split_whitespace().next() == Some(kernel.name()))
            .unwrap_or_else(|| panic!("no row for {kernel}: {text}"));
        let available = if kernel.is_available() { "yes" } else { "no" };
        assert_eq!(row.split_whitespace().nth(1), Some(available), "{row}");
    }
    for size in ["8", "1024", "65536", "1048576", "16777216"] {
        assert!(
            text.lines().any(|line| line.trim_start().starts_with(size)),
            "no choice row for {size}: {text}"
        );
    }
}

#[test]
fn kernels_json_and_the_thread_count() {
    let plan = dispatcher_checksum::choose::Plan::estimate();
    for threads in ["1", "2"] {
        let output = dcsum_with_env(
            &["kernels", "--json", "--sizes", "3,64K,16M"],
            "",
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        let kernels = report["kernels"].as_array().expect("kernels");
        assert_eq!(kernels.len(), Kernel::all().len());
        for (row, kernel) in kernels.iter().zip(Kernel::all()) {
            assert_eq!(row["name"], kernel.name());
            assert_eq!(row["available"], kernel.is_available());
            assert_eq!(
                row.get("unavailableBecause").is_some(),
                !kernel.is_available()
            );
        }
        assert_eq!(report["rayonThreads"], threads.parse::<u64>().unwrap());
        assert_eq!(report["plan"]["contiguous"], plan.contiguous.name());
        assert_eq!(report["plan"]["masked"], plan.masked.name());
        assert!(!report["plan"]["source"].as_str().unwrap().is_empty());
        let self_tests = report["selfTests"].as_array().expect("selfTests");
        assert!(
            self_tests.iter().all(|test| test["passed"] == true),
            "{self_tests:?}"
        );
        let choice = report["choice"].as_array().expect("choice");
        let picked: Vec<(u64, &str, &str)> = choice
            .iter()
            .map(|row| {
                (
                    row["ids"].as_u64().unwrap(),
                    row["form"].as_str().unwrap(),
                    row["kernel"].as_str().unwrap(),
                )
            })
            .collect();
        let large = |single: Kernel| {
            if threads == "1" {
                single.name()
            } else {
                "parallel"
            }
        };
        assert_eq!(
            picked,
            [
                (3, "contiguous", "scalar"),
                (3, "masked", "scalar"),
                (64 * 1024, "contiguous", plan.contiguous.name()),
                (64 * 1024, "masked", plan.masked.name()),
                (16 << 20, "contiguous", large(plan.contiguous)),
                (16 << 20, "masked", large(plan.masked)),
            ]
        );
        assert!(choice
            .iter()
            .all(|row| !row["reason"].as_str().unwrap().is_empty()));
    }
    let bad = dcsum(&["kernels", "--sizes", "12Q"], "");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn kernels_follows_a_pin_and_refuses_a_bad_one() {
    let pinned = dcsum_with_env(&["kernels", "--json"], "", &[("DCSUM_KERNEL", "scalar")]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    let report: serde_json::Value = serde_json::from_str(&stdout(&pinned)).expect("JSON");
    assert_eq!(report["plan"]["contiguous"], "scalar");
    assert_eq!(report["plan"]["masked"], "scalar");
    assert!(report["plan"]["source"]
        .as_str()
        .unwrap()
        .contains("DCSUM_KERNEL=scalar"));

    let bad = dcsum_with_env(&["kernels"], "", &[("DCSUM_KERNEL", "avx1024")]);
    assert_eq!(bad.status.code(), Some(2));
    let said = format!("{}{}", stdout(&bad), stderr(&bad));
    assert!(
        said.contains("DCSUM_KERNEL=\"avx1024\" names no kernel"),
        "{said}"
    );
}
