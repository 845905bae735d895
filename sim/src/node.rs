//! One simulated node (a capture): its dispatchers with their lifecycle and progress, the
//! checksum protocol's node side (ours or the reference's), and the heartbeats it sends.
//!
//! The data plane is the reference node's whatever the protocol: a dispatcher is created in
//! Initializing and becomes Working after a delay; a removal closes it after a delay, after which
//! the next periodic heartbeat reports it Stopped and deletes it (so it stays counted until
//! then); a merge registers the merged dispatcher in Preparing, sets the sources to
//! WaitingMerge, then MergeReady, and the merge task (every `merge_check_ms`) closes the
//! sources, starts the merged dispatcher in Initializing at the lowest of their checkpoints,
//! and it becomes Working after a delay. A Working dispatcher's checkpoint advances at every
//! periodic heartbeat by a random step (up to one and a half heartbeat periods, or up to its
//! whole distance behind the upstream when it is further behind, never past the upstream's now);
//! no other state advances. The watermark is the lowest checkpoint over the
//! mode's dispatchers except Preparing and MergeReady ones, sent only at MATCH unless the node is
//! told to always send it. A Working transition is reported `status_batch_ms` later by a status
//! heartbeat (the reference's status path); every `complete_status_every` periodic heartbeats list
//! every dispatcher.
//!
//! Modelling choices (documented deviations): the status path recomputes the watermark rather
//! than reusing the last periodic one; a node that switches to a new maintainer abandons its
//! in-flight merges (sources back to Working, the merged dispatcher dropped), since a merge's
//! maintainer-side operator dies with the old maintainer.

use crate::config::{Protocol, Timing};
use crate::planted::PlantedBug;
use crate::protocol::{HeartbeatInput, NodeProtocol};
use crate::rng::SimRng;
use crate::world::{upstream_ts, World};
use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, ChecksumAck, ChecksumHeartbeat, ChecksumState, ChecksumUpdate,
    ExpectedVersion, IncrementalActualSet, Mode, NodeId, RecomputeActualSet,
};
use dispatcher_checksum::wire::{HeartBeatRequest, TableSpanStatus};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

/// Who a maintainer is, as its messages say: the instance (for routing in the simulation), the
/// node it runs on (the reference's identity) and its epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaintainerRef {
    /// The simulation's instance number (routing only; no protocol looks at it).
    pub instance: u64,
    /// The node it runs on.
    pub host: NodeId,
    /// Its epoch.
    pub epoch: u64,
}

/// One dispatcher on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispatcher {
    /// Its mode.
    pub mode: Mode,
    /// Its lifecycle state.
    pub state: ComponentState,
    /// Its checkpoint.
    pub checkpoint: u64,
    /// A removal is in progress.
    pub closing: bool,
    /// Closed: the next periodic heartbeat reports it Stopped and deletes it.
    pub closed: bool,
    /// The checkpoint it was created at (what `start-below-persisted` judges).
    pub start_ts: u64,
    /// When it was created (simulated ms), to judge its start against the persisted checkpoint
    /// of that moment.
    pub created_at: u64,
}

/// A node-side merge in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NodeMerge {
    mode: Mode,
    sources: Vec<DispatcherId>,
    merged: DispatcherId,
}

/// A lifecycle step due on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// An Initializing dispatcher becomes Working.
    Working(DispatcherId),
    /// A closing dispatcher's close completes.
    Closed(DispatcherId),
    /// A Preparing merge target becomes MergeReady.
    MergeReady(DispatcherId),
}

/// What a bootstrap response reports of one dispatcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reported {
    /// The dispatcher.
    pub id: DispatcherId,
    /// Its mode.
    pub mode: Mode,
    /// Its state.
    pub state: ComponentState,
    /// Its checkpoint.
    pub checkpoint: u64,
}

/// The protocol part of a heartbeat.
#[derive(Clone, Debug, PartialEq)]
pub enum HeartbeatBody {
    /// Ours: one checksum heartbeat per mode, the dispatcher statuses beside them.
    Ours {
        /// Per mode.
        checksums: Vec<ChecksumHeartbeat>,
        /// Dispatcher statuses.
        statuses: Vec<TableSpanStatus>,
    },
    /// The reference's `HeartBeatRequest` (statuses inside).
    Reference(Box<HeartBeatRequest>),
}

