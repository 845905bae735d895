//! The maintainer's checkpoint gate: the changefeed's checkpoint may advance only when every
//! required (node, mode) reports MATCH and has reported a watermark; otherwise the gate holds and
//! names the (node, mode) that blocks it and why.
//!
//! Heartbeats may arrive out of order, twice, or from a node process that has since restarted:
//! per (node, mode) the gate keeps the **one heartbeat** with the highest
//! [`order`](ChecksumHeartbeat::order) `(incarnation, seq)` and ignores older and repeated ones.
//! Its state, version and watermark are kept together, never merged field by field with another
//! heartbeat's: a node's watermark is the minimum checkpoint over its dispatchers, so it goes
//! *down* when a dispatcher with an older checkpoint joins, and that can happen while the state
//! stays MATCH and `state_seq` stays put (the update that adds the dispatcher and its Working
//! transition both land between two heartbeats). Pairing the earlier, higher watermark with the
//! later version would let the checkpoint pass the new dispatcher's progress.
//!
//! The reference system orders its watermarks by `Watermark.seq`, which the node raises when it
//! creates a dispatcher, and within one seq keeps the higher checkpoint; it orders the checksum
//! state separately by `checksumStateSeq`. Numbering every heartbeat gives the same protection
//! without having to know which node events can lower the watermark, and keeps the state and the
//! watermark of one observation together, which two separately ordered fields cannot.
//!
//! Which (node, mode) pairs are required is the caller's choice. [`CheckpointGate::decide`] is the
//! issue's rule as stated (MATCH and a watermark). [`CheckpointGate::decide_versions`] also
//! requires each MATCH to have been computed against a given [`ExpectedVersion`] (the tracker's
//! epoch and the node's latest seq): a MATCH against an older update says nothing about the set
//! the maintainer expects now, and a heartbeat from before a failover says nothing about the new
//! maintainer's sets. That is the form to use for safety, and what
//! [`super::MaintainerChecksums::decide_verified`] does, over every tracked node in every enabled
//! mode (a node expected to run nothing must confirm it too).

use super::in_flight::{explains, Explanation};
use super::{ChecksumHeartbeat, ChecksumState, ExpectedVersion, Mode, NodeId};
use crate::{DispatcherId, Fingerprint};
use std::collections::BTreeMap;
use std::fmt;

/// The latest heartbeat the gate kept for one (node, mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeReport {
    /// The node process that sent it.
    pub incarnation: u64,
    /// Its heartbeat number.
    pub seq: u64,
    /// The reported state.
    pub state: ChecksumState,
    /// The state's sequence number.
    pub state_seq: u64,
    /// The watermark reported with it (`None` when the node withheld it).
    pub watermark: Option<u64>,
    /// The expected value the state was computed against.
    pub verified_against: ExpectedVersion,
    /// The node's actual fingerprint at the same instant, if the heartbeat carried it.
    pub actual: Option<Fingerprint>,
}

impl NodeReport {
    fn of(heartbeat: &ChecksumHeartbeat) -> NodeReport {
        NodeReport {
            incarnation: heartbeat.incarnation,
            seq: heartbeat.seq,
            state: heartbeat.state,
            state_seq: heartbeat.state_seq,
            watermark: heartbeat.watermark,
            verified_against: heartbeat.verified_against,
            actual: heartbeat.actual,
        }
    }

    /// The heartbeat order it was kept by.
    pub fn order(&self) -> (u64, u64) {
        (self.incarnation, self.seq)
    }
}

