//! Every check the simulator names, one file per property, each a type over a read-only view of
//! the cluster ([`ClusterView`]), and the liveness bound they check against.
//!
//! The engine runs them at fixed points: [`Check::after_checkpoint`] for every mode after each
//! checkpoint step (what the coordinator persisted), [`Check::after_step`] once after each step,
//! [`Check::after_heartbeat`] where a node makes its verdict; [`liveness::Liveness`] after
//! each step once the faults stopped. A check only reads: what it finds goes into [`Findings`],
//! and the engine records the first of each kind with the seed that replays it.
//!
//! | kind | what it means | what users lose |
//! |---|---|---|
//! | `checkpoint-ahead` | the maintainer's checkpoint passed a scheduled span's progress | data: a restart from the checkpoint skips that span's data |
//! | `checkpoint-regressed` | the persisted checkpoint (the coordinator's, what a restart resumes from) went backwards; the maintainer's internal dips are counted apart, as an observation ([`crate::RunMetrics::internal_dips`]) | time: a restart replays what lies between |
//! | `checkpoint-sentinel` | the reported or persisted checkpoint was the `u64::MAX` sentinel ("nothing contributed" committed; TiCDC #4703) | data and time: dispatchers created later start at it and never advance; a restart resumes from it |
//! | `start-below-persisted` | a dispatcher was created at a start ts below the persisted checkpoint of its mode at that moment (TiCDC #3846) | data: a restart before it catches up resumes above what it wrote |
//! | `two-working` | one span had Working dispatchers on two live nodes at once (TiCDC #4077) | data: the span is written twice downstream; an operator never finishes |
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

pub mod checkpoint_ahead;
pub mod checkpoint_regressed;
pub mod checkpoint_sentinel;
pub mod equivalence;
pub mod gate_consistency;
pub mod liveness;
pub mod match_truthful;
pub mod start_below_persisted;
pub mod tracker_oracle;
pub mod two_working;

use crate::config::{CheckDepth, SimConfig, Timing};
use crate::maintainer::{short, SimMaintainer};
use crate::network::NetworkConfig;
use crate::node::SimNode;
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::DispatcherId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The kinds of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationKind {
    /// The checkpoint passed a scheduled span's progress (data loss).
    CheckpointAhead,
    /// The persisted checkpoint went backwards.
    CheckpointRegressed,
    /// The reported or persisted checkpoint was the `u64::MAX` sentinel.
    CheckpointSentinel,
    /// A dispatcher was created below the persisted checkpoint of its mode.
    StartBelowPersisted,
    /// One span had two Working dispatchers at once.
    TwoWorking,
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
    pub const ALL: [ViolationKind; 12] = [
        ViolationKind::CheckpointAhead,
        ViolationKind::CheckpointRegressed,
        ViolationKind::CheckpointSentinel,
        ViolationKind::StartBelowPersisted,
        ViolationKind::TwoWorking,
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
            ViolationKind::CheckpointSentinel => "checkpoint-sentinel",
            ViolationKind::StartBelowPersisted => "start-below-persisted",
            ViolationKind::TwoWorking => "two-working",
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

/// What a node's dispatchers looked like at some moment: any change of its set of dispatchers or
/// of their states moves it (`SimNode::changes` counts every one; a restart moves the
/// incarnation). Closing a dispatcher does not: a check that keeps what it read under a stamp
/// must treat closed dispatchers as possibly closed since.
pub(crate) type NodeStamp = (u64, u64, usize);

/// The stamp of `node` now.
pub(crate) fn node_stamp(node: &SimNode) -> NodeStamp {
    (node.incarnation, node.changes, node.dispatchers.len())
}

/// What the checks read: the cluster at one moment.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    /// The simulated clock.
    pub now: u64,
    /// The run's configuration.
    pub config: &'a SimConfig,
    /// Every node process alive or down (down ones keep their last state).
    pub nodes: &'a BTreeMap<NodeId, SimNode>,
    /// The current maintainer, if any.
    pub maintainer: Option<&'a SimMaintainer>,
    /// The coordinator's persisted checkpoint per mode (indexed by `Mode as usize`): what a
    /// restart resumes from.
    pub persisted: [u64; 2],
}

impl ClusterView<'_> {
    /// Where a span's dispatchers run, in words: `on node-1 Working at 42, node-3 ...`.
    pub fn where_runs(&self, span: DispatcherId) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|(id, n)| {
                n.dispatchers
                    .get(&span)
                    .map(|d| format!("{id} {} at {}", d.state, d.checkpoint))
            })
            .collect();
        if nodes.is_empty() {
            "on no node".to_string()
        } else {
            format!("on {}", nodes.join(", "))
        }
    }
}

