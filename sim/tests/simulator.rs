//! The fault-injection simulator inside `cargo test`: 1,000 seeds with 10% loss, duplication and
//! reordering, failovers and a node leaving, in both modes, with zero violations; proof that each
//! check can fail (deliberate bugs planted through `SimConfig::sabotage`, and the protocol's gate
//! without the verified-seq rule); determinism; and the CLI's exit codes.

use dispatcher_checksum_sim::invariants::ViolationKind;
use dispatcher_checksum_sim::network::NetworkConfig;
use dispatcher_checksum_sim::workload::{FaultKind, OperatorKind};
use dispatcher_checksum_sim::{run_seed, run_seeds, GateRule, Sabotage, SimConfig, Summary};

/// Sized so 1,000 seeds take a few seconds in the test profile on two shared cores.
fn faulty() -> SimConfig {
    SimConfig {
        nodes: 4,
        dispatchers: 24,
        redo: true,
        network: NetworkConfig {
            loss: 0.1,
            duplicate: 0.1,
            reorder: 0.1,
            max_delay: 4,
        },
        failovers: 3,
        leaves: 1,
        fault_ticks: 200,
        ..SimConfig::default()
    }
}

fn assert_clean(summary: &Summary) {
    assert_eq!(summary.violation_count(), 0, "\n{summary}");
    assert_eq!(
        summary.convergence_ticks().len(),
        summary.outcomes.len(),
        "every run converges\n{summary}"
    );
}

#[test]
fn a_thousand_faulty_seeds_have_no_violation() {
    let config = faulty();
    let summary = run_seeds(&config, 1, 1000, 0);
    assert_clean(&summary);
    let bound = config.liveness_bound();
    assert!(summary.convergence_ticks().iter().all(|&t| t <= bound));
    // The faults and operators really happened.
    let mut failovers = 0;
    let mut leaves = 0;
    let mut operators = [0u64; 5];
    let mut lost = 0;
    for outcome in &summary.outcomes {
        failovers += outcome
            .faults
            .get(&FaultKind::Failover)
            .copied()
            .unwrap_or(0);
        leaves += outcome
            .faults
            .get(&FaultKind::NodeLeave)
            .copied()
            .unwrap_or(0);
        for (index, kind) in OperatorKind::ALL.iter().enumerate() {
            operators[index] += outcome.operators.get(kind).copied().unwrap_or(0);
        }
        lost += outcome.network.lost;
    }
    assert!(failovers >= 2_900, "{failovers} failovers\n{summary}");
    assert!(leaves >= 900, "{leaves} leaves\n{summary}");
    assert!(
        operators.iter().all(|&count| count > 1_000),
        "{operators:?}"
    );
    assert!(lost > 10_000, "{lost} lost");
}

#[test]
fn larger_clusters_with_heavy_faults_stay_clean() {
    let config = SimConfig {
        nodes: 7,
        dispatchers: 48,
        network: NetworkConfig {
            loss: 0.3,
            duplicate: 0.3,
            reorder: 0.5,
            max_delay: 6,
        },
        failovers: 6,
        leaves: 3,
        ..faulty()
    };
    assert_clean(&run_seeds(&config, 10_000, 60, 0));
}

fn seeds_with(summary: &Summary, kind: ViolationKind) -> usize {
    summary.violations_of(kind).0
}

#[test]
fn a_gate_that_trusts_mismatch_is_caught_by_the_safety_check() {
    let config = SimConfig {
        sabotage: Sabotage::GateTrustsMismatch,
        ..faulty()
    };
    let summary = run_seeds(&config, 1, 30, 0);
    assert!(
        seeds_with(&summary, ViolationKind::Safety) >= 25,
        "{summary}"
    );
}

#[test]
fn an_incremental_set_that_misses_events_is_caught_by_the_equivalence_check() {
    let config = SimConfig {
        sabotage: Sabotage::IncrementalMissesWorking,
        ..faulty()
    };
    let summary = run_seeds(&config, 1, 30, 0);
    assert_eq!(
        seeds_with(&summary, ViolationKind::Equivalence),
        30,
        "{summary}"
    );
}

#[test]
fn a_maintainer_that_never_resends_is_caught_by_the_liveness_check() {
    let config = SimConfig {
        sabotage: Sabotage::NoResend,
        ..faulty()
    };
    let summary = run_seeds(&config, 1, 30, 0);
    assert!(
        seeds_with(&summary, ViolationKind::Liveness) >= 10,
        "{summary}"
    );
    // Without loss nothing needs a resend, so the same bug goes unnoticed: the check is about
    // the faults, not a false alarm.
    let lossless = SimConfig {
        network: NetworkConfig {
            loss: 0.0,
            ..faulty().network
        },
        ..config
    };
    assert_clean(&run_seeds(&lossless, 1, 30, 0));
}

#[test]
fn the_gate_without_the_verified_seq_rule_opens_on_stale_match() {
    // The protocol's gate alone sees (state, state_seq, watermark) only, so a MATCH computed
    // against the previous expected version opens it right after a delta: the race the
    // verified-seq rule closes (see docs/readme/simulator.md).
    let config = SimConfig {
        gate_rule: GateRule::Contract,
        ..faulty()
    };
    let summary = run_seeds(&config, 1, 30, 0);
    assert!(
        seeds_with(&summary, ViolationKind::Safety) >= 25,
        "{summary}"
    );
    // MATCH itself never lies, and the contract gate still converges.
    assert_eq!(seeds_with(&summary, ViolationKind::MatchTruthful), 0);
    assert_eq!(seeds_with(&summary, ViolationKind::Liveness), 0);
}

#[test]
fn the_same_seed_gives_the_same_run_whatever_the_thread_count() {
    let config = faulty();
    let one = run_seeds(&config, 77, 40, 1);
    let two = run_seeds(&config, 77, 40, 2);
    assert_eq!(one.outcomes, two.outcomes);
    assert_eq!(one.to_string(), two.to_string());
    assert_eq!(run_seed(&config, 78), one.outcomes[1]);
    assert_ne!(one.outcomes[0], one.outcomes[1]);
}

#[test]
fn without_faults_the_gate_is_mostly_open_and_converges_at_once() {
    let config = SimConfig {
        network: NetworkConfig {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            max_delay: 1,
        },
        failovers: 0,
        leaves: 0,
        operator_rate: 0.05,
        ..faulty()
    };
    let summary = run_seeds(&config, 1, 50, 0);
    assert_clean(&summary);
    assert!(
        summary.convergence_ticks().iter().all(|&t| t <= 2),
        "{summary}"
    );
    for outcome in &summary.outcomes {
        assert!(
            outcome.gate_open_fault_ticks * 2 > outcome.fault_ticks,
            "seed {} open {} of {}",
            outcome.seed,
            outcome.gate_open_fault_ticks,
            outcome.fault_ticks
        );
    }
}

#[test]
fn nodes_that_reset_on_every_bootstrap_are_caught_by_the_liveness_check() {
    // A bootstrap that arrives after the first update of its epoch must not reset the verifiers
    // again: the maintainer already counts that update as acked and never resends it.
    let config = SimConfig {
        sabotage: Sabotage::ResetOnEveryBootstrap,
        ..faulty()
    };
    let summary = run_seeds(&config, 1, 100, 0);
    assert!(
        seeds_with(&summary, ViolationKind::Liveness) >= 3,
        "{summary}"
    );
    assert_eq!(seeds_with(&summary, ViolationKind::Safety), 0, "{summary}");
}
