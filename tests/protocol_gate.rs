//! The checkpoint gate's rules of issue 3, one test per rule, and random heartbeat orders
//! against an oracle that keeps the highest-`state_seq` report.

use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, CheckpointGate, ChecksumHeartbeat, ChecksumState, ExpectedVersion,
    GateDecision, HoldReason, MaintainerChecksums, Mode, NodeChecksums, NodeId, TrackerConfig,
    VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

const A: NodeId = NodeId(1);
const B: NodeId = NodeId(2);
const MATCH: ChecksumState = ChecksumState::Match;
const MISMATCH: ChecksumState = ChecksumState::Mismatch;

#[test]
fn gate_keeps_the_latest_state_per_node_and_mode_and_ignores_lower_state_seq() {
    let mut gate = CheckpointGate::new();
    assert!(gate.observe_heartbeat(A, Mode::Default, MATCH, 4, Some(100)));
    assert!(
        !gate.observe_heartbeat(A, Mode::Default, MISMATCH, 3, None),
        "older"
    );
    assert_eq!(gate.report(A, Mode::Default).unwrap().state, MATCH);
    assert!(gate.observe_heartbeat(A, Mode::Default, MATCH, 4, Some(90)));
    assert_eq!(
        gate.report(A, Mode::Default).unwrap().watermark,
        Some(100),
        "same state_seq: the highest watermark stays"
    );
    assert!(gate.observe_heartbeat(A, Mode::Default, MISMATCH, 5, None));
    assert_eq!(gate.report(A, Mode::Default).unwrap().watermark, None);
    assert_eq!(gate.report(A, Mode::Redo), None, "modes are kept apart");
}

#[test]
fn gate_advances_only_when_every_required_node_and_mode_is_match_with_a_watermark() {
    let mut gate = CheckpointGate::new();
    let required = [(A, Mode::Default), (B, Mode::Default), (A, Mode::Redo)];
    gate.observe_heartbeat(A, Mode::Default, MATCH, 1, Some(30));
    gate.observe_heartbeat(B, Mode::Default, MATCH, 1, Some(20));
    gate.observe_heartbeat(A, Mode::Redo, MATCH, 1, Some(25));
    assert_eq!(
        gate.decide(&required),
        GateDecision::Advance { checkpoint: 20 }
    );
    assert_eq!(gate.decide(&required).checkpoint(), Some(20));
    assert_eq!(gate.decide(&[]), GateDecision::NothingRequired);
}

#[test]
fn gate_holds_naming_the_node_mode_and_reason() {
    let mut gate = CheckpointGate::new();
    let required = [(A, Mode::Default), (A, Mode::Redo), (B, Mode::Default)];
    gate.observe_heartbeat(A, Mode::Default, MATCH, 1, Some(30));
    assert_eq!(
        gate.decide(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Redo,
            reason: HoldReason::NoHeartbeat
        }
    );
    gate.observe_heartbeat(A, Mode::Redo, MISMATCH, 1, None);
    assert_eq!(
        gate.decide(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Redo,
            reason: HoldReason::NotMatch(MISMATCH)
        }
    );
    gate.observe_heartbeat(A, Mode::Redo, MATCH, 2, Some(1));
    gate.observe_heartbeat(B, Mode::Default, MATCH, 7, None);
    let hold = gate.decide(&required);
    assert_eq!(
        hold,
        GateDecision::Hold {
            node: B,
            mode: Mode::Default,
            reason: HoldReason::NoWatermark
        }
    );
    assert_eq!(
        hold.to_string(),
        "hold: node-2 (mode default): MATCH but no watermark reported"
    );
    gate.remove_node(B);
    assert_eq!(gate.report(B, Mode::Default), None);
    assert_eq!(
        gate.decide(&required[..2]),
        GateDecision::Advance { checkpoint: 1 }
    );
}

