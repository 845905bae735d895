//! `equivalence`: a node's incremental actual fingerprint equals the one recomputed from the
//! same lifecycle events and the fingerprint of its exact included set. A difference would make
//! a wrong verdict later, whatever the protocol.

use super::{Check, ClusterView, Findings, ViolationKind};
use crate::maintainer::fingerprint_of;
use dispatcher_checksum::protocol::ActualSet;

/// Incremental, recomputed and exact fingerprints agree on every node.
#[derive(Clone, Copy, Debug, Default)]
pub struct Equivalence;

impl Check for Equivalence {
    fn kind(&self) -> ViolationKind {
        ViolationKind::Equivalence
    }

    fn after_step(&mut self, view: &ClusterView<'_>, _gate_open: bool, found: &mut Findings<'_>) {
        for (id, node) in view.nodes {
            for mode in node.modes() {
                let exact = fingerprint_of(&node.included(*mode));
                let recomputed = node.recompute[*mode as usize].actual_fingerprint();
                let incremental = node.incremental_fingerprint(*mode);
                if incremental != Some(recomputed) || recomputed != exact {
                    found.report(self.kind(), || {
                        format!("{id} ({mode}): incremental {incremental:?}, recomputed {recomputed}, exact set {exact}")
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
    use dispatcher_checksum::protocol::Mode;
    use dispatcher_checksum::{ComponentState, DispatcherId};

    #[test]
    fn a_recomputed_set_that_missed_an_event_is_a_violation() {
        let mut node = node_running(3);
        assert_eq!(
            judge_step(&mut Equivalence, &[node.clone()], None, true),
            None
        );
        node.recompute[Mode::Default as usize]
            .on_dispatcher_added(DispatcherId::new(9, 9), ComponentState::Working);
        let found = judge_step(&mut Equivalence, &[node], None, true);
        assert!(found.unwrap().contains("node-1 (default)"));
    }
}
