//! The faults other than the network's, and when a run injects them.
//!
//! Each fault happens at a random time of the fault phase; one that cannot happen at that moment
//! (a failover with no maintainer up, a replacement with no move, split or merge in flight, a
//! restart of the node that hosts the only maintainer...) is retried a maintainer period later,
//! until the fault phase ends.

use crate::config::FaultConfig;
use crate::rng::SimRng;
use std::fmt;

/// The faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// The maintainer loses its node (TiCDC: the capture dies; it would come back under a new
    /// ID, so never as the same node): after a pause a new one starts on another live node.
    /// Ours takes a new epoch (a timestamp taken at its start); the reference keeps the
    /// changefeed's epoch. The dead maintainer may linger as a zombie. (The node's dispatchers
    /// are left running: a node's death is the `Leave` and `Restart` faults.)
    Failover,
    /// The maintainer moves cleanly to another node (a new identity, the same reference epoch:
    /// `coordinator/operator/operator_move.go`).
    MaintainerMove,
    /// A node process crashes and a new one starts under a fresh node ID (TiCDC:
    /// `server/server_prepare.go` `prepare` → `pkg/node/node.go` `NewInfo`, a new UUID at every
    /// start): the new ID joins when it is up, the old one leaves when its session expires
    /// (within `session_ttl_ms` of the crash), and the maintainer places the spans again.
    Restart,
    /// A node leaves for good; membership notices within `detect_ms`; a fresh node joins later.
    Leave,
    /// A table is dropped while its span's move, split or merge is in flight.
    Replacement,
    /// The changefeed restarts after an error (TiCDC: `coordinator/coordinator.go`
    /// `handleStateChange` → `updateChangefeedEpoch`): the maintainer stops, and after a pause
    /// a new one starts on any live node with a new epoch, for both protocols.
    ErrorRestart,
    /// A maintainer move whose destination leaves before the origin reported stopped (TiCDC:
    /// `coordinator/operator/operator_move.go` `OnNodeRemove` turns it into an add on the
    /// origin): the destination node leaves, and a new maintainer starts on the origin with the
    /// same epoch, the one path by which the reference sees the same (node, epoch) again.
    MoveDestFails,
    /// A node silently loses one of its Working dispatchers (nothing is reported): the fault
    /// the checksum exists for. The scheduler notices when the node's next complete status list
    /// leaves it out, and places the span again.
    Drift,
    /// The coordinator fails over: the new one adopts each maintainer's reported checkpoint
    /// without comparing it with etcd (`coordinator/controller.go` `finishBootstrap`; see
    /// [`crate::coordinator`]). The maintainer and the nodes run on.
    CoordinatorFailover,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::Failover,
        FaultKind::MaintainerMove,
        FaultKind::Restart,
        FaultKind::Leave,
        FaultKind::Replacement,
        FaultKind::Drift,
        FaultKind::ErrorRestart,
        FaultKind::MoveDestFails,
        FaultKind::CoordinatorFailover,
    ];

    /// The kebab-case name.
    pub const fn name(self) -> &'static str {
        match self {
            FaultKind::Failover => "failover",
            FaultKind::MaintainerMove => "maintainer-move",
            FaultKind::Restart => "restart",
            FaultKind::Leave => "leave",
            FaultKind::Replacement => "replacement",
            FaultKind::Drift => "drift",
            FaultKind::ErrorRestart => "error-restart",
            FaultKind::MoveDestFails => "move-dest-fails",
            FaultKind::CoordinatorFailover => "coordinator-failover",
        }
    }

    /// How many of this kind `config` asks for.
    pub fn count(self, config: &FaultConfig) -> usize {
        match self {
            FaultKind::Failover => config.failovers,
            FaultKind::MaintainerMove => config.moves,
            FaultKind::Restart => config.restarts,
            FaultKind::Leave => config.leaves,
            FaultKind::Replacement => config.replacements,
            FaultKind::Drift => config.drifts,
            FaultKind::ErrorRestart => config.error_restarts,
            FaultKind::MoveDestFails => config.move_dest_fails,
            FaultKind::CoordinatorFailover => config.coordinator_failovers,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The faults of one run, each with its time: drawn in kind order from the given stream, so a
/// seed replays them.
pub fn schedule(
    config: &FaultConfig,
    fault_phase_ms: u64,
    rng: &mut SimRng,
) -> Vec<(u64, FaultKind)> {
    let last = fault_phase_ms.saturating_sub(1).max(1);
    let mut faults = Vec::new();
    for kind in FaultKind::ALL {
        for _ in 0..kind.count(config) {
            faults.push((rng.inclusive(1, last), kind));
        }
    }
    faults.sort();
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_has_every_fault_asked_for_inside_the_phase_and_replays() {
        let config = FaultConfig::MIX;
        let a = schedule(&config, 60_000, &mut SimRng::new(5, 2));
        let b = schedule(&config, 60_000, &mut SimRng::new(5, 2));
        assert_eq!(a, b);
        let total: usize = FaultKind::ALL.iter().map(|k| k.count(&config)).sum();
        assert_eq!(a.len(), total);
        assert!(a.iter().all(|(t, _)| (1..60_000).contains(t)));
    }
}
