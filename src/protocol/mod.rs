//! The incremental protocol: the maintainer's expected sets, the node's verifier, and the
//! checkpoint gate between them.
//!
//! ```text
//!  maintainer (per changefeed)                                node (per changefeed and mode)
//!  ExpectedSetTracker ── ChecksumUpdate{epoch,mode,seq,fp} ──▶ DispatcherSetVerifier
//!   expected fp per node, seq,  ◀─ ChecksumAck{epoch,mode,seq,   expected {epoch, seq, fp} vs the
//!   acks, resends, in-flight IDs      incarnation} ───────────   actual fp kept incrementally
//!  CheckpointGate ◀── ChecksumHeartbeat{state, seq, incarnation, verified (epoch, seq),
//!   newest heartbeat per (node, mode), kept whole                 watermark, actual fp} ──┘
//!  checkpoint = max(previous, min(gate's watermark, scheduler's floor))
//! ```
//!
//! Everything runs per changefeed and per [`Mode`]: the default mode and, with redo enabled, the
//! redo mode, each with its own independent state ([`MaintainerChecksums`], [`NodeChecksums`]).
//! Time is injected as a [`Duration`](std::time::Duration) since an arbitrary origin (see
//! [`clock`]), so every timing rule is testable without sleeping. The rules and why each exists:
//! `docs/protocol.md`; the simulator that judges them: the `dispatcher-checksum-sim` crate.
//!
//! One round trip, from the maintainer's expected set to a checkpoint:
//!
//! ```
//! use dispatcher_checksum::protocol::{
//!     ActualSet, ChangefeedId, GateDecision, MaintainerChecksums, Mode, NodeChecksums, NodeId,
//!     TrackerConfig, VerifierConfig,
//! };
//! use dispatcher_checksum::{ComponentState, DispatcherId};
//! use std::time::Duration;
//!
//! let node = NodeId(1);
//! let ids = [DispatcherId::new(1, 10), DispatcherId::new(2, 20)];
//! let now = Duration::ZERO;
//!
//! // The maintainer expects both dispatchers on node 1 (epoch 7) and sends the update.
//! let mut maintainer =
//!     MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
//! let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
//! let update = tracker.reset_full(7, &[node], [(node, ids)], now).updates.remove(0);
//!
//! // The node runs them, takes the update and acknowledges it.
//! let mut checksums: NodeChecksums = NodeChecksums::new(node, 1, false, VerifierConfig::default());
//! let verifier = checksums.verifier_mut(Mode::Default).unwrap();
//! for id in ids {
//!     verifier.actual_set_mut().on_dispatcher_added(id, ComponentState::Working);
//! }
//! let ack = checksums.apply_update(&update).unwrap();
//! maintainer.handle_ack(ack);
//!
//! // Its heartbeat is MATCH against the maintainer's latest version, so the checkpoint moves.
//! let (heartbeat, verdict) = checksums.heartbeat(Mode::Default, 420, now).unwrap();
//! assert!(verdict.carries_watermark);
//! maintainer.observe_heartbeat(heartbeat, now);
//! assert_eq!(maintainer.decide_verified(), GateDecision::Advance { checkpoint: 420 });
//! assert_eq!(maintainer.advance_checkpoint(None).checkpoint, Some(420));
//! ```

pub mod changefeed;
pub mod clock;
pub mod gate;
pub mod in_flight;
mod packed;
pub mod telemetry;
pub mod tracker;
pub mod verifier;

pub use changefeed::{
    CheckpointRule, CheckpointStep, MaintainerChecksums, NodeChecksums, WatermarkPolicy,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use gate::{CheckpointGate, GateDecision, HoldReason, NodeReport, Requirement};
pub use tracker::{
    AckOutcome, DeltaSummary, ExpectedSetTracker, HeartbeatWatch, Reassignment, ResetReport,
    TrackedNode, TrackerConfig,
};
pub use verifier::{
    ActualSet, DispatcherSetVerifier, ExpectedChecksum, IncrementalActualSet, MismatchLog,
    RecomputeActualSet, Verdict, VerifierConfig, VerifierRuntime,
};

use crate::Fingerprint;
use std::fmt;

/// A node (a capture in the reference system), named by a small number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct NodeId(pub u32);

/// `node-7`.
impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node-{}", self.0)
    }
}

