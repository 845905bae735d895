//! Every check the simulator names, and the liveness bound it checks against.
//!
//! | kind | what it means | what users lose |
//! |---|---|---|
//! | `checkpoint-ahead` | the maintainer's checkpoint passed a scheduled span's progress | data: a restart from the checkpoint skips that span's data |
//! | `checkpoint-regressed` | the persisted checkpoint (the coordinator's, what a restart resumes from) went backwards; the maintainer's internal dips are counted apart, as an observation ([`crate::RunMetrics::internal_dips`]) | time: a restart replays what lies between |
//! | `liveness-no-match` | after the faults stopped, a node the gate requires was not MATCH on its latest expected set within the bound | time: the checkpoint is held |
//! | `liveness-stalled` | after the faults stopped, the checkpoint did not reach where the slowest dispatcher was at the quiet point within the bound | time |
//! | `liveness-never-quiet` | the operators never finished after the faults stopped | time |
//! | `gate-opened-on-unequal-sets` | the checksum gate let the checkpoint through while a node's exact set differed from what the maintainer expects of it (ignoring IDs in flight where the ordering makes them lag) | nothing by itself: a consistency diagnostic |
//! | `equivalence` | a node's incremental actual fingerprint differed from the recomputed one or from its exact set's | a wrong verdict later |
//! | `tracker-oracle` | the maintainer's tracker disagreed with a plain map fed the same deltas | a wrong verdict later |
//! | `match-truthful` | a node said MATCH while its exact set differed from the exact set of the expected value it held | a wrong verdict now |
//!
//! Every check compares exact sets or recomputes from them, never one fingerprint with another
//! fingerprint only, so a collision or a shared arithmetic bug cannot hide a violation.

use crate::config::Timing;
use crate::network::NetworkConfig;
use std::fmt;

/// The kinds of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationKind {
    /// The checkpoint passed a scheduled span's progress (data loss).
    CheckpointAhead,
    /// The persisted checkpoint went backwards.
    CheckpointRegressed,
    /// A required node did not return to MATCH within the bound after the faults stopped.
    LivenessNoMatch,
    /// The checkpoint did not catch up within the bound after the faults stopped.
    LivenessStalled,
    /// The workload never became quiet after the faults stopped.
    LivenessNeverQuiet,
    /// The gate opened while a node's set differed from the expected one (a diagnostic).
    GateOpenedOnUnequalSets,
    /// Incremental and recomputed actual fingerprints disagreed.
    Equivalence,
    /// The tracker disagreed with the plain map of the same deltas.
    TrackerOracle,
    /// A MATCH verdict was untrue against the expected value the node held.
    MatchTruthful,
}

impl ViolationKind {
    /// Every kind, in report order.
    pub const ALL: [ViolationKind; 9] = [
        ViolationKind::CheckpointAhead,
        ViolationKind::CheckpointRegressed,
        ViolationKind::LivenessNoMatch,
        ViolationKind::LivenessStalled,
        ViolationKind::LivenessNeverQuiet,
        ViolationKind::GateOpenedOnUnequalSets,
        ViolationKind::Equivalence,
        ViolationKind::TrackerOracle,
        ViolationKind::MatchTruthful,
    ];

    /// The kebab-case name.
    pub const fn name(self) -> &'static str {
        match self {
            ViolationKind::CheckpointAhead => "checkpoint-ahead",
            ViolationKind::CheckpointRegressed => "checkpoint-regressed",
            ViolationKind::LivenessNoMatch => "liveness-no-match",
            ViolationKind::LivenessStalled => "liveness-stalled",
            ViolationKind::LivenessNeverQuiet => "liveness-never-quiet",
            ViolationKind::GateOpenedOnUnequalSets => "gate-opened-on-unequal-sets",
            ViolationKind::Equivalence => "equivalence",
            ViolationKind::TrackerOracle => "tracker-oracle",
            ViolationKind::MatchTruthful => "match-truthful",
        }
    }

    /// Whether users lose data or time over it (everything but the diagnostics).
    pub const fn is_user_visible(self) -> bool {
        !matches!(self, ViolationKind::GateOpenedOnUnequalSets)
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One violation: what, when, the seed that replays it, and what differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The kind.
    pub kind: ViolationKind,
    /// The seed that replays it.
    pub seed: u64,
    /// Simulated time in milliseconds.
    pub at_ms: u64,
    /// What differed, naming the span, node and values.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {:.3}s (replay: --seed {} --seeds 1): {}",
            self.kind,
            self.at_ms as f64 / 1000.0,
            self.seed,
            self.detail
        )
    }
}

/// The liveness bound in milliseconds after the quiet point: the moment from which no message
/// is lost or duplicated, no operator, bootstrap or membership change is pending and every
/// dispatcher is Working.
///
/// `bound = I + 2T + 2D + h`, with the resend interval `I`, the maintainer period `T`, the
/// longest network delay `D` and the heartbeat period `h`: the last update to a node may have
/// been sent, and lost, just before the quiet point; the tracker resends it at the first period
/// at least `I` after that send (by `I + T`); it arrives within `D`; the node's next periodic
/// heartbeat, within `h`, is MATCH on it and carries a watermark no lower than the slowest
/// dispatcher's checkpoint at the quiet point; that arrives within `D`, and the maintainer's
/// next checkpoint step, within `T`, lets it through.
pub fn liveness_bound_ms(timing: &Timing, network: &NetworkConfig) -> u64 {
    let delay = network.worst_delay_ms();
    timing.resend_ms + 2 * timing.maintainer_tick_ms + 2 * delay + timing.heartbeat_ms
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile(sorted: &[u64], p: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_follows_the_formula() {
        let timing = Timing::REFERENCE;
        let network = NetworkConfig::default();
        assert_eq!(
            liveness_bound_ms(&timing, &network),
            1000 + 200 + 2000 + 200
        );
        assert_eq!(
            liveness_bound_ms(&timing, &NetworkConfig::PERFECT),
            1000 + 200 + 10 + 200
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), Some(50));
        assert_eq!(percentile(&values, 99), Some(99));
        assert_eq!(percentile(&values, 100), Some(100));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn every_kind_has_a_distinct_name() {
        let names: std::collections::BTreeSet<&str> =
            ViolationKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), ViolationKind::ALL.len());
    }
}
