//! The wire messages `dcsum decode` knows, by name: decoding bytes of one and printing it as
//! JSON with the reference field names (and reading that JSON back into bytes).
//!
//! Every message has two names, both accepted by `--type` without regard to case: a short one
//! (`update`, `heartbeat-request`, ...) and its protobuf message name
//! (`DispatcherSetChecksumUpdateRequest`, `HeartBeatRequest`, ...), the name the reference's
//! `.proto` and its logs use. One table (the `message_table!` below) defines, per message, both names, the
//! Rust type, and so the decoder and the JSON rendering; nothing else lists the messages, so a
//! new one cannot be decodable yet missing from the names, the help or the error text.

use dispatcher_checksum::wire::{
    decode, ChangefeedIdMessage, ChecksumMeta, DispatcherIdMessage, DispatcherSetChecksum,
    DispatcherSetChecksumAckResponse, DispatcherSetChecksumHeartbeat,
    DispatcherSetChecksumUpdateRequest, DispatcherSetSketchRequest, DispatcherSetSketchResponse,
    HeartBeatRequest, RunningError, TableSpanStatus, Watermark, WireError,
};
use std::fmt;

/// Whose layout a message is: the reference system's or this project's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The reference system's message and field numbers.
    Reference,
    /// Ours, not the reference's (see the library's `wire` module docs).
    Ours,
}

/// One row of the table: everything `dcsum decode` knows about a message.
struct Entry {
    short: &'static str,
    message: &'static str,
    origin: Origin,
    decode_to_json: fn(&[u8]) -> Result<String, WireError>,
    encode_json: fn(&str) -> Result<Vec<u8>, WireError>,
}

/// Defines [`MessageType`] (one variant per row) and the table the variant indexes, from rows of
/// `Variant => RustType, "short-name", Origin;`. The protobuf name is the type's
/// [`prost::Name::NAME`], so it is written once, in the library, next to the message.
macro_rules! message_table {
    ($($(#[$doc:meta])* $variant:ident => $message:ty, $short:literal, $origin:ident;)*) => {
        /// The message types `dcsum decode` knows (see the module docs for the names).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum MessageType {
            $($(#[$doc])* $variant,)*
        }

        const COUNT: usize = [$(stringify!($variant)),*].len();

        impl MessageType {
            /// Every type, in table order.
            pub const ALL: [MessageType; COUNT] = [$(MessageType::$variant),*];
        }

        // In the variants' order, so `MessageType as usize` indexes it.
        const TABLE: [Entry; COUNT] = [$(Entry {
            short: $short,
            message: <$message as prost::Name>::NAME,
            origin: Origin::$origin,
            decode_to_json: decode_to_json_as::<$message>,
            encode_json: encode_json_as::<$message>,
        }),*];
    };
}

message_table! {
    /// [`DispatcherSetChecksumUpdateRequest`].
    Update => DispatcherSetChecksumUpdateRequest, "update", Reference;
    /// [`DispatcherSetChecksumAckResponse`] (the reference's, plus our field 5).
    Ack => DispatcherSetChecksumAckResponse, "ack", Reference;
    /// [`DispatcherSetChecksum`].
    Checksum => DispatcherSetChecksum, "checksum", Reference;
    /// [`HeartBeatRequest`], the reference node's heartbeat.
    HeartBeatRequest => HeartBeatRequest, "heartbeat-request", Reference;
    /// [`Watermark`].
    Watermark => Watermark, "watermark", Reference;
    /// [`TableSpanStatus`].
    TableSpanStatus => TableSpanStatus, "table-span-status", Reference;
    /// [`DispatcherIdMessage`] (`DispatcherID`).
    DispatcherId => DispatcherIdMessage, "dispatcher-id", Reference;
    /// [`ChangefeedIdMessage`] (`ChangefeedID`).
    ChangefeedId => ChangefeedIdMessage, "changefeed-id", Reference;
    /// [`RunningError`].
    RunningError => RunningError, "running-error", Reference;
    /// [`ChecksumMeta`].
    ChecksumMeta => ChecksumMeta, "checksum-meta", Reference;
    /// [`DispatcherSetChecksumHeartbeat`] (ours).
    Heartbeat => DispatcherSetChecksumHeartbeat, "heartbeat", Ours;
    /// [`DispatcherSetSketchRequest`] (ours).
    SketchRequest => DispatcherSetSketchRequest, "sketch-request", Ours;
    /// [`DispatcherSetSketchResponse`] (ours).
    SketchResponse => DispatcherSetSketchResponse, "sketch-response", Ours;
}

impl MessageType {
    fn entry(self) -> &'static Entry {
        &TABLE[self as usize]
    }

    /// The short name (`update`, `heartbeat-request`, `sketch-request`, ...).
    pub fn name(self) -> &'static str {
        self.entry().short
    }

    /// The protobuf message name (`DispatcherSetChecksumUpdateRequest`, `HeartBeatRequest`, ...).
    pub fn message_name(self) -> &'static str {
        self.entry().message
    }

    /// Whether the layout is the reference system's or ours.
    pub fn origin(self) -> Origin {
        self.entry().origin
    }

    /// Decodes `bytes` as this type and renders it as pretty JSON with the reference field names.
    /// Bad bytes give a [`WireError`] naming the message (`not a valid HeartBeatRequest ...`).
    pub fn decode_to_json(self, bytes: &[u8]) -> Result<String, WireError> {
        (self.entry().decode_to_json)(bytes)
    }

    /// The inverse of [`MessageType::decode_to_json`]: reads the JSON form (reference field
    /// names; enumerations by name or number) and encodes the message as protobuf bytes.
    pub fn encode_json(self, json: &str) -> Result<Vec<u8>, WireError> {
        (self.entry().encode_json)(json)
    }

    /// The `--type` help text: every type with both its names, one a line.
    pub fn help() -> String {
        let width = TABLE
            .iter()
            .map(|entry| entry.short.len())
            .max()
            .unwrap_or(0);
        let mut text = String::from(
            "The message type, by short name or protobuf message name (either, any case):",
        );
        for entry in &TABLE {
            let ours = match entry.origin {
                Origin::Reference => "",
                Origin::Ours => " (ours, not the reference's)",
            };
            text.push_str(&format!(
                "\n  {:width$}  {}{ours}",
                entry.short, entry.message
            ));
        }
        text
    }
}

