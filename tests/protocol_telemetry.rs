//! The protocol's metrics (feature `metrics`) through a recording recorder, and its log events
//! (feature `tracing`) through a capturing subscriber: the values and lines an operator sees for
//! a node that mismatches, stays so past the 30 s rate limit and recovers, and for the
//! maintainer's sends, acks, gate decisions and contradictory expected sets.
#![cfg(any(feature = "metrics", feature = "tracing"))]

use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, MaintainerChecksums, Mode, NodeChecksums, NodeId, TrackerConfig,
    VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::time::Duration;

fn id(n: u64) -> DispatcherId {
    DispatcherId::new(!n, n.wrapping_mul(0x2545_f491_4f6c_dd1d))
}

fn changefeed() -> ChangefeedId {
    ChangefeedId::new(1, 2, "orders", "ks1")
}

/// A maintainer expecting ids 0..4 on node 1 and a node running ids 0..3: MISMATCH until id 3
/// arrives.
fn cluster() -> (MaintainerChecksums, NodeChecksums) {
    let node = NodeId(1);
    let mut maintainer = MaintainerChecksums::new(changefeed(), false, TrackerConfig::default());
    let ids: Vec<DispatcherId> = (0..4).map(id).collect();
    let update = maintainer
        .tracker_mut(Mode::Default)
        .unwrap()
        .reset_full(3, &[node], [(node, ids)], Duration::ZERO)
        .updates
        .remove(0);
    let mut checksums: NodeChecksums =
        NodeChecksums::new(node, 1, false, VerifierConfig::default()).with_changefeed(changefeed());
    let verifier = checksums.verifier_mut(Mode::Default).unwrap();
    for n in 0..3 {
        verifier
            .actual_set_mut()
            .on_dispatcher_added(id(n), ComponentState::Working);
    }
    let ack = checksums.apply_update(&update).unwrap();
    maintainer.handle_ack(ack);
    (maintainer, checksums)
}

/// One heartbeat per second from `from` to `to` seconds, each observed by the maintainer.
fn beat(
    maintainer: &mut MaintainerChecksums,
    checksums: &mut NodeChecksums,
    seconds: std::ops::Range<u64>,
) {
    for second in seconds {
        let now = Duration::from_secs(second);
        let (heartbeat, _) = checksums
            .heartbeat(Mode::Default, 100 + second, now)
            .unwrap();
        maintainer.observe_heartbeat(heartbeat, now);
        maintainer.advance_checkpoint(None);
        maintainer.flush_and_resend(now);
    }
}

/// The missing dispatcher arrives: the node matches from then on.
fn heal(checksums: &mut NodeChecksums) {
    checksums
        .verifier_mut(Mode::Default)
        .unwrap()
        .actual_set_mut()
        .on_dispatcher_added(id(3), ComponentState::Working);
}

#[cfg(feature = "metrics")]
mod metrics_recorded {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use metrics_util::MetricKind;
    use std::collections::BTreeMap;

    /// Every series seen so far as `name{label=value,...}` (labels sorted): gauges at their
    /// latest value, counters summed over snapshots (the debugging recorder hands a counter's
    /// increments since the previous snapshot).
    #[derive(Default)]
    struct Seen(BTreeMap<String, (MetricKind, f64)>);

    impl Seen {
        fn update(&mut self, recorder: &DebuggingRecorder) -> &Self {
            for (key, _, _, value) in recorder.snapshotter().snapshot().into_vec() {
                let (kind, key) = key.into_parts();
                let labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                let name = series_name(
                    key.name(),
                    &labels.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                let entry = self.0.entry(name).or_insert((kind, 0.0));
                match value {
                    DebugValue::Counter(v) => entry.1 += v as f64,
                    DebugValue::Gauge(v) => entry.1 = v.into_inner(),
                    DebugValue::Histogram(v) => entry.1 = v.len() as f64,
                }
            }
            self
        }

        fn value(&self, name: &str, labels: &[&str]) -> Option<f64> {
            self.0.get(&series_name(name, labels)).map(|(_, v)| *v)
        }
    }

    fn series_name(name: &str, labels: &[&str]) -> String {
        let mut labels = labels.to_vec();
        labels.sort_unstable();
        format!("{name}{{{}}}", labels.join(","))
    }

    const CF: [&str; 2] = ["changefeed=orders", "keyspace=ks1"];

