//! What the protocol tells an operator at run time: metrics through the `metrics` facade (feature
//! `metrics`) and log events through `tracing` (feature `tracing`), both off by default. The
//! library only records; the service installs the exporter (for example
//! `metrics-exporter-prometheus`) and the subscriber.
//!
//! The hooks are called by [`NodeChecksums::heartbeat`](super::NodeChecksums::heartbeat) (node
//! side) and by [`MaintainerChecksums`](super::MaintainerChecksums) and
//! [`ExpectedSetTracker::reset_full`](super::ExpectedSetTracker::reset_full) (maintainer side).
//! With both features off every hook is an empty inline function: the heartbeat path allocates
//! nothing and records nothing. With `metrics` on, a node registers its handles once per mode at
//! its first heartbeat and afterwards only sets and increments them.
//!
//! Every name, its kind, labels and the reference's counterpart: `docs/observability.md`.
//! Call [`describe`] once after installing a recorder to give each metric its help text.

use super::gate::GateDecision;
use super::tracker::ResetReport;
use super::verifier::{Verdict, VerifierRuntime};
use super::{ChangefeedId, ChecksumHeartbeat, ExpectedSetTracker, Mode, NodeId};
use std::hash::BuildHasher;
use std::time::Duration;

/// Node side, gauge (0 or 1) per `state` (`mismatch`, `uninitialized`): whether the node's
/// dispatcher set is in that not-OK state now. Labels: keyspace, changefeed, node, mode, state.
pub const NODE_NOT_OK: &str = "dispatcher_checksum_node_not_ok";
/// Node side, counter: heartbeats that withheld their watermark, by not-OK `state`.
pub const NODE_NOT_OK_HEARTBEATS: &str = "dispatcher_checksum_node_not_ok_heartbeats_total";
/// Maintainer side, counter: checksum updates sent, by `kind` (`flush`: a changed expected set;
/// `resend`: an unacknowledged one again). Labels: keyspace, changefeed, mode, kind.
pub const UPDATES_SENT: &str = "dispatcher_checksum_updates_sent_total";
/// Maintainer side, gauge: nodes whose latest update is not acknowledged yet.
pub const ACKS_PENDING: &str = "dispatcher_checksum_acks_pending";
/// Maintainer side, gauge per node: seconds since the unacknowledged update was last sent (0 once
/// acknowledged). Labels: keyspace, changefeed, mode, node.
pub const ACK_PENDING_SECONDS: &str = "dispatcher_checksum_ack_pending_seconds";
/// Maintainer side, counter: checkpoint decisions, by `decision` (`advance`, `hold`,
/// `nothing_required`). Labels: keyspace, changefeed, decision.
pub const GATE_DECISIONS: &str = "dispatcher_checksum_gate_decisions_total";
/// Maintainer side, counter: decisions held, by the blocking `node`, `mode` and `reason`.
pub const GATE_HELD: &str = "dispatcher_checksum_gate_held_total";
/// Maintainer side, gauge: how far the changefeed checkpoint is behind the gate's watermark
/// after a decision that let it through (the scheduler's floor held it back), in the
/// checkpoint's own units (TSO in TiCDC). Labels: keyspace, changefeed.
pub const CHECKPOINT_LAG: &str = "dispatcher_checksum_checkpoint_lag";
/// Maintainer side, gauge: dispatchers in flight (an operator changing them), per mode; what the
/// explained gate lets a mismatch be explained by.
pub const IN_FLIGHT: &str = "dispatcher_checksum_in_flight_dispatchers";
/// Maintainer side, counter: expected-set entries that contradicted what the tracker held, by
/// `kind` (`duplicate`: listed twice for one node; `reassigned`: listed under two nodes).
pub const EXPECTED_SET_CONFLICTS: &str = "dispatcher_checksum_expected_set_conflicts_total";

/// Gives every metric above its help text and unit in the installed recorder (a no-op without
/// the `metrics` feature).
pub fn describe() {
    #[cfg(feature = "metrics")]
    {
        use metrics::{describe_counter, describe_gauge, Unit};
        describe_gauge!(
            NODE_NOT_OK,
            "1 while the node's dispatcher set is in this not-OK state (mismatch or uninitialized)"
        );
        describe_counter!(
            NODE_NOT_OK_HEARTBEATS,
            "Heartbeats whose watermark was withheld because the dispatcher set was not OK"
        );
        describe_counter!(
            UPDATES_SENT,
            "Checksum updates sent to nodes (flush or resend)"
        );
        describe_gauge!(
            ACKS_PENDING,
            "Nodes whose latest checksum update is not acknowledged"
        );
        describe_gauge!(
            ACK_PENDING_SECONDS,
            Unit::Seconds,
            "Seconds since the node's unacknowledged update was last sent (0 when acknowledged)"
        );
        describe_counter!(GATE_DECISIONS, "Checkpoint gate decisions");
        describe_counter!(
            GATE_HELD,
            "Checkpoint decisions held, by the blocking node, mode and reason"
        );
        describe_gauge!(
            CHECKPOINT_LAG,
            "The changefeed checkpoint behind the gate's watermark, in checkpoint units"
        );
        describe_gauge!(IN_FLIGHT, "Dispatchers an operator is changing");
        describe_counter!(
            EXPECTED_SET_CONFLICTS,
            "Expected-set entries that contradicted the tracker (duplicate or reassigned)"
        );
    }
}

