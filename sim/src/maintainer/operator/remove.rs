//! Remove: takes a dropped table's span off its node (TiCDC:
//! `maintainer/operator/operator_remove.go`). Remove to the node; done when it reports Stopped
//! (or leaves); `PostFinish`: the ID leaves the expected sets (the reference: `node`'s only;
//! ours: wherever expected). No floor: the table is gone.

use super::{operator_basics, Common, Context, Next, Operator, Phase};
use crate::maintainer::expected::SetChange;
use crate::maintainer::spans::SpanBook;
use crate::maintainer::{short, Command, OperatorKind};
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};

/// Removes span `span` from `node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoveOperator {
    common: Common,
    node: NodeId,
}

impl RemoveOperator {
    /// A remove of span `id` of `mode` from `node`.
    pub fn new(id: DispatcherId, mode: Mode, node: NodeId, now: u64) -> Self {
        RemoveOperator {
            common: Common::new(mode, id, now),
            node,
        }
    }
}

impl Operator for RemoveOperator {
    operator_basics!(OperatorKind::Remove);

    fn shape(&self) -> (Phase, Option<NodeId>, Option<NodeId>) {
        (Phase::RemoveOrigin, Some(self.node), None)
    }

    fn start(&mut self, ctx: &mut Context<'_>) -> Command {
        let (id, node) = (self.common.span, self.node);
        ctx.spans.set(id, None);
        ctx.begin(&mut self.common, node, id, true);
        ctx.log(|| format!("remove {} from {node}", short(id)));
        self.command(ctx.spans)
    }

    fn change(&self) -> SetChange {
        SetChange::Drop {
            node: self.node,
            id: self.common.span,
        }
    }

    fn on_status(
        &mut self,
        from: NodeId,
        state: ComponentState,
        _checkpoint_ts: u64,
        _ctx: &mut Context<'_>,
    ) -> Next {
        if from == self.node && state == ComponentState::Stopped {
            Next::Finish
        } else {
            Next::Wait
        }
    }

    fn on_node_removed(&mut self, node: NodeId, _ctx: &mut Context<'_>) -> Next {
        if node == self.node {
            Next::Finish
        } else {
            Next::Wait
        }
    }

    fn on_task_removed(&self) -> Next {
        Next::Wait
    }

    fn post_finish(&mut self, _ctx: &mut Context<'_>) {}

    fn finish_as_absent(&mut self, _ctx: &mut Context<'_>) {}

    fn command(&self, _spans: &SpanBook) -> Command {
        Command::Remove {
            node: self.node,
            id: self.common.span,
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
    fn a_remove_finishes_on_stopped_or_when_its_node_leaves_and_holds_no_floor() {
        for ordering in Ordering::ALL {
            for leave in [false, true] {
                let mut h = Harness::new(ordering);
                let id = h.replicating_span(NodeId(1), 7);
                let op = RemoveOperator::new(id, Mode::Default, NodeId(1), 0);
                h.start(Box::new(op)).expect("started");
                assert_eq!(h.floor(), None);
                assert!(
                    h.spans.get(&id).is_none(),
                    "the span leaves the book at once"
                );
                assert_eq!(h.expects(NodeId(1), id), ordering == Ordering::Reference);
                if leave {
                    h.node_removed(NodeId(1));
                } else {
                    h.status(NodeId(1), id, ComponentState::Working);
                    assert_eq!(h.operators.len(), 1);
                    h.status(NodeId(1), id, ComponentState::Stopped);
                }
                assert!(h.operators.is_empty());
                assert!(!h.expects(NodeId(1), id));
            }
        }
    }
}
