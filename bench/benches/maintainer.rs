//! The maintainer side: `maintainer/<operation>/<size>`.
//! - `apply_delta-add`, `apply_delta-remove`, `apply_delta-move`: one dispatcher per call at a
//!   steady size, with 1M dispatchers tracked over 64 nodes, and 10M with
//!   `DCSUM_BENCH_SIZES=full` (a list there picks the sizes). The workload is the bench crate's
//!   [`SteadyState`](dispatcher_checksum_bench::maintainer::SteadyState), the one the main job
//!   measures: adds of fresh IDs balanced by removes of the oldest ones (a ring of every tracked
//!   ID), and moves of ring entries to the next node;
//! - `dependent-miss-floor/<size>`: one dependent load per op through a table of one cache line
//!   per tracked dispatcher, the memory-latency floor under a call that touches one cold slot;
//! - `reset-full/1M`: rebuilding the expected sets of 1M dispatchers over 64 nodes;
//! - `batch-bootstrap/<size>`, `batch-drain/<size>`, `batch-refill/<size>`,
//!   `batch-rebalance/<size>`: the batched calls, per ID (criterion's element throughput): a
//!   fresh tracker's `reset_full` of every ID; 10,000 of one node's IDs removed in one
//!   `apply_delta` call and added back in one; 1,000 moved to the next node in one call (the
//!   bench crate's `SteadyState` and `time_bootstrap`, which the main job's batched rows run too);
//! - `flush-dirty/64`: one update message per dirty node, 64 dirty nodes;
//! - `handle-ack/64`: one acknowledgement;
//! - `gate-observe/<nodes>` and `gate-decide/<nodes>`: the checkpoint gate over 64 and 1,024
//!   nodes (both modes: 128 and 2,048 reports).
//!
//! Each routine's result is checked against exact bookkeeping (the oracle fingerprint of what the
//! tracker should hold) outside the timed loop.

mod common;

use common::label;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dispatcher_checksum::kernels::naive;
use dispatcher_checksum::protocol::gate::{CheckpointGate, GateDecision};
use dispatcher_checksum::protocol::tracker::{AckOutcome, ExpectedSetTracker, TrackerConfig};
use dispatcher_checksum::protocol::{
    ChangefeedId, ChecksumAck, ChecksumHeartbeat, ChecksumState, ExpectedVersion, Mode, NodeId,
};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use dispatcher_checksum_bench::maintainer::{
    assignment, time_bootstrap, SteadyState, DRAIN_IDS, NODES, REBALANCE_IDS,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const DEFAULT_TRACKED: &[usize] = &[1_000_000];
/// Under `DCSUM_BENCH_SIZES=full` only: building a 10M tracker takes most of a minute on 2 cores.
const LONG_TRACKED: &[usize] = &[10_000_000];

/// The initial assignment as `reset_full` takes it, for the bulk benches.
struct Cluster {
    nodes: Vec<NodeId>,
    per_node: Vec<(NodeId, Vec<DispatcherId>)>,
}

impl Cluster {
    fn new(tracked: usize) -> Cluster {
        let nodes: Vec<NodeId> = (0..NODES).map(NodeId).collect();
        let per_node = nodes.iter().copied().zip(assignment(tracked)).collect();
        Cluster { nodes, per_node }
    }

    fn tracker(&self) -> ExpectedSetTracker {
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::new(1, 2, "bench", "default"),
            Mode::Default,
            TrackerConfig::REFERENCE,
        );
        self.reset(&mut tracker);
        tracker
    }

    fn reset(&self, tracker: &mut ExpectedSetTracker) -> usize {
        let expected = self
            .per_node
            .iter()
            .map(|(node, ids)| (*node, ids.as_slice()));
        tracker
            .reset_full(1, &self.nodes, expected, Duration::ZERO)
            .updates
            .len()
    }

    /// The oracle: the naive kernel over each node's list.
    fn expected(&self, node: NodeId) -> Fingerprint {
        let ids = &self.per_node[node.0 as usize].1;
        naive::fingerprint(DispatcherId::slice_words(ids)).into()
    }
}

fn check_all(cluster: &Cluster, tracker: &ExpectedSetTracker) {
    for &node in &cluster.nodes {
        assert_eq!(
            tracker.expected(node),
            Some(cluster.expected(node)),
            "{node}"
        );
    }
}

