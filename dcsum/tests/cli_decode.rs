//! `dcsum decode`: message types by short and by protobuf name (the reference heartbeat with the
//! reference field names), from a file and from stdin, hex input, `--help` listing every type,
//! and bad input giving a clear error with exit code 2 and nothing on stdout.

use dispatcher_checksum::protocol::{ChangefeedId, ChecksumUpdate, Mode, NodeId};
use dispatcher_checksum::wire::{
    DispatcherSetChecksum, DispatcherSetChecksumAckResponse, DispatcherSetChecksumHeartbeat,
    DispatcherSetChecksumUpdateRequest,
};
use dispatcher_checksum::Fingerprint;
use prost::Message;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn dcsum(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dcsum"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dcsum runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("dcsum-decode-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn update_bytes() -> Vec<u8> {
    let update = ChecksumUpdate {
        node: NodeId(1),
        epoch: 3,
        mode: Mode::Redo,
        seq: 5,
        fingerprint: Fingerprint {
            count: 2,
            xor_high: 6,
            xor_low: 7,
            sum_high: 8,
            sum_low: 9,
        },
    };
    DispatcherSetChecksumUpdateRequest::from_update(&ChangefeedId::new(1, 2, "cf", "ks"), &update)
        .encode_to_vec()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn decode_prints_an_update_from_a_file_as_json_by_default() {
    let path = temp_file("update.bin", &update_bytes());
    let value = json(&dcsum(&["decode", path.to_str().unwrap()], b""));
    std::fs::remove_file(&path).ok();
    assert_eq!(value["changefeedID"]["name"], "cf");
    assert_eq!(value["epoch"], 3);
    assert_eq!(value["mode"], 1);
    assert_eq!(value["seq"], 5);
    assert_eq!(value["checksum"]["xorHigh"], 6);
    assert_eq!(value["checksum"]["sumLow"], 9);
}

#[test]
fn decode_reads_every_type_from_stdin() {
    let ack = DispatcherSetChecksumAckResponse {
        seq: 4,
        ..Default::default()
    };
    assert_eq!(
        json(&dcsum(
            &["decode", "--type", "ack", "-"],
            &ack.encode_to_vec()
        ))["seq"],
        4
    );
    let checksum = DispatcherSetChecksum {
        count: 11,
        ..Default::default()
    };
    assert_eq!(
        json(&dcsum(
            &["decode", "-t", "checksum", "-"],
            &checksum.encode_to_vec()
        ))["count"],
        11
    );
    let heartbeat = DispatcherSetChecksumHeartbeat {
        state: 1,
        ..Default::default()
    };
    assert_eq!(
        json(&dcsum(
            &["decode", "--type", "heartbeat", "-"],
            &heartbeat.encode_to_vec()
        ))["state"],
        "MISMATCH"
    );
}

#[test]
fn decode_reads_hex() {
    let hex: String = update_bytes().iter().map(|b| format!("{b:02x} ")).collect();
    let value = json(&dcsum(&["decode", "--hex", "-"], hex.as_bytes()));
    assert_eq!(value["checksum"]["count"], 2);
}

#[test]
fn decode_rejects_garbage_with_exit_2_and_a_clear_error() {
    for (args, input) in [
        (vec!["decode", "-"], &b"\xff\xff\xff\xff"[..]),
        (vec!["decode", "--hex", "-"], b"not hex"),
        (vec!["decode", "/nonexistent/dcsum-decode-input"], b""),
    ] {
        let output = dcsum(&args, input);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(stderr.starts_with("dcsum: "), "{stderr}");
    }
    let output = dcsum(&["decode", "-"], b"\xff\xff\xff\xff");
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("<stdin>: not a valid DispatcherSetChecksumUpdateRequest"));
    let output = dcsum(&["decode", "--type", "bogus", "-"], b"");
    assert_eq!(output.status.code(), Some(2));
}

/// A reference heartbeat with a field of each kind set.
fn heartbeat_request_bytes() -> Vec<u8> {
    use dispatcher_checksum::wire::{
        ChangefeedIdMessage, DispatcherIdMessage, HeartBeatRequest, TableSpanStatus, Watermark,
    };
    HeartBeatRequest {
        changefeed_id: Some(ChangefeedIdMessage::from(&ChangefeedId::new(
            1, 2, "cf", "ks",
        ))),
        watermark: Some(Watermark {
            checkpoint_ts: 100,
            resolved_ts: 105,
            seq: 3,
            last_synced_ts: 99,
        }),
        statuses: vec![TableSpanStatus {
            id: Some(DispatcherIdMessage { high: 7, low: 8 }),
            component_status: 0,
            checkpoint_ts: 100,
            event_size_per_second: 2.5,
            mode: 0,
        }],
        compelete_status: true,
        checksum_state: 2,
        redo_checksum_state: 1,
        checksum_state_seq: 4,
        redo_checksum_state_seq: 6,
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn decode_prints_a_reference_heartbeat_with_the_reference_field_names() {
    let hex: String = heartbeat_request_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = temp_file("heartbeat-request.hex", hex.as_bytes());
    for kind in ["HeartBeatRequest", "heartbeatrequest", "heartbeat-request"] {
        let value = json(&dcsum(
            &["decode", "--type", kind, "--hex", path.to_str().unwrap()],
            b"",
        ));
        assert_eq!(value["changefeedID"]["keyspace"], "ks", "{kind}");
        assert_eq!(value["watermark"]["checkpointTs"], 100);
        assert_eq!(value["watermark"]["lastSyncedTs"], 99);
        assert_eq!(value["redoWatermark"], serde_json::Value::Null);
        assert_eq!(value["statuses"][0]["ID"]["high"], 7);
        assert_eq!(value["statuses"][0]["component_status"], "Working");
        assert_eq!(value["statuses"][0]["event_size_per_second"], 2.5);
        assert_eq!(value["compeleteStatus"], true);
        assert_eq!(value["checksumState"], "MATCH");
        assert_eq!(value["redoChecksumState"], "MISMATCH");
        assert_eq!(value["checksumStateSeq"], 4);
        assert_eq!(value["redoChecksumStateSeq"], 6);
    }
    std::fs::remove_file(&path).ok();
}

#[test]
fn decode_rejects_bad_heartbeat_bytes_naming_the_file_and_the_message() {
    let mut bytes = heartbeat_request_bytes();
    bytes.truncate(bytes.len() - 1); // inside the last varint's field: never a valid message
    bytes.push(0x80);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let path = temp_file("bad-heartbeat-request.hex", hex.as_bytes());
    let name = path.to_str().unwrap();
    let output = dcsum(
        &["decode", "--type", "HeartBeatRequest", "--hex", name],
        b"",
    );
    std::fs::remove_file(&path).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.starts_with(&format!("dcsum: {name}: not a valid HeartBeatRequest (")),
        "{stderr}"
    );
}

#[test]
fn decode_reads_every_reference_message_by_its_protobuf_name() {
    use dispatcher_checksum::wire::{ChecksumMeta, Watermark};
    let meta = ChecksumMeta {
        state: 1,
        checksum_state_seq: 8,
    };
    let value = json(&dcsum(
        &["decode", "--type", "ChecksumMeta", "-"],
        &meta.encode_to_vec(),
    ));
    assert_eq!(value["state"], "MISMATCH");
    assert_eq!(value["checksumStateSeq"], 8);
    let watermark = Watermark {
        resolved_ts: 5,
        ..Default::default()
    };
    let value = json(&dcsum(
        &["decode", "-t", "watermark", "-"],
        &watermark.encode_to_vec(),
    ));
    assert_eq!(value["resolvedTs"], 5);
    let ack = DispatcherSetChecksumAckResponse {
        seq: 4,
        ..Default::default()
    };
    let checksum = DispatcherSetChecksum {
        xor_high: 2,
        ..Default::default()
    };
    for (kind, bytes, field, expected) in [
        (
            "DispatcherSetChecksumUpdateRequest",
            update_bytes(),
            "epoch",
            3,
        ),
        (
            "DispatcherSetChecksumAckResponse",
            ack.encode_to_vec(),
            "seq",
            4,
        ),
        (
            "DispatcherSetChecksum",
            checksum.encode_to_vec(),
            "xorHigh",
            2,
        ),
    ] {
        let value = json(&dcsum(&["decode", "--type", kind, "-"], &bytes));
        assert_eq!(value[field], expected, "{kind}: {value}");
    }
}

#[test]
fn decode_help_lists_every_type_and_an_unknown_type_lists_them_too() {
    let output = dcsum(&["decode", "--help"], b"");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{help}");
    let output = dcsum(&["decode", "--type", "HeartBeat-Req", "-"], b"");
    let error = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{error}");
    for name in [
        "update",
        "ack",
        "checksum",
        "heartbeat",
        "sketch-request",
        "sketch-response",
        "heartbeat-request",
        "watermark",
        "checksum-meta",
        "HeartBeatRequest",
        "Watermark",
        "ChecksumMeta",
        "TableSpanStatus",
        "DispatcherID",
        "RunningError",
        "ChangefeedID",
        "DispatcherSetChecksumUpdateRequest",
        "DispatcherSetChecksumAckResponse",
        "DispatcherSetChecksum",
        "DispatcherSetChecksumHeartbeat",
        "DispatcherSetSketchRequest",
        "DispatcherSetSketchResponse",
    ] {
        assert!(help.contains(name), "--help lacks {name}: {help}");
        assert!(error.contains(name), "the error lacks {name}: {error}");
    }
    // `-h` stays short: one line for --type.
    let output = dcsum(&["decode", "-h"], b"");
    let short = String::from_utf8_lossy(&output.stdout);
    assert!(!short.contains("DispatcherSetSketchResponse"), "{short}");
}
