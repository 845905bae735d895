//! Add: places an absent span on a node (TiCDC: `maintainer/operator/operator_add.go`).
//! Create to the destination; done when it reports the dispatcher Working; `PostFinish`: `+id`
//! on the destination. Holds the checkpoint at the span's stored checkpoint while it runs.

use super::{operator_basics, Common, Context, Next, Operator, Phase};
use crate::maintainer::expected::SetChange;
use crate::maintainer::spans::{SpanBook, SpanStatus};
use crate::maintainer::{short, Command, OperatorKind};
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};

/// Places an absent span on `dest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddOperator {
    common: Common,
    dest: NodeId,
}

impl AddOperator {
    /// An add of span `id` of `mode` to `dest`, whatever the span's state (a split's callback
    /// adds a span it just created; a racing push skips the checks).
    pub fn new(mode: Mode, id: DispatcherId, dest: NodeId, now: u64) -> Self {
        AddOperator {
            common: Common::new(mode, id, now),
            dest,
        }
    }

    /// An add of span `id` to `dest`, if the span is absent.
    pub fn plan(spans: &SpanBook, id: DispatcherId, dest: NodeId, now: u64) -> Option<Self> {
        let view = spans.get(&id)?;
        (view.status == SpanStatus::Absent).then(|| AddOperator {
            common: Common::new(view.mode, id, now),
            dest,
        })
    }
}

impl Operator for AddOperator {
    operator_basics!(OperatorKind::Add);

    fn shape(&self) -> (Phase, Option<NodeId>, Option<NodeId>) {
        (Phase::AddDest, None, Some(self.dest))
    }

    fn start(&mut self, ctx: &mut Context<'_>) -> Command {
        let (id, dest, now) = (self.common.span, self.dest, ctx.now);
        ctx.spans.update(id, |v| {
            v.status = SpanStatus::Scheduling;
            v.node = Some(dest);
            v.reported_at = now;
        });
        ctx.begin(&mut self.common, dest, id, false);
        let command = self.command(ctx.spans);
        if let Command::Create { start_ts, .. } = command {
            ctx.log(|| format!("add {} to {dest} (start {start_ts})", short(id)));
        }
        command
    }

    fn change(&self) -> SetChange {
        SetChange::Node {
            node: self.dest,
            add: vec![self.common.span],
            remove: Vec::new(),
        }
    }

    fn on_status(
        &mut self,
        from: NodeId,
        state: ComponentState,
        _checkpoint_ts: u64,
        _ctx: &mut Context<'_>,
    ) -> Next {
        if from == self.dest && state == ComponentState::Working {
            Next::Finish
        } else {
            Next::Wait
        }
    }

    fn on_node_removed(&mut self, node: NodeId, _ctx: &mut Context<'_>) -> Next {
        if node == self.dest {
            Next::Absent
        } else {
            Next::Wait
        }
    }

    fn on_task_removed(&self) -> Next {
        Next::Absent
    }

    fn post_finish(&mut self, ctx: &mut Context<'_>) {
        ctx.spans
            .update(self.common.span, |v| v.status = SpanStatus::Replicating);
    }

    fn finish_as_absent(&mut self, ctx: &mut Context<'_>) {
        ctx.undo_start(self.common.mode, &self.change());
        ctx.spans.mark_absent(self.common.span);
    }

    fn command(&self, spans: &SpanBook) -> Command {
        let id = self.common.span;
        // A span no longer in the book is resent only by an orphan (zoo bug #4077), which
        // still holds its replica: TiCDC's `NewAddDispatcherMessage` clamps that replica's
        // last checkpoint to the committed one, here the committed one alone.
        let start_ts = match spans.get(&id) {
            Some(_) => spans.start_ts(&id),
            None => spans.committed(self.common.mode),
        };
        Command::Create {
            node: self.dest,
            id,
            mode: self.common.mode,
            start_ts,
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
    fn an_add_finishes_on_working_from_its_destination_and_changes_the_set_per_the_ordering() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let id = h.absent_span(5);
            let op = AddOperator::plan(&h.spans, id, NodeId(1), 0).expect("absent");
            let command = h.start(Box::new(op)).expect("started");
            assert!(matches!(
                command,
                Command::Create {
                    node: NodeId(1),
                    start_ts: 5,
                    ..
                }
            ));
            assert_eq!(h.floor(), Some(5));
            assert_eq!(h.expects(NodeId(1), id), ordering == Ordering::Eager);
            h.status(NodeId(2), id, ComponentState::Working);
            assert_eq!(
                h.operators.len(),
                1,
                "another node's status does not finish it"
            );
            h.status(NodeId(1), id, ComponentState::Working);
            assert!(h.operators.is_empty());
            assert!(h.expects(NodeId(1), id));
            assert_eq!(
                h.spans.get(&id).map(|v| v.status),
                Some(SpanStatus::Replicating)
            );
        }
    }

    #[test]
    fn an_add_whose_destination_leaves_ends_absent_with_nothing_expected() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let id = h.absent_span(5);
            let op = AddOperator::plan(&h.spans, id, NodeId(1), 0).expect("absent");
            h.start(Box::new(op));
            h.node_removed(NodeId(1));
            assert!(h.operators.is_empty());
            assert!(!h.expects(NodeId(1), id));
            assert_eq!(h.spans.get(&id).map(|v| v.status), Some(SpanStatus::Absent));
        }
    }
}
