//! The checksum protocol's messages: the fingerprint, the changefeed's ID, the maintainer's
//! update, the node's ack and (ours) the node's checksum heartbeat, with their conversions to and
//! from the [`crate::protocol`] types.

#[cfg(feature = "serde")]
use super::json::checksum_state_json;
use super::{named, WireError, OUR_PACKAGE, REFERENCE_PACKAGE};
use crate::protocol::{
    self, ChecksumAck, ChecksumHeartbeat, ChecksumUpdate, ExpectedVersion, Mode, NodeId,
};
use crate::Fingerprint;

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

named!(
    DispatcherSetChecksum,
    "DispatcherSetChecksum",
    REFERENCE_PACKAGE
);
named!(ChangefeedIdMessage, "ChangefeedID", REFERENCE_PACKAGE);
named!(
    DispatcherSetChecksumUpdateRequest,
    "DispatcherSetChecksumUpdateRequest",
    REFERENCE_PACKAGE
);
named!(
    DispatcherSetChecksumAckResponse,
    "DispatcherSetChecksumAckResponse",
    REFERENCE_PACKAGE
);
named!(
    DispatcherSetChecksumHeartbeat,
    "DispatcherSetChecksumHeartbeat",
    OUR_PACKAGE
);

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
