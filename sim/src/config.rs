//! Everything a run depends on besides its seed: the cluster, the protocol under test, the
//! operator ordering, the timings, the network, the faults, the checks and the planted bugs.
//!
//! Time is simulated in milliseconds. The defaults are the reference system's timings where it
//! has one (node heartbeat 200 ms with a complete status list every 10 s, maintainer period
//! 100 ms, update resend 1 s, status batching 10 ms, merge check 1 s); [`Timing::realistic`]
//! is the scale experiment's (the same cadences; dispatchers initialize in up to 2 s).

use crate::network::NetworkConfig;
use crate::planted::PlantedBug;

/// Which checksum protocol the nodes and the maintainer run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// This project's: [`dispatcher_checksum::protocol`] with heartbeats numbered per node process,
    /// versions and incarnations, a monotone checkpoint, epochs that grow with every maintainer.
    #[default]
    Ours,
    /// TiCDC's pull request 3782 as it evidently means to work (as written its head cannot run:
    /// finding 0 in `docs/simulator.md`): `checksumStateSeq` and `Watermark.seq` ordered
    /// separately, the plain MATCH gate over the nodes with bound spans plus the maintainer's
    /// own, a node that follows whoever bootstrapped it last and accepts updates only from that
    /// maintainer and epoch, and an epoch that a maintainer move or failover keeps.
    Reference,
}

impl Protocol {
    /// Both, ours first.
    pub const ALL: [Protocol; 2] = [Protocol::Ours, Protocol::Reference];

    /// `ours` or `reference`.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Ours => "ours",
            Protocol::Reference => "reference",
        }
    }
}

/// When the maintainer changes its expected set for an operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ordering {
    /// Before it commands the change (this project's original model): the expected set leads,
    /// and a node is MISMATCH until it has caught up.
    #[default]
    Eager,
    /// In the operator's `PostFinish`, after the node reported the change (the reference
    /// system's order): the node's set leads and the expected set follows.
    Reference,
}

impl Ordering {
    /// Both, eager first.
    pub const ALL: [Ordering; 2] = [Ordering::Eager, Ordering::Reference];

    /// `eager` or `reference`.
    pub const fn name(self) -> &'static str {
        match self {
            Ordering::Eager => "eager",
            Ordering::Reference => "reference",
        }
    }
}

/// Which checkpoint gate the maintainer applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GateKind {
    /// The protocol's own gate: ours requires every tracked node MATCH on its latest update
    /// (`CheckpointRule::Verified`); the reference requires MATCH from the nodes with bound
    /// spans and its own node.
    #[default]
    Plain,
    /// Ours only: a node that is not MATCH passes when its actual fingerprint is the settled
    /// expected set plus some of the IDs in flight on it (`CheckpointRule::Explained`).
    Explained,
    /// No checksum at all: the checkpoint is the nodes' watermarks and the scheduler's floors
    /// (the baseline the gates' cost is measured against).
    None,
    /// Ours' heartbeats with issue 3's rule: MATCH and a watermark from every tracked node,
    /// whatever update the MATCH was computed against (`MaintainerChecksums::decide`).
    Contract,
}

impl GateKind {
    /// `plain`, `explained`, `none` or `contract`.
    pub const fn name(self) -> &'static str {
        match self {
            GateKind::Plain => "plain",
            GateKind::Explained => "explained",
            GateKind::None => "none",
            GateKind::Contract => "contract",
        }
    }
}

/// How much the checks look at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CheckDepth {
    /// Everything, with exact sets, at every maintainer period (small clusters).
    #[default]
    Full,
    /// The checkpoint properties only (checkpoint-ahead, checkpoint-regressed,
    /// checkpoint-sentinel, liveness), which cost O(log n) per checkpoint step: the scale
    /// experiment.
    Progress,
}

