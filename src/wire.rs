//! The protocol's wire messages: protobuf, encoded with `prost` (derived, no `protoc` at build
//! time), with the reference system's field numbers so the bytes interoperate with it.
//!
//! | message | fields (number = name type) |
//! |---|---|
//! | `DispatcherSetChecksum` | 1 count, 2 xorHigh, 3 xorLow, 4 sumHigh, 5 sumLow, all `uint64` |
//! | `ChangefeedID` | 1 high `uint64`, 2 low `uint64`, 3 name `string`, 4 keyspace `string` |
//! | `DispatcherSetChecksumUpdateRequest` | 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64`, 5 checksum |
//! | `DispatcherSetChecksumAckResponse` | 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64` |
//! | enum `ChecksumState` | UNINITIALIZED 0, MISMATCH 1, MATCH 2 ([`protocol::ChecksumState`]) |
//! | enum `ComponentState` | Working 0, Stopped 1, Removed 2, Initializing 3, Preparing 4, MergeReady 5, WaitingMerge 6 ([`crate::ComponentState`]) |
//!
//! The two enumerations are the domain types themselves: an `enumeration` field is an `i32` on
//! the wire and prost reads it through their `TryFrom<i32>`, so each is defined once.
//!
//! [`DispatcherSetChecksumHeartbeat`] is **ours, not the reference system's** (the reference
//! carries the state inside its larger heartbeat): 1 changefeedID, 2 mode `int64`, 3 state
//! `ChecksumState`, 4 stateSeq `uint64`, 5 watermark `optional uint64`, 6 node `uint32`,
//! 7 verifiedEpoch `uint64`, 8 verifiedSeq `uint64` (the expected value the state was computed
//! against, see [`crate::protocol::ExpectedVersion`]), 9 seq `uint64` (the heartbeat's own
//! number), 10 incarnation `uint64` (the node process), 11 actual `DispatcherSetChecksum` (the
//! node's actual fingerprint at the same instant as the watermark).
//!
//! `DispatcherSetChecksumAckResponse` is the reference message plus **our** field 5 incarnation
//! `uint64` (a receiver that does not know it skips it, as protobuf receivers do).
//!
//! [`DispatcherSetSketchRequest`] and [`DispatcherSetSketchResponse`] are **ours** too (the
//! diagnosis pair, see [`crate::diagnosis::protocol`]): both 1 changefeedID, 2 epoch `uint64`,
//! 3 mode `int64`, 4 seq `uint64`, 5 node `uint32`, 6 sketch `bytes` (a
//! [`crate::sketch::DifferenceSketch`] in its wire form: the node's actual sketch in the request,
//! the maintainer's expected sketch in the response).
//!
//! Decoding bad bytes returns a [`WireError`], never panics. Every message also has a serde JSON
//! form with the reference field names (`count`, `xorHigh`, ..., `changefeedID`), which
//! `dcsum decode` prints.

use crate::protocol::{
    self, ChecksumAck, ChecksumHeartbeat, ChecksumUpdate, ExpectedVersion, Mode, NodeId,
};
use crate::Fingerprint;
use prost::Message;
use std::fmt;

/// A fingerprint on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct DispatcherSetChecksum {
    /// Number of IDs.
    #[prost(uint64, tag = "1")]
    pub count: u64,
    /// XOR of the high halves.
    #[prost(uint64, tag = "2")]
    pub xor_high: u64,
    /// XOR of the low halves.
    #[prost(uint64, tag = "3")]
    pub xor_low: u64,
    /// Wrapping sum of the high halves.
    #[prost(uint64, tag = "4")]
    pub sum_high: u64,
    /// Wrapping sum of the low halves.
    #[prost(uint64, tag = "5")]
    pub sum_low: u64,
}

