//! `start-below-persisted`: a dispatcher is never created at a start ts below the checkpoint the
//! coordinator had persisted for its mode at that moment. Below it, the span replays data a
//! restart would not replay, and a restart before it catches up resumes above what it wrote:
//! TiCDC issue #3846, fixed by PR #4548 (`maintainer/replica/replication_span.go`
//! `NewAddDispatcherMessage` clamps the start ts to the maintainer's committed checkpoint).
//!
//! The persisted checkpoint changes only at a checkpoint step; the check keeps the value each
//! step replaced, so a dispatcher seen later is judged against the value of the moment it was
//! created. A creation in the same millisecond as a step is judged against the lower value,
//! so a violation is never claimed that the order of two events could undo. Only dispatchers of
//! spans the current maintainer schedules are judged (with no maintainer, judging waits): a
//! Create that arrives after its table was dropped (its operator, and the operator's floor,
//! gone) starts a dispatcher nothing resumes after a restart.

use super::{node_stamp, Check, CheckpointOf, ClusterView, Findings, NodeStamp, ViolationKind};
use crate::maintainer::short;
use dispatcher_checksum::protocol::NodeId;
use dispatcher_checksum::DispatcherId;
use std::collections::BTreeMap;

/// No dispatcher starts below the persisted checkpoint of its mode at its creation.
///
/// Each dispatcher is judged once, when first seen. A node is read again only when its stamp
/// moved since its last judgment, and then only its dispatchers created since that judgment's
/// moment: reading every dispatcher at every heartbeat dominated large simulations.
#[derive(Clone, Debug, Default)]
pub struct StartBelowPersisted {
    /// Per mode: every change of the persisted checkpoint, as (when, the value before).
    changes: [Vec<(u64, u64)>; 2],
    /// Per node: its last judgment.
    judged: BTreeMap<NodeId, Judgment>,
}

/// What a node's last judgment covered: every dispatcher created before `at`, and those created
/// at `at` named in `at_moment` (one created in the same millisecond may come after it).
#[derive(Clone, Debug, Default)]
struct Judgment {
    stamp: NodeStamp,
    at: u64,
    at_moment: Vec<DispatcherId>,
}

impl StartBelowPersisted {
    /// The persisted checkpoint of mode `index` at `at`: the value before the first change at
    /// or after `at`, or the current one.
    fn persisted_at(&self, index: usize, at: u64, now: u64) -> u64 {
        // The changes are pushed in time order.
        let changes = &self.changes[index];
        let first_at_or_after = changes.partition_point(|(changed, _)| *changed < at);
        changes
            .get(first_at_or_after)
            .map_or(now, |(_, before)| *before)
    }

    fn judge(&mut self, view: &ClusterView<'_>, node: NodeId, found: &mut Findings<'_>) {
        let (Some(sim_node), Some(maintainer)) = (view.nodes.get(&node), view.maintainer) else {
            return;
        };
        let stamp = node_stamp(sim_node);
        if self
            .judged
            .get(&node)
            .is_some_and(|last| last.stamp == stamp)
        {
            return;
        }
        let last = self.judged.remove(&node);
        let mut at_moment = Vec::new();
        for (id, dispatcher) in &sim_node.dispatchers {
            let created = dispatcher.created_at;
            if created == view.now {
                at_moment.push(*id);
            }
            let judged_before = last.as_ref().is_some_and(|last| {
                created < last.at || (created == last.at && last.at_moment.contains(id))
            });
            if judged_before {
                continue;
            }
            if maintainer.spans.get(id).is_none() {
                // A late Create of a span that is gone (its table dropped, or split or merged
                // away) after its operator, and the operator's floor, ended: nothing of it is
                // resumed after a restart.
                continue;
            }
            if maintainer.operator_creates_elsewhere(id, node) {
                // A resent Create that crossed its operator's end and the next operator (a split
                // or a move elsewhere) arrives late: a stray dispatcher the scheduler removes,
                // replaying data it already has, not a start the scheduler chose.
                continue;
            }
            let (mode, start) = (dispatcher.mode, dispatcher.start_ts);
            let index = mode as usize;
            let persisted = self.persisted_at(index, dispatcher.created_at, view.persisted[index]);
            if start < persisted {
                found.report(ViolationKind::StartBelowPersisted, || {
                    format!(
                        "{node} created {mode} span {} at {start}, below the persisted checkpoint {persisted} (at {:.3}s): a restart before it passes {persisted} resumes above what it wrote",
                        short(*id),
                        dispatcher.created_at as f64 / 1000.0
                    )
                });
            }
        }
        self.judged.insert(
            node,
            Judgment {
                stamp,
                at: view.now,
                at_moment,
            },
        );
    }
}

