//! The checksum protocols under test, each as two state machines behind two traits: the node
//! side ([`NodeProtocol`]: accept, reset and ack rules, and what a heartbeat carries) and the
//! maintainer side ([`MaintainerProtocol`]: the expected-set trackers, what it keeps of the
//! heartbeats, and the checkpoint gate).
//!
//! The simulator's node ([`crate::node::SimNode`]) and maintainer
//! ([`crate::maintainer::SimMaintainer`]) hold the data plane and the scheduler, which are the
//! reference's whatever the protocol; everything a protocol decides goes through these traits,
//! so another protocol (the reference's `master`, a proposed fix) is one file implementing both,
//! and one arm in [`Protocol::node_side`] and [`Protocol::maintainer_side`]. Each side is driven
//! only by the messages, timers and clock it is given, so another driver (the model checker) can
//! run the same code.
//!
//! - [`ours`]: this project's protocol, the library's [`dispatcher_checksum::protocol`];
//! - [`reference`](mod@reference): TiCDC's pull request 3782 as it evidently means to work.

pub mod ours;
pub mod reference;

use crate::config::{GateKind, Protocol, SimConfig};
use crate::maintainer::spans::SpanBook;
use crate::maintainer::CheckpointReport;
use crate::node::{Heartbeat, HeartbeatBody, MaintainerRef};
use crate::planted::PlantedBug;
use dispatcher_checksum::protocol::{
    ChangefeedId, ChecksumAck, ChecksumState, ChecksumUpdate, ExpectedChecksum, ExpectedSetTracker,
    IncrementalActualSet, Mode, NodeId,
};
use dispatcher_checksum::wire::TableSpanStatus;
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// What a node gives its protocol side to make one heartbeat of.
#[derive(Clone, Debug)]
pub struct HeartbeatInput<'a> {
    /// The node's clock.
    pub now: Duration,
    /// The changefeed.
    pub changefeed: &'a ChangefeedId,
    /// Per mode the node runs, its watermark (the lowest contributing checkpoint).
    pub watermarks: &'a [(Mode, u64)],
    /// Per mode the node runs (same order), the incremental actual count.
    pub counts: &'a [u64],
    /// The node's dispatcher-map seq per mode (the reference's `Watermark.seq`).
    pub map_seq: [u64; 2],
    /// The dispatcher statuses the heartbeat carries.
    pub statuses: Vec<TableSpanStatus>,
    /// Whether the statuses list every dispatcher.
    pub complete: bool,
    /// Whether the watermark is sent whatever the verdict.
    pub watermark_always: bool,
    /// The planted bug `MatchOnEqualCounts`: say MATCH when the counts agree.
    pub match_on_equal_counts: bool,
}

/// The node side of a checksum protocol: the expected value it holds, the rules by which it
/// follows a maintainer and takes its updates, and the protocol's part of a heartbeat.
pub trait NodeProtocol: fmt::Debug {
    /// The actual set of `mode`, fed the node's lifecycle events.
    fn actual_set_mut(&mut self, mode: Mode) -> Option<&mut IncrementalActualSet>;

    /// The incremental actual fingerprint of `mode`.
    fn actual_fingerprint(&self, mode: Mode) -> Option<Fingerprint>;

    /// The expected value of `mode` the node holds.
    fn expected(&self, mode: Mode) -> Option<ExpectedChecksum>;

    /// Whether a scheduling command from `from` is dropped.
    fn fences(&self, from: MaintainerRef) -> bool;

    /// A bootstrap from `from`: the reset rules; returns whether the node now follows `from`.
    fn bootstrap(&mut self, from: MaintainerRef, planted_bug: PlantedBug) -> bool;

    /// An update from `from` to the node `(node, incarnation)`: the ack to send, if any, and
    /// whether the node now follows `from` because of it.
    fn update(
        &mut self,
        node: (NodeId, u64),
        from: MaintainerRef,
        update: &ChecksumUpdate,
    ) -> Option<(ChecksumAck, bool)>;

    /// The protocol's part of one heartbeat, and the verdict of each mode it judged.
    fn heartbeat(
        &mut self,
        input: HeartbeatInput<'_>,
    ) -> (HeartbeatBody, Vec<(Mode, ChecksumState)>);

    /// A copy behind a new box.
    fn boxed_clone(&self) -> Box<dyn NodeProtocol>;
}

impl Clone for Box<dyn NodeProtocol> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

/// What the maintainer knows that a gate decision reads.
#[derive(Clone, Copy, Debug)]
pub struct GateInputs<'a> {
    /// The modes the changefeed runs.
    pub modes: &'a [Mode],
    /// The nodes the maintainer knows are alive.
    pub members: &'a BTreeSet<NodeId>,
    /// The node the maintainer runs on.
    pub host: NodeId,
    /// The scheduler's spans.
    pub spans: &'a SpanBook,
    /// Per mode, the scheduler's floor (in-flight operators, absent and scheduling spans).
    pub floors: &'a [(Mode, Option<u64>)],
    /// The gate under test.
    pub gate: GateKind,
    /// The planted bug.
    pub planted_bug: PlantedBug,
}

