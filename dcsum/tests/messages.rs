//! The message-name table of `dcsum decode`: every message by its short and its protobuf name,
//! JSON with the reference field names (checked against the JSON Python's protobuf prints for the
//! same bytes), JSON read back into the same bytes, and bad bytes (truncated, garbage, random)
//! giving errors, never panics. The heavy fuzzing is `fuzz_decode.rs`.

use dcsum::messages::{parse_hex, MessageType, Origin};
use dispatcher_checksum::protocol::{ChangefeedId, ChecksumUpdate, Mode, NodeId};
use dispatcher_checksum::wire::{
    decode, DispatcherSetChecksumHeartbeat, DispatcherSetChecksumUpdateRequest,
};
use dispatcher_checksum::Fingerprint;
use proptest::prelude::*;
use prost::Message;

fn changefeed() -> ChangefeedId {
    ChangefeedId::new(u64::MAX, 42, "orders", "prod")
}

fn fingerprint() -> Fingerprint {
    Fingerprint {
        count: 3,
        xor_high: 0xdead_beef,
        xor_low: 1 << 63,
        sum_high: 7,
        sum_low: u64::MAX,
    }
}

fn update() -> ChecksumUpdate {
    ChecksumUpdate {
        node: NodeId(4),
        epoch: 9,
        mode: Mode::Redo,
        seq: 12,
        fingerprint: fingerprint(),
    }
}

