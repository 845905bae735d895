//! Planted bugs: deliberate defects that prove each check can fail. This is their one
//! definition, for the simulator, its tests and `dcsum simulate --plant-bug` alike: the name the
//! command line takes, what the bug does, and the check that must catch it.
//!
//! A run carries its bug in [`crate::SimConfig::planted_bug`]. What each bug does is defined
//! here and nowhere else: the code under test asks its bug at a few hook points (the methods
//! under "Hook points" below, whose answer for `None` is the correct behaviour), and the
//! gate-side tampering, which rewrites what the maintainer's gate is fed, is here too.

use crate::checks::ViolationKind;
use dispatcher_checksum::protocol::{ChecksumHeartbeat, ChecksumState, Mode, NodeId};
use dispatcher_checksum::wire::HeartBeatRequest;
use dispatcher_checksum::ComponentState;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A deliberate bug, to prove the checks can fail (a normal run uses `None`). Each names the
/// check that must catch it ([`PlantedBug::caught_by`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlantedBug {
    /// No bug.
    #[default]
    None,
    /// The gate merges heartbeats of one `state_seq` field by field, keeping the highest
    /// watermark and the highest version (ours before issue 9): `checkpoint-ahead`.
    GateKeepsMaxWatermarkWithinStateSeq,
    /// The maintainer treats a MISMATCH heartbeat as MATCH: `gate-opened-on-unequal-sets`.
    GateTrustsMismatch,
    /// The checkpoint ignores the scheduler's floors (in-flight operators, absent spans):
    /// `checkpoint-ahead`.
    IgnoreFloors,
    /// Nothing keeps the maximum: the maintainer (ours) takes the candidate checkpoint even when
    /// it is lower than the last one, and the coordinator persists it as it comes:
    /// `checkpoint-regressed`.
    NoMonotoneGuard,
    /// Nodes do not tell the incremental set when a dispatcher becomes Working: `equivalence`.
    IncrementalMissesWorking,
    /// A node reports MATCH whenever its actual count equals the expected count:
    /// `match-truthful`.
    MatchOnEqualCounts,
    /// The maintainer forgets to apply a remove operator's delta to its tracker (its own record
    /// of what it expects still changes): `tracker-oracle`.
    TrackerMissesRemove,
    /// The maintainer never resends an unacknowledged update: `liveness-no-match` (under loss).
    NoResend,
    /// Nodes reset their verifiers on every bootstrap, even from the maintainer they follow:
    /// `liveness-no-match`.
    ResetOnEveryBootstrap,
    /// A round the gate holds is reported as the `u64::MAX` "nothing contributed" minimum
    /// instead of being skipped (the shape of TiCDC #4703): `checkpoint-sentinel`.
    ReportsSentinelWhenHeld,
    /// Nodes start a created dispatcher at ts 0, whatever the Create's start ts:
    /// `start-below-persisted`.
    CreateIgnoresStartTs,
    /// Nodes answer a Remove with Stopped at once and keep the dispatcher running, so a move
    /// creates the span on its destination while the origin still runs it: `two-working`.
    StopsWithoutClosing,
}

impl PlantedBug {
    /// Every planted bug, in the order above (without `None`).
    pub const ALL: [PlantedBug; 12] = [
        PlantedBug::GateKeepsMaxWatermarkWithinStateSeq,
        PlantedBug::GateTrustsMismatch,
        PlantedBug::IgnoreFloors,
        PlantedBug::NoMonotoneGuard,
        PlantedBug::IncrementalMissesWorking,
        PlantedBug::MatchOnEqualCounts,
        PlantedBug::TrackerMissesRemove,
        PlantedBug::NoResend,
        PlantedBug::ResetOnEveryBootstrap,
        PlantedBug::ReportsSentinelWhenHeld,
        PlantedBug::CreateIgnoresStartTs,
        PlantedBug::StopsWithoutClosing,
    ];

