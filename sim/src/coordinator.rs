//! The coordinator's part of the checkpoint: what it keeps of the maintainer's reports, what it
//! saves to etcd (the persisted checkpoint, what a restart resumes from), and what a coordinator
//! failover does to both.
//!
//! From TiCDC at the pull request's head (ece3f130):
//! - a maintainer status is kept only when its checkpoint is not smaller than the kept one
//!   (`coordinator/changefeed/changefeed.go` `UpdateStatus`);
//! - it is saved to etcd only when larger than the last saved value
//!   (`coordinator/coordinator.go` `saveCheckpointTs`, `GetLastSavedCheckPointTs`);
//! - a new maintainer starts from the kept status (`changefeed.go` `NewAddMaintainerMessage`:
//!   `GetStatus().CheckpointTs`);
//! - a coordinator failover rebuilds each running changefeed from its maintainer's reported
//!   status, without comparing it with etcd: both the kept status and the last saved value
//!   become the reported checkpoint (`coordinator/controller.go` `finishBootstrap` →
//!   `changefeed.NewChangefeed(.., rm.status.CheckpointTs, ..)`, which sets
//!   `lastSavedCheckpointTs` to it). If the maintainer's value was below etcd's (an internal
//!   dip), its next larger report is saved, and etcd goes back: a restart then replays, it
//!   does not skip.

use crate::planted::PlantedBug;
use dispatcher_checksum::protocol::Mode;

/// The coordinator's view of one changefeed's checkpoint, per mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coordinator {
    status: [u64; 2],
    last_saved: [u64; 2],
    persisted: [u64; 2],
}

impl Coordinator {
    /// A changefeed created at `origin`.
    pub fn new(origin: u64) -> Coordinator {
        Coordinator {
            status: [origin; 2],
            last_saved: [origin; 2],
            persisted: [origin; 2],
        }
    }

    /// The maintainer reported `checkpoint` for `mode`: returns the persisted checkpoint before
    /// and after. `bug` `NoMonotoneGuard` takes the guards away (every report is kept and saved).
    pub fn report(&mut self, mode: Mode, checkpoint: u64, bug: PlantedBug) -> (u64, u64) {
        let index = mode as usize;
        let before = self.persisted[index];
        if !bug.guards_the_checkpoint() {
            self.status[index] = checkpoint;
            self.last_saved[index] = checkpoint;
            self.persisted[index] = checkpoint;
            return (before, checkpoint);
        }
        if checkpoint >= self.status[index] {
            self.status[index] = checkpoint;
        }
        if self.last_saved[index] < self.status[index] {
            self.persisted[index] = self.status[index];
            self.last_saved[index] = self.status[index];
        }
        (before, self.persisted[index])
    }

    /// A coordinator failover: the new coordinator adopts what the maintainer reports now
    /// (`reported`, per mode; a mode it reports nothing for keeps etcd's value).
    pub fn failover(&mut self, reported: [Option<u64>; 2]) {
        for (index, reported) in reported.into_iter().enumerate() {
            let adopted = reported.unwrap_or(self.persisted[index]);
            self.status[index] = adopted;
            self.last_saved[index] = adopted;
        }
    }

    /// The checkpoint a new maintainer starts from, per mode (the kept status).
    pub fn status(&self) -> [u64; 2] {
        self.status
    }

    /// The persisted (etcd) checkpoint of `mode`.
    pub fn persisted(&self, mode: Mode) -> u64 {
        self.persisted[mode as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODE: Mode = Mode::Default;

    #[test]
    fn reports_keep_the_maximum_and_a_dip_is_never_persisted() {
        let mut coordinator = Coordinator::new(100);
        assert_eq!(coordinator.report(MODE, 150, PlantedBug::None), (100, 150));
        assert_eq!(coordinator.report(MODE, 120, PlantedBug::None), (150, 150));
        assert_eq!(coordinator.status(), [150, 100]);
        assert_eq!(coordinator.report(MODE, 160, PlantedBug::None), (150, 160));
    }

    #[test]
    fn a_failover_during_a_dip_lets_etcd_go_back_at_the_next_larger_report() {
        let mut coordinator = Coordinator::new(100);
        coordinator.report(MODE, 150, PlantedBug::None);
        // The maintainer's internal value dipped to 120 when the coordinator failed over.
        coordinator.failover([Some(120), None]);
        assert_eq!(
            coordinator.status(),
            [120, 100],
            "a new maintainer starts at 120"
        );
        assert_eq!(
            coordinator.persisted(MODE),
            150,
            "etcd keeps 150 until a save"
        );
        assert_eq!(coordinator.report(MODE, 130, PlantedBug::None), (150, 130));
        assert_eq!(coordinator.report(MODE, 170, PlantedBug::None), (130, 170));
    }

    #[test]
    fn without_the_guard_every_report_is_persisted() {
        let mut coordinator = Coordinator::new(100);
        coordinator.report(MODE, 150, PlantedBug::NoMonotoneGuard);
        assert_eq!(
            coordinator.report(MODE, 120, PlantedBug::NoMonotoneGuard),
            (150, 120)
        );
    }
}