#[test]
fn json_uses_the_reference_field_names() {
    let message = DispatcherSetChecksumUpdateRequest::from_update(&changefeed(), &update());
    let json: serde_json::Value = serde_json::from_str(
        &MessageType::Update
            .decode_to_json(&message.encode_to_vec())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["changefeedID"]["name"], "orders");
    assert_eq!(json["changefeedID"]["keyspace"], "prod");
    assert_eq!(json["changefeedID"]["high"], u64::MAX);
    assert_eq!(json["epoch"], 9);
    assert_eq!(json["mode"], 1);
    assert_eq!(json["seq"], 12);
    for (name, value) in [
        ("count", 3),
        ("xorHigh", 0xdead_beef),
        ("xorLow", 1 << 63),
        ("sumHigh", 7),
        ("sumLow", u64::MAX),
    ] {
        assert_eq!(json["checksum"][name], value, "{name}");
    }
    // The JSON form reads back to the same message.
    let back: DispatcherSetChecksumUpdateRequest = serde_json::from_value(json).unwrap();
    assert_eq!(back, message);

    let heartbeat = DispatcherSetChecksumHeartbeat {
        state: 2,
        ..Default::default()
    };
    let text = serde_json::to_string(&heartbeat).unwrap();
    assert!(
        text.contains(r#""state":"MATCH""#) && text.contains(r#""stateSeq":0"#),
        "{text}"
    );
    let back: DispatcherSetChecksumHeartbeat = serde_json::from_str(&text).unwrap();
    assert_eq!(back, heartbeat);
}

#[test]
fn truncated_bytes_give_an_error_naming_the_message() {
    let bytes =
        DispatcherSetChecksumUpdateRequest::from_update(&changefeed(), &update()).encode_to_vec();
    for cut in 1..bytes.len() {
        // Some prefixes end on a field boundary and decode (protobuf cannot tell); the rest
        // must error, and none may panic.
        if let Err(error) = MessageType::Update.decode_to_json(&bytes[..cut]) {
            assert!(error
                .to_string()
                .contains("DispatcherSetChecksumUpdateRequest"));
        }
    }
    // Cutting inside the checksum sub-message is always an error.
    let error = MessageType::Update
        .decode_to_json(&bytes[..bytes.len() - 1])
        .unwrap_err();
    assert!(error.to_string().contains("not a valid"), "{error}");
}

#[test]
fn garbage_bytes_give_an_error() {
    for garbage in [
        &[0xff_u8; 12][..],
        b"hello, world",
        &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
    ] {
        for kind in MessageType::ALL {
            assert!(kind.decode_to_json(garbage).is_err(), "{kind} {garbage:?}");
        }
    }
}

#[test]
fn hex_input_parses_and_bad_hex_is_an_error() {
    assert_eq!(
        parse_hex("0x08 01\n10 ff").unwrap(),
        [0x08, 0x01, 0x10, 0xff]
    );
    assert!(parse_hex("0")
        .unwrap_err()
        .to_string()
        .contains("even number"));
    assert!(parse_hex("zz").unwrap_err().to_string().contains("byte 0"));
    assert_eq!(parse_hex("0X0a").unwrap(), [0x0a]);
    assert_eq!(parse_hex("").unwrap(), [0_u8; 0]);
    // A sign is not a digit (`u8::from_str_radix("+f", 16)` is 15).
    assert!(parse_hex("+f").unwrap_err().to_string().contains("byte 0"));
    assert!(parse_hex("0a-1")
        .unwrap_err()
        .to_string()
        .contains("byte 1"));
    assert!(parse_hex("é0").is_err());
    assert!(
        parse_hex("0x0x").is_err(),
        "one prefix, not any number of them"
    );
}

#[test]
fn every_type_is_known_by_its_short_and_its_protobuf_name_in_any_case() {
    for kind in MessageType::ALL {
        for name in [
            kind.name().to_string(),
            kind.message_name().to_string(),
            kind.name().to_uppercase(),
            kind.message_name().to_lowercase(),
            format!("  {}\n", kind.message_name()),
        ] {
            assert_eq!(name.parse::<MessageType>(), Ok(kind), "{name:?}");
        }
        assert_eq!(kind.to_string(), kind.name());
    }
    for (name, kind) in [
        ("HeartBeatRequest", MessageType::HeartBeatRequest),
        ("heartbeat-request", MessageType::HeartBeatRequest),
        ("Watermark", MessageType::Watermark),
        ("ChecksumMeta", MessageType::ChecksumMeta),
        ("checksum-meta", MessageType::ChecksumMeta),
        ("TableSpanStatus", MessageType::TableSpanStatus),
        ("DispatcherID", MessageType::DispatcherId),
        ("RunningError", MessageType::RunningError),
        ("ChangefeedID", MessageType::ChangefeedId),
        ("DispatcherSetChecksumUpdateRequest", MessageType::Update),
        ("DispatcherSetChecksumAckResponse", MessageType::Ack),
        ("DispatcherSetChecksum", MessageType::Checksum),
        ("DispatcherSetChecksumHeartbeat", MessageType::Heartbeat),
        ("DispatcherSetSketchRequest", MessageType::SketchRequest),
        ("DispatcherSetSketchResponse", MessageType::SketchResponse),
        ("ACK", MessageType::Ack),
    ] {
        assert_eq!(name.parse::<MessageType>(), Ok(kind), "{name}");
    }
    // No name means two types (`watermark` is both names of one).
    let mut names = std::collections::HashMap::new();
    for kind in MessageType::ALL {
        for name in [kind.name(), kind.message_name()] {
            let other = names.insert(name.to_ascii_lowercase(), kind);
            assert!(
                other.is_none() || other == Some(kind),
                "{name}: {other:?} and {kind}"
            );
        }
    }
    assert_eq!(MessageType::ALL.len(), 13);
    let ours: Vec<&str> = MessageType::ALL
        .iter()
        .filter(|kind| kind.origin() == Origin::Ours)
        .map(|kind| kind.name())
        .collect();
    assert_eq!(ours, ["heartbeat", "sketch-request", "sketch-response"]);
}

#[test]
fn an_unknown_name_is_an_error_listing_every_accepted_name() {
    let error = "HeartbeatReq"
        .parse::<MessageType>()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown message type \"HeartbeatReq\""),
        "{error}"
    );
    for kind in MessageType::ALL {
        assert!(
            error.contains(kind.name()) && error.contains(kind.message_name()),
            "{kind}: {error}"
        );
    }
    let help = MessageType::help();
    for kind in MessageType::ALL {
        let line = help
            .lines()
            .find(|line| line.split_whitespace().next() == Some(kind.name()))
            .unwrap_or_else(|| panic!("{kind} not in the help: {help}"));
        assert!(line.contains(kind.message_name()), "{line}");
        assert_eq!(
            line.contains("ours"),
            kind.origin() == Origin::Ours,
            "{line}"
        );
    }
}

