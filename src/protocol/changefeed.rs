//! Per-changefeed bundles of the per-mode parts: the maintainer's [`MaintainerChecksums`] (one
//! [`ExpectedSetTracker`] per enabled mode plus the [`CheckpointGate`]) and a node's
//! [`NodeChecksums`] (one [`DispatcherSetVerifier`] per enabled mode). The default mode always
//! exists; the redo mode exists when redo is enabled. The modes share nothing: each has its own
//! epoch bookkeeping, seqs, fingerprints and verdicts, and messages are routed by their mode.

use super::gate::{CheckpointGate, GateDecision, Requirement};
use super::telemetry::{self, NodeTelemetry};
use super::tracker::{AckOutcome, ExpectedSetTracker, TrackerConfig};
use super::verifier::{
    ActualSet, DispatcherSetVerifier, IncrementalActualSet, Verdict, VerifierConfig,
};
use super::{
    ChangefeedId, ChecksumAck, ChecksumHeartbeat, ChecksumUpdate, ExpectedVersion, Mode, NodeId,
};
use std::time::Duration;

/// The minimum over no watermark at all: never a checkpoint (see
/// [`MaintainerChecksums::advance_checkpoint`]).
const NO_CHECKPOINT: u64 = u64::MAX;

/// Which rule lets the changefeed's checkpoint advance (see [`MaintainerChecksums::decide`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CheckpointRule {
    /// [`MaintainerChecksums::decide_verified`]: every tracked node MATCH on its latest update.
    /// Any operator on any node holds the whole changefeed until its node reports MATCH again.
    #[default]
    Verified,
    /// [`MaintainerChecksums::decide_explained`]: a node that is not MATCH on its latest update
    /// passes when its actual fingerprint is its settled expected set plus some of the IDs in
    /// flight on it. Needs nodes that send their watermark and actual fingerprint in every
    /// heartbeat ([`WatermarkPolicy::Always`]) and a scheduler that marks every ID an operator
    /// changes as in flight for the operator's life, with the span held by the operator's
    /// checkpoint floor meanwhile.
    Explained,
}

/// What one [`MaintainerChecksums::advance_checkpoint`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointStep {
    /// The gate's answer.
    pub decision: GateDecision,
    /// The changefeed checkpoint after the step (`None` until one is known).
    pub checkpoint: Option<u64>,
    /// Whether it moved forward.
    pub advanced: bool,
}

/// The maintainer's checksum state for one changefeed: a tracker per enabled mode, the gate, and
/// the changefeed checkpoint it lets through, which never goes backwards.
#[derive(Clone, Debug)]
pub struct MaintainerChecksums {
    default: ExpectedSetTracker,
    redo: Option<ExpectedSetTracker>,
    gate: CheckpointGate,
    rule: CheckpointRule,
    checkpoint: Option<u64>,
}

impl MaintainerChecksums {
    /// Trackers for the default mode and, if `redo_enabled`, the redo mode; an empty gate.
    pub fn new(changefeed: ChangefeedId, redo_enabled: bool, config: TrackerConfig) -> Self {
        let redo =
            redo_enabled.then(|| ExpectedSetTracker::new(changefeed.clone(), Mode::Redo, config));
        MaintainerChecksums {
            default: ExpectedSetTracker::new(changefeed, Mode::Default, config),
            redo,
            gate: CheckpointGate::new(),
            rule: CheckpointRule::default(),
            checkpoint: None,
        }
    }

    /// The same, deciding by `rule`.
    #[must_use]
    pub fn with_rule(mut self, rule: CheckpointRule) -> Self {
        self.rule = rule;
        self
    }

    /// The rule [`advance_checkpoint`](MaintainerChecksums::advance_checkpoint) decides by.
    pub fn rule(&self) -> CheckpointRule {
        self.rule
    }

