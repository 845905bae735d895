//! The bug zoo: real TiCDC checkpoint bugs, each as its pre-fix rule in the shared scheduler or
//! the reference maintainer (issue 18, part 2; the research, traced to TiCDC's code, is
//! `docs/zoo.md`). A run carries at most one in [`crate::SimConfig::zoo`]; [`ZooBug::None`] is
//! TiCDC master's fixed rules, the default. What each does is defined here and nowhere else: the
//! code under test asks its zoo bug at a few hook points, as it asks its planted bug.
//!
//! Unlike a planted bug (a deliberate defect of ours), a zoo bug shipped in TiCDC; each names
//! its issue, its fix, and the Go function the rule comes from.
//!
//! [`prevention_table`] answers the question the checksum exists for: each bug (and the
//! checksum pull request's findings 1 and 5) under no checksum, PR 3782's gate and our gates
//! (`dcsum simulate --zoo-table`). The bugs are scheduler or maintainer rules; our protocol
//! shares the scheduler (operators, floors, start ts), so #3045 and #3846 combine with ours
//! as they are, and so does #4077 (a split whose span count differs from its plan: the
//! split-balance path, [`crate::config::WorkloadConfig::split_plans`]); #2943 lives in the
//! reference's watermark store and #4703 in a committed value our library never lets reach
//! `u64::MAX` ([`ZooBug::not_in_ours`]).

use crate::checks::ViolationKind;
use crate::config::{FaultConfig, GateKind, Ordering, Protocol, SimConfig, WorkloadConfig};
use crate::maintainer::OperatorKind;
use crate::{run_seeds, Summary};
use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

/// A TiCDC bug, as its pre-fix rule. `None`: every rule as fixed on TiCDC master.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZooBug {
    /// Every rule as fixed.
    #[default]
    None,
    /// #2943, before PR #2945: the maintainer replaces a node's kept watermark only when both
    /// its seq and its checkpoint are not lower (`maintainer/maintainer.go`
    /// `onHeartbeatRequest` at `a8ca4062`), so a new dispatcher's lower watermark is rejected
    /// while its statuses still finish its add operator. Fixed (`a634d23b`): a higher seq
    /// replaces even with a lower checkpoint; an equal seq, with a higher one.
    WatermarkNeedsHigherCheckpoint,
    /// #3045, before PR #3044: a move (`maintainer/operator/operator_move.go`
    /// `BlockTsForward`) and a split (`operator_split.go` `BlockTsForward`) hold the checkpoint
    /// only once the origin's stop was seen (or a node removed), and only absent spans, not
    /// scheduling ones, bound the minimum (`maintainer/maintainer_controller.go`
    /// `GetMinCheckpointTs` → `GetMinCheckpointTsForAbsentSpans`), at `33020681`. Fixed
    /// (`cccf9576`): both always hold; absent and scheduling spans bound it.
    FloorAfterOriginStop,
    /// #3846, before PR #4548: a Create starts at the span's stored status checkpoint
    /// (`maintainer/replica/replication_span.go` `NewAddDispatcherMessage` at `fc9050eb`), which
    /// only status reports refresh, so a re-placed span can start below the persisted
    /// checkpoint. Fixed (`19400c63`): `max(stored, committed)`, the committed value a
    /// monotone maximum of the maintainer's computed checkpoints
    /// (`maintainer/span/span_controller.go` `AdvanceMaintainerCommittedCheckpointTs`, advanced
    /// in `maintainer/maintainer.go` `calCheckpointTs`).
    StartAtStoredCheckpoint,
    /// #4703, before PR #4709 (on top of #4548's clamp): the committed value takes the computed
    /// checkpoint even when it is the `u64::MAX` "nothing contributed" sentinel
    /// (`maintainer/maintainer.go` `calCheckpointTs` at `32e1ab58`). Fixed (`bc3ab6b1`):
    /// `calculateNewCheckpointTs` skips a round whose result is `u64::MAX`.
    CommittedTakesSentinel,
    /// #4077, before PR #4078: a balance split planned for `k` target nodes whose splitter
    /// returned `m < k` spans still ran its `postFinish` (an add operator per new span to its
    /// planned node) although `ReplaceReplicaSet` had left the new spans absent for the basic
    /// scheduler (`maintainer/operator/operator_split.go` `PostFinish` at `df1a8fdf`); the basic
    /// scheduler's add and the callback's can both pass `AddOperator`'s existence check, and the
    /// one pushed first runs on outside the controller's map. Fixed (`806ef320`): the callback
    /// runs only when `ReplaceReplicaSet` placed the new spans on their targets (`m == k`).
    /// (`m > k` indexed past the plan, a panic before the fix: not drawn.)
    SplitPostFinishOnCountMismatch,
}

