//! Wire messages: round trips for every message (the reference heartbeat layout with every field
//! set, through bytes and JSON), the field numbers byte for byte, conversions to and from the
//! protocol types, JSON names, and bytes written by another protobuf implementation (Python's,
//! `tests/fixtures/reference-wire.txt`) decoding to the values it was given.

use dispatcher_checksum::protocol::{
    ChangefeedId, ChecksumAck, ChecksumHeartbeat, ChecksumState, ChecksumUpdate, ExpectedVersion,
    Mode, NodeId,
};
use dispatcher_checksum::wire;
use dispatcher_checksum::wire::{
    decode, ChangefeedIdMessage, ChecksumMeta, DispatcherIdMessage, DispatcherSetChecksum,
    DispatcherSetChecksumAckResponse, DispatcherSetChecksumHeartbeat,
    DispatcherSetChecksumUpdateRequest, DispatcherSetSketchRequest, DispatcherSetSketchResponse,
    HeartBeatRequest, RunningError, TableSpanStatus, Watermark,
};
use dispatcher_checksum::{ComponentState, Fingerprint};
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
fn checksum_field_numbers_are_the_reference_ones() {
    let message = DispatcherSetChecksum {
        count: 1,
        xor_high: 2,
        xor_low: 3,
        sum_high: 4,
        sum_low: 5,
    };
    // Field n, varint: tag byte (n << 3) | 0, then the value.
    assert_eq!(
        message.encode_to_vec(),
        [0x08, 1, 0x10, 2, 0x18, 3, 0x20, 4, 0x28, 5]
    );
}

#[test]
fn changefeed_id_field_numbers_are_the_reference_ones() {
    let message = ChangefeedIdMessage {
        high: 1,
        low: 2,
        name: "n".into(),
        keyspace: "k".into(),
    };
    assert_eq!(
        message.encode_to_vec(),
        [0x08, 1, 0x10, 2, 0x1a, 1, b'n', 0x22, 1, b'k']
    );
}

#[test]
fn update_and_ack_field_numbers_are_the_reference_ones() {
    let changefeed = ChangefeedIdMessage {
        high: 1,
        ..Default::default()
    };
    let update = DispatcherSetChecksumUpdateRequest {
        changefeed_id: Some(changefeed.clone()),
        epoch: 2,
        mode: 1,
        seq: 3,
        checksum: Some(DispatcherSetChecksum {
            count: 4,
            ..Default::default()
        }),
    };
    assert_eq!(
        update.encode_to_vec(),
        [0x0a, 2, 0x08, 1, 0x10, 2, 0x18, 1, 0x20, 3, 0x2a, 2, 0x08, 4]
    );
    let mut ack = DispatcherSetChecksumAckResponse {
        changefeed_id: Some(changefeed),
        epoch: 2,
        mode: 1,
        seq: 3,
        incarnation: 0,
    };
    assert_eq!(
        ack.encode_to_vec(),
        [0x0a, 2, 0x08, 1, 0x10, 2, 0x18, 1, 0x20, 3],
        "without our field 5 the bytes are the reference message's"
    );
    ack.incarnation = 6;
    assert_eq!(
        ack.encode_to_vec(),
        [0x0a, 2, 0x08, 1, 0x10, 2, 0x18, 1, 0x20, 3, 0x28, 6]
    );
    // int64 mode: a negative value is a 10-byte varint, as protobuf's int64 is.
    let negative = DispatcherSetChecksumAckResponse {
        mode: -1,
        ..Default::default()
    };
    assert_eq!(negative.encode_to_vec().len(), 11);
}

