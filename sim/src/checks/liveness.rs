//! `liveness-no-match` and `liveness-stalled`: once the faults stopped and the run is quiet (no
//! loss or duplication from the quiet point on, nothing pending, every dispatcher Working), every
//! node the gate requires is MATCH on the maintainer's latest expected set (the reference: any
//! MATCH) and the checkpoint reaches where the slowest dispatcher was at the quiet point, within
//! [`super::liveness_bound_ms`]. Otherwise users lose time: the checkpoint is held.
//! (`liveness-never-quiet`, operators that never finish, is judged by the engine at the run's
//! end.)

use super::{describe_difference, ClusterView, Findings, ViolationKind};
use crate::config::GateKind;
use dispatcher_checksum::protocol::{ChecksumState, Mode};

/// The quiet point: when, and the checkpoint the run must reach from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietPoint {
    /// When the run became quiet.
    pub at: u64,
    /// The slowest dispatcher's checkpoint then (none without dispatchers).
    pub target: Option<u64>,
}

/// The liveness check: converges within the bound after the quiet point, or reports why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Liveness {
    bound: u64,
    converged_after: Option<u64>,
}

impl Liveness {
    /// A check with the liveness bound `bound` (ms).
    pub fn new(bound: u64) -> Liveness {
        Liveness {
            bound,
            converged_after: None,
        }
    }

    /// How long after the quiet point the run converged (`u64::MAX`: it did not, within the
    /// bound); `None` until judged.
    pub fn converged_after(&self) -> Option<u64> {
        self.converged_after
    }

    /// After a checkpoint step at `view.now`, past the quiet point; `reported` is the checkpoint
    /// per mode.
    pub fn judge(
        &mut self,
        view: &ClusterView<'_>,
        quiet: QuietPoint,
        reported: [Option<u64>; 2],
        modes: &[Mode],
        found: &mut Findings<'_>,
    ) {
        if self.converged_after.is_some() {
            return;
        }
        let not_match = first_not_match(view);
        let caught_up = quiet.target.is_none_or(|target| {
            modes
                .iter()
                .all(|m| reported[*m as usize].is_some_and(|c| c >= target))
        });
        let elapsed = view.now - quiet.at;
        if not_match.is_none() && caught_up {
            self.converged_after = Some(elapsed);
            return;
        }
        if elapsed <= self.bound {
            return;
        }
        let bound = self.bound;
        match not_match {
            Some(detail) => found.report(ViolationKind::LivenessNoMatch, || {
                format!("{elapsed} ms after the quiet point (bound {bound} ms): {detail}")
            }),
            None => found.report(ViolationKind::LivenessStalled, || {
                let why = view
                    .maintainer
                    .map(|m| m.explain_checkpoint())
                    .unwrap_or_default();
                let seqs: Vec<String> = view
                    .nodes
                    .iter()
                    .map(|(id, n)| {
                        format!(
                            "{id} map seq {:?} wm {}",
                            n.map_seq,
                            n.watermark(Mode::Default)
                        )
                    })
                    .collect();
                format!(
                    "{elapsed} ms after the quiet point (bound {bound} ms) the checkpoint is {reported:?}, short of {:?}: {why}; nodes: {}",
                    quiet.target,
                    seqs.join(", ")
                )
            }),
        }
        self.converged_after = Some(u64::MAX);
    }
}

/// A required node that is not MATCH on its latest expected set, described; `None` if all are
/// (no gate requires nothing).
pub fn first_not_match(view: &ClusterView<'_>) -> Option<String> {
    let maintainer = view.maintainer?;
    if view.config.gate == GateKind::None {
        return None;
    }
    for (id, node) in view.nodes {
        for mode in node.modes() {
            let Some(tracker) = maintainer.side.tracker(*mode) else {
                continue;
            };
            if !maintainer.requires(*id, *mode) {
                continue;
            }
            let latest = (tracker.epoch(), tracker.seq(*id).unwrap_or(0));
            let holds = node.held_version(*mode).map(|v| (v.epoch, v.seq));
            let verdict = node.verdicts[*mode as usize];
            let on_latest = !maintainer.side.needs_match_on_latest() || holds == Some(latest);
            if verdict != ChecksumState::Match || !on_latest {
                return Some(format!(
                    "{id} ({mode}) is {verdict} holding {holds:?}, the maintainer's latest is {latest:?}; its set against the expected one: {}",
                    describe_difference(&node.included(*mode), &maintainer.committed_set(*mode, *id))
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::testing::{maintainer_of, node_running, view_of};
    use super::*;
    use crate::config::Protocol;
    use dispatcher_checksum::protocol::NodeId;

    fn judge(liveness: &mut Liveness, now: u64, reported: u64, match_: bool) -> Option<String> {
        let mut node = node_running(1);
        if match_ {
            node.verdicts[Mode::Default as usize] = ChecksumState::Match;
        }
        let maintainer = maintainer_of(&[NodeId(1)], Protocol::Reference);
        let nodes = [(NodeId(1), node)].into_iter().collect();
        let view = view_of(now, &nodes, Some(&maintainer));
        let recorded = |_| false;
        let mut found = Findings::new(&recorded);
        let quiet = QuietPoint {
            at: 1_000,
            target: Some(500),
        };
        liveness.judge(
            &view,
            quiet,
            [Some(reported), None],
            &[Mode::Default],
            &mut found,
        );
        found
            .into_found()
            .into_iter()
            .next()
            .map(|(kind, detail)| format!("{kind}: {detail}"))
    }

    #[test]
    fn a_node_not_match_past_the_bound_is_no_match_and_within_it_nothing_yet() {
        let mut liveness = Liveness::new(100);
        assert_eq!(
            judge(&mut liveness, 1_050, 600, false),
            None,
            "within the bound"
        );
        let found = judge(&mut liveness, 1_200, 600, false).unwrap();
        assert!(
            found.starts_with("liveness-no-match: 200 ms after"),
            "{found}"
        );
        assert_eq!(liveness.converged_after(), Some(u64::MAX));
    }

    #[test]
    fn a_checkpoint_short_of_the_target_past_the_bound_is_stalled() {
        let mut liveness = Liveness::new(100);
        let found = judge(&mut liveness, 1_200, 400, true).unwrap();
        assert!(found.starts_with("liveness-stalled:"), "{found}");
    }

    #[test]
    fn every_node_match_and_caught_up_converges() {
        let mut liveness = Liveness::new(100);
        assert_eq!(judge(&mut liveness, 1_030, 500, true), None);
        assert_eq!(liveness.converged_after(), Some(30));
    }
}
