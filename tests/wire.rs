//! Wire messages: round trips for every message, the field numbers byte for byte, conversions to
//! and from the protocol types, JSON names, and bad bytes (truncated, garbage) giving errors.

use dispatcher_checksum::protocol::{
    ChangefeedId, ChecksumAck, ChecksumHeartbeat, ChecksumState, ChecksumUpdate, ExpectedVersion,
    Mode, NodeId,
};
use dispatcher_checksum::wire::{
    decode, ChangefeedIdMessage, DispatcherSetChecksum, DispatcherSetChecksumAckResponse,
    DispatcherSetChecksumHeartbeat, DispatcherSetChecksumUpdateRequest,
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