fn apply_delta(c: &mut Criterion) {
    let mut group = c.benchmark_group("maintainer");
    group.throughput(Throughput::Elements(1));
    for tracked in common::sizes("maintainer", DEFAULT_TRACKED, LONG_TRACKED) {
        let mut steady = SteadyState::new(tracked);
        steady.check("reset_full");

        // Each bench runs both halves of the churn (the size stays put) and reports one of them.
        group.bench_function(
            BenchmarkId::new("apply_delta-add", label(tracked)),
            |bench| bench.iter_custom(|iters| steady.churn(iters).0),
        );
        steady.check("after the adds");
        // Each bench starts from a fresh tracker, as the main job's section does: churn long
        // enough (about 10M adds and removes at 1M) leaves tombstones that make `hashbrown`
        // double the table inside a timed add, and a bench on that table measures another
        // workload (see `docs/performance.md`). At the default settings one bench churns less.
        steady = SteadyState::new(tracked);
        group.bench_function(
            BenchmarkId::new("apply_delta-remove", label(tracked)),
            |bench| bench.iter_custom(|iters| steady.churn(iters).1),
        );
        steady.check("after the removes");
        steady = SteadyState::new(tracked);
        group.bench_function(
            BenchmarkId::new("apply_delta-move", label(tracked)),
            |bench| bench.iter_custom(|iters| steady.moves(iters)),
        );
        steady.check("after the moves");

        // The floor under one call: a chain of dependent loads, one per op, through a table with a
        // cache line per tracked dispatcher (the tracker's table is 44 bytes per dispatcher, so
        // both are far larger than the caches). A call that must touch one cold slot cannot be
        // faster than this on the same machine; `apply_delta-*` over this is how many misses (and
        // page walks) a call costs.
        let mut chain = MissChain::new(tracked);
        group.bench_function(
            BenchmarkId::new("dependent-miss-floor", label(tracked)),
            |bench| bench.iter_custom(|iters| chain.walk(iters)),
        );
        chain.check();
    }
    group.finish();
}

/// One cyclic permutation over `lines` cache lines (Sattolo's algorithm), walked one dependent
/// load at a time.
struct MissChain {
    next: Vec<CacheLine>,
    at: usize,
    steps: u64,
}

#[repr(align(64))]
#[derive(Clone, Copy)]
struct CacheLine([u64; 8]);

impl MissChain {
    fn new(lines: usize) -> MissChain {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut order: Vec<usize> = (0..lines).collect();
        for i in (1..lines).rev() {
            order.swap(i, rng.random_range(0..i));
        }
        let mut next = vec![CacheLine([0; 8]); lines];
        for (i, &line) in order.iter().enumerate() {
            next[line].0[0] = order[(i + 1) % lines] as u64;
        }
        MissChain {
            next,
            at: 0,
            steps: 0,
        }
    }

    fn walk(&mut self, steps: u64) -> Duration {
        let mut at = self.at;
        let start = Instant::now();
        for _ in 0..steps {
            at = self.next[at].0[0] as usize;
        }
        let elapsed = start.elapsed();
        self.at = black_box(at);
        self.steps += steps;
        elapsed
    }

    /// The walk is one cycle through every line, and it ended where counting says it must.
    fn check(&self) {
        let lines = self.next.len();
        let (mut at, mut length) = (self.next[0].0[0] as usize, 1);
        while at != 0 {
            at = self.next[at].0[0] as usize;
            length += 1;
        }
        assert_eq!(length, lines, "the chain is one cycle over every line");
        let mut expected = 0;
        for _ in 0..self.steps % lines as u64 {
            expected = self.next[expected].0[0] as usize;
        }
        assert_eq!(self.at, expected, "the timed walk followed the chain");
    }
}

/// The batched calls at each size (see the module docs), per ID.
fn batched(c: &mut Criterion) {
    let mut group = c.benchmark_group("maintainer");
    group.sample_size(10);
    for tracked in common::sizes("maintainer", DEFAULT_TRACKED, LONG_TRACKED) {
        let per_node = assignment(tracked);
        group.throughput(Throughput::Elements(tracked as u64));
        group.bench_function(
            BenchmarkId::new("batch-bootstrap", label(tracked)),
            |bench| bench.iter_custom(|iters| (0..iters).map(|_| time_bootstrap(&per_node)).sum()),
        );
        drop(per_node);
        let mut steady = SteadyState::new(tracked);
        let drain_ids = DRAIN_IDS.min(tracked / NODES as usize);
        group.throughput(Throughput::Elements(drain_ids as u64));
        group.bench_function(BenchmarkId::new("batch-drain", label(tracked)), |bench| {
            bench.iter_custom(|iters| {
                (0..iters)
                    .map(|_| steady.drain_and_refill(drain_ids).0)
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("batch-refill", label(tracked)), |bench| {
            bench.iter_custom(|iters| {
                (0..iters)
                    .map(|_| steady.drain_and_refill(drain_ids).1)
                    .sum()
            })
        });
        let rebalance_ids = REBALANCE_IDS.min(drain_ids);
        group.throughput(Throughput::Elements(rebalance_ids as u64));
        group.bench_function(
            BenchmarkId::new("batch-rebalance", label(tracked)),
            |bench| {
                bench.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| steady.rebalance_batch(rebalance_ids))
                        .sum()
                })
            },
        );
        steady.check("after the batched calls");
    }
    group.finish();
}