    /// The kebab-case name `--plant-bug` takes.
    pub const fn name(self) -> &'static str {
        match self {
            PlantedBug::None => "none",
            PlantedBug::GateKeepsMaxWatermarkWithinStateSeq => {
                "gate-keeps-max-watermark-within-state-seq"
            }
            PlantedBug::GateTrustsMismatch => "gate-trusts-mismatch",
            PlantedBug::IgnoreFloors => "ignore-floors",
            PlantedBug::NoMonotoneGuard => "no-monotone-guard",
            PlantedBug::IncrementalMissesWorking => "incremental-misses-working",
            PlantedBug::MatchOnEqualCounts => "match-on-equal-counts",
            PlantedBug::TrackerMissesRemove => "tracker-misses-remove",
            PlantedBug::NoResend => "no-resend",
            PlantedBug::ResetOnEveryBootstrap => "reset-on-every-bootstrap",
            PlantedBug::ReportsSentinelWhenHeld => "reports-sentinel-when-held",
            PlantedBug::CreateIgnoresStartTs => "create-ignores-start-ts",
            PlantedBug::StopsWithoutClosing => "stops-without-closing",
        }
    }

    /// The check that must catch it (`None` for no bug).
    pub const fn caught_by(self) -> Option<ViolationKind> {
        Some(match self {
            PlantedBug::None => return None,
            PlantedBug::GateKeepsMaxWatermarkWithinStateSeq | PlantedBug::IgnoreFloors => {
                ViolationKind::CheckpointAhead
            }
            PlantedBug::GateTrustsMismatch => ViolationKind::GateOpenedOnUnequalSets,
            PlantedBug::NoMonotoneGuard => ViolationKind::CheckpointRegressed,
            PlantedBug::IncrementalMissesWorking => ViolationKind::Equivalence,
            PlantedBug::MatchOnEqualCounts => ViolationKind::MatchTruthful,
            PlantedBug::TrackerMissesRemove => ViolationKind::TrackerOracle,
            PlantedBug::NoResend | PlantedBug::ResetOnEveryBootstrap => {
                ViolationKind::LivenessNoMatch
            }
            PlantedBug::ReportsSentinelWhenHeld => ViolationKind::CheckpointSentinel,
            PlantedBug::CreateIgnoresStartTs => ViolationKind::StartBelowPersisted,
            PlantedBug::StopsWithoutClosing => ViolationKind::TwoWorking,
        })
    }

    /// Whether a node must send its watermark whatever its verdict, so the planted gate has one
    /// to pass (the gate that trusts a MISMATCH needs the watermark a MISMATCH withholds).
    pub const fn needs_watermark_always(self) -> bool {
        matches!(self, PlantedBug::GateTrustsMismatch)
    }
}

/// Hook points: where the code under test asks its bug how one behaviour goes. For
/// [`PlantedBug::None`] each answers with the correct behaviour.
impl PlantedBug {
    /// Whether a node resets its verifiers on a bootstrap even when the protocol would not
    /// (`ResetOnEveryBootstrap`).
    pub fn resets_on_every_bootstrap(self) -> bool {
        self == PlantedBug::ResetOnEveryBootstrap
    }

    /// Whether a node tells its incremental actual set of a lifecycle change to `state`
    /// (`IncrementalMissesWorking` keeps a Working transition from it).
    pub fn tells_incremental_set(self, state: ComponentState, created: bool) -> bool {
        !(self == PlantedBug::IncrementalMissesWorking
            && state == ComponentState::Working
            && !created)
    }

    /// Whether a node says MATCH when its actual count equals the expected count
    /// (`MatchOnEqualCounts`).
    pub fn claims_match_on_equal_counts(self) -> bool {
        self == PlantedBug::MatchOnEqualCounts
    }

    /// Whether the maintainer's tracker takes a dropped table's ID out of the expected set
    /// (`TrackerMissesRemove` forgets to).
    pub fn tracker_drops_removed_tables(self) -> bool {
        self != PlantedBug::TrackerMissesRemove
    }

    /// Whether the maintainer resends unacknowledged updates (`NoResend` never does).
    pub fn resends(self) -> bool {
        self != PlantedBug::NoResend
    }

    /// The scheduler's floor as the checkpoint step sees it (`IgnoreFloors` hides it).
    pub fn floor(self, floor: Option<u64>) -> Option<u64> {
        if self == PlantedBug::IgnoreFloors {
            None
        } else {
            floor
        }
    }

    /// Whether the maintainer's checkpoint and the coordinator's persisted one keep their
    /// maximum (`NoMonotoneGuard` takes both guards away).
    pub fn guards_the_checkpoint(self) -> bool {
        self != PlantedBug::NoMonotoneGuard
    }

