//! `tracker-oracle`: the maintainer's expected-set tracker of every mode expects of every node
//! exactly what a plain map fed the same deltas holds. A difference would send a node a wrong
//! expected value, and the node a wrong verdict.

use super::{Check, ClusterView, Findings, ViolationKind};
use crate::maintainer::fingerprint_of;
use dispatcher_checksum::protocol::NodeId;
use std::collections::BTreeSet;

/// The trackers agree with the plain map of the same deltas.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackerOracle;

impl Check for TrackerOracle {
    fn kind(&self) -> ViolationKind {
        ViolationKind::TrackerOracle
    }

    fn after_step(&mut self, view: &ClusterView<'_>, _gate_open: bool, found: &mut Findings<'_>) {
        let Some(maintainer) = view.maintainer else {
            return;
        };
        for mode in maintainer.modes() {
            let Some(tracker) = maintainer.side.tracker(*mode) else {
                continue;
            };
            let nodes: BTreeSet<NodeId> = tracker
                .nodes()
                .chain(maintainer.sets.committed[*mode as usize].values().copied())
                .collect();
            for node in nodes {
                let want = fingerprint_of(&maintainer.committed_set(*mode, node));
                let have = tracker.expected(node).unwrap_or_default();
                if want != have {
                    found.report(self.kind(), || {
                        format!(
                            "{node} ({mode}): the tracker expects {have}, the deltas make {want}"
                        )
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_step, maintainer_of};
    use super::*;
    use dispatcher_checksum::protocol::Mode;
    use dispatcher_checksum::DispatcherId;

    #[test]
    fn a_tracker_that_missed_a_delta_is_a_violation() {
        let mut maintainer = maintainer_of(&[NodeId(1), NodeId(2)], crate::config::Protocol::Ours);
        assert_eq!(
            judge_step(&mut TrackerOracle, &[], Some(&maintainer), true),
            None
        );
        // The oracle map takes a delta the tracker never saw.
        maintainer.sets.committed[Mode::Default as usize]
            .insert(DispatcherId::new(1, 2), NodeId(2));
        let found = judge_step(&mut TrackerOracle, &[], Some(&maintainer), true);
        assert!(found
            .unwrap()
            .contains("node-2 (default): the tracker expects"));
    }
}
