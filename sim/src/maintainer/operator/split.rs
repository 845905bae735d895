//! Split: a replicating span replaced by new spans (TiCDC:
//! `maintainer/operator/operator_split.go`). Remove to the origin; done when the origin reports
//! it anything but Working (its final checkpoint raises the split's); `PostFinish`: `-id` on the
//! origin, the span leaves the schedule and its new spans join it absent, at the lower of the
//! split's and the span's stored checkpoints, to be placed by add operators. Holds the floor.
//!
//! A balance split ([`SplitPlan`], TiCDC `maintainer/scheduler/balance_splits.go` `Execute`)
//! also carries a node planned for each span it asked the splitter for, and a callback that adds
//! each new span to its planned node: `span_controller.go` `ReplaceReplicaSet` puts the new
//! spans on their planned nodes only when the splitter returned as many spans as were planned,
//! and absent otherwise; whether the callback runs then is zoo bug #4077's rule
//! ([`crate::zoo::ZooBug::split_post_finish_places`]). A span the callback adds while it is
//! absent is the basic scheduler's too (`maintainer/scheduler/basic.go` `schedule`): both may
//! pass `AddOperator`'s existence check ([`Placement::racing`]).

use super::{operator_basics, Common, Context, Next, Operator, Phase};
use crate::maintainer::expected::SetChange;
use crate::maintainer::spans::{SpanBook, SpanStatus};
use crate::maintainer::{short, Command, OperatorKind};
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};

/// A balance split's plan: the node planned for each span asked of the splitter, and for each
/// span the splitter returned, whether the basic scheduler races the callback for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitPlan {
    /// One node per planned span (TiCDC's `SplitTargetNodes`); never fewer than the new spans
    /// (the splitter returning more indexed past them before #4078: a panic, not modelled).
    pub targets: Vec<NodeId>,
    /// Per new span: `Some(draw)` if, when the span is left absent, the basic scheduler's add
    /// passes `AddOperator`'s existence check together with the callback's (`draw` breaks ties
    /// between the least-loaded nodes), `None` if the callback's is pushed alone.
    pub races: Vec<Option<u64>>,
}

/// A new span a finished split's callback adds to its planned node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The new span.
    pub span: DispatcherId,
    /// Its mode.
    pub mode: Mode,
    /// Its planned node.
    pub target: NodeId,
    /// The node of the basic scheduler's add, pushed after the callback's (it replaces it in
    /// the controller's map), if the two raced.
    pub racing: Option<NodeId>,
}

/// Splits a span on `origin` into `new_spans`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitOperator {
    common: Common,
    origin: NodeId,
    new_spans: Vec<DispatcherId>,
    /// A balance split's plan.
    plan: Option<SplitPlan>,
    /// The callback's adds, once finished.
    placements: Vec<Placement>,
    /// The span's checkpoint, raised by the origin's final report.
    checkpoint: u64,
}

impl SplitOperator {
    /// A split of replicating span `id` into `new_spans` (a balance split when `plan`).
    pub fn plan(
        spans: &SpanBook,
        id: DispatcherId,
        new_spans: Vec<DispatcherId>,
        plan: Option<SplitPlan>,
        now: u64,
    ) -> Option<Self> {
        let view = spans.get(&id)?;
        let origin = view.node?;
        (view.status == SpanStatus::Replicating).then(|| SplitOperator {
            common: Common::new(view.mode, id, now),
            origin,
            new_spans,
            plan,
            placements: Vec::new(),
            checkpoint: view.checkpoint,
        })
    }

    /// The callback's adds for the new spans (`balance_splits.go` `Execute`: an
    /// `AddDispatcherOperator` to the planned node), if it runs: with the new spans on their
    /// planned nodes, always; left absent, only under zoo bug #4077, and then the basic
    /// scheduler may race it for each.
    fn callback(&self, ctx: &mut Context<'_>) -> Vec<Placement> {
        let Some(plan) = &self.plan else {
            return Vec::new();
        };
        // `span_controller.go` `ReplaceReplicaSet`: scheduling on the planned nodes only when
        // there are as many as new spans.
        let on_targets = !plan.targets.is_empty() && plan.targets.len() == self.new_spans.len();
        if !ctx.zoo.split_post_finish_places(on_targets) {
            let (planned, actual) = (plan.targets.len(), self.new_spans.len());
            ctx.log(|| {
                format!(
                    "split of {}: {actual} spans for {planned} planned nodes, left to the basic scheduler",
                    short(self.common.span)
                )
            });
            return Vec::new();
        }
        if !on_targets {
            let (planned, actual) = (plan.targets.len(), self.new_spans.len());
            ctx.log(|| {
                format!(
                    "split of {}: {actual} spans for {planned} planned nodes, left absent; its callback adds them anyway",
                    short(self.common.span)
                )
            });
        }
        let mode = self.common.mode;
        self.new_spans
            .iter()
            .zip(&plan.targets)
            .zip(&plan.races)
            .map(|((span, target), race)| Placement {
                span: *span,
                mode,
                target: *target,
                racing: race
                    .filter(|_| !on_targets)
                    .and_then(|draw| least_loaded(ctx, mode, draw)),
            })
            .collect()
    }
}