/// A heartbeat as it travels.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    /// When the node made it (simulation metadata, for the checks and the scheduler's
    /// ordering of a node's reports).
    pub at_ms: u64,
    /// How many changes of its dispatchers the node had made when it made it (simulation
    /// metadata: what the heartbeat's snapshot includes).
    pub changes: u64,
    /// The sender.
    pub node: NodeId,
    /// The sender's process.
    pub incarnation: u64,
    /// Whether the statuses list every dispatcher.
    pub complete: bool,
    /// The protocol's part.
    pub body: HeartbeatBody,
}

impl Heartbeat {
    /// The dispatcher statuses it carries.
    pub fn statuses(&self) -> &[TableSpanStatus] {
        match &self.body {
            HeartbeatBody::Ours { statuses, .. } => statuses,
            HeartbeatBody::Reference(request) => &request.statuses,
        }
    }
}

/// The exact set behind the expected value a node holds, for the MATCH-is-truthful check.
pub type HeldSet = Option<(ExpectedVersion, Rc<BTreeSet<DispatcherId>>)>;

/// One node.
#[derive(Clone, Debug)]
pub struct SimNode {
    /// Its ID.
    pub id: NodeId,
    /// Its process (goes up at every restart).
    pub incarnation: u64,
    /// Every dispatcher it runs.
    pub dispatchers: BTreeMap<DispatcherId, Dispatcher>,
    /// The protocol's node side.
    pub side: Box<dyn NodeProtocol>,
    /// The reference strategy fed the same events (checked against the incremental set).
    pub recompute: [RecomputeActualSet; 2],
    /// Per mode, the exact set of the expected value the verifier holds.
    pub held: [HeldSet; 2],
    /// The maintainer its heartbeats go to.
    pub follows: Option<MaintainerRef>,
    /// The reference's dispatcher-map seq per mode (its `Watermark.seq`).
    pub map_seq: [u64; 2],
    /// The latest verdict per mode.
    pub verdicts: [ChecksumState; 2],
    /// The node's clock (the engine sets it before every event).
    pub now: u64,
    /// How many times its set of dispatchers or their states changed.
    pub changes: u64,
    modes: Vec<Mode>,
    periodic: u64,
    pending_statuses: Vec<TableSpanStatus>,
    status_flush_due: bool,
    merges: Vec<NodeMerge>,
    watermark_always: bool,
    planted_bug: PlantedBug,
}

/// What a node asks the engine to do after an event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeOutput {
    /// Lifecycle steps to schedule: (delay ms, step).
    pub steps: Vec<(u64, Step)>,
    /// Acks to send.
    pub acks: Vec<ChecksumAck>,
    /// Whether a status heartbeat is due after the batching delay.
    pub status_flush: bool,
    /// Whether the merge task must look again after `merge_check_ms`.
    pub merge_check: bool,
}

impl SimNode {
    /// A fresh node process with no dispatchers.
    pub fn new(
        id: NodeId,
        incarnation: u64,
        protocol: Protocol,
        modes: &[Mode],
        watermark_always: bool,
        planted_bug: PlantedBug,
    ) -> SimNode {
        let redo = modes.contains(&Mode::Redo);
        let side = protocol.node_side(id, incarnation, redo, watermark_always);
        SimNode {
            id,
            incarnation,
            dispatchers: BTreeMap::new(),
            side,
            recompute: [RecomputeActualSet::new(), RecomputeActualSet::new()],
            held: [None, None],
            follows: None,
            map_seq: [0; 2],
            verdicts: [ChecksumState::Uninitialized; 2],
            now: 0,
            changes: 0,
            modes: modes.to_vec(),
            periodic: 0,
            pending_statuses: Vec::new(),
            status_flush_due: false,
            merges: Vec::new(),
            watermark_always,
            planted_bug,
        }
    }