/// A changefeed's identity on the wire (the reference system's `ChangefeedID`).
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ChangefeedIdMessage {
    /// High half of the 128-bit ID.
    #[prost(uint64, tag = "1")]
    pub high: u64,
    /// Low half of the 128-bit ID.
    #[prost(uint64, tag = "2")]
    pub low: u64,
    /// Name.
    #[prost(string, tag = "3")]
    pub name: String,
    /// Keyspace.
    #[prost(string, tag = "4")]
    pub keyspace: String,
}

/// Maintainer → node: the node's expected fingerprint as of update `seq`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct DispatcherSetChecksumUpdateRequest {
    /// The changefeed.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
    pub changefeed_id: Option<ChangefeedIdMessage>,
    /// The maintainer's epoch.
    #[prost(uint64, tag = "2")]
    pub epoch: u64,
    /// The mode (0 default, 1 redo).
    #[prost(int64, tag = "3")]
    pub mode: i64,
    /// The update number.
    #[prost(uint64, tag = "4")]
    pub seq: u64,
    /// The expected fingerprint.
    #[prost(message, optional, tag = "5")]
    pub checksum: Option<DispatcherSetChecksum>,
}

/// Node → maintainer: "I have applied update `seq`".
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct DispatcherSetChecksumAckResponse {
    /// The changefeed.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
    pub changefeed_id: Option<ChangefeedIdMessage>,
    /// The epoch of the acknowledged update.
    #[prost(uint64, tag = "2")]
    pub epoch: u64,
    /// The mode of the acknowledged update.
    #[prost(int64, tag = "3")]
    pub mode: i64,
    /// The acknowledged update number.
    #[prost(uint64, tag = "4")]
    pub seq: u64,
    /// Ours: the acknowledging node process (see [`crate::protocol::ChecksumAck`]).
    #[prost(uint64, tag = "5")]
    #[cfg_attr(feature = "serde", serde(default))]
    pub incarnation: u64,
}

/// Node → maintainer, once per heartbeat and mode (OUR message and field numbers, see the
/// module docs): the verifier's state and, only at MATCH, the watermark.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct DispatcherSetChecksumHeartbeat {
    /// The changefeed.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
    pub changefeed_id: Option<ChangefeedIdMessage>,
    /// The mode (0 default, 1 redo).
    #[prost(int64, tag = "2")]
    pub mode: i64,
    /// A [`ChecksumState`](protocol::ChecksumState) number.
    #[prost(enumeration = "protocol::ChecksumState", tag = "3")]
    #[cfg_attr(feature = "serde", serde(with = "checksum_state_json"))]
    pub state: i32,
    /// Goes up at each change of `state`.
    #[prost(uint64, tag = "4")]
    pub state_seq: u64,
    /// The watermark, present only at MATCH.
    #[prost(uint64, optional, tag = "5")]
    pub watermark: Option<u64>,
    /// The sending node.
    #[prost(uint32, tag = "6")]
    pub node: u32,
    /// The epoch of the expected value `state` was computed against.
    #[prost(uint64, tag = "7")]
    pub verified_epoch: u64,
    /// The seq of the expected value `state` was computed against.
    #[prost(uint64, tag = "8")]
    pub verified_seq: u64,
    /// This heartbeat's number for the node process and mode.
    #[prost(uint64, tag = "9")]
    #[cfg_attr(feature = "serde", serde(default))]
    pub seq: u64,
    /// The sending node process.
    #[prost(uint64, tag = "10")]
    #[cfg_attr(feature = "serde", serde(default))]
    pub incarnation: u64,
    /// The node's actual fingerprint at the same instant as the watermark.
    #[prost(message, optional, tag = "11")]
    #[cfg_attr(feature = "serde", serde(default))]
    pub actual: Option<DispatcherSetChecksum>,
}

/// Why bytes or a decoded message could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// What was wrong, naming the message type and the field or byte position.
    pub message: String,
}

