//! `match-truthful`: a node that says MATCH runs exactly the set of the expected value it holds
//! (the exact set the update carrying that value stood for). Checked where the verdict is made,
//! at each heartbeat; an untrue MATCH is a wrong verdict now.

use super::{describe_difference, Check, ClusterView, Findings, ViolationKind};
use dispatcher_checksum::protocol::{ChecksumState, NodeId};

/// Every MATCH is true of the set the node holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct MatchTruthful;

impl Check for MatchTruthful {
    fn kind(&self) -> ViolationKind {
        ViolationKind::MatchTruthful
    }

    fn after_heartbeat(&mut self, view: &ClusterView<'_>, node: NodeId, found: &mut Findings<'_>) {
        let Some(sim_node) = view.nodes.get(&node) else {
            return;
        };
        for mode in sim_node.modes() {
            if sim_node.verdicts[*mode as usize] != ChecksumState::Match {
                continue;
            }
            let included = sim_node.included(*mode);
            match (&sim_node.held[*mode as usize], sim_node.held_version(*mode)) {
                (Some((version, set)), Some(holds)) if *version == holds => {
                    if **set != included {
                        found.report(self.kind(), || {
                            format!(
                                "{node} ({mode}) said MATCH against epoch {} seq {}: {}",
                                holds.epoch,
                                holds.seq,
                                describe_difference(&included, set)
                            )
                        });
                    }
                }
                (_, holds) => found.report(self.kind(), || {
                    format!("{node} ({mode}) said MATCH on {holds:?}, which no update carried")
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_heartbeat, node_running};
    use super::*;
    use dispatcher_checksum::protocol::Mode;

    #[test]
    fn a_match_on_a_value_no_update_carried_is_a_violation() {
        let mut node = node_running(2);
        assert_eq!(
            judge_heartbeat(&mut MatchTruthful, &node),
            None,
            "not MATCH: nothing to judge"
        );
        node.verdicts[Mode::Default as usize] = ChecksumState::Match;
        let found = judge_heartbeat(&mut MatchTruthful, &node);
        assert!(found.unwrap().contains("which no update carried"));
    }
}