    /// The enabled modes, default first.
    pub fn modes(&self) -> impl Iterator<Item = Mode> + '_ {
        self.trackers().map(ExpectedSetTracker::mode)
    }

    /// The tracker of `mode`, if enabled.
    pub fn tracker(&self, mode: Mode) -> Option<&ExpectedSetTracker> {
        match mode {
            Mode::Default => Some(&self.default),
            Mode::Redo => self.redo.as_ref(),
        }
    }

    /// The tracker of `mode`, if enabled.
    pub fn tracker_mut(&mut self, mode: Mode) -> Option<&mut ExpectedSetTracker> {
        match mode {
            Mode::Default => Some(&mut self.default),
            Mode::Redo => self.redo.as_mut(),
        }
    }

    /// Every enabled tracker, default first.
    pub fn trackers(&self) -> impl Iterator<Item = &ExpectedSetTracker> + '_ {
        std::iter::once(&self.default).chain(self.redo.as_ref())
    }

    /// Every enabled tracker, default first.
    pub fn trackers_mut(&mut self) -> impl Iterator<Item = &mut ExpectedSetTracker> + '_ {
        std::iter::once(&mut self.default).chain(self.redo.as_mut())
    }

    /// The gate.
    pub fn gate(&self) -> &CheckpointGate {
        &self.gate
    }

    /// The gate.
    pub fn gate_mut(&mut self) -> &mut CheckpointGate {
        &mut self.gate
    }

    /// Routes an ack to its mode's tracker (`OtherMode` if that mode is not enabled).
    pub fn handle_ack(&mut self, ack: ChecksumAck) -> AckOutcome {
        match self.tracker_mut(ack.mode) {
            Some(tracker) => tracker.handle_ack(ack),
            None => AckOutcome::OtherMode,
        }
    }

    /// Feeds a heartbeat to the gate and to its mode's tracker (restart detection and the
    /// warning rule). Returns (whether the gate kept it, whether to warn that the node has been
    /// non-MATCH too long). An older or repeated heartbeat is ignored by both.
    pub fn observe_heartbeat(
        &mut self,
        heartbeat: ChecksumHeartbeat,
        now: Duration,
    ) -> (bool, bool) {
        let kept = self.gate.observe(&heartbeat);
        if !kept {
            return (false, false);
        }
        let warn = self.tracker_mut(heartbeat.mode).is_some_and(|tracker| {
            tracker.observe_incarnation(heartbeat.node, heartbeat.incarnation);
            let warn = tracker.observe_heartbeat(heartbeat.node, heartbeat.state, now);
            if warn {
                telemetry::node_not_ok_too_long(tracker, &heartbeat, now);
            }
            warn
        });
        (kept, warn)
    }

    /// Every update due now in every mode: dirty flushes, then resends.
    pub fn flush_and_resend(&mut self, now: Duration) -> Vec<ChecksumUpdate> {
        let mut updates = Vec::new();
        for tracker in self.trackers_mut() {
            let before = updates.len();
            updates.extend(tracker.flush_dirty(now));
            let flushed = updates.len() - before;
            updates.extend(tracker.resend_pending(now));
            telemetry::updates_sent(tracker, flushed, updates.len() - before - flushed, now);
        }
        updates
    }

    /// Drops `nodes` from every tracker and from the gate.
    pub fn remove_nodes(&mut self, nodes: &[NodeId]) {
        for tracker in self.trackers_mut() {
            tracker.remove_nodes(nodes);
        }
        for &node in nodes {
            self.gate.remove_node(node);
        }
    }

    /// The (node, mode) pairs the gate requires: every tracked node in every enabled mode that
    /// has been sent an expected value in this epoch (seq 1 or more), even one expected to run
    /// nothing (it must confirm it runs nothing). A node the tracker met only through
    /// [`ExpectedSetTracker::begin_transition`] has seq 0: nothing is expected of it yet.
    pub fn required(&self) -> Vec<(NodeId, Mode)> {
        self.required_versions()
            .into_iter()
            .map(|(node, mode, _)| (node, mode))
            .collect()
    }

    /// [`required`](MaintainerChecksums::required), each with the version its MATCH must have
    /// been computed against: the tracker's epoch and the node's latest seq.
    pub fn required_versions(&self) -> Vec<(NodeId, Mode, ExpectedVersion)> {
        self.trackers()
            .flat_map(|tracker| {
                tracker
                    .tracked_nodes()
                    .iter()
                    .filter(|tracked| tracked.seq > 0)
                    .map(move |tracked| {
                        let version = ExpectedVersion {
                            epoch: tracker.epoch(),
                            seq: tracked.seq,
                        };
                        (tracked.node, tracker.mode(), version)
                    })
            })
            .collect()
    }

    /// The gate rule over [`required`](MaintainerChecksums::required): every tracked
    /// node in every enabled mode reports MATCH with a watermark. It does not look at which
    /// update a MATCH was computed against, so a MATCH against a superseded update (the new one
    /// still in flight) or from before a failover can open it while a node's set is already
    /// wrong: use [`decide_verified`](MaintainerChecksums::decide_verified) for safety.
    pub fn decide(&self) -> GateDecision {
        self.gate.decide(&self.required())
    }

    /// The safe gate rule: [`decide`](MaintainerChecksums::decide), and each MATCH must have
    /// been computed against the node's latest update in the current epoch
    /// ([`required_versions`](MaintainerChecksums::required_versions)).
    pub fn decide_verified(&self) -> GateDecision {
        self.gate.decide_versions(&self.required_versions())
    }

    /// The explained-mismatch rule ([`CheckpointRule::Explained`],
    /// [`CheckpointGate::decide_explained`]) over every tracked node in every enabled mode,
    /// including nodes with something in flight but nothing expected yet.
    pub fn decide_explained(&self) -> GateDecision {
        let required: Vec<Requirement<'_>> = self
            .trackers()
            .flat_map(|tracker| {
                tracker
                    .tracked_nodes()
                    .iter()
                    .filter(|tracked| tracked.seq > 0 || !tracked.in_flight.is_empty())
                    .map(move |tracked| Requirement {
                        node: tracked.node,
                        mode: tracker.mode(),
                        version: ExpectedVersion {
                            epoch: tracker.epoch(),
                            seq: tracked.seq,
                        },
                        settled: tracked.settled,
                        in_flight: &tracked.in_flight,
                    })
            })
            .collect();
        self.gate.decide_explained(&required)
    }

    /// The decision of the configured [`rule`](MaintainerChecksums::rule).
    pub fn decide_by_rule(&self) -> GateDecision {
        match self.rule {
            CheckpointRule::Verified => self.decide_verified(),
            CheckpointRule::Explained => self.decide_explained(),
        }
    }

    /// Starts the changefeed checkpoint at `checkpoint` (the persisted one a new maintainer
    /// starts from); it only moves forward from here.
    pub fn set_checkpoint(&mut self, checkpoint: u64) {
        self.checkpoint = Some(
            self.checkpoint
                .map_or(checkpoint, |old| old.max(checkpoint)),
        );
    }

    /// The changefeed checkpoint (`None` before [`set_checkpoint`] or a first advance).
    ///
    /// [`set_checkpoint`]: MaintainerChecksums::set_checkpoint
    pub fn checkpoint(&self) -> Option<u64> {
        self.checkpoint
    }

    /// One checkpoint decision: when the gate lets it through, the checkpoint moves to the lower
    /// of the gate's watermark and `floor` (what the scheduler holds it at: in-flight operators'
    /// spans, spans no node runs), but never backwards; when the gate holds, it stays. With no
    /// node required (nothing tracked) only the floor limits it.
    ///
    /// A candidate of `u64::MAX` is not a checkpoint: it is what the minimum over nothing gives
    /// (every required node reported an empty set's watermark and no floor bounds it, for
    /// example after the last table was dropped). Taking it would move the checkpoint to the
    /// sentinel, where the monotone rule keeps it forever and every dispatcher created later
    /// would start there; the checkpoint stays instead. TiCDC shipped exactly that bug
    /// (pingcap/ticdc#4703) and guards the same way since its fix: `calculateNewCheckpointTs`
    /// in `maintainer/maintainer.go` reports no update when the minimum is `MaxUint64`.
    pub fn advance_checkpoint(&mut self, floor: Option<u64>) -> CheckpointStep {
        let decision = self.decide_by_rule();
        let candidate = match decision {
            GateDecision::Advance { checkpoint } => {
                Some(floor.map_or(checkpoint, |floor| floor.min(checkpoint)))
            }
            GateDecision::NothingRequired => floor,
            GateDecision::Hold { .. } => None,
        }
        .filter(|&candidate| candidate != NO_CHECKPOINT);
        let before = self.checkpoint;
        if let Some(candidate) = candidate {
            self.checkpoint = Some(before.map_or(candidate, |old| old.max(candidate)));
        }
        telemetry::gate_decision(self.default.changefeed(), decision, self.checkpoint);
        CheckpointStep {
            decision,
            checkpoint: self.checkpoint,
            advanced: self.checkpoint > before,
        }
    }
}

