//! The maintainer's per-dispatcher bookkeeping at a steady size: one
//! [`ExpectedSetTracker::apply_delta`] call per dispatcher added, removed or moved, with
//! [`MaintainerConfig::dispatchers`] tracked over [`NODES`] nodes. [`SteadyState`] is the one
//! definition of the workload: the main job ([`maintainer_row`]) and the criterion bench
//! (`bench/benches/maintainer.rs`, `maintainer/apply_delta-{add,remove,move}/<size>`) both drive
//! it, so their numbers describe the same operations.
//!
//! - The `i`-th ID of [`IdStream`]`(`[`SEED`]`)` is assigned to node `i mod NODES` (one
//!   `reset_full`), and every tracked ID sits in a *ring*, oldest first, with its owner.
//! - *add* / *remove*: rounds of [`ROUND`] calls each. A round adds [`ROUND`] fresh IDs (from
//!   [`IdStream`]`(`[`FRESH_SEED`]`)`), one call each, to the owners of the [`ROUND`] oldest IDs,
//!   then removes those oldest IDs, one call each; the adds and the removes are timed apart. The
//!   fresh IDs join the ring's back. The tracker's size moves between N and N + [`ROUND`] and
//!   every node keeps its count, however many rounds run. The map's *size* never outgrows the
//!   room reserved up front, but its table does grow after enough churn: a removal whose
//!   neighbourhood has no empty slot leaves a tombstone, which uses up room, and once the room is
//!   gone `hashbrown` doubles the table inside a timed add (at 1M, after about 10M adds and
//!   removes; measured in `docs/performance.md`). A long run therefore measures a table twice as
//!   large, at half the load, in freshly allocated memory without the huge-page advice: this is
//!   why criterion, which churns that much before its move bench, and the main job, which does
//!   not, measured the same workload up to 2× apart. The removed IDs were added a whole ring ago,
//!   so at 1M and more they are out of every cache, as a table drop's would be, and every add
//!   lands in a random, cold part of the map: neither operation is measured on hot entries.
//! - *move*: a cursor walks the ring; each call re-homes the ID under it from its owner `k` to
//!   node `k + 1 mod NODES` (so the nodes stay balanced and the moved entries are cold too).
//!
//! After the timed calls every node's expected fingerprint is checked against the naive oracle of
//! the IDs the ring says it owns.
//!
//! The Go reference program (`comparisons/go-reference`) runs the same workload, step for step
//! (the same ID streams, ring, nodes and order of operations), and reports how many moves and
//! rounds it ran; [`crate::go_reference`] replays them on this tracker and compares the end
//! states, so its answers are checked against the naive oracle through [`SteadyState::check`].
//!
//! Batched calls ([`batched_row`], `maintainer/batch-*` in criterion): the bootstrap's
//! `reset_full` of every ID from a fresh tracker, [`DRAIN_IDS`] of one node removed in one call
//! and added back in one, and [`REBALANCE_IDS`] moved to the next node in one call, per ID.

use crate::fixtures::IdStream;
use crate::measure::{measure, measure_paired_rounds, MeasureConfig};
use crate::rows::{BatchedRow, MaintainerRow};
use dispatcher_checksum::kernels::naive;
use dispatcher_checksum::protocol::tracker::{ExpectedSetTracker, TrackerConfig};
use dispatcher_checksum::protocol::{ChangefeedId, Mode, NodeId};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Nodes the tracked dispatchers are spread over.
pub const NODES: u32 = 64;
/// Seed of the tracked IDs' stream.
pub const SEED: u64 = 7;
/// Seed of the stream of new IDs the add measurement inserts.
pub const FRESH_SEED: u64 = 0xADD;
/// Adds (then removes) per round.
pub const ROUND: usize = 1_000;

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaintainerConfig {
    /// Dispatchers tracked (at least [`NODES`] are).
    pub dispatchers: usize,
    /// Timing settings.
    pub measure: MeasureConfig,
}

/// The initial assignment: the first `dispatchers` IDs of [`SEED`]'s stream in [`NODES`] node
/// lists, the `i`-th to node `i mod NODES` (list `k` is node `k`'s).
pub fn assignment(dispatchers: usize) -> Vec<Vec<DispatcherId>> {
    let mut per_node = vec![Vec::with_capacity(dispatchers / NODES as usize + 1); NODES as usize];
    for (i, id) in IdStream::new(SEED).take(dispatchers).enumerate() {
        per_node[i % NODES as usize].push(id);
    }
    per_node
}

fn node_index(node: NodeId) -> usize {
    node.0 as usize
}