/// The node the basic scheduler places an absent span of `mode` on (TiCDC
/// `pkg/scheduler/basic.go` `BasicSchedule`: the top of a min-heap of task counts per node): one
/// with the fewest spans bound to it, as the simulator's basic scheduler counts them
/// ([`crate::maintainer::SimMaintainer::least_loaded`]), `draw` breaking ties.
fn least_loaded(ctx: &Context<'_>, mode: Mode, draw: u64) -> Option<NodeId> {
    let load = |node: &NodeId| ctx.spans.bound_spans(*node, mode);
    let low = ctx.members.iter().map(load).min()?;
    let candidates: Vec<NodeId> = ctx
        .members
        .iter()
        .copied()
        .filter(|n| load(n) == low)
        .collect();
    candidates
        .get((draw % candidates.len() as u64) as usize)
        .copied()
}

impl Operator for SplitOperator {
    operator_basics!(OperatorKind::Split);

    fn shape(&self) -> (Phase, Option<NodeId>, Option<NodeId>) {
        (Phase::RemoveOrigin, Some(self.origin), None)
    }

    fn start(&mut self, ctx: &mut Context<'_>) -> Command {
        let (id, origin) = (self.common.span, self.origin);
        ctx.spans.update(id, |v| v.status = SpanStatus::Scheduling);
        ctx.begin(&mut self.common, origin, id, true);
        let planned = self.plan.as_ref().map(|plan| {
            let targets: Vec<String> = plan.targets.iter().map(|n| n.to_string()).collect();
            format!(
                " into {} spans, planned for [{}]",
                self.new_spans.len(),
                targets.join(", ")
            )
        });
        ctx.log(|| {
            format!(
                "split {} on {origin}{}",
                short(id),
                planned.unwrap_or_default()
            )
        });
        self.command(ctx.spans)
    }

    fn change(&self) -> SetChange {
        SetChange::Node {
            node: self.origin,
            add: Vec::new(),
            remove: vec![self.common.span],
        }
    }

    fn on_status(
        &mut self,
        from: NodeId,
        state: ComponentState,
        checkpoint_ts: u64,
        _ctx: &mut Context<'_>,
    ) -> Next {
        if from == self.origin && state != ComponentState::Working {
            self.checkpoint = self.checkpoint.max(checkpoint_ts);
            Next::Finish
        } else {
            Next::Wait
        }
    }

    fn on_node_removed(&mut self, node: NodeId, _ctx: &mut Context<'_>) -> Next {
        if node == self.origin {
            Next::Absent
        } else {
            Next::Wait
        }
    }

    fn on_task_removed(&self) -> Next {
        Next::Absent
    }

    fn post_finish(&mut self, ctx: &mut Context<'_>) {
        let (id, mode) = (self.common.span, self.common.mode);
        let stored = ctx.spans.get(&id).map_or(self.checkpoint, |v| v.checkpoint);
        let checkpoint = self.checkpoint.min(stored);
        let progress = ctx.world.span(id).map(|s| s.progress);
        ctx.world.remove(id);
        ctx.spans.set(id, None);
        for span in &self.new_spans {
            if let Some(progress) = progress {
                ctx.world.add(*span, mode, progress);
            }
            ctx.spans.add_table(*span, mode, checkpoint);
        }
        // With the new spans on their planned nodes the callback's adds follow in the same
        // step (TiCDC: `ReplaceReplicaSet` makes them scheduling there, the callback's adds
        // bind them again), so nothing sees them absent; otherwise they are absent now.
        self.placements = self.callback(ctx);
    }

    fn placements(&mut self) -> Vec<Placement> {
        std::mem::take(&mut self.placements)
    }

    fn finish_as_absent(&mut self, ctx: &mut Context<'_>) {
        ctx.spans.mark_absent(self.common.span);
    }

    fn command(&self, _spans: &SpanBook) -> Command {
        Command::Remove {
            node: self.origin,
            id: self.common.span,
            mode: self.common.mode,
        }
    }

