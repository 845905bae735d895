//! `checkpoint-regressed`: the persisted checkpoint, what a restart resumes from, never goes
//! back. Judged on the coordinator's value, not the maintainer's: the coordinator keeps a status
//! only when its checkpoint is not smaller and saves only a larger one
//! (`coordinator/changefeed/changefeed.go` `UpdateStatus`, `coordinator/coordinator.go`
//! `saveCheckpointTs`); the maintainer's internal dips are counted apart as an observation.

use super::{Check, CheckpointOf, ClusterView, Findings, ViolationKind};

/// The persisted checkpoint never goes back.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckpointRegressed;

impl Check for CheckpointRegressed {
    fn kind(&self) -> ViolationKind {
        ViolationKind::CheckpointRegressed
    }

    fn after_checkpoint(
        &mut self,
        _view: &ClusterView<'_>,
        checkpoint: &CheckpointOf,
        found: &mut Findings<'_>,
    ) {
        let (before, after) = (checkpoint.persisted_before, checkpoint.persisted);
        if after < before {
            let mode = checkpoint.mode;
            found.report(self.kind(), || {
                format!("the persisted {mode} checkpoint went from {before} back to {after}: a restart would replay ({after}, {before}]")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_checkpoint, step};
    use super::*;

    #[test]
    fn a_persisted_checkpoint_that_goes_back_is_a_violation_and_one_that_stays_is_not() {
        let back = judge_checkpoint(&mut CheckpointRegressed, &step(100, 90, 90, None));
        assert!(back.unwrap().contains("from 100 back to 90"));
        let kept = judge_checkpoint(&mut CheckpointRegressed, &step(100, 90, 100, None));
        assert_eq!(
            kept, None,
            "a dip the coordinator did not persist is no violation"
        );
    }
}