/// Which of a changefeed's two independent dispatcher sets: the default one, or the redo log's.
/// On the wire it is an `int64` (0 or 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Mode {
    /// The default dispatcher set (wire 0).
    #[default]
    Default = 0,
    /// The redo dispatcher set (wire 1).
    Redo = 1,
}

impl Mode {
    /// Both modes in wire order.
    pub const ALL: [Mode; 2] = [Mode::Default, Mode::Redo];

    /// The wire number.
    pub const fn wire(self) -> i64 {
        self as i64
    }

    /// The mode with this wire number, if any.
    pub const fn from_wire(number: i64) -> Option<Mode> {
        match number {
            0 => Some(Mode::Default),
            1 => Some(Mode::Redo),
            _ => None,
        }
    }

    /// `default` or `redo`.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Redo => "redo",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A changefeed's identity as the reference system sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChangefeedId {
    /// High half of the changefeed's 128-bit ID.
    pub high: u64,
    /// Low half of the changefeed's 128-bit ID.
    pub low: u64,
    /// The changefeed's name.
    pub name: String,
    /// The keyspace it belongs to.
    pub keyspace: String,
}

impl ChangefeedId {
    /// A changefeed ID with these parts.
    pub fn new(high: u64, low: u64, name: impl Into<String>, keyspace: impl Into<String>) -> Self {
        ChangefeedId {
            high,
            low,
            name: name.into(),
            keyspace: keyspace.into(),
        }
    }
}

/// `keyspace/name`.
impl fmt::Display for ChangefeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.keyspace, self.name)
    }
}

/// What a node's verifier concluded, with the reference system's wire numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum ChecksumState {
    /// No expected fingerprint has arrived since the last reset (wire 0).
    #[default]
    Uninitialized = 0,
    /// The actual fingerprint differs from the expected one (wire 1).
    Mismatch = 1,
    /// The actual fingerprint equals the expected one (wire 2).
    Match = 2,
}

impl ChecksumState {
    /// Every state in wire order.
    pub const ALL: [ChecksumState; 3] = [
        ChecksumState::Uninitialized,
        ChecksumState::Mismatch,
        ChecksumState::Match,
    ];

    /// The wire number.
    pub const fn wire(self) -> i32 {
        self as i32
    }

    /// The state with this wire number, if any.
    pub const fn from_wire(number: i32) -> Option<ChecksumState> {
        match number {
            0 => Some(ChecksumState::Uninitialized),
            1 => Some(ChecksumState::Mismatch),
            2 => Some(ChecksumState::Match),
            _ => None,
        }
    }

    /// The state with this reference name (`UNINITIALIZED`, `MISMATCH`, `MATCH`), if any.
    pub fn from_name(name: &str) -> Option<ChecksumState> {
        ChecksumState::ALL
            .into_iter()
            .find(|state| state.name() == name)
    }

    /// The reference system's name: `UNINITIALIZED`, `MISMATCH`, `MATCH`.
    pub const fn name(self) -> &'static str {
        match self {
            ChecksumState::Uninitialized => "UNINITIALIZED",
            ChecksumState::Mismatch => "MISMATCH",
            ChecksumState::Match => "MATCH",
        }
    }
}

/// A wire number that names no state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownChecksumState(pub i32);

/// The wire's `i32` (what prost reads an `enumeration` field through).
impl TryFrom<i32> for ChecksumState {
    type Error = UnknownChecksumState;

    fn try_from(number: i32) -> Result<Self, Self::Error> {
        ChecksumState::from_wire(number).ok_or(UnknownChecksumState(number))
    }
}

