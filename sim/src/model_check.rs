//! Exhaustive checking, with `stateright`, of the same simulation the seeded runs sample: every
//! way the network can treat the protocol's lossy messages, within a bound, for each workload
//! and fault plan of a set of seeds.
//!
//! # What is explored
//! A run of the simulator is deterministic given its seed and the network's decisions. The
//! seed fixes the workload (operators and their timing), the fault plan (failovers, restarts,
//! drifts...) and every dispatcher's progress; this checker takes the network's decisions from
//! the seed's hands: every message sent while the faults are on is, at the checker's choice,
//! delivered or delayed past what is sent meanwhile (reordered), and a lossy one (a checksum
//! update, an ack, a heartbeat with its statuses) also lost or duplicated; at most `budget` of
//! them are not simply delivered. Under zoo bug #4077 the script also decides its `AddOperator`
//! race, an interleaving counted like a message fault
//! ([`crate::network::Network::interleaving`]). The [`stateright::Model`] below has one action per decision; a state is
//! the run so far, replayed from its seed by the simulator's own engine (no second copy of the
//! protocol), and stops at the next lossy message that needs a decision. Breadth-first search
//! makes a discovery the shortest decision sequence that shows it.
//!
//! # The properties
//! One `always` property per check the simulator names ([`ViolationKind`]), the same check code:
//! the persisted checkpoint never passes a live span's progress (`checkpoint-ahead`), never goes
//! back (`checkpoint-regressed`), the diagnostics, and liveness. Liveness is a bounded property
//! here, as in the simulator: once the faults stop and the run is quiet, every required node is
//! MATCH and the checkpoint caught up within [`crate::checks::liveness_bound_ms`], or the run
//! reports `liveness-*`. A run always ends (the engine caps it), so an `eventually` property over
//! its terminal states would say the same; the bound says more (how soon).
//!
//! # What it proves, and what not
//! For the configuration and seeds given, no sequence of at most `budget` message faults (of the
//! four fates, at any of the lossy messages) leads to a violation. It says nothing about more
//! faults, other seeds' workloads, other timings (delays are the seed's within the usual range,
//! or the longest one), or a larger cluster. A state is identified by its decision sequence: two
//! sequences that happen to reach the same cluster state are explored apart (the cluster's state
//! holds hash tables whose iteration order is not canonical, so it is not hashed), so *unique
//! states* counts decision sequences, and no symmetry reduction applies.

use crate::config::{CheckDepth, SimConfig};
use crate::network::NetworkConfig;
use crate::network::{Delivery, Fate, Script};
use crate::trace::TraceLine;
use crate::{run_seed, trace_seed_from, SeedOutcome, ViolationKind};
use stateright::{Checker, Model, Property};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The network under the checker: no rates (the decisions replace them while the faults are
/// on), the usual delays, and one second for a delayed or duplicated copy.
pub const CHECKED_NETWORK: NetworkConfig = NetworkConfig {
    loss: 0.0,
    duplicate: 0.0,
    reorder: 0.0,
    base_delay_ms: (1, 5),
    max_delay_ms: 1000,
};

/// The bounded model: a configuration, the seeds whose workloads and fault plans start the
/// search, and the most message faults a path may hold.
#[derive(Clone, Debug)]
pub struct BoundedModel {
    /// The cluster, protocol and faults (its network's rates are replaced by the decisions).
    pub config: SimConfig,
    /// The seeds: one initial state each.
    pub seeds: Vec<u64>,
    /// The most decisions other than `deliver` on one path.
    pub budget: usize,
}

/// The run so far: its seed, the decisions made, and what the run found up to the next
/// decision (or its end).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunState {
    /// The seed.
    pub seed: u64,
    /// The fate of each lossy message so far, in send order.
    pub fates: Vec<Fate>,
    /// How many of them are not `deliver`.
    pub faults: usize,
    /// The kind of the message the run stopped at for a decision (`None`: it ended).
    pub awaits_decision: Option<Delivery>,
    /// The violations the run found so far.
    pub violations: BTreeSet<ViolationKind>,
}

impl BoundedModel {
    /// The model of `config` (its network replaced by [`CHECKED_NETWORK`], every check on) over
    /// `seeds`, with at most `budget` message faults per path.
    pub fn new(config: SimConfig, seeds: impl IntoIterator<Item = u64>, budget: usize) -> Self {
        BoundedModel {
            config: SimConfig {
                network: CHECKED_NETWORK,
                checks: CheckDepth::Full,
                ..config
            },
            seeds: seeds.into_iter().collect(),
            budget,
        }
    }

    /// Replays `found` in the simulator with the event trace on: the run from the last moment
    /// every node was MATCH up to the violation, in the simulator's trace format.
    pub fn replay(&self, found: &Counterexample) -> (SeedOutcome, Vec<TraceLine>) {
        let config = SimConfig {
            script: Some(Script::new(found.fates.clone(), false)),
            ..self.config.clone()
        };
        trace_seed_from(&config, found.seed, false, Some(found.kind))
    }

