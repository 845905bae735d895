//! The wire messages `dcsum decode` knows, by name: decoding bytes of one and printing it as
//! JSON with the reference field names.

use dispatcher_checksum::wire::{
    decode, DispatcherSetChecksum, DispatcherSetChecksumAckResponse,
    DispatcherSetChecksumHeartbeat, DispatcherSetChecksumUpdateRequest, DispatcherSetSketchRequest,
    DispatcherSetSketchResponse, WireError,
};
use std::fmt;

/// The message types `dcsum decode` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// [`DispatcherSetChecksumUpdateRequest`].
    Update,
    /// [`DispatcherSetChecksumAckResponse`].
    Ack,
    /// [`DispatcherSetChecksum`].
    Checksum,
    /// [`DispatcherSetChecksumHeartbeat`] (ours).
    Heartbeat,
    /// [`DispatcherSetSketchRequest`] (ours).
    SketchRequest,
    /// [`DispatcherSetSketchResponse`] (ours).
    SketchResponse,
}

impl MessageType {
    /// Every type.
    pub const ALL: [MessageType; 6] = [
        MessageType::Update,
        MessageType::Ack,
        MessageType::Checksum,
        MessageType::Heartbeat,
        MessageType::SketchRequest,
        MessageType::SketchResponse,
    ];

    /// The short name (`update`, `ack`, `checksum`, `heartbeat`, `sketch-request`,
    /// `sketch-response`).
    pub const fn name(self) -> &'static str {
        match self {
            MessageType::Update => "update",
            MessageType::Ack => "ack",
            MessageType::Checksum => "checksum",
            MessageType::Heartbeat => "heartbeat",
            MessageType::SketchRequest => "sketch-request",
            MessageType::SketchResponse => "sketch-response",
        }
    }

    /// The protobuf message name.
    pub const fn message_name(self) -> &'static str {
        match self {
            MessageType::Update => "DispatcherSetChecksumUpdateRequest",
            MessageType::Ack => "DispatcherSetChecksumAckResponse",
            MessageType::Checksum => "DispatcherSetChecksum",
            MessageType::Heartbeat => "DispatcherSetChecksumHeartbeat",
            MessageType::SketchRequest => "DispatcherSetSketchRequest",
            MessageType::SketchResponse => "DispatcherSetSketchResponse",
        }
    }

    /// Decodes `bytes` as this type and renders it as pretty JSON with the reference field names.
    pub fn decode_to_json(self, bytes: &[u8]) -> Result<String, WireError> {
        let json = match self {
            MessageType::Update => to_json(&decode::<DispatcherSetChecksumUpdateRequest>(bytes)?),
            MessageType::Ack => to_json(&decode::<DispatcherSetChecksumAckResponse>(bytes)?),
            MessageType::Checksum => to_json(&decode::<DispatcherSetChecksum>(bytes)?),
            MessageType::Heartbeat => to_json(&decode::<DispatcherSetChecksumHeartbeat>(bytes)?),
            MessageType::SketchRequest => to_json(&decode::<DispatcherSetSketchRequest>(bytes)?),
            MessageType::SketchResponse => to_json(&decode::<DispatcherSetSketchResponse>(bytes)?),
        };
        Ok(json)
    }
}

impl std::str::FromStr for MessageType {
    type Err = WireError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MessageType::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                WireError::new(format!(
                    "unknown message type {text:?}: expected update, ack, checksum, heartbeat, \
                     sketch-request or sketch-response"
                ))
            })
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn to_json(message: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(message).expect("wire messages always serialize")
}

/// Parses hex text (white space and an optional `0x` ignored) into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, WireError> {
    let digits: Vec<u8> = text
        .trim()
        .trim_start_matches("0x")
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(WireError::new(format!(
            "hex input has {} digits: expected an even number (two per byte)",
            digits.len()
        )));
    }
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(index, pair)| {
            let text = std::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(text, 16).map_err(|_| {
                WireError::new(format!(
                    "hex input byte {index}: {text:?} is not two hex digits"
                ))
            })
        })
        .collect()
}