    fn holds_floor(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintainer::operator::testing::Harness;
    use crate::zoo::ZooBug;
    use crate::Ordering;

    #[test]
    fn a_split_replaces_the_span_by_absent_halves_at_the_lower_checkpoint() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let id = h.replicating_span(NodeId(1), 9);
            let halves = vec![h.new_id(), h.new_id()];
            let op =
                SplitOperator::plan(&h.spans, id, halves.clone(), None, 0).expect("replicating");
            h.start(Box::new(op)).expect("started");
            assert_eq!(h.floor(), Some(9));
            assert_eq!(h.expects(NodeId(1), id), ordering == Ordering::Reference);
            h.status_at(NodeId(1), id, ComponentState::Stopped, 12);
            assert!(h.operators.is_empty());
            assert!(!h.expects(NodeId(1), id));
            assert!(h.spans.get(&id).is_none() && !h.world.contains(id));
            for half in halves {
                let view = h.spans.get(&half).copied().expect("a half");
                assert_eq!((view.status, view.checkpoint), (SpanStatus::Absent, 9));
                assert!(h.world.contains(half));
            }
        }
    }

    #[test]
    fn a_split_whose_origin_leaves_leaves_the_span_absent() {
        let mut h = Harness::new(Ordering::Reference);
        let id = h.replicating_span(NodeId(1), 9);
        let halves = vec![h.new_id(), h.new_id()];
        let op = SplitOperator::plan(&h.spans, id, halves.clone(), None, 0).expect("replicating");
        h.start(Box::new(op));
        h.node_removed(NodeId(1));
        assert!(h.operators.is_empty());
        assert_eq!(h.spans.get(&id).map(|v| v.status), Some(SpanStatus::Absent));
        assert!(h.spans.get(&halves[0]).is_none());
    }

    /// A balance split of a span on node 1 at checkpoint 9 into `actual` new spans, planned
    /// for `targets`, with `races`; finished by the origin's Stopped. The new spans.
    fn balance_split(
        h: &mut Harness,
        actual: usize,
        targets: Vec<NodeId>,
        races: Vec<Option<u64>>,
    ) -> Vec<DispatcherId> {
        let id = h.replicating_span(NodeId(1), 9);
        let new_spans: Vec<DispatcherId> = (0..actual).map(|_| h.new_id()).collect();
        let plan = SplitPlan { targets, races };
        let op = SplitOperator::plan(&h.spans, id, new_spans.clone(), Some(plan), 0)
            .expect("replicating");
        h.start(Box::new(op)).expect("started");
        h.status_at(NodeId(1), id, ComponentState::Stopped, 12);
        new_spans
    }

    fn creates(commands: &[Command]) -> Vec<(NodeId, DispatcherId)> {
        commands
            .iter()
            .filter_map(|c| match c {
                Command::Create { node, id, .. } => Some((*node, *id)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_balance_split_with_as_many_spans_as_planned_adds_each_to_its_node_under_either_rule() {
        for zoo in [ZooBug::None, ZooBug::SplitPostFinishOnCountMismatch] {
            let mut h = Harness::new(Ordering::Reference);
            h.zoo = zoo;
            let targets = vec![NodeId(2), NodeId(3)];
            let spans = balance_split(&mut h, 2, targets.clone(), vec![Some(0), Some(1)]);
            assert_eq!(h.operators.len(), 2, "{zoo}: one add per new span, no race");
            for (span, target) in spans.iter().zip(&targets) {
                let view = h.spans.get(span).copied().expect("a new span");
                assert_eq!(
                    (view.status, view.node),
                    (SpanStatus::Scheduling, Some(*target))
                );
                assert!(h.operators.occupies(span));
            }
        }
    }

    #[test]
    fn fewer_spans_than_planned_are_left_absent_by_the_fixed_rule() {
        let mut h = Harness::new(Ordering::Reference);
        let targets = vec![NodeId(1), NodeId(2), NodeId(3)];
        let spans = balance_split(&mut h, 2, targets, vec![Some(0), None]);
        assert!(h.operators.is_empty());
        for span in spans {
            assert_eq!(
                h.spans.get(&span).map(|v| v.status),
                Some(SpanStatus::Absent)
            );
        }
    }

    #[test]
    fn before_4078_fewer_spans_than_planned_are_added_twice_and_the_first_add_is_orphaned() {
        let mut h = Harness::new(Ordering::Eager);
        h.zoo = ZooBug::SplitPostFinishOnCountMismatch;
        let targets = vec![NodeId(1), NodeId(2), NodeId(3)];
        // The basic scheduler races the callback for the first new span only; every node is
        // as loaded, and the draw picks node 2.
        let spans = balance_split(&mut h, 2, targets, vec![Some(1), None]);
        let (raced, alone) = (spans[0], spans[1]);
        assert_eq!(
            h.operators.len(),
            3,
            "two adds for the raced span, one for the other"
        );
        let bound = h.spans.get(&raced).and_then(|v| v.node).expect("bound");
        assert_ne!(
            bound,
            NodeId(1),
            "the basic scheduler's add, pushed last, is in the map"
        );
        // The map's add finishes on its node's Working; the callback's gets no status.
        h.status(NodeId(1), raced, ComponentState::Working);
        assert_eq!(h.operators.len(), 3, "the orphan's status reaches nobody");
        h.status(bound, raced, ComponentState::Working);
        h.status(NodeId(2), alone, ComponentState::Working);
        assert_eq!(h.operators.len(), 1, "the orphan runs on");
        assert!(!h.operators.occupies(&raced), "but is not in the map");
        assert_eq!(h.floor(), None, "and its floor is not read");
        assert!(h.operators.orphan_involves(&raced, NodeId(1)));
        assert_eq!(
            creates(&h.operators.resend(10_000, 1, &h.spans)),
            vec![(NodeId(1), raced)],
            "it creates the span on its node again and again"
        );
        h.node_removed(NodeId(1));
        assert_eq!(h.operators.len(), 1, "not even its node's loss ends it");
    }
}
