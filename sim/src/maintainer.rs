//! One simulated maintainer: the scheduler's view of every span, the operator state machines of
//! the reference system (add, remove, move, split, merge) under either ordering, the checksum
//! protocol's maintainer side (ours or the reference's), the floors in-flight operators and
//! absent spans impose, and the checkpoint.
//!
//! The operators follow `maintainer/operator/` of TiCDC (see `reference.rs` for where the
//! protocol rules come from):
//!
//! | operator | commands | finishes on | `PostFinish` (reference ordering) | floor |
//! |---|---|---|---|---|
//! | add(dest) | Create to dest | dest: Working | `+id` on dest | the span's checkpoint |
//! | remove(node) | Remove to node | node: Stopped | `-id` on node | none (the table is gone) |
//! | move(origin, dest) | Remove to origin, then Create to dest | dest: Working | `+id` on dest (moves it) | the span's checkpoint |
//! | split(origin) | Remove to origin | origin: Stopped | `-id` on origin; new spans absent, placed by adds | the span's checkpoint |
//! | merge(node) | Merge to node | node: merged Working | `+merged -sources` on node | the spans are scheduling |
//!
//! Under [`Ordering::Eager`] the same deltas are applied when the operator starts, and undone on
//! the abort paths. Abort paths: a move whose destination goes away ends *as absent* (the ID
//! leaves the origin's expected set at once); an add or split whose node goes away leaves the
//! span absent; a table dropped while its move, split or merge runs *replaces* that operator: the
//! old one is cancelled (a move without its final delta, a split or merge through its abort
//! path) and a remove operator takes over, addressed to the node the span was bound to when the
//! drop was seen. The reference removes the ID from *that* node only; ours removes it from
//! whichever node expects it ([`ExpectedSetTracker::remove_ids`]).
//!
//! Every ID an operator changes is marked in flight on the nodes it touches for the operator's
//! life ([`ExpectedSetTracker::begin_transition`]); only the explained-mismatch gate reads those
//! marks.
//!
//! Scheduler behaviour beyond the reference (documented modelling choices): absent spans are
//! placed by add operators on the least-loaded node at every period; a span that its bound node
//! reports Stopped, or leaves out of a complete status list after reporting it Working (or after
//! a report more than a complete-status period old in a state such lists leave out), while no
//! operator runs on it, is taken as gone from that node (absent again, out of the expected set),
//! which is how a span whose removal was under way when the maintainer failed over comes back.
//! (The reference's maintainer does not read the complete flag; without this a silently lost
//! dispatcher would hold the checkpoint until an operator steps in, correctly but forever.)

use crate::config::{GateKind, Ordering, Protocol, SimConfig};
use crate::node::{Heartbeat, HeartbeatBody, MaintainerRef, Reported};
use crate::planted::{self, PlantedBug};
use crate::reference::RefGate;
use crate::rng::SimRng;
use crate::trace::Tracer;
use crate::world::World;
use dispatcher_checksum::protocol::{
    ChangefeedId, CheckpointRule, CheckpointStep, ChecksumAck, ChecksumHeartbeat, ChecksumUpdate,
    ExpectedSetTracker, ExpectedVersion, GateDecision, MaintainerChecksums, Mode, NodeId,
    TrackerConfig,
};
use dispatcher_checksum::wire::TableSpanStatus;
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// An unanswered bootstrap is sent again this often (TiCDC's bootstrapper:
/// `pkg/bootstrap/bootstrap.go` `defaultResendInterval`).
pub const BOOTSTRAP_RESEND_MS: u64 = 500;

/// Where the scheduler thinks a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanStatus {
    /// No node runs it.
    Absent,
    /// An operator is placing or moving it.
    Scheduling,
    /// It runs on its node.
    Replicating,
}

/// The scheduler's view of one span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanView {
    /// Its mode.
    pub mode: Mode,
    /// Where it is.
    pub status: SpanStatus,
    /// The node it is bound to.
    pub node: Option<NodeId>,
    /// Its stored checkpoint (the last one its bound node reported; only goes up).
    pub checkpoint: u64,
    /// The last state its bound node reported.
    pub last_state: Option<ComponentState>,
    /// When the node made the report the scheduler last took for it (a report made before is
    /// stale: a complete list sent before the span arrived does not mean it left).
    pub reported_at: u64,
}

/// The operator kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperatorKind {
    /// Place a span on a node.
    Add,
    /// Remove a span (its table was dropped).
    Remove,
    /// Move a span to another node.
    Move,
    /// Replace a span by two halves.
    Split,
    /// Replace two adjacent spans of one node by one.
    Merge,
}

impl OperatorKind {
    /// Every kind.
    pub const ALL: [OperatorKind; 5] = [
        OperatorKind::Add,
        OperatorKind::Remove,
        OperatorKind::Move,
        OperatorKind::Split,
        OperatorKind::Merge,
    ];

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            OperatorKind::Add => "add",
            OperatorKind::Remove => "remove",
            OperatorKind::Move => "move",
            OperatorKind::Split => "split",
            OperatorKind::Merge => "merge",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for Working from the destination (add; move after the origin stopped).
    AddDest,
    /// Waiting for the origin to stop (move, split, remove).
    RemoveOrigin,
    /// A move whose destination went away: waiting for the origin to stop, then absent.
    AbortRemoveOrigin,
    /// Waiting for the merged dispatcher to be Working.
    Merging,
}

#[derive(Clone, Debug)]
struct Operator {
    kind: OperatorKind,
    mode: Mode,
    /// The span it is keyed by (a merge: the merged span).
    span: DispatcherId,
    phase: Phase,
    origin: Option<NodeId>,
    dest: Option<NodeId>,
    sources: Vec<DispatcherId>,
    /// A split's checkpoint (the span's, raised by the origin's final report).
    checkpoint: u64,
    /// When its current command was last sent.
    last_sent: u64,
    /// (node, id, leaving) marked in flight; `leaving`: the ID is leaving that node.
    transitions: Vec<(NodeId, DispatcherId, bool)>,
    /// Whether it holds the checkpoint at its span's stored checkpoint.
    floor: bool,
}

/// A command to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Create a dispatcher.
    Create {
        /// The node.
        node: NodeId,
        /// The dispatcher.
        id: DispatcherId,
        /// Its mode.
        mode: Mode,
        /// Where it starts.
        start_ts: u64,
    },
    /// Remove a dispatcher.
    Remove {
        /// The node.
        node: NodeId,
        /// The dispatcher.
        id: DispatcherId,
        /// Its mode.
        mode: Mode,
    },
    /// Merge dispatchers.
    Merge {
        /// The node.
        node: NodeId,
        /// The sources.
        sources: Vec<DispatcherId>,
        /// The new dispatcher.
        merged: DispatcherId,
        /// Their mode.
        mode: Mode,
    },
    /// Introduce the maintainer.
    Bootstrap {
        /// The node.
        node: NodeId,
    },
}

/// What a maintainer asks the engine to send.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    /// Commands (reliable).
    pub commands: Vec<Command>,
    /// Checksum updates (lossy), each with the exact set it stands for when the checks want it.
    pub updates: Vec<(ChecksumUpdate, Option<std::rc::Rc<BTreeSet<DispatcherId>>>)>,
}

/// The maintainer side of the protocol under test.
#[derive(Clone, Debug)]
pub enum MaintainerSide {
    /// Ours: trackers, gate and monotone checkpoint in one.
    Ours(Box<MaintainerChecksums>),
    /// The reference: a tracker per mode, and its stores and gate.
    Reference {
        /// Per mode (index = mode number).
        trackers: Box<[Option<ExpectedSetTracker>; 2]>,
        /// The state and watermark stores.
        gate: RefGate,
    },
}

impl MaintainerSide {
    /// The tracker of `mode`.
    pub fn tracker(&self, mode: Mode) -> Option<&ExpectedSetTracker> {
        match self {
            MaintainerSide::Ours(checksums) => checksums.tracker(mode),
            MaintainerSide::Reference { trackers, .. } => trackers[mode as usize].as_ref(),
        }
    }

    fn tracker_mut(&mut self, mode: Mode) -> Option<&mut ExpectedSetTracker> {
        match self {
            MaintainerSide::Ours(checksums) => checksums.tracker_mut(mode),
            MaintainerSide::Reference { trackers, .. } => trackers[mode as usize].as_mut(),
        }
    }

    fn trackers_mut(&mut self) -> Vec<&mut ExpectedSetTracker> {
        match self {
            MaintainerSide::Ours(checksums) => checksums.trackers_mut().collect(),
            MaintainerSide::Reference { trackers, .. } => trackers.iter_mut().flatten().collect(),
        }
    }
}

/// What one checkpoint step found, for the metrics and the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointReport {
    /// The checkpoint after the step, per mode (ours: the same for both).
    pub checkpoint: [Option<u64>; 2],
    /// Whether the checksum gate held it (the floors alone would not have).
    pub held_by_gate: bool,
    /// Whether the checksum gate was open (for the consistency diagnostic).
    pub gate_open: bool,
}

