//! TiCDC's dispatcher-set checksum protocol as its pull request 3782 writes it, modelled from
//! reading it (not from its code): the node side's accept, reset and ack rules and its
//! heartbeat fields, and the maintainer side's state and watermark stores and checkpoint gate.
//! The expected-set bookkeeping (seqs, acks, resends) is the same as ours, so the reference
//! maintainer uses the library's `ExpectedSetTracker`, and the node side the library's
//! `DispatcherSetVerifier`; what differs is modelled here.
//!
//! Node ([`RefNode`]):
//! - it follows the maintainer that bootstrapped it last, whatever its epoch, and resets its
//!   verifiers only when that (maintainer node, epoch) pair changes;
//! - it takes an update only from the maintainer it follows with exactly its epoch, and then
//!   always acknowledges it, even one it ignored as older (same epoch, lower seq);
//! - its heartbeat carries `checksumState` and `checksumStateSeq` per mode (the seq goes up when
//!   the state changes) and the watermark, withheld unless MATCH, whose `seq` is the node's
//!   dispatcher-map seq (raised when a dispatcher is created, not when one goes away).
//!
//! Maintainer ([`RefMaintainer`]: the library's trackers, and [`RefGate`]):
//! - per node and mode it keeps the (state, seq) with the highest seq, an equal seq overwriting;
//! - per node and mode it keeps a watermark: one with a higher `seq` replaces the kept one even
//!   if its checkpoint is lower, one with the same seq only if its checkpoint is higher; a
//!   withheld watermark leaves the kept one in place;
//! - the checkpoint advances only if every node it knows that has a bound span of the mode, plus
//!   its own node, is MATCH with a kept watermark, to the lowest of those watermarks and the
//!   scheduler's floors; only the default mode gates the changefeed checkpoint (the redo mode
//!   gates the redo checkpoint); nothing stops it from going backwards.

use super::{GateInputs, HeartbeatInput, MaintainerProtocol, NodeProtocol};
use crate::config::{GateKind, SimConfig};
use crate::maintainer::CheckpointReport;
use crate::node::{Heartbeat, HeartbeatBody, MaintainerRef};
use crate::planted::{self, PlantedBug};
use crate::zoo::ZooBug;
use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, ChecksumAck, ChecksumState, ChecksumUpdate, DispatcherSetVerifier,
    ExpectedChecksum, ExpectedSetTracker, IncrementalActualSet, Mode, NodeId, TrackerConfig,
    VerifierConfig,
};
use dispatcher_checksum::wire::{ChangefeedIdMessage, HeartBeatRequest, Watermark};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The reference node's checksum state.
#[derive(Clone, Debug)]
pub struct RefNode {
    maintainer: Option<(NodeId, u64)>,
    default: DispatcherSetVerifier<IncrementalActualSet>,
    redo: Option<DispatcherSetVerifier<IncrementalActualSet>>,
}

impl RefNode {
    /// A node that follows nobody yet (the verifiers start UNINITIALIZED).
    pub fn new(redo: bool) -> RefNode {
        let config = VerifierConfig::default();
        RefNode {
            maintainer: None,
            default: DispatcherSetVerifier::new(Mode::Default, config),
            redo: redo.then(|| DispatcherSetVerifier::new(Mode::Redo, config)),
        }
    }

    fn verifier(&self, mode: Mode) -> Option<&DispatcherSetVerifier<IncrementalActualSet>> {
        match mode {
            Mode::Default => Some(&self.default),
            Mode::Redo => self.redo.as_ref(),
        }
    }

    fn verifier_mut(
        &mut self,
        mode: Mode,
    ) -> Option<&mut DispatcherSetVerifier<IncrementalActualSet>> {
        match mode {
            Mode::Default => Some(&mut self.default),
            Mode::Redo => self.redo.as_mut(),
        }
    }
}

impl NodeProtocol for RefNode {
    fn actual_set_mut(&mut self, mode: Mode) -> Option<&mut IncrementalActualSet> {
        Some(self.verifier_mut(mode)?.actual_set_mut())
    }

    fn actual_fingerprint(&self, mode: Mode) -> Option<Fingerprint> {
        Some(self.verifier(mode)?.actual_set().actual_fingerprint())
    }

