//! The ID text forms (UUID, `high low`, JSON) and lifecycle states, as `DispatcherId::from_str`
//! (UUID and `high low`), `input::parse_line` and `input::read_records` (all three) read them, and
//! the errors malformed text gets.

use dcsum::input::{
    parse_line, parse_line_bytes, quote, read_records, read_records_from_path, IdColumns, IdRecord,
    MAX_LINE_BYTES, QUOTE_CHARS,
};
use dispatcher_checksum::id::{parse_half, parse_uuid};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, Kernel, StateSet};
use proptest::prelude::*;

const UUID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

/// The ID of UUID text per the reference rule, computed here from the hex digits:
/// `low` = bytes 0..8 little-endian, `high` = bytes 8..16 little-endian.
fn reference_id(text: &str) -> DispatcherId {
    let hex: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    assert_eq!(hex.len(), 32, "{text}");
    let byte = |i: usize| u64::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    let low = (0..8).fold(0, |acc, i| acc | byte(i) << (8 * i));
    let high = (0..8).fold(0, |acc, i| acc | byte(8 + i) << (8 * i));
    DispatcherId::new(high, low)
}

fn line(text: &str) -> IdRecord {
    parse_line(text)
        .unwrap_or_else(|error| panic!("{text:?}: {error}"))
        .unwrap_or_else(|| panic!("{text:?} was skipped"))
}

fn line_error(text: &str) -> String {
    match parse_line(text) {
        Err(error) => error.to_string(),
        Ok(record) => panic!("{text:?} parsed as {record:?}"),
    }
}

#[test]
fn uuid_forms_map_bytes_to_halves() {
    let expected = reference_id(UUID);
    assert_eq!(expected.low, 0x6f42_b110_4450_e567);
    assert_eq!(expected.high, 0xc8e0_5f0e_68bb_4792);
    let forms = [
        UUID.to_string(),
        UUID.to_uppercase(),
        UUID.replace('-', ""),
        format!("{{{UUID}}}"),
        format!("urn:uuid:{UUID}"),
        format!("  {UUID}\t"),
    ];
    for form in &forms {
        assert_eq!(form.parse::<DispatcherId>(), Ok(expected), "{form}");
        assert_eq!(
            line(form),
            IdRecord {
                id: expected,
                state: None
            },
            "{form}"
        );
    }
    assert_eq!(parse_uuid(UUID), Ok(expected));
    // Display is canonical lower-case UUID text and reads back.
    assert_eq!(expected.to_string(), UUID);
    assert_eq!(
        expected.to_uuid_bytes(),
        *uuid::Uuid::parse_str(UUID).unwrap().as_bytes()
    );
    for text in [
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ] {
        assert_eq!(text.parse::<DispatcherId>(), Ok(reference_id(text)));
    }
}

#[test]
fn high_low_forms_in_decimal_and_hex() {
    let cases = [
        ("1 2", DispatcherId::new(1, 2)),
        ("0x10 0X1f", DispatcherId::new(16, 31)),
        ("0xABCDEF 42", DispatcherId::new(0xab_cdef, 42)),
        (
            "18446744073709551615 0xffffffffffffffff",
            DispatcherId::new(u64::MAX, u64::MAX),
        ),
        ("0 0", DispatcherId::new(0, 0)),
        ("  7\t\t8  ", DispatcherId::new(7, 8)),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<DispatcherId>(), Ok(expected), "{text}");
        assert_eq!(
            line(text),
            IdRecord {
                id: expected,
                state: None
            },
            "{text}"
        );
    }
    assert_eq!(parse_half("0xff"), Ok(255));
    assert_eq!(parse_half("00012"), Ok(12));
}

