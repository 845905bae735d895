//! A deterministic, seeded, discrete-event simulator that judges dispatcher-set checksum
//! protocols, this project's and TiCDC's, on what a change-data-capture user loses: data when
//! the changefeed's checkpoint passes a span's progress, time when it is held.
//!
//! # What is simulated
//! One maintainer at a time (it can fail over, restart after an error, move, or linger as a
//! zombie), nodes that run the spans' dispatchers (they can crash and come back under a new node
//! ID, as TiCDC's do, or leave and be replaced), the
//! network between them (loss, duplication, reordering), the scheduler's operators (add,
//! remove, move, split, merge, and a table drop replacing a running one), every dispatcher's
//! lifecycle and progress, and the checkpoint the maintainer computes. Time is in milliseconds;
//! randomness comes from ChaCha8 streams with every derived quantity computed by fixed formulas
//! ([`rng`]), so a seed replays bit for bit on any machine.
//!
//! - [`config`]: the protocol (`ours`, `reference`), the operator ordering (`eager`: the
//!   expected set changes before the command; `reference`: in the operator's `PostFinish`, after
//!   the node reported the change), the gate (plain, explained, none), timings, faults, checks;
//! - `engine` (private): the event loop; [`node`], [`maintainer`]: the two sides;
//!   [`protocol`]: the protocols under test (ours, the reference's) behind two traits; [`world`]: the truth (the schedule and every
//!   span's progress); [`network`], [`faults`]: what goes wrong;
//! - [`model_check`]: the same runs checked exhaustively with `stateright`, within a bound of
//!   message faults per path;
//! - [`checks`]: every check it names, one type per property over a read-only view of the
//!   cluster, and the liveness bound; [`trace`]: readable traces;
//! - [`experiments`]: the verdict table and the rebalance at scale the documentation reports.
//!
//! # The property that matters
//! Whenever the maintainer's checkpoint is `C`, every span of the schedule has progress `>= C`
//! ([`world`]); a violation is `checkpoint-ahead`, data a restart would skip. The checkpoint
//! must also never go back (`checkpoint-regressed`), and once the faults stop every node the gate
//! requires must return to MATCH and the checkpoint must catch up within a bound derived from
//! the timings ([`checks::liveness_bound_ms`]). Set equality when the gate opens is kept as a
//! separate diagnostic (`gate-opened-on-unequal-sets`): not by itself data loss.
//!
//! # Planted bugs
//! Every check has a [`PlantedBug`] that must make it fire ([`planted`], its one definition, for
//! the simulator and `dcsum simulate --plant-bug`); `tests/simulator.rs` runs each.

pub mod checks;
pub mod config;
pub mod coordinator;
mod engine;
pub mod experiments;
pub mod faults;
pub mod maintainer;
pub mod model_check;
pub mod network;
pub mod node;
pub mod planted;
pub mod protocol;
pub mod rng;
pub mod trace;
pub mod world;
pub mod zoo;

pub use checks::{Violation, ViolationKind};
pub use config::{
    CheckDepth, FaultConfig, GateKind, Ordering, Protocol, SimConfig, Timing, WorkloadConfig,
};
pub use network::{NetworkConfig, NetworkStats};
pub use planted::PlantedBug;
pub use zoo::ZooBug;

use checks::percentile;
use faults::FaultKind;
use maintainer::OperatorKind;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use trace::TraceLine;

/// What the checkpoint did during the fault phase.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunMetrics {
    /// Checkpoint steps in the fault phase.
    pub fault_ticks: u64,
    /// Of those, steps at which the checksum gate held the checkpoint.
    pub held_ticks: u64,
    /// At each fault-phase step: the slowest span's progress minus the checkpoint (ms).
    pub lag_slowest: Vec<u64>,
    /// At each fault-phase step: the upstream's now minus the checkpoint (ms).
    pub lag_now: Vec<u64>,
    /// Beside each `lag_now` sample when `SimConfig::not_match_series` asks for it: the
    /// simulated time (ms), the nodes running the mode, and of them the nodes not at MATCH.
    pub not_match: Vec<(u64, u32, u32)>,
    /// Checksum updates the maintainers sent during the fault phase.
    pub updates_sent: u64,
    /// Acks that reached a maintainer during the fault phase.
    pub acks_received: u64,
    /// Heartbeats that reached a maintainer during the fault phase.
    pub heartbeats_received: u64,
    /// Checkpoint steps at which the maintainer's internal checkpoint went down (an observation:
    /// the persisted checkpoint is guarded; `checkpoint-regressed` judges that one).
    pub internal_dips: u64,
    /// The deepest such dip (ms of upstream time).
    pub deepest_dip: u64,
}

