//! The bug zoo: real TiCDC checkpoint bugs, each as its pre-fix rule in the shared scheduler or
//! the reference maintainer (issue 18, part 2; the research, traced to TiCDC's code, is
//! `docs/zoo.md`). A run carries at most one in [`crate::SimConfig::zoo`]; [`ZooBug::None`] is
//! TiCDC master's fixed rules, the default. What each does is defined here and nowhere else: the
//! code under test asks its zoo bug at a few hook points, as it asks its planted bug.
//!
//! Unlike a planted bug (a deliberate defect of ours), a zoo bug shipped in TiCDC; each names
//! its issue, its fix, and the Go function the rule comes from.

use crate::checks::ViolationKind;
use std::fmt;
use std::str::FromStr;

/// A TiCDC bug, as its pre-fix rule. `None`: every rule as fixed on TiCDC master.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZooBug {
    /// Every rule as fixed.
    #[default]
    None,
    /// #3846, before PR #4548: a Create starts at the span's stored status checkpoint
    /// (`maintainer/replica/replication_span.go` `NewAddDispatcherMessage` at `fc9050eb`), which
    /// only status reports refresh, so a re-placed span can start below the persisted
    /// checkpoint. Fixed (`19400c63`): `max(stored, committed)`, the committed value a
    /// monotone maximum of the maintainer's computed checkpoints
    /// (`maintainer/span/span_controller.go` `AdvanceMaintainerCommittedCheckpointTs`, advanced
    /// in `maintainer/maintainer.go` `calCheckpointTs`).
    StartAtStoredCheckpoint,
    /// #4703, before PR #4709 (on top of #4548's clamp): the committed value takes the computed
    /// checkpoint even when it is the `u64::MAX` "nothing contributed" sentinel
    /// (`maintainer/maintainer.go` `calCheckpointTs` at `32e1ab58`). Fixed (`bc3ab6b1`):
    /// `calculateNewCheckpointTs` skips a round whose result is `u64::MAX`.
    CommittedTakesSentinel,
}

impl ZooBug {
    /// Every zoo bug that is modelled, in issue order (without `None`).
    pub const ALL: [ZooBug; 2] = [
        ZooBug::StartAtStoredCheckpoint,
        ZooBug::CommittedTakesSentinel,
    ];

    /// The kebab-case name `--zoo` takes.
    pub const fn name(self) -> &'static str {
        match self {
            ZooBug::None => "none",
            ZooBug::StartAtStoredCheckpoint => "3846-start-at-stored-checkpoint",
            ZooBug::CommittedTakesSentinel => "4703-committed-takes-sentinel",
        }
    }

    /// The TiCDC issue and the pull request that fixed it.
    pub const fn issue(self) -> &'static str {
        match self {
            ZooBug::None => "",
            ZooBug::StartAtStoredCheckpoint => "pingcap/ticdc#3846 (fix PR #4548)",
            ZooBug::CommittedTakesSentinel => "pingcap/ticdc#4703 (fix PR #4709)",
        }
    }

    /// The check that must catch its pre-fix rule (`None` for no bug).
    pub const fn caught_by(self) -> Option<ViolationKind> {
        match self {
            ZooBug::None => None,
            ZooBug::StartAtStoredCheckpoint => Some(ViolationKind::StartBelowPersisted),
            ZooBug::CommittedTakesSentinel => Some(ViolationKind::CheckpointSentinel),
        }
    }
}

/// Hook points: where the scheduler or the maintainer asks its zoo bug how a rule goes. For
/// [`ZooBug::None`] each answers with TiCDC master's rule.
impl ZooBug {
    /// Whether a Create's start ts is clamped to the committed checkpoint (#4548).
    pub fn clamps_start_to_committed(self) -> bool {
        self != ZooBug::StartAtStoredCheckpoint
    }

    /// What a round that computed `computed` reports: since #4709 a `u64::MAX` result ("nothing
    /// contributed") skips the round (`calculateNewCheckpointTs` returns that it cannot
    /// update); before it (after #4548) the committed value, which `GetMaintainerStatus`
    /// reports, took it.
    pub fn reported_checkpoint(self, computed: Option<u64>) -> Option<u64> {
        match computed {
            Some(u64::MAX) if self != ZooBug::CommittedTakesSentinel => None,
            other => other,
        }
    }

    /// The committed checkpoint after a round that computed `computed`: the larger, ignoring 0
    /// (`AdvanceMaintainerCommittedCheckpointTs`) and, since #4709, the `u64::MAX` sentinel.
    pub fn advance_committed(self, committed: u64, computed: u64) -> u64 {
        let skip =
            computed == 0 || (computed == u64::MAX && self != ZooBug::CommittedTakesSentinel);
        if skip {
            committed
        } else {
            committed.max(computed)
        }
    }
}

impl fmt::Display for ZooBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ZooBug {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ZooBug::ALL
            .into_iter()
            .chain([ZooBug::None])
            .find(|bug| bug.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = ZooBug::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown zoo bug {text:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zoo_bug_has_a_name_the_command_line_parses_and_a_check() {
        for bug in ZooBug::ALL {
            assert_eq!(bug.name().parse::<ZooBug>(), Ok(bug));
            assert!(bug.caught_by().is_some(), "{bug}");
            assert!(bug.issue().starts_with("pingcap/ticdc#"), "{bug}");
        }
        assert!("nonsense".parse::<ZooBug>().is_err());
    }

    #[test]
    fn the_committed_value_is_monotone_and_takes_the_sentinel_only_before_4709() {
        let fixed = ZooBug::None;
        assert_eq!(fixed.advance_committed(100, 120), 120);
        assert_eq!(fixed.advance_committed(120, 100), 120);
        assert_eq!(fixed.advance_committed(120, 0), 120);
        assert_eq!(fixed.advance_committed(120, u64::MAX), 120);
        let before = ZooBug::CommittedTakesSentinel;
        assert_eq!(before.advance_committed(120, u64::MAX), u64::MAX);
    }
}