/// When a node's heartbeat carries its watermark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WatermarkPolicy {
    /// Only at MATCH (the reference rule): a maintainer that trusts any watermark it receives
    /// then cannot advance on a node whose set is wrong.
    #[default]
    OnlyAtMatch,
    /// In every heartbeat, with the actual fingerprint of the same instant, so the maintainer
    /// can judge a mismatch itself ([`CheckpointRule::Explained`]).
    Always,
}

/// A node's checksum state for one changefeed: a verifier per enabled mode, and the epoch of the
/// maintainer it follows.
///
/// `incarnation` names the node process. It must be higher after every restart of a node that
/// keeps its node ID (a restarted process starts its heartbeat and state sequences over); the
/// process start time in milliseconds since the Unix epoch is the usual choice. It travels in
/// every heartbeat and ack, so the maintainer keeps the restarted process's heartbeats over the
/// old one's and resends the expected value the old process had acknowledged.
#[derive(Clone, Debug)]
pub struct NodeChecksums<A: ActualSet = IncrementalActualSet> {
    node: NodeId,
    /// The changefeed, for the metrics' and logs' labels only.
    changefeed: ChangefeedId,
    telemetry: NodeTelemetry,
    incarnation: u64,
    watermark_policy: WatermarkPolicy,
    maintainer_epoch: Option<u64>,
    default: DispatcherSetVerifier<A>,
    redo: Option<DispatcherSetVerifier<A>>,
}