fn bulk(c: &mut Criterion) {
    let mut group = c.benchmark_group("maintainer");
    let cluster = Cluster::new(1_000_000);
    let mut tracker = cluster.tracker();

    group.sample_size(10);
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function(BenchmarkId::new("reset-full", "1M"), |bench| {
        bench.iter(|| cluster.reset(&mut tracker))
    });
    check_all(&cluster, &tracker);

    // 64 dirty nodes: one move into each node marks it (and the source) dirty, untimed.
    group.sample_size(20);
    group.throughput(Throughput::Elements(u64::from(NODES)));
    let probes: Vec<DispatcherId> = cluster
        .nodes
        .iter()
        .map(|&n| cluster.per_node[n.0 as usize].1[0])
        .collect();
    let mut round = 0usize;
    let mut dirty = |tracker: &mut ExpectedSetTracker| {
        round += 1;
        for (i, node) in cluster.nodes.iter().enumerate() {
            // Probe i goes to node i+round, so every node receives one (and every node is dirty).
            let probe = probes[(i + round) % probes.len()];
            tracker.apply_delta(*node, &[probe], &[]);
        }
    };
    dirty(&mut tracker);
    let updates = tracker.flush_dirty(Duration::from_secs(1));
    assert_eq!(updates.len(), NODES as usize);
    for update in &updates {
        assert_eq!(tracker.expected(update.node), Some(update.fingerprint));
    }
    group.bench_function(BenchmarkId::new("flush-dirty", NODES), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                dirty(&mut tracker);
                let start = Instant::now();
                black_box(tracker.flush_dirty(Duration::from_secs(1)));
                total += start.elapsed();
            }
            total
        })
    });

    group.throughput(Throughput::Elements(1));
    let node = NodeId(5);
    let seq = tracker.seq(node).expect("tracked node");
    assert_eq!(
        tracker.handle_ack(ack(node, 1, Mode::Default, seq)),
        AckOutcome::Advanced
    );
    group.bench_function(BenchmarkId::new("handle-ack", NODES), |bench| {
        bench.iter(|| tracker.handle_ack(ack(black_box(node), 1, Mode::Default, seq)))
    });
    assert_eq!(tracker.acked_seq(node), Some(seq));
    group.finish();
}

fn gate(c: &mut Criterion) {
    let mut group = c.benchmark_group("maintainer");
    for nodes in [64u32, 1024] {
        let required: Vec<(NodeId, Mode)> = (0..nodes)
            .flat_map(|n| Mode::ALL.map(|mode| (NodeId(n), mode)))
            .collect();
        let mut gate = CheckpointGate::new();
        for (i, &(node, mode)) in required.iter().enumerate() {
            gate.observe(&match_heartbeat(node, mode, 1, 1_000 + i as u64));
        }
        assert_eq!(
            gate.decide(&required),
            GateDecision::Advance { checkpoint: 1_000 }
        );
        group.throughput(Throughput::Elements(required.len() as u64));
        group.bench_with_input(BenchmarkId::new("gate-decide", nodes), &required, |b, r| {
            b.iter(|| gate.decide(black_box(r)))
        });
        let mut seq = 1;
        group.bench_with_input(
            BenchmarkId::new("gate-observe", nodes),
            &required,
            |b, r| {
                b.iter(|| {
                    seq += 1;
                    for &(node, mode) in r {
                        gate.observe(&match_heartbeat(node, mode, seq, 2_000));
                    }
                })
            },
        );
        // A filter that skips `gate-observe` leaves the first heartbeats' checkpoint.
        let checkpoint = if seq > 1 { 2_000 } else { 1_000 };
        assert_eq!(gate.decide(&required), GateDecision::Advance { checkpoint });
    }
    group.finish();
}

criterion_group!(name = benches; config = common::criterion(); targets = apply_delta, batched, bulk, gate);
criterion_main!(benches);

/// Heartbeat `seq` of node process 1: MATCH against epoch 1 seq 1 with `watermark`.
fn match_heartbeat(node: NodeId, mode: Mode, seq: u64, watermark: u64) -> ChecksumHeartbeat {
    ChecksumHeartbeat {
        node,
        incarnation: 1,
        mode,
        seq,
        state: ChecksumState::Match,
        state_seq: 1,
        watermark: Some(watermark),
        verified_against: ExpectedVersion { epoch: 1, seq: 1 },
        actual: None,
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