#[test]
fn json_forms_with_numbers_and_strings() {
    let expected = DispatcherId::new(u64::MAX, 3);
    let forms = [
        r#"{"low": 3, "high": 18446744073709551615}"#,
        r#"{"high":18446744073709551615,"low":3}"#,
        r#"{"low": "3", "high": "18446744073709551615"}"#,
        r#"{"low": "0x3", "high": "0xffffffffffffffff"}"#,
        r#"{"low": 3, "high": "0xFFFFFFFFFFFFFFFF", "note": "other fields are ignored"}"#,
    ];
    for form in forms {
        assert!(
            form.parse::<DispatcherId>().is_err(),
            "the library reads UUID and `high low` text only: {form}"
        );
        assert_eq!(
            line(form),
            IdRecord {
                id: expected,
                state: None
            },
            "{form}"
        );
    }
}

#[test]
fn states_by_name_and_number_in_every_form() {
    let id = reference_id(UUID);
    let cases = [
        (format!("{UUID} Working"), id, ComponentState::Working),
        (format!("{UUID} 5"), id, ComponentState::MergeReady),
        (
            format!("{UUID} merge_ready"),
            id,
            ComponentState::MergeReady,
        ),
        (
            format!("{UUID} MERGE-READY"),
            id,
            ComponentState::MergeReady,
        ),
        (
            "1 2 Initializing".to_string(),
            DispatcherId::new(1, 2),
            ComponentState::Initializing,
        ),
        (
            "1 0x2 6".to_string(),
            DispatcherId::new(1, 2),
            ComponentState::WaitingMerge,
        ),
        (
            r#"{"low":2,"high":1,"state":"Preparing"}"#.to_string(),
            DispatcherId::new(1, 2),
            ComponentState::Preparing,
        ),
        (
            r#"{"low":2,"high":1,"state":2}"#.to_string(),
            DispatcherId::new(1, 2),
            ComponentState::Removed,
        ),
    ];
    for (text, id, state) in cases {
        assert_eq!(
            line(&text),
            IdRecord {
                id,
                state: Some(state)
            },
            "{text}"
        );
    }
    for state in ComponentState::ALL {
        assert_eq!(state.name().parse::<ComponentState>(), Ok(state));
        assert_eq!(
            state.number().to_string().parse::<ComponentState>(),
            Ok(state)
        );
        assert_eq!(ComponentState::from_number(state.number()), Some(state));
        assert_eq!(line(&format!("1 2 {state}")).state, Some(state));
    }
}

#[test]
fn blank_and_comment_lines_are_skipped() {
    for text in ["", "   ", "\t", "# a comment", "   # indented comment 1 2"] {
        assert_eq!(parse_line(text), Ok(None), "{text:?}");
    }
}

