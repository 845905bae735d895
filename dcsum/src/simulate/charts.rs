//! The pictures `dcsum simulate --svg DIR` draws beside the Markdown: the rebalance's
//! checkpoint lag and nodes not at MATCH over time (a panel per size and ordering, a line per
//! gate), and the verdict as a grid (a row per protocol variant and ordering, a column per fault
//! mix, each cell coloured by its worst violation kind and labelled with the runs it affected).
//! The drawing is the report's ([`dispatcher_checksum_bench::report`]); this module only says
//! what to draw.

use dispatcher_checksum_bench::measure::format_count;
use dispatcher_checksum_bench::report::grid::{Category, Cell, Grid};
use dispatcher_checksum_bench::report::svg::{Chart, Panel, Series};
use dispatcher_checksum_sim::experiments::{fault_mixes, RebalanceRow, VerdictCell};
use dispatcher_checksum_sim::{GateKind, Ordering, ViolationKind};
use std::path::{Path, PathBuf};

/// The rebalance's lag chart's file name.
pub const REBALANCE_LAG: &str = "rebalance-lag.svg";
/// The rebalance's not-MATCH chart's file name.
pub const REBALANCE_NOT_MATCH: &str = "rebalance-not-match.svg";
/// The verdict grid's file name.
pub const VERDICT: &str = "verdict.svg";

/// Creates `dir` if missing (an error names it as the `--svg` flag's value).
pub fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|error| format!("--svg {}: {error}", dir.display()))
}

