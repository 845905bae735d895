//! `equivalence`: a node's incremental actual fingerprint equals the one recomputed from the
//! same lifecycle events and the fingerprint of its exact included set. A difference would make
//! a wrong verdict later, whatever the protocol.

use super::{node_stamp, Check, ClusterView, Findings, NodeStamp, ViolationKind};
use crate::maintainer::fingerprint_of;
use dispatcher_checksum::protocol::{ActualSet, Mode, NodeId};
use dispatcher_checksum::Fingerprint;
use std::collections::BTreeMap;

/// Incremental, recomputed and exact fingerprints agree on every node.
///
/// The exact and the recomputed fingerprints cost O(dispatchers) each; both change only with
/// the node's set of dispatchers or their states, which move its stamp. So a node and mode
/// found in agreement are judged again only once the stamp or the incremental fingerprint (read
/// in O(1), and what a planted bug would corrupt) moved.
#[derive(Clone, Debug, Default)]
pub struct Equivalence {
    agreed: BTreeMap<(NodeId, Mode), (NodeStamp, Option<Fingerprint>)>,
}

impl Check for Equivalence {
    fn kind(&self) -> ViolationKind {
        ViolationKind::Equivalence
    }

    fn after_step(&mut self, view: &ClusterView<'_>, _gate_open: bool, found: &mut Findings<'_>) {
        self.agreed.retain(|(id, _), _| view.nodes.contains_key(id));
        for (id, node) in view.nodes {
            for mode in node.modes() {
                let incremental = node.incremental_fingerprint(*mode);
                let judged = (node_stamp(node), incremental);
                if self.agreed.get(&(*id, *mode)) == Some(&judged) {
                    continue;
                }
                let exact = fingerprint_of(&node.included(*mode));
                let recomputed = node.recompute[*mode as usize].actual_fingerprint();
                if incremental != Some(recomputed) || recomputed != exact {
                    found.report(self.kind(), || {
                        format!("{id} ({mode}): incremental {incremental:?}, recomputed {recomputed}, exact set {exact}")
                    });
                } else {
                    self.agreed.insert((*id, *mode), judged);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_step, node_running};
    use super::*;
    use dispatcher_checksum::{ComponentState, DispatcherId};

    #[test]
    fn a_recomputed_set_that_missed_an_event_is_a_violation() {
        let mut node = node_running(3);
        assert_eq!(
            judge_step(&mut Equivalence::default(), &[node.clone()], None, true),
            None
        );
        node.recompute[Mode::Default as usize]
            .on_dispatcher_added(DispatcherId::new(9, 9), ComponentState::Working);
        let found = judge_step(&mut Equivalence::default(), &[node], None, true);
        assert!(found.unwrap().contains("node-1 (default)"));
    }
}