impl WireError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> WireError {
        WireError {
            message: message.into(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WireError {}

/// Decodes one message of type `M`; bad bytes give an error naming the message type.
pub fn decode<M: Message + Default + Named>(bytes: &[u8]) -> Result<M, WireError> {
    M::decode(bytes).map_err(|error| {
        WireError::new(format!(
            "not a valid {} ({} bytes): {error}",
            M::NAME,
            bytes.len()
        ))
    })
}

/// The protobuf name of a message, for error texts.
pub trait Named {
    /// The message name.
    const NAME: &'static str;
}

impl Named for DispatcherSetChecksum {
    const NAME: &'static str = "DispatcherSetChecksum";
}
impl Named for ChangefeedIdMessage {
    const NAME: &'static str = "ChangefeedID";
}
impl Named for DispatcherSetChecksumUpdateRequest {
    const NAME: &'static str = "DispatcherSetChecksumUpdateRequest";
}
impl Named for DispatcherSetChecksumAckResponse {
    const NAME: &'static str = "DispatcherSetChecksumAckResponse";
}
impl Named for DispatcherSetChecksumHeartbeat {
    const NAME: &'static str = "DispatcherSetChecksumHeartbeat";
}

fn mode_from_wire(message: &str, mode: i64) -> Result<Mode, WireError> {
    Mode::from_wire(mode).ok_or_else(|| {
        WireError::new(format!(
            "{message}.mode is {mode}: expected 0 (default) or 1 (redo)"
        ))
    })
}

fn required<T>(message: &str, field: &str, value: Option<T>) -> Result<T, WireError> {
    value.ok_or_else(|| WireError::new(format!("{message}.{field} is missing")))
}

impl From<Fingerprint> for DispatcherSetChecksum {
    fn from(fingerprint: Fingerprint) -> Self {
        DispatcherSetChecksum {
            count: fingerprint.count,
            xor_high: fingerprint.xor_high,
            xor_low: fingerprint.xor_low,
            sum_high: fingerprint.sum_high,
            sum_low: fingerprint.sum_low,
        }
    }
}

impl From<DispatcherSetChecksum> for Fingerprint {
    fn from(checksum: DispatcherSetChecksum) -> Self {
        Fingerprint {
            count: checksum.count,
            xor_high: checksum.xor_high,
            xor_low: checksum.xor_low,
            sum_high: checksum.sum_high,
            sum_low: checksum.sum_low,
        }
    }
}

impl From<&protocol::ChangefeedId> for ChangefeedIdMessage {
    fn from(id: &protocol::ChangefeedId) -> Self {
        ChangefeedIdMessage {
            high: id.high,
            low: id.low,
            name: id.name.clone(),
            keyspace: id.keyspace.clone(),
        }
    }
}

impl From<ChangefeedIdMessage> for protocol::ChangefeedId {
    fn from(id: ChangefeedIdMessage) -> Self {
        protocol::ChangefeedId {
            high: id.high,
            low: id.low,
            name: id.name,
            keyspace: id.keyspace,
        }
    }
}

impl DispatcherSetChecksumUpdateRequest {
    /// The message for `update` of `changefeed`.
    pub fn from_update(changefeed: &protocol::ChangefeedId, update: &ChecksumUpdate) -> Self {
        DispatcherSetChecksumUpdateRequest {
            changefeed_id: Some(changefeed.into()),
            epoch: update.epoch,
            mode: update.mode.wire(),
            seq: update.seq,
            checksum: Some(update.fingerprint.into()),
        }
    }

    /// The protocol values, for the receiving `node`; an error if the mode is unknown or the
    /// changefeed or checksum is missing.
    pub fn to_update(
        &self,
        node: NodeId,
    ) -> Result<(protocol::ChangefeedId, ChecksumUpdate), WireError> {
        const NAME: &str = "DispatcherSetChecksumUpdateRequest";
        let changefeed = required(NAME, "changefeedID", self.changefeed_id.clone())?;
        let checksum = required(NAME, "checksum", self.checksum)?;
        let update = ChecksumUpdate {
            node,
            epoch: self.epoch,
            mode: mode_from_wire(NAME, self.mode)?,
            seq: self.seq,
            fingerprint: checksum.into(),
        };
        Ok((changefeed.into(), update))
    }
}

impl DispatcherSetChecksumAckResponse {
    /// The message for `ack` of `changefeed`.
    pub fn from_ack(changefeed: &protocol::ChangefeedId, ack: &ChecksumAck) -> Self {
        DispatcherSetChecksumAckResponse {
            changefeed_id: Some(changefeed.into()),
            epoch: ack.epoch,
            mode: ack.mode.wire(),
            seq: ack.seq,
            incarnation: ack.incarnation,
        }
    }

    /// The protocol values, from the sending `node`; an error if the mode is unknown or the
    /// changefeed is missing.
    pub fn to_ack(&self, node: NodeId) -> Result<(protocol::ChangefeedId, ChecksumAck), WireError> {
        const NAME: &str = "DispatcherSetChecksumAckResponse";
        let changefeed = required(NAME, "changefeedID", self.changefeed_id.clone())?;
        let ack = ChecksumAck {
            node,
            incarnation: self.incarnation,
            epoch: self.epoch,
            mode: mode_from_wire(NAME, self.mode)?,
            seq: self.seq,
        };
        Ok((changefeed.into(), ack))
    }
}

impl DispatcherSetChecksumHeartbeat {
    /// The message for `heartbeat` of `changefeed`.
    pub fn from_heartbeat(
        changefeed: &protocol::ChangefeedId,
        heartbeat: &ChecksumHeartbeat,
    ) -> Self {
        DispatcherSetChecksumHeartbeat {
            changefeed_id: Some(changefeed.into()),
            mode: heartbeat.mode.wire(),
            state: heartbeat.state.wire(),
            state_seq: heartbeat.state_seq,
            watermark: heartbeat.watermark,
            node: heartbeat.node.0,
            verified_epoch: heartbeat.verified_against.epoch,
            verified_seq: heartbeat.verified_against.seq,
            seq: heartbeat.seq,
            incarnation: heartbeat.incarnation,
            actual: heartbeat.actual.map(DispatcherSetChecksum::from),
        }
    }

    /// The protocol values; an error if the mode or state is unknown or the changefeed missing.
    pub fn to_heartbeat(&self) -> Result<(protocol::ChangefeedId, ChecksumHeartbeat), WireError> {
        const NAME: &str = "DispatcherSetChecksumHeartbeat";
        let changefeed = required(NAME, "changefeedID", self.changefeed_id.clone())?;
        let state = protocol::ChecksumState::try_from(self.state).map_err(|_| {
            WireError::new(format!(
                "{NAME}.state is {}: expected 0 (UNINITIALIZED), 1 (MISMATCH) or 2 (MATCH)",
                self.state
            ))
        })?;
        let heartbeat = ChecksumHeartbeat {
            node: NodeId(self.node),
            incarnation: self.incarnation,
            mode: mode_from_wire(NAME, self.mode)?,
            seq: self.seq,
            state,
            state_seq: self.state_seq,
            watermark: self.watermark,
            verified_against: ExpectedVersion {
                epoch: self.verified_epoch,
                seq: self.verified_seq,
            },
            actual: self.actual.map(Fingerprint::from),
        };
        Ok((changefeed.into(), heartbeat))
    }
}

/// JSON form of an enumeration field: the value's name (`MATCH`, `Working`), or the number when
/// it has none; either form is read back.
#[cfg(feature = "serde")]
mod enum_json {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        number: i32,
        name: Option<&'static str>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match name {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i32(number),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NameOrNumber {
        Name(String),
        Number(i32),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        by_name: impl Fn(&str) -> Option<i32>,
        expected: &str,
    ) -> Result<i32, D::Error> {
        match NameOrNumber::deserialize(deserializer)? {
            NameOrNumber::Number(number) => Ok(number),
            NameOrNumber::Name(name) => by_name(&name).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown value {name:?}: expected {expected}"))
            }),
        }
    }
}