#[test]
fn enum_numbers_are_the_reference_ones() {
    // The wire's enumerations are the domain enums; prost reads the `i32` through `TryFrom`.
    let numbers: Vec<i32> = ChecksumState::ALL.iter().map(|s| s.wire()).collect();
    assert_eq!(numbers, [0, 1, 2]);
    for state in ChecksumState::ALL {
        assert_eq!(ChecksumState::try_from(state.wire()), Ok(state));
        assert_eq!(ChecksumState::from_name(state.name()), Some(state));
    }
    assert!(ChecksumState::try_from(3).is_err());
    for (number, state) in ComponentState::ALL.into_iter().enumerate() {
        assert_eq!(i32::from(state.number()), number as i32);
        assert_eq!(ComponentState::try_from(number as i32), Ok(state));
    }
    assert!(ComponentState::try_from(7).is_err() && ComponentState::try_from(-1).is_err());
    assert_eq!(
        ComponentState::default(),
        ComponentState::Working,
        "the protobuf zero value"
    );
    let heartbeat = DispatcherSetChecksumHeartbeat {
        state: 2,
        ..Default::default()
    };
    assert_eq!(heartbeat.state(), ChecksumState::Match, "prost's getter");
}

#[test]
fn update_round_trips_through_bytes_and_protocol_types() {
    let message = DispatcherSetChecksumUpdateRequest::from_update(&changefeed(), &update());
    let decoded: DispatcherSetChecksumUpdateRequest = decode(&message.encode_to_vec()).unwrap();
    assert_eq!(decoded, message);
    let (changefeed_back, update_back) = decoded.to_update(NodeId(4)).unwrap();
    assert_eq!(changefeed_back, changefeed());
    assert_eq!(update_back, update());
}

#[test]
fn ack_round_trips_through_bytes_and_protocol_types() {
    let ack = ChecksumAck {
        node: NodeId(2),
        incarnation: 1 << 40,
        epoch: 5,
        mode: Mode::Default,
        seq: u64::MAX,
    };
    let message = DispatcherSetChecksumAckResponse::from_ack(&changefeed(), &ack);
    let decoded: DispatcherSetChecksumAckResponse = decode(&message.encode_to_vec()).unwrap();
    assert_eq!(decoded, message);
    assert_eq!(decoded.to_ack(NodeId(2)).unwrap(), (changefeed(), ack));
}

#[test]
fn checksum_round_trips_through_bytes_and_fingerprint() {
    let message = DispatcherSetChecksum::from(fingerprint());
    let decoded: DispatcherSetChecksum = decode(&message.encode_to_vec()).unwrap();
    assert_eq!(Fingerprint::from(decoded), fingerprint());
}

#[test]
fn changefeed_id_round_trips() {
    let message = ChangefeedIdMessage::from(&changefeed());
    let decoded: ChangefeedIdMessage = decode(&message.encode_to_vec()).unwrap();
    assert_eq!(ChangefeedId::from(decoded), changefeed());
}

#[test]
fn heartbeat_round_trips_through_bytes_and_protocol_types() {
    for (state, watermark) in [
        (ChecksumState::Match, Some(0)),
        (ChecksumState::Mismatch, None),
        (ChecksumState::Uninitialized, None),
    ] {
        let heartbeat = ChecksumHeartbeat {
            node: NodeId(8),
            incarnation: 1_733_000_000_000,
            mode: Mode::Redo,
            seq: 77,
            state,
            state_seq: 3,
            watermark,
            verified_against: ExpectedVersion { epoch: 6, seq: 2 },
            actual: None,
        };
        let message = DispatcherSetChecksumHeartbeat::from_heartbeat(&changefeed(), &heartbeat);
        let decoded: DispatcherSetChecksumHeartbeat = decode(&message.encode_to_vec()).unwrap();
        assert_eq!(decoded.watermark, watermark, "0 and absent stay distinct");
        assert_eq!(decoded.to_heartbeat().unwrap(), (changefeed(), heartbeat));
    }
}

