//! The checkpoint gate's rules, one test per rule, and random heartbeat orders against an oracle
//! that keeps the newest heartbeat by `(incarnation, seq)`.

use dispatcher_checksum::protocol::{
    AckOutcome, ActualSet, ChangefeedId, CheckpointGate, ChecksumHeartbeat, ChecksumState,
    ExpectedVersion, GateDecision, HoldReason, MaintainerChecksums, Mode, NodeChecksums, NodeId,
    TrackerConfig, VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

const A: NodeId = NodeId(1);
const B: NodeId = NodeId(2);
const MATCH: ChecksumState = ChecksumState::Match;
const MISMATCH: ChecksumState = ChecksumState::Mismatch;

/// A heartbeat of node process 1 with no particular version (the plain rule ignores it).
fn beat(
    node: NodeId,
    mode: Mode,
    seq: u64,
    state: ChecksumState,
    watermark: Option<u64>,
) -> ChecksumHeartbeat {
    ChecksumHeartbeat {
        node,
        incarnation: 1,
        mode,
        seq,
        state,
        state_seq: 1,
        watermark,
        verified_against: ExpectedVersion::default(),
        actual: None,
    }
}

fn version(epoch: u64, seq: u64) -> ExpectedVersion {
    ExpectedVersion { epoch, seq }
}

/// A MATCH heartbeat of node A (default mode) with everything given.
fn heartbeat(
    seq: u64,
    state_seq: u64,
    verified: ExpectedVersion,
    watermark: u64,
) -> ChecksumHeartbeat {
    ChecksumHeartbeat {
        node: A,
        incarnation: 1,
        mode: Mode::Default,
        seq,
        state: MATCH,
        state_seq,
        watermark: Some(watermark),
        verified_against: verified,
        actual: None,
    }
}

#[test]
fn gate_keeps_the_newest_heartbeat_whole_and_ignores_older_and_repeated_ones() {
    let mut gate = CheckpointGate::new();
    assert!(gate.observe(&beat(A, Mode::Default, 4, MATCH, Some(100))));
    assert!(
        !gate.observe(&beat(A, Mode::Default, 3, MISMATCH, None)),
        "older"
    );
    assert!(
        !gate.observe(&beat(A, Mode::Default, 4, MATCH, Some(100))),
        "repeated"
    );
    assert_eq!(gate.report(A, Mode::Default).unwrap().state, MATCH);
    assert!(gate.observe(&beat(A, Mode::Default, 5, MATCH, Some(90))));
    assert_eq!(
        gate.report(A, Mode::Default).unwrap().watermark,
        Some(90),
        "a newer watermark replaces an older one even when it is lower"
    );
    assert!(gate.observe(&beat(A, Mode::Default, 6, MISMATCH, None)));
    assert_eq!(gate.report(A, Mode::Default).unwrap().watermark, None);
    assert_eq!(gate.report(A, Mode::Redo), None, "modes are kept apart");
}

/// Issue 9, as its text gives it: two MATCH heartbeats of one `state_seq`, the second after a
/// dispatcher with an older checkpoint joined.
#[test]
fn the_watermark_is_never_paired_with_a_version_from_another_heartbeat() {
    let first = heartbeat(1, 3, version(1, 1), 100);
    let second = heartbeat(2, 3, version(1, 2), 50);
    let required = [(A, Mode::Default, version(1, 2))];
    for order in [[first, second], [second, first]] {
        let mut gate = CheckpointGate::new();
        for heartbeat in &order {
            gate.observe(heartbeat);
        }
        assert_eq!(
            gate.decide_versions(&required),
            GateDecision::Advance { checkpoint: 50 },
            "delivered as {:?}",
            order.map(|h| h.seq)
        );
    }
    // Only the first arrived: its version is stale, so the gate holds rather than advance to 100.
    let mut gate = CheckpointGate::new();
    gate.observe(&first);
    assert!(matches!(
        gate.decide_versions(&required),
        GateDecision::Hold {
            reason: HoldReason::Stale { .. },
            ..
        }
    ));
}

#[test]
fn gate_advances_only_when_every_required_node_and_mode_is_match_with_a_watermark() {
    let mut gate = CheckpointGate::new();
    let required = [(A, Mode::Default), (B, Mode::Default), (A, Mode::Redo)];
    gate.observe(&beat(A, Mode::Default, 1, MATCH, Some(30)));
    gate.observe(&beat(B, Mode::Default, 1, MATCH, Some(20)));
    gate.observe(&beat(A, Mode::Redo, 1, MATCH, Some(25)));
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
    gate.observe(&beat(A, Mode::Default, 1, MATCH, Some(30)));
    assert_eq!(
        gate.decide(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Redo,
            reason: HoldReason::NoHeartbeat
        }
    );
    gate.observe(&beat(A, Mode::Redo, 1, MISMATCH, None));
    assert_eq!(
        gate.decide(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Redo,
            reason: HoldReason::NotMatch(MISMATCH)
        }
    );
    gate.observe(&beat(A, Mode::Redo, 2, MATCH, Some(1)));
    gate.observe(&beat(B, Mode::Default, 7, MATCH, None));
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
            verified_against: version(1, 1),
            ..beat(node, mode, 1, MATCH, Some(9))
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

#[test]
fn gate_with_versions_holds_a_match_against_an_older_update_or_epoch() {
    let mut gate = CheckpointGate::new();
    let required = [(A, Mode::Default, version(2, 6))];
    gate.observe(&heartbeat(1, 3, version(2, 5), 50));
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Default,
            reason: HoldReason::Stale {
                reported: version(2, 5),
                required: version(2, 6)
            }
        }
    );
    // Same state_seq (still MATCH), now against seq 6: the gate opens.
    gate.observe(&heartbeat(2, 3, version(2, 6), 60));
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Advance { checkpoint: 60 }
    );
    // A reordered older heartbeat does not take it back.
    gate.observe(&heartbeat(1, 3, version(2, 5), 55));
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Advance { checkpoint: 60 }
    );
    // A heartbeat from before a failover (epoch 1) is stale for the new maintainer.
    let mut fresh = CheckpointGate::new();
    fresh.observe(&heartbeat(9, 9, version(1, 40), 70));
    assert!(matches!(
        fresh.decide_versions(&required),
        GateDecision::Hold {
            reason: HoldReason::Stale { .. },
            ..
        }
    ));
}

