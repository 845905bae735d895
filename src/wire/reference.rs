//! The reference heartbeat: TiCDC's `HeartBeatRequest` as its pull request 3782 lays it out, and
//! the messages inside it. Node → maintainer. `dcsum decode --type HeartBeatRequest` prints it
//! with these field names; the simulator's `--protocol reference` heartbeats are these messages.

use super::checksum::ChangefeedIdMessage;
#[cfg(feature = "serde")]
use super::json::{checksum_state_json, component_state_json, float_json};
use super::{named, REFERENCE_PACKAGE};
use crate::protocol::{self, Mode};

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
named!(DispatcherIdMessage, "DispatcherID", REFERENCE_PACKAGE);
named!(Watermark, "Watermark", REFERENCE_PACKAGE);
named!(TableSpanStatus, "TableSpanStatus", REFERENCE_PACKAGE);
named!(RunningError, "RunningError", REFERENCE_PACKAGE);
named!(HeartBeatRequest, "HeartBeatRequest", REFERENCE_PACKAGE);
named!(ChecksumMeta, "ChecksumMeta", REFERENCE_PACKAGE);

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