#[derive(Clone, Debug)]
enum Bootstrap {
    Waiting {
        pending: BTreeSet<NodeId>,
        responses: BTreeMap<NodeId, Vec<Reported>>,
    },
    Done,
}

/// One maintainer.
#[derive(Clone, Debug)]
pub struct SimMaintainer {
    /// Its identity.
    pub me: MaintainerRef,
    /// The nodes it knows are alive.
    pub members: BTreeSet<NodeId>,
    /// Every span it knows.
    pub spans: BTreeMap<DispatcherId, SpanView>,
    /// The protocol side.
    pub side: MaintainerSide,
    /// The oracle of the trackers' owner maps: the same deltas on a plain map.
    pub committed: [BTreeMap<DispatcherId, NodeId>; 2],
    /// The last checkpoint it reported, per mode.
    pub reported: [Option<u64>; 2],
    /// The node process it last heard from, per node (ours uses it to notice restarts).
    pub incarnations: BTreeMap<NodeId, u64>,
    /// Per node, the (incarnation, changes) of the newest heartbeat it received (for the
    /// checks: what the gate can know).
    pub heard: BTreeMap<NodeId, (u64, u64)>,
    bootstrap: Bootstrap,
    modes: Vec<Mode>,
    operators: BTreeMap<u64, Operator>,
    span_op: BTreeMap<DispatcherId, u64>,
    /// A split's new spans, by operator.
    halves: BTreeMap<u64, [DispatcherId; 2]>,
    /// Spans with no node.
    absent: BTreeSet<DispatcherId>,
    /// Spans by the node they are bound to.
    by_node: BTreeMap<NodeId, BTreeSet<DispatcherId>>,
    /// Every span, in an order that allows drawing one at random, and where each is in it.
    order: Vec<DispatcherId>,
    position: std::collections::HashMap<DispatcherId, usize>,
    /// In-flight marks of IDs that left a node with a finished operator, kept until the node's
    /// next heartbeat made after the one that finished it: the reference node still counts a
    /// dispatcher in the heartbeat that reports it Stopped. (mode, node, id, made_at).
    lingering: Vec<(Mode, NodeId, DispatcherId, u64)>,
    next_op: u64,
    non_replicating: [BTreeSet<(u64, DispatcherId)>; 2],
    bound: BTreeMap<(NodeId, Mode), usize>,
    /// PlantedBug `GateKeepsMaxWatermarkWithinStateSeq`: the old record rule's kept reports and
    /// the seqs it feeds the real gate with.
    planted: BTreeMap<(NodeId, Mode), (ChecksumHeartbeat, u64)>,
    /// How long one complete-status period lasts: a span last reported in a state a complete
    /// list leaves out (Initializing, Preparing, MergeReady) and missing from a complete list made
    /// more than this after that report is gone (no dispatcher stays in those states that long
    /// in the model), as is one whose Working report was lost before it vanished.
    complete_period_ms: u64,
    protocol: Protocol,
    ordering: Ordering,
    gate: GateKind,
    planted_bug: PlantedBug,
    full_checks: bool,
    persisted: [u64; 2],
    /// Nodes whose bootstrap is unanswered, with when it was last sent: resent every
    /// [`BOOTSTRAP_RESEND_MS`] until answered (TiCDC: `pkg/bootstrap/bootstrap.go`
    /// `ResendBootstrapMessage`).
    unanswered: BTreeMap<NodeId, u64>,
    /// Whether expected-set updates go on the wire (not for the reference without its
    /// checksum: TiCDC before the pull request has none).
    sends_updates: bool,
}

impl SimMaintainer {
    /// A maintainer that has not bootstrapped yet, started at `now`; `persisted` is the
    /// changefeed checkpoint it starts from, per mode. Returns it with the bootstraps to send.
    pub fn start(
        me: MaintainerRef,
        members: BTreeSet<NodeId>,
        config: &SimConfig,
        changefeed: ChangefeedId,
        persisted: [u64; 2],
        now: u64,
    ) -> (SimMaintainer, Outbox) {
        let mut modes = vec![Mode::Default];
        if config.redo {
            modes.push(Mode::Redo);
        }
        let tracker_config = TrackerConfig {
            resend_interval: Duration::from_millis(config.timing.resend_ms),
            ..TrackerConfig::default()
        };
        let side = match config.protocol {
            Protocol::Ours => {
                let rule = match config.gate {
                    GateKind::Explained => CheckpointRule::Explained,
                    _ => CheckpointRule::Verified,
                };
                let mut checksums =
                    MaintainerChecksums::new(changefeed.clone(), config.redo, tracker_config)
                        .with_rule(rule);
                // Ours gates every mode with one checkpoint.
                let floor = if config.redo {
                    persisted[0].min(persisted[1])
                } else {
                    persisted[0]
                };
                checksums.set_checkpoint(floor);
                MaintainerSide::Ours(Box::new(checksums))
            }
            Protocol::Reference => MaintainerSide::Reference {
                trackers: Box::new([
                    Some(ExpectedSetTracker::new(
                        changefeed.clone(),
                        Mode::Default,
                        tracker_config,
                    )),
                    config.redo.then(|| {
                        ExpectedSetTracker::new(changefeed.clone(), Mode::Redo, tracker_config)
                    }),
                ]),
                gate: RefGate::new(),
            },
        };
        let outbox = Outbox {
            commands: members
                .iter()
                .map(|node| Command::Bootstrap { node: *node })
                .collect(),
            updates: Vec::new(),
        };
        let unanswered = members.iter().map(|node| (*node, now)).collect();
        let maintainer = SimMaintainer {
            me,
            unanswered,
            bootstrap: Bootstrap::Waiting {
                pending: members.clone(),
                responses: BTreeMap::new(),
            },
            members,
            spans: BTreeMap::new(),
            side,
            committed: [BTreeMap::new(), BTreeMap::new()],
            reported: [Some(persisted[0]), config.redo.then_some(persisted[1])],
            incarnations: BTreeMap::new(),
            heard: BTreeMap::new(),
            modes,
            operators: BTreeMap::new(),
            span_op: BTreeMap::new(),
            halves: BTreeMap::new(),
            absent: BTreeSet::new(),
            by_node: BTreeMap::new(),
            order: Vec::new(),
            position: std::collections::HashMap::new(),
            lingering: Vec::new(),
            next_op: 0,
            non_replicating: [BTreeSet::new(), BTreeSet::new()],
            bound: BTreeMap::new(),
            planted: BTreeMap::new(),
            complete_period_ms: config.timing.heartbeat_ms
                * config.timing.complete_status_every.max(1),
            protocol: config.protocol,
            ordering: config.ordering,
            gate: config.gate,
            planted_bug: config.planted_bug,
            full_checks: config.checks == crate::config::Checks::Full,
            persisted,
            sends_updates: !(config.protocol == Protocol::Reference
                && config.gate == GateKind::None),
        };
        (maintainer, outbox)
    }

    /// Whether it finished bootstrapping.
    pub fn bootstrapped(&self) -> bool {
        matches!(self.bootstrap, Bootstrap::Done)
    }

    /// Whether every node runs exactly the spans bound to it: `runs(node)` is the set of
    /// dispatchers a node runs.
    pub fn consistent_with(&self, runs: &BTreeMap<NodeId, BTreeSet<DispatcherId>>) -> bool {
        self.difference_from(runs).is_none()
    }