/// The naive oracle of each node's expected set for `dispatchers` tracked in the initial
/// assignment, in node order: what the Go reference program's balanced operations must end at
/// (its answers are checked against it).
pub fn oracle_per_node(dispatchers: usize) -> Vec<Fingerprint> {
    assignment(dispatchers)
        .iter()
        .map(|ids| naive::fingerprint(DispatcherId::slice_words(ids)).into())
        .collect()
}

/// A tracker at a steady size and the ring of what it tracks (see the module docs).
pub struct SteadyState {
    tracker: ExpectedSetTracker,
    /// Every tracked ID with its owner, oldest first.
    ring: VecDeque<(DispatcherId, NodeId)>,
    fresh: IdStream,
    /// The ring position of the next move.
    move_cursor: usize,
    /// The node of the next batched operation (taken modulo [`NODES`]).
    batch_node: u32,
    /// A round's fresh IDs and the oldest IDs it removes, built before the timer starts.
    added: Vec<(DispatcherId, NodeId)>,
    removed: Vec<(DispatcherId, NodeId)>,
}

impl SteadyState {
    /// `dispatchers` (at least [`NODES`]) tracked over [`NODES`] nodes after one `reset_full`.
    pub fn new(dispatchers: usize) -> SteadyState {
        let dispatchers = dispatchers.max(NODES as usize);
        let per_node = assignment(dispatchers);
        let nodes: Vec<NodeId> = (0..NODES).map(NodeId).collect();
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::new(1, 2, "maintainer", "default"),
            Mode::Default,
            TrackerConfig::REFERENCE,
        );
        tracker.reset_full(
            1,
            &nodes,
            nodes.iter().copied().zip(&per_node),
            Duration::ZERO,
        );
        // A round's adds come before its removes: with room for them the map cannot grow (and
        // rehash 1M entries) inside a timed call.
        tracker.reserve(ROUND);
        // The ring in assignment order: node lists interleaved back into stream order.
        let mut ring = VecDeque::with_capacity(dispatchers + ROUND);
        for i in 0..dispatchers {
            let node = i % NODES as usize;
            ring.push_back((per_node[node][i / NODES as usize], NodeId(node as u32)));
        }
        SteadyState {
            tracker,
            ring,
            fresh: IdStream::new(FRESH_SEED),
            move_cursor: 0,
            batch_node: 0,
            added: Vec::with_capacity(ROUND),
            removed: Vec::with_capacity(ROUND),
        }
    }

    /// The tracker.
    pub fn tracker(&self) -> &ExpectedSetTracker {
        &self.tracker
    }

    /// Dispatchers tracked between rounds.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether nothing is tracked (never, after [`SteadyState::new`]).
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// One round of `len` (at most [`ROUND`]) adds of fresh IDs and `len` removes of the oldest
    /// IDs, one call each; returns the time spent in the adds and in the removes.
    pub fn churn_round(&mut self, len: usize) -> (Duration, Duration) {
        let len = len.min(ROUND).min(self.ring.len());
        self.removed.clear();
        self.removed.extend(self.ring.iter().take(len).copied());
        self.added.clear();
        for &(_, node) in &self.removed {
            self.added.push((self.fresh.next_id(), node));
        }

        let start = Instant::now();
        for (id, node) in &self.added {
            black_box(
                self.tracker
                    .apply_delta(*node, std::slice::from_ref(id), &[]),
            );
        }
        let add = start.elapsed();
        let start = Instant::now();
        for (id, node) in &self.removed {
            black_box(
                self.tracker
                    .apply_delta(*node, &[], std::slice::from_ref(id)),
            );
        }
        let remove = start.elapsed();

        self.ring.drain(..len);
        self.ring.extend(self.added.iter().copied());
        // The move cursor keeps pointing at the same entry (or at the front, if that one left).
        self.move_cursor = self.move_cursor.saturating_sub(len);
        (add, remove)
    }

    /// Rounds until `ops` adds and `ops` removes are done; returns the total time of the adds
    /// and of the removes.
    pub fn churn(&mut self, ops: u64) -> (Duration, Duration) {
        let (mut add, mut remove) = (Duration::ZERO, Duration::ZERO);
        let mut done = 0u64;
        while done < ops {
            let len = (ops - done).min(ROUND as u64) as usize;
            let (a, r) = self.churn_round(len);
            add += a;
            remove += r;
            done += len as u64;
        }
        (add, remove)
    }

    /// One move: the ID under the cursor goes from its owner `k` to node `k + 1 mod NODES`.
    #[inline]
    pub fn move_one(&mut self) -> dispatcher_checksum::protocol::tracker::DeltaSummary {
        let cursor = self.move_cursor;
        self.move_cursor = if cursor + 1 == self.ring.len() {
            0
        } else {
            cursor + 1
        };
        let entry = &mut self.ring[cursor];
        let to = NodeId((entry.1 .0 + 1) % NODES);
        entry.1 = to;
        let id = entry.0;
        self.tracker.apply_delta(to, std::slice::from_ref(&id), &[])
    }

    /// `calls` moves, timed.
    pub fn moves(&mut self, calls: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..calls {
            black_box(self.move_one());
        }
        start.elapsed()
    }

    /// The ring positions of the oldest `len` IDs `node` owns (fewer if it owns fewer).
    fn positions_owned_by(&self, node: NodeId, len: usize) -> Vec<usize> {
        self.ring
            .iter()
            .enumerate()
            .filter(|(_, &(_, owner))| owner == node)
            .map(|(position, _)| position)
            .take(len)
            .collect()
    }

    /// The node the next batch works on, rotating so that every batch meets cold entries.
    fn next_batch_node(&mut self) -> NodeId {
        let node = NodeId(self.batch_node % NODES);
        self.batch_node = self.batch_node.wrapping_add(1);
        node
    }

    /// A node drained and refilled, batched: `len` of its IDs removed in one
    /// [`ExpectedSetTracker::apply_delta`] call (a node drained or removed: its dispatchers leave
    /// together), then given back in one call (the same dispatchers rescheduled there). Returns
    /// the time of each call; the ring ends as it began.
    pub fn drain_and_refill(&mut self, len: usize) -> (Duration, Duration) {
        let node = self.next_batch_node();
        let batch: Vec<DispatcherId> = self
            .positions_owned_by(node, len)
            .into_iter()
            .map(|position| self.ring[position].0)
            .collect();
        let start = Instant::now();
        let drained = black_box(self.tracker.apply_delta(node, &[], &batch));
        let drain = start.elapsed();
        let start = Instant::now();
        let refilled = black_box(self.tracker.apply_delta(node, &batch, &[]));
        let refill = start.elapsed();
        assert_eq!(
            (drained.removed, refilled.added),
            (batch.len(), batch.len()),
            "a drain or refill missed IDs: a library bug"
        );
        (drain, refill)
    }

    /// One rebalance batch: `len` IDs of node `k` move to node `k + 1 mod NODES` in one
    /// [`ExpectedSetTracker::apply_delta`] call (a scheduler's move batch). Returns its time.
    pub fn rebalance_batch(&mut self, len: usize) -> Duration {
        let from = self.next_batch_node();
        let to = NodeId((from.0 + 1) % NODES);
        let positions = self.positions_owned_by(from, len);
        let batch: Vec<DispatcherId> = positions.iter().map(|&p| self.ring[p].0).collect();
        let start = Instant::now();
        let moved = black_box(self.tracker.apply_delta(to, &batch, &[]));
        let elapsed = start.elapsed();
        assert_eq!(
            moved.moved,
            batch.len(),
            "a rebalance missed IDs: a library bug"
        );
        for position in positions {
            self.ring[position].1 = to;
        }
        elapsed
    }

    /// Panics unless the tracker holds exactly the ring: its size, and every node's expected
    /// fingerprint against the naive oracle of the IDs the ring gives that node.
    #[track_caller]
    pub fn check(&self, what: &str) {
        assert_eq!(
            self.tracker.dispatcher_count(),
            self.ring.len(),
            "{what}: the tracker's size is not the ring's"
        );
        let mut per_node = vec![Vec::new(); NODES as usize];
        for &(id, node) in &self.ring {
            per_node[node_index(node)].push(id);
        }
        for (node, ids) in per_node.iter().enumerate() {
            let oracle: Fingerprint = naive::fingerprint(DispatcherId::slice_words(ids)).into();
            assert_eq!(
                self.tracker.expected(NodeId(node as u32)),
                Some(oracle),
                "{what}: node {node}'s expected fingerprint disagrees with the naive oracle: a \
                 library bug"
            );
        }
    }
}

