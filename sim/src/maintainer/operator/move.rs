//! Move: a replicating span from its origin to a destination (TiCDC:
//! `maintainer/operator/operator_move.go`). Remove to the origin; once the origin reports it
//! stopped, Create to the destination (the span is re-bound there); done when the destination
//! reports Working; `PostFinish`: `+id` on the destination, which takes it off the origin.
//! If the destination leaves while the origin is still stopping, the move waits for the origin
//! to stop and ends as absent (the reference's `finishAsAbsent`: the ID leaves the origin's
//! expected set at once); if it leaves afterwards, it ends as absent at once. Holds the floor.

use super::{operator_basics, Common, Context, Next, Operator, Phase};
use crate::maintainer::expected::SetChange;
use crate::maintainer::spans::{SpanBook, SpanStatus};
use crate::maintainer::{short, Command, OperatorKind};
use dispatcher_checksum::protocol::NodeId;
use dispatcher_checksum::{ComponentState, DispatcherId};

/// Moves a span from `origin` to `dest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveOperator {
    common: Common,
    origin: NodeId,
    dest: NodeId,
    phase: Phase,
}

impl MoveOperator {
    /// A move of replicating span `id` to `dest`, if it runs elsewhere.
    pub fn plan(spans: &SpanBook, id: DispatcherId, dest: NodeId, now: u64) -> Option<Self> {
        let view = spans.get(&id)?;
        let origin = view.node?;
        (view.status == SpanStatus::Replicating && origin != dest).then(|| MoveOperator {
            common: Common::new(view.mode, id, now),
            origin,
            dest,
            phase: Phase::RemoveOrigin,
        })
    }

    /// The origin stopped: the span is re-bound to the destination and created there.
    fn enter_add_dest(&mut self, ctx: &mut Context<'_>) -> Next {
        self.phase = Phase::AddDest;
        let (id, dest, now) = (self.common.span, self.dest, ctx.now);
        ctx.spans.update(id, |v| {
            v.node = Some(dest);
            v.reported_at = now;
        });
        Next::Send(self.command(ctx.spans))
    }
}

impl Operator for MoveOperator {
    operator_basics!(OperatorKind::Move);

    fn shape(&self) -> (Phase, Option<NodeId>, Option<NodeId>) {
        (self.phase, Some(self.origin), Some(self.dest))
    }

    fn start(&mut self, ctx: &mut Context<'_>) -> Command {
        let (id, origin, dest) = (self.common.span, self.origin, self.dest);
        ctx.spans.update(id, |v| v.status = SpanStatus::Scheduling);
        ctx.begin(&mut self.common, origin, id, true);
        ctx.begin(&mut self.common, dest, id, false);
        ctx.log(|| format!("move {} from {origin} to {dest}", short(id)));
        self.command(ctx.spans)
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
        ctx: &mut Context<'_>,
    ) -> Next {
        let working = state == ComponentState::Working;
        match self.phase {
            Phase::RemoveOrigin if from == self.origin && !working => self.enter_add_dest(ctx),
            Phase::AbortRemoveOrigin if from == self.origin && !working => Next::Absent,
            Phase::AddDest if from == self.dest && working => Next::Finish,
            _ => Next::Wait,
        }
    }

    fn on_node_removed(&mut self, node: NodeId, ctx: &mut Context<'_>) -> Next {
        match self.phase {
            Phase::AddDest if node == self.dest => Next::Absent,
            Phase::RemoveOrigin if node == self.dest => {
                self.phase = Phase::AbortRemoveOrigin;
                Next::Wait
            }
            Phase::AbortRemoveOrigin if node == self.origin => Next::Absent,
            Phase::RemoveOrigin if node == self.origin => self.enter_add_dest(ctx),
            _ => Next::Wait,
        }
    }

    fn on_task_removed(&self) -> Next {
        Next::Cancel
    }

    fn post_finish(&mut self, ctx: &mut Context<'_>) {
        let dest = self.dest;
        ctx.spans.update(self.common.span, |v| {
            v.status = SpanStatus::Replicating;
            v.node = Some(dest);
        });
    }

    fn finish_as_absent(&mut self, ctx: &mut Context<'_>) {
        let mode = self.common.mode;
        if ctx.changed_at_start() {
            ctx.undo_start(mode, &self.change());
        } else {
            // The reference's finishAsAbsent: the ID leaves the origin's expected set now.
            let drop = SetChange::Drop {
                node: self.origin,
                id: self.common.span,
            };
            ctx.change_now(mode, &drop);
        }
        ctx.spans.mark_absent(self.common.span);
    }

    fn cancel(&mut self, ctx: &mut Context<'_>) {
        // Done without its final change: the span stays bound where it is now.
        ctx.spans
            .update(self.common.span, |v| v.status = SpanStatus::Replicating);
    }

    fn command(&self, spans: &SpanBook) -> Command {
        let (id, mode) = (self.common.span, self.common.mode);
        match self.phase {
            Phase::AddDest => Command::Create {
                node: self.dest,
                id,
                mode,
                start_ts: spans.start_ts(&id),
            },
            _ => Command::Remove {
                node: self.origin,
                id,
                mode,
            },
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
    fn a_move_removes_then_creates_and_ends_with_the_span_on_its_destination() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let id = h.replicating_span(NodeId(1), 9);
            let op = MoveOperator::plan(&h.spans, id, NodeId(2), 0).expect("replicating");
            let first = h.start(Box::new(op)).expect("started");
            assert!(matches!(
                first,
                Command::Remove {
                    node: NodeId(1),
                    ..
                }
            ));
            assert_eq!(h.floor(), Some(9));
            let sent = h.status(NodeId(1), id, ComponentState::Stopped);
            assert!(matches!(
                sent[..],
                [Command::Create {
                    node: NodeId(2),
                    start_ts: 9,
                    ..
                }]
            ));
            assert_eq!(h.spans.get(&id).and_then(|v| v.node), Some(NodeId(2)));
            h.status(NodeId(2), id, ComponentState::Working);
            assert!(h.operators.is_empty());
            assert!(h.expects(NodeId(2), id) && !h.expects(NodeId(1), id));
        }
    }

    #[test]
    fn a_move_whose_destination_leaves_waits_for_the_origin_then_ends_absent_expected_nowhere() {
        for ordering in Ordering::ALL {
            let mut h = Harness::new(ordering);
            let id = h.replicating_span(NodeId(1), 9);
            let op = MoveOperator::plan(&h.spans, id, NodeId(2), 0).expect("replicating");
            h.start(Box::new(op));
            h.node_removed(NodeId(2));
            assert_eq!(h.operators.len(), 1, "waits for the origin to stop");
            h.status(NodeId(1), id, ComponentState::Stopped);
            assert!(h.operators.is_empty());
            assert!(!h.expects(NodeId(1), id) && !h.expects(NodeId(2), id));
            assert_eq!(h.spans.get(&id).map(|v| v.status), Some(SpanStatus::Absent));
        }
    }

    #[test]
    fn a_table_drop_cancels_a_move_without_its_final_change() {
        let mut h = Harness::new(Ordering::Reference);
        let id = h.replicating_span(NodeId(1), 9);
        let op = MoveOperator::plan(&h.spans, id, NodeId(2), 0).expect("replicating");
        h.start(Box::new(op));
        h.status(NodeId(1), id, ComponentState::Stopped);
        h.task_removed(id);
        assert!(h.operators.is_empty());
        // Finding 1's root: the origin still expects the span.
        assert!(h.expects(NodeId(1), id));
        assert_eq!(h.spans.get(&id).and_then(|v| v.node), Some(NodeId(2)));
    }
}
