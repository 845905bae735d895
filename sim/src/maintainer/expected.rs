//! What the maintainer expects each node to run: the protocol's trackers (inside the
//! [`MaintainerProtocol`]) fed every delta, beside a plain map fed the same deltas (the oracle the
//! `tracker-oracle` check compares them with), and the in-flight marks of IDs an operator is
//! moving, with the marks of IDs that left a node kept until that node's next heartbeat.

use crate::planted::PlantedBug;
use crate::protocol::MaintainerProtocol;
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::DispatcherId;
use std::collections::{BTreeMap, BTreeSet};

/// One ID an operator has in flight on one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The node.
    pub node: NodeId,
    /// The ID.
    pub id: DispatcherId,
    /// Whether the ID is leaving that node (else joining it).
    pub leaving: bool,
}

/// A change of the expected sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetChange {
    /// `add` joins `node`'s expected set (leaving any other), `remove` leaves it.
    Node {
        /// The node.
        node: NodeId,
        /// IDs that join it.
        add: Vec<DispatcherId>,
        /// IDs that leave it.
        remove: Vec<DispatcherId>,
    },
    /// A dropped table's ID leaves the expected sets: ours takes it out wherever it is expected
    /// ([`dispatcher_checksum::protocol::ExpectedSetTracker::remove_ids`]); the reference only
    /// out of `node`'s.
    Drop {
        /// The node the remove operator is addressed to.
        node: NodeId,
        /// The ID.
        id: DispatcherId,
    },
}

impl SetChange {
    /// The change that undoes this one (a drop is not undone).
    pub fn inverse(&self) -> Option<SetChange> {
        match self {
            SetChange::Node { node, add, remove } => Some(SetChange::Node {
                node: *node,
                add: remove.clone(),
                remove: add.clone(),
            }),
            SetChange::Drop { .. } => None,
        }
    }
}

/// The oracle map and the lingering in-flight marks (the trackers live in the protocol side).
#[derive(Clone, Debug)]
pub struct ExpectedSets {
    /// Per mode, the owner of every expected ID: the same deltas as the trackers, on a plain map.
    pub committed: [BTreeMap<DispatcherId, NodeId>; 2],
    /// In-flight marks of IDs that left a node with a finished operator, kept until the node's
    /// next heartbeat made after the one that finished it: the reference node still counts a
    /// dispatcher in the heartbeat that reports it Stopped. (mode, node, id, made_at).
    lingering: Vec<(Mode, NodeId, DispatcherId, u64)>,
    planted_bug: PlantedBug,
}

impl ExpectedSets {
    /// Nothing expected yet.
    pub fn new(planted_bug: PlantedBug) -> ExpectedSets {
        ExpectedSets {
            committed: [BTreeMap::new(), BTreeMap::new()],
            lingering: Vec::new(),
            planted_bug,
        }
    }

    /// Applies `change` of `mode` to the trackers and the oracle.
    pub fn apply(&mut self, side: &mut dyn MaintainerProtocol, mode: Mode, change: &SetChange) {
        match change {
            SetChange::Node { node, add, remove } => self.delta(side, mode, *node, add, remove),
            SetChange::Drop { node, id } => self.drop_id(side, mode, *node, *id),
        }
    }

    /// `add` joins `node`, `remove` leaves it.
    pub fn delta(
        &mut self,
        side: &mut dyn MaintainerProtocol,
        mode: Mode,
        node: NodeId,
        add: &[DispatcherId],
        remove: &[DispatcherId],
    ) {
        let committed = &mut self.committed[mode as usize];
        for id in remove {
            if committed.get(id) == Some(&node) {
                committed.remove(id);
            }
        }
        for id in add {
            committed.insert(*id, node);
        }
        if let Some(tracker) = side.tracker_mut(mode) {
            tracker.apply_delta(node, add, remove);
        }
    }

    fn drop_id(
        &mut self,
        side: &mut dyn MaintainerProtocol,
        mode: Mode,
        node: NodeId,
        id: DispatcherId,
    ) {
        let misses = !self.planted_bug.tracker_drops_removed_tables();
        let committed = &mut self.committed[mode as usize];
        if misses || side.drops_by_id() || committed.get(&id) == Some(&node) {
            committed.remove(&id);
        }
        if !misses {
            side.drop_expected(mode, node, id);
        }
    }

    /// Marks `transition` in flight.
    pub fn begin(side: &mut dyn MaintainerProtocol, mode: Mode, transition: Transition) {
        if let Some(tracker) = side.tracker_mut(mode) {
            tracker.begin_transition(transition.node, transition.id);
        }
    }

    /// Ends an operator's in-flight marks. An ID that entered a node ends now (the heartbeat that
    /// finished the operator showed it); one that left a node still a member ends with that
    /// node's next heartbeat made after `made_at`, or now when there is none to wait for.
    pub fn end_transitions(
        &mut self,
        side: &mut dyn MaintainerProtocol,
        members: &BTreeSet<NodeId>,
        mode: Mode,
        transitions: &[Transition],
        made_at: Option<u64>,
    ) {
        for transition in transitions {
            match made_at {
                Some(made_at) if transition.leaving && members.contains(&transition.node) => {
                    self.lingering
                        .push((mode, transition.node, transition.id, made_at));
                }
                _ => {
                    if let Some(tracker) = side.tracker_mut(mode) {
                        tracker.end_transition(transition.node, transition.id);
                    }
                }
            }
        }
    }

    /// `node` sent a heartbeat made at `made_at`: the marks waiting for it end.
    pub fn end_lingering(&mut self, side: &mut dyn MaintainerProtocol, node: NodeId, made_at: u64) {
        let (done, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.lingering)
            .into_iter()
            .partition(|(_, n, _, at)| *n == node && made_at > *at);
        self.lingering = keep;
        for (mode, node, id, _) in done {
            if let Some(tracker) = side.tracker_mut(mode) {
                tracker.end_transition(node, id);
            }
        }
    }

    /// The lingering marks, as (node, id).
    pub fn lingering_pairs(&self) -> impl Iterator<Item = (NodeId, DispatcherId)> + '_ {
        self.lingering.iter().map(|(_, node, id, _)| (*node, *id))
    }

    /// `node` is gone: its expectations and marks with it.
    pub fn forget_node(&mut self, node: NodeId) {
        for committed in &mut self.committed {
            committed.retain(|_, owner| *owner != node);
        }
        self.lingering.retain(|(_, n, _, _)| *n != node);
    }

    /// The exact set the oracle expects of `mode` on `node`.
    pub fn committed_set(&self, mode: Mode, node: NodeId) -> BTreeSet<DispatcherId> {
        self.committed[mode as usize]
            .iter()
            .filter(|(_, owner)| **owner == node)
            .map(|(id, _)| *id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_and_its_inverse_cancel_out() {
        let (a, b) = (DispatcherId::new(0, 1), DispatcherId::new(0, 2));
        let change = SetChange::Node {
            node: NodeId(1),
            add: vec![a],
            remove: vec![b],
        };
        assert_eq!(
            change.inverse(),
            Some(SetChange::Node {
                node: NodeId(1),
                add: vec![b],
                remove: vec![a]
            })
        );
        assert_eq!(
            SetChange::Drop {
                node: NodeId(1),
                id: a
            }
            .inverse(),
            None
        );
    }
}