impl ZooBug {
    /// Every zoo bug that is modelled, in issue order (without `None`).
    pub const ALL: [ZooBug; 5] = [
        ZooBug::WatermarkNeedsHigherCheckpoint,
        ZooBug::FloorAfterOriginStop,
        ZooBug::StartAtStoredCheckpoint,
        ZooBug::CommittedTakesSentinel,
        ZooBug::SplitPostFinishOnCountMismatch,
    ];

    /// The kebab-case name `--zoo` takes.
    pub const fn name(self) -> &'static str {
        match self {
            ZooBug::None => "none",
            ZooBug::WatermarkNeedsHigherCheckpoint => "2943-watermark-needs-higher-checkpoint",
            ZooBug::FloorAfterOriginStop => "3045-floor-after-origin-stop",
            ZooBug::StartAtStoredCheckpoint => "3846-start-at-stored-checkpoint",
            ZooBug::CommittedTakesSentinel => "4703-committed-takes-sentinel",
            ZooBug::SplitPostFinishOnCountMismatch => "4077-split-postfinish-on-count-mismatch",
        }
    }

    /// The TiCDC issue and the pull request that fixed it.
    pub const fn issue(self) -> &'static str {
        match self {
            ZooBug::None => "",
            ZooBug::WatermarkNeedsHigherCheckpoint => "pingcap/ticdc#2943 (fix PR #2945)",
            ZooBug::FloorAfterOriginStop => "pingcap/ticdc#3045 (fix PR #3044)",
            ZooBug::StartAtStoredCheckpoint => "pingcap/ticdc#3846 (fix PR #4548)",
            ZooBug::CommittedTakesSentinel => "pingcap/ticdc#4703 (fix PR #4709)",
            ZooBug::SplitPostFinishOnCountMismatch => "pingcap/ticdc#4077 (fix PR #4078)",
        }
    }

    /// Why its rule has no place in our protocol, if it has none (the scheduler rules are
    /// shared; these two live in the reference maintainer's stores).
    pub const fn not_in_ours(self) -> Option<&'static str> {
        match self {
            ZooBug::WatermarkNeedsHigherCheckpoint => Some(
                "our gate keeps one whole heartbeat per node and mode, newest by (incarnation, seq): no separate watermark store to accept into",
            ),
            ZooBug::CommittedTakesSentinel => Some(
                "our library's advance_checkpoint never takes u64::MAX, so the computed value committed is never the sentinel",
            ),
            _ => None,
        }
    }

    /// Why the model cannot judge it under PR 3782's gate, if it cannot: what the model lacks
    /// that the gate's verdict depends on, and what the Go code says instead (reasoned, not run).
    /// The table shows this instead of the model's run, which would be an artifact.
    pub const fn not_modelled_under_the_pr_gate(self) -> Option<&'static str> {
        match self {
            ZooBug::CommittedTakesSentinel => Some(
                "the model has no table-trigger dispatcher, and its empty changefeed is how it reaches the sentinel. In PR 3782 the host's expected set always names the table trigger (maintainer/maintainer_controller_bootstrap.go resetAndBuildChecksumMessages) and a node counts it only once Working (downstreamadapter/dispatchermanager/dispatcher_set_checksum.go shouldIncludeDispatcherInChecksum), so the host is MATCH only with a contributing watermark: reasoned prevented, not run",
            ),
            _ => None,
        }
    }

    /// The check that must catch its pre-fix rule (`None` for no bug).
    pub const fn caught_by(self) -> Option<ViolationKind> {
        match self {
            ZooBug::None => None,
            ZooBug::WatermarkNeedsHigherCheckpoint | ZooBug::FloorAfterOriginStop => {
                Some(ViolationKind::CheckpointAhead)
            }
            ZooBug::StartAtStoredCheckpoint => Some(ViolationKind::StartBelowPersisted),
            ZooBug::CommittedTakesSentinel => Some(ViolationKind::CheckpointSentinel),
            ZooBug::SplitPostFinishOnCountMismatch => Some(ViolationKind::TwoWorking),
        }
    }

    /// Whether a run under this bug needs the split-balance workload (splits with a plan):
    /// #4077's rule is reached only through it.
    pub const fn needs_split_plans(self) -> bool {
        matches!(self, ZooBug::SplitPostFinishOnCountMismatch)
    }
}

