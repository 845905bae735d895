//! The bug zoo (docs/zoo.md): each TiCDC bug's pre-fix rule is caught by its check at a seed,
//! and the fixed rule (the default) passes the same seeds.

use dispatcher_checksum_sim::config::{FaultConfig, WorkloadConfig};
use dispatcher_checksum_sim::{
    run_seed, run_seeds, GateKind, Ordering, Protocol, SimConfig, ViolationKind, ZooBug,
};

/// Caught under `bug` in the first `seeds` seeds, as its check; the fixed rule clean of that
/// check over the same seeds. Returns the first seed that catches it.
fn caught_and_fixed(config: &SimConfig, bug: ZooBug, seeds: u64) -> u64 {
    let kind = bug.caught_by().expect("a zoo bug names its check");
    let buggy = run_seeds(
        &SimConfig {
            zoo: bug,
            ..config.clone()
        },
        1,
        seeds,
        0,
    );
    let (runs, first) = buggy.violations_of(kind);
    assert!(runs > 0, "{bug} not caught as {kind}: {buggy}");
    let fixed = run_seeds(config, 1, seeds, 0);
    assert_eq!(fixed.violations_of(kind).0, 0, "the fixed rule: {fixed}");
    first.expect("a violation").seed
}

/// #3846 / PR #4548: a re-placed span created at its stale stored checkpoint starts below the
/// persisted one, for both protocols (the scheduler is shared); the clamp removes it.
#[test]
fn zoo_3846_a_create_at_the_stored_checkpoint_starts_below_the_persisted_one() {
    for protocol in [Protocol::Ours, Protocol::Reference] {
        let config = SimConfig {
            protocol,
            ordering: Ordering::Reference,
            faults: FaultConfig::NONE,
            ..SimConfig::default()
        };
        let seed = caught_and_fixed(&config, ZooBug::StartAtStoredCheckpoint, 20);
        let outcome = run_seed(
            &SimConfig {
                zoo: ZooBug::StartAtStoredCheckpoint,
                ..config
            },
            seed,
        );
        assert!(outcome
            .violations
            .iter()
            .any(|v| v.detail.contains("below the persisted")));
    }
}

/// #4703 / PR #4709: with the clamp, a round in which nothing contributes (a changefeed whose
/// only table was dropped) commits `u64::MAX`; the guard skips the round. The reference only:
/// our library never advances to `u64::MAX`.
#[test]
fn zoo_4703_the_committed_checkpoint_takes_the_sentinel_before_the_guard() {
    let config = SimConfig {
        protocol: Protocol::Reference,
        ordering: Ordering::Reference,
        dispatchers: 1,
        nodes: 2,
        ..SimConfig::default()
    };
    caught_and_fixed(&config, ZooBug::CommittedTakesSentinel, 30);
    let ours = SimConfig {
        dispatchers: 1,
        nodes: 2,
        zoo: ZooBug::CommittedTakesSentinel,
        faults: FaultConfig::MIX,
        ..SimConfig::default()
    };
    let summary = run_seeds(&ours, 1, 30, 0);
    assert_eq!(
        summary.violations_of(ViolationKind::CheckpointSentinel).0,
        0,
        "{summary}"
    );
}

/// #2943 / PR #2945: the pre-fix acceptance (seq and checkpoint both not lower) keeps a stale,
/// higher watermark over a new dispatcher's lower one while its add finishes: the checkpoint
/// passes the new span. The reference without the checksum, and with PR 3782's gate (the
/// gate's MATCH is paired with the stale kept watermark).
#[test]
fn zoo_2943_a_watermark_needing_a_higher_checkpoint_passes_a_new_span() {
    for gate in [GateKind::None, GateKind::Plain] {
        let config = SimConfig {
            protocol: Protocol::Reference,
            ordering: Ordering::Reference,
            gate,
            faults: FaultConfig::NONE,
            ..SimConfig::default()
        };
        caught_and_fixed(&config, ZooBug::WatermarkNeedsHigherCheckpoint, 40);
    }
}

/// #3045 / PR #3044: a move or split floors the checkpoint only once its origin's stop was
/// seen, and scheduling spans do not bound it: the checkpoint passes the moving span. Caught
/// without the checksum; PR 3782's gate (reference ordering: the origin is MISMATCH until the
/// move finishes) holds it in these seeds.
#[test]
fn zoo_3045_a_floor_after_the_origin_stop_passes_a_moving_span() {
    let reference = SimConfig {
        protocol: Protocol::Reference,
        ordering: Ordering::Reference,
        gate: GateKind::None,
        faults: FaultConfig::NONE,
        ..SimConfig::default()
    };
    caught_and_fixed(&reference, ZooBug::FloorAfterOriginStop, 20);
    let with_gate = SimConfig {
        zoo: ZooBug::FloorAfterOriginStop,
        gate: GateKind::Plain,
        ..reference
    };
    let summary = run_seeds(&with_gate, 1, 20, 0);
    assert_eq!(
        summary.violations_of(ViolationKind::CheckpointAhead).0,
        0,
        "{summary}"
    );
}

/// #4077 / PR #4078: a balance split whose splitter returned fewer spans than planned still
/// ran its callback: the basic scheduler and the callback both added a new span, the
/// callback's add (pushed first) runs on outside the controller's map, never finishes and keeps
/// creating the span on its node: two Working dispatchers for one span, and a workload that
/// never becomes quiet. Its floor is not counted (TiCDC reads the map), so the checkpoint is
/// not held by it. The fixed rule leaves such spans to the basic scheduler alone. The
/// reference without the checksum and with PR 3782's gate, and ours (the scheduler is shared).
#[test]
fn zoo_4077_a_split_whose_count_differs_from_its_plan_places_a_span_twice() {
    let bug = ZooBug::SplitPostFinishOnCountMismatch;
    for (protocol, gate) in [
        (Protocol::Reference, GateKind::None),
        (Protocol::Reference, GateKind::Plain),
        (Protocol::Ours, GateKind::Plain),
    ] {
        let config = SimConfig {
            protocol,
            ordering: Ordering::Reference,
            gate,
            faults: FaultConfig::NONE,
            workload: WorkloadConfig {
                split_plans: true,
                ..WorkloadConfig::default()
            },
            ..SimConfig::default()
        };
        let seed = caught_and_fixed(&config, bug, 10);
        let outcome = run_seed(
            &SimConfig {
                zoo: bug,
                ..config.clone()
            },
            seed,
        );
        assert!(outcome
            .violations
            .iter()
            .any(|v| v.detail.contains("two Working dispatchers")));
        let buggy = run_seeds(
            &SimConfig {
                zoo: bug,
                ..config.clone()
            },
            1,
            10,
            0,
        );
        assert!(
            buggy.violations_of(ViolationKind::LivenessNeverQuiet).0 > 0,
            "{buggy}"
        );
        let fixed = run_seeds(&config, 1, 10, 0);
        for kind in ViolationKind::ALL {
            assert_eq!(fixed.violations_of(kind).0, 0, "{kind}: {fixed}");
        }
    }
}
