//! A deterministic, seeded, discrete-event simulator of the delta-and-verify protocol under
//! faults, checking with exact sets at every tick.
//!
//! # The model
//! One maintainer, `K` nodes, `N` dispatchers per mode (default, and redo with
//! [`SimConfig::redo`]; each mode has its own trackers and verifiers). Time advances in ticks of
//! one heartbeat period. The maintainer is [`dispatcher_checksum::protocol::MaintainerChecksums`], each node a
//! [`dispatcher_checksum::protocol::NodeChecksums`] plus the exact truth (every dispatcher and its lifecycle
//! state) and a [`dispatcher_checksum::protocol::RecomputeActualSet`] fed the same events as the verifier's
//! incremental set. The real system's loop is reproduced: after each operator the maintainer
//! applies its deltas and calls `flush_dirty`; every tick it calls `resend_pending`; nodes apply
//! updates and ack them; every tick each node verifies and heartbeats (state, `state_seq`, and a
//! watermark only when MATCH); the gate decides over every tracked (node, mode).
//!
//! * [`network`]: loss, duplication, bounded delay and reordering of the protocol's messages;
//!   the scheduler's commands and the bootstrap are delayed and reordered but not lost.
//! * [`workload`]: add, remove, move, split (new dispatchers pass Initializing before Working),
//!   merge (target Preparing → MergeReady → Working; sources WaitingMerge → Removed, then deleted);
//!   faults ([`workload::FaultKind`]): maintainer failover (new epoch, `reset_full`, node-side
//!   reset when the bootstrap or the first update of the new epoch arrives) and a node leaving
//!   (its dispatchers move; the maintainer forgets it; a fresh node joins later).
//!   A third fault, [`workload::FaultKind::SilentDrift`] (`SimConfig::drifts`, `dcsum simulate
//!   --drifts`), makes a node silently lose a settled dispatcher or keep a fresh one nobody
//!   assigned. Once the faults stop and the node has been non-MATCH for
//!   [`DRIFT_DIAGNOSIS_AFTER_TICKS`], the difference sketch of the maintainer's expected set and
//!   of the node's actual set is decoded, the summary counts whether it named exactly the planted
//!   IDs still in effect (which must also be exactly the difference of the exact sets), and the
//!   node repairs them; the quiet point waits for that. The safety check skips a drifted
//!   (node, mode) until the maintainer has received a non-MATCH heartbeat computed after the
//!   drift (nothing told anyone, so the gate can only learn it from a heartbeat), and a drifted
//!   node that owns no dispatcher (the gate does not require such a node: issue 3's rule cannot
//!   hold a checkpoint for a dispatcher that nobody assigned to a node that owns none; only the
//!   diagnosis names it).
//! * [`invariants`]: the checks and the liveness bound.
//! * [`rng`]: ChaCha8 streams, with ranges computed here so runs replay across dependency
//!   versions.
//!
//! # What is checked, and why this is the strongest property the protocol can promise
//! Every tick, with exact sets:
//! * **equivalence**: incremental actual fingerprint == recomputed, on every node and mode (plus
//!   the recomputed one == the fingerprint of the exact included set);
//! * **tracker oracle**: the tracker's expected fingerprint of every node, and every update it
//!   sends, == the fingerprint of the exact set the scheduler assigned;
//! * **MATCH is truthful**: a verifier says MATCH only when the node's exact included set equals
//!   the exact set of the expected version it holds;
//! * **safety**: whenever the gate lets the checkpoint advance, *every* node's actual included set
//!   equals the maintainer's current expected set for it, in every mode;
//! * **liveness**: once faults stop, every required node reaches MATCH on its latest expected
//!   version and the gate opens within [`invariants::liveness_bound`] ticks, and stays open.
//!
//! Safety in that exact form is *not* guaranteed by the gate rule of issue 3, which sees only
//! `(state, state_seq, watermark)` ([`dispatcher_checksum::protocol::MaintainerChecksums::decide`]): when an
//! operator changes node n's expected set, the gate still holds n's last MATCH, computed against
//! the *previous* version, and any MATCH heartbeat still in flight carries the same `state_seq`
//! (the state did not change on the node yet), so even forgetting n's report on every delta would
//! let a delayed stale MATCH re-open the gate. A move of x from n to m can then advance the
//! checkpoint while x runs on neither node. The simulator shows this with
//! [`GateRule::Contract`] (safety violations in practically every run). The fix, found here and
//! adopted by the protocol: the heartbeat names the expected version
//! ([`dispatcher_checksum::protocol::ExpectedVersion`]) its verdict was computed against, the gate keeps the
//! highest `(state_seq, version)` per (node, mode), and
//! [`dispatcher_checksum::protocol::MaintainerChecksums::decide_verified`] opens only if every required
//! node's MATCH refers to the tracker's current `(epoch, seq(n))`. [`GateRule::VerifiedSeq`]
//! (the default) uses it, and with it the exact safety property holds, given two modelled rules
//! of the real system: the maintainer changes its expected set *before* it commands the change
//! (so a node's actual set never changes while the gate could still be open on the old version),
//! and a node changes its set only when commanded (a node that silently loses a dispatcher is a
//! fault the gate can only see one heartbeat later; see the diagnosis work that adds that fault
//! kind).
//!
//! # The liveness bound
//! After the fault phase no operator, failover or node leave starts, but loss and duplication go
//! on until the *quiet point*: the tick after the first one that ends with no operator, join or
//! bootstrap in flight, every node's actual set final and a maintainer up. From the quiet point on
//! nothing is lost or duplicated, but delays still vary in `1..=max_delay` (reordering goes on),
//! and the last send before it may have been lost, which is the worst case. With the
//! resend interval `I`, the heartbeat period `h` and the maximum delay `D` ticks,
//! `bound = ceil(I / h) + 2·D − 1` ticks after the quiet point (derivation at
//! [`invariants::liveness_bound`]); with the defaults (I = 1 s, h = 250 ms, D = 4) that is 11
//! ticks. The bound is attained (runs with heavy loss reach exactly 11), so an off-by-one in the
//! resend rule or an extra round trip shows up as a liveness violation.