    /// The modes the node runs.
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }

    fn actual_set_mut(&mut self, mode: Mode) -> Option<&mut IncrementalActualSet> {
        self.side.actual_set_mut(mode)
    }

    /// The incremental actual fingerprint of `mode`.
    pub fn incremental_fingerprint(&self, mode: Mode) -> Option<Fingerprint> {
        self.side.actual_fingerprint(mode)
    }

    /// The expected version the verifier of `mode` holds (if initialized).
    pub fn held_version(&self, mode: Mode) -> Option<ExpectedVersion> {
        let expected = self.side.expected(mode)?;
        expected.initialized.then_some(ExpectedVersion {
            epoch: expected.epoch,
            seq: expected.seq,
        })
    }

    /// The exact included set of `mode` (the truth the fingerprints stand for).
    pub fn included(&self, mode: Mode) -> BTreeSet<DispatcherId> {
        self.dispatchers
            .iter()
            .filter(|(_, d)| d.mode == mode && d.state.is_included_by_default())
            .map(|(id, _)| *id)
            .collect()
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    fn set_state(&mut self, id: DispatcherId, mode: Mode, state: ComponentState, created: bool) {
        self.changes += 1;
        let skip = !self.planted_bug.tells_incremental_set(state, created);
        let recompute = &mut self.recompute[mode as usize];
        if created {
            recompute.on_dispatcher_added(id, state);
        } else {
            recompute.on_state_changed(id, state);
        }
        if skip {
            return;
        }
        if let Some(actual) = self.actual_set_mut(mode) {
            if created {
                actual.on_dispatcher_added(id, state);
            } else {
                actual.on_state_changed(id, state);
            }
        }
    }

    fn delete(&mut self, id: DispatcherId) -> Option<Dispatcher> {
        let dispatcher = self.dispatchers.remove(&id)?;
        self.changes += 1;
        self.recompute[dispatcher.mode as usize].on_dispatcher_removed(id);
        if let Some(actual) = self.actual_set_mut(dispatcher.mode) {
            actual.on_dispatcher_removed(id);
        }
        Some(dispatcher)
    }

    /// Creates a dispatcher (Initializing) at `checkpoint`; a create for one that exists reports
    /// its state instead, as the reference's duplicate handling does.
    pub fn create(
        &mut self,
        id: DispatcherId,
        mode: Mode,
        checkpoint: u64,
        timing: &Timing,
        rng: &mut SimRng,
    ) -> NodeOutput {
        let mut output = NodeOutput::default();
        if let Some(existing) = self.dispatchers.get(&id) {
            if existing.state == ComponentState::Working && !existing.closing {
                self.queue_status(id, *existing);
                output.status_flush = self.claim_flush();
            }
            return output;
        }
        self.map_seq[mode as usize] += 1;
        let checkpoint = self.planted_bug.start_ts(checkpoint);
        let dispatcher = Dispatcher {
            mode,
            state: ComponentState::Initializing,
            checkpoint,
            closing: false,
            closed: false,
            start_ts: checkpoint,
            created_at: self.now,
        };
        self.dispatchers.insert(id, dispatcher);
        self.set_state(id, mode, ComponentState::Initializing, true);
        let delay = rng.inclusive(timing.init_ms.0, timing.init_ms.1);
        output.steps.push((delay, Step::Working(id)));
        output
    }

    /// Starts removing a dispatcher. An unknown one is reported Stopped at once (the reference
    /// answers a remove for a dispatcher it does not have that way, so the operator finishes).
    pub fn remove(
        &mut self,
        id: DispatcherId,
        mode: Mode,
        now: u64,
        timing: &Timing,
        rng: &mut SimRng,
    ) -> NodeOutput {
        let mut output = NodeOutput::default();
        // Removing a merge's source or target before the merge ran aborts it (the reference
        // node's abort path): the other sources work on, the target goes.
        if let Some(index) = self
            .merges
            .iter()
            .position(|m| m.merged == id || m.sources.contains(&id))
        {
            let merge = self.merges.remove(index);
            self.undo_merge(&merge, id);
            if merge.merged == id {
                self.pending_statuses.push(TableSpanStatus::new(
                    id,
                    ComponentState::Stopped,
                    0,
                    mode,
                ));
                output.status_flush = self.claim_flush();
                return output;
            }
        }
        match self.dispatchers.get_mut(&id) {
            Some(_) if !self.planted_bug.closes_on_remove() => {
                self.pending_statuses.push(TableSpanStatus::new(
                    id,
                    ComponentState::Stopped,
                    0,
                    mode,
                ));
                output.status_flush = self.claim_flush();
            }
            Some(dispatcher) if !dispatcher.closing => {
                dispatcher.closing = true;
                let delay = rng.inclusive(timing.close_ms.0, timing.close_ms.1);
                output.steps.push((delay, Step::Closed(id)));
            }
            Some(_) => {}
            None => {
                let _ = now;
                self.pending_statuses.push(TableSpanStatus::new(
                    id,
                    ComponentState::Stopped,
                    0,
                    mode,
                ));
                output.status_flush = self.claim_flush();
            }
        }
        output
    }

    /// Starts a merge of `sources` into `merged` (all of `mode`).
    pub fn merge(
        &mut self,
        sources: &[DispatcherId],
        merged: DispatcherId,
        mode: Mode,
        timing: &Timing,
        rng: &mut SimRng,
    ) -> NodeOutput {
        let mut output = NodeOutput::default();
        if let Some(existing) = self.dispatchers.get(&merged) {
            if existing.state == ComponentState::Working {
                self.queue_status(merged, *existing);
                output.status_flush = self.claim_flush();
            }
            return output;
        }
        let ready = sources.iter().all(|id| {
            self.dispatchers
                .get(id)
                .is_some_and(|d| !d.closing && d.state == ComponentState::Working)
        });
        if !ready {
            // It cannot start: say so by reporting the target Stopped, so the operator gives up
            // instead of waiting for a Working that never comes (a modelling choice).
            self.pending_statuses.push(TableSpanStatus::new(
                merged,
                ComponentState::Stopped,
                0,
                mode,
            ));
            output.status_flush = self.claim_flush();
            return output;
        }
        for &id in sources {
            if let Some(dispatcher) = self.dispatchers.get_mut(&id) {
                dispatcher.state = ComponentState::WaitingMerge;
            }
            self.set_state(id, mode, ComponentState::WaitingMerge, false);
        }
        self.map_seq[mode as usize] += 1;
        let start = sources
            .iter()
            .filter_map(|id| self.dispatchers.get(id))
            .map(|d| d.checkpoint)
            .min()
            .unwrap_or(0);
        self.dispatchers.insert(
            merged,
            Dispatcher {
                mode,
                state: ComponentState::Preparing,
                checkpoint: start,
                closing: false,
                closed: false,
                start_ts: start,
                created_at: self.now,
            },
        );
        self.set_state(merged, mode, ComponentState::Preparing, true);
        self.merges.push(NodeMerge {
            mode,
            sources: sources.to_vec(),
            merged,
        });
        let delay = rng.inclusive(timing.prepare_ms.0, timing.prepare_ms.1);
        output.steps.push((delay, Step::MergeReady(merged)));
        output.merge_check = true;
        output
    }

    /// Runs a lifecycle step that fell due.
    pub fn step(&mut self, step: Step) -> NodeOutput {
        let mut output = NodeOutput::default();
        match step {
            Step::Working(id) => {
                let Some(dispatcher) = self.dispatchers.get_mut(&id) else {
                    return output;
                };
                if dispatcher.state != ComponentState::Initializing {
                    return output;
                }
                dispatcher.state = ComponentState::Working;
                let (mode, snapshot) = (dispatcher.mode, *dispatcher);
                self.set_state(id, mode, ComponentState::Working, false);
                self.queue_status(id, snapshot);
                output.status_flush = self.claim_flush();
            }
            Step::Closed(id) => {
                if let Some(dispatcher) = self.dispatchers.get_mut(&id) {
                    dispatcher.closed = true;
                }
            }
            Step::MergeReady(id) => {
                let Some(dispatcher) = self.dispatchers.get_mut(&id) else {
                    return output;
                };
                if dispatcher.state == ComponentState::Preparing {
                    dispatcher.state = ComponentState::MergeReady;
                    let mode = dispatcher.mode;
                    self.set_state(id, mode, ComponentState::MergeReady, false);
                }
            }
        }
        output
    }

    /// The merge task: every merge whose target is MergeReady closes its sources and starts the
    /// target in Initializing at the lowest of their checkpoints.
    pub fn merge_check(&mut self, timing: &Timing, rng: &mut SimRng) -> NodeOutput {
        let mut output = NodeOutput::default();
        let merges = std::mem::take(&mut self.merges);
        for merge in merges {
            let target = self.dispatchers.get(&merge.merged).map(|d| d.state);
            if target != Some(ComponentState::MergeReady) {
                if target.is_some() {
                    self.merges.push(merge);
                    output.merge_check = true;
                }
                continue;
            }
            let start = merge
                .sources
                .iter()
                .filter_map(|id| self.dispatchers.get(id))
                .map(|d| d.checkpoint)
                .min()
                .unwrap_or(0);
            for id in &merge.sources {
                if let Some(source) = self.dispatchers.get_mut(id) {
                    source.closing = true;
                    source.closed = true;
                }
            }
            if let Some(target) = self.dispatchers.get_mut(&merge.merged) {
                target.state = ComponentState::Initializing;
                target.checkpoint = start;
            }
            self.set_state(
                merge.merged,
                merge.mode,
                ComponentState::Initializing,
                false,
            );
            let delay = rng.inclusive(timing.init_ms.0, timing.init_ms.1);
            output.steps.push((delay, Step::Working(merge.merged)));
        }
        output
    }

    fn abandon_merges(&mut self) {
        for merge in std::mem::take(&mut self.merges) {
            self.undo_merge(&merge, merge.merged);
        }
    }

    /// Puts a merge that has not run back: its sources (but `except`) Working, its target gone.
    fn undo_merge(&mut self, merge: &NodeMerge, except: DispatcherId) {
        for id in merge.sources.iter().filter(|id| **id != except) {
            let reset = self
                .dispatchers
                .get_mut(id)
                .filter(|d| d.state == ComponentState::WaitingMerge && !d.closing)
                .map(|d| {
                    d.state = ComponentState::Working;
                    d.mode
                });
            if let Some(mode) = reset {
                self.set_state(*id, mode, ComponentState::Working, false);
            }
        }
        self.delete(merge.merged);
    }

    /// Silently loses a Working dispatcher (the drift fault): it is gone, nothing is reported.
    /// Returns which, if the node had one to lose.
    pub fn lose_one(&mut self, rng: &mut SimRng) -> Option<DispatcherId> {
        let candidates: Vec<DispatcherId> = self
            .dispatchers
            .iter()
            .filter(|(_, d)| d.state == ComponentState::Working && !d.closing)
            .map(|(id, _)| *id)
            .collect();
        let id = *rng.pick(&candidates)?;
        self.delete(id);
        Some(id)
    }

    /// Whether nothing is in transition on the node (no creation, removal or merge pending).
    pub fn settled(&self) -> bool {
        self.merges.is_empty()
            && self.pending_statuses.is_empty()
            && self
                .dispatchers
                .values()
                .all(|d| d.state == ComponentState::Working && !d.closing)
    }

    fn queue_status(&mut self, id: DispatcherId, dispatcher: Dispatcher) {
        self.pending_statuses.push(TableSpanStatus::new(
            id,
            dispatcher.state,
            dispatcher.checkpoint,
            dispatcher.mode,
        ));
    }

    fn claim_flush(&mut self) -> bool {
        !std::mem::replace(&mut self.status_flush_due, true)
    }

    /// Whether a scheduling command from `from` is dropped (the protocol's fencing).
    pub fn fences(&self, from: MaintainerRef) -> bool {
        self.side.fences(from)
    }

    // ---- the protocol's messages -------------------------------------------------------------

    /// A bootstrap from `from`: the protocol's reset rules, then every dispatcher reported.
    pub fn bootstrap(&mut self, from: MaintainerRef) -> Vec<Reported> {
        let changed = self.follows.map(|m| (m.host, m.epoch)) != Some((from.host, from.epoch));
        let follow = self.side.bootstrap(from, self.planted_bug);
        if follow {
            if changed {
                self.abandon_merges();
            }
            self.follows = Some(from);
        }
        self.dispatchers
            .iter()
            .map(|(id, d)| Reported {
                id: *id,
                mode: d.mode,
                state: d.state,
                checkpoint: d.checkpoint,
            })
            .collect()
    }

    /// An update from `from`; returns the ack to send, if any. `oracle` is the exact set the
    /// update's fingerprint stands for (for the checks only).
    pub fn update(
        &mut self,
        from: MaintainerRef,
        update: &ChecksumUpdate,
        oracle: Option<Rc<BTreeSet<DispatcherId>>>,
    ) -> Option<ChecksumAck> {
        let (ack, follows) = self
            .side
            .update((self.id, self.incarnation), from, update)?;
        if follows {
            self.follows = Some(from);
        }
        if let (Some(oracle), Some(held)) = (oracle, self.held_version(update.mode)) {
            if held
                == (ExpectedVersion {
                    epoch: update.epoch,
                    seq: update.seq,
                })
            {
                self.held[update.mode as usize] = Some((held, oracle));
            }
        }
        Some(ack)
    }

    // ---- heartbeats --------------------------------------------------------------------------

    /// The periodic heartbeat: advance the Working dispatchers, verify, report closed
    /// dispatchers (and every dispatcher on a complete tick). The closed ones are counted in this
    /// heartbeat's verdict; [`delete_closed`](SimNode::delete_closed) deletes them after it.
    pub fn periodic_heartbeat(
        &mut self,
        now: u64,
        changefeed: &ChangefeedId,
        timing: &Timing,
        world: &mut World,
        rng: &mut SimRng,
    ) -> Heartbeat {
        let cap = upstream_ts(now);
        let step_max = timing.heartbeat_ms * 3 / 2;
        for (id, dispatcher) in &mut self.dispatchers {
            if dispatcher.state == ComponentState::Working && !dispatcher.closed {
                // Up to one and a half periods when close to the upstream; a dispatcher that is
                // behind (a moved one replays from its span's stored checkpoint) catches up at up
                // to the whole distance per heartbeat, as a replay reads faster than real time.
                let behind = cap.saturating_sub(dispatcher.checkpoint);
                let step = rng.inclusive(0, step_max.max(behind));
                dispatcher.checkpoint = dispatcher
                    .checkpoint
                    .saturating_add(step)
                    .min(cap)
                    .max(dispatcher.checkpoint);
                world.advance(*id, dispatcher.checkpoint);
            }
        }
        self.periodic += 1;
        let complete = timing.complete_status_every > 0
            && self.periodic.is_multiple_of(timing.complete_status_every);
        let mut statuses = std::mem::take(&mut self.pending_statuses);
        self.status_flush_due = false;
        let closed: Vec<DispatcherId> = self
            .dispatchers
            .iter()
            .filter(|(_, d)| d.closed)
            .map(|(id, _)| *id)
            .collect();
        for id in &closed {
            let d = self.dispatchers[id];
            statuses.push(TableSpanStatus::new(
                *id,
                ComponentState::Stopped,
                d.checkpoint,
                d.mode,
            ));
        }
        if complete {
            for (id, d) in &self.dispatchers {
                let reported = !d.closed
                    && !matches!(
                        d.state,
                        ComponentState::Initializing
                            | ComponentState::Preparing
                            | ComponentState::MergeReady
                    );
                if reported {
                    statuses.push(TableSpanStatus::new(*id, d.state, d.checkpoint, d.mode));
                }
            }
        }
        self.heartbeat(now, changefeed, statuses, complete)
    }

    /// Deletes the dispatchers the last periodic heartbeat reported Stopped.
    pub fn delete_closed(&mut self) {
        let closed: Vec<DispatcherId> = self
            .dispatchers
            .iter()
            .filter(|(_, d)| d.closed)
            .map(|(id, _)| *id)
            .collect();
        for id in closed {
            self.delete(id);
        }
    }

    /// The status heartbeat: the statuses queued since the last heartbeat, with a fresh verdict.
    pub fn status_heartbeat(&mut self, now: u64, changefeed: &ChangefeedId) -> Option<Heartbeat> {
        if !std::mem::replace(&mut self.status_flush_due, false) {
            return None;
        }
        let statuses = std::mem::take(&mut self.pending_statuses);
        if statuses.is_empty() {
            return None;
        }
        Some(self.heartbeat(now, changefeed, statuses, false))
    }

    /// The lowest checkpoint over the dispatchers of `mode` that contribute a watermark
    /// (`u64::MAX` when none does).
    pub fn watermark(&self, mode: Mode) -> u64 {
        self.dispatchers
            .values()
            .filter(|d| {
                d.mode == mode
                    && !matches!(
                        d.state,
                        ComponentState::Preparing | ComponentState::MergeReady
                    )
            })
            .map(|d| d.checkpoint)
            .min()
            .unwrap_or(u64::MAX)
    }

    fn heartbeat(
        &mut self,
        now: u64,
        changefeed: &ChangefeedId,
        statuses: Vec<TableSpanStatus>,
        complete: bool,
    ) -> Heartbeat {
        let time = Duration::from_millis(now);
        let watermarks: Vec<(Mode, u64)> = self
            .modes
            .iter()
            .map(|mode| (*mode, self.watermark(*mode)))
            .collect();
        let counts: Vec<u64> = self
            .modes
            .iter()
            .map(|mode| self.incremental_fingerprint(*mode).map_or(0, |f| f.count))
            .collect();
        let (body, verdicts) = self.side.heartbeat(HeartbeatInput {
            now: time,
            changefeed,
            watermarks: &watermarks,
            counts: &counts,
            map_seq: self.map_seq,
            statuses,
            complete,
            watermark_always: self.watermark_always,
            match_on_equal_counts: self.planted_bug.claims_match_on_equal_counts(),
        });
        for (mode, verdict) in verdicts {
            self.verdicts[mode as usize] = verdict;
        }
        Heartbeat {
            at_ms: now,
            changes: self.changes,
            node: self.id,
            incarnation: self.incarnation,
            complete,
            body,
        }
    }
}