/// Hook points: where the scheduler or the maintainer asks its zoo bug how a rule goes. For
/// [`ZooBug::None`] each answers with TiCDC master's rule.
impl ZooBug {
    /// Whether the reference maintainer replaces the kept watermark `(kept_seq, kept_cp)` of a
    /// node with `(seq, cp)`.
    pub fn accepts_watermark(self, kept_seq: u64, kept_cp: u64, seq: u64, cp: u64) -> bool {
        if self == ZooBug::WatermarkNeedsHigherCheckpoint {
            seq >= kept_seq && cp >= kept_cp
        } else {
            seq > kept_seq || (seq == kept_seq && cp > kept_cp)
        }
    }

    /// Whether an operator of `kind` that holds the floor holds it now; `origin_pending`: it
    /// still waits for its origin to stop, with no node removed.
    pub fn operator_holds_floor(self, kind: OperatorKind, origin_pending: bool) -> bool {
        !(self == ZooBug::FloorAfterOriginStop
            && origin_pending
            && matches!(kind, OperatorKind::Move | OperatorKind::Split))
    }

    /// Whether scheduling spans (not only absent ones) bound the checkpoint.
    pub fn scheduling_spans_hold_floor(self) -> bool {
        self != ZooBug::FloorAfterOriginStop
    }

    /// Whether a Create's start ts is clamped to the committed checkpoint (#4548).
    pub fn clamps_start_to_committed(self) -> bool {
        self != ZooBug::StartAtStoredCheckpoint
    }

    /// Whether a finished balance split runs its `postFinish` (an add operator per new span to
    /// its planned node); `on_targets`: `ReplaceReplicaSet` placed the new spans on the planned
    /// nodes (as many spans as targets), otherwise it left them absent for the basic scheduler.
    /// Since #4078 only then (`maintainer/operator/operator_split.go` `PostFinish`); before it,
    /// whenever the split has a plan.
    pub fn split_post_finish_places(self, on_targets: bool) -> bool {
        on_targets || self == ZooBug::SplitPostFinishOnCountMismatch
    }

    /// What a round that computed `computed` reports: since #4709 a `u64::MAX` result ("nothing
    /// contributed") skips the round (`calculateNewCheckpointTs` returns that it cannot
    /// update); before it (after #4548) the committed value, which `GetMaintainerStatus`
    /// reports, took it.
    pub fn reported_checkpoint(self, computed: Option<u64>) -> Option<u64> {
        match computed {
            Some(u64::MAX) if self != ZooBug::CommittedTakesSentinel => None,
            other => other,
        }
    }

    /// The committed checkpoint after a round that computed `computed`: the larger, ignoring 0
    /// (`AdvanceMaintainerCommittedCheckpointTs`) and, since #4709, the `u64::MAX` sentinel.
    pub fn advance_committed(self, committed: u64, computed: u64) -> u64 {
        let skip =
            computed == 0 || (computed == u64::MAX && self != ZooBug::CommittedTakesSentinel);
        if skip {
            committed
        } else {
            committed.max(computed)
        }
    }
}

