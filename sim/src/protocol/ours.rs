//! This project's protocol, as the library implements it ([`dispatcher_checksum::protocol`]):
//! heartbeats numbered per node process and carrying the version they were verified against,
//! nodes that fence older maintainers by epoch, a gate that needs MATCH on the latest update
//! (or, explained, a mismatch its operators in flight account for), and a monotone checkpoint.
//! The simulator adds nothing to its rules; the planted bugs that sabotage it are applied here.

use super::{GateInputs, HeartbeatInput, MaintainerProtocol, NodeProtocol};
use crate::config::{GateKind, SimConfig};
use crate::maintainer::CheckpointReport;
use crate::node::{Heartbeat, HeartbeatBody, MaintainerRef};
use crate::planted::{self, PlantedBug};
use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, CheckpointRule, ChecksumAck, ChecksumHeartbeat, ChecksumState,
    ChecksumUpdate, ExpectedChecksum, ExpectedSetTracker, ExpectedVersion, GateDecision,
    IncrementalActualSet, MaintainerChecksums, Mode, NodeChecksums, NodeId, TrackerConfig,
    VerifierConfig, WatermarkPolicy,
};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::collections::BTreeMap;
use std::time::Duration;

/// Our node side: the library's [`NodeChecksums`].
#[derive(Clone, Debug)]
pub struct OursNode {
    checksums: NodeChecksums,
}

impl OursNode {
    /// A fresh node process (`incarnation`) that follows no maintainer yet.
    pub fn new(id: NodeId, incarnation: u64, redo: bool, watermark_always: bool) -> OursNode {
        let policy = if watermark_always {
            WatermarkPolicy::Always
        } else {
            WatermarkPolicy::OnlyAtMatch
        };
        OursNode {
            checksums: NodeChecksums::new(id, incarnation, redo, VerifierConfig::default())
                .with_watermark_policy(policy),
        }
    }
}

impl NodeProtocol for OursNode {
    fn actual_set_mut(&mut self, mode: Mode) -> Option<&mut IncrementalActualSet> {
        Some(self.checksums.verifier_mut(mode)?.actual_set_mut())
    }

    fn actual_fingerprint(&self, mode: Mode) -> Option<Fingerprint> {
        Some(
            self.checksums
                .verifier(mode)?
                .actual_set()
                .actual_fingerprint(),
        )
    }

    fn expected(&self, mode: Mode) -> Option<ExpectedChecksum> {
        Some(*self.checksums.verifier(mode)?.expected())
    }

    /// Commands of a maintainer older than the one followed are dropped (epochs grow with every
    /// maintainer).
    fn fences(&self, from: MaintainerRef) -> bool {
        self.checksums
            .maintainer_epoch()
            .is_some_and(|followed| from.epoch < followed)
    }

    fn bootstrap(&mut self, from: MaintainerRef, planted_bug: PlantedBug) -> bool {
        let followed = self.checksums.maintainer_epoch();
        if planted_bug.resets_on_every_bootstrap() {
            for mode in Mode::ALL {
                if let Some(verifier) = self.checksums.verifier_mut(mode) {
                    verifier.reset();
                }
            }
        }
        self.checksums.maintainer_changed(from.epoch);
        followed.is_none_or(|epoch| from.epoch >= epoch)
    }

    fn update(
        &mut self,
        _node: (NodeId, u64),
        _from: MaintainerRef,
        update: &ChecksumUpdate,
    ) -> Option<(ChecksumAck, bool)> {
        let before = self.checksums.maintainer_epoch();
        let ack = self.checksums.apply_update(update)?;
        Some((ack, before != self.checksums.maintainer_epoch()))
    }

    fn heartbeat(
        &mut self,
        input: HeartbeatInput<'_>,
    ) -> (HeartbeatBody, Vec<(Mode, ChecksumState)>) {
        let mut beats = Vec::new();
        let mut verdicts = Vec::new();
        for (index, (mode, watermark)) in input.watermarks.iter().enumerate() {
            let expected_count = self
                .checksums
                .verifier(*mode)
                .map(|v| v.expected())
                .filter(|e| e.initialized)
                .map(|e| e.fingerprint.count);
            let Some((mut heartbeat, _)) = self.checksums.heartbeat(*mode, *watermark, input.now)
            else {
                continue;
            };
            if input.match_on_equal_counts && expected_count == Some(input.counts[index]) {
                heartbeat.state = ChecksumState::Match;
                heartbeat.watermark = Some(*watermark);
            }
            verdicts.push((*mode, heartbeat.state));
            beats.push(heartbeat);
        }
        let body = HeartbeatBody::Ours {
            checksums: beats,
            statuses: input.statuses,
        };
        (body, verdicts)
    }

    fn boxed_clone(&self) -> Box<dyn NodeProtocol> {
        Box::new(self.clone())
    }
}

/// Our maintainer side: the library's [`MaintainerChecksums`] (trackers, gate and monotone
/// checkpoint in one).
#[derive(Clone, Debug)]
pub struct OursMaintainer {
    checksums: MaintainerChecksums,
    /// The planted bug `GateKeepsMaxWatermarkWithinStateSeq`: the old record rule's kept
    /// reports and the seqs it feeds the real gate with.
    planted: BTreeMap<(NodeId, Mode), (ChecksumHeartbeat, u64)>,
}

