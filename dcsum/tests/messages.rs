//! The message-name table of `dcsum decode`: JSON with the reference field names, and bad bytes
//! (truncated, garbage, random) giving errors, never panics.

use dcsum::messages::{parse_hex, MessageType};
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
    assert!("nope".parse::<MessageType>().is_err());
    assert_eq!("ACK".parse::<MessageType>().unwrap(), MessageType::Ack);
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