/// The bootstrap's full reset, timed: a fresh tracker given the whole [`assignment`] of
/// `dispatchers` in one [`ExpectedSetTracker::reset_full`] call (what a new maintainer does with
/// every node's bootstrap answer). Returns the call's time; panics if any node's expected
/// fingerprint disagrees with the naive oracle afterwards (checked outside the timed call).
pub fn time_bootstrap(per_node: &[Vec<DispatcherId>]) -> Duration {
    let nodes: Vec<NodeId> = (0..per_node.len() as u32).map(NodeId).collect();
    let mut tracker = ExpectedSetTracker::new(
        ChangefeedId::new(1, 2, "maintainer", "default"),
        Mode::Default,
        TrackerConfig::REFERENCE,
    );
    let start = Instant::now();
    let report = black_box(tracker.reset_full(
        1,
        &nodes,
        nodes.iter().copied().zip(per_node),
        Duration::ZERO,
    ));
    let elapsed = start.elapsed();
    assert!(report.duplicates.is_empty() && report.reassigned.is_empty());
    for (node, ids) in nodes.iter().zip(per_node) {
        let oracle: Fingerprint = naive::fingerprint(DispatcherId::slice_words(ids)).into();
        assert_eq!(
            tracker.expected(*node),
            Some(oracle),
            "bootstrap: {node}'s expected fingerprint disagrees with the naive oracle"
        );
    }
    elapsed
}