impl OursMaintainer {
    /// A maintainer of `changefeed` whose checkpoint starts at the persisted one (ours gates
    /// every mode with one checkpoint: the lowest).
    pub fn new(config: &SimConfig, changefeed: &ChangefeedId, persisted: [u64; 2]) -> Self {
        let rule = match config.gate {
            GateKind::Explained => CheckpointRule::Explained,
            _ => CheckpointRule::Verified,
        };
        let tracker_config = TrackerConfig {
            resend_interval: Duration::from_millis(config.timing.resend_ms),
            ..TrackerConfig::default()
        };
        let mut checksums =
            MaintainerChecksums::new(changefeed.clone(), config.redo, tracker_config)
                .with_rule(rule);
        let floor = if config.redo {
            persisted[0].min(persisted[1])
        } else {
            persisted[0]
        };
        checksums.set_checkpoint(floor);
        OursMaintainer {
            checksums,
            planted: BTreeMap::new(),
        }
    }

    /// Without a checksum gate: every node with bound spans must have sent a watermark; its
    /// newest heartbeat's (by the heartbeat order) counts, whatever the state.
    fn ungated_candidate(&self, inputs: &GateInputs<'_>) -> Option<u64> {
        let mut low: Option<u64> = None;
        for node in inputs.members {
            for mode in inputs.modes {
                if inputs.spans.bound_spans(*node, *mode) == 0 {
                    continue;
                }
                match self
                    .checksums
                    .gate()
                    .report(*node, *mode)
                    .and_then(|r| r.watermark)
                {
                    Some(w) => low = Some(low.map_or(w, |l| l.min(w))),
                    None => return None,
                }
            }
        }
        let floor = inputs.combined_floor();
        match low {
            Some(low) => Some(floor.map_or(low, |f| f.min(low))),
            None => floor,
        }
    }
}

impl MaintainerProtocol for OursMaintainer {
    fn tracker(&self, mode: Mode) -> Option<&ExpectedSetTracker> {
        self.checksums.tracker(mode)
    }

    fn tracker_mut(&mut self, mode: Mode) -> Option<&mut ExpectedSetTracker> {
        self.checksums.tracker_mut(mode)
    }

    fn trackers_mut(&mut self) -> Vec<&mut ExpectedSetTracker> {
        self.checksums.trackers_mut().collect()
    }

    fn drop_expected(&mut self, mode: Mode, _node: NodeId, id: DispatcherId) {
        if let Some(tracker) = self.checksums.tracker_mut(mode) {
            tracker.remove_ids(&[id]);
        }
    }

    fn drops_by_id(&self) -> bool {
        true
    }

    fn knows_incarnations(&self) -> bool {
        true
    }

    fn node_removed(&mut self, node: NodeId) {
        self.checksums.remove_nodes(&[node]);
        self.planted.retain(|(n, _), _| *n != node);
    }

    fn ack(&mut self, ack: ChecksumAck) {
        self.checksums.handle_ack(ack);
    }

    fn observe(&mut self, heartbeat: &Heartbeat, now: u64, _modes: &[Mode], bug: PlantedBug) {
        let HeartbeatBody::Ours {
            checksums: beats, ..
        } = &heartbeat.body
        else {
            return;
        };
        let time = Duration::from_millis(now);
        for beat in beats {
            let latest = self.checksums.tracker(beat.mode).map(|t| ExpectedVersion {
                epoch: t.epoch(),
                seq: t.seq(beat.node).unwrap_or(0),
            });
            let beat = planted::ours_heartbeat_to_gate(bug, *beat, latest, &mut self.planted);
            self.checksums.observe_heartbeat(beat, time);
        }
    }

    fn checkpoint_step(
        &mut self,
        inputs: &GateInputs<'_>,
        reported: &mut [Option<u64>; 2],
    ) -> CheckpointReport {
        let combined_floor = inputs.combined_floor();
        let no_guard = !inputs.planted_bug.guards_the_checkpoint();
        let redo = inputs.modes.contains(&Mode::Redo);
        let (decision, candidate) = match inputs.gate {
            GateKind::Plain | GateKind::Explained => {
                let step = self.checksums.advance_checkpoint(combined_floor);
                if no_guard {
                    if let Some(candidate) = candidate_of(step.decision, combined_floor) {
                        *reported = [Some(candidate), redo.then_some(candidate)];
                        return report(step.decision, *reported);
                    }
                }
                (step.decision, step.checkpoint)
            }
            GateKind::Contract => {
                let decision = self.checksums.decide();
                let candidate = candidate_of(decision, combined_floor);
                (decision, guard(reported[0], candidate, no_guard))
            }
            GateKind::None => (
                GateDecision::NothingRequired,
                guard(reported[0], self.ungated_candidate(inputs), no_guard),
            ),
        };
        let value = candidate.or(reported[0]);
        *reported = [value, redo.then_some(value).flatten()];
        report(decision, *reported)
    }

    fn explain_gate(&self, _inputs: &GateInputs<'_>) -> Vec<String> {
        vec![self.checksums.decide_by_rule().to_string()]
    }

    fn requires(&self, node: NodeId, mode: Mode, _inputs: &GateInputs<'_>) -> bool {
        self.checksums
            .tracker(mode)
            .and_then(|t| t.seq(node))
            .is_some_and(|s| s > 0)
    }

    fn needs_match_on_latest(&self) -> bool {
        true
    }

    /// Ours gates every mode with one checkpoint.
    fn judged_with(&self, _mode: Mode, modes: &[Mode]) -> Vec<Mode> {
        modes.to_vec()
    }

    fn gates_changefeed(&self, _mode: Mode) -> bool {
        true
    }

    fn boxed_clone(&self) -> Box<dyn MaintainerProtocol> {
        Box::new(self.clone())
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

/// The monotone guard (taken away by the planted bug `NoMonotoneGuard`).
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