#[test]
fn a_restarted_node_process_wins_although_its_sequences_start_over() {
    let mut gate = CheckpointGate::new();
    let old = heartbeat(40, 12, version(1, 3), 900);
    let restarted = ChecksumHeartbeat {
        incarnation: 2,
        seq: 1,
        state: ChecksumState::Uninitialized,
        state_seq: 1,
        watermark: None,
        verified_against: ExpectedVersion::default(),
        ..old
    };
    assert!(gate.observe(&old));
    assert!(
        gate.observe(&restarted),
        "the new process's first heartbeat"
    );
    assert!(
        !gate.observe(&heartbeat(41, 12, version(1, 3), 950)),
        "a late heartbeat of the old process"
    );
    let required = [(A, Mode::Default, version(1, 3))];
    assert_eq!(
        gate.decide_versions(&required),
        GateDecision::Hold {
            node: A,
            mode: Mode::Default,
            reason: HoldReason::NotMatch(ChecksumState::Uninitialized)
        }
    );
}

#[test]
fn the_maintainer_resends_what_a_restarted_node_had_acknowledged() {
    let x = DispatcherId::new(0, 1);
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
    let now = Duration::ZERO;
    let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
    let update = tracker.reset_full(1, &[A], [(A, vec![x])], now).updates[0];
    let mut old: NodeChecksums = NodeChecksums::new(A, 7, false, VerifierConfig::default());
    let ack = old.apply_update(&update).unwrap();
    assert_eq!(maintainer.handle_ack(ack), AckOutcome::Advanced);
    let later = Duration::from_secs(5);
    assert!(maintainer.flush_and_resend(later).is_empty(), "acked");

    // The node restarts under the same ID: a new process, empty, its sequences start over.
    let mut restarted: NodeChecksums = NodeChecksums::new(A, 8, false, VerifierConfig::default());
    let (first, _) = restarted.heartbeat(Mode::Default, 0, later).unwrap();
    assert_eq!((first.seq, first.state), (1, ChecksumState::Uninitialized));
    assert_eq!(maintainer.observe_heartbeat(first, later), (true, false));
    let resent = maintainer.flush_and_resend(later);
    assert_eq!(
        resent,
        vec![update],
        "due at once, not a resend interval later"
    );
    // A late ack of the old process does not count for the new one.
    assert_eq!(maintainer.handle_ack(ack), AckOutcome::OldIncarnation);
    assert_eq!(
        maintainer.handle_ack(restarted.apply_update(&resent[0]).unwrap()),
        AckOutcome::Advanced
    );
}