/// The timings, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// A node's periodic heartbeat.
    pub heartbeat_ms: u64,
    /// Every this many heartbeats the node lists every dispatcher's status.
    pub complete_status_every: u64,
    /// A Working transition is reported this long after it happened (the status path batches).
    pub status_batch_ms: u64,
    /// The maintainer's period: flush, resend, operator poll, scheduling, checkpoint.
    pub maintainer_tick_ms: u64,
    /// An unacknowledged update is sent again at most this often.
    pub resend_ms: u64,
    /// A node's merge task looks at merges this often.
    pub merge_check_ms: u64,
    /// A new dispatcher is Initializing for a time drawn from this range.
    pub init_ms: (u64, u64),
    /// Closing a dispatcher takes a time drawn from this range.
    pub close_ms: (u64, u64),
    /// A merge target is Preparing for a time drawn from this range.
    pub prepare_ms: (u64, u64),
    /// Membership (etcd) notices a node's departure within this range.
    pub detect_ms: (u64, u64),
    /// A crashed process's etcd session expires at most this long after the crash (TiCDC's
    /// `CaptureSessionTTL`, 10 s): membership notices a crash between `detect_ms.0` and this.
    pub session_ttl_ms: u64,
    /// A failed maintainer is replaced after a pause drawn from this range.
    pub failover_pause_ms: (u64, u64),
    /// A restarting node is down for a time drawn from this range.
    pub restart_pause_ms: (u64, u64),
}

impl Timing {
    /// The reference system's timings (heartbeat 200 ms): the fault runs.
    pub const REFERENCE: Timing = Timing {
        heartbeat_ms: 200,
        complete_status_every: 50,
        status_batch_ms: 10,
        maintainer_tick_ms: 100,
        resend_ms: 1000,
        merge_check_ms: 1000,
        init_ms: (50, 1000),
        close_ms: (10, 500),
        prepare_ms: (100, 1000),
        detect_ms: (100, 3000),
        session_ttl_ms: 10_000,
        failover_pause_ms: (200, 2000),
        restart_pause_ms: (100, 2000),
    };

    /// The scale experiment's: the reference's cadences (heartbeat 200 ms with a complete list
    /// every 50th, flush 100 ms, resend 1 s; `downstreamadapter/dispatchermanager/task.go`
    /// `HeartBeatTask.Execute` at ece3f130), with dispatchers that take up to 2 s to initialize.
    pub const fn realistic() -> Timing {
        Timing {
            init_ms: (100, 2000),
            ..Timing::REFERENCE
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing::REFERENCE
    }
}

/// The faults a run injects, each at a random time of the fault phase (see
/// [`crate::faults::FaultKind`] for the TiCDC path each stands for).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// The maintainer loses its node; a new one starts on another live node, same epoch.
    pub failovers: usize,
    /// The changefeed restarts after an error: a new maintainer with a new epoch, on any node.
    pub error_restarts: usize,
    /// The maintainer moves, cleanly, to another node.
    pub moves: usize,
    /// A maintainer move whose destination leaves before the origin stopped: the maintainer is
    /// re-added on the origin with the same epoch.
    pub move_dest_fails: usize,
    /// A node process crashes and comes back under a new node ID (TiCDC takes a fresh ID at
    /// every start): the old ID leaves when its session expires, the new one joins.
    pub restarts: usize,
    /// A node leaves for good; a fresh node joins later.
    pub leaves: usize,
    /// A table is dropped while its span's move, split or merge is in flight (the remove
    /// operator replaces the running one).
    pub replacements: usize,
    /// Probability that a failed maintainer lingers as a zombie (still sending) for a while.
    pub zombie: f64,
    /// A node silently loses a dispatcher.
    pub drifts: usize,
    /// The coordinator fails over and adopts the maintainer's reported checkpoint.
    pub coordinator_failovers: usize,
}

impl FaultConfig {
    /// The default mix: 2 failovers, an error restart, a maintainer move, a move whose
    /// destination fails, a restart, a leave, 2 replacements, zombies at 5%.
    pub const MIX: FaultConfig = FaultConfig {
        failovers: 2,
        error_restarts: 1,
        moves: 1,
        move_dest_fails: 1,
        restarts: 1,
        leaves: 1,
        replacements: 2,
        zombie: 0.05,
        drifts: 0,
        coordinator_failovers: 0,
    };

    /// No fault.
    pub const NONE: FaultConfig = FaultConfig {
        failovers: 0,
        error_restarts: 0,
        moves: 0,
        move_dest_fails: 0,
        restarts: 0,
        leaves: 0,
        replacements: 0,
        zombie: 0.0,
        drifts: 0,
        coordinator_failovers: 0,
    };
}