/// The label value of a not-OK state; `None` for MATCH.
#[cfg(any(feature = "metrics", feature = "tracing"))]
fn not_ok_label(state: super::ChecksumState) -> Option<&'static str> {
    match state {
        super::ChecksumState::Match => None,
        super::ChecksumState::Mismatch => Some("mismatch"),
        super::ChecksumState::Uninitialized => Some("uninitialized"),
    }
}

/// The label value of why the gate holds.
#[cfg(any(feature = "metrics", feature = "tracing"))]
fn reason_label(reason: super::HoldReason) -> &'static str {
    use super::HoldReason;
    match reason {
        HoldReason::Unexplained { .. } => "unexplained",
        HoldReason::NoHeartbeat => "no_heartbeat",
        HoldReason::NotMatch(state) => not_ok_label(state).unwrap_or("match"),
        HoldReason::NoWatermark => "no_watermark",
        HoldReason::Stale { .. } => "stale",
    }
}

/// A node's metric handles for one mode, registered at its first heartbeat.
#[cfg(feature = "metrics")]
#[derive(Clone)]
struct NodeModeMetrics {
    /// `[uninitialized, mismatch]`.
    not_ok: [metrics::Gauge; 2],
    /// `[uninitialized, mismatch]`.
    not_ok_heartbeats: [metrics::Counter; 2],
}

#[cfg(feature = "metrics")]
impl NodeModeMetrics {
    fn register(changefeed: &ChangefeedId, node: NodeId, mode: Mode) -> Self {
        let labels = |state: &'static str| {
            [
                ("keyspace", changefeed.keyspace.clone()),
                ("changefeed", changefeed.name.clone()),
                ("node", node.0.to_string()),
                ("mode", mode.name().to_string()),
                ("state", state.to_string()),
            ]
        };
        NodeModeMetrics {
            not_ok: [
                metrics::gauge!(NODE_NOT_OK, &labels("uninitialized")),
                metrics::gauge!(NODE_NOT_OK, &labels("mismatch")),
            ],
            not_ok_heartbeats: [
                metrics::counter!(NODE_NOT_OK_HEARTBEATS, &labels("uninitialized")),
                metrics::counter!(NODE_NOT_OK_HEARTBEATS, &labels("mismatch")),
            ],
        }
    }
}

/// A node's telemetry state (empty without the `metrics` feature).
#[derive(Clone, Default)]
pub(crate) struct NodeTelemetry {
    #[cfg(feature = "metrics")]
    modes: [Option<NodeModeMetrics>; 2],
}

impl std::fmt::Debug for NodeTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeTelemetry")
    }
}

impl NodeTelemetry {
    /// One heartbeat's verdict: `before` is the verifier's runtime before the verification.
    ///
    /// Metrics: the not-OK gauges when the state changed (and at the first heartbeat), the
    /// withheld-heartbeat counter at every not-OK heartbeat. Logs: a debug event at every change
    /// of state, a warning when the verifier's rate limit says so (after 30 s not OK, then every
    /// 30 s, as the reference), and an info line with the duration when a node that was warned
    /// about is OK again.
    #[inline]
    pub(crate) fn heartbeat(
        &mut self,
        changefeed: &ChangefeedId,
        node: NodeId,
        before: &VerifierRuntime,
        verdict: &Verdict,
        mode: Mode,
        now: Duration,
    ) {
        #[cfg(feature = "metrics")]
        {
            let slot = &mut self.modes[mode.wire() as usize];
            let first = slot.is_none();
            let handles =
                slot.get_or_insert_with(|| NodeModeMetrics::register(changefeed, node, mode));
            if first || before.state != verdict.state {
                let state = not_ok_label(verdict.state);
                handles.not_ok[0].set(f64::from(u8::from(state == Some("uninitialized"))));
                handles.not_ok[1].set(f64::from(u8::from(state == Some("mismatch"))));
            }
            if !verdict.carries_watermark {
                let index = usize::from(verdict.state == super::ChecksumState::Mismatch);
                handles.not_ok_heartbeats[index].increment(1);
            }
        }
        #[cfg(feature = "tracing")]
        log_heartbeat(changefeed, node, before, verdict, mode, now);
        #[cfg(not(feature = "tracing"))]
        let _ = (changefeed, node, before, verdict, mode, now);
    }
}