    fn expected(&self, mode: Mode) -> Option<ExpectedChecksum> {
        self.verifier(mode).map(|verifier| *verifier.expected())
    }

    /// The reference node takes scheduling commands from any maintainer.
    fn fences(&self, _from: MaintainerRef) -> bool {
        false
    }

    /// Followed whatever the epoch; the verifiers reset only if the (node, epoch) pair changed.
    fn bootstrap(&mut self, from: MaintainerRef, planted_bug: PlantedBug) -> bool {
        let changed = self.maintainer != Some((from.host, from.epoch));
        if changed || planted_bug.resets_on_every_bootstrap() {
            self.default.reset();
            if let Some(redo) = &mut self.redo {
                redo.reset();
            }
        }
        self.maintainer = Some((from.host, from.epoch));
        true
    }

    /// Dropped (no ack) unless from the maintainer followed; otherwise applied and always
    /// acknowledged.
    fn update(
        &mut self,
        (node, incarnation): (NodeId, u64),
        from: MaintainerRef,
        update: &ChecksumUpdate,
    ) -> Option<(ChecksumAck, bool)> {
        if self.maintainer != Some((from.host, from.epoch)) {
            return None;
        }
        let verifier = self.verifier_mut(update.mode)?;
        verifier.apply_update(update.epoch, update.seq, update.fingerprint);
        let ack = ChecksumAck {
            node,
            incarnation,
            epoch: update.epoch,
            mode: update.mode,
            seq: update.seq,
        };
        Some((ack, false))
    }

    /// Each mode verified, the watermark (with the map seq) only at MATCH unless told to send it
    /// always.
    fn heartbeat(
        &mut self,
        input: HeartbeatInput<'_>,
    ) -> (HeartbeatBody, Vec<(Mode, ChecksumState)>) {
        let mut request = HeartBeatRequest {
            changefeed_id: Some(ChangefeedIdMessage::from(input.changefeed)),
            statuses: input.statuses,
            compelete_status: input.complete,
            ..HeartBeatRequest::default()
        };
        for (index, (mode, checkpoint)) in input.watermarks.iter().enumerate() {
            let Some(verifier) = self.verifier_mut(*mode) else {
                continue;
            };
            let expected = *verifier.expected();
            let verdict = verifier.verify(input.now);
            let mut state = verdict.state;
            if input.match_on_equal_counts
                && expected.initialized
                && expected.fingerprint.count == input.counts[index]
            {
                state = ChecksumState::Match;
            }
            let watermark =
                (state == ChecksumState::Match || input.watermark_always).then_some(Watermark {
                    checkpoint_ts: *checkpoint,
                    resolved_ts: *checkpoint,
                    seq: input.map_seq[*mode as usize],
                    last_synced_ts: 0,
                });
            match mode {
                Mode::Default => {
                    request.checksum_state = state.wire();
                    request.checksum_state_seq = verdict.state_seq;
                    request.watermark = watermark;
                }
                Mode::Redo => {
                    request.redo_checksum_state = state.wire();
                    request.redo_checksum_state_seq = verdict.state_seq;
                    request.redo_watermark = watermark;
                }
            }
        }
        let state = |wire: i32| ChecksumState::try_from(wire).unwrap_or_default();
        let verdicts = vec![
            (Mode::Default, state(request.checksum_state)),
            (Mode::Redo, state(request.redo_checksum_state)),
        ];
        (HeartbeatBody::Reference(Box::new(request)), verdicts)
    }

    fn boxed_clone(&self) -> Box<dyn NodeProtocol> {
        Box::new(self.clone())
    }
}

/// The reference maintainer's per-node stores and its gate.
#[derive(Clone, Debug, Default)]
pub struct RefGate {
    states: BTreeMap<(NodeId, Mode), (ChecksumState, u64)>,
    watermarks: BTreeMap<(NodeId, Mode), Watermark>,
    zoo: ZooBug,
}

/// Why the reference gate holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefHold {
    /// The node's kept state is not MATCH (or there is none).
    NotMatch(NodeId, Option<ChecksumState>),
    /// MATCH, but no watermark kept.
    NoWatermark(NodeId),
}

impl RefGate {
    /// A gate that heard nothing.
    pub fn new() -> RefGate {
        RefGate::default()
    }