#[test]
fn heartbeat_request_decodes_to_json_with_the_reference_names() {
    use dispatcher_checksum::wire::{
        ChangefeedIdMessage, DispatcherIdMessage, HeartBeatRequest, RunningError, TableSpanStatus,
        Watermark,
    };
    let message = HeartBeatRequest {
        changefeed_id: Some(ChangefeedIdMessage::from(&changefeed())),
        watermark: Some(Watermark {
            checkpoint_ts: 10,
            resolved_ts: 11,
            seq: 2,
            last_synced_ts: 9,
        }),
        redo_watermark: None,
        statuses: vec![TableSpanStatus {
            id: Some(DispatcherIdMessage { high: 1, low: 2 }),
            component_status: 1,
            checkpoint_ts: 10,
            event_size_per_second: 0.5,
            mode: 0,
        }],
        compelete_status: true,
        err: Some(RunningError {
            code: "E".into(),
            ..Default::default()
        }),
        checksum_state: 2,
        redo_checksum_state: 3,
        checksum_state_seq: 4,
        redo_checksum_state_seq: 5,
    };
    let text = MessageType::HeartBeatRequest
        .decode_to_json(&message.encode_to_vec())
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["changefeedID"]["name"], "orders");
    assert_eq!(json["watermark"]["checkpointTs"], 10);
    assert_eq!(json["watermark"]["lastSyncedTs"], 9);
    assert_eq!(json["redoWatermark"], serde_json::Value::Null);
    assert_eq!(json["statuses"][0]["ID"]["low"], 2);
    assert_eq!(json["statuses"][0]["component_status"], "Stopped");
    assert_eq!(json["statuses"][0]["event_size_per_second"], 0.5);
    assert_eq!(json["compeleteStatus"], true);
    assert_eq!(json["err"]["code"], "E");
    assert_eq!(json["checksumState"], "MATCH");
    assert_eq!(
        json["redoChecksumState"], 3,
        "a number with no name prints as the number"
    );
    assert_eq!(json["checksumStateSeq"], 4);
    assert_eq!(json["redoChecksumStateSeq"], 5);
    // And back: the JSON form encodes to the same bytes.
    assert_eq!(
        MessageType::HeartBeatRequest.encode_json(&text).unwrap(),
        message.encode_to_vec()
    );
    let error = MessageType::HeartBeatRequest
        .encode_json(r#"{"checksumState": "MATCH", "completeStatus": true}"#)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not a valid HeartBeatRequest in JSON"),
        "{error}"
    );
}