#[cfg(feature = "tracing")]
fn log_heartbeat(
    changefeed: &ChangefeedId,
    node: NodeId,
    before: &VerifierRuntime,
    verdict: &Verdict,
    mode: Mode,
    now: Duration,
) {
    use super::ChecksumState;
    if before.state != verdict.state {
        tracing::debug!(
            changefeed = %changefeed,
            node = node.0,
            mode = mode.name(),
            from = %before.state,
            to = %verdict.state,
            state_seq = verdict.state_seq,
            "dispatcher set checksum state changed"
        );
    }
    if let Some(log) = &verdict.log {
        tracing::warn!(
            changefeed = %changefeed,
            node = node.0,
            mode = mode.name(),
            state = not_ok_label(log.state).unwrap_or("match"),
            not_ok_seconds = log.non_ok_for.as_secs_f64(),
            expected_initialized = log.expected.initialized,
            expected_epoch = log.expected.epoch,
            expected_seq = log.expected.seq,
            expected_count = log.expected.fingerprint.count,
            expected_xor = format_args!("{:#018x}/{:#018x}", log.expected.fingerprint.xor_high, log.expected.fingerprint.xor_low),
            expected_sum = format_args!("{:#018x}/{:#018x}", log.expected.fingerprint.sum_high, log.expected.fingerprint.sum_low),
            actual_count = log.actual.count,
            actual_xor = format_args!("{:#018x}/{:#018x}", log.actual.xor_high, log.actual.xor_low),
            actual_sum = format_args!("{:#018x}/{:#018x}", log.actual.sum_high, log.actual.sum_low),
            "dispatcher set checksum not OK: the watermark is withheld"
        );
    }
    if verdict.state == ChecksumState::Match && before.last_log.is_some() {
        let since = before.non_ok_since.unwrap_or(now);
        tracing::info!(
            changefeed = %changefeed,
            node = node.0,
            mode = mode.name(),
            not_ok_seconds = now.saturating_sub(since).as_secs_f64(),
            "dispatcher set checksum OK again"
        );
    }
}