    /// Takes one heartbeat of `node` (`redo`: whether the redo mode is enabled).
    pub fn observe(&mut self, node: NodeId, request: &HeartBeatRequest, redo: bool) {
        let mut modes = vec![(
            Mode::Default,
            request.checksum_state,
            request.checksum_state_seq,
            request.watermark,
        )];
        if redo {
            modes.push((
                Mode::Redo,
                request.redo_checksum_state,
                request.redo_checksum_state_seq,
                request.redo_watermark,
            ));
        }
        for (mode, state, seq, watermark) in modes {
            let state = ChecksumState::try_from(state).unwrap_or_default();
            let kept = self.states.entry((node, mode)).or_insert((state, seq));
            if seq >= kept.1 {
                *kept = (state, seq);
            }
            if let Some(watermark) = watermark {
                self.observe_watermark(node, mode, watermark);
            }
        }
    }

    /// The `Watermark.seq` rule (`maintainer/maintainer.go` `onHeartbeatRequest`, since
    /// #2945): a higher seq replaces, an equal seq only with a higher checkpoint; the zoo's
    /// #2943 takes the pre-fix rule ([`ZooBug::accepts_watermark`]).
    pub fn observe_watermark(&mut self, node: NodeId, mode: Mode, watermark: Watermark) {
        match self.watermarks.get_mut(&(node, mode)) {
            None => {
                self.watermarks.insert((node, mode), watermark);
            }
            Some(kept)
                if self.zoo.accepts_watermark(
                    kept.seq,
                    kept.checkpoint_ts,
                    watermark.seq,
                    watermark.checkpoint_ts,
                ) =>
            {
                *kept = watermark;
            }
            Some(_) => {}
        }
    }

    /// The kept state of (node, mode).
    pub fn state(&self, node: NodeId, mode: Mode) -> Option<ChecksumState> {
        self.states.get(&(node, mode)).map(|(state, _)| *state)
    }

    /// The kept watermark of (node, mode).
    pub fn watermark(&self, node: NodeId, mode: Mode) -> Option<Watermark> {
        self.watermarks.get(&(node, mode)).copied()
    }

    /// Forgets `node` (it left, or restarted and is bootstrapped anew).
    pub fn remove_node(&mut self, node: NodeId) {
        self.states.retain(|(n, _), _| *n != node);
        self.watermarks.retain(|(n, _), _| *n != node);
    }

    /// The gate for `mode` over `required` nodes: the lowest kept watermark if every one is
    /// MATCH with a watermark, else the first that holds (in node order).
    pub fn decide(&self, mode: Mode, required: &BTreeSet<NodeId>) -> Result<Option<u64>, RefHold> {
        let mut low: Option<u64> = None;
        for &node in required {
            match self.state(node, mode) {
                Some(ChecksumState::Match) => {}
                other => return Err(RefHold::NotMatch(node, other)),
            }
            let Some(watermark) = self.watermark(node, mode) else {
                return Err(RefHold::NoWatermark(node));
            };
            low = Some(low.map_or(watermark.checkpoint_ts, |l| l.min(watermark.checkpoint_ts)));
        }
        Ok(low)
    }
}

/// The reference maintainer's side: a tracker per mode (the expected-set bookkeeping is the
/// same as ours) and its stores and gate.
#[derive(Clone, Debug)]
pub struct RefMaintainer {
    /// Per mode (index = mode number).
    trackers: Box<[Option<ExpectedSetTracker>; 2]>,
    gate: RefGate,
}

impl RefMaintainer {
    /// A maintainer of `changefeed` that heard nothing.
    pub fn new(config: &SimConfig, changefeed: &ChangefeedId) -> RefMaintainer {
        let tracker_config = TrackerConfig {
            resend_interval: Duration::from_millis(config.timing.resend_ms),
            ..TrackerConfig::default()
        };
        RefMaintainer {
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
            gate: RefGate {
                zoo: config.zoo,
                ..RefGate::new()
            },
        }
    }

    /// The nodes whose verdicts the gate of `mode` requires: every member with a bound span of
    /// the mode, and the maintainer's own node.
    fn required(&self, mode: Mode, inputs: &GateInputs<'_>) -> BTreeSet<NodeId> {
        inputs
            .members
            .iter()
            .copied()
            .filter(|n| self.requires(*n, mode, inputs))
            .collect()
    }
}