#[test]
fn maintainer_requires_every_tracked_node_in_every_enabled_mode() {
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), true, TrackerConfig::default());
    let now = Duration::ZERO;
    for mode in [Mode::Default, Mode::Redo] {
        maintainer
            .tracker_mut(mode)
            .unwrap()
            .reset_full(1, &[A, B], [(A, Vec::new())], now);
    }
    let required = maintainer.required();
    assert_eq!(
        required,
        vec![
            (A, Mode::Default),
            (B, Mode::Default),
            (A, Mode::Redo),
            (B, Mode::Redo)
        ]
    );
    for (node, mode) in required {
        let heartbeat = ChecksumHeartbeat {
            node,
            mode,
            state: MATCH,
            state_seq: 1,
            watermark: Some(9),
            verified_against: ExpectedVersion { epoch: 1, seq: 1 },
        };
        assert_eq!(maintainer.observe_heartbeat(heartbeat, now), (true, false));
    }
    assert_eq!(
        maintainer.decide_verified(),
        GateDecision::Advance { checkpoint: 9 }
    );
    maintainer.remove_nodes(&[B]);
    assert_eq!(maintainer.required().len(), 2);
}

fn set(node: &mut NodeChecksums) -> &mut dispatcher_checksum::protocol::IncrementalActualSet {
    node.verifier_mut(Mode::Default).unwrap().actual_set_mut()
}

fn version(epoch: u64, seq: u64) -> ExpectedVersion {
    ExpectedVersion { epoch, seq }
}

fn heartbeat(state_seq: u64, verified: ExpectedVersion, watermark: u64) -> ChecksumHeartbeat {
    ChecksumHeartbeat {
        node: A,
        mode: Mode::Default,
        state: MATCH,
        state_seq,
        watermark: Some(watermark),
        verified_against: verified,
    }
}

#[test]
fn gate_with_versions_holds_a_match_against_an_older_update_or_epoch() {
    let mut gate = CheckpointGate::new();
    let required = [(A, Mode::Default, version(2, 6))];
    gate.observe(&heartbeat(3, version(2, 5), 50));
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Default,
            reason: HoldReason::Stale {
                reported: Some(version(2, 5)),
                required: version(2, 6)
            }
        }
    );
    // Same state_seq (still MATCH), now against seq 6: the gate opens.
    gate.observe(&heartbeat(3, version(2, 6), 60));
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Advance { checkpoint: 60 }
    );
    // A reordered older heartbeat of the same state_seq does not take it back.
    gate.observe(&heartbeat(3, version(2, 5), 55));
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Advance { checkpoint: 60 }
    );
    // A heartbeat from before a failover (epoch 1) is stale for the new maintainer.
    let mut fresh = CheckpointGate::new();
    fresh.observe(&heartbeat(9, version(1, 40), 70));
    assert!(matches!(
        fresh.decide_versions(&required),
        GateDecision::Hold {
            reason: HoldReason::Stale { .. },
            ..
        }
    ));
    // A heartbeat without a version cannot satisfy a versioned requirement.
    fresh.observe_heartbeat(A, Mode::Default, MATCH, 10, Some(80));
    assert!(matches!(
        fresh.decide_versions(&required),
        GateDecision::Hold {
            reason: HoldReason::Stale { reported: None, .. },
            ..
        }
    ));
}

