//! Merge: two adjacent replicating spans of one node replaced by one (TiCDC:
//! `maintainer/operator/operator_merge.go`). Merge to the node; done when the merged dispatcher
//! is Working; `PostFinish`: `+merged -sources` on the node, the sources leave the schedule and
//! the merged span joins it at the lower of their progress. The node answering the merged span
//! Stopped (it could not merge), a table drop, or the node's loss abort it: the sources stay
//! (or, with the node gone, become absent). No floor: the spans are scheduling, which the
//! non-replicating floor covers.

use super::{operator_basics, Common, Context, Next, Operator, Phase};
use crate::maintainer::expected::SetChange;
use crate::maintainer::spans::{SpanBook, SpanStatus, SpanView};
use crate::maintainer::{short, Command, OperatorKind};
use dispatcher_checksum::protocol::NodeId;
use dispatcher_checksum::{ComponentState, DispatcherId};

/// Merges `sources` on `node` into the span the operator is keyed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeOperator {
    common: Common,
    node: NodeId,
    sources: Vec<DispatcherId>,
    /// The merged span's starting checkpoint (the lower of the sources', at least 1).
    checkpoint: u64,
}

impl MergeOperator {
    /// A merge of `sources` into `merged`, if both replicate on one node in one mode.
    pub fn plan(
        spans: &SpanBook,
        sources: [DispatcherId; 2],
        merged: DispatcherId,
        now: u64,
    ) -> Option<Self> {
        let views: Vec<SpanView> = sources
            .iter()
            .filter_map(|id| spans.get(id).copied())
            .collect();
        if views.len() != 2
            || views.iter().any(|v| v.status != SpanStatus::Replicating)
            || views[0].node != views[1].node
            || views[0].mode != views[1].mode
        {
            return None;
        }
        let node = views[0].node?;
        let checkpoint = views.iter().map(|v| v.checkpoint).min().unwrap_or(0).max(1);
        Some(MergeOperator {
            common: Common::new(views[0].mode, merged, now),
            node,
            sources: sources.to_vec(),
            checkpoint,
        })
    }
}

impl Operator for MergeOperator {
    operator_basics!(OperatorKind::Merge);

    fn sources(&self) -> &[DispatcherId] {
        &self.sources
    }

    fn shape(&self) -> (Phase, Option<NodeId>, Option<NodeId>) {
        (Phase::Merging, Some(self.node), None)
    }

    fn start(&mut self, ctx: &mut Context<'_>) -> Command {
        let (merged, mode, node, now) = (self.common.span, self.common.mode, self.node, ctx.now);
        for id in &self.sources {
            ctx.spans.update(*id, |v| v.status = SpanStatus::Scheduling);
        }
        ctx.spans.set(
            merged,
            Some(SpanView {
                mode,
                status: SpanStatus::Scheduling,
                node: Some(node),
                checkpoint: self.checkpoint,
                last_state: None,
                reported_at: now,
            }),
        );
        ctx.begin(&mut self.common, node, merged, false);
        for id in self.sources.clone() {
            ctx.begin(&mut self.common, node, id, true);
        }
        let sources = &self.sources;
        ctx.log(|| {
            format!(
                "merge {} and {} into {} on {node}",
                short(sources[0]),
                short(sources[1]),
                short(merged)
            )
        });
        self.command(ctx.spans)
    }

    fn change(&self) -> SetChange {
        SetChange::Node {
            node: self.node,
            add: vec![self.common.span],
            remove: self.sources.clone(),
        }
    }

    fn on_status(
        &mut self,
        from: NodeId,
        state: ComponentState,
        _checkpoint_ts: u64,
        _ctx: &mut Context<'_>,
    ) -> Next {
        match state {
            ComponentState::Working if from == self.node => Next::Finish,
            // The node could not merge (a source was gone or going): give up; the sources stay
            // where they are and the scheduler's reconciliation finds any that left.
            ComponentState::Stopped if from == self.node => Next::Abort { node_lost: false },
            _ => Next::Wait,
        }
    }

    fn on_node_removed(&mut self, node: NodeId, _ctx: &mut Context<'_>) -> Next {
        if node == self.node {
            Next::Abort { node_lost: true }
        } else {
            Next::Wait
        }
    }

