//! What the simulator checks, with exact sets, and the liveness bound it checks against.
//!
//! Every check compares *exact* sets of dispatcher IDs (or fingerprints recomputed from exact
//! sets), never one fingerprint with another fingerprint only, so a fingerprint collision or a
//! shared bug in the incremental arithmetic cannot hide a violation. See [`super`] for the
//! reasoning behind each property and the derivation of the bound.

use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// The kinds of violation. Like the fault kinds, the list may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationKind {
    /// The gate let the checkpoint advance while some node's actual included set differed from
    /// the maintainer's expected set for it.
    Safety,
    /// A node's incremental actual fingerprint differed from the recomputed one.
    Equivalence,
    /// A node's recomputed actual fingerprint differed from the fingerprint of its exact included
    /// set (the oracle's own cross-check).
    ActualOracle,
    /// The maintainer's tracked fingerprint (or an update it sent) differed from the fingerprint
    /// of the exact expected set.
    TrackerOracle,
    /// A verifier said MATCH while the node's exact included set differed from the exact set of
    /// the expected version it held.
    MatchTruthful,
    /// After the faults stopped, the nodes did not all reach MATCH on the latest expected
    /// version with the gate open within the bound, or the gate closed again afterwards.
    Liveness,
}

impl ViolationKind {
    /// Every kind, in report order.
    pub const ALL: [ViolationKind; 6] = [
        ViolationKind::Safety,
        ViolationKind::Equivalence,
        ViolationKind::ActualOracle,
        ViolationKind::TrackerOracle,
        ViolationKind::MatchTruthful,
        ViolationKind::Liveness,
    ];

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            ViolationKind::Safety => "safety",
            ViolationKind::Equivalence => "equivalence",
            ViolationKind::ActualOracle => "actual-oracle",
            ViolationKind::TrackerOracle => "tracker-oracle",
            ViolationKind::MatchTruthful => "match-truthful",
            ViolationKind::Liveness => "liveness",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One violation: what, when, and enough detail to start debugging a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The kind.
    pub kind: ViolationKind,
    /// The seed that replays it.
    pub seed: u64,
    /// The tick it was seen at.
    pub tick: u64,
    /// What differed.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at seed {} tick {}: {}",
            self.kind, self.seed, self.tick, self.detail
        )
    }
}

/// How a node's exact set differs from what it should be, for violation details.
pub fn describe_difference(
    node: NodeId,
    mode: Mode,
    actual: &BTreeSet<DispatcherId>,
    expected: &BTreeSet<DispatcherId>,
) -> String {
    let missing = expected.difference(actual).count();
    let extra = actual.difference(expected).count();
    let first = expected
        .difference(actual)
        .chain(actual.difference(expected))
        .next()
        .map(|id| format!(", first {:#x}/{:#x}", id.high, id.low))
        .unwrap_or_default();
    format!(
        "{node} ({mode}): {} actual vs {} expected, {missing} missing, {extra} extra{first}",
        actual.len(),
        expected.len()
    )
}

/// The fingerprint of an exact set (the oracle side of a fingerprint comparison).
pub fn fingerprint_of(set: &BTreeSet<DispatcherId>) -> Fingerprint {
    set.iter().copied().collect()
}

/// The liveness bound, in ticks (heartbeat periods) after the quiet point: the tick from which no
/// message is lost or duplicated, no operator, join or bootstrap is in flight, every node's actual
/// set is final and a maintainer is up (see [`super`]).
///
/// `bound = ceil(resend_interval / heartbeat_period) + 2 * max_delay - 1`:
/// the latest update to a node may have been sent (and lost) at the tick just before the quiet
/// point; the tracker resends it `ceil(I/h)` ticks after that send, at the latest `ceil(I/h) - 1`
/// ticks after the quiet point; it arrives at most `max_delay` ticks later; the node verifies and
/// heartbeats in that same tick; the heartbeat arrives at most `max_delay` ticks later, and the
/// gate decides in that tick.
pub fn liveness_bound(
    resend_interval: Duration,
    heartbeat_period: Duration,
    max_delay: u64,
) -> u64 {
    let period = heartbeat_period.as_nanos().max(1);
    let resend_ticks = resend_interval.as_nanos().div_ceil(period) as u64;
    resend_ticks.max(1) + 2 * max_delay.max(1) - 1
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
    fn bound_follows_the_formula() {
        let bound = liveness_bound(Duration::from_secs(1), Duration::from_millis(250), 4);
        assert_eq!(bound, 4 + 8 - 1);
        let bound = liveness_bound(Duration::from_millis(900), Duration::from_millis(250), 1);
        assert_eq!(bound, 4 + 2 - 1);
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
    fn differences_name_counts() {
        let a: BTreeSet<DispatcherId> = [DispatcherId::new(1, 2)].into_iter().collect();
        let b: BTreeSet<DispatcherId> = BTreeSet::new();
        let text = describe_difference(NodeId(3), Mode::Redo, &a, &b);
        assert!(
            text.contains("node-3 (redo)") && text.contains("1 extra"),
            "{text}"
        );
        assert_eq!(
            fingerprint_of(&a),
            Fingerprint::from_ids([DispatcherId::new(1, 2)])
        );
    }
}
