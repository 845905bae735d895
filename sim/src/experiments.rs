//! The two experiments the documentation reports, as functions the `dcsum` tool prints:
//!
//! - [`verdict`]: protocol × gate × ordering × fault mix, each over many seeds, with every
//!   violation kind counted and the first replay seed of each (`dcsum simulate --verdict`);
//! - [`rebalance`]: a large cluster under a rebalance, each gate beside a run without the gate
//!   on the same seed and workload: how often the gate holds the checkpoint, how far the
//!   checkpoint lags the upstream, the extra lag the gate adds, the maintainer's message rates,
//!   and how fast the simulator runs at that size (`dcsum simulate --rebalance`).

use crate::checks::{percentile, ViolationKind};
use crate::config::{CheckDepth, FaultConfig, GateKind, Ordering, Protocol, SimConfig, Timing};
use crate::network::NetworkConfig;
use crate::{run_seed, run_seeds, SeedOutcome, WorkloadConfig};
use std::fmt::Write as _;
use std::time::Instant;

/// A named fault mix of the verdict table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultMix {
    /// Its column name.
    pub name: &'static str,
    /// The network.
    pub network: NetworkConfig,
    /// The faults.
    pub faults: FaultConfig,
}

/// The verdict table's fault mixes: nothing; the network alone (10% loss and duplication, 30%
/// reordering up to 1 s); plus maintainer failovers, an error restart, a move, a move whose
/// destination fails and zombies; plus a node restart (under a new ID) and a leave; plus table drops replacing running operators; plus silent drifts; plus coordinator failovers;
/// everything (without the coordinator failovers, so its seeds stay what they were).
pub fn fault_mixes() -> Vec<FaultMix> {
    let network = NetworkConfig::default();
    let none = FaultConfig::NONE;
    vec![
        FaultMix {
            name: "none",
            network: NetworkConfig::PERFECT,
            faults: none,
        },
        FaultMix {
            name: "network",
            network,
            faults: none,
        },
        FaultMix {
            name: "maintainer",
            network,
            faults: FaultConfig {
                failovers: 2,
                error_restarts: 1,
                moves: 1,
                move_dest_fails: 1,
                zombie: 0.05,
                ..none
            },
        },
        FaultMix {
            name: "nodes",
            network,
            faults: FaultConfig {
                restarts: 1,
                leaves: 1,
                ..none
            },
        },
        FaultMix {
            name: "replacement",
            network,
            faults: FaultConfig {
                replacements: 2,
                ..none
            },
        },
        FaultMix {
            name: "drift",
            network,
            faults: FaultConfig { drifts: 2, ..none },
        },
        FaultMix {
            name: "coordinator",
            network,
            faults: FaultConfig {
                coordinator_failovers: 2,
                ..none
            },
        },
        FaultMix {
            name: "all",
            network,
            faults: FaultConfig {
                drifts: 2,
                ..FaultConfig::MIX
            },
        },
    ]
}

/// The protocol variants of the verdict table: ours with each gate, the reference, and the
/// reference without its checksum (TiCDC's own rules before the pull request: the watermark
/// store, no gate, no monotone guard, no expected-set updates on the wire).
pub const VARIANTS: [(Protocol, GateKind); 4] = [
    (Protocol::Ours, GateKind::Plain),
    (Protocol::Ours, GateKind::Explained),
    (Protocol::Reference, GateKind::Plain),
    (Protocol::Reference, GateKind::None),
];

/// The orderings a variant runs under: without a checksum the orderings (which only move
/// expected sets) are one and the same, so the baseline runs the reference's alone.
pub fn orderings(gate: GateKind) -> &'static [Ordering] {
    match gate {
        GateKind::None => &[Ordering::Reference],
        _ => &Ordering::ALL,
    }
}

/// One cell of the verdict table.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictCell {
    /// The protocol.
    pub protocol: Protocol,
    /// The gate.
    pub gate: GateKind,
    /// The ordering.
    pub ordering: Ordering,
    /// The fault mix's name.
    pub faults: &'static str,
    /// Runs.
    pub runs: usize,
    /// Per violation kind: runs affected and the first replay seed.
    pub violations: Vec<(ViolationKind, usize, u64)>,
    /// The fraction of fault-phase checkpoint steps the gate held.
    pub held: f64,
    /// Runs in which the maintainer's internal checkpoint dipped (an observation; what is
    /// persisted is guarded).
    pub dips: usize,
}