/// What one seed's run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedOutcome {
    /// The seed.
    pub seed: u64,
    /// The first violation of each kind.
    pub violations: Vec<Violation>,
    /// Milliseconds from the quiet point to convergence (`None`: never quiet; `u64::MAX`: not
    /// within the bound).
    pub convergence_ms: Option<u64>,
    /// When the run became quiet.
    pub quiet_at_ms: Option<u64>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<FaultKind, u64>,
    /// Operators started by the workload, by kind.
    pub operators: BTreeMap<OperatorKind, u64>,
    /// What the network did.
    pub network: NetworkStats,
    /// The checkpoint's progress.
    pub metrics: RunMetrics,
    /// Simulated time at the end.
    pub simulated_ms: u64,
    /// Under the model checker: the run stopped because a message (of this kind) needs its
    /// decision (the network's script ran out); always `None` otherwise.
    pub awaits_decision: Option<network::Delivery>,
}

impl SeedOutcome {
    /// The violation of `kind`, if any.
    pub fn violation(&self, kind: ViolationKind) -> Option<&Violation> {
        self.violations.iter().find(|v| v.kind == kind)
    }
}

/// Runs one seed.
pub fn run_seed(config: &SimConfig, seed: u64) -> SeedOutcome {
    engine::Simulation::new(config, seed).run().0
}

/// Runs one seed with the event trace on, and returns the trace cut to the events that matter:
/// from the last moment every node was at MATCH before the first violation, up to it (the whole
/// run when there is none).
pub fn trace_seed(config: &SimConfig, seed: u64) -> (SeedOutcome, Vec<TraceLine>) {
    trace_seed_from(config, seed, false, None)
}

/// [`trace_seed`], up to the first violation of `kind` (of any kind when `None`), and from the
/// start when `whole`.
pub fn trace_seed_from(
    config: &SimConfig,
    seed: u64,
    whole: bool,
    kind: Option<ViolationKind>,
) -> (SeedOutcome, Vec<TraceLine>) {
    let config = SimConfig {
        trace: true,
        ..config.clone()
    };
    let (outcome, tracer) = engine::Simulation::new(&config, seed).run();
    let marker = match kind {
        Some(kind) => format!("VIOLATION {kind}:"),
        None => "VIOLATION".to_string(),
    };
    let until = tracer
        .lines()
        .iter()
        .position(|line| line.who == "check" && line.text.starts_with(&marker));
    let lines = if whole {
        let end = until.map_or(tracer.len(), |u| u + 1);
        tracer.lines()[..end].to_vec()
    } else {
        tracer.shortened(until).to_vec()
    };
    (outcome, lines)
}