#[cfg(feature = "serde")]
mod checksum_state_json {
    use crate::protocol::ChecksumState;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(state: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        let name = ChecksumState::try_from(*state)
            .ok()
            .map(ChecksumState::name);
        super::enum_json::serialize(*state, name, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        super::enum_json::deserialize(
            deserializer,
            |name| ChecksumState::from_name(name).map(ChecksumState::wire),
            "UNINITIALIZED, MISMATCH or MATCH",
        )
    }
}

#[cfg(feature = "serde")]
mod component_state_json {
    use crate::ComponentState;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(state: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        let name = ComponentState::try_from(*state)
            .ok()
            .map(ComponentState::name);
        super::enum_json::serialize(*state, name, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        super::enum_json::deserialize(
            deserializer,
            |name| {
                crate::ComponentState::ALL
                    .into_iter()
                    .find(|state| state.name() == name)
                    .map(|state| i32::from(state.number()))
            },
            "Working, Stopped, Removed, Initializing, Preparing, MergeReady or WaitingMerge",
        )
    }
}

/// JSON form of a `float` field: finite values as numbers, the others as protobuf's JSON mapping
/// names them (`"NaN"`, `"Infinity"`, `"-Infinity"`), so every value the wire can carry prints
/// and reads back.
#[cfg(feature = "serde")]
mod float_json {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_nan() {
            serializer.serialize_str("NaN")
        } else if value.is_infinite() {
            serializer.serialize_str(if *value > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            })
        } else {
            serializer.serialize_f32(*value)
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrName {
        Number(f32),
        Name(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        match NumberOrName::deserialize(deserializer)? {
            NumberOrName::Number(value) => Ok(value),
            NumberOrName::Name(name) => match name.as_str() {
                "NaN" => Ok(f32::NAN),
                "Infinity" => Ok(f32::INFINITY),
                "-Infinity" => Ok(f32::NEG_INFINITY),
                _ => Err(serde::de::Error::custom(format!(
                    "unknown value {name:?}: expected a number, NaN, Infinity or -Infinity"
                ))),
            },
        }
    }
}

// ---- The reference heartbeat (TiCDC's HeartBeatRequest as its pull request 3782 lays it out) ---
// Node → maintainer. `dcsum decode --type HeartBeatRequest` prints it with these field names; the
// simulator's `--protocol reference` heartbeats are these messages.

/// A dispatcher's ID on the wire (the reference system's `DispatcherID`): 1 high, 2 low.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DispatcherIdMessage {
    /// High half.
    #[prost(uint64, tag = "1")]
    pub high: u64,
    /// Low half.
    #[prost(uint64, tag = "2")]
    pub low: u64,
}

/// A node's watermark for one mode: 1 checkpointTs, 2 resolvedTs, 3 seq, 4 lastSyncedTs (all
/// `uint64`). The node raises `seq` when it creates a dispatcher; the maintainer keeps a
/// watermark with a higher seq even when its checkpoint is lower, and within one seq only a
/// higher checkpoint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Watermark {
    /// The lowest checkpoint over the node's dispatchers of the mode.
    #[prost(uint64, tag = "1")]
    pub checkpoint_ts: u64,
    /// The lowest resolved ts.
    #[prost(uint64, tag = "2")]
    pub resolved_ts: u64,
    /// Orders watermarks of one node (see above).
    #[prost(uint64, tag = "3")]
    pub seq: u64,
    /// The highest last-synced ts.
    #[prost(uint64, tag = "4")]
    pub last_synced_ts: u64,
}

/// One dispatcher's status in a heartbeat: 1 ID, 2 component_status, 3 checkpoint_ts,
/// 4 event_size_per_second (`float`), 5 mode (`int64`).
#[derive(Clone, Copy, PartialEq, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TableSpanStatus {
    /// The dispatcher.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "ID"))]
    pub id: Option<DispatcherIdMessage>,
    /// A [`ComponentState`](crate::ComponentState) number.
    #[prost(enumeration = "crate::ComponentState", tag = "2")]
    #[cfg_attr(feature = "serde", serde(with = "component_state_json"))]
    pub component_status: i32,
    /// Its checkpoint.
    #[prost(uint64, tag = "3")]
    pub checkpoint_ts: u64,
    /// Its event rate. In JSON a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` as protobuf's
    /// JSON mapping writes them (serde_json alone would print `null` and not read it back).
    #[prost(float, tag = "4")]
    #[cfg_attr(feature = "serde", serde(with = "float_json"))]
    pub event_size_per_second: f32,
    /// The mode (0 default, 1 redo).
    #[prost(int64, tag = "5")]
    pub mode: i64,
}