    fn with(extra: &[&'static str]) -> Vec<&'static str> {
        CF.iter().chain(extra).copied().collect()
    }

    #[test]
    fn the_node_gauges_its_not_ok_state_and_counts_withheld_heartbeats() {
        let recorder = DebuggingRecorder::new();
        let mut seen = Seen::default();
        metrics::with_local_recorder(&recorder, || {
            let (mut maintainer, mut checksums) = cluster();
            beat(&mut maintainer, &mut checksums, 0..5);
            let node = with(&["mode=default", "node=1"]);
            let state = |s: &'static str| -> Vec<&'static str> {
                node.iter().copied().chain([s]).collect()
            };
            let seen_now = seen.update(&recorder);
            assert_eq!(
                seen_now.value("dispatcher_checksum_node_not_ok", &state("state=mismatch")),
                Some(1.0),
                "{:#?}",
                seen_now.0
            );
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_node_not_ok",
                    &state("state=uninitialized")
                ),
                Some(0.0)
            );
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_node_not_ok_heartbeats_total",
                    &state("state=mismatch")
                ),
                Some(5.0)
            );

            heal(&mut checksums);
            beat(&mut maintainer, &mut checksums, 5..8);
            let seen_now = seen.update(&recorder);
            assert_eq!(
                seen_now.value("dispatcher_checksum_node_not_ok", &state("state=mismatch")),
                Some(0.0)
            );
            // MATCH heartbeats do not add to the counter.
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_node_not_ok_heartbeats_total",
                    &state("state=mismatch")
                ),
                Some(5.0)
            );
        });
    }

    #[test]
    fn the_maintainer_counts_sends_acks_decisions_and_conflicts() {
        let recorder = DebuggingRecorder::new();
        let mut seen = Seen::default();
        metrics::with_local_recorder(&recorder, || {
            let (mut maintainer, mut checksums) = cluster();
            beat(&mut maintainer, &mut checksums, 0..3);
            let seen_now = seen.update(&recorder);
            // Node 1 MISMATCH: every decision held by node 1.
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_gate_decisions_total",
                    &with(&["decision=hold"])
                ),
                Some(3.0),
                "{:#?}",
                seen_now.0
            );
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_gate_held_total",
                    &with(&["mode=default", "node=1", "reason=mismatch"])
                ),
                Some(3.0)
            );
            assert_eq!(
                seen_now.value("dispatcher_checksum_acks_pending", &with(&["mode=default"])),
                Some(0.0)
            );

            heal(&mut checksums);
            // A delta the node never receives: flushed once, resent once a second after.
            let tracker = maintainer.tracker_mut(Mode::Default).unwrap();
            tracker.apply_delta(NodeId(1), &[id(9)], &[]);
            beat(&mut maintainer, &mut checksums, 3..6);
            let seen_now = seen.update(&recorder);
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_updates_sent_total",
                    &with(&["kind=flush", "mode=default"])
                ),
                Some(1.0),
                "{:#?}",
                seen_now.0
            );
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_updates_sent_total",
                    &with(&["kind=resend", "mode=default"])
                ),
                Some(2.0)
            );
            assert_eq!(
                seen_now.value("dispatcher_checksum_acks_pending", &with(&["mode=default"])),
                Some(1.0)
            );
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_ack_pending_seconds",
                    &with(&["mode=default", "node=1"])
                ),
                Some(0.0),
                "resent at the last flush"
            );
            // Its MATCH is against the superseded update: held as stale.
            assert_eq!(
                seen_now.value(
                    "dispatcher_checksum_gate_held_total",
                    &with(&["mode=default", "node=1", "reason=stale"])
                ),
                Some(3.0)
            );

            // A full reset that lists an ID twice for node 1 and under node 2 as well.
            let (node, other) = (NodeId(1), NodeId(2));
            maintainer.tracker_mut(Mode::Default).unwrap().reset_full(
                4,
                &[node, other],
                [(node, vec![id(0), id(0)]), (other, vec![id(0)])],
                Duration::from_secs(6),
            );
            let seen_now = seen.update(&recorder);
            for kind in ["kind=duplicate", "kind=reassigned"] {
                assert_eq!(
                    seen_now.value(
                        "dispatcher_checksum_expected_set_conflicts_total",
                        &with(&[kind, "mode=default"])
                    ),
                    Some(1.0),
                    "{kind}"
                );
            }
        });
    }

    #[test]
    fn the_gate_reports_how_far_the_floor_holds_the_checkpoint_back() {
        let recorder = DebuggingRecorder::new();
        let mut seen = Seen::default();
        metrics::with_local_recorder(&recorder, || {
            let (mut maintainer, mut checksums) = cluster();
            heal(&mut checksums);
            let (heartbeat, _) = checksums
                .heartbeat(Mode::Default, 500, Duration::ZERO)
                .unwrap();
            maintainer.observe_heartbeat(heartbeat, Duration::ZERO);
            let step = maintainer.advance_checkpoint(Some(420));
            assert_eq!(step.checkpoint, Some(420));
            let seen = seen.update(&recorder);
            assert_eq!(
                seen.value("dispatcher_checksum_checkpoint_lag", &CF),
                Some(80.0)
            );
            assert_eq!(
                seen.value(
                    "dispatcher_checksum_gate_decisions_total",
                    &with(&["decision=advance"])
                ),
                Some(1.0)
            );
        });
    }
}