impl GateInputs<'_> {
    /// The lowest floor over the modes.
    pub fn combined_floor(&self) -> Option<u64> {
        self.floors.iter().filter_map(|(_, floor)| *floor).min()
    }
}

/// The maintainer side of a checksum protocol: the expected-set trackers the scheduler feeds,
/// what it keeps of the nodes' heartbeats and acks, and the checkpoint gate.
pub trait MaintainerProtocol: fmt::Debug {
    /// The tracker of `mode`.
    fn tracker(&self, mode: Mode) -> Option<&ExpectedSetTracker>;

    /// The tracker of `mode`, to change.
    fn tracker_mut(&mut self, mode: Mode) -> Option<&mut ExpectedSetTracker>;

    /// Every tracker, to flush and resend.
    fn trackers_mut(&mut self) -> Vec<&mut ExpectedSetTracker>;

    /// A dispatcher whose table was dropped leaves the expected set of `mode` (it was on
    /// `node`).
    fn drop_expected(&mut self, mode: Mode, node: NodeId, id: DispatcherId);

    /// Whether [`drop_expected`](MaintainerProtocol::drop_expected) drops the ID whatever node
    /// it is expected on (the oracle map must do the same).
    fn drops_by_id(&self) -> bool;

    /// Whether heartbeats carry the node's process incarnation, so the maintainer notices a
    /// restart from them (otherwise only from membership).
    fn knows_incarnations(&self) -> bool;

    /// `node` left: forget it.
    fn node_removed(&mut self, node: NodeId);

    /// An ack.
    fn ack(&mut self, ack: ChecksumAck);

    /// The protocol's part of a heartbeat.
    fn observe(&mut self, heartbeat: &Heartbeat, now: u64, modes: &[Mode], planted_bug: PlantedBug);

    /// One checkpoint step: the gate and the floors; `reported` is the checkpoint reported per
    /// mode, updated in place.
    fn checkpoint_step(
        &mut self,
        inputs: &GateInputs<'_>,
        reported: &mut [Option<u64>; 2],
    ) -> CheckpointReport;

    /// What the gate holds, in words.
    fn explain_gate(&self, inputs: &GateInputs<'_>) -> Vec<String>;

    /// Whether the gate requires `node`'s verdict of `mode` (for the liveness check).
    fn requires(&self, node: NodeId, mode: Mode, inputs: &GateInputs<'_>) -> bool;

    /// Whether the gate needs a MATCH on the maintainer's latest update (otherwise any MATCH).
    fn needs_match_on_latest(&self) -> bool;

    /// The modes whose progress bounds the checkpoint of `mode`.
    fn judged_with(&self, mode: Mode, modes: &[Mode]) -> Vec<Mode>;

    /// Whether the verdicts of `mode` gate the changefeed's checkpoint (for the consistency
    /// diagnostic).
    fn gates_changefeed(&self, mode: Mode) -> bool;

    /// A copy behind a new box.
    fn boxed_clone(&self) -> Box<dyn MaintainerProtocol>;
}

impl Clone for Box<dyn MaintainerProtocol> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

impl Protocol {
    /// The node side of a fresh node process.
    pub fn node_side(
        self,
        id: NodeId,
        incarnation: u64,
        redo: bool,
        watermark_always: bool,
    ) -> Box<dyn NodeProtocol> {
        match self {
            Protocol::Ours => {
                Box::new(ours::OursNode::new(id, incarnation, redo, watermark_always))
            }
            Protocol::Reference => Box::new(reference::RefNode::new(redo)),
        }
    }

    /// The maintainer side of a maintainer starting from the persisted checkpoints.
    pub fn maintainer_side(
        self,
        config: &SimConfig,
        changefeed: &ChangefeedId,
        persisted: [u64; 2],
    ) -> Box<dyn MaintainerProtocol> {
        match self {
            Protocol::Ours => Box::new(ours::OursMaintainer::new(config, changefeed, persisted)),
            Protocol::Reference => Box::new(reference::RefMaintainer::new(config, changefeed)),
        }
    }

    /// Whether every maintainer takes a new epoch (ours: a timestamp at its start); otherwise the
    /// epoch is the changefeed's, which a failover or a move keeps and an error restart renews
    /// (the reference: `coordinator/coordinator.go`, `updateChangefeedEpoch`).
    pub const fn epoch_per_maintainer(self) -> bool {
        matches!(self, Protocol::Ours)
    }

    /// Whether the maintainer sends expected-set updates under `gate` (TiCDC before the pull
    /// request, the reference without its gate, has none).
    pub const fn sends_updates(self, gate: GateKind) -> bool {
        !matches!((self, gate), (Protocol::Reference, GateKind::None))
    }
}