/// An error a node reports: 1 time, 2 node, 3 code, 4 message (all `string`).
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RunningError {
    /// When.
    #[prost(string, tag = "1")]
    pub time: String,
    /// Which node.
    #[prost(string, tag = "2")]
    pub node: String,
    /// The error code.
    #[prost(string, tag = "3")]
    pub code: String,
    /// The message.
    #[prost(string, tag = "4")]
    pub message: String,
}

/// The reference node's heartbeat: 1 changefeedID, 2 watermark, 3 redoWatermark (each left out
/// when that mode's checksum state is not MATCH), 4 statuses (repeated), 5 compeleteStatus
/// (`bool`; the reference's spelling), 6 err, 7 checksumState, 8 redoChecksumState
/// (`ChecksumState`), 9 checksumStateSeq, 10 redoChecksumStateSeq (`uint64`).
#[derive(Clone, PartialEq, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct HeartBeatRequest {
    /// The changefeed.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
    pub changefeed_id: Option<ChangefeedIdMessage>,
    /// The default mode's watermark, present only at MATCH.
    #[prost(message, optional, tag = "2")]
    pub watermark: Option<Watermark>,
    /// The redo mode's watermark, present only at MATCH.
    #[prost(message, optional, tag = "3")]
    pub redo_watermark: Option<Watermark>,
    /// Dispatcher statuses (changes, or every dispatcher when `compeleteStatus`).
    #[prost(message, repeated, tag = "4")]
    pub statuses: Vec<TableSpanStatus>,
    /// Whether `statuses` lists every dispatcher.
    #[prost(bool, tag = "5")]
    #[cfg_attr(feature = "serde", serde(rename = "compeleteStatus"))]
    pub compelete_status: bool,
    /// An error, if any.
    #[prost(message, optional, tag = "6")]
    pub err: Option<RunningError>,
    /// The default mode's checksum state.
    #[prost(enumeration = "protocol::ChecksumState", tag = "7")]
    #[cfg_attr(feature = "serde", serde(with = "checksum_state_json"))]
    pub checksum_state: i32,
    /// The redo mode's checksum state.
    #[prost(enumeration = "protocol::ChecksumState", tag = "8")]
    #[cfg_attr(feature = "serde", serde(with = "checksum_state_json"))]
    pub redo_checksum_state: i32,
    /// Goes up when `checksumState` changes.
    #[prost(uint64, tag = "9")]
    pub checksum_state_seq: u64,
    /// Goes up when `redoChecksumState` changes.
    #[prost(uint64, tag = "10")]
    pub redo_checksum_state_seq: u64,
}