#[test]
fn maintainer_gate_stays_closed_while_a_move_is_in_flight() {
    // A owns X and Y; the maintainer moves Y to B. Until both nodes have applied the new
    // updates and their sets changed, the gate must not open, even though the old heartbeats
    // (MATCH against the old updates) are still the latest ones it holds.
    let (x, y) = (DispatcherId::new(0, 1), DispatcherId::new(0, 2));
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
    let mut a: NodeChecksums = NodeChecksums::new(A, false, VerifierConfig::default());
    let mut b: NodeChecksums = NodeChecksums::new(B, false, VerifierConfig::default());
    for id in [x, y] {
        a.verifier_mut(Mode::Default)
            .unwrap()
            .actual_set_mut()
            .on_dispatcher_added(id, ComponentState::Working);
    }
    let now = Duration::ZERO;
    let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
    let report = tracker.reset_full(1, &[A, B], [(A, vec![x, y])], now);
    for update in &report.updates {
        let node = if update.node == A { &mut a } else { &mut b };
        let ack = node.apply_update(update).unwrap();
        maintainer.handle_ack(ack);
    }
    for node in [&mut a, &mut b] {
        let (heartbeat, _) = node.heartbeat(Mode::Default, 10, now).unwrap();
        maintainer.observe_heartbeat(heartbeat, now);
    }
    assert_eq!(
        maintainer.decide_verified(),
        GateDecision::Advance { checkpoint: 10 }
    );

    let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
    tracker.apply_delta(B, &[y], &[]);
    let updates = tracker.flush_dirty(now);
    assert_eq!(
        maintainer.decide(),
        GateDecision::Advance { checkpoint: 10 },
        "the plain rule opens on the stale MATCH heartbeats"
    );
    assert!(matches!(
        maintainer.decide_verified(),
        GateDecision::Hold {
            reason: HoldReason::Stale { .. },
            ..
        }
    ));
    // The nodes apply the updates, then run the move: B creates Y (Initializing, excluded),
    // A removes it; only once Y is Working on B do both report MATCH at the new seqs.
    for update in &updates {
        let node = if update.node == A { &mut a } else { &mut b };
        maintainer.handle_ack(node.apply_update(update).unwrap());
    }
    set(&mut b).on_dispatcher_added(y, ComponentState::Initializing);
    set(&mut a).on_dispatcher_removed(y);
    for node in [&mut a, &mut b] {
        let (heartbeat, _) = node.heartbeat(Mode::Default, 20, now).unwrap();
        maintainer.observe_heartbeat(heartbeat, now);
    }
    assert_eq!(
        maintainer.decide_verified(),
        GateDecision::Hold {
            node: B,
            mode: Mode::Default,
            reason: HoldReason::NotMatch(MISMATCH)
        }
    );
    set(&mut b).on_state_changed(y, ComponentState::Working);
    let (heartbeat, _) = b.heartbeat(Mode::Default, 30, now).unwrap();
    maintainer.observe_heartbeat(heartbeat, now);
    assert_eq!(
        maintainer.decide_verified(),
        GateDecision::Advance { checkpoint: 20 }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn gate_decision_matches_the_latest_report_oracle_under_any_delivery_order(
        heartbeats in proptest::collection::vec((0u32..3, 0usize..2, 0i32..3, 0u64..5, proptest::option::of(0u64..100)), 0..30)
    ) {
        let mut gate = CheckpointGate::new();
        let mut latest: BTreeMap<(NodeId, Mode), (u64, ChecksumState, Option<u64>)> = BTreeMap::new();
        for (n, m, s, seq, watermark) in heartbeats {
            let key = (NodeId(n), Mode::ALL[m]);
            let state = ChecksumState::from_wire(s).unwrap();
            let kept = gate.observe_heartbeat(key.0, key.1, state, seq, watermark);
            let entry = latest.get(&key).copied();
            match entry {
                Some((old, _, _)) if seq < old => prop_assert!(!kept),
                Some((old, _, old_watermark)) if seq == old => {
                    latest.insert(key, (seq, state, old_watermark.max(watermark)));
                }
                _ => {
                    latest.insert(key, (seq, state, watermark));
                }
            }
        }
        let required: Vec<(NodeId, Mode)> =
            (0..3).flat_map(|n| Mode::ALL.map(|m| (NodeId(n), m))).collect();
        let want = required.iter().try_fold(None::<u64>, |low, key| match latest.get(key) {
            Some((_, MATCH, Some(w))) => Ok(Some(low.map_or(*w, |l: u64| l.min(*w)))),
            _ => Err(*key),
        });
        match (gate.decide(&required), want) {
            (GateDecision::Advance { checkpoint }, Ok(Some(low))) => prop_assert_eq!(checkpoint, low),
            (GateDecision::Hold { node, mode, .. }, Err(key)) => prop_assert_eq!((node, mode), key),
            (decision, want) => prop_assert!(false, "{decision:?} vs {want:?}"),
        }
    }
}