    fn run(&self, seed: u64, fates: Vec<Fate>) -> RunState {
        let faults = fates.iter().filter(|f| **f != Fate::Deliver).count();
        let config = SimConfig {
            script: Some(Script::new(fates.clone(), faults < self.budget)),
            ..self.config.clone()
        };
        let outcome = run_seed(&config, seed);
        RunState {
            seed,
            fates,
            faults,
            awaits_decision: outcome.awaits_decision,
            violations: outcome.violations.iter().map(|v| v.kind).collect(),
        }
    }
}

impl Model for BoundedModel {
    type State = RunState;
    type Action = Fate;

    fn init_states(&self) -> Vec<RunState> {
        self.seeds
            .iter()
            .map(|seed| self.run(*seed, Vec::new()))
            .collect()
    }

    fn actions(&self, state: &RunState, actions: &mut Vec<Fate>) {
        let Some(delivery) = state.awaits_decision else {
            return;
        };
        actions.push(Fate::Deliver);
        if state.faults < self.budget {
            actions.extend(
                Script::fates_of(delivery)
                    .iter()
                    .filter(|fate| **fate != Fate::Deliver),
            );
        }
    }

    fn next_state(&self, state: &RunState, fate: Fate) -> Option<RunState> {
        let mut fates = state.fates.clone();
        fates.push(fate);
        Some(self.run(state.seed, fates))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        ViolationKind::ALL
            .iter()
            // Named as the simulator names the check: `checkpoint-ahead`...
            .map(|kind| Property::always(kind.name(), never(*kind)))
            .collect()
    }
}

/// The condition "no violation of `kind`" as the function pointer `stateright` takes.
fn never(kind: ViolationKind) -> fn(&BoundedModel, &RunState) -> bool {
    macro_rules! conditions {
        ($($kind:ident),*) => {
            match kind {
                $(ViolationKind::$kind => |_, state| !state.violations.contains(&ViolationKind::$kind),)*
            }
        };
    }
    conditions!(
        CheckpointAhead,
        CheckpointRegressed,
        CheckpointSentinel,
        StartBelowPersisted,
        TwoWorking,
        LivenessNoMatch,
        LivenessStalled,
        LivenessNeverQuiet,
        GateOpenedOnUnequalSets,
        Equivalence,
        TrackerOracle,
        MatchTruthful
    )
}

/// A counterexample: the seed and the decisions that reach a violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// The violation.
    pub kind: ViolationKind,
    /// The seed (its workload and fault plan).
    pub seed: u64,
    /// The decisions, as `dcsum simulate --decisions` takes them.
    pub decisions: String,
    /// The decisions, one per message in send order.
    pub fates: Vec<Fate>,
    /// How many decisions the path holds (its depth).
    pub depth: usize,
}

/// What one search did and found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// States generated (with repeats).
    pub states: usize,
    /// Distinct states (here: distinct decision sequences).
    pub unique_states: usize,
    /// The deepest path explored.
    pub max_depth: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Worker threads.
    pub threads: usize,
    /// Whether the search visited every state within the bound (not stopped by a time limit).
    pub complete: bool,
    /// The shortest counterexample found for each property that failed.
    pub counterexamples: Vec<Counterexample>,
}

impl CheckReport {
    /// States generated per second of wall time.
    pub fn states_per_second(&self) -> f64 {
        self.states as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Searches `model` breadth first with `threads` workers, until every state within the bound is
/// visited, every property has a counterexample, or `timeout` passes.
pub fn check(model: BoundedModel, threads: usize, timeout: Option<Duration>) -> CheckReport {
    let started = Instant::now();
    let mut builder = model.checker().threads(threads.max(1));
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    let checker = builder.spawn_bfs().join();
    let elapsed = started.elapsed();
    // A search stopped by the time limit says so even if it was about to end (stateright reports
    // a stopped search as done).
    let complete = timeout.is_none_or(|limit| elapsed + Duration::from_millis(50) < limit);
    let mut counterexamples: Vec<Counterexample> = checker
        .discoveries()
        .into_iter()
        .filter_map(|(name, path)| {
            let kind = ViolationKind::ALL.into_iter().find(|k| k.name() == name)?;
            let last = path.last_state();
            Some(Counterexample {
                kind,
                seed: last.seed,
                decisions: Script::describe(&last.fates),
                fates: last.fates.clone(),
                depth: last.fates.len(),
            })
        })
        .collect();
    counterexamples.sort_by_key(|c| c.kind);
    CheckReport {
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        elapsed,
        threads: threads.max(1),
        complete,
        counterexamples,
    }
}