/// A checksum state with its seq: 1 state, 2 checksumStateSeq. Declared by the reference's
/// pull request and used nowhere in it; here for completeness of `dcsum decode`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct ChecksumMeta {
    /// The state.
    #[prost(enumeration = "protocol::ChecksumState", tag = "1")]
    #[cfg_attr(feature = "serde", serde(with = "checksum_state_json"))]
    pub state: i32,
    /// Its seq.
    #[prost(uint64, tag = "2")]
    pub checksum_state_seq: u64,
}

impl Named for DispatcherIdMessage {
    const NAME: &'static str = "DispatcherID";
}
impl Named for Watermark {
    const NAME: &'static str = "Watermark";
}
impl Named for TableSpanStatus {
    const NAME: &'static str = "TableSpanStatus";
}
impl Named for RunningError {
    const NAME: &'static str = "RunningError";
}
impl Named for HeartBeatRequest {
    const NAME: &'static str = "HeartBeatRequest";
}
impl Named for ChecksumMeta {
    const NAME: &'static str = "ChecksumMeta";
}

impl From<crate::DispatcherId> for DispatcherIdMessage {
    fn from(id: crate::DispatcherId) -> Self {
        DispatcherIdMessage {
            high: id.high,
            low: id.low,
        }
    }
}

