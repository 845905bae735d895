//! `two-working`: at most one Working dispatcher per span over all live nodes. Two would write
//! one span twice downstream, and the scheduler's operators assume one: TiCDC issue #4077
//! (PR #4078), where two add operators placed one span on two nodes.
//!
//! A dispatcher that is closing still counts (it writes until it is closed); a closed one does
//! not. A move removes at the origin first and creates at the destination only once the origin
//! reported it stopped (`maintainer/operator/operator_move.go`), so a correct move never has two;
//! the eager ordering changes only when expected sets change, not where dispatchers run. A node
//! that died is gone from the view: its dispatchers died with it.

use super::{node_stamp, Check, ClusterView, Findings, NodeStamp, ViolationKind};
use crate::maintainer::short;
use dispatcher_checksum::protocol::NodeId;
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// At most one Working dispatcher per span.
///
/// Judging every dispatcher of every node at each step costs O(dispatchers) per step, which
/// dominated large simulations. So the check keeps, per node, the spans it has Working (closed
/// or not) as of the node's last change, and how many nodes each span is Working on; only
/// nodes that changed since the previous step are read again, and only when some span counts
/// two does the exact judgment (which also excludes closed dispatchers) run. Closing a
/// dispatcher does not move the node's stamp, but it only removes candidates: the kept lists
/// are a superset of the exact ones, so a step they call clean is clean.
#[derive(Clone, Debug, Default)]
pub struct TwoWorking {
    /// Per node: the stamp its list was taken at, and its Working spans, in order.
    lists: BTreeMap<NodeId, (NodeStamp, Vec<DispatcherId>)>,
    counts: Counts,
}

/// On how many of the kept lists each span is.
#[derive(Clone, Debug, Default)]
struct Counts {
    nodes_working: HashMap<DispatcherId, u32>,
    /// How many spans are on two lists or more.
    shared: usize,
}

impl Counts {
    fn count(&mut self, id: DispatcherId) {
        let nodes = self.nodes_working.entry(id).or_insert(0);
        *nodes += 1;
        if *nodes == 2 {
            self.shared += 1;
        }
    }

    fn uncount(&mut self, id: DispatcherId) {
        if let Some(nodes) = self.nodes_working.get_mut(&id) {
            *nodes -= 1;
            if *nodes == 1 {
                self.shared -= 1;
            }
            if *nodes == 0 {
                self.nodes_working.remove(&id);
            }
        }
    }

    /// Counts the change from the list `old` to `new`, both in ID order.
    fn replace(&mut self, old: &[DispatcherId], new: &[DispatcherId]) {
        let (mut was, mut is) = (old.iter().peekable(), new.iter().peekable());
        loop {
            match (was.peek(), is.peek()) {
                (None, None) => break,
                (Some(&&gone), None) => {
                    self.uncount(gone);
                    was.next();
                }
                (None, Some(&&added)) => {
                    self.count(added);
                    is.next();
                }
                (Some(&&gone), Some(&&added)) => match gone.cmp(&added) {
                    Ordering::Less => {
                        self.uncount(gone);
                        was.next();
                    }
                    Ordering::Greater => {
                        self.count(added);
                        is.next();
                    }
                    Ordering::Equal => {
                        was.next();
                        is.next();
                    }
                },
            }
        }
    }
}

impl TwoWorking {
    /// Brings the kept lists up to the nodes of `view`.
    fn refresh(&mut self, view: &ClusterView<'_>) {
        let gone: Vec<NodeId> = self
            .lists
            .keys()
            .filter(|node| !view.nodes.contains_key(node))
            .copied()
            .collect();
        for node in gone {
            if let Some((_, list)) = self.lists.remove(&node) {
                self.counts.replace(&list, &[]);
            }
        }
        for (node, sim_node) in view.nodes {
            let stamp = node_stamp(sim_node);
            let kept = self.lists.entry(*node).or_default();
            if kept.0 == stamp {
                continue;
            }
            // The node keeps its dispatchers in a BTreeMap: the list comes out in ID order.
            let fresh: Vec<DispatcherId> = sim_node
                .dispatchers
                .iter()
                .filter(|(_, d)| d.state == ComponentState::Working)
                .map(|(id, _)| *id)
                .collect();
            self.counts.replace(&kept.1, &fresh);
            *kept = (stamp, fresh);
        }
    }
}

impl Check for TwoWorking {
    fn kind(&self) -> ViolationKind {
        ViolationKind::TwoWorking
    }

    fn after_step(&mut self, view: &ClusterView<'_>, _gate_open: bool, found: &mut Findings<'_>) {
        self.refresh(view);
        if self.counts.shared == 0 {
            return;
        }
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
            judge_step(
                &mut TwoWorking::default(),
                std::slice::from_ref(&one),
                None,
                true
            ),
            None
        );
        let twice = judge_step(
            &mut TwoWorking::default(),
            &[one.clone(), other.clone()],
            None,
            true,
        );
        assert!(twice.unwrap().contains("two Working dispatchers"));
        for dispatcher in other.dispatchers.values_mut() {
            dispatcher.closed = true;
        }
        assert_eq!(
            judge_step(&mut TwoWorking::default(), &[one, other], None, true),
            None
        );
    }

    #[test]
    fn the_kept_lists_follow_each_node_across_steps() {
        let mut check = TwoWorking::default();
        let one = node_running(2);
        let mut other: SimNode = node_running(1);
        other.id = NodeId(2);
        let judge = |check: &mut TwoWorking, nodes: &[SimNode]| {
            judge_step(check, nodes, None, true).is_some()
        };
        assert!(!judge(&mut check, std::slice::from_ref(&one)));
        assert!(judge(&mut check, &[one.clone(), other.clone()]));
        assert_eq!(check.counts.shared, 1);
        // Closing moves no stamp: the kept lists still overlap, the exact judgment clears it.
        let mut closed = other.clone();
        closed
            .dispatchers
            .values_mut()
            .for_each(|d| d.closed = true);
        assert!(!judge(&mut check, &[one.clone(), closed]));
        // A change of state moves the stamp: the list is read again.
        let mut stopped = other.clone();
        stopped
            .dispatchers
            .values_mut()
            .for_each(|d| d.state = ComponentState::Stopped);
        stopped.changes += 1;
        assert!(!judge(&mut check, &[one.clone(), stopped]));
        assert_eq!(check.counts.shared, 0);
        other.changes += 2;
        assert!(judge(&mut check, &[one.clone(), other]));
        // A node that left takes its list with it.
        assert!(!judge(&mut check, std::slice::from_ref(&one)));
        assert_eq!((check.counts.shared, check.lists.len()), (0, 1));
    }
}