impl std::str::FromStr for MessageType {
    type Err = WireError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        MessageType::ALL
            .into_iter()
            .find(|kind| {
                kind.name().eq_ignore_ascii_case(text)
                    || kind.message_name().eq_ignore_ascii_case(text)
            })
            .ok_or_else(|| {
                let accepted: Vec<String> = TABLE
                    .iter()
                    .map(|entry| format!("{} ({})", entry.short, entry.message))
                    .collect();
                WireError::new(format!(
                    "unknown message type {text:?}: expected one of {} (any case)",
                    accepted.join(", ")
                ))
            })
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn decode_to_json_as<M>(bytes: &[u8]) -> Result<String, WireError>
where
    M: prost::Message + Default + prost::Name + serde::Serialize,
{
    let message = decode::<M>(bytes)?;
    // serde_json fails only on non-string map keys and serializer errors, which none of the
    // messages has; an error rather than a panic all the same, naming the message.
    serde_json::to_string_pretty(&message)
        .map_err(|error| WireError::new(format!("{}: cannot render as JSON: {error}", M::NAME)))
}

fn encode_json_as<M>(json: &str) -> Result<Vec<u8>, WireError>
where
    M: prost::Message + prost::Name + serde::de::DeserializeOwned,
{
    let message: M = serde_json::from_str(json)
        .map_err(|error| WireError::new(format!("not a valid {} in JSON: {error}", M::NAME)))?;
    Ok(message.encode_to_vec())
}

/// Parses hex text (white space and an optional leading `0x` ignored) into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, WireError> {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
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
            // Digit by digit: `u8::from_str_radix` would also take a sign ("+f" is 15).
            let digit = |byte: u8| char::from(byte).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(high), Some(low)) => Ok((high << 4 | low) as u8),
                _ => Err(WireError::new(format!(
                    "hex input byte {index}: {:?} is not two hex digits",
                    String::from_utf8_lossy(pair)
                ))),
            }
        })
        .collect()
}