#[test]
fn sketch_messages_decode_to_json_by_type_name() {
    use dispatcher_checksum::wire::{DispatcherSetSketchRequest, DispatcherSetSketchResponse};
    let request = DispatcherSetSketchRequest {
        changefeed_id: None,
        epoch: 3,
        mode: 1,
        seq: 9,
        node: 7,
        sketch: vec![1, 2, 3],
    };
    let json = "sketch-request"
        .parse::<MessageType>()
        .unwrap()
        .decode_to_json(&request.encode_to_vec())
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["epoch"], 3);
    assert_eq!(value["node"], 7);
    let response = DispatcherSetSketchResponse {
        changefeed_id: None,
        epoch: 4,
        mode: 0,
        seq: 2,
        node: 1,
        sketch: vec![9; 24],
    };
    let json = "sketch-response"
        .parse::<MessageType>()
        .unwrap()
        .decode_to_json(&response.encode_to_vec())
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["seq"], 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        for kind in MessageType::ALL {
            let _ = kind.decode_to_json(&bytes);
        }
        if let Ok(message) = decode::<DispatcherSetChecksumUpdateRequest>(&bytes) {
            let _ = message.to_update(NodeId(0));
        }
        if let Ok(message) = decode::<DispatcherSetChecksumHeartbeat>(&bytes) {
            let _ = message.to_heartbeat();
        }
    }

    #[test]
    fn random_updates_round_trip(
        words in any::<[u64; 5]>(), epoch in any::<u64>(), seq in any::<u64>(), redo in any::<bool>(),
        name in ".{0,12}", keyspace in ".{0,12}", high in any::<u64>(), low in any::<u64>()
    ) {
        let changefeed = ChangefeedId::new(high, low, name, keyspace);
        let update = ChecksumUpdate {
            node: NodeId(1),
            epoch,
            mode: if redo { Mode::Redo } else { Mode::Default },
            seq,
            fingerprint: Fingerprint {
                count: words[0], xor_high: words[1], xor_low: words[2], sum_high: words[3], sum_low: words[4],
            },
        };
        let bytes = DispatcherSetChecksumUpdateRequest::from_update(&changefeed, &update).encode_to_vec();
        let decoded: DispatcherSetChecksumUpdateRequest = decode(&bytes).unwrap();
        prop_assert_eq!(decoded.to_update(NodeId(1)).unwrap(), (changefeed, update));
    }
}

// ---- Against another implementation's JSON -----------------------------------------------------
// tests/fixtures/reference-wire.txt (see comparisons/wire-fixtures/generate.py) carries, for each
// fixture, the JSON Python's protobuf prints for the bytes with the .proto field names. The field
// names must be the same as ours, and the values too, allowing for protobuf's JSON mapping: 64-bit
// integers as strings, `bytes` as base64, and message fields that are unset left out (ours: null).

const FIXTURES: &str = include_str!("../../tests/fixtures/reference-wire.txt");

