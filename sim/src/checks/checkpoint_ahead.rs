//! `checkpoint-ahead`: the checkpoint a maintainer reports never passes the progress of a span
//! of the schedule whose progress bounds it. Past it, a restart from the checkpoint skips that
//! span's data: the loss users care about most.

use super::{Check, CheckpointOf, ClusterView, Findings, ViolationKind};
use crate::maintainer::short;

/// The checkpoint never passes a span's progress.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckpointAhead;

impl Check for CheckpointAhead {
    fn kind(&self) -> ViolationKind {
        ViolationKind::CheckpointAhead
    }

    fn after_checkpoint(
        &mut self,
        view: &ClusterView<'_>,
        checkpoint: &CheckpointOf,
        found: &mut Findings<'_>,
    ) {
        let Some((progress, span)) = checkpoint.slowest else {
            return;
        };
        let (mode, reported) = (checkpoint.mode, checkpoint.reported);
        if reported > progress {
            found.report(self.kind(), || {
                format!(
                    "the {mode} checkpoint {reported} passed span {} ({}) at progress {progress}: its data in ({progress}, {reported}] would be skipped after a restart",
                    short(span),
                    view.where_runs(span)
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_checkpoint, step};
    use super::*;
    use dispatcher_checksum::DispatcherId;

    #[test]
    fn a_checkpoint_past_the_slowest_span_is_a_violation_and_one_at_it_is_not() {
        let span = DispatcherId::new(0xabcd << 48, 1);
        let past = judge_checkpoint(&mut CheckpointAhead, &step(0, 120, 120, Some((100, span))));
        assert!(past.unwrap().contains("passed span abcd0000"));
        let at = judge_checkpoint(&mut CheckpointAhead, &step(0, 100, 100, Some((100, span))));
        assert_eq!(at, None);
        let nothing_scheduled = judge_checkpoint(&mut CheckpointAhead, &step(0, 100, 100, None));
        assert_eq!(nothing_scheduled, None);
    }
}