/// Why the gate holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldReason {
    /// Not MATCH on the latest version, and its actual fingerprint is not the settled expected
    /// set plus some of the IDs in flight on it (or it sent none, or too many are in flight).
    Unexplained {
        /// IDs in flight on the node.
        in_flight: usize,
        /// Whether the search was skipped because more than
        /// [`MAX_IN_FLIGHT`](super::in_flight::MAX_IN_FLIGHT) IDs are in flight.
        too_many: bool,
    },
    /// No heartbeat from this (node, mode) yet.
    NoHeartbeat,
    /// Its latest state is UNINITIALIZED or MISMATCH.
    NotMatch(ChecksumState),
    /// It reports MATCH but has not reported a watermark.
    NoWatermark,
    /// Its MATCH was not computed against the required expected value (an older update, or
    /// another epoch).
    Stale {
        /// What the kept heartbeat was computed against.
        reported: ExpectedVersion,
        /// What the gate requires.
        required: ExpectedVersion,
    },
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::NoHeartbeat => f.write_str("no heartbeat yet"),
            HoldReason::NotMatch(state) => write!(f, "dispatcher set checksum is {state}"),
            HoldReason::NoWatermark => f.write_str("MATCH but no watermark reported"),
            HoldReason::Unexplained {
                in_flight,
                too_many: false,
            } => write!(
                f,
                "its actual set is not the settled expected set plus some of the {in_flight} \
                 IDs in flight"
            ),
            HoldReason::Unexplained {
                in_flight,
                too_many: true,
            } => write!(f, "{in_flight} IDs in flight on it, too many to explain"),
            HoldReason::Stale { reported, required } => {
                write!(f, "MATCH against {reported}, but the latest is {required}")
            }
        }
    }
}

/// The gate's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateDecision {
    /// Every required (node, mode) is MATCH with a watermark: the checkpoint may advance to the
    /// lowest of their watermarks.
    Advance {
        /// The lowest watermark of the required (node, mode) pairs.
        checkpoint: u64,
    },
    /// The first required (node, mode), in the order given, that blocks the checkpoint.
    Hold {
        /// The blocking node.
        node: NodeId,
        /// The blocking mode.
        mode: Mode,
        /// Why it blocks.
        reason: HoldReason,
    },
    /// Nothing was required, so there is no watermark to advance to.
    NothingRequired,
}

impl GateDecision {
    /// The checkpoint it lets through, if any.
    pub fn checkpoint(self) -> Option<u64> {
        match self {
            GateDecision::Advance { checkpoint } => Some(checkpoint),
            _ => None,
        }
    }
}

impl fmt::Display for GateDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateDecision::Advance { checkpoint } => write!(f, "advance to {checkpoint}"),
            GateDecision::Hold { node, mode, reason } => {
                write!(f, "hold: {node} (mode {mode}): {reason}")
            }
            GateDecision::NothingRequired => f.write_str("no node required"),
        }
    }
}

/// What [`CheckpointGate::decide_explained`] requires of one (node, mode).
#[derive(Clone, Copy, Debug)]
pub struct Requirement<'a> {
    /// The node.
    pub node: NodeId,
    /// The mode.
    pub mode: Mode,
    /// The expected version a MATCH must have been computed against.
    pub version: ExpectedVersion,
    /// The fingerprint of the IDs the node must have.
    pub settled: Fingerprint,
    /// The IDs it may or may not have.
    pub in_flight: &'a [DispatcherId],
}

/// The checkpoint gate of one changefeed (all modes). See the module docs.
#[derive(Clone, Debug, Default)]
pub struct CheckpointGate {
    reports: BTreeMap<(NodeId, Mode), NodeReport>,
}

impl CheckpointGate {
    /// A gate that has heard nothing.
    pub fn new() -> Self {
        CheckpointGate::default()
    }

    /// Takes one heartbeat and keeps it whole if it is newer (by
    /// [`order`](ChecksumHeartbeat::order)) than the one kept for its (node, mode); returns
    /// `false` when it is ignored as older or repeated.
    pub fn observe(&mut self, heartbeat: &ChecksumHeartbeat) -> bool {
        let report = NodeReport::of(heartbeat);
        match self.reports.get_mut(&(heartbeat.node, heartbeat.mode)) {
            Some(kept) if report.order() <= kept.order() => false,
            Some(kept) => {
                *kept = report;
                true
            }
            None => {
                self.reports
                    .insert((heartbeat.node, heartbeat.mode), report);
                true
            }
        }
    }