#[test]
fn maintainer_gate_stays_closed_while_a_move_is_in_flight() {
    // A owns X and Y; the maintainer moves Y to B. Until both nodes have applied the new
    // updates and their sets changed, the gate must not open, even though the old heartbeats
    // (MATCH against the old updates) are still the latest ones it holds.
    let (x, y) = (DispatcherId::new(0, 1), DispatcherId::new(0, 2));
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
    let mut a: NodeChecksums = NodeChecksums::new(A, 1, false, VerifierConfig::default());
    let mut b: NodeChecksums = NodeChecksums::new(B, 1, false, VerifierConfig::default());
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

/// The oracle's newest heartbeat: its order, state and watermark.
type Newest = ((u64, u64), ChecksumState, Option<u64>);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Heartbeats of up to three nodes, two modes and two processes each, delivered in any order,
    /// some twice: the gate decides exactly as an oracle that keeps the newest heartbeat.
    #[test]
    fn gate_decision_matches_the_newest_heartbeat_oracle_under_any_delivery_order(
        heartbeats in proptest::collection::vec(
            (0u32..3, 0usize..2, 1u64..3, 0u64..6, 0i32..3, proptest::option::of(0u64..100)),
            0..40,
        )
    ) {
        let mut gate = CheckpointGate::new();
        let mut newest: BTreeMap<(NodeId, Mode), Newest> = BTreeMap::new();
        for (n, m, incarnation, seq, s, watermark) in heartbeats {
            let key = (NodeId(n), Mode::ALL[m]);
            let state = ChecksumState::from_wire(s).unwrap();
            let heartbeat = ChecksumHeartbeat {
                incarnation,
                ..beat(key.0, key.1, seq, state, watermark)
            };
            let kept = gate.observe(&heartbeat);
            let order = (incarnation, seq);
            match newest.get(&key) {
                Some((old, _, _)) if order <= *old => prop_assert!(!kept),
                _ => {
                    prop_assert!(kept);
                    newest.insert(key, (order, state, watermark));
                }
            }
            let report = gate.report(key.0, key.1).unwrap();
            let (order, state, watermark) = newest[&key];
            prop_assert_eq!((report.order(), report.state, report.watermark), (order, state, watermark));
        }
        let required: Vec<(NodeId, Mode)> =
            (0..3).flat_map(|n| Mode::ALL.map(|m| (NodeId(n), m))).collect();
        let want = required.iter().try_fold(None::<u64>, |low, key| match newest.get(key) {
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

/// Issue 9: a node's watermark goes *down* when a dispatcher with an older checkpoint joins. When
/// the expected-set update for it and its Working transition both land between two heartbeats,
/// the state stays MATCH and `state_seq` does not change; the gate must not pair the first
/// heartbeat's higher watermark with the second heartbeat's newer version.
#[test]
fn a_lower_watermark_of_the_same_state_seq_is_not_paired_with_the_older_higher_one() {
    let (x, d) = (DispatcherId::new(0, 1), DispatcherId::new(0, 4));
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
    let mut node: NodeChecksums = NodeChecksums::new(A, 1, false, VerifierConfig::default());
    set(&mut node).on_dispatcher_added(x, ComponentState::Working);
    let now = Duration::ZERO;
    let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
    let update = tracker.reset_full(1, &[A], [(A, vec![x])], now).updates[0];
    maintainer.handle_ack(node.apply_update(&update).unwrap());
    let (first, _) = node.heartbeat(Mode::Default, 100, now).unwrap();

    // D joins at checkpoint 50: the maintainer adds it, the node applies the update and D
    // becomes Working, all before the next heartbeat.
    let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
    tracker.apply_delta(A, &[d], &[]);
    let update = tracker.flush_dirty(now)[0];
    maintainer.handle_ack(node.apply_update(&update).unwrap());
    set(&mut node).on_dispatcher_added(d, ComponentState::Working);
    let (second, _) = node.heartbeat(Mode::Default, 50, now).unwrap();
    assert_eq!((first.state, second.state), (MATCH, MATCH));
    assert_eq!(
        first.state_seq, second.state_seq,
        "the state did not change"
    );

    for order in [[first, second], [second, first]] {
        let mut gate = maintainer.clone();
        for heartbeat in order {
            gate.observe_heartbeat(heartbeat, now);
        }
        assert_eq!(
            gate.decide_verified(),
            GateDecision::Advance { checkpoint: 50 },
            "D's data between 50 and 100 would be skipped"
        );
    }
}

#[test]
fn the_explained_gate_passes_a_mismatch_made_of_in_flight_ids_only() {
    use dispatcher_checksum::protocol::{CheckpointRule, WatermarkPolicy};
    let (x, y, d) = (
        DispatcherId::new(0, 1),
        DispatcherId::new(0, 2),
        DispatcherId::new(0, 4),
    );
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default())
            .with_rule(CheckpointRule::Explained);
    let mut node: NodeChecksums = NodeChecksums::new(A, 1, false, VerifierConfig::default())
        .with_watermark_policy(WatermarkPolicy::Always);
    set(&mut node).on_dispatcher_added(x, ComponentState::Working);
    set(&mut node).on_dispatcher_added(y, ComponentState::Working);
    let now = Duration::ZERO;
    let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
    let update = tracker.reset_full(1, &[A], [(A, vec![x, y])], now).updates[0];
    maintainer.handle_ack(node.apply_update(&update).unwrap());
    maintainer.set_checkpoint(10);
    // An add of d to A is in flight (the reference ordering: not expected yet). The node already
    // runs d: MISMATCH, but explained.
    maintainer
        .tracker_mut(Mode::Default)
        .unwrap()
        .begin_transition(A, d);
    set(&mut node).on_dispatcher_added(d, ComponentState::Working);
    let (heartbeat, _) = node.heartbeat(Mode::Default, 40, now).unwrap();
    assert_eq!(heartbeat.state, MISMATCH);
    assert_eq!(heartbeat.watermark, Some(40), "sent although not MATCH");
    maintainer.observe_heartbeat(heartbeat, now);
    assert_eq!(maintainer.decide_verified().checkpoint(), None);
    let step = maintainer.advance_checkpoint(Some(35));
    assert_eq!(step.decision, GateDecision::Advance { checkpoint: 40 });
    assert_eq!(
        (step.checkpoint, step.advanced),
        (Some(35), true),
        "held by the floor"
    );
    // The node loses y, which is settled: unexplained, so the gate holds and the checkpoint stays.
    set(&mut node).on_dispatcher_removed(y);
    let (heartbeat, _) = node.heartbeat(Mode::Default, 50, now).unwrap();
    maintainer.observe_heartbeat(heartbeat, now);
    let step = maintainer.advance_checkpoint(None);
    assert!(matches!(
        step.decision,
        GateDecision::Hold {
            reason: HoldReason::Unexplained {
                in_flight: 1,
                too_many: false
            },
            ..
        }
    ));
    assert_eq!((step.checkpoint, step.advanced), (Some(35), false));
}

#[test]
fn the_checkpoint_never_goes_backwards() {
    let (mut maintainer, now) = (maintainer_of_empty_node_a_at(100), Duration::ZERO);
    maintainer.observe_heartbeat(verified_beat(1, 90), now);
    let step = maintainer.advance_checkpoint(None);
    assert_eq!(
        (step.checkpoint, step.advanced),
        (Some(100), false),
        "90 < 100: stays"
    );
    maintainer.observe_heartbeat(verified_beat(2, 130), now);
    assert_eq!(
        maintainer.advance_checkpoint(Some(120)).checkpoint,
        Some(120)
    );
    maintainer.set_checkpoint(50);
    assert_eq!(
        maintainer.checkpoint(),
        Some(120),
        "set_checkpoint does not go back either"
    );
}

#[test]
fn the_checkpoint_never_takes_the_sentinel_of_an_empty_minimum() {
    // pingcap/ticdc#4703: every required node runs nothing (the last table was dropped), so the
    // gate's minimum is over no watermark at all and comes out as u64::MAX. Taken, it would stick
    // (the checkpoint never goes back) and every later table would start there.
    let (mut maintainer, now) = (maintainer_of_empty_node_a_at(100), Duration::ZERO);
    maintainer.observe_heartbeat(verified_beat(1, u64::MAX), now);
    let step = maintainer.advance_checkpoint(None);
    assert_eq!(
        step.decision,
        GateDecision::Advance {
            checkpoint: u64::MAX
        }
    );
    assert_eq!((step.checkpoint, step.advanced), (Some(100), false));
    // Nothing tracked and no floor: the same.
    let mut idle =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
    idle.set_checkpoint(7);
    assert_eq!(idle.advance_checkpoint(Some(u64::MAX)).checkpoint, Some(7));
    // A real floor still moves it.
    assert_eq!(
        maintainer.advance_checkpoint(Some(130)).checkpoint,
        Some(130)
    );
}

/// A maintainer that tracks node A with an empty expected set (epoch 1, update 1), its checkpoint
/// at `checkpoint`.
fn maintainer_of_empty_node_a_at(checkpoint: u64) -> MaintainerChecksums {
    let mut maintainer =
        MaintainerChecksums::new(ChangefeedId::default(), false, TrackerConfig::default());
    maintainer.tracker_mut(Mode::Default).unwrap().reset_full(
        1,
        &[A],
        [(A, Vec::<DispatcherId>::new())],
        Duration::ZERO,
    );
    maintainer.set_checkpoint(checkpoint);
    maintainer
}

/// A MATCH heartbeat of node A (default mode) verified against epoch 1, update 1.
fn verified_beat(seq: u64, watermark: u64) -> ChecksumHeartbeat {
    ChecksumHeartbeat {
        verified_against: version(1, 1),
        ..super_beat(seq, watermark)
    }
}

/// A MATCH heartbeat of node A (default mode) with no particular version.
fn super_beat(seq: u64, watermark: u64) -> ChecksumHeartbeat {
    beat(A, Mode::Default, seq, MATCH, Some(watermark))
}