pub mod invariants;
pub mod network;
pub mod rng;
pub mod workload;

mod engine;

use dispatcher_checksum::protocol::TrackerConfig;
use invariants::{percentile, Violation, ViolationKind};
use network::{NetworkConfig, NetworkStats};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use workload::{FaultKind, OperatorKind};

/// Which rule lets the checkpoint advance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GateRule {
    /// `MaintainerChecksums::decide_verified`: MATCH and a watermark from every required node,
    /// each MATCH computed against the tracker's current `(epoch, seq)` for that node.
    #[default]
    VerifiedSeq,
    /// `MaintainerChecksums::decide`, the rule of issue 3: MATCH and a watermark from every
    /// required node, whatever version the MATCH was computed against (unsafe; for comparison).
    Contract,
}

/// A deliberate bug, to prove the checks can fail (tests use these; a normal run uses `None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sabotage {
    /// No bug.
    #[default]
    None,
    /// The maintainer treats every MISMATCH heartbeat as MATCH with a watermark.
    GateTrustsMismatch,
    /// Nodes do not tell the incremental set when a dispatcher becomes Working.
    IncrementalMissesWorking,
    /// The maintainer never resends an unacknowledged update.
    NoResend,
    /// Nodes reset their verifiers on every bootstrap, even for the epoch they already follow
    /// (what `NodeChecksums::maintainer_changed` did before it became idempotent per epoch).
    ResetOnEveryBootstrap,
}

/// Everything a run depends on besides its seed.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Nodes at the start (a node that leaves is replaced by a fresh one).
    pub nodes: usize,
    /// Dispatchers per mode at the start; operators keep the count near it.
    pub dispatchers: usize,
    /// Whether the redo mode runs beside the default mode.
    pub redo: bool,
    /// Loss, duplication, reordering and the delay bound.
    pub network: NetworkConfig,
    /// Maintainer failovers per run, at random ticks of the fault phase.
    pub failovers: usize,
    /// Nodes leaving per run, at random ticks of the fault phase.
    pub leaves: usize,
    /// Silent drifts per run (a node loses or keeps a dispatcher without telling anyone), at
    /// random ticks of the fault phase.
    pub drifts: usize,
    /// Length of the fault phase in ticks (operators and faults happen only in it).
    pub fault_ticks: u64,
    /// Probability that the scheduler starts an operator in a tick.
    pub operator_rate: f64,
    /// Longest delay between two lifecycle steps of a dispatcher, in ticks.
    pub max_step_delay: u64,
    /// One tick: the heartbeat period.
    pub heartbeat_period: Duration,
    /// The trackers' configuration (the resend interval enters the liveness bound).
    pub tracker: TrackerConfig,
    /// The gate's rule.
    pub gate_rule: GateRule,
    /// A deliberate bug (tests only).
    pub sabotage: Sabotage,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 4,
            dispatchers: 32,
            redo: false,
            network: NetworkConfig::default(),
            failovers: 3,
            leaves: 1,
            drifts: 0,
            fault_ticks: 200,
            operator_rate: 0.3,
            max_step_delay: 3,
            heartbeat_period: Duration::from_millis(250),
            tracker: TrackerConfig::default(),
            gate_rule: GateRule::default(),
            sabotage: Sabotage::default(),
        }
    }
}