impl MaintainerProtocol for RefMaintainer {
    fn tracker(&self, mode: Mode) -> Option<&ExpectedSetTracker> {
        self.trackers[mode as usize].as_ref()
    }

    fn tracker_mut(&mut self, mode: Mode) -> Option<&mut ExpectedSetTracker> {
        self.trackers[mode as usize].as_mut()
    }

    fn trackers_mut(&mut self) -> Vec<&mut ExpectedSetTracker> {
        self.trackers.iter_mut().flatten().collect()
    }

    fn drop_expected(&mut self, mode: Mode, node: NodeId, id: DispatcherId) {
        if let Some(tracker) = self.tracker_mut(mode) {
            tracker.apply_delta(node, &[], &[id]);
        }
    }

    fn drops_by_id(&self) -> bool {
        false
    }

    /// The reference's heartbeat carries no process incarnation.
    fn knows_incarnations(&self) -> bool {
        false
    }

    fn node_removed(&mut self, node: NodeId) {
        for tracker in self.trackers.iter_mut().flatten() {
            tracker.remove_nodes(&[node]);
        }
        self.gate.remove_node(node);
    }

    fn ack(&mut self, ack: ChecksumAck) {
        if let Some(tracker) = self.trackers[ack.mode as usize].as_mut() {
            tracker.handle_ack(ack);
        }
    }

    fn observe(&mut self, heartbeat: &Heartbeat, _now: u64, modes: &[Mode], bug: PlantedBug) {
        let HeartbeatBody::Reference(request) = &heartbeat.body else {
            return;
        };
        let request = planted::reference_heartbeat_to_gate(bug, request);
        self.gate
            .observe(heartbeat.node, &request, modes.contains(&Mode::Redo));
    }

    /// Each mode on its own: the kept watermarks of the required nodes (all MATCH unless no gate)
    /// and the floor; no monotone guard.
    fn checkpoint_step(
        &mut self,
        inputs: &GateInputs<'_>,
        reported: &mut [Option<u64>; 2],
    ) -> CheckpointReport {
        let mut held = false;
        let mut open = true;
        for &(mode, floor) in inputs.floors {
            let required = self.required(mode, inputs);
            let decided = match inputs.gate {
                // No checksum: the kept watermarks (by the Watermark.seq rule) of every
                // required node, whatever their state.
                GateKind::None => required
                    .iter()
                    .map(|n| {
                        self.gate
                            .watermark(*n, mode)
                            .map(|w| w.checkpoint_ts)
                            .ok_or(())
                    })
                    .collect::<Result<Vec<u64>, ()>>()
                    .map(|marks| marks.into_iter().min())
                    .map_err(|_| RefHold::NoWatermark(inputs.host)),
                _ => self.gate.decide(mode, &required),
            };
            let candidate = match decided {
                Ok(Some(low)) => Some(floor.map_or(low, |f| f.min(low))),
                Ok(None) => floor,
                Err(_) => {
                    held = inputs.gate != GateKind::None;
                    open = false;
                    None
                }
            };
            if let Some(candidate) = candidate {
                reported[mode as usize] = Some(candidate);
            }
        }
        CheckpointReport {
            checkpoint: *reported,
            held_by_gate: held,
            gate_open: open,
        }
    }

    fn explain_gate(&self, inputs: &GateInputs<'_>) -> Vec<String> {
        let mut parts = Vec::new();
        for mode in inputs.modes {
            for node in self.required(*mode, inputs) {
                let watermark = self
                    .gate
                    .watermark(node, *mode)
                    .map(|w| (w.checkpoint_ts, w.seq));
                parts.push(format!(
                    "{node} ({mode}) {:?} watermark {watermark:?}",
                    self.gate.state(node, *mode)
                ));
            }
        }
        parts
    }

    fn requires(&self, node: NodeId, mode: Mode, inputs: &GateInputs<'_>) -> bool {
        node == inputs.host || inputs.spans.bound_spans(node, mode) > 0
    }

    /// Any MATCH passes: the state store does not say what it was verified against.
    fn needs_match_on_latest(&self) -> bool {
        false
    }

    /// Each mode gates its own checkpoint.
    fn judged_with(&self, mode: Mode, _modes: &[Mode]) -> Vec<Mode> {
        vec![mode]
    }