impl fmt::Display for ZooBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ZooBug {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ZooBug::ALL
            .into_iter()
            .chain([ZooBug::None])
            .find(|bug| bug.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = ZooBug::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown zoo bug {text:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// One column of the prevention table: a protocol with a gate, under its own ordering (the
/// reference's `PostFinish` ordering for the reference; our default, eager, for ours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its heading.
    pub name: &'static str,
    /// The protocol.
    pub protocol: Protocol,
    /// The gate.
    pub gate: GateKind,
    /// The ordering.
    pub ordering: Ordering,
}

/// The columns: TiCDC without the checksum, with PR 3782's gate, ours plain, ours explained (both
/// under our default ordering, eager), and ours plain under the reference's ordering (expected
/// sets change in `PostFinish`), which decides the #3045 row.
pub const COLUMNS: [Column; 5] = [
    Column {
        name: "no checksum (reference, gate none)",
        protocol: Protocol::Reference,
        gate: GateKind::None,
        ordering: Ordering::Reference,
    },
    Column {
        name: "PR 3782's gate (reference, plain)",
        protocol: Protocol::Reference,
        gate: GateKind::Plain,
        ordering: Ordering::Reference,
    },
    Column {
        name: "our plain gate",
        protocol: Protocol::Ours,
        gate: GateKind::Plain,
        ordering: Ordering::Eager,
    },
    Column {
        name: "our explained gate",
        protocol: Protocol::Ours,
        gate: GateKind::Explained,
        ordering: Ordering::Eager,
    },
    Column {
        name: "our plain gate, reference ordering",
        protocol: Protocol::Ours,
        gate: GateKind::Plain,
        ordering: Ordering::Reference,
    },
];

/// One row of the prevention table: a bug and the cluster it is run on.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its heading.
    pub name: String,
    /// The cluster, with its zoo bug (the columns set protocol, gate and ordering).
    pub config: SimConfig,
    /// The check its damage is named by (`None`: the baseline row).
    pub target: Option<ViolationKind>,
    /// Why the rule cannot be expressed in our columns, if it cannot.
    pub ours_note: Option<&'static str>,
    /// Why the model cannot judge it under PR 3782's gate, if it cannot.
    pub pr_gate_note: Option<&'static str>,
}

/// The rows: every rule fixed (the baseline), each zoo bug, and the checksum pull request's own
/// findings 1 and 5 (docs/simulator.md) under the fault mixes of their documented replays.
pub fn rows() -> Vec<Row> {
    // The network faults only (10% loss and duplication, 30% reordering up to 1 s): no
    // failover, restart or drop, so what the no-checksum column loses is the bug's.
    let base = SimConfig {
        faults: FaultConfig::NONE,
        ..SimConfig::default()
    };
    let mut rows = vec![Row {
        name: "every rule fixed (baseline)".to_string(),
        config: base.clone(),
        target: None,
        ours_note: None,
        pr_gate_note: None,
    }];
    for bug in ZooBug::ALL {
        let config = if bug == ZooBug::CommittedTakesSentinel {
            // A changefeed that empties: one table, which the workload drops and re-creates.
            SimConfig {
                dispatchers: 1,
                nodes: 2,
                zoo: bug,
                ..SimConfig::default()
            }
        } else {
            SimConfig {
                zoo: bug,
                ..base.clone()
            }
        };
        rows.push(Row {
            name: format!("{} `{}`", bug.issue(), bug.name()),
            config: config.clone(),
            target: bug.caught_by(),
            ours_note: bug.not_in_ours(),
            pr_gate_note: bug.not_modelled_under_the_pr_gate(),
        });
        if bug.needs_split_plans() {
            // Its fixed rule on the same workload (the baseline row has no balance splits).
            rows.push(Row {
                name: format!("{}'s workload, every rule fixed", bug.issue()),
                config: SimConfig {
                    zoo: ZooBug::None,
                    workload: WorkloadConfig {
                        split_plans: true,
                        ..config.workload
                    },
                    ..config
                },
                target: bug.caught_by(),
                ours_note: None,
                pr_gate_note: None,
            });
        }
    }
    rows.push(Row {
        name: "finding 1: a table dropped during its move".to_string(),
        config: SimConfig {
            faults: FaultConfig {
                failovers: 0,
                moves: 0,
                restarts: 0,
                leaves: 0,
                zombie: 0.0,
                ..FaultConfig::MIX
            },
            ..SimConfig::default()
        },
        target: Some(ViolationKind::LivenessNoMatch),
        ours_note: None,
        pr_gate_note: None,
    });
    rows.push(Row {
        name: "finding 5: MATCH does not name its set".to_string(),
        config: SimConfig {
            faults: FaultConfig {
                failovers: 3,
                zombie: 0.2,
                drifts: 2,
                ..FaultConfig::MIX
            },
            ..SimConfig::default()
        },
        target: Some(ViolationKind::CheckpointAhead),
        ours_note: None,
        pr_gate_note: None,
    });
    rows
}

/// What one cell found: the summary of its seeds.
pub fn describe_cell(row: &Row, summary: &Summary, seeds: u64) -> String {
    let mut parts = Vec::new();
    if let Some(target) = row.target {
        let (runs, first) = summary.violations_of(target);
        parts.push(match first {
            Some(v) => format!("**DAMAGE** `{target}` {runs}/{seeds}, seed {}", v.seed),
            None => format!("no `{target}` (0/{seeds})"),
        });
    }
    let others: Vec<String> = ViolationKind::ALL
        .into_iter()
        .filter(|kind| Some(*kind) != row.target && kind.is_user_visible())
        .filter_map(|kind| {
            let (runs, first) = summary.violations_of(kind);
            first.map(|v| format!("`{kind}` {runs} (seed {})", v.seed))
        })
        .collect();
    if !others.is_empty() {
        parts.push(format!("also {}", others.join(", ")));
    } else if row.target.is_none() {
        parts.push("none".to_string());
    }
    parts.join("; ")
}

/// The prevention table as Markdown: for each row, each column over `seeds` seeds from
/// `first`; `progress` is called with each finished cell.
pub fn prevention_table(
    first: u64,
    seeds: u64,
    threads: usize,
    mut progress: impl FnMut(&str, &str, &str),
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| bug | {} |", COLUMNS.map(|c| c.name).join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(COLUMNS.len()));
    for row in rows() {
        let mut cells = Vec::new();
        for column in COLUMNS {
            let config = SimConfig {
                protocol: column.protocol,
                gate: column.gate,
                ordering: column.ordering,
                ..row.config.clone()
            };
            let is_pr_gate =
                column.protocol == Protocol::Reference && column.gate != GateKind::None;
            let cell = match (row.pr_gate_note, is_pr_gate) {
                (Some(note), true) => format!("n/m ({note})"),
                _ => {
                    let summary = run_seeds(&config, first, seeds, threads);
                    let cell = describe_cell(&row, &summary, seeds);
                    match (column.protocol, row.ours_note) {
                        (Protocol::Ours, Some(note)) => format!("n/r ({note}); run: {cell}"),
                        _ => cell,
                    }
                }
            };
            progress(&row.name, column.name, &cell);
            cells.push(cell);
        }
        let _ = writeln!(out, "| {} | {} |", row.name, cells.join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zoo_bug_has_a_name_the_command_line_parses_and_a_check() {
        for bug in ZooBug::ALL {
            assert_eq!(bug.name().parse::<ZooBug>(), Ok(bug));
            assert!(bug.caught_by().is_some(), "{bug}");
            assert!(bug.issue().starts_with("pingcap/ticdc#"), "{bug}");
        }
        assert!("nonsense".parse::<ZooBug>().is_err());
    }

    #[test]
    fn a_cell_the_model_cannot_judge_says_so_and_cites_the_go_code() {
        let rows = rows();
        let unjudged: Vec<&Row> = rows.iter().filter(|r| r.pr_gate_note.is_some()).collect();
        assert_eq!(unjudged.len(), 1, "only #4703 under PR 3782's gate");
        assert!(unjudged[0].name.contains("#4703"));
        let note = unjudged[0].pr_gate_note.unwrap();
        assert!(note.contains(".go ") && note.contains("not run"), "{note}");
    }

    #[test]
    fn the_committed_value_is_monotone_and_takes_the_sentinel_only_before_4709() {
        let fixed = ZooBug::None;
        assert_eq!(fixed.advance_committed(100, 120), 120);
        assert_eq!(fixed.advance_committed(120, 100), 120);
        assert_eq!(fixed.advance_committed(120, 0), 120);
        assert_eq!(fixed.advance_committed(120, u64::MAX), 120);
        let before = ZooBug::CommittedTakesSentinel;
        assert_eq!(before.advance_committed(120, u64::MAX), u64::MAX);
    }
}