impl VerdictCell {
    /// `plain`, `explained`, `reference` or `no checksum`.
    pub fn variant(&self) -> String {
        match (self.protocol, self.gate) {
            (Protocol::Reference, GateKind::None) => "TiCDC without the checksum".to_string(),
            (Protocol::Reference, _) => "reference (PR 3782, as intended)".to_string(),
            (_, GateKind::None) => "ours without a gate".to_string(),
            (_, gate) => format!("ours, {} gate", gate.name()),
        }
    }

    /// `none`, or each kind with its runs and first replay seed, e.g.
    /// `checkpoint-ahead 12 (seed 4)`.
    pub fn describe(&self) -> String {
        let violations = if self.violations.is_empty() {
            "none".to_string()
        } else {
            self.violations
                .iter()
                .map(|(kind, runs, seed)| format!("{kind} {runs} (seed {seed})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.dips == 0 {
            violations
        } else {
            format!("{violations}; *internal dips in {} runs*", self.dips)
        }
    }
}

/// The configuration of one cell.
pub fn cell_config(
    protocol: Protocol,
    gate: GateKind,
    ordering: Ordering,
    mix: &FaultMix,
) -> SimConfig {
    SimConfig {
        protocol,
        gate,
        ordering,
        network: mix.network,
        faults: mix.faults,
        ..SimConfig::default()
    }
}

/// Runs every cell over `seeds` seeds from `first`.
pub fn verdict(
    first: u64,
    seeds: u64,
    threads: usize,
    mut progress: impl FnMut(&VerdictCell),
) -> Vec<VerdictCell> {
    let mut cells = Vec::new();
    for (protocol, gate) in VARIANTS {
        for &ordering in orderings(gate) {
            for mix in fault_mixes() {
                let config = cell_config(protocol, gate, ordering, &mix);
                let summary = run_seeds(&config, first, seeds, threads);
                let violations = ViolationKind::ALL
                    .iter()
                    .filter_map(|kind| {
                        let (runs, first) = summary.violations_of(*kind);
                        first.map(|v| (*kind, runs, v.seed))
                    })
                    .collect();
                let cell = VerdictCell {
                    protocol,
                    gate,
                    ordering,
                    faults: mix.name,
                    runs: summary.outcomes.len(),
                    violations,
                    held: summary.held_fraction(),
                    dips: summary.internal_dips().0,
                };
                progress(&cell);
                cells.push(cell);
            }
        }
    }
    cells
}

/// The verdict as a Markdown matrix: a row per protocol variant and ordering, a column per
/// fault mix; a cell lists the violation kinds with the runs affected and the first seed that
/// replays each, or says none.
pub fn verdict_matrix(cells: &[VerdictCell]) -> String {
    let mixes: Vec<&'static str> = fault_mixes().iter().map(|m| m.name).collect();
    let mut out = String::new();
    let _ = writeln!(out, "| protocol | ordering | {} |", mixes.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(mixes.len()));
    let mut rows: Vec<(String, Ordering)> = Vec::new();
    for cell in cells {
        let key = (cell.variant(), cell.ordering);
        if !rows.contains(&key) {
            rows.push(key);
        }
    }
    for (variant, ordering) in rows {
        let entries: Vec<String> = mixes
            .iter()
            .map(|mix| {
                cells
                    .iter()
                    .find(|c| c.variant() == variant && c.ordering == ordering && c.faults == *mix)
                    .map_or_else(|| "-".to_string(), |c| c.describe())
            })
            .collect();
        let _ = writeln!(
            out,
            "| {variant} | {} | {} |",
            ordering.name(),
            entries.join(" | ")
        );
    }
    out
}

/// The fault mixes as a Markdown table of the `dcsum simulate` flags that select each.
pub fn verdict_mixes() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| fault mix | `dcsum simulate` flags |");
    let _ = writeln!(out, "|---|---|");
    for mix in fault_mixes() {
        let _ = writeln!(out, "| {} | `{}` |", mix.name, mix_flags(mix.name));
    }
    out
}

/// Every cell with a violation, with its first replay seed and the command that replays it.
pub fn verdict_details(cells: &[VerdictCell]) -> String {
    let mut out = String::new();
    for cell in cells.iter().filter(|c| !c.violations.is_empty()) {
        for (kind, runs, seed) in &cell.violations {
            let protocol = match cell.protocol {
                Protocol::Ours => String::new(),
                Protocol::Reference => " --protocol reference".to_string(),
            };
            let gate = match cell.gate {
                GateKind::Plain => String::new(),
                other => format!(" --gate {}", other.name()),
            };
            let _ = writeln!(
                out,
                "- {}, {} ordering, faults `{}`: **{kind}** in {runs} of {} runs; replay: `dcsum simulate --trace {seed} --until {kind} --ordering {}{protocol}{gate} {}`",
                cell.variant(),
                cell.ordering.name(),
                cell.faults,
                cell.runs,
                cell.ordering.name(),
                mix_flags(cell.faults),
            );
        }
    }
    out
}

/// The `dcsum simulate` flags of a fault mix.
pub fn mix_flags(name: &str) -> String {
    let mix = fault_mixes()
        .into_iter()
        .find(|m| m.name == name)
        .expect("a known mix");
    let n = mix.network;
    let f = mix.faults;
    format!(
        "--loss {} --dup {} --reorder {} --max-delay-ms {} --failovers {} --error-restarts {} --moves {} --move-dest-fails {} --restarts {} --leaves {} --replacements {} --zombie {} --drifts {} --coordinator-failovers {}",
        n.loss, n.duplicate, n.reorder, n.max_delay_ms, f.failovers, f.error_restarts, f.moves, f.move_dest_fails, f.restarts, f.leaves, f.replacements, f.zombie, f.drifts, f.coordinator_failovers
    )
}

/// One row of the rebalance experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct RebalanceRow {
    /// The ordering.
    pub ordering: Ordering,
    /// The gate.
    pub gate: GateKind,
    /// Nodes.
    pub nodes: usize,
    /// Dispatchers.
    pub dispatchers: usize,
    /// The fraction of checkpoint steps the gate held.
    pub held: f64,
    /// The checkpoint's lag behind the upstream (ms): p50, p99, max.
    pub lag: [u64; 3],
    /// The lag it adds over the run without the gate, step by step (ms): p50, p99, max.
    pub extra: [u64; 3],
    /// Checksum updates the maintainer sent per second.
    pub updates_per_second: f64,
    /// Acks the maintainer received per second.
    pub acks_per_second: f64,
    /// Moves started.
    pub moves: u64,
    /// Simulated seconds per wall second.
    pub speed: f64,
    /// Whether the run had any violation.
    pub violations: usize,
    /// The checkpoint's lag behind the upstream at each fault-phase checkpoint step:
    /// (simulated ms, lag ms).
    pub lag_over_time: Vec<(u64, u64)>,
    /// The fraction of the nodes not at MATCH at each fault-phase checkpoint step:
    /// (simulated ms, fraction).
    pub not_match_over_time: Vec<(u64, f64)>,
}

