//! `checkpoint-sentinel`: neither the checkpoint a maintainer reports nor the one the
//! coordinator persists is ever `u64::MAX`. TiCDC computes the checkpoint as a minimum that
//! starts from `u64::MAX` ("nothing contributed"); a round in which nothing contributes must be
//! skipped, not committed (TiCDC issue #4703, fixed by PR #4709 in `maintainer/maintainer.go`
//! `calculateNewCheckpointTs`). Committed, the sentinel is monotone for good: every dispatcher
//! created later starts at it and never advances, and a restart resumes from it.

use super::{Check, CheckpointOf, ClusterView, Findings, ViolationKind};

/// The reported and the persisted checkpoint are never the `u64::MAX` sentinel.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckpointSentinel;

impl Check for CheckpointSentinel {
    fn kind(&self) -> ViolationKind {
        ViolationKind::CheckpointSentinel
    }

    fn after_checkpoint(
        &mut self,
        _view: &ClusterView<'_>,
        checkpoint: &CheckpointOf,
        found: &mut Findings<'_>,
    ) {
        let (mode, reported, persisted) =
            (checkpoint.mode, checkpoint.reported, checkpoint.persisted);
        if reported == u64::MAX || persisted == u64::MAX {
            found.report(self.kind(), || {
                format!(
                    "the {mode} checkpoint is the u64::MAX sentinel (reported {reported}, persisted {persisted}, before {}): a round in which nothing contributed was committed",
                    checkpoint.persisted_before
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge_checkpoint, step};
    use super::*;

    #[test]
    fn the_sentinel_reported_or_persisted_is_a_violation_and_a_finite_value_is_not() {
        let reported = judge_checkpoint(&mut CheckpointSentinel, &step(100, u64::MAX, 100, None));
        assert!(reported.unwrap().contains("sentinel"));
        let persisted = judge_checkpoint(&mut CheckpointSentinel, &step(100, 120, u64::MAX, None));
        assert!(persisted.is_some());
        let finite = judge_checkpoint(&mut CheckpointSentinel, &step(100, u64::MAX - 1, 120, None));
        assert_eq!(finite, None);
    }
}
