//! One simulated maintainer: the scheduler's book of spans ([`spans`]), its operators
//! ([`operator`], one file per kind, under either ordering), what it expects each node to run
//! ([`expected`]), the checksum protocol's maintainer side (ours or the reference's), the floors
//! in-flight operators and absent spans impose, and the checkpoint.
//!
//! The operators follow `maintainer/operator/` of TiCDC (see [`operator`] for their table and
//! [`crate::protocol::reference`] for where the protocol rules come from).
//!
//! Scheduler behaviour beyond the reference (documented modelling choices): absent spans are
//! placed by add operators on the least-loaded node at every period; a span that its bound node
//! reports Stopped, or leaves out of a complete status list after reporting it Working (or after
//! a report more than a complete-status period old in a state such lists leave out), while no
//! operator runs on it, is taken as gone from that node (absent again, out of the expected set),
//! which is how a span whose removal was under way when the maintainer failed over comes back.
//! (The reference's maintainer does not read the complete flag; without this a silently lost
//! dispatcher would hold the checkpoint until an operator steps in, correctly but forever.)

pub mod expected;
pub mod operator;
pub mod spans;

pub use spans::{SpanStatus, SpanView};

use crate::config::{GateKind, Ordering, SimConfig};
use crate::node::{Heartbeat, MaintainerRef, Reported};
use crate::planted::PlantedBug;
use crate::protocol::{GateInputs, MaintainerProtocol};
use crate::rng::SimRng;
use crate::trace::Tracer;
use crate::world::World;
use dispatcher_checksum::protocol::{ChangefeedId, ChecksumAck, ChecksumUpdate, Mode, NodeId};
use dispatcher_checksum::wire::TableSpanStatus;
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint};
use expected::ExpectedSets;
use operator::add::AddOperator;
use operator::merge::MergeOperator;
use operator::r#move::MoveOperator;
use operator::remove::RemoveOperator;
use operator::split::{SplitOperator, SplitPlan};
use operator::{Context, Operators};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// An unanswered bootstrap is sent again this often (TiCDC's bootstrapper:
/// `pkg/bootstrap/bootstrap.go` `defaultResendInterval`).
pub const BOOTSTRAP_RESEND_MS: u64 = 500;

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
    pub spans: spans::SpanBook,
    /// The protocol side.
    pub side: Box<dyn MaintainerProtocol>,
    /// The oracle of the trackers' owner maps (the same deltas on a plain map) and the
    /// lingering in-flight marks.
    pub sets: ExpectedSets,
    /// The last checkpoint it reported, per mode.
    pub reported: [Option<u64>; 2],
    /// The node process it last heard from, per node (ours uses it to notice restarts).
    pub incarnations: BTreeMap<NodeId, u64>,
    /// Per node, the (incarnation, changes) of the newest heartbeat it received (for the
    /// checks: what the gate can know).
    pub heard: BTreeMap<NodeId, (u64, u64)>,
    bootstrap: Bootstrap,
    modes: Vec<Mode>,
    operators: Operators,
    /// How long one complete-status period lasts: a span last reported in a state a complete
    /// list leaves out (Initializing, Preparing, MergeReady) and missing from a complete list made
    /// more than this after that report is gone (no dispatcher stays in those states that long
    /// in the model), as is one whose Working report was lost before it vanished.
    complete_period_ms: u64,
    ordering: Ordering,
    gate: GateKind,
    planted_bug: PlantedBug,
    zoo: crate::zoo::ZooBug,
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
        let side = config
            .protocol
            .maintainer_side(config, &changefeed, persisted);
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
            spans: spans::SpanBook::new(persisted, config.zoo.clamps_start_to_committed()),
            side,
            sets: ExpectedSets::new(config.planted_bug),
            reported: [Some(persisted[0]), config.redo.then_some(persisted[1])],
            incarnations: BTreeMap::new(),
            heard: BTreeMap::new(),
            modes,
            operators: Operators::default(),
            complete_period_ms: config.timing.heartbeat_ms
                * config.timing.complete_status_every.max(1),
            ordering: config.ordering,
            gate: config.gate,
            planted_bug: config.planted_bug,
            zoo: config.zoo,
            full_checks: config.checks == crate::config::CheckDepth::Full,
            persisted,
            sends_updates: config.protocol.sends_updates(config.gate),
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
        for (id, view) in self.spans.iter() {
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
                let status = self
                    .spans
                    .get(id)
                    .map_or_else(|| "unknown".to_string(), |v| format!("{:?}", v.status));
                differences.push(format!("{node} lacks {} ({status})", short(*id)));
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
        self.operators.describe()
    }

    /// Whether an operator has `id` (its span, or one of a merge's sources) in flight.
    pub fn in_flight(&self, id: DispatcherId) -> bool {
        self.operators.occupies(&id)
    }

    /// Whether a table drop of `id` would replace a running move, split or merge.
    pub fn replaceable(&self, id: DispatcherId) -> bool {
        self.operators.on_span(&id).is_some_and(|op| {
            matches!(
                op.kind(),
                OperatorKind::Move | OperatorKind::Split | OperatorKind::Merge
            )
        })
    }

    /// Every (node, id) an operator has in flight.
    pub fn in_flight_pairs(&self) -> BTreeSet<(NodeId, DispatcherId)> {
        self.operators
            .in_flight_pairs()
            .chain(self.sets.lingering_pairs())
            .collect()
    }

    /// The modes.
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }

    // ---- span bookkeeping and expected sets ---------------------------------------------------

    /// A random replicating span of `mode` with no operator, and its node (a few random draws;
    /// `None` when they all miss).
    pub fn sample_stable(&self, mode: Mode, rng: &mut SimRng) -> Option<(DispatcherId, NodeId)> {
        self.spans
            .sample_stable(mode, rng, |id| !self.operators.occupies(id))
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
        self.spans
            .sample_neighbour(node, mode, not, rng, |id| !self.operators.occupies(id))
    }

    /// Spans bound to `node` in `mode` (scheduling or replicating).
    pub fn bound_spans(&self, node: NodeId, mode: Mode) -> usize {
        self.spans.bound_spans(node, mode)
    }

    /// The exact set the tracker of `mode` expects on `node` (the oracle's).
    pub fn committed_set(&self, mode: Mode, node: NodeId) -> BTreeSet<DispatcherId> {
        self.sets.committed_set(mode, node)
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

    /// The operator controller and what its operators may touch.
    fn operator_parts<'a>(
        &'a mut self,
        world: &'a mut World,
        now: u64,
        tracer: &'a mut Tracer,
    ) -> (&'a mut Operators, Context<'a>) {
        (
            &mut self.operators,
            Context {
                now,
                ordering: self.ordering,
                spans: &mut self.spans,
                sets: &mut self.sets,
                side: self.side.as_mut(),
                members: &self.members,
                world,
                tracer,
                zoo: self.zoo,
            },
        )
    }

    /// Starts `operator`; its command, if it started.
    /// Starts a planned operator; a plan that does not apply (`None`: the span is not in the
    /// state the operator starts from) sends nothing.
    fn start_planned(
        &mut self,
        planned: Option<impl operator::Operator + 'static>,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        match planned {
            Some(operator) => self.start_operator(Box::new(operator), world, now, tracer),
            None => Outbox::default(),
        }
    }

    fn start_operator(
        &mut self,
        operator: Box<dyn operator::Operator>,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        let (operators, mut ctx) = self.operator_parts(world, now, tracer);
        Outbox {
            commands: operators.start(operator, &mut ctx).into_iter().collect(),
            updates: Vec::new(),
        }
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
                self.spans.set(id, Some(view));
            }
        }
        let nodes: Vec<NodeId> = responses.keys().copied().collect();
        let time = Duration::from_millis(now);
        let epoch = self.me.epoch;
        let mut updates = Vec::new();
        for mode in self.modes.clone() {
            let mut expected: BTreeMap<NodeId, Vec<DispatcherId>> =
                nodes.iter().map(|n| (*n, Vec::new())).collect();
            let committed = &mut self.sets.committed[mode as usize];
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
            .filter(|(id, view)| view.node == Some(node) && !self.operators.occupies(id))
            .map(|(id, _)| *id)
            .collect();
        for id in orphans {
            self.spans.mark_absent(id);
        }
        let (operators, mut ctx) = self.operator_parts(world, now, tracer);
        operators.node_removed(node, &mut ctx, &mut outbox.commands);
        self.sets.forget_node(node);
        self.side.node_removed(node);
        self.incarnations.remove(&node);
        self.heard.remove(&node);
        tracer.log(now, "maintainer", || {
            format!("{node} removed from the cluster")
        });
        outbox
    }

    /// A node joined: it is bootstrapped; its spans come through add operators.
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

    /// Places absent span `id` on `dest`.
    pub fn start_add(
        &mut self,
        id: DispatcherId,
        dest: NodeId,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        self.start_planned(
            AddOperator::plan(&self.spans, id, dest, now),
            world,
            now,
            tracer,
        )
    }

    /// A new table: its span joins, absent, at `checkpoint`.
    pub fn add_table(&mut self, id: DispatcherId, mode: Mode, checkpoint: u64) {
        self.spans.add_table(id, mode, checkpoint);
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
        if let Some(running) = self.operators.on_span(&id) {
            let kind = running.kind();
            tracer.log(now, "maintainer", || {
                format!(
                    "table of {} dropped while its {} runs: replacing it",
                    short(id),
                    kind.name()
                )
            });
            let (operators, mut ctx) = self.operator_parts(world, now, tracer);
            operators.task_removed(id, &mut ctx, &mut outbox.commands);
        }
        let Some(node) = captured else {
            self.spans.set(id, None);
            return outbox;
        };
        let remove = RemoveOperator::new(id, view.mode, node, now);
        let more = self.start_operator(Box::new(remove), world, now, tracer);
        outbox.commands.extend(more.commands);
        outbox
    }

    /// Moves replicating span `id` to `dest`.
    pub fn start_move(
        &mut self,
        id: DispatcherId,
        dest: NodeId,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        self.start_planned(
            MoveOperator::plan(&self.spans, id, dest, now),
            world,
            now,
            tracer,
        )
    }

    /// Splits replicating span `id` into `new_spans` (a balance split when `plan`).
    pub fn start_split(
        &mut self,
        id: DispatcherId,
        new_spans: Vec<DispatcherId>,
        plan: Option<SplitPlan>,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        self.start_planned(
            SplitOperator::plan(&self.spans, id, new_spans, plan, now),
            world,
            now,
            tracer,
        )
    }

    /// Merges replicating spans `sources` (one node, one mode) into a new span `merged`.
    pub fn start_merge(
        &mut self,
        sources: [DispatcherId; 2],
        merged: DispatcherId,
        world: &mut World,
        now: u64,
        tracer: &mut Tracer,
    ) -> Outbox {
        self.start_planned(
            MergeOperator::plan(&self.spans, sources, merged, now),
            world,
            now,
            tracer,
        )
    }

    // ---- heartbeats --------------------------------------------------------------------------

    /// Whether `heartbeat` comes from a newer process of its node than the maintainer knew
    /// (ours carries the incarnation; the reference cannot tell).
    pub fn is_new_incarnation(&self, heartbeat: &Heartbeat) -> bool {
        self.side.knows_incarnations()
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
        if self.side.knows_incarnations() {
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
            if let Some(id) = status.id.map(DispatcherId::from) {
                let state = ComponentState::try_from(status.component_status).unwrap_or_default();
                let (operators, mut ctx) = self.operator_parts(world, now, tracer);
                operators.status(
                    node,
                    id,
                    state,
                    status.checkpoint_ts,
                    heartbeat.at_ms,
                    &mut ctx,
                    &mut outbox.commands,
                );
            }
            self.span_status(node, status, heartbeat.at_ms, &mut outbox);
        }
        if heartbeat.complete {
            self.reconcile_complete(node, heartbeat.statuses(), heartbeat.at_ms, now, tracer);
        }
        self.sets
            .end_lingering(self.side.as_mut(), node, heartbeat.at_ms);
        outbox
    }

    fn observe_protocol(&mut self, heartbeat: &Heartbeat, now: u64) {
        self.side
            .observe(heartbeat, now, &self.modes, self.planted_bug);
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
            if state == ComponentState::Working && !self.operators.occupies(&id) {
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
            // removes it, for both protocols. One an orphan add still creates there (zoo bug
            // #4077) is left, as the reference leaves it: removing it would only have the
            // orphan's next resend create it again.
            let involved = self.operators.on_span(&id).is_some_and(|op| {
                let (_, origin, dest) = op.shape();
                origin == Some(from) || dest == Some(from)
            }) || self.operators.orphan_involves(&id, from);
            if state == ComponentState::Working && !involved {
                outbox.commands.push(Command::Remove {
                    node: from,
                    id,
                    mode: view.mode,
                });
            }
            return;
        }
        self.spans.update(id, |v| {
            v.last_state = Some(state);
            v.checkpoint = v.checkpoint.max(status.checkpoint_ts);
            v.reported_at = made_at;
        });
        let gone = state == ComponentState::Stopped
            && view.status == SpanStatus::Replicating
            && !self.operators.occupies(&id);
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
            .spans
            .on_node(from)
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
                    && !self.operators.occupies(id)
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
        self.spans.mark_absent(id);
        self.sets.delta(self.side.as_mut(), mode, node, &[], &[id]);
    }

    /// An ack.
    pub fn ack(&mut self, ack: ChecksumAck) {
        if !self.bootstrapped() {
            return;
        }
        self.side.ack(ack);
    }

    // ---- the period --------------------------------------------------------------------------

    /// One maintainer period: resend operators' commands, place absent spans, flush and resend
    /// updates.
    #[allow(clippy::too_many_arguments)] // the period's context: world, clock, rng, trace
    pub fn tick(
        &mut self,
        now: u64,
        operator_resend_ms: u64,
        place_batch: usize,
        world: &mut World,
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
        outbox
            .commands
            .extend(self.operators.resend(now, operator_resend_ms, &self.spans));
        let absent: Vec<DispatcherId> = self
            .spans
            .absent()
            .iter()
            .filter(|id| !self.operators.occupies(id))
            .take(place_batch)
            .copied()
            .collect();
        for id in absent {
            if let Some(dest) = self.least_loaded(rng) {
                let more = self.start_add(id, dest, world, now, tracer);
                outbox.commands.extend(more.commands);
            }
        }
        let time = Duration::from_millis(now);
        let no_resend = !self.planted_bug.resends();
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
        let operators = self.operators.floor(mode, &self.spans, self.zoo);
        let spans = if self.zoo.scheduling_spans_hold_floor() {
            self.spans.lowest_non_replicating(mode)
        } else {
            self.spans.lowest_absent(mode)
        };
        operators.into_iter().chain(spans).min()
    }

    /// What limits the checkpoint now, in words: the floors and, per required node, what the
    /// gate holds of it.
    pub fn explain_checkpoint(&self) -> String {
        let mut parts: Vec<String> = self
            .modes
            .iter()
            .map(|mode| format!("{mode} floor {:?}", self.floor(*mode)))
            .collect();
        let floors = self.floors();
        parts.extend(self.side.explain_gate(&self.gate_inputs(&floors)));
        parts.join("; ")
    }

    /// Per mode, the floor the checkpoint step uses (none under the planted bug
    /// `IgnoreFloors`).
    fn floors(&self) -> Vec<(Mode, Option<u64>)> {
        self.modes
            .iter()
            .map(|mode| (*mode, self.planted_bug.floor(self.floor(*mode))))
            .collect()
    }

    /// What the protocol's gate reads of the maintainer.
    pub fn gate_inputs<'a>(&'a self, floors: &'a [(Mode, Option<u64>)]) -> GateInputs<'a> {
        GateInputs {
            modes: &self.modes,
            members: &self.members,
            host: self.me.host,
            spans: &self.spans,
            floors,
            gate: self.gate,
            planted_bug: self.planted_bug,
        }
    }

    /// Whether an operator runs on span `id` that creates no dispatcher of it on `node` (a
    /// split, a remove, a move or add elsewhere): a Create of `id` arriving at `node` then is a
    /// stale command (a resend that crossed the operator's end), whose stray dispatcher the
    /// scheduler removes.
    pub fn operator_creates_elsewhere(&self, id: &DispatcherId, node: NodeId) -> bool {
        self.operators
            .on_span(id)
            .is_some_and(|op| op.shape().2 != Some(node))
    }

    /// Whether the gate requires `node`'s verdict of `mode`.
    pub fn requires(&self, node: NodeId, mode: Mode) -> bool {
        self.side.requires(node, mode, &self.gate_inputs(&[]))
    }

    /// One checkpoint step: the protocol's gate over the floors.
    pub fn checkpoint_step(&mut self) -> CheckpointReport {
        let floors = self.floors();
        let inputs = GateInputs {
            modes: &self.modes,
            members: &self.members,
            host: self.me.host,
            spans: &self.spans,
            floors: &floors,
            gate: self.gate,
            planted_bug: self.planted_bug,
        };
        let mut report = self.side.checkpoint_step(&inputs, &mut self.reported);
        for checkpoint in &mut report.checkpoint {
            *checkpoint = self.planted_bug.reported_checkpoint(
                report.held_by_gate,
                self.zoo.reported_checkpoint(*checkpoint),
            );
        }
        // `maintainer/maintainer.go` `calCheckpointTs` (since #4548): every computed checkpoint
        // advances the committed value the Creates are clamped to.
        for mode in &self.modes {
            if let Some(computed) = report.checkpoint[*mode as usize] {
                let committed = self.spans.committed(*mode);
                self.spans
                    .set_committed(*mode, self.zoo.advance_committed(committed, computed));
            }
        }
        report
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