    /// How what the nodes run differs from the spans bound to them, if it does.
    pub fn difference_from(
        &self,
        runs: &BTreeMap<NodeId, BTreeSet<DispatcherId>>,
    ) -> Option<String> {
        let mut bound: BTreeMap<NodeId, BTreeSet<DispatcherId>> = BTreeMap::new();
        for (id, view) in &self.spans {
            if let Some(node) = view.node {
                bound.entry(node).or_default().insert(*id);
            }
        }
        let empty = BTreeSet::new();
        let nodes: BTreeSet<NodeId> = runs.keys().chain(bound.keys()).copied().collect();
        let mut differences = Vec::new();
        for node in nodes {
            let running = runs.get(&node).unwrap_or(&empty);
            let expected = bound.get(&node).unwrap_or(&empty);
            for id in running.difference(expected) {
                let view = self
                    .spans
                    .get(id)
                    .map(|v| format!("{:?} on {:?}", v.status, v.node));
                differences.push(format!(
                    "{node} runs {} (scheduler: {})",
                    short(*id),
                    view.unwrap_or_else(|| "unknown".into())
                ));
            }
            for id in expected.difference(running) {
                differences.push(format!(
                    "{node} lacks {} ({:?})",
                    short(*id),
                    self.spans[id].status
                ));
            }
        }
        (!differences.is_empty()).then(|| {
            differences
                .into_iter()
                .take(4)
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// Whether no operator runs and no span is absent or scheduling.
    pub fn idle(&self) -> bool {
        self.operators.is_empty()
            && self
                .spans
                .values()
                .all(|span| span.status == SpanStatus::Replicating)
    }

    /// Operators in flight.
    pub fn operators_in_flight(&self) -> usize {
        self.operators.len()
    }

    /// The operators in flight, briefly.
    pub fn describe_operators(&self) -> String {
        self.operators
            .values()
            .take(4)
            .map(|op| {
                format!(
                    "{} {} {:?} {:?}->{:?}",
                    op.kind.name(),
                    short(op.span),
                    op.phase,
                    op.origin,
                    op.dest
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether an operator has `id` (its span, or one of a merge's sources) in flight.
    pub fn in_flight(&self, id: DispatcherId) -> bool {
        self.span_op.contains_key(&id)
    }

    /// Whether a table drop of `id` would replace a running move, split or merge.
    pub fn replaceable(&self, id: DispatcherId) -> bool {
        self.span_op
            .get(&id)
            .and_then(|op| self.operators.get(op))
            .is_some_and(|op| {
                matches!(
                    op.kind,
                    OperatorKind::Move | OperatorKind::Split | OperatorKind::Merge
                )
            })
    }

    /// Every (node, id) an operator has in flight.
    pub fn in_flight_pairs(&self) -> BTreeSet<(NodeId, DispatcherId)> {
        self.operators
            .values()
            .flat_map(|op| op.transitions.iter().map(|(node, id, _)| (*node, *id)))
            .chain(self.lingering.iter().map(|(_, node, id, _)| (*node, *id)))
            .collect()
    }

    /// The modes.
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }

    // ---- span bookkeeping --------------------------------------------------------------------

    /// The one place a span's view changes; it keeps every index in step: the non-replicating
    /// floor, the bound-span counts, the absent set, the spans by node, the sampling order.
    fn set_span(&mut self, id: DispatcherId, view: Option<SpanView>) {
        let old = self.spans.get(&id).copied();
        if let Some(old) = old {
            if old.status != SpanStatus::Replicating {
                self.non_replicating[old.mode as usize].remove(&(old.checkpoint, id));
            }
            if let (Some(node), true) = (old.node, old.status != SpanStatus::Absent) {
                if let Some(count) = self.bound.get_mut(&(node, old.mode)) {
                    *count -= 1;
                }
            }
            if old.status == SpanStatus::Absent {
                self.absent.remove(&id);
            }
            if let Some(node) = old.node {
                if let Some(ids) = self.by_node.get_mut(&node) {
                    ids.remove(&id);
                }
            }
        }
        match view {
            Some(view) => {
                if view.status != SpanStatus::Replicating {
                    self.non_replicating[view.mode as usize].insert((view.checkpoint, id));
                }
                if let (Some(node), true) = (view.node, view.status != SpanStatus::Absent) {
                    *self.bound.entry((node, view.mode)).or_default() += 1;
                }
                if view.status == SpanStatus::Absent {
                    self.absent.insert(id);
                }
                if let Some(node) = view.node {
                    self.by_node.entry(node).or_default().insert(id);
                }
                if old.is_none() {
                    self.position.insert(id, self.order.len());
                    self.order.push(id);
                }
                self.spans.insert(id, view);
            }
            None => {
                self.spans.remove(&id);
                if let Some(index) = self.position.remove(&id) {
                    self.order.swap_remove(index);
                    if let Some(moved) = self.order.get(index) {
                        self.position.insert(*moved, index);
                    }
                }
            }
        }
    }

    /// A random replicating span of `mode` with no operator, and its node (a few random draws;
    /// `None` when they all miss).
    pub fn sample_stable(&self, mode: Mode, rng: &mut SimRng) -> Option<(DispatcherId, NodeId)> {
        for _ in 0..32 {
            let id = *rng.pick(&self.order)?;
            let view = self.spans[&id];
            if view.mode == mode
                && view.status == SpanStatus::Replicating
                && !self.span_op.contains_key(&id)
            {
                return view.node.map(|node| (id, node));
            }
        }
        None
    }

    /// Another replicating span of `mode` on `node` with no operator, if any (the first in ID
    /// order after a random one).
    pub fn sample_neighbour(
        &self,
        node: NodeId,
        mode: Mode,
        not: DispatcherId,
        rng: &mut SimRng,
    ) -> Option<DispatcherId> {
        let ids = self.by_node.get(&node)?;
        let eligible = |id: &&DispatcherId| {
            **id != not
                && self
                    .spans
                    .get(*id)
                    .is_some_and(|v| v.mode == mode && v.status == SpanStatus::Replicating)
                && !self.span_op.contains_key(*id)
        };
        let start = rng.dispatcher_id();
        ids.range(start..)
            .find(eligible)
            .or_else(|| ids.range(..start).find(eligible))
            .copied()
    }

    fn update_span(&mut self, id: DispatcherId, change: impl FnOnce(&mut SpanView)) {
        if let Some(mut view) = self.spans.get(&id).copied() {
            change(&mut view);
            self.set_span(id, Some(view));
        }
    }

    fn mark_absent(&mut self, id: DispatcherId) {
        self.update_span(id, |view| {
            view.status = SpanStatus::Absent;
            view.node = None;
            view.last_state = None;
        });
    }

    /// Spans bound to `node` in `mode` (scheduling or replicating).
    pub fn bound_spans(&self, node: NodeId, mode: Mode) -> usize {
        self.bound.get(&(node, mode)).copied().unwrap_or(0)
    }

    // ---- the expected sets -------------------------------------------------------------------

    fn delta(&mut self, mode: Mode, node: NodeId, add: &[DispatcherId], remove: &[DispatcherId]) {
        let committed = &mut self.committed[mode as usize];
        for id in remove {
            if committed.get(id) == Some(&node) {
                committed.remove(id);
            }
        }
        for id in add {
            committed.insert(*id, node);
        }
        if let Some(tracker) = self.side.tracker_mut(mode) {
            tracker.apply_delta(node, add, remove);
        }
    }

    /// A remove operator's delta: ours takes the ID out wherever it is expected; the reference
    /// only from `node`.
    fn remove_delta(&mut self, mode: Mode, node: NodeId, id: DispatcherId) {
        match self.protocol {
            Protocol::Reference => {
                if self.planted_bug == PlantedBug::TrackerMissesRemove {
                    self.committed[mode as usize].remove(&id);
                    return;
                }
                self.delta(mode, node, &[], &[id]);
            }
            Protocol::Ours => {
                self.committed[mode as usize].remove(&id);
                if self.planted_bug == PlantedBug::TrackerMissesRemove {
                    return;
                }
                if let Some(tracker) = self.side.tracker_mut(mode) {
                    tracker.remove_ids(&[id]);
                }
            }
        }
    }

    fn begin(&mut self, op: u64, mode: Mode, node: NodeId, id: DispatcherId, leaving: bool) {
        if let Some(tracker) = self.side.tracker_mut(mode) {
            tracker.begin_transition(node, id);
        }
        if let Some(operator) = self.operators.get_mut(&op) {
            operator.transitions.push((node, id, leaving));
        }
    }

    /// Ends an operator's in-flight marks. An ID that entered a node ends now (the heartbeat that
    /// finished the operator showed it); one that left a node ends with that node's next
    /// heartbeat made after `made_at`, or now when there is none to wait for.
    fn end_transitions(
        &mut self,
        mode: Mode,
        transitions: &[(NodeId, DispatcherId, bool)],
        made_at: Option<u64>,
    ) {
        for &(node, id, leaving) in transitions {
            match made_at {
                Some(made_at) if leaving && self.members.contains(&node) => {
                    self.lingering.push((mode, node, id, made_at));
                }
                _ => {
                    if let Some(tracker) = self.side.tracker_mut(mode) {
                        tracker.end_transition(node, id);
                    }
                }
            }
        }
    }

    fn end_lingering(&mut self, node: NodeId, made_at: u64) {
        let (done, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.lingering)
            .into_iter()
            .partition(|(_, n, _, at)| *n == node && made_at > *at);
        self.lingering = keep;
        for (mode, node, id, _) in done {
            if let Some(tracker) = self.side.tracker_mut(mode) {
                tracker.end_transition(node, id);
            }
        }
    }

    /// The exact set the tracker of `mode` expects on `node` (the oracle's).
    pub fn committed_set(&self, mode: Mode, node: NodeId) -> BTreeSet<DispatcherId> {
        self.committed[mode as usize]
            .iter()
            .filter(|(_, owner)| **owner == node)
            .map(|(id, _)| *id)
            .collect()
    }

    fn with_oracle(
        &self,
        updates: Vec<ChecksumUpdate>,
    ) -> Vec<(ChecksumUpdate, Option<std::rc::Rc<BTreeSet<DispatcherId>>>)> {
        updates
            .into_iter()
            .map(|update| {
                let oracle = self
                    .full_checks
                    .then(|| std::rc::Rc::new(self.committed_set(update.mode, update.node)));
                (update, oracle)
            })
            .collect()
    }

    // ---- bootstrap ---------------------------------------------------------------------------

    /// A bootstrap response. When the last expected one is in, the maintainer builds its spans
    /// from the reports (every reported span of the schedule runs where reported, whatever its
    /// state; spans nobody reported are absent; reported dispatchers of spans not in the
    /// schedule are removed) and sends every node its full expected set. The answering process's
    /// `incarnation` is recorded: a later restart of that node must be handled even when the new
    /// process's heartbeats arrive before membership reports the restart.
    pub fn bootstrap_response(
        &mut self,
        node: NodeId,
        incarnation: u64,
        reported: Vec<Reported>,
        world: &World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        self.unanswered.remove(&node);
        let Bootstrap::Waiting { pending, responses } = &mut self.bootstrap else {
            return Outbox::default();
        };
        if !pending.remove(&node) {
            return Outbox::default();
        }
        let known = self.incarnations.entry(node).or_insert(incarnation);
        *known = (*known).max(incarnation);
        responses.insert(node, reported);
        if !pending.is_empty() {
            return Outbox::default();
        }
        let responses = std::mem::take(responses);
        self.bootstrap = Bootstrap::Done;
        self.finish_bootstrap(responses, world, now, tracer)
    }

    /// A node left before answering its bootstrap.
    pub fn forget_pending(
        &mut self,
        node: NodeId,
        world: &World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let Bootstrap::Waiting { pending, responses } = &mut self.bootstrap else {
            return Outbox::default();
        };
        pending.remove(&node);
        responses.remove(&node);
        if !pending.is_empty() {
            return Outbox::default();
        }
        let responses = std::mem::take(responses);
        self.bootstrap = Bootstrap::Done;
        self.finish_bootstrap(responses, world, now, tracer)
    }

    fn finish_bootstrap(
        &mut self,
        responses: BTreeMap<NodeId, Vec<Reported>>,
        world: &World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        let mut placed: BTreeMap<DispatcherId, (NodeId, Reported)> = BTreeMap::new();
        for (&node, reports) in &responses {
            for report in reports {
                if !world.contains(report.id) {
                    outbox.commands.push(Command::Remove {
                        node,
                        id: report.id,
                        mode: report.mode,
                    });
                    continue;
                }
                match placed.get(&report.id) {
                    Some((other, kept)) if kept.checkpoint >= report.checkpoint => {
                        let _ = other;
                        outbox.commands.push(Command::Remove {
                            node,
                            id: report.id,
                            mode: report.mode,
                        });
                    }
                    Some((other, _)) => {
                        outbox.commands.push(Command::Remove {
                            node: *other,
                            id: report.id,
                            mode: report.mode,
                        });
                        placed.insert(report.id, (node, *report));
                    }
                    None => {
                        placed.insert(report.id, (node, *report));
                    }
                }
            }
        }
        for mode in self.modes.clone() {
            for id in world.ids(mode).collect::<Vec<_>>() {
                let view = match placed.get(&id) {
                    Some((node, report)) => SpanView {
                        mode,
                        status: SpanStatus::Replicating,
                        node: Some(*node),
                        checkpoint: report.checkpoint,
                        last_state: Some(report.state),
                        reported_at: now,
                    },
                    None => SpanView {
                        mode,
                        status: SpanStatus::Absent,
                        node: None,
                        checkpoint: self.persisted[mode as usize],
                        last_state: None,
                        reported_at: now,
                    },
                };
                self.set_span(id, Some(view));
            }
        }
        let nodes: Vec<NodeId> = responses.keys().copied().collect();
        let time = Duration::from_millis(now);
        let epoch = self.me.epoch;
        let mut updates = Vec::new();
        for mode in self.modes.clone() {
            let mut expected: BTreeMap<NodeId, Vec<DispatcherId>> =
                nodes.iter().map(|n| (*n, Vec::new())).collect();
            let committed = &mut self.committed[mode as usize];
            committed.clear();
            for (id, (node, report)) in &placed {
                if report.mode == mode {
                    expected.entry(*node).or_default().push(*id);
                    committed.insert(*id, *node);
                }
            }
            if let Some(tracker) = self.side.tracker_mut(mode) {
                updates.extend(tracker.reset_full(epoch, &nodes, expected, time).updates);
            }
        }
        tracer.log(now, "maintainer", || {
            format!(
                "{} bootstrapped: {} nodes, {} spans placed, {} absent",
                self.describe(),
                nodes.len(),
                placed.len(),
                self.spans
                    .values()
                    .filter(|s| s.status == SpanStatus::Absent)
                    .count()
            )
        });
        if !self.sends_updates {
            updates.clear();
        }
        outbox.updates = self.with_oracle(updates);
        outbox
    }

    /// `maintainer#3 (epoch 2 on node-1)`.
    pub fn describe(&self) -> String {
        format!(
            "maintainer#{} (epoch {} on {})",
            self.me.instance, self.me.epoch, self.me.host
        )
    }

    // ---- membership --------------------------------------------------------------------------

    /// A node left (or restarted: its old process is gone). Its spans without an operator become
    /// absent, the operators that involve it take their node-loss paths, and the protocol forgets
    /// it.
    pub fn node_removed(
        &mut self,
        node: NodeId,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        self.members.remove(&node);
        self.unanswered.remove(&node);
        let mut outbox = Outbox::default();
        if let Bootstrap::Waiting { .. } = self.bootstrap {
            return self.forget_pending(node, world, now, tracer);
        }
        let orphans: Vec<DispatcherId> = self
            .spans
            .iter()
            .filter(|(id, view)| view.node == Some(node) && !self.span_op.contains_key(id))
            .map(|(id, _)| *id)
            .collect();
        for id in orphans {
            self.mark_absent(id);
        }
        let ops: Vec<u64> = self.operators.keys().copied().collect();
        for op in ops {
            self.on_node_remove(op, node, world, now, &mut outbox, tracer);
        }
        for mode in self.modes.clone() {
            self.committed[mode as usize].retain(|_, owner| *owner != node);
        }
        match &mut self.side {
            MaintainerSide::Ours(checksums) => checksums.remove_nodes(&[node]),
            MaintainerSide::Reference { trackers, gate } => {
                for tracker in trackers.iter_mut().flatten() {
                    tracker.remove_nodes(&[node]);
                }
                gate.remove_node(node);
            }
        }
        self.lingering.retain(|(_, n, _, _)| *n != node);
        self.incarnations.remove(&node);
        self.heard.remove(&node);
        self.planted.retain(|(n, _), _| *n != node);
        tracer.log(now, "maintainer", || {
            format!("{node} removed from the cluster")
        });
        outbox
    }

    /// A node joined (or came back): it is bootstrapped; its spans come through add operators.
    pub fn node_added(&mut self, node: NodeId, now: u64, tracer: &mut Tracer) -> Outbox {
        self.members.insert(node);
        self.unanswered.insert(node, now);
        tracer.log(now, "maintainer", || {
            format!("{node} joined; bootstrapping it")
        });
        Outbox {
            commands: vec![Command::Bootstrap { node }],
            updates: Vec::new(),
        }
    }

    // ---- operators ---------------------------------------------------------------------------

    fn push_operator(&mut self, operator: Operator) -> u64 {
        let id = self.next_op;
        self.next_op += 1;
        self.span_op.insert(operator.span, id);
        for source in &operator.sources {
            self.span_op.insert(*source, id);
        }
        self.operators.insert(id, operator);
        id
    }

    fn new_operator(
        &self,
        kind: OperatorKind,
        mode: Mode,
        span: DispatcherId,
        phase: Phase,
        now: u64,
    ) -> Operator {
        Operator {
            kind,
            mode,
            span,
            phase,
            origin: None,
            dest: None,
            sources: Vec::new(),
            checkpoint: 0,
            last_sent: now,
            transitions: Vec::new(),
            floor: matches!(
                kind,
                OperatorKind::Add | OperatorKind::Move | OperatorKind::Split
            ),
        }
    }

    /// Places absent span `id` on `dest`.
    pub fn start_add(
        &mut self,
        id: DispatcherId,
        dest: NodeId,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        let Some(view) = self.spans.get(&id).copied() else {
            return outbox;
        };
        if view.status != SpanStatus::Absent || self.span_op.contains_key(&id) {
            return outbox;
        }
        let mut operator = self.new_operator(OperatorKind::Add, view.mode, id, Phase::AddDest, now);
        operator.dest = Some(dest);
        let op = self.push_operator(operator);
        self.update_span(id, |v| {
            v.status = SpanStatus::Scheduling;
            v.node = Some(dest);
            v.reported_at = now;
        });
        self.begin(op, view.mode, dest, id, false);
        if self.ordering == Ordering::Eager {
            self.delta(view.mode, dest, &[id], &[]);
        }
        outbox.commands.push(Command::Create {
            node: dest,
            id,
            mode: view.mode,
            start_ts: view.checkpoint,
        });
        tracer.log(now, "maintainer", || {
            format!("add {} to {dest} (start {})", short(id), view.checkpoint)
        });
        outbox
    }

    /// A new table: its span joins, absent, at `checkpoint`.
    pub fn add_table(&mut self, id: DispatcherId, mode: Mode, checkpoint: u64) {
        self.set_span(
            id,
            Some(SpanView {
                mode,
                status: SpanStatus::Absent,
                node: None,
                checkpoint,
                last_state: None,
                reported_at: 0,
            }),
        );
    }

    /// A table was dropped: an operator on its span is replaced, and a remove operator takes the
    /// span off the node it is bound to.
    pub fn drop_table(
        &mut self,
        id: DispatcherId,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        let Some(view) = self.spans.get(&id).copied() else {
            return outbox;
        };
        let captured = view.node.filter(|_| view.status != SpanStatus::Absent);
        if let Some(&op) = self.span_op.get(&id) {
            tracer.log(now, "maintainer", || {
                format!(
                    "table of {} dropped while its {} runs: replacing it",
                    short(id),
                    self.operators[&op].kind.name()
                )
            });
            self.cancel(op, id, world, now, &mut outbox, tracer);
        }
        let Some(node) = captured else {
            self.set_span(id, None);
            return outbox;
        };
        let mut operator = self.new_operator(
            OperatorKind::Remove,
            view.mode,
            id,
            Phase::RemoveOrigin,
            now,
        );
        operator.origin = Some(node);
        let op = self.push_operator(operator);
        self.set_span(id, None);
        self.begin(op, view.mode, node, id, true);
        if self.ordering == Ordering::Eager {
            self.remove_delta(view.mode, node, id);
        }
        outbox.commands.push(Command::Remove {
            node,
            id,
            mode: view.mode,
        });
        tracer.log(now, "maintainer", || {
            format!("remove {} from {node}", short(id))
        });
        outbox
    }

    /// Moves replicating span `id` to `dest`.
    pub fn start_move(
        &mut self,
        id: DispatcherId,
        dest: NodeId,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        let Some(view) = self.spans.get(&id).copied() else {
            return outbox;
        };
        let Some(origin) = view.node else {
            return outbox;
        };
        if view.status != SpanStatus::Replicating
            || self.span_op.contains_key(&id)
            || origin == dest
        {
            return outbox;
        }
        let mut operator =
            self.new_operator(OperatorKind::Move, view.mode, id, Phase::RemoveOrigin, now);
        operator.origin = Some(origin);
        operator.dest = Some(dest);
        let op = self.push_operator(operator);
        self.update_span(id, |v| v.status = SpanStatus::Scheduling);
        self.begin(op, view.mode, origin, id, true);
        self.begin(op, view.mode, dest, id, false);
        if self.ordering == Ordering::Eager {
            self.delta(view.mode, dest, &[id], &[]);
        }
        outbox.commands.push(Command::Remove {
            node: origin,
            id,
            mode: view.mode,
        });
        tracer.log(now, "maintainer", || {
            format!("move {} from {origin} to {dest}", short(id))
        });
        outbox
    }

    /// Splits replicating span `id`; its halves become `left` and `right`.
    pub fn start_split(
        &mut self,
        id: DispatcherId,
        halves: [DispatcherId; 2],
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        let Some(view) = self.spans.get(&id).copied() else {
            return outbox;
        };
        let Some(origin) = view.node else {
            return outbox;
        };
        if view.status != SpanStatus::Replicating || self.span_op.contains_key(&id) {
            return outbox;
        }
        let mut operator =
            self.new_operator(OperatorKind::Split, view.mode, id, Phase::RemoveOrigin, now);
        operator.origin = Some(origin);
        operator.checkpoint = view.checkpoint;
        operator.sources = Vec::new();
        let op = self.push_operator(operator);
        self.halves.insert(op, halves);
        self.update_span(id, |v| v.status = SpanStatus::Scheduling);
        self.begin(op, view.mode, origin, id, true);
        if self.ordering == Ordering::Eager {
            self.delta(view.mode, origin, &[], &[id]);
        }
        outbox.commands.push(Command::Remove {
            node: origin,
            id,
            mode: view.mode,
        });
        tracer.log(now, "maintainer", || {
            format!("split {} on {origin}", short(id))
        });
        outbox
    }

    /// Merges replicating spans `sources` (one node, one mode) into a new span `merged`.
    pub fn start_merge(
        &mut self,
        sources: [DispatcherId; 2],
        merged: DispatcherId,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        let views: Vec<SpanView> = sources
            .iter()
            .filter_map(|id| self.spans.get(id).copied())
            .collect();
        if views.len() != 2
            || views.iter().any(|v| v.status != SpanStatus::Replicating)
            || views[0].node != views[1].node
            || views[0].mode != views[1].mode
            || sources.iter().any(|id| self.span_op.contains_key(id))
        {
            return outbox;
        }
        let (mode, node) = (views[0].mode, views[0].node.expect("replicating"));
        let checkpoint = views.iter().map(|v| v.checkpoint).min().unwrap_or(0).max(1);
        let mut operator =
            self.new_operator(OperatorKind::Merge, mode, merged, Phase::Merging, now);
        operator.origin = Some(node);
        operator.sources = sources.to_vec();
        let op = self.push_operator(operator);
        for id in sources {
            self.update_span(id, |v| v.status = SpanStatus::Scheduling);
        }
        self.set_span(
            merged,
            Some(SpanView {
                mode,
                status: SpanStatus::Scheduling,
                node: Some(node),
                checkpoint,
                last_state: None,
                reported_at: now,
            }),
        );
        self.begin(op, mode, node, merged, false);
        for id in sources {
            self.begin(op, mode, node, id, true);
        }
        if self.ordering == Ordering::Eager {
            self.delta(mode, node, &[merged], &sources);
        }
        outbox.commands.push(Command::Merge {
            node,
            sources: sources.to_vec(),
            merged,
            mode,
        });
        tracer.log(now, "maintainer", || {
            format!(
                "merge {} and {} into {} on {node}",
                short(sources[0]),
                short(sources[1]),
                short(merged)
            )
        });
        outbox
    }

    /// Operator `op` finished: its `PostFinish` under the reference ordering, then its in-flight
    /// marks end.
    fn finish(
        &mut self,
        op: u64,
        made_at: Option<u64>,
        world: &mut World,
        now: u64,
        outbox: &mut Outbox,
        tracer: &mut Tracer,
    ) {
        let Some(operator) = self.operators.remove(&op) else {
            return;
        };
        self.span_op.remove(&operator.span);
        for source in &operator.sources {
            self.span_op.remove(source);
        }
        let reference = self.ordering == Ordering::Reference;
        let (mode, id) = (operator.mode, operator.span);
        match operator.kind {
            OperatorKind::Add => {
                let dest = operator.dest.expect("an add has a destination");
                self.update_span(id, |v| v.status = SpanStatus::Replicating);
                if reference {
                    self.delta(mode, dest, &[id], &[]);
                }
            }
            OperatorKind::Remove => {
                let node = operator.origin.expect("a remove has a node");
                if reference {
                    self.remove_delta(mode, node, id);
                }
            }
            OperatorKind::Move => {
                let dest = operator.dest.expect("a move has a destination");
                self.update_span(id, |v| {
                    v.status = SpanStatus::Replicating;
                    v.node = Some(dest);
                });
                if reference {
                    self.delta(mode, dest, &[id], &[]);
                }
            }
            OperatorKind::Split => {
                let origin = operator.origin.expect("a split has an origin");
                if reference {
                    self.delta(mode, origin, &[], &[id]);
                }
                let halves = self.halves.remove(&op).expect("a split has halves");
                let stored = self
                    .spans
                    .get(&id)
                    .map_or(operator.checkpoint, |v| v.checkpoint);
                let checkpoint = operator.checkpoint.min(stored);
                let progress = world.span(id).map(|s| s.progress);
                world.remove(id);
                self.set_span(id, None);
                for half in halves {
                    if let Some(progress) = progress {
                        world.add(half, mode, progress);
                    }
                    self.add_table(half, mode, checkpoint);
                }
            }
            OperatorKind::Merge => {
                let node = operator.origin.expect("a merge has a node");
                if reference {
                    self.delta(mode, node, &[id], &operator.sources);
                }
                let progress = operator
                    .sources
                    .iter()
                    .filter_map(|s| world.span(*s))
                    .map(|s| s.progress)
                    .min();
                for source in &operator.sources {
                    world.remove(*source);
                    self.set_span(*source, None);
                }
                if let Some(progress) = progress {
                    let merged_checkpoint = self.spans.get(&id).map_or(0, |v| v.checkpoint);
                    world.add(id, mode, progress.max(merged_checkpoint));
                }
                self.update_span(id, |v| v.status = SpanStatus::Replicating);
            }
        }
        self.end_transitions(mode, &operator.transitions, made_at);
        let _ = outbox;
        tracer.log(now, "maintainer", || {
            format!("{} of {} finished", operator.kind.name(), short(id))
        });
    }

    /// The abort that leaves the span absent: a move whose destination went away (the ID leaves
    /// the origin's expected set now), an add or split whose node went away.
    fn finish_as_absent(&mut self, op: u64, now: u64, tracer: &mut Tracer) {
        let Some(operator) = self.operators.remove(&op) else {
            return;
        };
        self.span_op.remove(&operator.span);
        for source in &operator.sources {
            self.span_op.remove(source);
        }
        let (mode, id) = (operator.mode, operator.span);
        let eager = self.ordering == Ordering::Eager;
        match operator.kind {
            OperatorKind::Move if eager => {
                // Undo the start's `+id` on the destination.
                let dest = operator.dest.expect("a move has a destination");
                self.delta(mode, dest, &[], &[id]);
            }
            OperatorKind::Move => {
                // The reference's finishAsAbsent: the ID leaves the origin's expected set now.
                let origin = operator.origin.expect("a move has an origin");
                self.remove_delta(mode, origin, id);
            }
            OperatorKind::Add if eager => {
                let dest = operator.dest.expect("an add has a destination");
                self.delta(mode, dest, &[], &[id]);
            }
            _ => {}
        }
        self.halves.remove(&op);
        if operator.kind != OperatorKind::Remove {
            self.mark_absent(id);
        }
        self.end_transitions(mode, &operator.transitions, None);
        tracer.log(now, "maintainer", || {
            format!("{} of {} ended as absent", operator.kind.name(), short(id))
        });
    }

    /// A merge aborted: by the loss of its node (the sources become absent) or by a table drop
    /// (the sources stay where they are, for the remove operators to take).
    fn abort_merge(&mut self, op: u64, node_lost: bool, now: u64, tracer: &mut Tracer) {
        let Some(operator) = self.operators.remove(&op) else {
            return;
        };
        self.span_op.remove(&operator.span);
        for source in &operator.sources {
            self.span_op.remove(source);
        }
        let (mode, merged) = (operator.mode, operator.span);
        let node = operator.origin.expect("a merge has a node");
        if self.ordering == Ordering::Eager && !node_lost {
            self.delta(mode, node, &operator.sources, &[merged]);
        }
        for source in &operator.sources {
            if node_lost {
                self.mark_absent(*source);
            } else {
                self.update_span(*source, |v| v.status = SpanStatus::Replicating);
                // The node may have run the merge already and closed the source.
                let closed = self
                    .spans
                    .get(source)
                    .is_some_and(|v| v.last_state == Some(ComponentState::Stopped));
                if closed {
                    self.reconcile_gone(node, *source, mode);
                }
            }
        }
        self.set_span(merged, None);
        self.end_transitions(mode, &operator.transitions, None);
        tracer.log(now, "maintainer", || {
            format!("merge into {} aborted", short(merged))
        });
    }

    /// A table drop replaces the operator running on span `id`.
    fn cancel(
        &mut self,
        op: u64,
        id: DispatcherId,
        world: &mut World,
        now: u64,
        outbox: &mut Outbox,
        tracer: &mut Tracer,
    ) {
        let Some(operator) = self.operators.get(&op).cloned() else {
            return;
        };
        match operator.kind {
            OperatorKind::Move => {
                // Done without its final delta: the span stays bound where it is now.
                self.operators.remove(&op);
                self.span_op.remove(&operator.span);
                self.update_span(id, |v| v.status = SpanStatus::Replicating);
                self.end_transitions(operator.mode, &operator.transitions, None);
            }
            OperatorKind::Split | OperatorKind::Add => self.finish_as_absent(op, now, tracer),
            OperatorKind::Merge => self.abort_merge(op, false, now, tracer),
            OperatorKind::Remove => {}
        }
        let _ = (world, outbox);
    }

    fn on_node_remove(
        &mut self,
        op: u64,
        node: NodeId,
        world: &mut World,
        now: u64,
        outbox: &mut Outbox,
        tracer: &mut Tracer,
    ) {
        let Some(operator) = self.operators.get(&op).cloned() else {
            return;
        };
        match operator.kind {
            OperatorKind::Add if operator.dest == Some(node) => {
                self.finish_as_absent(op, now, tracer)
            }
            OperatorKind::Remove if operator.origin == Some(node) => {
                self.finish(op, None, world, now, outbox, tracer)
            }
            OperatorKind::Split if operator.origin == Some(node) => {
                self.finish_as_absent(op, now, tracer)
            }
            OperatorKind::Merge if operator.origin == Some(node) => {
                self.abort_merge(op, true, now, tracer)
            }
            OperatorKind::Move => {
                let (origin, dest) = (operator.origin, operator.dest);
                match operator.phase {
                    Phase::AddDest if dest == Some(node) => self.finish_as_absent(op, now, tracer),
                    Phase::RemoveOrigin if dest == Some(node) => {
                        if let Some(operator) = self.operators.get_mut(&op) {
                            operator.phase = Phase::AbortRemoveOrigin;
                        }
                    }
                    Phase::AbortRemoveOrigin if origin == Some(node) => {
                        self.finish_as_absent(op, now, tracer)
                    }
                    Phase::RemoveOrigin if origin == Some(node) => {
                        self.enter_add_dest(op, now, outbox)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn enter_add_dest(&mut self, op: u64, now: u64, outbox: &mut Outbox) {
        let Some(operator) = self.operators.get_mut(&op) else {
            return;
        };
        operator.phase = Phase::AddDest;
        operator.last_sent = now;
        let (id, mode, dest) = (
            operator.span,
            operator.mode,
            operator.dest.expect("a move has a destination"),
        );
        self.update_span(id, |v| {
            v.node = Some(dest);
            v.reported_at = now;
        });
        let start_ts = self.spans.get(&id).map_or(0, |v| v.checkpoint);
        outbox.commands.push(Command::Create {
            node: dest,
            id,
            mode,
            start_ts,
        });
    }

    /// The operator part of handling one status from `from`, reported in a heartbeat made at
    /// `made_at`.
    #[allow(clippy::too_many_arguments)] // the handler's context: world, clock, outbox, trace
    fn operator_status(
        &mut self,
        from: NodeId,
        status: &TableSpanStatus,
        made_at: u64,
        world: &mut World,
        now: u64,
        outbox: &mut Outbox,
        tracer: &mut Tracer,
    ) {
        let Some(id) = status.id.map(DispatcherId::from) else {
            return;
        };
        let Some(&op) = self.span_op.get(&id) else {
            return;
        };
        let state = ComponentState::try_from(status.component_status).unwrap_or_default();
        let operator = self.operators[&op].clone();
        if operator.span != id {
            return; // a merge source: its occupy placeholder ignores statuses
        }
        match (operator.kind, operator.phase) {
            (OperatorKind::Add, _)
                if operator.dest == Some(from) && state == ComponentState::Working =>
            {
                self.finish(op, Some(made_at), world, now, outbox, tracer)
            }
            (OperatorKind::Remove, _)
                if operator.origin == Some(from) && state == ComponentState::Stopped =>
            {
                self.finish(op, Some(made_at), world, now, outbox, tracer)
            }
            (OperatorKind::Split, _)
                if operator.origin == Some(from) && state != ComponentState::Working =>
            {
                if let Some(operator) = self.operators.get_mut(&op) {
                    operator.checkpoint = operator.checkpoint.max(status.checkpoint_ts);
                }
                self.finish(op, Some(made_at), world, now, outbox, tracer)
            }
            (OperatorKind::Move, Phase::RemoveOrigin)
                if operator.origin == Some(from) && state != ComponentState::Working =>
            {
                self.enter_add_dest(op, now, outbox)
            }
            (OperatorKind::Move, Phase::AbortRemoveOrigin)
                if operator.origin == Some(from) && state != ComponentState::Working =>
            {
                self.finish_as_absent(op, now, tracer)
            }
            (OperatorKind::Move, Phase::AddDest)
                if operator.dest == Some(from) && state == ComponentState::Working =>
            {
                self.finish(op, Some(made_at), world, now, outbox, tracer)
            }
            (OperatorKind::Merge, _)
                if operator.origin == Some(from) && state == ComponentState::Working =>
            {
                self.finish(op, Some(made_at), world, now, outbox, tracer)
            }
            (OperatorKind::Merge, _)
                if operator.origin == Some(from) && state == ComponentState::Stopped =>
            {
                // The node could not merge (a source was gone or going): give up; the sources
                // stay where they are and the scheduler's reconciliation finds any that left.
                self.abort_merge(op, false, now, tracer)
            }
            _ => {}
        }
    }

    /// Resends the current command of every operator waiting longer than `interval`.
    fn resend_commands(&mut self, now: u64, interval: u64, outbox: &mut Outbox) {
        for operator in self.operators.values_mut() {
            if now.saturating_sub(operator.last_sent) < interval {
                continue;
            }
            operator.last_sent = now;
            let (id, mode) = (operator.span, operator.mode);
            let command = match (operator.kind, operator.phase) {
                (OperatorKind::Merge, _) => Command::Merge {
                    node: operator.origin.expect("merge node"),
                    sources: operator.sources.clone(),
                    merged: id,
                    mode,
                },
                (_, Phase::AddDest) => Command::Create {
                    node: operator.dest.expect("destination"),
                    id,
                    mode,
                    start_ts: self.spans.get(&id).map_or(0, |v| v.checkpoint),
                },
                _ => Command::Remove {
                    node: operator.origin.expect("origin"),
                    id,
                    mode,
                },
            };
            outbox.commands.push(command);
        }
    }

    // ---- heartbeats --------------------------------------------------------------------------

    /// Whether `heartbeat` comes from a newer process of its node than the maintainer knew
    /// (ours carries the incarnation; the reference cannot tell).
    pub fn is_new_incarnation(&self, heartbeat: &Heartbeat) -> bool {
        self.protocol == Protocol::Ours
            && self
                .incarnations
                .get(&heartbeat.node)
                .is_some_and(|known| heartbeat.incarnation > *known)
    }

    /// One heartbeat: the protocol's part, then every status (operators first, then the span's
    /// stored status), then the reconciliations.
    pub fn heartbeat(
        &mut self,
        heartbeat: &Heartbeat,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        if !self.bootstrapped() {
            return outbox;
        }
        let node = heartbeat.node;
        if !self.members.contains(&node) {
            return outbox;
        }
        // Only ours carries the incarnation; the reference maintainer learns of a restart from
        // membership alone, so its heartbeats must not mark the restart as handled.
        if self.protocol == Protocol::Ours {
            let known = self
                .incarnations
                .entry(node)
                .or_insert(heartbeat.incarnation);
            if heartbeat.incarnation < *known {
                return outbox; // a late heartbeat of a process that has since restarted
            }
            *known = (*known).max(heartbeat.incarnation);
        }
        let stamp = (heartbeat.incarnation, heartbeat.changes);
        let heard = self.heard.entry(node).or_insert(stamp);
        *heard = (*heard).max(stamp);
        self.observe_protocol(heartbeat, now);
        for status in heartbeat.statuses() {
            self.operator_status(
                node,
                status,
                heartbeat.at_ms,
                world,
                now,
                &mut outbox,
                tracer,
            );
            self.span_status(node, status, heartbeat.at_ms, &mut outbox);
        }
        if heartbeat.complete {
            self.reconcile_complete(node, heartbeat.statuses(), heartbeat.at_ms, now, tracer);
        }
        self.end_lingering(node, heartbeat.at_ms);
        outbox
    }

    fn observe_protocol(&mut self, heartbeat: &Heartbeat, now: u64) {
        let time = Duration::from_millis(now);
        let planted_bug = self.planted_bug;
        match (&mut self.side, &heartbeat.body) {
            (
                MaintainerSide::Ours(checksums),
                HeartbeatBody::Ours {
                    checksums: beats, ..
                },
            ) => {
                for beat in beats {
                    let latest = checksums.tracker(beat.mode).map(|t| ExpectedVersion {
                        epoch: t.epoch(),
                        seq: t.seq(beat.node).unwrap_or(0),
                    });
                    let beat = planted::ours_heartbeat_to_gate(
                        planted_bug,
                        *beat,
                        latest,
                        &mut self.planted,
                    );
                    checksums.observe_heartbeat(beat, time);
                }
            }
            (MaintainerSide::Reference { gate, .. }, HeartbeatBody::Reference(request)) => {
                let request = planted::reference_heartbeat_to_gate(planted_bug, request);
                gate.observe(heartbeat.node, &request, self.modes.contains(&Mode::Redo));
            }
            _ => {}
        }
    }

    fn span_status(
        &mut self,
        from: NodeId,
        status: &TableSpanStatus,
        made_at: u64,
        outbox: &mut Outbox,
    ) {
        let Some(id) = status.id.map(DispatcherId::from) else {
            return;
        };
        let state = ComponentState::try_from(status.component_status).unwrap_or_default();
        let Some(view) = self.spans.get(&id).copied() else {
            // No span: a Working dispatcher nobody knows is removed (unless an operator owns it).
            if state == ComponentState::Working && !self.span_op.contains_key(&id) {
                let mode = Mode::from_wire(status.mode).unwrap_or_default();
                outbox.commands.push(Command::Remove {
                    node: from,
                    id,
                    mode,
                });
            }
            return;
        };
        if view.node == Some(from) && made_at < view.reported_at {
            return; // older than what the scheduler already took for this span
        }
        if view.node != Some(from) {
            // A Working dispatcher of a known span on a node it is not bound to, with no
            // operator moving it there or away: a stray (a command from a deposed maintainer
            // arrived late). The reference leaves it (a TODO in its HandleStatus), and with the
            // checksum that node would stay MISMATCH for good; the scheduler modelled here
            // removes it, for both protocols.
            let involved = self
                .span_op
                .get(&id)
                .and_then(|op| self.operators.get(op))
                .is_some_and(|op| op.origin == Some(from) || op.dest == Some(from));
            if state == ComponentState::Working && !involved {
                outbox.commands.push(Command::Remove {
                    node: from,
                    id,
                    mode: view.mode,
                });
            }
            return;
        }
        self.update_span(id, |v| {
            v.last_state = Some(state);
            v.checkpoint = v.checkpoint.max(status.checkpoint_ts);
            v.reported_at = made_at;
        });
        let gone = state == ComponentState::Stopped
            && view.status == SpanStatus::Replicating
            && !self.span_op.contains_key(&id);
        if gone {
            self.reconcile_gone(from, id, view.mode);
        }
    }

    fn reconcile_complete(
        &mut self,
        from: NodeId,
        statuses: &[TableSpanStatus],
        made_at: u64,
        now: u64,
        tracer: &mut Tracer,
    ) {
        let listed: BTreeSet<DispatcherId> = statuses
            .iter()
            .filter_map(|s| s.id.map(DispatcherId::from))
            .collect();
        let empty = BTreeSet::new();
        let complete_period = self.complete_period_ms;
        let gone: Vec<(DispatcherId, Mode)> = self
            .by_node
            .get(&from)
            .unwrap_or(&empty)
            .iter()
            .filter_map(|id| self.spans.get(id).map(|v| (id, v)))
            .filter(|(id, v)| {
                // A dispatcher the node reported in a state a complete list shows (or Stopped),
                // and now leaves out, is gone; one never reported, or still being created, is not
                // listed yet, unless that report is older than a whole complete-status period.
                let listable = v.last_state.is_some_and(|state| {
                    !matches!(
                        state,
                        ComponentState::Initializing
                            | ComponentState::Preparing
                            | ComponentState::MergeReady
                    ) || made_at > v.reported_at.saturating_add(complete_period)
                });
                v.node == Some(from)
                    && v.status == SpanStatus::Replicating
                    && made_at > v.reported_at
                    && listable
                    && !listed.contains(id)
                    && !self.span_op.contains_key(id)
            })
            .map(|(id, v)| (*id, v.mode))
            .collect();
        for (id, mode) in gone {
            tracer.log(now, "maintainer", || {
                format!("{from}'s complete status lacks {}: absent", short(id))
            });
            self.reconcile_gone(from, id, mode);
        }
    }

    fn reconcile_gone(&mut self, node: NodeId, id: DispatcherId, mode: Mode) {
        self.mark_absent(id);
        self.delta(mode, node, &[], &[id]);
    }

    /// An ack.
    pub fn ack(&mut self, ack: ChecksumAck) {
        if !self.bootstrapped() {
            return;
        }
        match &mut self.side {
            MaintainerSide::Ours(checksums) => {
                checksums.handle_ack(ack);
            }
            MaintainerSide::Reference { trackers, .. } => {
                if let Some(tracker) = trackers[ack.mode as usize].as_mut() {
                    tracker.handle_ack(ack);
                }
            }
        }
    }

    // ---- the period --------------------------------------------------------------------------

    /// One maintainer period: resend operators' commands, place absent spans, flush and resend
    /// updates.
    pub fn tick(
        &mut self,
        now: u64,
        operator_resend_ms: u64,
        place_batch: usize,
        rng: &mut SimRng,
        tracer: &mut Tracer,
    ) -> Outbox {
        let mut outbox = Outbox::default();
        for (node, sent) in &mut self.unanswered {
            if now.saturating_sub(*sent) >= BOOTSTRAP_RESEND_MS {
                *sent = now;
                outbox.commands.push(Command::Bootstrap { node: *node });
            }
        }
        if !self.bootstrapped() {
            return outbox;
        }
        self.resend_commands(now, operator_resend_ms, &mut outbox);
        let absent: Vec<DispatcherId> = self
            .absent
            .iter()
            .filter(|id| !self.span_op.contains_key(id))
            .take(place_batch)
            .copied()
            .collect();
        for id in absent {
            if let Some(dest) = self.least_loaded(rng) {
                let more = self.start_add(id, dest, now, tracer);
                outbox.commands.extend(more.commands);
            }
        }
        let time = Duration::from_millis(now);
        let no_resend = self.planted_bug == PlantedBug::NoResend;
        let mut updates = Vec::new();
        for tracker in self.side.trackers_mut() {
            updates.extend(tracker.flush_dirty(time));
            if !no_resend {
                updates.extend(tracker.resend_pending(time));
            }
        }
        updates.sort_by_key(|u| (u.mode, u.node, u.seq));
        if !self.sends_updates {
            updates.clear();
        }
        outbox.updates = self.with_oracle(updates);
        outbox
    }

    /// The member with the fewest bound spans (ties broken at random).
    pub fn least_loaded(&self, rng: &mut SimRng) -> Option<NodeId> {
        let load = |node: &NodeId| -> usize {
            self.modes.iter().map(|m| self.bound_spans(*node, *m)).sum()
        };
        let low = self.members.iter().map(load).min()?;
        let candidates: Vec<NodeId> = self
            .members
            .iter()
            .copied()
            .filter(|n| load(n) == low)
            .collect();
        rng.pick(&candidates).copied()
    }

    /// The scheduler's floor for `mode`: the stored checkpoint of every in-flight add, move and
    /// split span, and of every absent or scheduling span.
    pub fn floor(&self, mode: Mode) -> Option<u64> {
        let operators = self
            .operators
            .values()
            .filter(|op| op.floor && op.mode == mode)
            .filter_map(|op| self.spans.get(&op.span).map(|v| v.checkpoint));
        let spans = self.non_replicating[mode as usize].first().map(|(c, _)| *c);
        operators.chain(spans).min()
    }

    /// What limits the checkpoint now, in words: the floors and, per required node, what the
    /// gate holds of it.
    pub fn explain_checkpoint(&self) -> String {
        let mut parts: Vec<String> = self
            .modes
            .iter()
            .map(|mode| format!("{mode} floor {:?}", self.floor(*mode)))
            .collect();
        match &self.side {
            MaintainerSide::Ours(checksums) => parts.push(checksums.decide_by_rule().to_string()),
            MaintainerSide::Reference { gate, .. } => {
                for mode in &self.modes {
                    for node in &self.members {
                        let required = *node == self.me.host || self.bound_spans(*node, *mode) > 0;
                        if required {
                            let watermark = gate
                                .watermark(*node, *mode)
                                .map(|w| (w.checkpoint_ts, w.seq));
                            parts.push(format!(
                                "{node} ({mode}) {:?} watermark {watermark:?}",
                                gate.state(*node, *mode)
                            ));
                        }
                    }
                }
            }
        }
        parts.join("; ")
    }

    /// One checkpoint step: the gate, the floors, and (ours) the monotone guard.
    pub fn checkpoint_step(&mut self) -> CheckpointReport {
        let floors: Vec<(Mode, Option<u64>)> = self
            .modes
            .iter()
            .map(|mode| {
                let floor = if self.planted_bug == PlantedBug::IgnoreFloors {
                    None
                } else {
                    self.floor(*mode)
                };
                (*mode, floor)
            })
            .collect();
        let combined_floor = floors.iter().filter_map(|(_, f)| *f).min();
        let no_guard = self.planted_bug == PlantedBug::NoMonotoneGuard;
        let gate = self.gate;
        match &mut self.side {
            MaintainerSide::Ours(checksums) => {
                let (decision, candidate) = match gate {
                    GateKind::Plain | GateKind::Explained => {
                        let before = checksums.checkpoint();
                        let step: CheckpointStep = checksums.advance_checkpoint(combined_floor);
                        let candidate = candidate_of(step.decision, combined_floor);
                        if no_guard {
                            if let Some(candidate) = candidate {
                                self.reported = [
                                    Some(candidate),
                                    self.modes.contains(&Mode::Redo).then_some(candidate),
                                ];
                                return report(step.decision, self.reported);
                            }
                        }
                        let _ = before;
                        (step.decision, step.checkpoint)
                    }
                    GateKind::Contract => {
                        let decision = checksums.decide();
                        let candidate = candidate_of(decision, combined_floor);
                        (decision, guard(self.reported[0], candidate, no_guard))
                    }
                    GateKind::None => {
                        // No checksum: each node with bound spans must have sent a watermark;
                        // its newest heartbeat's (by the heartbeat order) counts, whatever
                        // the state.
                        let mut low: Option<u64> = None;
                        let mut missing = false;
                        for node in &self.members {
                            for mode in &self.modes {
                                if self.bound.get(&(*node, *mode)).copied().unwrap_or(0) == 0 {
                                    continue;
                                }
                                match checksums
                                    .gate()
                                    .report(*node, *mode)
                                    .and_then(|r| r.watermark)
                                {
                                    Some(w) => low = Some(low.map_or(w, |l| l.min(w))),
                                    None => missing = true,
                                }
                            }
                        }
                        let candidate = if missing {
                            None
                        } else {
                            match low {
                                Some(low) => Some(combined_floor.map_or(low, |f| f.min(low))),
                                None => combined_floor,
                            }
                        };
                        (
                            GateDecision::NothingRequired,
                            guard(self.reported[0], candidate, no_guard),
                        )
                    }
                };
                let value = candidate.or(self.reported[0]);
                self.reported = [
                    value,
                    self.modes.contains(&Mode::Redo).then_some(value).flatten(),
                ];
                report(decision, self.reported)
            }
            MaintainerSide::Reference { gate: store, .. } => {
                let mut held = false;
                let mut open = true;
                for (mode, floor) in floors {
                    let required: BTreeSet<NodeId> = self
                        .members
                        .iter()
                        .copied()
                        .filter(|n| {
                            *n == self.me.host
                                || self.bound.get(&(*n, mode)).copied().unwrap_or(0) > 0
                        })
                        .collect();
                    let decided = match gate {
                        // No checksum: the kept watermarks (by the Watermark.seq rule) of
                        // every required node, whatever their state.
                        GateKind::None => required
                            .iter()
                            .map(|n| store.watermark(*n, mode).map(|w| w.checkpoint_ts).ok_or(()))
                            .collect::<Result<Vec<u64>, ()>>()
                            .map(|marks| marks.into_iter().min())
                            .map_err(|_| crate::reference::RefHold::NoWatermark(self.me.host)),
                        _ => store.decide(mode, &required),
                    };
                    let candidate = match decided {
                        Ok(Some(low)) => Some(floor.map_or(low, |f| f.min(low))),
                        Ok(None) => floor,
                        Err(_) => {
                            held = gate != GateKind::None;
                            open = false;
                            None
                        }
                    };
                    if let Some(candidate) = candidate {
                        // The reference maintainer has no monotone guard.
                        self.reported[mode as usize] = Some(candidate);
                    }
                }
                CheckpointReport {
                    checkpoint: self.reported,
                    held_by_gate: held,
                    gate_open: open,
                }
            }
        }
    }
}

fn candidate_of(decision: GateDecision, floor: Option<u64>) -> Option<u64> {
    match decision {
        GateDecision::Advance { checkpoint } => {
            Some(floor.map_or(checkpoint, |f| f.min(checkpoint)))
        }
        GateDecision::NothingRequired => floor,
        GateDecision::Hold { .. } => None,
    }
}

fn guard(before: Option<u64>, candidate: Option<u64>, no_guard: bool) -> Option<u64> {
    match (before, candidate) {
        (_, None) => before,
        (Some(old), Some(new)) if !no_guard => Some(old.max(new)),
        (_, new) => new,
    }
}

fn report(decision: GateDecision, checkpoint: [Option<u64>; 2]) -> CheckpointReport {
    let held = matches!(decision, GateDecision::Hold { .. });
    CheckpointReport {
        checkpoint,
        held_by_gate: held,
        gate_open: !held,
    }
}

/// A short form of an ID for traces: the top 16 bits of each half.
pub fn short(id: DispatcherId) -> String {
    format!("{:04x}{:04x}", id.high >> 48, id.low >> 48)
}

/// The fingerprint of an exact set.
pub fn fingerprint_of(set: &BTreeSet<DispatcherId>) -> Fingerprint {
    set.iter().copied().collect()
}
