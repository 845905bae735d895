//! The maintainer-side rules of issue 3, one test per rule, and random operation sequences
//! against an exact-set oracle.

use dispatcher_checksum::protocol::{
    AckOutcome, ChangefeedId, ChecksumAck, ChecksumState, ExpectedSetTracker, Mode, NodeId,
    TrackerConfig,
};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

const A: NodeId = NodeId(1);
const B: NodeId = NodeId(2);
const C: NodeId = NodeId(3);

fn id(n: u64) -> DispatcherId {
    DispatcherId::new(n.wrapping_mul(0x9e37_79b9_7f4a_7c15), n)
}

fn ids(range: std::ops::Range<u64>) -> Vec<DispatcherId> {
    range.map(id).collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn tracker() -> ExpectedSetTracker {
    ExpectedSetTracker::new(
        ChangefeedId::new(7, 9, "cf", "ks"),
        Mode::Default,
        TrackerConfig::default(),
    )
}

/// A tracker reset at epoch 5 with A: 0..3, B: 10..12, sent at time 0.
fn seeded() -> ExpectedSetTracker {
    let mut tracker = tracker();
    tracker.reset_full(5, &[A, B], [(A, ids(0..3)), (B, ids(10..12))], secs(0));
    tracker
}

#[test]
fn reset_full_forgets_everything_sets_epoch_starts_nodes_at_seq_1_and_sends_one_update_per_node() {
    let mut tracker = tracker();
    tracker.apply_delta(C, &ids(100..105), &[]);
    tracker.handle_ack(ack(C, 0, Mode::Default, 1));
    let report = tracker.reset_full(3, &[B, A], [(A, ids(0..4)), (B, vec![])], secs(10));

    assert_eq!(tracker.epoch(), 3);
    assert_eq!(tracker.nodes().collect::<Vec<_>>(), vec![A, B]);
    assert_eq!(tracker.owner(id(100)), None, "the old state is forgotten");
    assert_eq!(tracker.dispatcher_count(), 4);
    assert_eq!(tracker.dirty_nodes().count(), 0);
    for node in [A, B] {
        assert_eq!(tracker.seq(node), Some(1));
        assert_eq!(tracker.acked_seq(node), Some(0));
        assert_eq!(tracker.node(node).unwrap().last_sent, Some(secs(10)));
    }
    assert_eq!(report.updates.len(), 2, "one update per listed node");
    assert_eq!(report.updates[0].node, A);
    assert_eq!(
        report.updates[0].fingerprint,
        Fingerprint::from_ids(ids(0..4))
    );
    assert_eq!(report.updates[1].fingerprint, Fingerprint::EMPTY);
    assert!(report
        .updates
        .iter()
        .all(|u| u.epoch == 3 && u.seq == 1 && u.mode == Mode::Default));
}

#[test]
fn reset_full_adds_an_id_listed_twice_for_one_node_once_and_reports_it() {
    let mut tracker = tracker();
    let report = tracker.reset_full(1, &[A], [(A, vec![id(1), id(2), id(1)])], secs(0));
    assert_eq!(
        tracker.expected(A),
        Some(Fingerprint::from_ids([id(1), id(2)]))
    );
    assert_eq!(report.duplicates, vec![(A, id(1))]);
    assert_eq!(tracker.dispatcher_count(), 2);
}

#[test]
fn reset_full_gives_an_id_listed_under_two_nodes_to_the_later_one() {
    let mut tracker = tracker();
    let report = tracker.reset_full(
        1,
        &[A, B],
        [(A, vec![id(1), id(2)]), (B, vec![id(2), id(3)])],
        secs(0),
    );
    assert_eq!(tracker.owner(id(2)), Some(B));
    assert_eq!(tracker.expected(A), Some(Fingerprint::from_ids([id(1)])));
    assert_eq!(
        tracker.expected(B),
        Some(Fingerprint::from_ids([id(2), id(3)]))
    );
    assert_eq!(report.reassigned.len(), 1);
    assert_eq!((report.reassigned[0].from, report.reassigned[0].to), (A, B));
    // The report's updates carry the final fingerprints.
    assert_eq!(
        report.updates[0].fingerprint,
        Fingerprint::from_ids([id(1)])
    );
}

#[test]
fn reset_full_skips_nodes_absent_from_the_node_list() {
    let mut tracker = tracker();
    let report = tracker.reset_full(1, &[A], [(A, ids(0..2)), (C, ids(5..8))], secs(0));
    assert_eq!(tracker.node(C), None);
    assert_eq!(tracker.owner(id(5)), None);
    assert_eq!(report.skipped, vec![C]);
    assert_eq!(report.skipped_ids, 3);
    assert_eq!(report.updates.len(), 1);
}

#[test]
fn apply_delta_removes_only_ids_owned_by_the_node() {
    let mut tracker = seeded();
    let summary = tracker.apply_delta(A, &[], &[id(0), id(10), id(99)]);
    assert_eq!((summary.removed, summary.not_owned), (1, 2));
    assert_eq!(tracker.owner(id(10)), Some(B), "B's ID is untouched");
    assert_eq!(tracker.expected(A), Some(Fingerprint::from_ids(ids(1..3))));
    assert_eq!(
        tracker.expected(B),
        Some(Fingerprint::from_ids(ids(10..12)))
    );
    assert_eq!(tracker.seq(B), Some(1));
}

#[test]
fn apply_delta_add_of_an_id_the_node_owns_is_a_no_op() {
    let mut tracker = seeded();
    let summary = tracker.apply_delta(A, &[id(0), id(1)], &[]);
    assert_eq!((summary.added, summary.already_owned), (0, 2));
    assert_eq!(tracker.seq(A), Some(1), "nothing changed: no new seq");
    assert_eq!(tracker.dirty_nodes().count(), 0);
}

#[test]
fn apply_delta_add_of_an_id_owned_elsewhere_moves_it_and_marks_the_old_owner_changed() {
    let mut tracker = seeded();
    let summary = tracker.apply_delta(A, &[id(10)], &[]);
    assert_eq!(
        (summary.added, summary.moved, summary.changed_nodes),
        (1, 1, 2)
    );
    assert_eq!(tracker.owner(id(10)), Some(A));
    assert_eq!(tracker.expected(B), Some(Fingerprint::from_ids([id(11)])));
    assert_eq!(
        tracker.expected(A),
        Some(Fingerprint::from_ids([id(0), id(1), id(2), id(10)]))
    );
    assert_eq!(tracker.seq(B), Some(2));
    assert_eq!(tracker.dirty_nodes().collect::<Vec<_>>(), vec![A, B]);
}

#[test]
fn apply_delta_applies_removes_before_adds() {
    let mut tracker = seeded();
    tracker.apply_delta(A, &[id(0)], &[id(0)]);
    assert_eq!(tracker.owner(id(0)), Some(A), "removed, then added back");
    tracker.apply_delta(C, &[id(60)], &[id(60)]);
    assert_eq!(
        tracker.owner(id(60)),
        Some(C),
        "not owned at the remove, then added"
    );
}

#[test]
fn apply_delta_raises_each_changed_nodes_seq_by_one_per_call_not_per_id_and_marks_it_dirty() {
    let mut tracker = seeded();
    tracker.apply_delta(A, &ids(20..30), &ids(0..3));
    assert_eq!(tracker.seq(A), Some(2), "13 IDs changed, one call, +1");
    tracker.apply_delta(A, &[id(30)], &[]);
    assert_eq!(tracker.seq(A), Some(3));
    assert_eq!(tracker.seq(B), Some(1), "B did not change");
    assert_eq!(tracker.dirty_nodes().collect::<Vec<_>>(), vec![A]);
}

#[test]
fn apply_delta_for_an_unknown_node_creates_its_state() {
    let mut tracker = seeded();
    let summary = tracker.apply_delta(C, &[id(50)], &[]);
    assert!(summary.created_node);
    let node = tracker.node(C).expect("created");
    assert_eq!((node.seq, node.acked_seq, node.dirty), (1, 0, true));
    assert_eq!(node.expected, Fingerprint::from_ids([id(50)]));
    // An empty delta changes nothing, so it creates nothing either.
    tracker.apply_delta(NodeId(9), &[], &[]);
    assert_eq!(tracker.node(NodeId(9)), None);
}

#[test]
fn flush_dirty_sends_one_update_per_dirty_node_with_current_seq_and_clears_the_dirty_set() {
    let mut tracker = seeded();
    for n in 20..25 {
        tracker.apply_delta(A, &[id(n)], &[]);
    }
    tracker.apply_delta(B, &[], &[id(10)]);
    let updates = tracker.flush_dirty(secs(4));
    assert_eq!(
        updates.len(),
        2,
        "six deltas coalesce into one message per node"
    );
    assert_eq!((updates[0].node, updates[0].seq), (A, 6));
    assert_eq!(updates[0].fingerprint, tracker.expected(A).unwrap());
    assert_eq!((updates[1].node, updates[1].seq), (B, 2));
    assert_eq!(tracker.node(A).unwrap().last_sent, Some(secs(4)));
    assert_eq!(tracker.dirty_nodes().count(), 0);
    assert!(tracker.flush_dirty(secs(5)).is_empty());
}

#[test]
fn handle_ack_ignores_other_epoch_other_mode_unknown_node_and_seq_above_current() {
    let mut tracker = seeded();
    assert_eq!(
        tracker.handle_ack(ack(A, 4, Mode::Default, 1)),
        AckOutcome::OtherEpoch
    );
    assert_eq!(
        tracker.handle_ack(ack(A, 5, Mode::Redo, 1)),
        AckOutcome::OtherMode
    );
    assert_eq!(
        tracker.handle_ack(ack(C, 5, Mode::Default, 1)),
        AckOutcome::UnknownNode
    );
    assert_eq!(
        tracker.handle_ack(ack(A, 5, Mode::Default, 2)),
        AckOutcome::AheadOfSeq
    );
    assert_eq!(tracker.acked_seq(A), Some(0));
}

#[test]
fn handle_ack_keeps_the_highest_acked_seq() {
    let mut tracker = seeded();
    tracker.apply_delta(A, &[id(20)], &[]);
    tracker.apply_delta(A, &[id(21)], &[]);
    assert_eq!(
        tracker.handle_ack(ack(A, 5, Mode::Default, 3)),
        AckOutcome::Advanced
    );
    assert_eq!(
        tracker.handle_ack(ack(A, 5, Mode::Default, 2)),
        AckOutcome::AlreadyAcked
    );
    assert_eq!(tracker.acked_seq(A), Some(3));
}

#[test]
fn resend_pending_resends_unacked_latest_updates_at_most_once_per_interval_of_1s() {
    let mut tracker = seeded();
    assert_eq!(tracker.config().resend_interval, secs(1), "the default");
    tracker.handle_ack(ack(B, 5, Mode::Default, 1));
    assert!(
        tracker
            .resend_pending(Duration::from_millis(999))
            .is_empty(),
        "sent at 0"
    );
    let resent = tracker.resend_pending(secs(1));
    assert_eq!(resent.len(), 1, "B acked its update");
    assert_eq!((resent[0].node, resent[0].seq), (A, 1));
    assert_eq!(tracker.node(A).unwrap().last_sent, Some(secs(1)));
    assert!(tracker
        .resend_pending(Duration::from_millis(1500))
        .is_empty());
    // The resend carries the latest state, not the lost message.
    tracker.apply_delta(A, &[id(40)], &[]);
    let resent = tracker.resend_pending(secs(2));
    assert_eq!(
        (resent[0].seq, resent[0].fingerprint),
        (2, tracker.expected(A).unwrap())
    );
    tracker.handle_ack(ack(A, 5, Mode::Default, 2));
    assert!(tracker.resend_pending(secs(10)).is_empty());
}

#[test]
fn remove_nodes_drops_state_dirty_marks_and_dispatcher_mappings() {
    let mut tracker = seeded();
    tracker.apply_delta(B, &[id(12)], &[]);
    tracker.remove_nodes(&[B, C]);
    assert_eq!(tracker.node(B), None);
    assert_eq!(tracker.owner(id(10)), None);
    assert_eq!(tracker.owner(id(12)), None);
    assert_eq!(tracker.dispatcher_count(), 3);
    assert_eq!(tracker.dirty_nodes().count(), 0);
    assert!(tracker.flush_dirty(secs(1)).is_empty());
    // A dispatcher B owned can now go to A as a plain add.
    assert_eq!(tracker.apply_delta(A, &[id(10)], &[]).moved, 0);
}

#[test]
fn observe_heartbeat_warns_after_2_minutes_non_match_then_at_most_every_2_minutes() {
    let mut tracker = seeded();
    let mismatch = ChecksumState::Mismatch;
    assert!(!tracker.observe_heartbeat(A, mismatch, secs(0)));
    assert!(!tracker.observe_heartbeat(A, mismatch, secs(119)));
    assert!(tracker.observe_heartbeat(A, mismatch, secs(120)));
    assert!(!tracker.observe_heartbeat(A, mismatch, secs(121)));
    assert!(!tracker.observe_heartbeat(A, mismatch, secs(239)));
    assert!(tracker.observe_heartbeat(A, mismatch, secs(240)));
    assert_eq!(tracker.non_match_for(A, secs(240)), Some(secs(240)));
    assert!(
        !tracker.observe_heartbeat(C, mismatch, secs(1000)),
        "unknown node"
    );
}

#[test]
fn observe_heartbeat_change_of_state_restarts_the_timer() {
    let mut tracker = seeded();
    tracker.observe_heartbeat(A, ChecksumState::Uninitialized, secs(0));
    assert!(!tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(100)));
    assert!(!tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(200)));
    assert!(tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(220)));
}