impl<A: ActualSet + Default> NodeChecksums<A> {
    /// Verifiers with empty actual sets for the default mode and, if `redo_enabled`, redo, for
    /// node process `incarnation`.
    pub fn new(node: NodeId, incarnation: u64, redo_enabled: bool, config: VerifierConfig) -> Self {
        NodeChecksums::with_actual_sets(
            node,
            incarnation,
            config,
            A::default(),
            redo_enabled.then(A::default),
        )
    }
}

impl<A: ActualSet> NodeChecksums<A> {
    /// Verifiers over the given actual sets (`redo: None` disables the redo mode).
    pub fn with_actual_sets(
        node: NodeId,
        incarnation: u64,
        config: VerifierConfig,
        default: A,
        redo: Option<A>,
    ) -> Self {
        NodeChecksums {
            node,
            changefeed: ChangefeedId::default(),
            telemetry: NodeTelemetry::default(),
            incarnation,
            watermark_policy: WatermarkPolicy::default(),
            maintainer_epoch: None,
            default: DispatcherSetVerifier::with_actual_set(Mode::Default, config, default),
            redo: redo
                .map(|actual| DispatcherSetVerifier::with_actual_set(Mode::Redo, config, actual)),
        }
    }

    /// The node.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The same, naming `changefeed` in its metrics and log events (features `metrics` and
    /// `tracing`; the protocol itself does not need it).
    #[must_use]
    pub fn with_changefeed(mut self, changefeed: ChangefeedId) -> Self {
        self.changefeed = changefeed;
        self
    }

    /// The changefeed its metrics and log events name (the default ID unless
    /// [`with_changefeed`](NodeChecksums::with_changefeed) set one).
    pub fn changefeed(&self) -> &ChangefeedId {
        &self.changefeed
    }