impl From<DispatcherIdMessage> for crate::DispatcherId {
    fn from(id: DispatcherIdMessage) -> Self {
        crate::DispatcherId::new(id.high, id.low)
    }
}

impl TableSpanStatus {
    /// The status of dispatcher `id` in `state` at `checkpoint_ts`, for `mode`.
    pub fn new(
        id: crate::DispatcherId,
        state: crate::ComponentState,
        checkpoint_ts: u64,
        mode: Mode,
    ) -> TableSpanStatus {
        TableSpanStatus {
            id: Some(id.into()),
            component_status: i32::from(state.number()),
            checkpoint_ts,
            event_size_per_second: 0.0,
            mode: mode.wire(),
        }
    }
}

// ---- Diagnosis messages (OURS, not the reference system's) ------------------------------------
// A node that stays MISMATCH past a threshold asks for the maintainer's difference sketch of its
// expected set, sending its own actual sketch; both sides decode the difference and name the
// dispatchers (see `crate::diagnosis::protocol` and `crate::sketch` for the sketch bytes).

/// Node → maintainer (ours): "I have been MISMATCH for a while; here is my actual sketch, send
/// yours". Fields: 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64` (the expected
/// version the node holds), 5 node `uint32`, 6 sketch `bytes` (the node's actual sketch).
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct DispatcherSetSketchRequest {
    /// The changefeed.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
    pub changefeed_id: Option<ChangefeedIdMessage>,
    /// The epoch of the expected value the node holds.
    #[prost(uint64, tag = "2")]
    pub epoch: u64,
    /// The mode (0 default, 1 redo).
    #[prost(int64, tag = "3")]
    pub mode: i64,
    /// The seq of the expected value the node holds.
    #[prost(uint64, tag = "4")]
    pub seq: u64,
    /// The asking node.
    #[prost(uint32, tag = "5")]
    pub node: u32,
    /// The node's actual difference sketch (`DifferenceSketch::to_bytes`).
    #[prost(bytes = "vec", tag = "6")]
    pub sketch: Vec<u8>,
}

/// Maintainer → node (ours): the difference sketch of the node's expected set. Fields:
/// 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64` (the maintainer's current
/// version for the node), 5 node `uint32`, 6 sketch `bytes` (the expected sketch).
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct DispatcherSetSketchResponse {
    /// The changefeed.
    #[prost(message, optional, tag = "1")]
    #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
    pub changefeed_id: Option<ChangefeedIdMessage>,
    /// The maintainer's epoch.
    #[prost(uint64, tag = "2")]
    pub epoch: u64,
    /// The mode (0 default, 1 redo).
    #[prost(int64, tag = "3")]
    pub mode: i64,
    /// The maintainer's current seq for the node.
    #[prost(uint64, tag = "4")]
    pub seq: u64,
    /// The node it answers.
    #[prost(uint32, tag = "5")]
    pub node: u32,
    /// The expected difference sketch (`DifferenceSketch::to_bytes`).
    #[prost(bytes = "vec", tag = "6")]
    pub sketch: Vec<u8>,
}

impl Named for DispatcherSetSketchRequest {
    const NAME: &'static str = "DispatcherSetSketchRequest";
}
impl Named for DispatcherSetSketchResponse {
    const NAME: &'static str = "DispatcherSetSketchResponse";
}