#[test]
fn conversions_reject_unknown_mode_unknown_state_and_missing_fields() {
    let mut message = DispatcherSetChecksumUpdateRequest::from_update(&changefeed(), &update());
    message.mode = 7;
    let error = message.to_update(NodeId(1)).unwrap_err();
    assert!(error.to_string().contains("mode is 7"), "{error}");
    message.mode = 0;
    message.checksum = None;
    assert!(message
        .to_update(NodeId(1))
        .unwrap_err()
        .to_string()
        .contains("checksum is missing"));
    let ack = DispatcherSetChecksumAckResponse::default();
    assert!(ack
        .to_ack(NodeId(1))
        .unwrap_err()
        .to_string()
        .contains("changefeedID is missing"));
    let heartbeat = DispatcherSetChecksumHeartbeat {
        changefeed_id: Some(ChangefeedIdMessage::default()),
        state: 9,
        ..Default::default()
    };
    assert!(heartbeat
        .to_heartbeat()
        .unwrap_err()
        .to_string()
        .contains("state is 9"));
}

// ---- The reference heartbeat layout ------------------------------------------------------------

fn status(
    high: u64,
    low: u64,
    state: i32,
    checkpoint_ts: u64,
    rate: f32,
    mode: i64,
) -> TableSpanStatus {
    TableSpanStatus {
        id: Some(DispatcherIdMessage { high, low }),
        component_status: state,
        checkpoint_ts,
        event_size_per_second: rate,
        mode,
    }
}

/// Heartbeats with every field set, each differently: both watermarks, several statuses, the
/// misspelled `compeleteStatus`, an error, both states and seqs (and the extremes of each).
fn full_heartbeats() -> Vec<HeartBeatRequest> {
    let base = HeartBeatRequest {
        changefeed_id: Some(ChangefeedIdMessage::from(&changefeed())),
        watermark: Some(Watermark {
            checkpoint_ts: 449_000_000_000_000_001,
            resolved_ts: 449_000_000_000_000_009,
            seq: 7,
            last_synced_ts: 448_999_999_999_999_990,
        }),
        redo_watermark: Some(Watermark {
            checkpoint_ts: 5,
            resolved_ts: 6,
            seq: 1 << 63,
            last_synced_ts: u64::MAX,
        }),
        statuses: vec![
            status(1, 2, 0, 100, 1.5, 0),
            status(u64::MAX, 0, 1, 101, 0.25, 1),
            status(0, u64::MAX, 6, u64::MAX, 3.25e6, 0),
        ],
        compelete_status: true,
        err: Some(RunningError {
            time: "2026-03-01T12:00:00Z".into(),
            node: "node-3".into(),
            code: "CDC:ErrSinkFailure".into(),
            message: "sink: connection refused".into(),
        }),
        checksum_state: ChecksumState::Match.wire(),
        redo_checksum_state: ChecksumState::Mismatch.wire(),
        checksum_state_seq: 12,
        redo_checksum_state_seq: 1 << 63,
    };
    let mut extremes = base.clone();
    extremes.checksum_state = ChecksumState::Mismatch.wire();
    extremes.redo_checksum_state = ChecksumState::Match.wire();
    extremes.checksum_state_seq = u64::MAX;
    extremes.redo_checksum_state_seq = 1;
    extremes.statuses = ComponentState::ALL
        .into_iter()
        .enumerate()
        .map(|(i, state)| {
            let i = i as u64;
            status(
                i,
                !i,
                i32::from(state.number()),
                i << 40,
                i as f32 * 0.5,
                (i % 2) as i64,
            )
        })
        .collect();
    extremes.err = Some(RunningError {
        time: "t".into(),
        node: "节点 ü 🚀".into(),
        code: String::new(),
        message: "line one\nline \"two\"\t\\".into(),
    });
    // Numbers the enumerations do not name survive too (protobuf 3 enums are open).
    let mut unknown = base.clone();
    unknown.checksum_state = 7;
    unknown.redo_checksum_state = -3;
    unknown.statuses = vec![status(3, 4, 9, 0, -1.0, -1)];
    vec![base, extremes, unknown]
}

#[test]
fn heartbeat_request_round_trips_through_bytes_and_json_with_every_field_set() {
    for message in full_heartbeats() {
        let bytes = message.encode_to_vec();
        let decoded: HeartBeatRequest = decode(&bytes).unwrap();
        assert_eq!(decoded, message);
        let json = serde_json::to_string(&message).unwrap();
        let back: HeartBeatRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, message, "{json}");
        // JSON → message → bytes is the same bytes: nothing is lost on the JSON side either.
        assert_eq!(back.encode_to_vec(), bytes);
    }
}