/// Runs seeds `first..first + count` on `threads` threads (0: rayon's default); the summary does
/// not depend on the thread count.
pub fn run_seeds(config: &SimConfig, first: u64, count: u64, threads: usize) -> Summary {
    // Seeds run in chunks, so a seed count costs memory only as its runs finish: neither the
    // seeds nor their outcomes are allocated up front (`--seeds 100000000000` used to ask for
    // 800 GB before the first run).
    const CHUNK: u64 = 1024;
    let run = || -> Vec<SeedOutcome> {
        let mut outcomes = Vec::new();
        let mut done = 0;
        while done < count {
            let end = done + CHUNK.min(count - done);
            outcomes.par_extend(
                (done..end)
                    .into_par_iter()
                    .map(|offset| run_seed(config, first.wrapping_add(offset))),
            );
            done = end;
        }
        outcomes
    };
    let outcomes = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    Summary {
        config: config.clone(),
        first_seed: first,
        outcomes,
    }
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
    /// Runs with at least one violation of `kind`, and the first such violation.
    pub fn violations_of(&self, kind: ViolationKind) -> (usize, Option<&Violation>) {
        let mut runs = 0;
        let mut first = None;
        for outcome in &self.outcomes {
            if let Some(violation) = outcome.violation(kind) {
                runs += 1;
                first.get_or_insert(violation);
            }
        }
        (runs, first)
    }

    /// Total violations (the first of each kind per run).
    pub fn violation_count(&self) -> usize {
        self.outcomes.iter().map(|o| o.violations.len()).sum()
    }

    /// Violations users lose data or time over (everything but the consistency diagnostic).
    pub fn user_visible_violations(&self) -> usize {
        self.outcomes
            .iter()
            .flat_map(|o| &o.violations)
            .filter(|v| v.kind.is_user_visible())
            .count()
    }

    /// Convergence times in milliseconds, sorted (runs that converged within the bound).
    pub fn convergence_ms(&self) -> Vec<u64> {
        let mut times: Vec<u64> = self
            .outcomes
            .iter()
            .filter_map(|o| o.convergence_ms)
            .filter(|t| *t != u64::MAX)
            .collect();
        times.sort_unstable();
        times
    }

    /// Runs in which the maintainer's internal checkpoint dipped (an observation), and the
    /// deepest dip in milliseconds.
    pub fn internal_dips(&self) -> (usize, u64) {
        let runs = self
            .outcomes
            .iter()
            .filter(|o| o.metrics.internal_dips > 0)
            .count();
        let deepest = self
            .outcomes
            .iter()
            .map(|o| o.metrics.deepest_dip)
            .max()
            .unwrap_or(0);
        (runs, deepest)
    }

    /// The fraction of fault-phase checkpoint steps at which the gate held the checkpoint.
    pub fn held_fraction(&self) -> f64 {
        let (held, ticks) = self.outcomes.iter().fold((0, 0), |(h, t), o| {
            (h + o.metrics.held_ticks, t + o.metrics.fault_ticks)
        });
        held as f64 / ticks.max(1) as f64
    }

    /// Percentiles of how far the checkpoint lagged the slowest span in the fault phase.
    pub fn lag_slowest(&self) -> Vec<u64> {
        let mut lags: Vec<u64> = self
            .outcomes
            .iter()
            .flat_map(|o| o.metrics.lag_slowest.iter().copied())
            .collect();
        lags.sort_unstable();
        lags
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        let net = config.network;
        let runs = self.outcomes.len() as u64;
        writeln!(
            f,
            "runs: {runs} (seeds {}..{}), {}, fault phase {} s",
            self.first_seed,
            self.first_seed.wrapping_add(runs),
            config.describe(),
            config.fault_phase_ms / 1000,
        )?;
        writeln!(
            f,
            "faults: loss {} dup {} reorder {} (delays up to {} ms); per run {} failovers, {} error restarts, {} maintainer moves, {} moves whose destination fails, {} restarts (new node ID), {} leaves, {} replacements, zombie probability {}{}{}",
            net.loss,
            net.duplicate,
            net.reorder,
            net.max_delay_ms,
            config.faults.failovers,
            config.faults.error_restarts,
            config.faults.moves,
            config.faults.move_dest_fails,
            config.faults.restarts,
            config.faults.leaves,
            config.faults.replacements,
            config.faults.zombie,
            match config.faults.coordinator_failovers {
                0 => String::new(),
                n => format!(", {n} coordinator failovers"),
            },
            if config.planted_bug == PlantedBug::None {
                String::new()
            } else {
                format!("; PLANTED BUG {}", config.planted_bug.name())
            },
        )?;
        let mut operators: BTreeMap<OperatorKind, u64> = BTreeMap::new();
        let mut faults: BTreeMap<FaultKind, u64> = BTreeMap::new();
        let mut network = NetworkStats::default();
        let mut simulated = 0;
        for outcome in &self.outcomes {
            for (kind, count) in &outcome.operators {
                *operators.entry(*kind).or_default() += count;
            }
            for (kind, count) in &outcome.faults {
                *faults.entry(*kind).or_default() += count;
            }
            network = network.merged(outcome.network);
            simulated += outcome.simulated_ms;
        }
        let list = |pairs: Vec<(&str, u64)>| {
            pairs
                .into_iter()
                .map(|(name, count)| format!("{name} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "simulated: {:.0} s; operators: {}; faults: {}",
            simulated as f64 / 1000.0,
            list(
                OperatorKind::ALL
                    .iter()
                    .map(|k| (k.name(), operators.get(k).copied().unwrap_or(0)))
                    .collect()
            ),
            list(
                FaultKind::ALL
                    .iter()
                    .map(|k| (k.name(), faults.get(k).copied().unwrap_or(0)))
                    .collect()
            ),
        )?;
        writeln!(
            f,
            "network: {} sent, {} lost, {} duplicated, {} reordered",
            network.sent, network.lost, network.duplicated, network.delayed
        )?;
        let lags = self.lag_slowest();
        let show =
            |values: &[u64], p| percentile(values, p).map_or("-".to_string(), |t| t.to_string());
        writeln!(
            f,
            "checkpoint: held by the gate in {:.1}% of fault-phase steps; lag behind the slowest span p50 {} ms, p99 {} ms",
            100.0 * self.held_fraction(),
            show(&lags, 50),
            show(&lags, 99),
        )?;
        let dips = self.internal_dips();
        if dips.0 > 0 {
            writeln!(
                f,
                "observation: the maintainer's internal checkpoint dipped in {} runs (deepest {} ms); what is persisted is guarded",
                dips.0, dips.1
            )?;
        }
        let converged = self.convergence_ms();
        writeln!(
            f,
            "convergence after the quiet point (ms): p50 {} p90 {} p99 {} max {} over {} runs; bound {} ms",
            show(&converged, 50),
            show(&converged, 90),
            show(&converged, 99),
            show(&converged, 100),
            converged.len(),
            config.liveness_bound_ms(),
        )?;
        if self.violation_count() == 0 {
            return writeln!(f, "violations: none");
        }
        writeln!(f, "violations (runs affected, first replay seed):")?;
        for kind in ViolationKind::ALL {
            let (count, first) = self.violations_of(kind);
            if let Some(first) = first {
                writeln!(f, "  {kind}: {count} runs; {first}")?;
            }
        }
        Ok(())
    }
}