#[cfg(feature = "tracing")]
mod logs_captured {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Everything the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            String::from_utf8_lossy(&self.0.lock().unwrap())
                .lines()
                .map(String::from)
                .collect()
        }
    }

    /// Runs `body` under a subscriber that keeps every event at `INFO` and above.
    fn capture(body: impl FnOnce()) -> Vec<String> {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::with_default(subscriber, body);
        captured.lines()
    }

    #[test]
    fn a_long_mismatch_warns_once_per_30_s_with_both_fingerprints_then_recovers_once() {
        let lines = capture(|| {
            let (mut maintainer, mut checksums) = cluster();
            // 0..100 s MISMATCH: warnings at 30 s, 60 s and 90 s, not at every heartbeat.
            beat(&mut maintainer, &mut checksums, 0..100);
            heal(&mut checksums);
            beat(&mut maintainer, &mut checksums, 100..103);
        });
        let warnings: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("dispatcher set checksum not OK"))
            .collect();
        assert_eq!(warnings.len(), 3, "{lines:#?}");
        for (warning, seconds) in warnings.iter().zip([30, 60, 90]) {
            assert!(warning.starts_with(" WARN"), "{warning}");
            assert!(
                warning.contains(&format!("not_ok_seconds={seconds}")),
                "{warning}"
            );
            for field in [
                "changefeed=ks1/orders",
                "node=1",
                "mode=\"default\"",
                "state=\"mismatch\"",
                "expected_epoch=3",
                "expected_seq=1",
                "expected_count=4",
                "actual_count=3",
                "expected_xor=0x",
                "actual_sum=0x",
            ] {
                assert!(warning.contains(field), "{field} in {warning}");
            }
        }
        let recovered: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("dispatcher set checksum OK again"))
            .collect();
        assert_eq!(recovered.len(), 1, "{lines:#?}");
        assert!(recovered[0].starts_with(" INFO"), "{}", recovered[0]);
        assert!(
            recovered[0].contains("not_ok_seconds=100"),
            "{}",
            recovered[0]
        );
    }

    #[test]
    fn a_short_mismatch_logs_nothing_at_info() {
        let lines = capture(|| {
            let (mut maintainer, mut checksums) = cluster();
            beat(&mut maintainer, &mut checksums, 0..10);
            heal(&mut checksums);
            beat(&mut maintainer, &mut checksums, 10..12);
        });
        assert!(lines.is_empty(), "{lines:#?}");
    }

    #[test]
    fn contradictory_expected_sets_warn_once_per_entry() {
        let lines = capture(|| {
            let (mut maintainer, _) = cluster();
            let (node, other) = (NodeId(1), NodeId(2));
            maintainer.tracker_mut(Mode::Default).unwrap().reset_full(
                4,
                &[node, other],
                [(node, vec![id(0), id(0)]), (other, vec![id(0), id(1)])],
                Duration::ZERO,
            );
        });
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].contains("lists a dispatcher twice for one node"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains(&format!("dispatcher={}", id(0))),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("lists a dispatcher under two nodes"),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("old_node=1 new_node=2"), "{}", lines[1]);
    }

    #[test]
    fn the_maintainer_warns_about_a_node_not_ok_for_two_minutes() {
        let lines = capture(|| {
            let (mut maintainer, mut checksums) = cluster();
            beat(&mut maintainer, &mut checksums, 0..125);
        });
        let warnings: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("has not matched its expected set for a long time"))
            .collect();
        assert_eq!(warnings.len(), 1, "{lines:#?}");
        assert!(
            warnings[0].contains("not_ok_seconds=120"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("acked_seq=1"), "{}", warnings[0]);
    }
}
