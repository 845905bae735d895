//! `dcsum decode`: every message type from a file and from stdin, hex input, and bad input
//! giving a clear error with exit code 2 and nothing on stdout.

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
