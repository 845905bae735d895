//! The node-side rules of issue 3, one test per rule, the per-changefeed mode independence, and
//! random lifecycle sequences where incremental == recompute == the exact included set.

use dispatcher_checksum::protocol::{
    ActualSet, ChecksumState, ChecksumUpdate, DispatcherSetVerifier, IncrementalActualSet, Mode,
    NodeChecksums, NodeId, RecomputeActualSet, VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, StateSet};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn id(n: u64) -> DispatcherId {
    DispatcherId::new(!n, n.wrapping_mul(0x2545_f491_4f6c_dd1d))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn verifier() -> DispatcherSetVerifier {
    DispatcherSetVerifier::new(Mode::Default, VerifierConfig::default())
}

/// A verifier running dispatchers 0..3 (Working) whose expected value matches.
fn matching() -> DispatcherSetVerifier {
    let mut verifier = verifier();
    for n in 0..3 {
        verifier
            .actual_set_mut()
            .on_dispatcher_added(id(n), ComponentState::Working);
    }
    verifier.apply_update(1, 1, Fingerprint::from_ids((0..3).map(id)));
    verifier
}

#[test]
fn apply_update_ignores_same_epoch_lower_seq() {
    let mut verifier = verifier();
    let first = Fingerprint::from_ids([id(1)]);
    assert!(verifier.apply_update(2, 5, first));
    assert!(!verifier.apply_update(2, 4, Fingerprint::EMPTY));
    assert_eq!(verifier.expected().seq, 5);
    assert_eq!(verifier.expected().fingerprint, first);
}

#[test]
fn apply_update_otherwise_stores_and_marks_initialized() {
    let mut verifier = verifier();
    assert!(!verifier.expected().initialized);
    assert!(verifier.apply_update(2, 5, Fingerprint::from_ids([id(1)])));
    assert!(verifier.expected().initialized);
    assert!(
        verifier.apply_update(2, 5, Fingerprint::from_ids([id(1)])),
        "resend"
    );
    assert!(
        verifier.apply_update(2, 6, Fingerprint::from_ids([id(2)])),
        "higher seq"
    );
    assert!(
        verifier.apply_update(3, 1, Fingerprint::EMPTY),
        "another epoch"
    );
    assert_eq!((verifier.expected().epoch, verifier.expected().seq), (3, 1));
    assert_eq!(verifier.expected().fingerprint, Fingerprint::EMPTY);
}

#[test]
fn reset_clears_expected_and_runtime_to_uninitialized_and_bumps_state_seq() {
    let mut verifier = matching();
    let verdict = verifier.verify(secs(0));
    assert_eq!(
        (verdict.state, verdict.state_seq),
        (ChecksumState::Match, 1)
    );
    verifier.reset();
    assert!(!verifier.expected().initialized);
    assert_eq!(verifier.runtime().state, ChecksumState::Uninitialized);
    assert_eq!(verifier.runtime().state_seq, 2);
    assert_eq!(verifier.actual_set().len(), 3, "the actual set stays");
    // A reset while already UNINITIALIZED still bumps state_seq.
    verifier.reset();
    assert_eq!(verifier.runtime().state_seq, 3);
    let verdict = verifier.verify(secs(1));
    assert_eq!(
        (verdict.state, verdict.state_seq),
        (ChecksumState::Uninitialized, 3)
    );
    // After a reset, an update with a lower seq of the old epoch is accepted again.
    assert!(verifier.apply_update(1, 1, Fingerprint::EMPTY));
}

#[test]
fn actual_set_applies_the_lifecycle_inclusion_rule() {
    for state in ComponentState::ALL {
        let mut incremental = IncrementalActualSet::new();
        let mut recompute = RecomputeActualSet::new();
        incremental.on_dispatcher_added(id(1), state);
        recompute.on_dispatcher_added(id(1), state);
        let want = if StateSet::DEFAULT_INCLUDED.contains(state) {
            Fingerprint::from_ids([id(1)])
        } else {
            Fingerprint::EMPTY
        };
        assert_eq!(incremental.actual_fingerprint(), want, "{state}");
        assert_eq!(recompute.actual_fingerprint(), want, "{state}");
    }
    let excluded: Vec<_> = ComponentState::ALL
        .into_iter()
        .filter(|s| !s.is_included_by_default())
        .collect();
    assert_eq!(
        excluded,
        [
            ComponentState::Initializing,
            ComponentState::Preparing,
            ComponentState::MergeReady
        ]
    );
}

#[test]
fn actual_set_is_kept_incrementally_through_add_state_change_and_remove() {
    let mut set = IncrementalActualSet::new();
    set.on_dispatcher_added(id(1), ComponentState::Initializing);
    set.on_dispatcher_added(id(2), ComponentState::Working);
    assert_eq!(set.actual_fingerprint(), Fingerprint::from_ids([id(2)]));
    set.on_state_changed(id(1), ComponentState::Working);
    assert_eq!(
        set.actual_fingerprint(),
        Fingerprint::from_ids([id(1), id(2)])
    );
    set.on_state_changed(id(2), ComponentState::WaitingMerge);
    set.on_state_changed(id(2), ComponentState::Removed);
    assert_eq!(
        set.actual_fingerprint(),
        Fingerprint::from_ids([id(1), id(2)])
    );
    set.on_dispatcher_removed(id(2));
    set.on_dispatcher_removed(id(99));
    assert_eq!(set.actual_fingerprint(), Fingerprint::from_ids([id(1)]));
    assert_eq!(set.len(), 1);
    assert_eq!(set.state(id(1)), Some(ComponentState::Working));
}

#[test]
fn verify_is_uninitialized_before_any_expected_value_arrives() {
    let mut verifier = verifier();
    let verdict = verifier.verify(secs(0));
    assert_eq!(verdict.state, ChecksumState::Uninitialized);
    assert_eq!(verdict.state_seq, 0);
    assert!(!verdict.carries_watermark);
}

#[test]
fn verify_is_mismatch_when_fingerprints_differ_and_match_otherwise() {
    let mut verifier = matching();
    assert_eq!(verifier.verify(secs(0)).state, ChecksumState::Match);
    verifier
        .actual_set_mut()
        .on_dispatcher_added(id(7), ComponentState::Working);
    assert_eq!(verifier.verify(secs(1)).state, ChecksumState::Mismatch);
    verifier
        .actual_set_mut()
        .on_state_changed(id(7), ComponentState::Initializing);
    assert_eq!(verifier.verify(secs(2)).state, ChecksumState::Match);
}

#[test]
fn verify_raises_state_seq_each_time_the_state_changes() {
    let mut verifier = verifier();
    assert_eq!(verifier.verify(secs(0)).state_seq, 0);
    assert_eq!(verifier.verify(secs(1)).state_seq, 0, "same state");
    verifier.apply_update(1, 1, Fingerprint::from_ids([id(1)]));
    assert_eq!(verifier.verify(secs(2)).state_seq, 1, "now MISMATCH");
    verifier
        .actual_set_mut()
        .on_dispatcher_added(id(1), ComponentState::Working);
    assert_eq!(verifier.verify(secs(3)).state_seq, 2, "now MATCH");
    assert_eq!(verifier.verify(secs(4)).state_seq, 2);
}

#[test]
fn verify_carries_the_watermark_only_at_match_and_counts_withheld_heartbeats_per_state() {
    let mut verifier = verifier();
    assert!(!verifier.verify(secs(0)).carries_watermark);
    assert!(!verifier.verify(secs(1)).carries_watermark);
    verifier.apply_update(1, 1, Fingerprint::from_ids([id(1)]));
    assert!(!verifier.verify(secs(2)).carries_watermark);
    verifier
        .actual_set_mut()
        .on_dispatcher_added(id(1), ComponentState::Working);
    assert!(verifier.verify(secs(3)).carries_watermark);
    assert_eq!(
        verifier.withheld_heartbeats(ChecksumState::Uninitialized),
        2
    );
    assert_eq!(verifier.withheld_heartbeats(ChecksumState::Mismatch), 1);
    assert_eq!(verifier.withheld_heartbeats(ChecksumState::Match), 0);
}

#[test]
fn verify_logs_after_30s_non_ok_then_at_most_every_30s_with_both_fingerprints() {
    let mut verifier = matching();
    verifier
        .actual_set_mut()
        .on_dispatcher_added(id(9), ComponentState::Working);
    assert!(verifier.verify(secs(100)).log.is_none());
    assert!(verifier.verify(secs(129)).log.is_none());
    let log = verifier.verify(secs(130)).log.expect("30 s non-OK");
    assert_eq!(log.state, ChecksumState::Mismatch);
    assert_eq!(log.non_ok_for, secs(30));
    assert_eq!(
        log.expected.fingerprint,
        Fingerprint::from_ids((0..3).map(id))
    );
    assert_eq!(log.actual, Fingerprint::from_ids([0, 1, 2, 9].map(id)));
    let text = log.to_string();
    assert!(
        text.contains(&log.expected.fingerprint.to_string())
            && text.contains(&log.actual.to_string())
    );
    assert!(verifier.verify(secs(159)).log.is_none());
    assert!(verifier.verify(secs(160)).log.is_some());
    // MATCH clears the timer.
    verifier.actual_set_mut().on_dispatcher_removed(id(9));
    assert!(verifier.verify(secs(161)).log.is_none());
    verifier.reset();
    assert!(verifier.verify(secs(162)).log.is_none());
    assert!(
        verifier.verify(secs(192)).log.is_some(),
        "UNINITIALIZED is non-OK too"
    );
}

#[test]
fn verify_is_o1_it_reads_the_incremental_fingerprint_without_walking() {
    // 200k dispatchers, 10k verifies: a walk per verify would be 2e9 steps; O(1) is instant.
    let mut verifier = verifier();
    verifier.actual_set_mut().reserve(200_000);
    for n in 0..200_000 {
        verifier
            .actual_set_mut()
            .on_dispatcher_added(id(n), ComponentState::Working);
    }
    verifier.apply_update(1, 1, Fingerprint::from_ids((0..200_000).map(id)));
    let start = std::time::Instant::now();
    for t in 0..10_000 {
        assert_eq!(verifier.verify(secs(t)).state, ChecksumState::Match);
    }
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn modes_are_independent() {
    let mut node: NodeChecksums = NodeChecksums::new(NodeId(1), 1, true, VerifierConfig::default());
    node.verifier_mut(Mode::Redo)
        .unwrap()
        .actual_set_mut()
        .on_dispatcher_added(id(1), ComponentState::Working);
    let update = |mode, seq, fingerprint| ChecksumUpdate {
        node: NodeId(1),
        epoch: 4,
        mode,
        seq,
        fingerprint,
    };
    let ack = node
        .apply_update(&update(Mode::Default, 3, Fingerprint::EMPTY))
        .unwrap();
    assert_eq!((ack.mode, ack.seq, ack.epoch), (Mode::Default, 3, 4));
    node.apply_update(&update(Mode::Redo, 1, Fingerprint::EMPTY))
        .unwrap();
    let (default, _) = node.heartbeat(Mode::Default, 77, secs(0)).unwrap();
    let (redo, _) = node.heartbeat(Mode::Redo, 77, secs(0)).unwrap();
    assert_eq!(
        (default.state, default.watermark),
        (ChecksumState::Match, Some(77))
    );
    assert_eq!(
        (redo.state, redo.watermark),
        (ChecksumState::Mismatch, None)
    );
    assert_eq!(node.verifier(Mode::Default).unwrap().expected().seq, 3);
    assert_eq!(node.verifier(Mode::Redo).unwrap().expected().seq, 1);
    // Without redo, redo messages are dropped.
    let mut plain: NodeChecksums =
        NodeChecksums::new(NodeId(2), 1, false, VerifierConfig::default());
    assert!(plain
        .apply_update(&update(Mode::Redo, 1, Fingerprint::EMPTY))
        .is_none());
    assert_eq!(plain.modes().collect::<Vec<_>>(), vec![Mode::Default]);
}

#[test]
fn node_drops_updates_of_an_older_maintainer_and_follows_a_newer_one() {
    let mut node: NodeChecksums =
        NodeChecksums::new(NodeId(1), 1, false, VerifierConfig::default());
    node.maintainer_changed(5);
    let update = |epoch, seq| ChecksumUpdate {
        node: NodeId(1),
        epoch,
        mode: Mode::Default,
        seq,
        fingerprint: Fingerprint::EMPTY,
    };
    assert!(node.apply_update(&update(4, 9)).is_none());
    assert!(!node.verifier(Mode::Default).unwrap().expected().initialized);
    node.apply_update(&update(5, 2)).unwrap();
    let seq_before = node.verifier(Mode::Default).unwrap().runtime().state_seq;
    node.apply_update(&update(6, 1)).unwrap();
    assert_eq!(node.maintainer_epoch(), Some(6));
    let verifier = node.verifier(Mode::Default).unwrap();
    assert_eq!((verifier.expected().epoch, verifier.expected().seq), (6, 1));
    assert_eq!(
        verifier.runtime().state_seq,
        seq_before + 1,
        "followed by a reset"
    );
}

/// A lifecycle event in a random sequence.
#[derive(Clone, Debug)]
enum Event {
    Added(u64, u8),
    Changed(u64, u8),
    Removed(u64),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0u64..30, 0u8..7).prop_map(|(n, s)| Event::Added(n, s)),
        (0u64..30, 0u8..7).prop_map(|(n, s)| Event::Changed(n, s)),
        (0u64..30).prop_map(Event::Removed),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn incremental_equals_recompute_equals_the_exact_included_set(
        events in proptest::collection::vec(event(), 1..60)
    ) {
        let mut incremental = IncrementalActualSet::new();
        let mut recompute = RecomputeActualSet::new();
        let mut exact: BTreeMap<u64, ComponentState> = BTreeMap::new();
        for event in events {
            match event {
                Event::Added(n, s) | Event::Changed(n, s) => {
                    let state = ComponentState::from_number(s).unwrap();
                    if matches!(event, Event::Added(..)) {
                        incremental.on_dispatcher_added(id(n), state);
                        recompute.on_dispatcher_added(id(n), state);
                    } else {
                        incremental.on_state_changed(id(n), state);
                        recompute.on_state_changed(id(n), state);
                    }
                    exact.insert(n, state);
                }
                Event::Removed(n) => {
                    incremental.on_dispatcher_removed(id(n));
                    recompute.on_dispatcher_removed(id(n));
                    exact.remove(&n);
                }
            }
            let want = Fingerprint::from_ids(
                exact.iter().filter(|(_, s)| s.is_included_by_default()).map(|(n, _)| id(*n)),
            );
            prop_assert_eq!(incremental.actual_fingerprint(), want);
            prop_assert_eq!(recompute.actual_fingerprint(), want);
            prop_assert_eq!(incremental.len(), exact.len());
            prop_assert_eq!(recompute.len(), exact.len());
        }
    }

    #[test]
    fn verifier_state_follows_expected_versus_actual_and_state_seq_counts_changes(
        steps in proptest::collection::vec((0u64..4, any::<bool>(), 0u8..3), 1..40)
    ) {
        // Each step: maybe an update with the fingerprint of 0..k, maybe a lifecycle event.
        let mut verifier: DispatcherSetVerifier<RecomputeActualSet> =
            DispatcherSetVerifier::with_actual_set(Mode::Default, VerifierConfig::default(), RecomputeActualSet::new());
        let mut expected: Option<Fingerprint> = None;
        let mut previous = ChecksumState::Uninitialized;
        let mut changes = 0;
        for (t, (k, send, flip)) in steps.into_iter().enumerate() {
            if send {
                let fingerprint = Fingerprint::from_ids((0..k).map(id));
                verifier.apply_update(1, t as u64, fingerprint);
                expected = Some(fingerprint);
            }
            let state = ComponentState::from_number(flip * 3).unwrap();
            verifier.actual_set_mut().on_dispatcher_added(id(k), state);
            let actual = verifier.actual_set().actual_fingerprint();
            let want = match expected {
                None => ChecksumState::Uninitialized,
                Some(e) if e != actual => ChecksumState::Mismatch,
                Some(_) => ChecksumState::Match,
            };
            if want != previous {
                changes += 1;
                previous = want;
            }
            let verdict = verifier.verify(secs(t as u64));
            prop_assert_eq!(verdict.state, want);
            prop_assert_eq!(verdict.state_seq, changes);
            prop_assert_eq!(verdict.carries_watermark, want == ChecksumState::Match);
        }
    }
}

#[test]
fn maintainer_changed_is_idempotent_per_epoch() {
    // The bootstrap of epoch 5 may arrive after the first update of epoch 5; resetting again
    // would drop a value the maintainer already counts as acked (found by the simulator).
    let mut node: NodeChecksums =
        NodeChecksums::new(NodeId(1), 1, false, VerifierConfig::default());
    node.maintainer_changed(5);
    let update = ChecksumUpdate {
        node: NodeId(1),
        epoch: 5,
        mode: Mode::Default,
        seq: 1,
        fingerprint: Fingerprint::EMPTY,
    };
    assert!(node.apply_update(&update).is_some());
    node.maintainer_changed(5);
    node.maintainer_changed(4);
    let verdict = node
        .verifier_mut(Mode::Default)
        .expect("default mode")
        .verify(Duration::ZERO);
    assert_eq!(verdict.state, ChecksumState::Match);
    node.maintainer_changed(6);
    let verdict = node
        .verifier_mut(Mode::Default)
        .expect("default mode")
        .verify(Duration::ZERO);
    assert_eq!(verdict.state, ChecksumState::Uninitialized);
}

#[test]
fn every_heartbeat_gets_the_next_seq_and_resets_do_not_start_it_over() {
    let mut node: NodeChecksums =
        NodeChecksums::new(NodeId(3), 9, false, VerifierConfig::default());
    let now = Duration::ZERO;
    let seqs: Vec<(u64, u64)> = (0..3)
        .map(|_| {
            let (heartbeat, _) = node.heartbeat(Mode::Default, 0, now).unwrap();
            (heartbeat.incarnation, heartbeat.seq)
        })
        .collect();
    assert_eq!(seqs, [(9, 1), (9, 2), (9, 3)]);
    node.maintainer_changed(4);
    let (heartbeat, _) = node.heartbeat(Mode::Default, 0, now).unwrap();
    assert_eq!(heartbeat.seq, 4, "a reset keeps numbering");
}