impl SimConfig {
    /// How many faults of `kind` a run injects.
    pub fn fault_count(&self, kind: FaultKind) -> usize {
        match kind {
            FaultKind::Failover => self.failovers,
            FaultKind::NodeLeave => self.leaves,
            FaultKind::SilentDrift => self.drifts,
        }
    }

    /// The liveness bound in ticks for this configuration.
    pub fn liveness_bound(&self) -> u64 {
        invariants::liveness_bound(
            self.tracker.resend_interval,
            self.heartbeat_period,
            self.network.max_delay,
        )
    }
}

/// What one seed's run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedOutcome {
    /// The seed.
    pub seed: u64,
    /// The first violation of each kind.
    pub violations: Vec<Violation>,
    /// Ticks from the quiet point to convergence (`None` if it did not converge in the bound).
    pub convergence: Option<u64>,
    /// Operators started, by kind.
    pub operators: BTreeMap<OperatorKind, u64>,
    /// Faults that happened, by kind.
    pub faults: BTreeMap<FaultKind, u64>,
    /// What the network did.
    pub network: NetworkStats,
    /// Ticks of the fault phase at which the gate was open.
    pub gate_open_fault_ticks: u64,
    /// Ticks in the fault phase.
    pub fault_ticks: u64,
    /// Ticks simulated in all.
    pub ticks: u64,
    /// What the difference sketch named for each silent drift still in effect when the faults
    /// stopped.
    pub diagnoses: Vec<DriftDiagnosis>,
}

/// One drifted (node, mode) diagnosed through the difference sketch once the faults stopped and
/// it had stayed MISMATCH for [`DRIFT_DIAGNOSIS_AFTER_TICKS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriftDiagnosis {
    /// Planted IDs still in effect (lost and still expected, kept and still unassigned).
    pub planted: usize,
    /// Whether the sketch decoded exactly the planted IDs, which were also exactly the
    /// difference between the node's actual and expected sets.
    pub named_exactly: bool,
    /// What was planted and what the sketch said, for a failure message.
    pub detail: String,
}

/// Ticks a drifted node must have been non-MATCH before it is diagnosed (the simulated
/// counterpart of `DiagnosisConfig::request_after`).
pub const DRIFT_DIAGNOSIS_AFTER_TICKS: u64 = 8;

/// Runs one seed.
pub fn run_seed(config: &SimConfig, seed: u64) -> SeedOutcome {
    engine::Simulation::new(config, seed).run()
}

/// Runs seeds `first..first + count` on `threads` threads (0: rayon's default) and summarizes;
/// the summary does not depend on the thread count.
pub fn run_seeds(config: &SimConfig, first: u64, count: u64, threads: usize) -> Summary {
    let seeds: Vec<u64> = (0..count)
        .map(|offset| first.wrapping_add(offset))
        .collect();
    let run = || -> Vec<SeedOutcome> {
        seeds
            .par_iter()
            .map(|&seed| run_seed(config, seed))
            .collect()
    };
    let outcomes = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    Summary::new(config.clone(), first, outcomes)
}

/// What many seeds produced, in seed order.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The configuration.
    pub config: SimConfig,
    /// The first seed.
    pub first_seed: u64,
    /// Every seed's outcome.
    pub outcomes: Vec<SeedOutcome>,
}

impl Summary {
    /// Wraps outcomes.
    pub fn new(config: SimConfig, first_seed: u64, outcomes: Vec<SeedOutcome>) -> Summary {
        Summary {
            config,
            first_seed,
            outcomes,
        }
    }

    /// Seeds with at least one violation of `kind`, and the first such violation.
    pub fn violations_of(&self, kind: ViolationKind) -> (usize, Option<&Violation>) {
        let mut seeds = 0;
        let mut first = None;
        for outcome in &self.outcomes {
            if let Some(violation) = outcome.violations.iter().find(|v| v.kind == kind) {
                seeds += 1;
                first.get_or_insert(violation);
            }
        }
        (seeds, first)
    }

    /// Total violations (first of each kind per seed).
    pub fn violation_count(&self) -> usize {
        self.outcomes.iter().map(|o| o.violations.len()).sum()
    }