/// The workload: what the scheduler and the users do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkloadConfig {
    /// Operators (add, remove, move, split, merge) started per second of the fault phase.
    pub operators_per_second: f64,
    /// Of the dispatchers, the fraction a rebalance moves per minute (on top of the operators).
    pub rebalance_per_minute: f64,
    /// Every split is a balance split (TiCDC `maintainer/scheduler/balance_splits.go`
    /// `Execute`): planned for 2 or 3 target nodes, one per new span, while the splitter returns
    /// between 2 and that many spans, and the basic scheduler may race the split's `postFinish`
    /// for a new span left absent (zoo bug #4077). Off: a split makes two halves, placed as any
    /// absent span. The zoo bug #4077 turns it on ([`SimConfig::splits_with_plans`]).
    pub split_plans: bool,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            operators_per_second: 1.0,
            rebalance_per_minute: 0.0,
            split_plans: false,
        }
    }
}

/// Everything a run depends on besides its seed.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Nodes at the start (a node that leaves is replaced by a fresh one).
    pub nodes: usize,
    /// Dispatchers per mode at the start.
    pub dispatchers: usize,
    /// Whether the redo mode runs beside the default mode.
    pub redo: bool,
    /// The protocol under test.
    pub protocol: Protocol,
    /// When the maintainer changes its expected sets.
    pub ordering: Ordering,
    /// The checkpoint gate.
    pub gate: GateKind,
    /// The timings.
    pub timing: Timing,
    /// Loss, duplication, reordering and delays.
    pub network: NetworkConfig,
    /// The faults.
    pub faults: FaultConfig,
    /// The operators.
    pub workload: WorkloadConfig,
    /// Length of the fault phase (operators and faults happen only in it).
    pub fault_phase_ms: u64,
    /// What the checks look at.
    pub checks: CheckDepth,
    /// A deliberate bug ([`PlantedBug::None`] in a normal run).
    pub planted_bug: PlantedBug,
    /// A TiCDC bug's pre-fix rule ([`crate::zoo::ZooBug::None`]: every rule as fixed).
    pub zoo: crate::zoo::ZooBug,
    /// Record an event trace (for `dcsum simulate --trace`).
    pub trace: bool,
    /// The model checker's decisions for the lossy messages (see [`crate::network::Script`]);
    /// `None` lets the network's rates decide.
    pub script: Option<crate::network::Script>,
    /// Record the nodes not at MATCH at each step (`RunMetrics::not_match`, for the rebalance's
    /// charts; off in sweeps, which keep every run's metrics).
    pub not_match_series: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 4,
            dispatchers: 32,
            redo: false,
            protocol: Protocol::default(),
            ordering: Ordering::default(),
            gate: GateKind::default(),
            timing: Timing::default(),
            network: NetworkConfig::default(),
            faults: FaultConfig::MIX,
            workload: WorkloadConfig::default(),
            fault_phase_ms: 60_000,
            checks: CheckDepth::default(),
            planted_bug: PlantedBug::None,
            zoo: crate::zoo::ZooBug::None,
            trace: false,
            script: None,
            not_match_series: false,
        }
    }
}

impl SimConfig {
    /// The liveness bound in milliseconds after the quiet point (see
    /// [`crate::checks::liveness_bound_ms`]).
    pub fn liveness_bound_ms(&self) -> u64 {
        crate::checks::liveness_bound_ms(&self.timing, &self.network)
    }

    /// Whether splits are balance splits with a plan ([`WorkloadConfig::split_plans`], or a zoo
    /// bug reached only through them).
    pub fn splits_with_plans(&self) -> bool {
        self.workload.split_plans || self.zoo.needs_split_plans()
    }

    /// A one-line description of what is simulated.
    pub fn describe(&self) -> String {
        format!(
            "protocol {} ordering {} gate {}, {} nodes, {} dispatchers per mode, modes {}",
            self.protocol.name(),
            self.ordering.name(),
            self.gate.name(),
            self.nodes,
            self.dispatchers,
            if self.redo { "default+redo" } else { "default" },
        )
    }
}