/// IDs per batch of the batched rows: a drained node's (about a 64th of 1M, rounded) and a
/// rebalance batch's.
pub const DRAIN_IDS: usize = 10_000;
/// IDs per rebalance batch.
pub const REBALANCE_IDS: usize = 1_000;

/// The batched operations per ID: the bootstrap reset of every tracked ID, a node's
/// [`DRAIN_IDS`] drained and refilled, and [`REBALANCE_IDS`] moved in one call; each the median
/// of `repetitions` calls, in nanoseconds per ID. The tracker's sets are checked against the
/// naive oracle afterwards.
pub fn batched_row(dispatchers: usize, repetitions: usize) -> BatchedRow {
    let repetitions = repetitions.max(1);
    let per_node = assignment(dispatchers.max(NODES as usize));
    let per_id = |time: Duration, ids: usize| time.as_secs_f64() * 1e9 / ids as f64;
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let total: usize = per_node.iter().map(Vec::len).sum();
    let bootstrap = median(
        (0..repetitions)
            .map(|_| per_id(time_bootstrap(&per_node), total))
            .collect(),
    );
    let mut steady = SteadyState::new(dispatchers);
    let drain_ids = DRAIN_IDS.min(dispatchers / NODES as usize);
    let rebalance_ids = REBALANCE_IDS.min(drain_ids);
    let (mut drains, mut refills, mut rebalances) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..repetitions {
        let (drain, refill) = steady.drain_and_refill(drain_ids);
        drains.push(per_id(drain, drain_ids));
        refills.push(per_id(refill, drain_ids));
        rebalances.push(per_id(steady.rebalance_batch(rebalance_ids), rebalance_ids));
    }
    steady.check("after the batches");
    BatchedRow {
        dispatchers: steady.len(),
        drain_ids,
        rebalance_ids,
        bootstrap_ns_per_id: bootstrap,
        drain_ns_per_id: median(drains),
        refill_ns_per_id: median(refills),
        rebalance_ns_per_id: median(rebalances),
    }
}

/// Measures move, add and remove; panics if the tracker's bookkeeping disagrees with the oracle
/// afterwards (a library bug, never a property of the machine).
pub fn maintainer_row(config: &MaintainerConfig) -> MaintainerRow {
    let mut steady = SteadyState::new(config.dispatchers);
    steady.check("reset_full");

    let moved = measure(&config.measure, || steady.move_one());
    steady.check("after the moves");

    let (added, removed) =
        measure_paired_rounds(&config.measure, ROUND, || steady.churn_round(ROUND));
    steady.check("after the adds and removes");

    let dispatchers = steady.len();
    drop(steady);
    MaintainerRow {
        dispatchers,
        nodes: NODES as usize,
        move_one: moved,
        add_one: added,
        remove_one: removed,
        batched: Some(batched_row(dispatchers, config.measure.repetitions.min(9))),
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

    #[test]
    fn batched_rows_are_measured_and_keep_the_sets() {
        let row = batched_row(6_400, 3);
        assert_eq!(row.dispatchers, 6_400);
        for value in [
            row.bootstrap_ns_per_id,
            row.drain_ns_per_id,
            row.refill_ns_per_id,
            row.rebalance_ns_per_id,
        ] {
            assert!(value > 0.0 && value.is_finite(), "{row:?}");
        }
    }

    #[test]
    fn the_ring_wraps_and_the_tracker_keeps_its_size_and_sets() {
        let mut steady = SteadyState::new(300);
        // More than a whole ring of moves and of churn: every original ID leaves.
        steady.moves(1_000);
        steady.check("moves");
        steady.churn(700);
        steady.check("churn");
        steady.moves(450);
        steady.churn(5);
        steady.check("both");
        assert_eq!(steady.len(), 300);
        let counts: Vec<usize> = (0..NODES)
            .map(|n| steady.tracker().ids_owned_by(NodeId(n)).len())
            .collect();
        assert_eq!(counts.iter().sum::<usize>(), 300);
    }
}