/// The rebalance experiment's configuration: `nodes` nodes, `dispatchers` dispatchers, the
/// realistic timings (the reference's: heartbeat 200 ms, flush 100 ms, resend 1 s), a network with millisecond delays
/// (1-5 ms, 5% reordered up to 50 ms, nothing lost), no faults, no operator but a rebalance moving
/// `percent_per_minute` of the dispatchers per minute for `seconds`.
pub fn rebalance_config(
    nodes: usize,
    dispatchers: usize,
    percent_per_minute: f64,
    seconds: u64,
    ordering: Ordering,
    gate: GateKind,
) -> SimConfig {
    SimConfig {
        nodes,
        dispatchers,
        ordering,
        gate,
        timing: Timing::realistic(),
        network: NetworkConfig {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.05,
            base_delay_ms: (1, 5),
            max_delay_ms: 50,
        },
        faults: FaultConfig::NONE,
        workload: WorkloadConfig {
            operators_per_second: 0.0,
            rebalance_per_minute: percent_per_minute / 100.0,
            split_plans: false,
        },
        fault_phase_ms: seconds * 1000,
        checks: CheckDepth::Progress,
        not_match_series: true,
        ..SimConfig::default()
    }
}

/// Runs the rebalance at one size under both orderings: the run without the gate, then each
/// gate, all on seed `seed`.
pub fn rebalance(
    nodes: usize,
    dispatchers: usize,
    percent_per_minute: f64,
    seconds: u64,
    seed: u64,
    mut progress: impl FnMut(&RebalanceRow),
) -> Vec<RebalanceRow> {
    let mut rows = Vec::new();
    for ordering in Ordering::ALL {
        let mut baseline: Option<SeedOutcome> = None;
        for gate in [GateKind::None, GateKind::Plain, GateKind::Explained] {
            let config = rebalance_config(
                nodes,
                dispatchers,
                percent_per_minute,
                seconds,
                ordering,
                gate,
            );
            let started = Instant::now();
            let outcome = run_seed(&config, seed);
            let wall = started.elapsed().as_secs_f64().max(1e-9);
            let mut lag = outcome.metrics.lag_now.clone();
            lag.sort_unstable();
            let extra = match &baseline {
                Some(base) => {
                    let mut extra: Vec<u64> = outcome
                        .metrics
                        .lag_now
                        .iter()
                        .zip(&base.metrics.lag_now)
                        .map(|(gated, free)| gated.saturating_sub(*free))
                        .collect();
                    extra.sort_unstable();
                    extra
                }
                None => Vec::new(),
            };
            let metrics = &outcome.metrics;
            let pick = |values: &[u64]| [50, 99, 100].map(|p| percentile(values, p).unwrap_or(0));
            let fault_seconds = seconds as f64;
            let row = RebalanceRow {
                ordering,
                gate,
                nodes,
                dispatchers,
                held: outcome.metrics.held_ticks as f64 / outcome.metrics.fault_ticks.max(1) as f64,
                lag: pick(&lag),
                extra: pick(&extra),
                updates_per_second: outcome.metrics.updates_sent as f64 / fault_seconds,
                acks_per_second: outcome.metrics.acks_received as f64 / fault_seconds,
                moves: outcome.operators.values().sum(),
                speed: outcome.simulated_ms as f64 / 1000.0 / wall,
                violations: outcome.violations.len(),
                lag_over_time: metrics
                    .not_match
                    .iter()
                    .zip(&metrics.lag_now)
                    .map(|(&(at, _, _), &lag)| (at, lag))
                    .collect(),
                not_match_over_time: metrics
                    .not_match
                    .iter()
                    .map(|&(at, running, not_match)| {
                        (at, f64::from(not_match) / f64::from(running.max(1)))
                    })
                    .collect(),
            };
            progress(&row);
            rows.push(row);
            if gate == GateKind::None {
                baseline = Some(outcome);
            }
        }
    }
    rows
}