impl fmt::Display for ChecksumState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The maintainer's message to one node: "in this epoch and mode, your expected set as of update
/// `seq` has this fingerprint". The changefeed travels beside it (see [`crate::wire`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChecksumUpdate {
    /// The node it is for.
    pub node: NodeId,
    /// The maintainer's epoch.
    pub epoch: u64,
    /// The mode whose set it describes.
    pub mode: Mode,
    /// The update number for this node (1 after a reset, +1 per changing delta).
    pub seq: u64,
    /// The fingerprint of the node's expected set.
    pub fingerprint: Fingerprint,
}

/// A node's acknowledgement of the update it applied (or already had).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChecksumAck {
    /// The node that acknowledges.
    pub node: NodeId,
    /// The node process that acknowledges (see [`ChecksumHeartbeat::incarnation`]): an ack from
    /// a process that has since restarted says nothing about what the new one holds.
    pub incarnation: u64,
    /// The epoch of the update.
    pub epoch: u64,
    /// The mode of the update.
    pub mode: Mode,
    /// The update's seq.
    pub seq: u64,
}

/// Which expected value a verdict was computed against: the maintainer's epoch and the update's
/// seq (both 0 before any update). Ordered by epoch, then seq.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExpectedVersion {
    /// The maintainer's epoch.
    pub epoch: u64,
    /// The update's seq within the epoch.
    pub seq: u64,
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "epoch {} seq {}", self.epoch, self.seq)
    }
}

/// The checksum part of a node's heartbeat for one mode: its verdict, the expected version the
/// verdict was computed against, and, only when the verdict is MATCH, its watermark (otherwise
/// the node withholds it).
///
/// Four fields are our additions to the reference heartbeat:
/// - `verified_against`: without it a MATCH computed against an update the maintainer has since
///   superseded (still in flight to the node) looks the same as a current one, and the gate
///   could open while the node's set is already wrong (see [`CheckpointGate::decide_versions`]
///   and [`MaintainerChecksums::decide_verified`]);
/// - `seq`: numbers the heartbeats of one node process and mode, +1 at every heartbeat. The gate
///   keeps, per (node, mode), the whole heartbeat with the highest `(incarnation, seq)`: the
///   watermark, state and version of one heartbeat always travel together, and a newer watermark
///   replaces an older one even when it is lower (a dispatcher with an older checkpoint joined).
///   `state_seq` cannot order them: it changes only with the state, and the watermark can fall
///   while the state stays MATCH;
/// - `incarnation`: the node process. A node that restarts under the same node ID starts its
///   sequences over, so its first heartbeats would look older than its last ones before the
///   restart; the restarted process takes a higher incarnation (for example its start time in
///   milliseconds) and wins;
/// - `actual`: the node's actual fingerprint, for the explained-mismatch gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChecksumHeartbeat {
    /// The node that sends it.
    pub node: NodeId,
    /// The sending node process; higher after every restart of the node.
    pub incarnation: u64,
    /// The mode it reports on.
    pub mode: Mode,
    /// This heartbeat's number among the process's heartbeats for `mode` (1, 2, ...).
    pub seq: u64,
    /// The verifier's state.
    pub state: ChecksumState,
    /// Goes up each time `state` changes (and at each reset).
    pub state_seq: u64,
    /// The node's checkpoint watermark; `None` unless `state` is MATCH.
    pub watermark: Option<u64>,
    /// The expected value `state` was computed against.
    pub verified_against: ExpectedVersion,
    /// The node's actual fingerprint, from the same instant as `watermark` (ours; `None` from a
    /// sender that does not say). The explained-mismatch gate checks it against the settled and
    /// in-flight parts of what the maintainer expects (see [`in_flight`]).
    pub actual: Option<Fingerprint>,
}

impl ChecksumHeartbeat {
    /// The order of heartbeats from one node and mode: a later process, then a later heartbeat.
    pub fn order(&self) -> (u64, u64) {
        (self.incarnation, self.seq)
    }
}