/// Maintainer side: what [`super::MaintainerChecksums::flush_and_resend`] sent, and the acks
/// still pending per node after it.
#[inline]
pub(crate) fn updates_sent<S: BuildHasher>(
    tracker: &ExpectedSetTracker<S>,
    flushed: usize,
    resent: usize,
    now: Duration,
) {
    #[cfg(feature = "metrics")]
    {
        let changefeed = tracker.changefeed();
        let mode = tracker.mode().name();
        for (kind, count) in [("flush", flushed), ("resend", resent)] {
            if count > 0 {
                metrics::counter!(
                    UPDATES_SENT,
                    "keyspace" => changefeed.keyspace.clone(),
                    "changefeed" => changefeed.name.clone(),
                    "mode" => mode,
                    "kind" => kind
                )
                .increment(count as u64);
            }
        }
        let mut pending = 0u32;
        for tracked in tracker.tracked_nodes() {
            let waiting = tracked.seq > 0 && tracked.acked_seq < tracked.seq;
            pending += u32::from(waiting);
            let age = match (waiting, tracked.last_sent) {
                (true, Some(sent)) => now.saturating_sub(sent).as_secs_f64(),
                _ => 0.0,
            };
            metrics::gauge!(
                ACK_PENDING_SECONDS,
                "keyspace" => changefeed.keyspace.clone(),
                "changefeed" => changefeed.name.clone(),
                "mode" => mode,
                "node" => tracked.node.0.to_string()
            )
            .set(age);
        }
        metrics::gauge!(
            ACKS_PENDING,
            "keyspace" => changefeed.keyspace.clone(),
            "changefeed" => changefeed.name.clone(),
            "mode" => mode
        )
        .set(f64::from(pending));
        metrics::gauge!(
            IN_FLIGHT,
            "keyspace" => changefeed.keyspace.clone(),
            "changefeed" => changefeed.name.clone(),
            "mode" => mode
        )
        .set(tracker.transitions() as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (tracker, flushed, resent, now);
}

/// Maintainer side: one checkpoint decision, and the checkpoint it left.
#[inline]
pub(crate) fn gate_decision(
    changefeed: &ChangefeedId,
    decision: GateDecision,
    checkpoint: Option<u64>,
) {
    #[cfg(feature = "metrics")]
    {
        let name = match decision {
            GateDecision::Advance { .. } => "advance",
            GateDecision::Hold { .. } => "hold",
            GateDecision::NothingRequired => "nothing_required",
        };
        metrics::counter!(
            GATE_DECISIONS,
            "keyspace" => changefeed.keyspace.clone(),
            "changefeed" => changefeed.name.clone(),
            "decision" => name
        )
        .increment(1);
        match decision {
            GateDecision::Hold { node, mode, reason } => {
                metrics::counter!(
                    GATE_HELD,
                    "keyspace" => changefeed.keyspace.clone(),
                    "changefeed" => changefeed.name.clone(),
                    "node" => node.0.to_string(),
                    "mode" => mode.name(),
                    "reason" => reason_label(reason)
                )
                .increment(1);
            }
            GateDecision::Advance {
                checkpoint: watermark,
            } => {
                let lag = watermark.saturating_sub(checkpoint.unwrap_or(watermark));
                metrics::gauge!(
                    CHECKPOINT_LAG,
                    "keyspace" => changefeed.keyspace.clone(),
                    "changefeed" => changefeed.name.clone()
                )
                .set(lag as f64);
            }
            GateDecision::NothingRequired => {}
        }
    }
    #[cfg(feature = "tracing")]
    if let GateDecision::Hold { node, mode, reason } = decision {
        tracing::trace!(
            changefeed = %changefeed,
            node = node.0,
            mode = mode.name(),
            reason = reason_label(reason),
            checkpoint = checkpoint,
            "checkpoint held by the checksum gate"
        );
    }
    #[cfg(not(any(feature = "metrics", feature = "tracing")))]
    let _ = (changefeed, decision, checkpoint);
}

/// Maintainer side: a heartbeat after which the tracker's rule says the node has been not OK too
/// long (after 2 minutes, then every 2 minutes, as the reference's maintainer).
#[inline]
pub(crate) fn node_not_ok_too_long<S: BuildHasher>(
    tracker: &ExpectedSetTracker<S>,
    heartbeat: &ChecksumHeartbeat,
    now: Duration,
) {
    #[cfg(feature = "tracing")]
    {
        let node = heartbeat.node;
        tracing::warn!(
            changefeed = %tracker.changefeed(),
            node = node.0,
            mode = tracker.mode().name(),
            state = %heartbeat.state,
            not_ok_seconds = tracker.non_match_for(node, now).map_or(0.0, |d| d.as_secs_f64()),
            epoch = tracker.epoch(),
            expected_seq = tracker.seq(node),
            acked_seq = tracker.acked_seq(node),
            "a node's dispatcher set has not matched its expected set for a long time"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (tracker, heartbeat, now);
}

/// Maintainer side: the contradictions a full reset found in the expected sets it was given (an
/// ID listed twice for one node, an ID listed under two nodes): one warning each (as the
/// reference's maintainer), and the conflict counter.
#[inline]
pub(crate) fn expected_set_conflicts<S: BuildHasher>(
    tracker: &ExpectedSetTracker<S>,
    report: &ResetReport,
) {
    if report.duplicates.is_empty() && report.reassigned.is_empty() {
        return;
    }
    #[cfg(feature = "metrics")]
    {
        let changefeed = tracker.changefeed();
        for (kind, count) in [
            ("duplicate", report.duplicates.len()),
            ("reassigned", report.reassigned.len()),
        ] {
            metrics::counter!(
                EXPECTED_SET_CONFLICTS,
                "keyspace" => changefeed.keyspace.clone(),
                "changefeed" => changefeed.name.clone(),
                "mode" => tracker.mode().name(),
                "kind" => kind
            )
            .increment(count as u64);
        }
    }
    #[cfg(feature = "tracing")]
    {
        let changefeed = tracker.changefeed();
        let mode = tracker.mode().name();
        for (node, id) in &report.duplicates {
            tracing::warn!(
                changefeed = %changefeed,
                mode,
                dispatcher = %id,
                node = node.0,
                "the expected set lists a dispatcher twice for one node; it counts once"
            );
        }
        for moved in &report.reassigned {
            tracing::warn!(
                changefeed = %changefeed,
                mode,
                dispatcher = %moved.id,
                old_node = moved.from.0,
                new_node = moved.to.0,
                "the expected set lists a dispatcher under two nodes; the later node keeps it"
            );
        }
    }
    #[cfg(not(any(feature = "metrics", feature = "tracing")))]
    let _ = tracker;
}
