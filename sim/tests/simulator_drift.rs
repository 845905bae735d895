//! The simulator's silent-drift fault: a node loses or keeps a dispatcher without telling anyone.
//! The gate holds once a heartbeat computed after the drift arrives, the difference sketch names
//! exactly the planted IDs in every run, the node repairs them, and every other check stays clean.

use dispatcher_checksum_sim::network::NetworkConfig;
use dispatcher_checksum_sim::workload::FaultKind;
use dispatcher_checksum_sim::{run_seeds, SimConfig};

fn drifting() -> SimConfig {
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
        failovers: 2,
        leaves: 1,
        drifts: 3,
        fault_ticks: 200,
        ..SimConfig::default()
    }
}

#[test]
fn every_drift_is_named_exactly_and_the_runs_stay_clean() {
    let config = drifting();
    let summary = run_seeds(&config, 1, 300, 0);
    let text = summary.to_string();
    println!("{text}");
    assert_eq!(summary.violation_count(), 0, "\n{text}");
    assert_eq!(summary.convergence_ticks().len(), 300, "\n{text}");
    let bound = config.liveness_bound();
    assert!(
        summary.convergence_ticks().iter().all(|&t| t <= bound),
        "\n{text}"
    );
    let drifts: u64 = summary
        .outcomes
        .iter()
        .map(|o| o.faults.get(&FaultKind::SilentDrift).copied().unwrap_or(0))
        .sum();
    assert!(drifts >= 800, "{drifts} drifts injected");
    let diagnoses: Vec<_> = summary.outcomes.iter().flat_map(|o| &o.diagnoses).collect();
    assert!(diagnoses.len() >= 200, "{} diagnosed", diagnoses.len());
    for diagnosis in &diagnoses {
        assert!(diagnosis.named_exactly, "{}", diagnosis.detail);
        assert!(diagnosis.planted > 0);
    }
    assert!(
        text.contains(&format!(
            "named exactly the planted IDs in {0} of {0} drifted node-modes",
            diagnoses.len()
        )),
        "{text}"
    );
}

#[test]
fn without_drifts_nothing_is_diagnosed() {
    let config = SimConfig {
        drifts: 0,
        ..drifting()
    };
    let summary = run_seeds(&config, 1, 20, 0);
    assert!(summary.outcomes.iter().all(|o| o.diagnoses.is_empty()));
    assert!(!summary.to_string().contains("diagnosis of silent drifts"));
}
