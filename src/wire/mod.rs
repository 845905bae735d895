//! The protocol's wire messages: protobuf, encoded with `prost` (derived, no `protoc` at build
//! time), with the reference system's field numbers so the bytes interoperate with it. One file
//! per message family: [`checksum`] (the update, ack and heartbeat of the checksum protocol),
//! [`reference`](mod@reference) (the reference system's heartbeat), [`sketch`] (ours: the diagnosis pair); all
//! re-exported here. Every message names itself through [`prost::Name`] (`NAME`, and `PACKAGE`:
//! `heartbeatpb` for the reference system's messages, `dispatcher_checksum` for ours).
//!
//! | message | fields (number = name type) |
//! |---|---|
//! | `DispatcherSetChecksum` | 1 count, 2 xorHigh, 3 xorLow, 4 sumHigh, 5 sumLow, all `uint64` |
//! | `ChangefeedID` | 1 high `uint64`, 2 low `uint64`, 3 name `string`, 4 keyspace `string` |
//! | `DispatcherSetChecksumUpdateRequest` | 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64`, 5 checksum |
//! | `DispatcherSetChecksumAckResponse` | 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64` |
//! | enum `ChecksumState` | UNINITIALIZED 0, MISMATCH 1, MATCH 2 ([`crate::protocol::ChecksumState`]) |
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
//! diagnosis pair, see [`crate::diagnosis::exchange`]): both 1 changefeedID, 2 epoch `uint64`,
//! 3 mode `int64`, 4 seq `uint64`, 5 node `uint32`, 6 sketch `bytes` (a
//! [`crate::sketch::DifferenceSketch`] in its wire form: the node's actual sketch in the request,
//! the maintainer's expected sketch in the response).
//!
//! Decoding bad bytes returns a [`WireError`], never panics. Every message also has a serde JSON
//! form with the reference field names (`count`, `xorHigh`, ..., `changefeedID`), which
//! `dcsum decode` prints.

pub mod checksum;
#[cfg(feature = "serde")]
mod json;
pub mod reference;
pub mod sketch;

pub use checksum::{
    ChangefeedIdMessage, DispatcherSetChecksum, DispatcherSetChecksumAckResponse,
    DispatcherSetChecksumHeartbeat, DispatcherSetChecksumUpdateRequest,
};
pub use reference::{
    ChecksumMeta, DispatcherIdMessage, HeartBeatRequest, RunningError, TableSpanStatus, Watermark,
};
pub use sketch::{DispatcherSetSketchRequest, DispatcherSetSketchResponse};

use prost::{Message, Name};
use std::fmt;

/// The reference system's protobuf package (`heartbeatpb`), for its messages' [`Name`].
pub const REFERENCE_PACKAGE: &str = "heartbeatpb";

/// This project's protobuf package, for the messages the reference system does not have.
pub const OUR_PACKAGE: &str = "dispatcher_checksum";

/// `impl prost::Name` for a message: its protobuf name and package.
macro_rules! named {
    ($message:ty, $name:expr, $package:expr) => {
        impl prost::Name for $message {
            const NAME: &'static str = $name;
            const PACKAGE: &'static str = $package;
        }
    };
}
pub(crate) use named;

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
pub fn decode<M: Message + Default + Name>(bytes: &[u8]) -> Result<M, WireError> {
    M::decode(bytes).map_err(|error| {
        WireError::new(format!(
            "not a valid {} ({} bytes): {error}",
            M::NAME,
            bytes.len()
        ))
    })
}