    /// Forgets every report of `node` (it left the cluster).
    pub fn remove_node(&mut self, node: NodeId) {
        self.reports.retain(|(reported, _), _| *reported != node);
    }

    /// Forgets everything (a new maintainer starts a new gate).
    pub fn clear(&mut self) {
        self.reports.clear();
    }

    /// The report kept for (node, mode).
    pub fn report(&self, node: NodeId, mode: Mode) -> Option<&NodeReport> {
        self.reports.get(&(node, mode))
    }

    /// Whether the checkpoint may advance over `required` (every one MATCH with a watermark),
    /// and to where; else the first that blocks it and why.
    pub fn decide(&self, required: &[(NodeId, Mode)]) -> GateDecision {
        self.decide_over(required.iter().map(|&(node, mode)| (node, mode, None)))
    }

    /// Like [`decide`](CheckpointGate::decide), and each MATCH must also have been computed
    /// against the version given with its (node, mode).
    pub fn decide_versions(&self, required: &[(NodeId, Mode, ExpectedVersion)]) -> GateDecision {
        self.decide_over(
            required
                .iter()
                .map(|&(node, mode, version)| (node, mode, Some(version))),
        )
    }

    /// The explained-mismatch rule: each required (node, mode) either reports MATCH against
    /// `version` as in [`decide_versions`](CheckpointGate::decide_versions), or its newest
    /// heartbeat's actual fingerprint is `settled` plus some subset of `in_flight` (see
    /// [`super::in_flight`]). Either way it must have sent a watermark, which the advance is the
    /// minimum of. Safe when every in-flight ID's span is held by its operator's checkpoint floor
    /// (or is leaving the changefeed): the settled IDs are then all on the node, so its
    /// watermark, taken at the same instant as the fingerprint, covers them.
    pub fn decide_explained(&self, required: &[Requirement<'_>]) -> GateDecision {
        let mut checkpoint: Option<u64> = None;
        for requirement in required {
            let (node, mode) = (requirement.node, requirement.mode);
            let hold = |reason| GateDecision::Hold { node, mode, reason };
            let Some(report) = self.reports.get(&(node, mode)) else {
                return hold(HoldReason::NoHeartbeat);
            };
            let verified = report.state == ChecksumState::Match
                && report.verified_against == requirement.version;
            if !verified {
                let explanation = match report.actual {
                    Some(actual) => explains(actual, requirement.settled, requirement.in_flight),
                    None => Explanation::Unexplained,
                };
                if !explanation.is_explained() {
                    return hold(HoldReason::Unexplained {
                        in_flight: requirement.in_flight.len(),
                        too_many: matches!(explanation, Explanation::TooMany(_)),
                    });
                }
            }
            let Some(watermark) = report.watermark else {
                return hold(HoldReason::NoWatermark);
            };
            checkpoint = Some(checkpoint.map_or(watermark, |low| low.min(watermark)));
        }
        match checkpoint {
            Some(checkpoint) => GateDecision::Advance { checkpoint },
            None => GateDecision::NothingRequired,
        }
    }

    fn decide_over(
        &self,
        required: impl Iterator<Item = (NodeId, Mode, Option<ExpectedVersion>)>,
    ) -> GateDecision {
        let mut checkpoint: Option<u64> = None;
        for (node, mode, version) in required {
            let hold = |reason| GateDecision::Hold { node, mode, reason };
            let Some(report) = self.reports.get(&(node, mode)) else {
                return hold(HoldReason::NoHeartbeat);
            };
            if report.state != ChecksumState::Match {
                return hold(HoldReason::NotMatch(report.state));
            }
            if let Some(required) = version {
                if report.verified_against != required {
                    return hold(HoldReason::Stale {
                        reported: report.verified_against,
                        required,
                    });
                }
            }
            let Some(watermark) = report.watermark else {
                return hold(HoldReason::NoWatermark);
            };
            checkpoint = Some(checkpoint.map_or(watermark, |low| low.min(watermark)));
        }
        match checkpoint {
            Some(checkpoint) => GateDecision::Advance { checkpoint },
            None => GateDecision::NothingRequired,
        }
    }
}