#[test]
fn heartbeat_request_json_has_the_reference_field_names_and_enum_names() {
    let message = full_heartbeats().remove(0);
    let json: serde_json::Value = serde_json::to_value(&message).unwrap();
    let keys = |value: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&json),
        [
            "changefeedID",
            "checksumState",
            "checksumStateSeq",
            "compeleteStatus",
            "err",
            "redoChecksumState",
            "redoChecksumStateSeq",
            "redoWatermark",
            "statuses",
            "watermark",
        ]
    );
    assert_eq!(
        keys(&json["watermark"]),
        ["checkpointTs", "lastSyncedTs", "resolvedTs", "seq"]
    );
    assert_eq!(
        keys(&json["statuses"][0]),
        [
            "ID",
            "checkpoint_ts",
            "component_status",
            "event_size_per_second",
            "mode"
        ]
    );
    assert_eq!(keys(&json["statuses"][0]["ID"]), ["high", "low"]);
    assert_eq!(keys(&json["err"]), ["code", "message", "node", "time"]);
    assert_eq!(json["checksumState"], "MATCH");
    assert_eq!(json["redoChecksumState"], "MISMATCH");
    assert_eq!(json["compeleteStatus"], true);
    assert_eq!(json["statuses"][2]["component_status"], "WaitingMerge");
    assert_eq!(json["redoWatermark"]["lastSyncedTs"], u64::MAX);

    // Numbers without a name print as numbers and read back.
    let unknown = full_heartbeats().remove(2);
    let json = serde_json::to_value(&unknown).unwrap();
    assert_eq!(json["checksumState"], 7);
    assert_eq!(json["redoChecksumState"], -3);
    assert_eq!(json["statuses"][0]["component_status"], 9);
    // Either form of an enumeration reads: the name, or the number.
    let by_number: ChecksumMeta =
        serde_json::from_str(r#"{"state": 2, "checksumStateSeq": 5}"#).unwrap();
    let by_name: ChecksumMeta =
        serde_json::from_str(r#"{"state": "MATCH", "checksumStateSeq": 5}"#).unwrap();
    assert_eq!(by_number, by_name);
    assert!(
        serde_json::from_str::<ChecksumMeta>(r#"{"state": "MATHC", "checksumStateSeq": 5}"#)
            .is_err()
    );
    let meta = serde_json::to_string(&ChecksumMeta {
        state: 1,
        checksum_state_seq: 3,
    })
    .unwrap();
    assert_eq!(meta, r#"{"state":"MISMATCH","checksumStateSeq":3}"#);
}

#[test]
fn event_rates_that_are_not_finite_print_as_protobuf_json_names_and_read_back() {
    for (rate, text) in [
        (f32::NAN, r#""NaN""#),
        (f32::INFINITY, r#""Infinity""#),
        (f32::NEG_INFINITY, r#""-Infinity""#),
        (-0.0, "-0.0"),
        (f32::MAX, "3.4028235e+38"),
    ] {
        let message = status(1, 2, 0, 3, rate, 0);
        let json = serde_json::to_string(&message).unwrap();
        assert!(
            json.contains(&format!(r#""event_size_per_second":{text}"#)),
            "{json}"
        );
        let back: TableSpanStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.event_size_per_second.to_bits(),
            rate.to_bits(),
            "{json}"
        );
    }
    assert!(serde_json::from_str::<TableSpanStatus>(r#"{"event_size_per_second":"nan","ID":null,"component_status":0,"checkpoint_ts":0,"mode":0}"#).is_err());
}

#[test]
fn heartbeat_request_field_numbers_are_the_reference_ones() {
    let message = HeartBeatRequest {
        changefeed_id: Some(ChangefeedIdMessage {
            high: 1,
            ..Default::default()
        }),
        watermark: Some(Watermark {
            checkpoint_ts: 1,
            resolved_ts: 2,
            seq: 3,
            last_synced_ts: 4,
        }),
        redo_watermark: Some(Watermark::default()),
        statuses: vec![TableSpanStatus {
            id: Some(DispatcherIdMessage { high: 1, low: 2 }),
            component_status: 3,
            checkpoint_ts: 4,
            event_size_per_second: 1.0,
            mode: 1,
        }],
        compelete_status: true,
        err: Some(RunningError {
            code: "c".into(),
            ..Default::default()
        }),
        checksum_state: 2,
        redo_checksum_state: 1,
        checksum_state_seq: 5,
        redo_checksum_state_seq: 6,
    };
    #[rustfmt::skip]
    let expected = [
        0x0a, 2, 0x08, 1,                               // 1 changefeedID {1 high}
        0x12, 8, 0x08, 1, 0x10, 2, 0x18, 3, 0x20, 4,    // 2 watermark {1, 2, 3, 4}
        0x1a, 0,                                        // 3 redoWatermark, present and empty
        0x22, 17,                                       // 4 statuses, one:
        0x0a, 4, 0x08, 1, 0x10, 2,                      //   1 ID {1 high, 2 low}
        0x10, 3, 0x18, 4,                               //   2 component_status, 3 checkpoint_ts
        0x25, 0x00, 0x00, 0x80, 0x3f,                   //   4 event_size_per_second (fixed32 1.0)
        0x28, 1,                                        //   5 mode
        0x28, 1,                                        // 5 compeleteStatus
        0x32, 3, 0x1a, 1, b'c',                         // 6 err {3 code}
        0x38, 2, 0x40, 1, 0x48, 5, 0x50, 6,             // 7, 8, 9, 10
    ];
    assert_eq!(message.encode_to_vec(), expected);
    let meta = ChecksumMeta {
        state: 2,
        checksum_state_seq: 9,
    };
    assert_eq!(meta.encode_to_vec(), [0x08, 2, 0x10, 9]);
}

// ---- Bytes made by another protobuf implementation --------------------------------------------
// tests/fixtures/reference-wire.txt is written by comparisons/wire-fixtures/generate.py (protoc and
// Python's `protobuf`, see its header for the versions). The values below are the generator's,
// written out again here: each side states what it expects.

const FIXTURES: &str = include_str!("fixtures/reference-wire.txt");

/// The fixtures: (name, message type, bytes).
fn fixtures() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    FIXTURES
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            assert_eq!(columns.len(), 4, "{line}");
            let hex = columns[2];
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (columns[0], columns[1], bytes)
        })
        .collect()
}

/// Whether re-encoding with prost gives the generator's bytes back.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Encoding {
    /// The same bytes: both implementations write fields in number order and skip defaults.
    Same,
    /// Different bytes for the same values: the fixture was two messages concatenated (a
    /// merge) or carries fields the crate does not know.
    Other,
    /// prost writes a `float` field only when it is `!= 0.0`, which `-0.0` is not: the sign is
    /// dropped on re-encoding (the decoded value keeps it).
    NegativeZeroDropped,
}

/// Decodes `bytes` as `M` and checks it against `expected`, field by field: the `Debug` texts are
/// compared because they tell `-0.0` from `0.0` (where `==` does not) and show every field.
fn check<M>(name: &str, bytes: &[u8], expected: M, encoding: Encoding)
where
    M: Message + Default + prost::Name + std::fmt::Debug,
{
    assert_eq!(
        M::NAME,
        fixture_type(name),
        "{name}: the fixture's type column"
    );
    let decoded: M = decode(bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(format!("{decoded:#?}"), format!("{expected:#?}"), "{name}");
    let reencoded = expected.encode_to_vec();
    match encoding {
        Encoding::Same => assert_eq!(reencoded, bytes, "{name}: prost's bytes for the values"),
        Encoding::Other | Encoding::NegativeZeroDropped => {
            assert_ne!(
                reencoded, bytes,
                "{name}: expected different bytes ({encoding:?})"
            )
        }
    }
}

fn fixture_type(name: &str) -> &'static str {
    fixtures()
        .into_iter()
        .find(|(fixture, _, _)| *fixture == name)
        .map(|(_, kind, _)| kind)
        .unwrap()
}

fn reference_changefeed() -> ChangefeedIdMessage {
    ChangefeedIdMessage {
        high: u64::MAX,
        low: 42,
        name: "orders".into(),
        keyspace: "prod".into(),
    }
}

fn reference_checksum() -> DispatcherSetChecksum {
    DispatcherSetChecksum {
        count: 3,
        xor_high: 0xdead_beef,
        xor_low: 1 << 63,
        sum_high: 7,
        sum_low: u64::MAX,
    }
}

fn changefeed_message(high: u64, low: u64, name: &str, keyspace: &str) -> ChangefeedIdMessage {
    ChangefeedIdMessage {
        high,
        low,
        name: name.into(),
        keyspace: keyspace.into(),
    }
}

/// Checks fixture `name`; false if this test does not know it.
fn check_fixture(name: &str, bytes: &[u8]) -> bool {
    use Encoding::*;
    let heartbeat = HeartBeatRequest::default;
    match name {
        "heartbeat-full" => check(name, bytes, full_heartbeats().remove(0), Same),
        "heartbeat-empty" => check(name, bytes, heartbeat(), Same),
        "heartbeat-zero-watermark" => check(
            name,
            bytes,
            HeartBeatRequest {
                watermark: Some(Watermark::default()),
                checksum_state: 2,
                checksum_state_seq: 1,
                ..heartbeat()
            },
            Same,
        ),
        "heartbeat-edge" => check(
            name,
            bytes,
            HeartBeatRequest {
                changefeed_id: Some(changefeed_message(0, 0, "订单-ü-🚀", "")),
                statuses: vec![status(3, 4, 9, 0, 0.25, -1)],
                checksum_state: 7,
                redo_checksum_state: -3,
                checksum_state_seq: u64::MAX,
                ..heartbeat()
            },
            Same,
        ),
        // Two messages back to back: scalars last-wins, sub-messages merge, repeated appends.
        "heartbeat-merged" => check(
            name,
            bytes,
            HeartBeatRequest {
                changefeed_id: Some(changefeed_message(1, 2, "second", "")),
                watermark: Some(Watermark {
                    checkpoint_ts: 5,
                    resolved_ts: 9,
                    seq: 1,
                    last_synced_ts: 0,
                }),
                statuses: vec![status(1, 1, 0, 10, 0.0, 0), status(2, 2, 3, 20, 0.0, 1)],
                compelete_status: true,
                checksum_state: 2,
                checksum_state_seq: 5,
                ..heartbeat()
            },
            Other,
        ),
        // A newer sender's fields 11-14 and 536870911 are skipped.
        "heartbeat-future-fields" => check(
            name,
            bytes,
            HeartBeatRequest {
                changefeed_id: Some(changefeed_message(9, 8, "next", "ks")),
                watermark: Some(Watermark {
                    checkpoint_ts: 77,
                    resolved_ts: 78,
                    seq: 2,
                    last_synced_ts: 76,
                }),
                statuses: vec![status(5, 6, 2, 70, 12.5, 0)],
                checksum_state: 2,
                checksum_state_seq: 3,
                ..heartbeat()
            },
            Other,
        ),
        "checksum-meta" => check(
            name,
            bytes,
            ChecksumMeta {
                state: 2,
                checksum_state_seq: 99,
            },
            Same,
        ),
        "checksum-meta-mismatch" => check(
            name,
            bytes,
            ChecksumMeta {
                state: 1,
                checksum_state_seq: 0,
            },
            Same,
        ),
        "watermark-max" => check(
            name,
            bytes,
            Watermark {
                checkpoint_ts: u64::MAX,
                resolved_ts: u64::MAX,
                seq: u64::MAX,
                last_synced_ts: u64::MAX,
            },
            Same,
        ),
        "status-nan" => {
            check(name, bytes, status(1, 2, 4, 3, f32::NAN, 0), Same);
            let decoded: TableSpanStatus = decode(bytes).unwrap();
            // Python writes the quiet NaN; prost keeps the exact bits.
            assert_eq!(decoded.event_size_per_second.to_bits(), 0x7fc0_0000);
        }
        "status-infinity" => check(name, bytes, status(1, 2, 5, 3, f32::INFINITY, 1), Same),
        "status-negative-infinity" => {
            check(name, bytes, status(1, 2, 0, 3, f32::NEG_INFINITY, 0), Same)
        }
        "status-negative-zero" => {
            check(
                name,
                bytes,
                status(1, 2, 0, 3, -0.0, 0),
                NegativeZeroDropped,
            );
            let decoded: TableSpanStatus = decode(bytes).unwrap();
            assert!(decoded.event_size_per_second.is_sign_negative());
        }
        "status-subnormal" => check(name, bytes, status(0, 0, 0, 0, f32::from_bits(1), 0), Same),
        "status-max" => check(name, bytes, status(0, 0, 0, 0, f32::MAX, 0), Same),
        "dispatcher-id" => check(
            name,
            bytes,
            DispatcherIdMessage {
                high: 0x0123_4567_89ab_cdef,
                low: u64::MAX,
            },
            Same,
        ),
        "changefeed-id" => check(name, bytes, changefeed_message(1, 2, "cf", "default"), Same),
        "running-error" => check(
            name,
            bytes,
            RunningError {
                time: "t".into(),
                node: "节点".into(),
                code: "E1".into(),
                message: "line one\nline \"two\"\t".into(),
            },
            Same,
        ),
        "checksum" => check(name, bytes, reference_checksum(), Same),
        "update" => check(
            name,
            bytes,
            DispatcherSetChecksumUpdateRequest {
                changefeed_id: Some(reference_changefeed()),
                epoch: 9,
                mode: 1,
                seq: 12,
                checksum: Some(reference_checksum()),
            },
            Same,
        ),
        // The reference's acknowledgement has no field 5: incarnation reads as 0.
        "ack-reference" => check(
            name,
            bytes,
            DispatcherSetChecksumAckResponse {
                changefeed_id: Some(changefeed_message(1, 2, "", "")),
                epoch: 3,
                mode: -1,
                seq: 4,
                incarnation: 0,
            },
            Same,
        ),
        "ack-ours" => check(
            name,
            bytes,
            DispatcherSetChecksumAckResponse {
                changefeed_id: Some(changefeed_message(1, 2, "", "")),
                epoch: 3,
                mode: 0,
                seq: 4,
                incarnation: 1 << 40,
            },
            Same,
        ),
        "heartbeat-ours-match" => check(
            name,
            bytes,
            DispatcherSetChecksumHeartbeat {
                changefeed_id: Some(changefeed_message(5, 0, "orders", "")),
                mode: 1,
                state: 2,
                state_seq: 3,
                watermark: Some(0),
                node: 8,
                verified_epoch: 6,
                verified_seq: 2,
                seq: 77,
                incarnation: 1_733_000_000_000,
                actual: Some(DispatcherSetChecksum {
                    count: 1,
                    xor_high: 2,
                    xor_low: 3,
                    sum_high: 4,
                    sum_low: 5,
                }),
            },
            Same,
        ),
        "heartbeat-ours-mismatch" => check(
            name,
            bytes,
            DispatcherSetChecksumHeartbeat {
                state: 1,
                state_seq: 4,
                node: u32::MAX,
                seq: 1,
                ..Default::default()
            },
            Same,
        ),
        "sketch-request" => check(
            name,
            bytes,
            DispatcherSetSketchRequest {
                changefeed_id: None,
                epoch: 3,
                mode: 1,
                seq: 9,
                node: 7,
                sketch: (0..=255).collect(),
            },
            Same,
        ),
        "sketch-response" => check(
            name,
            bytes,
            DispatcherSetSketchResponse {
                changefeed_id: Some(changefeed_message(0, 0, "x", "")),
                epoch: 4,
                mode: 0,
                seq: 2,
                node: 1,
                sketch: Vec::new(),
            },
            Same,
        ),
        _ => return false,
    }
    true
}

#[test]
fn bytes_from_another_protobuf_implementation_decode_to_the_expected_values() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 25, "{} fixtures", fixtures.len());
    for (name, _, bytes) in &fixtures {
        assert!(
            check_fixture(name, bytes),
            "fixture {name} has no expected value here"
        );
    }
    // Every message type of the reference heartbeat layout has a fixture.
    let types: std::collections::BTreeSet<&str> =
        fixtures.iter().map(|(_, kind, _)| *kind).collect();
    for kind in [
        "HeartBeatRequest",
        "Watermark",
        "TableSpanStatus",
        "DispatcherID",
        "RunningError",
        "ChangefeedID",
        "ChecksumMeta",
        "DispatcherSetChecksum",
        "DispatcherSetChecksumUpdateRequest",
        "DispatcherSetChecksumAckResponse",
    ] {
        assert!(types.contains(kind), "no fixture of {kind}");
    }
}

#[test]
fn fixture_bytes_convert_to_protocol_values() {
    // The decoded messages are usable, not merely decodable: the conversions accept them.
    let bytes = |name: &str| {
        fixtures()
            .into_iter()
            .find(|(fixture, _, _)| *fixture == name)
            .unwrap()
            .2
    };
    let update: DispatcherSetChecksumUpdateRequest = decode(&bytes("update")).unwrap();
    let (changefeed_back, update_back) = update.to_update(NodeId(4)).unwrap();
    assert_eq!(changefeed_back, changefeed());
    assert_eq!(update_back, crate::update());
    let heartbeat: DispatcherSetChecksumHeartbeat = decode(&bytes("heartbeat-ours-match")).unwrap();
    let (_, heartbeat) = heartbeat.to_heartbeat().unwrap();
    assert_eq!(heartbeat.state, ChecksumState::Match);
    assert_eq!(heartbeat.watermark, Some(0));
    assert_eq!(heartbeat.mode, Mode::Redo);
    let ack: DispatcherSetChecksumAckResponse = decode(&bytes("ack-reference")).unwrap();
    let error = ack.to_ack(NodeId(1)).unwrap_err();
    assert!(error.to_string().contains("mode is -1"), "{error}");
}

#[test]
fn every_message_names_itself_with_its_package() {
    use prost::Name;
    // The reference's messages live in its `heartbeatpb` package (heartbeatpb/heartbeat.proto).
    assert_eq!(
        wire::DispatcherSetChecksumUpdateRequest::full_name(),
        "heartbeatpb.DispatcherSetChecksumUpdateRequest"
    );
    assert_eq!(wire::ChangefeedIdMessage::NAME, "ChangefeedID");
    assert_eq!(
        wire::HeartBeatRequest::type_url(),
        "/heartbeatpb.HeartBeatRequest"
    );
    // Ours live in ours.
    assert_eq!(
        wire::DispatcherSetChecksumHeartbeat::full_name(),
        "dispatcher_checksum.DispatcherSetChecksumHeartbeat"
    );
    assert_eq!(
        wire::DispatcherSetSketchResponse::full_name(),
        "dispatcher_checksum.DispatcherSetSketchResponse"
    );
}

#[test]
fn the_sketch_request_and_response_are_one_layout() {
    let request = wire::DispatcherSetSketchRequest {
        changefeed_id: Some((&ChangefeedId::new(1, 2, "orders", "ks")).into()),
        epoch: 3,
        mode: 1,
        seq: 4,
        node: 5,
        sketch: vec![6, 7, 8],
    };
    let bytes = request.encode_to_vec();
    let response: wire::DispatcherSetSketchResponse = wire::decode(&bytes).unwrap();
    assert_eq!(response.encode_to_vec(), bytes);
    assert_eq!(
        (
            response.changefeed_id,
            response.epoch,
            response.mode,
            response.seq,
            response.node,
            response.sketch
        ),
        (request.changefeed_id.clone(), 3, 1, 4, 5, vec![6, 7, 8])
    );
}