/// The rebalance rows as a Markdown table.
pub fn rebalance_table(rows: &[RebalanceRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| dispatchers / nodes | ordering | gate | held | lag p50 / p99 / max | extra lag p50 / p99 / max | updates/s | acks/s | moves | violations | sim s per wall s |");
    let _ = writeln!(out, "|---|---|---|---:|---|---|---:|---:|---:|---:|---:|");
    let secs = |ms: u64| format!("{:.1}", ms as f64 / 1000.0);
    for row in rows {
        let extra = if row.gate == GateKind::None {
            "(baseline)".to_string()
        } else {
            format!(
                "{} / {} / {} s",
                secs(row.extra[0]),
                secs(row.extra[1]),
                secs(row.extra[2])
            )
        };
        let _ = writeln!(
            out,
            "| {} / {} | {} | {} | {:.1}% | {} / {} / {} s | {extra} | {:.0} | {:.0} | {} | {} | {:.1} |",
            row.dispatchers,
            row.nodes,
            row.ordering.name(),
            row.gate.name(),
            100.0 * row.held,
            secs(row.lag[0]),
            secs(row.lag[1]),
            secs(row.lag[2]),
            row.updates_per_second,
            row.acks_per_second,
            row.moves,
            row.violations,
            row.speed,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rebalance_row_carries_its_time_series() {
        let rows = rebalance(4, 200, 3.0, 5, 1, |_| {});
        assert_eq!(rows.len(), 6);
        for row in &rows {
            let times: Vec<u64> = row.lag_over_time.iter().map(|p| p.0).collect();
            assert!(!times.is_empty());
            assert!(times.windows(2).all(|w| w[0] < w[1]) && times[times.len() - 1] < 5000);
            assert_eq!(
                row.not_match_over_time
                    .iter()
                    .map(|p| p.0)
                    .collect::<Vec<_>>(),
                times
            );
            assert!(row
                .not_match_over_time
                .iter()
                .all(|(_, fraction)| (0.0..=1.0).contains(fraction)));
            // The series is the one the table's percentiles summarise.
            assert_eq!(
                row.lag_over_time.iter().map(|p| p.1).max(),
                Some(row.lag[2])
            );
        }
        // Nodes start without an expected set: not all at MATCH at the first step.
        assert!(rows[0].not_match_over_time[0].1 > 0.0);
        // A sweep keeps every run's metrics: it records no series.
        let sweep = SimConfig {
            fault_phase_ms: 5000,
            ..SimConfig::default()
        };
        let outcome = run_seed(&sweep, 1);
        assert!(!outcome.metrics.lag_now.is_empty() && outcome.metrics.not_match.is_empty());
        // Same seed, same run (but for the wall clock's speed).
        let simulated = |rows: Vec<RebalanceRow>| -> Vec<RebalanceRow> {
            rows.into_iter()
                .map(|row| RebalanceRow { speed: 0.0, ..row })
                .collect()
        };
        assert_eq!(
            simulated(rows),
            simulated(rebalance(4, 200, 3.0, 5, 1, |_| {}))
        );
    }
}
