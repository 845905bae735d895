//! Bytes per dispatcher, measured with a counting global allocator: the maintainer's tracker
//! (1M dispatchers over 64 nodes) and the node's incremental verifier (1M dispatchers), with the
//! node-side stores beside them for scale. `DCSUM_BENCH_SIZES=full` adds 10M; a list there
//! replaces the sizes.
//!
//! Not a criterion bench (there is nothing to time): `cargo bench --bench memory` prints a
//! Markdown table. Every structure's fingerprint is checked against the naive oracle, so the
//! bytes counted belong to a structure that holds what it should.

mod common;

use common::INCLUDED;
use dispatcher_checksum::protocol::tracker::{ExpectedSetTracker, TrackerConfig};
use dispatcher_checksum::protocol::verifier::{
    ActualSet, DispatcherSetVerifier, RecomputeActualSet, VerifierConfig,
};
use dispatcher_checksum::protocol::{ChangefeedId, Mode, NodeId};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use dispatcher_checksum_bench::experiments::oracle;
use dispatcher_checksum_bench::fixtures::{
    synthetic_dispatchers, AhashDispatcherStore, ColumnarStore, Dispatcher, StdDispatcherStore,
};
use dispatcher_checksum_bench::measure::format_count;
use dispatcher_checksum_bench::memory::{live_bytes, CountingAllocator};
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

const NODES: u32 = 64;

fn row(name: &str, n: usize, bytes: usize) {
    println!(
        "| {name} | {} | {:.1} MB | {:.1} |",
        format_count(n),
        bytes as f64 / 1e6,
        bytes as f64 / n as f64
    );
}

fn main() {
    println!(
        "| structure | dispatchers | live heap | bytes per dispatcher |\n|---|---:|---:|---:|"
    );
    for n in common::sizes("memory", &[1_000_000], &[10_000_000]) {
        let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(n, 5).collect();
        let included = oracle(dispatchers.iter().map(|d| (&d.id, d.state)));
        let all: Fingerprint = dispatchers.iter().map(|d| d.id).collect();

        let nodes: Vec<NodeId> = (0..NODES).map(NodeId).collect();
        let mut per_node: Vec<(NodeId, Vec<DispatcherId>)> =
            nodes.iter().map(|&node| (node, Vec::new())).collect();
        for (i, d) in dispatchers.iter().enumerate() {
            per_node[i % NODES as usize].1.push(d.id);
        }
        let (tracker, bytes) = live_bytes(&ALLOCATOR, || {
            let mut tracker = ExpectedSetTracker::new(
                ChangefeedId::new(1, 2, "bench", "default"),
                Mode::Default,
                TrackerConfig::REFERENCE,
            );
            let report = tracker.reset_full(
                1,
                &nodes,
                per_node.iter().map(|(node, ids)| (*node, ids.as_slice())),
                Duration::ZERO,
            );
            assert_eq!(report.updates.len(), NODES as usize);
            tracker
        });
        let tracked = nodes
            .iter()
            .filter_map(|&node| tracker.expected(node))
            .fold(Fingerprint::EMPTY, Fingerprint::merge);
        assert_eq!(
            tracked, all,
            "the tracker's fingerprints disagree with the oracle"
        );
        assert_eq!(tracker.dispatcher_count(), n);
        row(
            &format!("maintainer: ExpectedSetTracker ({NODES} nodes)"),
            n,
            bytes,
        );
        drop(tracker);
        drop(per_node);

        let (verifier, bytes) = live_bytes(&ALLOCATOR, || {
            let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
            for d in &dispatchers {
                verifier.actual_set_mut().on_dispatcher_added(d.id, d.state);
            }
            verifier
        });
        assert_eq!(verifier.actual_set().actual_fingerprint(), included);
        row("node: incremental verifier", n, bytes);
        drop(verifier);

        let (recompute, bytes) = live_bytes(&ALLOCATOR, || {
            let mut set = RecomputeActualSet::new();
            for d in &dispatchers {
                set.on_dispatcher_added(d.id, d.state);
            }
            set
        });
        assert_eq!(recompute.actual_fingerprint(), included);
        row("node: recompute actual set", n, bytes);
        drop(recompute);

        let (columnar, bytes) = live_bytes(&ALLOCATOR, || {
            dispatchers
                .iter()
                .map(|d| (d.id, d.state))
                .collect::<ColumnarStore>()
        });
        assert_eq!(columnar.fingerprint(INCLUDED), included);
        row("node: columnar store (IDs + states + index)", n, bytes);
        drop(columnar);

        let (store, bytes) = live_bytes(&ALLOCATOR, || {
            dispatchers
                .iter()
                .cloned()
                .collect::<AhashDispatcherStore>()
        });
        assert_eq!(store.recompute_fingerprint(INCLUDED), included);
        row("node: dispatcher store, ahash map of objects", n, bytes);
        drop(store);

        let (store, bytes) = live_bytes(&ALLOCATOR, || {
            dispatchers.iter().cloned().collect::<StdDispatcherStore>()
        });
        assert_eq!(store.recompute_fingerprint(INCLUDED), included);
        row("node: dispatcher store, std map of objects", n, bytes);
    }
}