#[test]
fn malformed_text_gets_a_clear_error() {
    let cases = [
        // (text, words the message must contain)
        (
            "67e55044-10b1-426f-9247-bb680e5fe0cz",
            vec!["is not a UUID", "8-4-4-4-12"],
        ),
        ("67e55044-10b1-426f-9247", vec!["is not a UUID"]),
        ("12345", vec!["one column", "expected a UUID"]),
        (
            "18446744073709551616 1",
            vec!["overflows a u64", "18446744073709551615"],
        ),
        ("1 0x1ffffffffffffffff", vec!["overflows a u64"]),
        ("1 -2", vec!["is not a u64"]),
        ("0x 2", vec!["is not a u64"]),
        ("1.5 2", vec!["is not a u64"]),
        (
            "1 2 Running",
            vec!["unknown lifecycle state \"Running\"", "Working"],
        ),
        ("1 2 7", vec!["unknown lifecycle state \"7\"", "0..=6"]),
        (
            "67e55044-10b1-426f-9247-bb680e5fe0c8 Sleeping",
            vec!["unknown lifecycle state"],
        ),
        ("1 2 3 4", vec!["4 columns", "expected"]),
        (r#"{"low": 1"#, vec!["not a JSON ID", "expected"]),
        (r#"{"low": 1}"#, vec!["not a JSON ID", "high"]),
        (r#"{"low": -1, "high": 2}"#, vec!["not a JSON ID"]),
        (
            r#"{"low": 1, "high": "0xzz"}"#,
            vec!["field \"high\"", "is not a u64"],
        ),
        (
            r#"{"low": "18446744073709551616", "high": 1}"#,
            vec!["field \"low\"", "overflows a u64"],
        ),
        (
            r#"{"low": 1, "high": 2, "state": "Dormant"}"#,
            vec!["unknown lifecycle state"],
        ),
        (
            r#"{"low": 1, "high": 2, "state": 9}"#,
            vec!["unknown lifecycle state"],
        ),
    ];
    for (text, words) in cases {
        let message = line_error(text);
        for word in words {
            assert!(
                message.contains(word),
                "{text:?}: {message:?} lacks {word:?}"
            );
        }
        // FromStr on a whole ID rejects them too (states aside, it takes no state column).
        assert!(text.parse::<DispatcherId>().is_err(), "{text:?}");
    }
    assert!("".parse::<DispatcherId>().is_err());
}

/// The text of the cut quote in `message`: from the `"` that opens it to the `"…` that ends it.
fn cut_quote(message: &str) -> &str {
    let end = message.find("\"…").expect("a cut quote");
    let start = message[..end].rfind('"').expect("an opening quote") + 1;
    &message[start..end]
}

#[test]
fn long_columns_are_quoted_short_with_their_length() {
    let long = "z".repeat(3000);
    let cases = [
        (long.clone(), "one column", 3000),
        (format!("{long}-"), "is not a UUID", 3001),
        (format!("1 {long}"), "is not a u64", 3000),
        (format!("1 2 {long}"), "unknown lifecycle state", 3000),
        (
            format!(r#"{{"low": 1, "high": "{long}"}}"#),
            "field \"high\"",
            3000,
        ),
    ];
    for (text, words, length) in cases {
        let message = line_error(&text);
        assert!(message.contains(words), "{message}");
        assert!(
            message.contains(&format!("… ({length} bytes)")),
            "{message}"
        );
        assert_eq!(
            cut_quote(&message).chars().count(),
            QUOTE_CHARS,
            "{message}"
        );
        assert!(message.len() < 400, "{} bytes: {message}", message.len());
    }
    // Short text is quoted whole, as before; escapes count towards the limit.
    assert_eq!(quote("abc"), "\"abc\"");
    let exact = "q".repeat(QUOTE_CHARS);
    assert_eq!(quote(&exact), format!("{exact:?}"));
    assert_eq!(
        quote(&format!("{exact}q")),
        format!("{exact:?}… ({} bytes)", QUOTE_CHARS + 1)
    );
    let tabs = "\t".repeat(QUOTE_CHARS);
    assert_eq!(cut_quote(&quote(&tabs)), "\\t".repeat(QUOTE_CHARS / 2));
}

#[test]
fn over_long_and_non_utf8_lines_are_errors() {
    let padded = format!("{}1 2", " ".repeat(MAX_LINE_BYTES - 3));
    assert_eq!(padded.len(), MAX_LINE_BYTES);
    assert_eq!(line(&padded).id, DispatcherId::new(1, 2));
    let longer = format!(" {padded}");
    let message = line_error(&longer);
    assert!(
        message.starts_with(&format!(
            "line too long ({} bytes, starting \"",
            MAX_LINE_BYTES + 1
        )),
        "{message}"
    );
    assert!(message.contains(&format!("expected at most {MAX_LINE_BYTES} bytes")));
    assert_eq!(
        parse_line_bytes(longer.as_bytes()).map_err(|error| error.message),
        Err(message)
    );

    let error = parse_line_bytes(b"1 \xff2").expect_err("not UTF-8");
    assert!(
        error
            .message
            .starts_with("byte 3 of the line (0xff) is not UTF-8 text: expected"),
        "{error}"
    );
    let error = read_records(&b"1 2\n3 \xc3\n"[..], "ids").expect_err("line 2 is not UTF-8");
    assert_eq!(error.line, 2);
    assert!(error.message.contains("(0xc3) is not UTF-8"), "{error}");
}

#[test]
fn crlf_endings_read_as_lf() {
    let lf = format!("{UUID}\n1 2 Working\n# c\n\n3 4");
    let crlf = lf.replace('\n', "\r\n");
    let read = |text: &str| read_records(text.as_bytes(), "ids").expect("valid");
    assert_eq!(read(&crlf), read(&lf));
    // A last line without a newline keeps a stray `\r`, which is white space to the parser.
    assert_eq!(read(&format!("{crlf}\r")), read(&lf));
}

#[test]
fn reader_reports_source_and_line() {
    let text = format!("# header\n\n{UUID}\n1 2 Working\n\nbogus-line\n3 4\n");
    let error = read_records(text.as_bytes(), "ids.txt").expect_err("line 6 is malformed");
    assert_eq!((error.source.as_str(), error.line), ("ids.txt", 6));
    let shown = error.to_string();
    assert!(shown.starts_with("ids.txt:6: "), "{shown}");
    assert!(shown.contains("bogus-line"), "{shown}");

    let good = format!("# header\n\n{UUID}\n1 2 Working\n  \n3 4\n");
    let records = read_records(good.as_bytes(), "ids.txt").expect("valid");
    assert_eq!(
        records,
        vec![
            IdRecord {
                id: reference_id(UUID),
                state: None
            },
            IdRecord {
                id: DispatcherId::new(1, 2),
                state: Some(ComponentState::Working)
            },
            IdRecord {
                id: DispatcherId::new(3, 4),
                state: None
            },
        ]
    );
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let path = concat!(env!("CARGO_TARGET_TMPDIR"), "/id_text-no-such-file.txt");
    let error = read_records_from_path(path).expect_err("no such file");
    assert_eq!(error.line, 0);
    assert!(error.to_string().starts_with(path), "{error}");
    assert!(error.message.contains("cannot open"), "{error}");
}

fn id_strategy() -> impl Strategy<Value = DispatcherId> {
    prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(high, low)| DispatcherId::new(high, low)),
        (0u64..8, 0u64..8).prop_map(|(high, low)| DispatcherId::new(high, low)),
    ]
}

fn state_strategy() -> impl Strategy<Value = ComponentState> {
    proptest::sample::select(ComponentState::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `IdColumns` counts every unstated record and the stated ones whose state is included, by
    /// the automatic choice and by every available kernel.
    #[test]
    fn records_with_and_without_states(
        records in proptest::collection::vec(
            (id_strategy(), proptest::option::of(state_strategy())),
            0..120,
        ),
    ) {
        let records: Vec<IdRecord> =
            records.into_iter().map(|(id, state)| IdRecord { id, state }).collect();
        let columns = IdColumns::from_records(&records);
        prop_assert_eq!(columns.len(), records.len());
        let counted: Vec<DispatcherId> = records
            .iter()
            .filter(|record| record.state.is_none_or(ComponentState::is_included_by_default))
            .map(|record| record.id)
            .collect();
        let expected = Fingerprint::from_ids(counted.iter().copied());
        prop_assert_eq!(columns.fingerprint(StateSet::DEFAULT_INCLUDED), expected);
        for &kernel in Kernel::all().iter().filter(|kernel| kernel.is_available()) {
            prop_assert_eq!(
                columns.fingerprint_with(kernel, StateSet::DEFAULT_INCLUDED),
                Ok(expected)
            );
        }
        let every: Vec<DispatcherId> = records.iter().map(|record| record.id).collect();
        prop_assert_eq!(columns.fingerprint(StateSet::ALL), Fingerprint::from_ids(every.iter().copied()));
    }
}