impl Check for StartBelowPersisted {
    fn kind(&self) -> ViolationKind {
        ViolationKind::StartBelowPersisted
    }

    fn after_checkpoint(
        &mut self,
        view: &ClusterView<'_>,
        checkpoint: &CheckpointOf,
        _found: &mut Findings<'_>,
    ) {
        if checkpoint.persisted != checkpoint.persisted_before {
            self.changes[checkpoint.mode as usize].push((view.now, checkpoint.persisted_before));
        }
    }

    fn after_step(&mut self, view: &ClusterView<'_>, _gate_open: bool, found: &mut Findings<'_>) {
        for node in view.nodes.keys() {
            self.judge(view, *node, found);
        }
    }

    fn after_heartbeat(&mut self, view: &ClusterView<'_>, node: NodeId, found: &mut Findings<'_>) {
        self.judge(view, node, found);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{maintainer_of, node_running, step, view_of};
    use super::*;
    use crate::config::Protocol;
    use crate::node::SimNode;
    use dispatcher_checksum::protocol::Mode;
    use std::collections::BTreeMap;

    /// What `check` finds of `node`'s dispatchers with the persisted checkpoint at
    /// `persisted`, under a maintainer that schedules them when `scheduled`.
    fn judge_at(
        check: &mut StartBelowPersisted,
        node: &SimNode,
        persisted: u64,
        scheduled: bool,
    ) -> Option<String> {
        let nodes: BTreeMap<NodeId, _> = [(node.id, node.clone())].into_iter().collect();
        let mut maintainer = maintainer_of(&[NodeId(0), node.id], Protocol::Ours);
        if scheduled {
            for (id, dispatcher) in &node.dispatchers {
                maintainer
                    .spans
                    .add_table(*id, dispatcher.mode, dispatcher.start_ts);
            }
        }
        let recorded = |_| false;
        let mut found = Findings::new(&recorded);
        let mut view = view_of(1_000, &nodes, Some(&maintainer));
        view.persisted = [persisted; 2];
        check.after_heartbeat(&view, node.id, &mut found);
        found.into_found().into_iter().next().map(|(_, d)| d)
    }

    #[test]
    fn a_start_below_the_persisted_value_of_its_moment_is_a_violation() {
        // Dispatchers created at time 0 and start 0.
        let node = node_running(2);
        let mut check = StartBelowPersisted::default();
        assert_eq!(
            judge_at(&mut check, &node, 0, true),
            None,
            "at the persisted value"
        );
        let mut check = StartBelowPersisted::default();
        let below = judge_at(&mut check, &node, 10, true);
        assert!(below.unwrap().contains("below the persisted checkpoint 10"));
        let mut check = StartBelowPersisted::default();
        let gone = judge_at(&mut check, &node, 10, false);
        assert_eq!(gone, None, "a span nobody schedules any more");
    }

    #[test]
    fn a_later_rise_of_the_persisted_value_does_not_count_and_each_dispatcher_is_judged_once() {
        let node = node_running(1);
        let mut check = StartBelowPersisted::default();
        // The persisted value rose from 0 to 50 at 500 ms, after the creation at 0 ms.
        let nodes = BTreeMap::new();
        let recorded = |_| false;
        let mut found = Findings::new(&recorded);
        check.after_checkpoint(
            &view_of(500, &nodes, None),
            &step(0, 50, 50, None),
            &mut found,
        );
        assert_eq!(judge_at(&mut check, &node, 50, true), None);
        assert_eq!(
            check.persisted_at(Mode::Default as usize, 500, 50),
            0,
            "a tie takes the lower value"
        );
        assert_eq!(check.persisted_at(Mode::Default as usize, 501, 50), 50);
    }

    #[test]
    fn a_node_is_read_again_only_for_what_it_created_since_its_last_judgment() {
        let mut node = node_running(1);
        let mut check = StartBelowPersisted::default();
        assert_eq!(judge_at(&mut check, &node, 0, true), None);
        // A dispatcher created in the judgment's millisecond, after it, at start 5.
        node.now = 1_000;
        let timing = crate::config::SimConfig::default().timing;
        let mut rng = crate::rng::SimRng::new(1, 0);
        let late = DispatcherId::new(7 << 48, 7);
        node.create(late, Mode::Default, 5, &timing, &mut rng);
        let found = judge_at(&mut check, &node, 10, true).expect("the new dispatcher");
        assert!(
            found.contains(&format!("span {} at 5,", short(late))),
            "{found}"
        );
        // Nothing changed on the node: nothing is judged again, whatever the persisted value.
        assert_eq!(judge_at(&mut check, &node, 20, true), None);
    }
}
