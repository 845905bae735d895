//! `gate-opened-on-unequal-sets`: when the checksum gate lets the checkpoint through, every node
//! it requires runs exactly the set the maintainer expects of it (IDs in flight left out, where
//! the ordering makes them lag; a node whose set changed since its newest heartbeat that arrived
//! is judged once it has told). A diagnostic: by itself no data is lost, but it says what the
//! gate's MATCH was worth.

use super::{describe_difference, Check, ClusterView, Findings, ViolationKind};
use crate::config::GateKind;
use dispatcher_checksum::DispatcherId;
use std::collections::BTreeSet;

/// An open gate means equal sets.
#[derive(Clone, Copy, Debug, Default)]
pub struct GateConsistency;

impl Check for GateConsistency {
    fn kind(&self) -> ViolationKind {
        ViolationKind::GateOpenedOnUnequalSets
    }

    fn after_step(&mut self, view: &ClusterView<'_>, gate_open: bool, found: &mut Findings<'_>) {
        let Some(maintainer) = view.maintainer else {
            return;
        };
        if !gate_open || view.config.gate == GateKind::None {
            return;
        }
        let in_flight = maintainer.in_flight_pairs();
        for (id, node) in view.nodes {
            if !maintainer.members.contains(id) {
                continue;
            }
            if maintainer
                .heard
                .get(id)
                .is_none_or(|heard| *heard < (node.incarnation, node.changes))
            {
                continue;
            }
            for mode in node.modes() {
                if !maintainer.side.gates_changefeed(*mode) || !maintainer.requires(*id, *mode) {
                    continue;
                }
                let keep = |x: &DispatcherId| !in_flight.contains(&(*id, *x));
                let actual: BTreeSet<DispatcherId> =
                    node.included(*mode).into_iter().filter(keep).collect();
                let expected: BTreeSet<DispatcherId> = maintainer
                    .committed_set(*mode, *id)
                    .into_iter()
                    .filter(keep)
                    .collect();
                if actual != expected {
                    found.report(self.kind(), || {
                        format!(
                            "gate open while {id} ({mode}): {}",
                            describe_difference(&actual, &expected)
                        )
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_step, maintainer_of, node_running};
    use super::*;
    use crate::config::Protocol;
    use dispatcher_checksum::protocol::NodeId;

    #[test]
    fn an_open_gate_over_a_node_running_what_is_not_expected_is_a_violation() {
        let node = node_running(2);
        let mut maintainer = maintainer_of(&[NodeId(1)], Protocol::Reference);
        // The maintainer heard the node's newest state and expects nothing of it.
        maintainer
            .heard
            .insert(NodeId(1), (node.incarnation, node.changes));
        let nodes = [node];
        let found = judge_step(&mut GateConsistency, &nodes, Some(&maintainer), true);
        assert!(found
            .unwrap()
            .contains("gate open while node-1 (default): 2 actual vs 0 expected"));
        assert_eq!(
            judge_step(&mut GateConsistency, &nodes, Some(&maintainer), false),
            None,
            "a held gate is not judged"
        );
        maintainer.heard.insert(NodeId(1), (0, 0));
        assert_eq!(
            judge_step(&mut GateConsistency, &nodes, Some(&maintainer), true),
            None,
            "a node whose set changed since its newest heartbeat is judged once it has told"
        );
    }
}
