//! Split: a replicating span replaced by two halves (TiCDC:
//! `maintainer/operator/operator_split.go`). Remove to the origin; done when the origin reports
//! it anything but Working (its final checkpoint raises the split's); `PostFinish`: `-id` on the
//! origin, the span leaves the schedule and its halves join it absent, at the lower of the
//! split's and the span's stored checkpoints, to be placed by add operators. Holds the floor.

use super::{operator_basics, Common, Context, Next, Operator, Phase};
use crate::maintainer::expected::SetChange;
use crate::maintainer::spans::{SpanBook, SpanStatus};
use crate::maintainer::{short, Command, OperatorKind};
use dispatcher_checksum::protocol::NodeId;
use dispatcher_checksum::{ComponentState, DispatcherId};

/// Splits a span on `origin` into `halves`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitOperator {
    common: Common,
    origin: NodeId,
    halves: [DispatcherId; 2],
    /// The span's checkpoint, raised by the origin's final report.
    checkpoint: u64,
}

impl SplitOperator {
    /// A split of replicating span `id` into `halves`.
    pub fn plan(
        spans: &SpanBook,
        id: DispatcherId,
        halves: [DispatcherId; 2],
        now: u64,
    ) -> Option<Self> {
        let view = spans.get(&id)?;
        let origin = view.node?;
        (view.status == SpanStatus::Replicating).then(|| SplitOperator {
            common: Common::new(view.mode, id, now),
            origin,
            halves,
            checkpoint: view.checkpoint,
        })
    }
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
        ctx.log(|| format!("split {} on {origin}", short(id)));
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
        for half in self.halves {
            if let Some(progress) = progress {
                ctx.world.add(half, mode, progress);
            }
            ctx.spans.add_table(half, mode, checkpoint);
        }
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
    use crate::Ordering;

    #[test]
    fn a_split_replaces_the_span_by_absent_halves_at_the_lower_checkpoint() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let id = h.replicating_span(NodeId(1), 9);
            let halves = [h.new_id(), h.new_id()];
            let op = SplitOperator::plan(&h.spans, id, halves, 0).expect("replicating");
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
        let halves = [h.new_id(), h.new_id()];
        let op = SplitOperator::plan(&h.spans, id, halves, 0).expect("replicating");
        h.start(Box::new(op));
        h.node_removed(NodeId(1));
        assert!(h.operators.is_empty());
        assert_eq!(h.spans.get(&id).map(|v| v.status), Some(SpanStatus::Absent));
        assert!(h.spans.get(&halves[0]).is_none());
    }
}
