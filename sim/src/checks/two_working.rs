//! `two-working`: at most one Working dispatcher per span over all live nodes. Two would write
//! one span twice downstream, and the scheduler's operators assume one: TiCDC issue #4077
//! (PR #4078), where two add operators placed one span on two nodes.
//!
//! A dispatcher that is closing still counts (it writes until it is closed); a closed one does
//! not. A move removes at the origin first and creates at the destination only once the origin
//! reported it stopped (`maintainer/operator/operator_move.go`), so a correct move never has two;
//! the eager ordering changes only when expected sets change, not where dispatchers run. A node
//! that died is gone from the view: its dispatchers died with it.

use super::{Check, ClusterView, Findings, ViolationKind};
use crate::maintainer::short;
use dispatcher_checksum::protocol::NodeId;
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::collections::BTreeMap;

/// At most one Working dispatcher per span.
#[derive(Clone, Copy, Debug, Default)]
pub struct TwoWorking;

impl Check for TwoWorking {
    fn kind(&self) -> ViolationKind {
        ViolationKind::TwoWorking
    }

    fn after_step(&mut self, view: &ClusterView<'_>, _gate_open: bool, found: &mut Findings<'_>) {
        let mut working: BTreeMap<DispatcherId, NodeId> = BTreeMap::new();
        for (node, sim_node) in view.nodes {
            for (id, dispatcher) in &sim_node.dispatchers {
                if dispatcher.state != ComponentState::Working || dispatcher.closed {
                    continue;
                }
                if let Some(first) = working.insert(*id, *node) {
                    found.report(self.kind(), || {
                        format!(
                            "span {} has two Working dispatchers, on {first} and {node} ({})",
                            short(*id),
                            view.where_runs(*id)
                        )
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_step, node_running};
    use super::*;
    use crate::node::SimNode;

    #[test]
    fn one_span_working_on_two_nodes_is_a_violation_and_a_closed_one_does_not_count() {
        let one = node_running(2);
        let mut other: SimNode = node_running(1);
        other.id = NodeId(2);
        assert_eq!(
            judge_step(&mut TwoWorking, std::slice::from_ref(&one), None, true),
            None
        );
        let twice = judge_step(&mut TwoWorking, &[one.clone(), other.clone()], None, true);
        assert!(twice.unwrap().contains("two Working dispatchers"));
        for dispatcher in other.dispatchers.values_mut() {
            dispatcher.closed = true;
        }
        assert_eq!(judge_step(&mut TwoWorking, &[one, other], None, true), None);
    }
}