/// One mode's checkpoint after a step, as the coordinator took it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointOf {
    /// The mode.
    pub mode: Mode,
    /// What the maintainer reported.
    pub reported: u64,
    /// The persisted checkpoint before the step.
    pub persisted_before: u64,
    /// The persisted checkpoint after it.
    pub persisted: u64,
    /// The slowest span whose progress bounds this checkpoint, and its progress.
    pub slowest: Option<(u64, DispatcherId)>,
}

/// What the checks found at one point, the first of each kind not already recorded.
pub struct Findings<'a> {
    recorded: &'a dyn Fn(ViolationKind) -> bool,
    found: Vec<(ViolationKind, String)>,
}

impl<'a> Findings<'a> {
    /// Findings that skip the kinds `recorded` says the run already has.
    pub fn new(recorded: &'a dyn Fn(ViolationKind) -> bool) -> Findings<'a> {
        Findings {
            recorded,
            found: Vec::new(),
        }
    }

    /// A violation of `kind`; `detail` is made only if it is the first of its kind.
    pub fn report(&mut self, kind: ViolationKind, detail: impl FnOnce() -> String) {
        if !(self.recorded)(kind) && !self.found.iter().any(|(k, _)| *k == kind) {
            self.found.push((kind, detail()));
        }
    }

    /// What was found, in the order found.
    pub fn into_found(self) -> Vec<(ViolationKind, String)> {
        self.found
    }
}

/// A property the simulator checks. Every hook has a default that finds nothing.
pub trait Check {
    /// The kind it reports.
    fn kind(&self) -> ViolationKind;

    /// After a checkpoint step, for each mode.
    fn after_checkpoint(
        &mut self,
        _view: &ClusterView<'_>,
        _checkpoint: &CheckpointOf,
        _found: &mut Findings<'_>,
    ) {
    }

    /// After a checkpoint step, once; `gate_open`: whether the checksum gate let it through.
    fn after_step(&mut self, _view: &ClusterView<'_>, _gate_open: bool, _found: &mut Findings<'_>) {
    }