    /// Only the default mode gates the changefeed checkpoint (the redo mode gates the redo
    /// checkpoint).
    fn gates_changefeed(&self, mode: Mode) -> bool {
        mode == Mode::Default
    }

    fn boxed_clone(&self) -> Box<dyn MaintainerProtocol> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::MaintainerRef;

    fn from(host: u32, epoch: u64) -> MaintainerRef {
        MaintainerRef {
            instance: 0,
            host: NodeId(host),
            epoch,
        }
    }

    fn watermark(checkpoint_ts: u64, seq: u64) -> Watermark {
        Watermark {
            checkpoint_ts,
            resolved_ts: checkpoint_ts,
            seq,
            last_synced_ts: 0,
        }
    }

    #[test]
    fn the_watermark_seq_rule_takes_a_higher_seq_even_when_lower() {
        let mut gate = RefGate::new();
        let node = NodeId(1);
        gate.observe_watermark(node, Mode::Default, watermark(100, 3));
        gate.observe_watermark(node, Mode::Default, watermark(90, 3));
        assert_eq!(gate.watermark(node, Mode::Default), Some(watermark(100, 3)));
        gate.observe_watermark(node, Mode::Default, watermark(50, 4));
        assert_eq!(gate.watermark(node, Mode::Default), Some(watermark(50, 4)));
        gate.observe_watermark(node, Mode::Default, watermark(200, 2));
        assert_eq!(gate.watermark(node, Mode::Default), Some(watermark(50, 4)));
    }

    #[test]
    fn the_state_store_keeps_the_highest_seq_and_an_equal_seq_overwrites() {
        let mut gate = RefGate::new();
        let node = NodeId(2);
        let beat =
            |state: ChecksumState, seq: u64, watermark: Option<Watermark>| HeartBeatRequest {
                checksum_state: state.wire(),
                checksum_state_seq: seq,
                watermark,
                ..HeartBeatRequest::default()
            };
        gate.observe(
            node,
            &beat(ChecksumState::Match, 5, Some(watermark(10, 1))),
            false,
        );
        gate.observe(node, &beat(ChecksumState::Mismatch, 4, None), false);
        assert_eq!(gate.state(node, Mode::Default), Some(ChecksumState::Match));
        gate.observe(node, &beat(ChecksumState::Mismatch, 5, None), false);
        assert_eq!(
            gate.state(node, Mode::Default),
            Some(ChecksumState::Mismatch)
        );
        assert_eq!(
            gate.watermark(node, Mode::Default),
            Some(watermark(10, 1)),
            "a withheld watermark leaves the kept one"
        );
        let required: BTreeSet<NodeId> = [node].into_iter().collect();
        assert_eq!(
            gate.decide(Mode::Default, &required),
            Err(RefHold::NotMatch(node, Some(ChecksumState::Mismatch)))
        );
        gate.observe(node, &beat(ChecksumState::Match, 6, None), false);
        assert_eq!(gate.decide(Mode::Default, &required), Ok(Some(10)));
    }

    #[test]
    fn a_node_takes_updates_only_from_the_maintainer_it_follows_and_acks_stale_ones() {
        let mut node = RefNode::new(false);
        let update = |epoch, seq| ChecksumUpdate {
            node: NodeId(3),
            epoch,
            mode: Mode::Default,
            seq,
            fingerprint: Fingerprint::EMPTY,
        };
        assert_eq!(node.update((NodeId(3), 0), from(9, 1), &update(1, 1)), None);
        node.bootstrap(from(9, 1), PlantedBug::None);
        assert!(node
            .update((NodeId(3), 0), from(9, 1), &update(1, 5))
            .is_some());
        let stale = node.update((NodeId(3), 0), from(9, 1), &update(1, 2));
        assert_eq!(
            stale.map(|(ack, _)| ack.seq),
            Some(2),
            "acked although ignored"
        );
        assert_eq!(node.expected(Mode::Default).map(|e| e.seq), Some(5));
        // The same maintainer and epoch again: no reset, the old value stays.
        node.bootstrap(from(9, 1), PlantedBug::None);
        assert_eq!(node.expected(Mode::Default).map(|e| e.seq), Some(5));
        // A lower epoch from another node is followed and resets.
        node.bootstrap(from(8, 0), PlantedBug::None);
        assert!(!node.expected(Mode::Default).unwrap().initialized);
    }
}