/// (name, type, bytes, Python's JSON) for every fixture.
fn fixtures() -> Vec<(&'static str, &'static str, Vec<u8>, serde_json::Value)> {
    FIXTURES
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            assert_eq!(columns.len(), 4, "{line}");
            let bytes = parse_hex(columns[2]).unwrap();
            let json = serde_json::from_str(columns[3]).unwrap();
            (columns[0], columns[1], bytes, json)
        })
        .collect()
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0_u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|&byte| byte != b'=') {
        let value = ALPHABET.iter().position(|&a| a == byte).expect("base64") as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// Where `ours` differs from Python's JSON `theirs` (beyond the mapping's allowances), if anywhere.
fn difference(path: &str, ours: &serde_json::Value, theirs: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let differ = || Some(format!("{path}: ours {ours}, Python's {theirs}"));
    match (ours, theirs) {
        (Value::Object(ours), Value::Object(theirs)) => {
            for (key, value) in ours {
                let path = format!("{path}.{key}");
                let found = match theirs.get(key) {
                    Some(their) => difference(&path, value, their),
                    None if value.is_null() => None,
                    None => Some(format!("{path}: ours {value}, Python has no such field")),
                };
                if found.is_some() {
                    return found;
                }
            }
            theirs
                .keys()
                .find(|key| !ours.contains_key(*key))
                .map(|key| format!("{path}.{key}: Python prints it, ours has no such field"))
        }
        (Value::Array(ours), Value::Array(theirs)) if ours.len() == theirs.len() => ours
            .iter()
            .zip(theirs)
            .enumerate()
            .find_map(|(i, (ours, theirs))| difference(&format!("{path}[{i}]"), ours, theirs)),
        // `bytes`: ours an array of numbers, protobuf's JSON base64.
        (Value::Array(bytes), Value::String(text)) => {
            let ours: Vec<u64> = bytes.iter().filter_map(Value::as_u64).collect();
            let theirs: Vec<u64> = base64(text).into_iter().map(u64::from).collect();
            (ours != theirs).then(differ).flatten()
        }
        // 64-bit integers: protobuf's JSON writes them as strings.
        (Value::Number(number), Value::String(text)) => {
            (number.to_string() != *text).then(differ).flatten()
        }
        (Value::Number(ours), Value::Number(theirs)) => {
            let same = match (ours.as_i64(), theirs.as_i64()) {
                (Some(ours), Some(theirs)) => ours == theirs,
                // `float` fields: both print a shortest form, not always the same digits.
                _ => {
                    let f32_of = |number: &serde_json::Number| number.as_f64().unwrap() as f32;
                    f32_of(ours).to_bits() == f32_of(theirs).to_bits()
                }
            };
            (!same).then(differ).flatten()
        }
        _ => (ours != theirs).then(differ).flatten(),
    }
}

#[test]
fn json_has_the_field_names_and_values_python_prints_for_the_same_bytes() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 25);
    for (name, kind, bytes, theirs) in fixtures {
        // The type column is the protobuf name: the lookup by reference name is tested too.
        let kind: MessageType = kind.parse().unwrap();
        let mut ours: serde_json::Value =
            serde_json::from_str(&kind.decode_to_json(&bytes).unwrap()).unwrap();
        if name == "ack-reference" {
            // Our field 5, which the reference's acknowledgement lacks: absent, so 0.
            let incarnation = ours.as_object_mut().unwrap().remove("incarnation");
            assert_eq!(incarnation, Some(serde_json::json!(0)));
        }
        if let Some(difference) = difference("", &ours, &theirs) {
            panic!("fixture {name} ({kind}): {difference}");
        }
    }
}

#[test]
fn the_json_comparison_catches_a_wrong_name_or_value() {
    // Without this, a comparison that accepted everything would pass the test above.
    let theirs: serde_json::Value = serde_json::from_str(
        r#"{"compeleteStatus": true, "checksumStateSeq": "18446744073709551615", "sketch": "AAEC"}"#,
    )
    .unwrap();
    let ours = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let good = ours(
        r#"{"compeleteStatus": true, "checksumStateSeq": 18446744073709551615, "sketch": [0, 1, 2], "err": null}"#,
    );
    assert_eq!(difference("", &good, &theirs), None);
    for bad in [
        r#"{"completeStatus": true, "checksumStateSeq": 18446744073709551615, "sketch": [0, 1, 2]}"#,
        r#"{"compeleteStatus": false, "checksumStateSeq": 18446744073709551615, "sketch": [0, 1, 2]}"#,
        r#"{"compeleteStatus": true, "checksumStateSeq": 1, "sketch": [0, 1, 2]}"#,
        r#"{"compeleteStatus": true, "checksumStateSeq": 18446744073709551615, "sketch": [0, 1]}"#,
        r#"{"compeleteStatus": true, "checksumStateSeq": 18446744073709551615, "sketch": [0, 1, 2], "err": {}}"#,
    ] {
        assert!(difference("", &ours(bad), &theirs).is_some(), "{bad}");
    }
}

#[test]
fn every_fixture_reads_back_from_its_json_into_equivalent_bytes() {
    for (name, kind, bytes, _) in fixtures() {
        let kind: MessageType = kind.parse().unwrap();
        let json = kind.decode_to_json(&bytes).unwrap();
        let again = kind.encode_json(&json).unwrap();
        let json_again = kind.decode_to_json(&again).unwrap();
        let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        // As JSON values: prost drops a `-0.0` rate on encoding, which only the sign of a zero
        // number tells apart (see tests/wire.rs).
        assert_eq!(value(&json_again), value(&json), "{name}");
    }
}