/// Writes `(file name, SVG text)` pairs into `dir` (created if missing); returns the paths, as
/// `dir` was given, for the Markdown's links.
pub fn write(dir: &Path, files: &[(&str, String)]) -> Result<Vec<PathBuf>, String> {
    create_dir(dir)?;
    files
        .iter()
        .map(|(name, svg)| {
            let path = dir.join(name);
            std::fs::write(&path, svg).map_err(|error| format!("{}: {error}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// A Markdown image of `path`, in angle brackets when the path has a space.
pub fn markdown_image(alt: &str, path: &Path) -> String {
    let path = path.display().to_string();
    if path.contains(char::is_whitespace) {
        format!("![{alt}](<{path}>)")
    } else {
        format!("![{alt}]({path})")
    }
}

fn gate_line(gate: GateKind) -> &'static str {
    match gate {
        GateKind::None => "no gate (baseline)",
        GateKind::Plain => "plain gate",
        GateKind::Explained => "explained gate",
        GateKind::Contract => "contract gate",
    }
}

/// A panel per size and ordering (sizes down, orderings across), a line per gate: the baseline
/// dashed (drawn over the others, so it shows where a gate's line coincides with it). With
/// `merge_equal`, a panel whose runs all drew the same line draws it once, named so.
fn rebalance_chart(
    rows: &[RebalanceRow],
    title: String,
    y_label: &str,
    y_format: fn(f64) -> String,
    points: fn(&RebalanceRow) -> Vec<(f64, f64)>,
    merge_equal: bool,
) -> Chart {
    let mut keys: Vec<(usize, usize, Ordering)> = Vec::new();
    for row in rows {
        let key = (row.dispatchers, row.nodes, row.ordering);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let orderings = Ordering::ALL
        .iter()
        .filter(|o| rows.iter().any(|r| r.ordering == **o))
        .count();
    let panels = keys
        .iter()
        .map(|&(dispatchers, nodes, ordering)| {
            let mut series: Vec<Series> = rows
                .iter()
                .filter(|r| (r.dispatchers, r.nodes, r.ordering) == (dispatchers, nodes, ordering))
                .map(|row| Series {
                    name: gate_line(row.gate).to_string(),
                    points: points(row),
                    dashed: row.gate == GateKind::None,
                })
                .collect();
            if merge_equal && series.windows(2).all(|w| w[0].points == w[1].points) {
                series.truncate(1);
                if let Some(only) = series.first_mut() {
                    only.name = "every gate, identical".into();
                    only.dashed = false;
                }
            }
            Panel {
                title: format!(
                    "{} dispatchers, {nodes} nodes: {}",
                    format_count(dispatchers),
                    ordering.name()
                ),
                series,
            }
        })
        .collect();
    Chart {
        title,
        x_label: "simulated seconds into the rebalance".into(),
        y_label: y_label.into(),
        x_log: false,
        y_log: false,
        x_format: |x| format!("{x:.0} s"),
        y_format,
        panels,
        columns: orderings.max(1),
    }
}

/// The checkpoint's lag behind the upstream over time.
pub fn rebalance_lag(rows: &[RebalanceRow], percent_per_minute: f64) -> Chart {
    rebalance_chart(
        rows,
        format!(
            "Checkpoint lag while a rebalance moves {percent_per_minute}% of the dispatchers a minute"
        ),
        "checkpoint behind the upstream",
        |y| format!("{y:.0} s"),
        |row| {
            row.lag_over_time
                .iter()
                .map(|&(at, lag)| (at as f64 / 1000.0, lag as f64 / 1000.0))
                .collect()
        },
        false,
    )
}

/// The fraction of the nodes not at MATCH over time.
pub fn rebalance_not_match(rows: &[RebalanceRow], percent_per_minute: f64) -> Chart {
    rebalance_chart(
        rows,
        format!(
            "Nodes not at MATCH while a rebalance moves {percent_per_minute}% of the dispatchers a minute"
        ),
        "nodes not at MATCH",
        |y| format!("{:.0}%", 100.0 * y),
        |row| {
            row.not_match_over_time
                .iter()
                .map(|&(at, fraction)| (at as f64 / 1000.0, fraction))
                .collect()
        },
        // A gate holds only the checkpoint: the nodes usually do the same under each.
        true,
    )
}

/// What users lose first: the user-visible kinds in report order, then the oracles' (a bug of
/// the implementation under test), the diagnostic last.
fn severity(kind: ViolationKind) -> (u8, usize) {
    let class = match kind {
        ViolationKind::Equivalence
        | ViolationKind::TrackerOracle
        | ViolationKind::MatchTruthful => 1,
        _ if !kind.is_user_visible() => 2,
        _ => 0,
    };
    let index = ViolationKind::ALL.iter().position(|k| *k == kind);
    (class, index.unwrap_or(usize::MAX))
}

/// A violation kind's fill and what it means, for the legend: reds for lost data, oranges and
/// yellow for lost time, purples for an oracle's disagreement, a pale blue for the diagnostic.
fn kind_style(kind: ViolationKind) -> (&'static str, &'static str) {
    match kind {
        ViolationKind::CheckpointAhead => ("#b2182b", "data loss"),
        ViolationKind::CheckpointRegressed => ("#8c510a", "replayed data"),
        ViolationKind::CheckpointSentinel => ("#67001f", "sentinel checkpoint"),
        ViolationKind::StartBelowPersisted => ("#d6604d", "starts below persisted"),
        ViolationKind::TwoWorking => ("#e08214", "span written twice"),
        ViolationKind::LivenessNoMatch => ("#f46d43", "a node never MATCHes"),
        ViolationKind::LivenessStalled => ("#fdae61", "checkpoint stuck"),
        ViolationKind::LivenessNeverQuiet => ("#fee08b", "never quiet"),
        ViolationKind::Equivalence => ("#762a83", "oracle"),
        ViolationKind::TrackerOracle => ("#9970ab", "oracle"),
        ViolationKind::MatchTruthful => ("#c2a5cf", "untrue MATCH"),
        ViolationKind::GateOpenedOnUnequalSets => ("#92c5de", "diagnostic"),
    }
}

const NO_VIOLATION: &str = "#a1d99b";

/// The verdict as a grid: a row per protocol variant and ordering (as the Markdown matrix has
/// them), a column per fault mix; a cell is coloured by its worst violation kind and labelled
/// with the runs that kind affected, with `+N kinds` under it when it has more.
pub fn verdict_grid(cells: &[VerdictCell], first_seed: u64) -> Grid {
    let mut rows: Vec<(String, Ordering)> = Vec::new();
    for cell in cells {
        let key = (cell.variant(), cell.ordering);
        if !rows.contains(&key) {
            rows.push(key);
        }
    }
    let worst = |cell: &VerdictCell| {
        cell.violations
            .iter()
            .min_by_key(|(kind, _, _)| severity(*kind))
            .copied()
    };
    let mut kinds: Vec<ViolationKind> = cells
        .iter()
        .filter_map(|c| worst(c).map(|(kind, _, _)| kind))
        .collect();
    kinds.sort_by_key(|k| severity(*k));
    kinds.dedup();
    let mut categories = vec![Category {
        name: "no violation".into(),
        fill: NO_VIOLATION,
    }];
    categories.extend(kinds.iter().map(|kind| {
        let (fill, meaning) = kind_style(*kind);
        Category {
            name: format!("{kind} ({meaning})"),
            fill,
        }
    }));
    let columns: Vec<&str> = fault_mixes().iter().map(|m| m.name).collect();
    let grid_cells = rows
        .iter()
        .map(|(variant, ordering)| {
            columns
                .iter()
                .map(|mix| {
                    let cell = cells.iter().find(|c| {
                        c.variant() == *variant && c.ordering == *ordering && c.faults == *mix
                    })?;
                    let tooltip = format!(
                        "{variant}, {} ordering, faults {mix}: {}",
                        ordering.name(),
                        cell.describe()
                    );
                    Some(match worst(cell) {
                        None => Cell {
                            category: 0,
                            label: "0".into(),
                            detail: String::new(),
                            tooltip,
                        },
                        Some((kind, runs, _)) => {
                            let more = cell.violations.len() - 1;
                            Cell {
                                category: 1 + kinds.iter().position(|k| *k == kind).unwrap_or(0),
                                label: runs.to_string(),
                                detail: match more {
                                    0 => String::new(),
                                    1 => "+1 kind".into(),
                                    more => format!("+{more} kinds"),
                                },
                                tooltip,
                            }
                        }
                    })
                })
                .collect()
        })
        .collect();
    let runs = cells.first().map_or(0, |c| c.runs);
    Grid {
        title: "The verdict: both protocols under faults".into(),
        subtitle: format!(
            "{runs} seeds a cell from seed {first_seed}; a cell: its worst violation kind and the runs it affected"
        ),
        row_headers: vec!["protocol".into(), "ordering".into()],
        rows: rows
            .iter()
            .map(|(variant, ordering)| vec![variant.clone(), ordering.name().to_string()])
            .collect(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        cells: grid_cells,
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dispatcher_checksum_sim::experiments::{orderings, VARIANTS};

    /// A cell of every variant, ordering and mix; two of them with violations.
    fn cells() -> Vec<VerdictCell> {
        let mut cells = Vec::new();
        for (protocol, gate) in VARIANTS {
            for &ordering in orderings(gate) {
                for mix in fault_mixes() {
                    let violations = match (gate, mix.name) {
                        (GateKind::None, "all") => vec![
                            (ViolationKind::LivenessStalled, 2, 290),
                            (ViolationKind::CheckpointAhead, 526, 4),
                        ],
                        (GateKind::Plain, "drift") if protocol != VARIANTS[0].0 => {
                            vec![(ViolationKind::GateOpenedOnUnequalSets, 1, 584)]
                        }
                        _ => Vec::new(),
                    };
                    cells.push(VerdictCell {
                        protocol,
                        gate,
                        ordering,
                        faults: mix.name,
                        runs: 1000,
                        violations,
                        held: 0.0,
                        dips: 0,
                    });
                }
            }
        }
        cells
    }

    #[test]
    fn the_verdict_grid_has_one_cell_per_verdict_cell_coloured_by_its_worst_kind() {
        let cells = cells();
        let grid = verdict_grid(&cells, 1);
        let drawn: usize = grid.cells.iter().flatten().filter(|c| c.is_some()).count();
        assert_eq!(drawn, cells.len());
        assert_eq!(grid.columns.len(), fault_mixes().len());
        assert_eq!(
            grid.rows.len(),
            VARIANTS
                .iter()
                .map(|(_, gate)| orderings(*gate).len())
                .sum::<usize>()
        );
        // The legend: no violation, then the worst kinds present, data loss before the
        // diagnostic; the stalled run hides under the data loss of its cell.
        let names: Vec<&str> = grid.categories.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "no violation",
                "checkpoint-ahead (data loss)",
                "gate-opened-on-unequal-sets (diagnostic)"
            ]
        );
        let worst = grid.cells.last().unwrap().last().unwrap().as_ref().unwrap();
        assert_eq!(
            (worst.category, worst.label.as_str(), worst.detail.as_str()),
            (1, "526", "+1 kind")
        );
        assert!(worst.tooltip.contains("liveness-stalled 2 (seed 290)"));
        let svg = grid.render();
        assert_eq!(svg.matches("<g><title>").count(), cells.len());
        assert!(svg.contains(">526</text>"));
        assert_eq!(
            grid.rows.last().unwrap(),
            &["TiCDC without the checksum", "reference"]
        );
        // The long label on two lines.
        assert!(svg.contains(">TiCDC without</text>") && svg.contains(">the checksum</text>"));
    }

    #[test]
    fn every_kind_has_its_own_fill() {
        let mut fills: Vec<&str> = ViolationKind::ALL
            .iter()
            .map(|k| kind_style(*k).0)
            .chain([NO_VIOLATION])
            .collect();
        fills.sort_unstable();
        fills.dedup();
        assert_eq!(fills.len(), ViolationKind::ALL.len() + 1);
    }
}