    /// Convergence times in ticks, sorted.
    pub fn convergence_ticks(&self) -> Vec<u64> {
        let mut ticks: Vec<u64> = self.outcomes.iter().filter_map(|o| o.convergence).collect();
        ticks.sort_unstable();
        ticks
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        let net = config.network;
        let runs = self.outcomes.len() as u64;
        writeln!(
            f,
            "runs: {runs} (seeds {}..{}), {} nodes, {} dispatchers per mode, modes: {}, {} fault ticks of {:?}",
            self.first_seed,
            self.first_seed.wrapping_add(runs),
            config.nodes,
            config.dispatchers,
            if config.redo { "default+redo" } else { "default" },
            config.fault_ticks,
            config.heartbeat_period,
        )?;
        writeln!(
            f,
            "faults: loss {} dup {} reorder {} (max delay {} ticks), {} failovers and {} node leaves per run, gate rule {:?}{}",
            net.loss,
            net.duplicate,
            net.reorder,
            net.max_delay,
            config.failovers,
            config.leaves,
            config.gate_rule,
            if config.sabotage == Sabotage::None {
                String::new()
            } else {
                format!(", SABOTAGE {:?}", config.sabotage)
            },
        )?;
        let mut operators: BTreeMap<OperatorKind, u64> = BTreeMap::new();
        let mut faults: BTreeMap<FaultKind, u64> = BTreeMap::new();
        let mut network = NetworkStats::default();
        let (mut open, mut fault_ticks, mut ticks) = (0, 0, 0);
        for outcome in &self.outcomes {
            for (kind, count) in &outcome.operators {
                *operators.entry(*kind).or_default() += count;
            }
            for (kind, count) in &outcome.faults {
                *faults.entry(*kind).or_default() += count;
            }
            network = network.merged(outcome.network);
            open += outcome.gate_open_fault_ticks;
            fault_ticks += outcome.fault_ticks;
            ticks += outcome.ticks;
        }
        let list = |pairs: Vec<(String, u64)>| {
            pairs
                .into_iter()
                .map(|(name, count)| format!("{name} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "simulated: {ticks} ticks; operators: {}; faults: {}",
            list(
                OperatorKind::ALL
                    .iter()
                    .map(|k| (k.to_string(), operators.get(k).copied().unwrap_or(0)))
                    .collect()
            ),
            list(
                FaultKind::ALL
                    .iter()
                    .map(|k| (k.to_string(), faults.get(k).copied().unwrap_or(0)))
                    .collect()
            ),
        )?;
        writeln!(
            f,
            "network: {} sent, {} lost, {} duplicated, {} delayed; gate open {:.1}% of fault-phase ticks",
            network.sent,
            network.lost,
            network.duplicated,
            network.delayed,
            100.0 * open as f64 / fault_ticks.max(1) as f64,
        )?;
        let bound = config.liveness_bound();
        let converged = self.convergence_ticks();
        let show = |p| percentile(&converged, p).map_or("-".to_string(), |t| t.to_string());
        writeln!(
            f,
            "convergence after faults stop (ticks): p50 {} p90 {} p99 {} max {} over {} runs; bound {bound} = ceil({:?}/{:?}) + 2*{} - 1",
            show(50),
            show(90),
            show(99),
            show(100),
            converged.len(),
            config.tracker.resend_interval,
            config.heartbeat_period,
            net.max_delay,
        )?;
        let diagnoses: Vec<&DriftDiagnosis> =
            self.outcomes.iter().flat_map(|o| &o.diagnoses).collect();
        if !diagnoses.is_empty() {
            let exact = diagnoses.iter().filter(|d| d.named_exactly).count();
            let planted: usize = diagnoses.iter().map(|d| d.planted).sum();
            writeln!(
                f,
                "diagnosis of silent drifts: the difference sketch named exactly the planted IDs \
                 in {exact} of {} drifted node-modes ({planted} IDs){}",
                diagnoses.len(),
                match diagnoses.iter().find(|d| !d.named_exactly) {
                    Some(first) => format!("; first miss: {}", first.detail),
                    None => String::new(),
                }
            )?;
        }
        if self.violation_count() == 0 {
            return writeln!(f, "violations: none");
        }
        writeln!(f, "violations (runs affected, first replay seed):")?;
        for kind in ViolationKind::ALL {
            let (seeds, first) = self.violations_of(kind);
            if let Some(first) = first {
                writeln!(
                    f,
                    "  {kind}: {seeds} runs; replay with --seed {} --seeds 1: tick {}: {}",
                    first.seed, first.tick, first.detail
                )?;
            }
        }
        Ok(())
    }
}