    fn on_task_removed(&self) -> Next {
        Next::Abort { node_lost: false }
    }

    fn post_finish(&mut self, ctx: &mut Context<'_>) {
        let (merged, mode) = (self.common.span, self.common.mode);
        let progress = self
            .sources
            .iter()
            .filter_map(|s| ctx.world.span(*s))
            .map(|s| s.progress)
            .min();
        for source in &self.sources {
            ctx.world.remove(*source);
            ctx.spans.set(*source, None);
        }
        if let Some(progress) = progress {
            let merged_checkpoint = ctx.spans.get(&merged).map_or(0, |v| v.checkpoint);
            ctx.world.add(merged, mode, progress.max(merged_checkpoint));
        }
        ctx.spans
            .update(merged, |v| v.status = SpanStatus::Replicating);
    }

    fn finish_as_absent(&mut self, ctx: &mut Context<'_>) {
        self.abort(true, ctx);
    }

    fn abort(&mut self, node_lost: bool, ctx: &mut Context<'_>) {
        let (merged, mode, node) = (self.common.span, self.common.mode, self.node);
        if !node_lost {
            ctx.undo_start(mode, &self.change());
        }
        for source in &self.sources {
            if node_lost {
                ctx.spans.mark_absent(*source);
            } else {
                ctx.spans
                    .update(*source, |v| v.status = SpanStatus::Replicating);
                // The node may have run the merge already and closed the source.
                let closed = ctx
                    .spans
                    .get(source)
                    .is_some_and(|v| v.last_state == Some(ComponentState::Stopped));
                if closed {
                    ctx.gone(node, *source, mode);
                }
            }
        }
        ctx.spans.set(merged, None);
    }

    fn command(&self, _spans: &SpanBook) -> Command {
        Command::Merge {
            node: self.node,
            sources: self.sources.clone(),
            merged: self.common.span,
            mode: self.common.mode,
        }
    }

    fn holds_floor(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintainer::operator::testing::Harness;
    use crate::Ordering;

    #[test]
    fn a_merge_replaces_its_sources_by_the_merged_span() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let (a, b) = (
                h.replicating_span(NodeId(1), 9),
                h.replicating_span(NodeId(1), 7),
            );
            let merged = h.new_id();
            let op = MergeOperator::plan(&h.spans, [a, b], merged, 0).expect("one node");
            assert!(matches!(h.start(Box::new(op)), Some(Command::Merge { .. })));
            assert_eq!(h.floor(), None, "the scheduling spans' floor covers it");
            assert_eq!(h.spans.get(&merged).map(|v| v.checkpoint), Some(7));
            h.status(NodeId(1), merged, ComponentState::Working);
            assert!(h.operators.is_empty());
            assert!(h.expects(NodeId(1), merged));
            assert!(!h.expects(NodeId(1), a) && !h.expects(NodeId(1), b));
            assert!(h.spans.get(&a).is_none() && h.world.contains(merged));
        }
    }

    #[test]
    fn a_merge_the_node_refuses_restores_its_sources() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let (a, b) = (
                h.replicating_span(NodeId(1), 9),
                h.replicating_span(NodeId(1), 7),
            );
            let merged = h.new_id();
            let op = MergeOperator::plan(&h.spans, [a, b], merged, 0).expect("one node");
            h.start(Box::new(op));
            h.status(NodeId(1), merged, ComponentState::Stopped);
            assert!(h.operators.is_empty());
            assert!(h.expects(NodeId(1), a) && h.expects(NodeId(1), b));
            assert!(!h.expects(NodeId(1), merged));
            assert!(h.spans.get(&merged).is_none());
            assert_eq!(
                h.spans.get(&a).map(|v| v.status),
                Some(SpanStatus::Replicating)
            );
        }
    }

    #[test]
    fn spans_on_different_nodes_do_not_merge() {
        let mut h = Harness::new(Ordering::Reference);
        let (a, b) = (
            h.replicating_span(NodeId(1), 9),
            h.replicating_span(NodeId(2), 7),
        );
        let merged = h.new_id();
        assert!(MergeOperator::plan(&h.spans, [a, b], merged, 0).is_none());
    }
}