#[test]
fn observe_heartbeat_match_clears_the_timer() {
    let mut tracker = seeded();
    tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(0));
    assert!(tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(130)));
    assert!(!tracker.observe_heartbeat(A, ChecksumState::Match, secs(131)));
    assert_eq!(tracker.non_match_for(A, secs(131)), None);
    assert!(!tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(132)));
    assert!(!tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(251)));
    assert!(tracker.observe_heartbeat(A, ChecksumState::Mismatch, secs(252)));
}

#[test]
fn tracker_works_with_std_hasher_too() {
    let mut tracker = ExpectedSetTracker::with_hasher(
        ChangefeedId::default(),
        Mode::Redo,
        TrackerConfig::default(),
        std::hash::RandomState::new(),
    );
    tracker.apply_delta(A, &ids(0..10), &[]);
    tracker.apply_delta(A, &[], &ids(0..5));
    assert_eq!(tracker.expected(A), Some(Fingerprint::from_ids(ids(5..10))));
}

/// One operation on the tracker in a random sequence.
#[derive(Clone, Debug)]
enum Op {
    Reset(u64, Vec<u32>, Vec<(u32, Vec<u64>)>),
    Delta(u32, Vec<u64>, Vec<u64>),
    Remove(Vec<u32>),
    Ack(u32, u64),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    let node = 0u32..5;
    let idv = || proptest::collection::vec(0u64..40, 0..8);
    prop_oneof![
        1 => (
            1u64..4,
            proptest::collection::vec(node.clone(), 0..5),
            proptest::collection::vec((node.clone(), idv()), 0..5)
        )
            .prop_map(|(e, n, x)| Op::Reset(e, n, x)),
        8 => (node.clone(), idv(), idv()).prop_map(|(n, a, r)| Op::Delta(n, a, r)),
        1 => proptest::collection::vec(node.clone(), 0..3).prop_map(Op::Remove),
        2 => (node, 0u64..6).prop_map(|(n, s)| Op::Ack(n, s)),
        1 => Just(Op::Flush),
    ]
}