    /// What the maintainer reports of a round: `held` (by the gate) rounds report `u64::MAX`
    /// under `ReportsSentinelWhenHeld`; otherwise `checkpoint` as computed.
    pub fn reported_checkpoint(self, held: bool, checkpoint: Option<u64>) -> Option<u64> {
        if self == PlantedBug::ReportsSentinelWhenHeld && held {
            Some(u64::MAX)
        } else {
            checkpoint
        }
    }

    /// The ts a node starts a created dispatcher at, given the Create's `start_ts`
    /// (`CreateIgnoresStartTs` starts at 0).
    pub fn start_ts(self, start_ts: u64) -> u64 {
        if self == PlantedBug::CreateIgnoresStartTs {
            0
        } else {
            start_ts
        }
    }

    /// Whether a node closes a dispatcher it is told to remove (`StopsWithoutClosing` reports
    /// it Stopped and keeps it running).
    pub fn closes_on_remove(self) -> bool {
        self != PlantedBug::StopsWithoutClosing
    }
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PlantedBug {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PlantedBug::ALL
            .into_iter()
            .chain([PlantedBug::None])
            .find(|bug| bug.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = PlantedBug::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown planted bug {text:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What the maintainer's gate (ours) is fed of one node's checksum heartbeat under `bug`:
/// a MISMATCH rewritten as MATCH on the maintainer's latest version (`GateTrustsMismatch`), or
/// the old record rule's merged report (`GateKeepsMaxWatermarkWithinStateSeq`).
pub fn ours_heartbeat_to_gate(
    bug: PlantedBug,
    mut beat: ChecksumHeartbeat,
    latest: Option<dispatcher_checksum::protocol::ExpectedVersion>,
    kept: &mut BTreeMap<(NodeId, Mode), (ChecksumHeartbeat, u64)>,
) -> ChecksumHeartbeat {
    if bug == PlantedBug::GateTrustsMismatch && beat.state == ChecksumState::Mismatch {
        beat.state = ChecksumState::Match;
        beat.verified_against = latest.unwrap_or(beat.verified_against);
    }
    if bug == PlantedBug::GateKeepsMaxWatermarkWithinStateSeq {
        beat = old_record_rule(kept, beat);
    }
    beat
}

/// What the reference maintainer's stores are fed of one heartbeat under `bug`: a MISMATCH that
/// carries a watermark is taken as MATCH (`GateTrustsMismatch`).
pub fn reference_heartbeat_to_gate(
    bug: PlantedBug,
    request: &HeartBeatRequest,
) -> HeartBeatRequest {
    let mut request = request.clone();
    if bug == PlantedBug::GateTrustsMismatch {
        for (state, watermark) in [
            (&mut request.checksum_state, &request.watermark),
            (&mut request.redo_checksum_state, &request.redo_watermark),
        ] {
            if *state == ChecksumState::Mismatch.wire() && watermark.is_some() {
                *state = ChecksumState::Match.wire();
            }
        }
    }
    request
}

/// The old gate rule (before issue 9) replayed in front of the real gate: within one
/// `state_seq` the highest watermark and the highest version are kept, each on its own; the
/// merged report is fed to the gate as a new heartbeat.
fn old_record_rule(
    kept_reports: &mut BTreeMap<(NodeId, Mode), (ChecksumHeartbeat, u64)>,
    beat: ChecksumHeartbeat,
) -> ChecksumHeartbeat {
    let key = (beat.node, beat.mode);
    let merged = match kept_reports.get(&key) {
        Some((kept, _))
            if beat.incarnation == kept.incarnation && beat.state_seq < kept.state_seq =>
        {
            *kept
        }
        Some((kept, _))
            if beat.incarnation == kept.incarnation && beat.state_seq == kept.state_seq =>
        {
            ChecksumHeartbeat {
                state: beat.state,
                watermark: kept.watermark.max(beat.watermark),
                verified_against: kept.verified_against.max(beat.verified_against),
                ..beat
            }
        }
        _ => beat,
    };
    let counter = kept_reports.get(&key).map_or(0, |(_, c)| *c) + 1;
    kept_reports.insert(key, (merged, counter));
    ChecksumHeartbeat {
        seq: counter,
        ..merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_has_a_name_the_command_line_parses_and_a_check() {
        for bug in PlantedBug::ALL {
            assert_eq!(bug.name().parse::<PlantedBug>(), Ok(bug));
            assert!(bug.caught_by().is_some(), "{bug}");
        }
        let error = "nonsense".parse::<PlantedBug>().unwrap_err();
        assert!(error.contains("no-resend"), "{error}");
    }
}