    /// The node process.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// The same, sending the watermark as `policy` says.
    #[must_use]
    pub fn with_watermark_policy(mut self, policy: WatermarkPolicy) -> Self {
        self.watermark_policy = policy;
        self
    }

    /// The epoch of the maintainer this node follows (`None` before the first one).
    pub fn maintainer_epoch(&self) -> Option<u64> {
        self.maintainer_epoch
    }

    /// The enabled modes, default first.
    pub fn modes(&self) -> impl Iterator<Item = Mode> + '_ {
        std::iter::once(Mode::Default).chain(self.redo.as_ref().map(|_| Mode::Redo))
    }

    /// The verifier of `mode`, if enabled.
    pub fn verifier(&self, mode: Mode) -> Option<&DispatcherSetVerifier<A>> {
        match mode {
            Mode::Default => Some(&self.default),
            Mode::Redo => self.redo.as_ref(),
        }
    }

    /// The verifier of `mode`, if enabled.
    pub fn verifier_mut(&mut self, mode: Mode) -> Option<&mut DispatcherSetVerifier<A>> {
        match mode {
            Mode::Default => Some(&mut self.default),
            Mode::Redo => self.redo.as_mut(),
        }
    }

    /// A new maintainer with `epoch` took over: every mode's verifier is reset.
    ///
    /// Idempotent per epoch: a node may learn of the new maintainer twice (its bootstrap and its
    /// first update, in either order over a reordering network). A second reset for an epoch
    /// already followed would wipe an expected value the maintainer has recorded as acked, and it
    /// would never resend it; so an epoch at or below the one followed is ignored.
    pub fn maintainer_changed(&mut self, epoch: u64) {
        if self
            .maintainer_epoch
            .is_some_and(|followed| epoch <= followed)
        {
            return;
        }
        self.maintainer_epoch = Some(epoch);
        self.default.reset();
        if let Some(redo) = &mut self.redo {
            redo.reset();
        }
    }

    /// Takes an update and returns the ack to send, or `None` when the update is dropped: its
    /// mode is not enabled, or it comes from an older maintainer than the one followed. An update
    /// from a newer epoch means a new maintainer took over: the node follows it
    /// ([`maintainer_changed`](NodeChecksums::maintainer_changed)) before applying. An update
    /// the verifier ignores as reordered (same epoch, lower seq) is still acknowledged: the
    /// maintainer keeps the highest ack.
    pub fn apply_update(&mut self, update: &ChecksumUpdate) -> Option<ChecksumAck> {
        self.verifier(update.mode)?;
        match self.maintainer_epoch {
            Some(epoch) if update.epoch < epoch => return None,
            Some(epoch) if update.epoch == epoch => {}
            _ => self.maintainer_changed(update.epoch),
        }
        let verifier = self.verifier_mut(update.mode)?;
        verifier.apply_update(update.epoch, update.seq, update.fingerprint);
        Some(ChecksumAck {
            node: self.node,
            incarnation: self.incarnation,
            epoch: update.epoch,
            mode: update.mode,
            seq: update.seq,
        })
    }

    /// This heartbeat for `mode` (if enabled): the verdict, and the message carrying `watermark`
    /// only at MATCH.
    pub fn heartbeat(
        &mut self,
        mode: Mode,
        watermark: u64,
        now: Duration,
    ) -> Option<(ChecksumHeartbeat, Verdict)> {
        let (node, incarnation) = (self.node, self.incarnation);
        let verifier = self.verifier_mut(mode)?;
        let before = *verifier.runtime();
        let verdict = verifier.verify(now);
        self.telemetry
            .heartbeat(&self.changefeed, node, &before, &verdict, mode, now);
        let heartbeat = ChecksumHeartbeat {
            node,
            incarnation,
            mode,
            seq: verdict.heartbeat_seq,
            state: verdict.state,
            state_seq: verdict.state_seq,
            watermark: (verdict.carries_watermark
                || self.watermark_policy == WatermarkPolicy::Always)
                .then_some(watermark),
            verified_against: verdict.verified_against,
            actual: Some(verdict.actual),
        };
        Some((heartbeat, verdict))
    }
}