/// The exact model: each node's set of IDs, its seq and acked seq, which nodes are dirty, and
/// the last seq of every node forgotten in this epoch (met again, it numbers on from there).
#[derive(Default)]
struct Oracle {
    sets: BTreeMap<NodeId, BTreeSet<u64>>,
    seq: HashMap<NodeId, u64>,
    acked: HashMap<NodeId, u64>,
    dirty: BTreeSet<NodeId>,
    forgotten: HashMap<NodeId, u64>,
}

impl Oracle {
    fn owner(&self, n: u64) -> Option<NodeId> {
        self.sets
            .iter()
            .find(|(_, s)| s.contains(&n))
            .map(|(k, _)| *k)
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Reset(_, nodes, expected) => {
                *self = Oracle::default();
                for &n in nodes {
                    self.sets.insert(NodeId(n), BTreeSet::new());
                    self.seq.insert(NodeId(n), 1);
                    self.acked.insert(NodeId(n), 0);
                }
                for (n, list) in expected {
                    let node = NodeId(*n);
                    if !self.sets.contains_key(&node) {
                        continue;
                    }
                    for &x in list {
                        for set in self.sets.values_mut() {
                            set.remove(&x);
                        }
                        self.sets.get_mut(&node).unwrap().insert(x);
                    }
                }
            }
            Op::Delta(n, add, remove) => {
                let node = NodeId(*n);
                let mut changed = BTreeSet::new();
                for x in remove {
                    if self.owner(*x) == Some(node) {
                        self.sets.get_mut(&node).unwrap().remove(x);
                        changed.insert(node);
                    }
                }
                for x in add {
                    match self.owner(*x) {
                        Some(o) if o == node => {}
                        other => {
                            if let Some(o) = other {
                                self.sets.get_mut(&o).unwrap().remove(x);
                                changed.insert(o);
                            }
                            self.sets.entry(node).or_default().insert(*x);
                            let floor = self.forgotten.get(&node).copied().unwrap_or(0);
                            if !self.seq.contains_key(&node) {
                                self.forgotten.remove(&node);
                            }
                            self.seq.entry(node).or_insert(floor);
                            self.acked.entry(node).or_insert(0);
                            changed.insert(node);
                        }
                    }
                }
                for c in changed {
                    *self.seq.get_mut(&c).unwrap() += 1;
                    self.dirty.insert(c);
                }
            }
            Op::Remove(nodes) => {
                for n in nodes {
                    let node = NodeId(*n);
                    self.sets.remove(&node);
                    if let Some(seq) = self.seq.remove(&node) {
                        self.forgotten.insert(node, seq);
                    }
                    self.acked.remove(&node);
                    self.dirty.remove(&node);
                }
            }
            Op::Ack(n, s) => {
                let node = NodeId(*n);
                if let (Some(seq), Some(acked)) = (self.seq.get(&node), self.acked.get_mut(&node)) {
                    if *s <= *seq {
                        *acked = (*acked).max(*s);
                    }
                }
            }
            Op::Flush => self.dirty.clear(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_operation_sequences_match_the_exact_set_oracle(ops in proptest::collection::vec(op(), 1..40)) {
        let mut tracker = tracker();
        let mut oracle = Oracle::default();
        let mut epoch = 0;
        for op in &ops {
            match op {
                Op::Reset(e, nodes, expected) => {
                    epoch = *e;
                    let nodes: Vec<NodeId> = nodes.iter().map(|n| NodeId(*n)).collect();
                    let expected: Vec<(NodeId, Vec<DispatcherId>)> = expected
                        .iter()
                        .map(|(n, l)| (NodeId(*n), l.iter().map(|x| id(*x)).collect()))
                        .collect();
                    tracker.reset_full(epoch, &nodes, expected, secs(0));
                }
                Op::Delta(n, add, remove) => {
                    let add: Vec<_> = add.iter().map(|x| id(*x)).collect();
                    let remove: Vec<_> = remove.iter().map(|x| id(*x)).collect();
                    tracker.apply_delta(NodeId(*n), &add, &remove);
                }
                Op::Remove(nodes) => {
                    let nodes: Vec<NodeId> = nodes.iter().map(|n| NodeId(*n)).collect();
                    tracker.remove_nodes(&nodes);
                }
                Op::Ack(n, s) => {
                    tracker.handle_ack(ack(NodeId(*n), epoch, Mode::Default, *s));
                }
                Op::Flush => {
                    let sent: BTreeSet<NodeId> =
                        tracker.flush_dirty(secs(0)).iter().map(|u| u.node).collect();
                    prop_assert_eq!(&sent, &oracle.dirty);
                }
            }
            oracle.apply(op);

            let nodes: Vec<NodeId> = tracker.nodes().collect();
            prop_assert_eq!(&nodes, &oracle.sets.keys().copied().collect::<Vec<_>>());
            let mut total = 0;
            for (node, set) in &oracle.sets {
                total += set.len();
                prop_assert_eq!(
                    tracker.expected(*node),
                    Some(Fingerprint::from_ids(set.iter().map(|x| id(*x))))
                );
                prop_assert_eq!(tracker.seq(*node), oracle.seq.get(node).copied());
                prop_assert_eq!(tracker.acked_seq(*node), oracle.acked.get(node).copied());
                for x in set {
                    prop_assert_eq!(tracker.owner(id(*x)), Some(*node));
                }
            }
            prop_assert_eq!(tracker.dispatcher_count(), total);
            prop_assert_eq!(
                tracker.dirty_nodes().collect::<BTreeSet<_>>(),
                oracle.dirty.clone()
            );
        }
    }
}

/// An ack of node process 1.
fn ack(node: NodeId, epoch: u64, mode: Mode, seq: u64) -> ChecksumAck {
    ChecksumAck {
        node,
        incarnation: 1,
        epoch,
        mode,
        seq,
    }
}

#[test]
fn a_forgotten_node_met_again_numbers_its_updates_above_what_it_was_sent() {
    let mut tracker = tracker();
    tracker.reset_full(3, &[A, B], [(A, vec![id(1)])], secs(0));
    for x in 2..6 {
        tracker.apply_delta(A, &[id(x)], &[]);
    }
    assert_eq!(tracker.seq(A), Some(5));
    tracker.remove_nodes(&[A]);
    // An update with seq 5 may still be on its way to A; the new numbering must outrank it.
    tracker.apply_delta(A, &[id(9)], &[]);
    assert_eq!(tracker.seq(A), Some(6));
    // A node never forgotten starts from 0 as before.
    tracker.apply_delta(C, &[id(10)], &[]);
    assert_eq!(tracker.seq(C), Some(1));
    // A new epoch forgets the floors.
    tracker.reset_full(4, &[A], [(A, vec![id(9)])], secs(0));
    tracker.remove_nodes(&[A]);
    tracker.reset_full(5, &[B], [(B, vec![id(1)])], secs(0));
    tracker.apply_delta(A, &[id(2)], &[]);
    assert_eq!(tracker.seq(A), Some(1));
}

#[test]
fn remove_ids_takes_each_id_from_whichever_node_expects_it() {
    let mut tracker = tracker();
    tracker.reset_full(
        1,
        &[A, B],
        [(A, vec![id(1), id(2)]), (B, vec![id(3)])],
        secs(0),
    );
    // A move rebinds id(2) to B in the scheduler before its delta: a removal addressed to B
    // would miss it. remove_ids does not.
    assert_eq!(tracker.apply_delta(B, &[], &[id(2)]).not_owned, 1);
    let summary = tracker.remove_ids(&[id(2), id(3), id(77)]);
    assert_eq!(
        (summary.removed, summary.not_owned, summary.changed_nodes),
        (2, 1, 2)
    );
    assert_eq!(tracker.expected(A), Some(Fingerprint::from_ids([id(1)])));
    assert_eq!(tracker.expected(B), Some(Fingerprint::EMPTY));
    assert_eq!((tracker.seq(A), tracker.seq(B)), (Some(2), Some(2)));
    assert_eq!(tracker.owner(id(2)), None);
}

#[test]
fn transitions_take_ids_out_of_the_settled_fingerprint_until_they_end() {
    let mut tracker = tracker();
    tracker.reset_full(1, &[A], [(A, vec![id(1), id(2)])], secs(0));
    let node = |t: &ExpectedSetTracker| t.node(A).unwrap().clone();
    assert_eq!(node(&tracker).settled, node(&tracker).expected);
    // id(2) leaves A, id(5) comes to A (a move away and an add), both in flight.
    assert!(tracker.begin_transition(A, id(2)));
    assert!(
        !tracker.begin_transition(A, id(2)),
        "marking twice is one mark"
    );
    assert!(tracker.begin_transition(A, id(5)));
    assert_eq!(node(&tracker).settled, Fingerprint::from_ids([id(1)]));
    // The deltas land while in flight: the settled part does not move.
    tracker.apply_delta(A, &[id(5)], &[id(2)]);
    assert_eq!(node(&tracker).settled, Fingerprint::from_ids([id(1)]));
    assert_eq!(tracker.transitions(), 2);
    // Ending: id(5) is now expected, so it is settled; id(2) is not expected any more.
    assert!(tracker.end_transition(A, id(5)));
    assert!(tracker.end_transition(A, id(2)));
    assert!(!tracker.end_transition(A, id(2)));
    assert_eq!(
        node(&tracker).settled,
        Fingerprint::from_ids([id(1), id(5)])
    );
    assert_eq!(node(&tracker).settled, node(&tracker).expected);
    assert_eq!(tracker.transitions(), 0);
    // A node met first through a transition is tracked with seq 0 (nothing expected of it).
    tracker.begin_transition(C, id(8));
    assert_eq!(tracker.seq(C), Some(0));
    tracker.remove_nodes(&[C]);
    assert_eq!(tracker.transitions(), 0);
}
