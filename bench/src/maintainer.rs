//! The maintainer's per-dispatcher bookkeeping as the main job measures it: one
//! [`ExpectedSetTracker::apply_delta`] call per dispatcher moved, added or removed, with
//! [`MaintainerConfig::dispatchers`] tracked over [`NODES`] nodes.
//!
//! The workload and the operations are the ones `benches/maintainer.rs` times with criterion, and
//! the ones the Go reference program (`comparisons/go-reference`) times on its own maintainer, so
//! the three sets of numbers describe the same operations:
//! - the `i`-th ID of [`IdStream`]`(`[`SEED`]`)` is assigned to node `i mod NODES`;
//! - *move*: the first [`MOVABLE`] dispatchers of node 0 go to node 1 one call at a time, then
//!   back, every call a move (so the map keeps its size and the same entries stay warm);
//! - *add* / *remove*: rounds of [`ROUND`] fresh IDs (from [`IdStream`]`(`[`FRESH_SEED`]`)`)
//!   added to node 0 one call at a time, then removed the same way, each part timed on its own
//!   ([`measure_paired_rounds`]): the map's size stays within [`ROUND`] of its starting size.
//!
//! After the timed calls every node's expected fingerprint is checked against the naive oracle of
//! the list it was assigned.

use crate::fixtures::IdStream;
use crate::measure::{measure, measure_paired_rounds, MeasureConfig};
use crate::rows::MaintainerRow;
use dispatcher_checksum::kernels::naive;
use dispatcher_checksum::protocol::tracker::{ExpectedSetTracker, TrackerConfig};
use dispatcher_checksum::protocol::{ChangefeedId, Mode, NodeId};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::time::{Duration, Instant};

/// Nodes the tracked dispatchers are spread over.
pub const NODES: u32 = 64;
/// Seed of the tracked IDs' stream.
pub const SEED: u64 = 7;
/// Seed of the stream of new IDs the add measurement inserts.
pub const FRESH_SEED: u64 = 0xADD;
/// Adds (then removes) per round.
pub const ROUND: usize = 1_000;
/// How many of node 0's dispatchers the move measurement shuttles.
pub const MOVABLE: usize = 1_000;

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaintainerConfig {
    /// Dispatchers tracked (at least [`NODES`] are).
    pub dispatchers: usize,
    /// Timing settings.
    pub measure: MeasureConfig,
}

/// The tracked dispatchers, per node.
struct Cluster {
    nodes: Vec<NodeId>,
    per_node: Vec<Vec<DispatcherId>>,
}

impl Cluster {
    fn new(dispatchers: usize) -> Cluster {
        let nodes: Vec<NodeId> = (0..NODES).map(NodeId).collect();
        let mut per_node = vec![Vec::with_capacity(dispatchers / NODES as usize + 1); nodes.len()];
        for (i, id) in IdStream::new(SEED).take(dispatchers).enumerate() {
            per_node[i % NODES as usize].push(id);
        }
        Cluster { nodes, per_node }
    }

    fn tracker(&self) -> ExpectedSetTracker {
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::new(1, 2, "headline", "default"),
            Mode::Default,
            TrackerConfig::REFERENCE,
        );
        let expected = self.nodes.iter().copied().zip(&self.per_node);
        tracker.reset_full(1, &self.nodes, expected, Duration::ZERO);
        tracker
    }

    /// The naive oracle of each node's list, in node order.
    fn oracle(&self) -> Vec<Fingerprint> {
        self.per_node
            .iter()
            .map(|ids| naive::fingerprint(DispatcherId::slice_words(ids)).into())
            .collect()
    }

    /// Panics unless every node's expected fingerprint is the naive oracle of its list.
    #[track_caller]
    fn check(&self, tracker: &ExpectedSetTracker, what: &str) {
        let tracked: usize = self.per_node.iter().map(Vec::len).sum();
        assert_eq!(
            tracker.dispatcher_count(),
            tracked,
            "{what}: the tracker's size changed"
        );
        for (node, expected) in self.nodes.iter().zip(self.oracle()) {
            assert_eq!(
                tracker.expected(*node),
                Some(expected),
                "{what}: {node}'s expected fingerprint disagrees with the naive oracle: a library bug"
            );
        }
    }
}

/// The naive oracle of each node's expected set for `dispatchers` tracked, in node order: what
/// every implementation's bookkeeping must hold after the balanced operations (the Go reference
/// program's answers are checked against it).
pub fn oracle_per_node(dispatchers: usize) -> Vec<Fingerprint> {
    Cluster::new(dispatchers).oracle()
}

/// Measures move, add and remove; panics if the tracker's bookkeeping disagrees with the oracle
/// afterwards (a library bug, never a property of the machine).
pub fn maintainer_row(config: &MaintainerConfig) -> MaintainerRow {
    let cluster = Cluster::new(config.dispatchers.max(NODES as usize));
    let mut tracker = cluster.tracker();
    cluster.check(&tracker, "reset_full");
    let (a, b) = (NodeId(0), NodeId(1));

    let node_zero = &cluster.per_node[0];
    let movable = &node_zero[..MOVABLE.min(node_zero.len())];
    let mut calls = 0usize;
    let moved = measure(&config.measure, || {
        let id = &movable[calls % movable.len()];
        let to = if (calls / movable.len()).is_multiple_of(2) {
            b
        } else {
            a
        };
        calls += 1;
        tracker.apply_delta(to, std::slice::from_ref(id), &[])
    });
    for id in movable {
        if tracker.owner(*id) == Some(b) {
            tracker.apply_delta(a, std::slice::from_ref(id), &[]);
        }
    }
    cluster.check(&tracker, "after the moves");

    let mut fresh = IdStream::new(FRESH_SEED);
    let mut round = vec![DispatcherId::new(0, 0); ROUND];
    let (added, removed) = measure_paired_rounds(&config.measure, ROUND, || {
        for slot in &mut round {
            *slot = fresh.next_id();
        }
        let start = Instant::now();
        for id in &round {
            std::hint::black_box(tracker.apply_delta(a, std::slice::from_ref(id), &[]));
        }
        let add = start.elapsed();
        let start = Instant::now();
        for id in &round {
            std::hint::black_box(tracker.apply_delta(a, &[], std::slice::from_ref(id)));
        }
        (add, start.elapsed())
    });
    cluster.check(&tracker, "after the adds and removes");

    MaintainerRow {
        dispatchers: tracker.dispatcher_count(),
        nodes: NODES as usize,
        move_one: moved,
        add_one: added,
        remove_one: removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_maintainer_run_measures_all_three_operations_and_keeps_the_sets() {
        let config = MaintainerConfig {
            dispatchers: 5_000,
            measure: MeasureConfig {
                warm_up: Duration::from_micros(200),
                batch_time: Duration::from_micros(200),
                repetitions: 2,
            },
        };
        let row = maintainer_row(&config);
        assert_eq!((row.dispatchers, row.nodes), (5_000, 64));
        for m in [row.move_one, row.add_one, row.remove_one] {
            assert!(m.median > 0.0 && m.batches == 2, "{m:?}");
        }
    }
}