    /// After `node` made a heartbeat (and its verdict).
    fn after_heartbeat(
        &mut self,
        _view: &ClusterView<'_>,
        _node: NodeId,
        _found: &mut Findings<'_>,
    ) {
    }
}

/// The checks a run of `depth` makes, in the order they run (which decides the first violation
/// of a step when two fire at once).
pub fn checks_for(depth: CheckDepth) -> Vec<Box<dyn Check>> {
    let mut checks: Vec<Box<dyn Check>> = vec![
        Box::new(checkpoint_regressed::CheckpointRegressed),
        Box::new(checkpoint_ahead::CheckpointAhead),
        Box::new(checkpoint_sentinel::CheckpointSentinel),
    ];
    if depth == CheckDepth::Full {
        // Each reads every dispatcher of a node that changed, or compares whole sets: O(n) per
        // step, not for the scale runs.
        checks.push(Box::new(
            start_below_persisted::StartBelowPersisted::default(),
        ));
        checks.push(Box::new(two_working::TwoWorking::default()));
        checks.push(Box::new(equivalence::Equivalence::default()));
        checks.push(Box::new(tracker_oracle::TrackerOracle));
        checks.push(Box::new(gate_consistency::GateConsistency));
        checks.push(Box::new(match_truthful::MatchTruthful));
    }
    checks
}

/// How an actual set differs from an expected one: sizes and up to three IDs each way.
pub fn describe_difference(
    actual: &BTreeSet<DispatcherId>,
    expected: &BTreeSet<DispatcherId>,
) -> String {
    let missing: Vec<String> = expected
        .difference(actual)
        .take(3)
        .map(|id| short(*id))
        .collect();
    let extra: Vec<String> = actual
        .difference(expected)
        .take(3)
        .map(|id| short(*id))
        .collect();
    format!(
        "{} actual vs {} expected, missing [{}], extra [{}]",
        actual.len(),
        expected.len(),
        missing.join(" "),
        extra.join(" ")
    )
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

/// Small clusters for the checks' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::config::Protocol;
    use crate::node::{MaintainerRef, Step};
    use crate::planted::PlantedBug;
    use crate::rng::SimRng;
    use dispatcher_checksum::protocol::ChangefeedId;

    /// One mode's checkpoint step.
    pub fn step(
        persisted_before: u64,
        reported: u64,
        persisted: u64,
        slowest: Option<(u64, DispatcherId)>,
    ) -> CheckpointOf {
        CheckpointOf {
            mode: Mode::Default,
            reported,
            persisted_before,
            persisted,
            slowest,
        }
    }

    /// The default configuration's view of `nodes` and `maintainer` at `now`.
    pub fn view_of<'a>(
        now: u64,
        nodes: &'a BTreeMap<NodeId, SimNode>,
        maintainer: Option<&'a SimMaintainer>,
    ) -> ClusterView<'a> {
        static CONFIG: std::sync::OnceLock<SimConfig> = std::sync::OnceLock::new();
        ClusterView {
            now,
            config: CONFIG.get_or_init(SimConfig::default),
            nodes,
            maintainer,
            persisted: [0; 2],
        }
    }

    fn first(found: Findings<'_>) -> Option<String> {
        found
            .into_found()
            .into_iter()
            .next()
            .map(|(_, detail)| detail)
    }

    /// What `check` finds of `checkpoint` in an empty cluster.
    pub fn judge_checkpoint(check: &mut dyn Check, checkpoint: &CheckpointOf) -> Option<String> {
        let nodes = BTreeMap::new();
        let recorded = |_| false;
        let mut found = Findings::new(&recorded);
        check.after_checkpoint(&view_of(0, &nodes, None), checkpoint, &mut found);
        first(found)
    }

    /// What `check` finds after a step over `nodes` and `maintainer`.
    pub fn judge_step(
        check: &mut dyn Check,
        nodes: &[SimNode],
        maintainer: Option<&SimMaintainer>,
        gate_open: bool,
    ) -> Option<String> {
        let nodes: BTreeMap<NodeId, SimNode> = nodes.iter().map(|n| (n.id, n.clone())).collect();
        let recorded = |_| false;
        let mut found = Findings::new(&recorded);
        check.after_step(&view_of(0, &nodes, maintainer), gate_open, &mut found);
        first(found)
    }

    /// What `check` finds after `node`'s heartbeat.
    pub fn judge_heartbeat(check: &mut dyn Check, node: &SimNode) -> Option<String> {
        let nodes: BTreeMap<NodeId, SimNode> = [(node.id, node.clone())].into_iter().collect();
        let recorded = |_| false;
        let mut found = Findings::new(&recorded);
        check.after_heartbeat(&view_of(0, &nodes, None), node.id, &mut found);
        first(found)
    }

    /// `node-1` (ours) running `count` Working dispatchers of the default mode.
    pub fn node_running(count: u64) -> SimNode {
        let mut node = SimNode::new(
            NodeId(1),
            0,
            Protocol::Ours,
            &[Mode::Default],
            false,
            PlantedBug::None,
        );
        let timing = SimConfig::default().timing;
        let mut rng = SimRng::new(1, 0);
        for index in 0..count {
            let id = DispatcherId::new(index << 48, index);
            node.create(id, Mode::Default, 0, &timing, &mut rng);
            node.step(Step::Working(id));
        }
        node
    }

    /// A bootstrapping maintainer of `protocol` on the first of `members`.
    pub fn maintainer_of(members: &[NodeId], protocol: Protocol) -> SimMaintainer {
        let config = SimConfig {
            protocol,
            ..SimConfig::default()
        };
        let me = MaintainerRef {
            instance: 1,
            host: members[0],
            epoch: 1,
        };
        let changefeed = ChangefeedId::new(1, 0, "test", "default");
        SimMaintainer::start(
            me,
            members.iter().copied().collect(),
            &config,
            changefeed,
            [0, 0],
            0,
        )
        .0
    }
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
