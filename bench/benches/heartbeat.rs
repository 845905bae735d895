//! One heartbeat's verification on a node holding N dispatchers (10K, 100K, 1M by default, 10M
//! with `DCSUM_BENCH_SIZES=full`; a list there picks others), under each strategy: `heartbeat/<strategy>/<N>`:
//! - `recompute-std-map`, `recompute-ahash-map`: walk the hash-map dispatcher store;
//! - `columnar-1t`, `columnar-parallel`, `columnar-auto`: the masked kernel over the columnar
//!   store (widest single-thread kernel, rayon, the automatic choice);
//! - `incremental-verify`: the verifier's O(1) `verify`.
//!
//! And the whole loop under churn at 1M dispatchers, `heartbeat-churn/<strategy>/<C>`: C lifecycle
//! changes applied to the node's bookkeeping, then the heartbeat (C = 0, 100, 10,000).
//! Throughput: dispatchers, and 17 bytes (ID + state byte) per dispatcher.

mod common;

use common::{label, INCLUDED};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dispatcher_checksum::protocol::verifier::{ActualSet, DispatcherSetVerifier, VerifierConfig};
use dispatcher_checksum::protocol::{ChecksumState, Mode};
use dispatcher_checksum::{DispatcherId, Fingerprint, Kernel};
use dispatcher_checksum_bench::churn::{
    Churn, ChurnTarget, ColumnarRecompute, Incremental, MapRecompute,
};
use dispatcher_checksum_bench::experiments::oracle;
use dispatcher_checksum_bench::fixtures::{
    synthetic_dispatchers, AhashDispatcherStore, ColumnarStore, Dispatcher, StdDispatcherStore,
};
use std::hint::black_box;
use std::time::Duration;

const DEFAULT_SIZES: &[usize] = &[10_000, 100_000, 1_000_000];
/// Under `DCSUM_BENCH_SIZES=full` only: building and walking the 10M stores dominates the run.
const LONG_SIZES: &[usize] = &[10_000_000];
const CHURN_DISPATCHERS: usize = 1_000_000;
const CHURN_CHANGES: &[usize] = &[0, 100, 10_000];

fn throughput(n: usize) -> Throughput {
    Throughput::ElementsAndBytes {
        elements: n as u64,
        bytes: 17 * n as u64,
    }
}

fn heartbeat(c: &mut Criterion) {
    let mut group = c.benchmark_group("heartbeat");
    for n in common::sizes("heartbeat", DEFAULT_SIZES, LONG_SIZES) {
        // A 10M walk takes a good fraction of a second: criterion's minimum of 10 samples.
        group.sample_size(if n >= 5_000_000 { 10 } else { 20 });
        group.throughput(throughput(n));
        let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(n, 1).collect();
        let expected = oracle(dispatchers.iter().map(|d| (&d.id, d.state)));
        {
            let store: StdDispatcherStore = dispatchers.iter().cloned().collect();
            assert_eq!(store.recompute_fingerprint(INCLUDED), expected);
            group.bench_function(BenchmarkId::new("recompute-std-map", label(n)), |b| {
                b.iter(|| black_box(&store).recompute_fingerprint(INCLUDED))
            });
        }
        {
            let store: AhashDispatcherStore = dispatchers.iter().cloned().collect();
            assert_eq!(store.recompute_fingerprint(INCLUDED), expected);
            group.bench_function(BenchmarkId::new("recompute-ahash-map", label(n)), |b| {
                b.iter(|| black_box(&store).recompute_fingerprint(INCLUDED))
            });
        }
        let columnar: ColumnarStore = dispatchers.iter().map(|d| (d.id, d.state)).collect();
        for (name, kernel) in [
            ("columnar-1t", Some(Kernel::widest_single_thread())),
            ("columnar-parallel", Some(Kernel::Parallel)),
            ("columnar-auto", None),
        ] {
            let run = |store: &ColumnarStore| match kernel {
                Some(kernel) => store
                    .fingerprint_with(kernel, INCLUDED)
                    .expect("available kernel"),
                None => store.fingerprint(INCLUDED),
            };
            assert_eq!(run(&columnar), expected, "{name}");
            group.bench_function(BenchmarkId::new(name, label(n)), |b| {
                b.iter(|| run(black_box(&columnar)))
            });
        }
        drop(columnar);
        let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
        for d in &dispatchers {
            verifier.actual_set_mut().on_dispatcher_added(d.id, d.state);
        }
        assert_eq!(verifier.actual_set().actual_fingerprint(), expected);
        verifier.apply_update(1, 1, expected);
        let now = Duration::from_secs(1);
        assert_eq!(verifier.verify(now).state, ChecksumState::Match);
        group.bench_function(BenchmarkId::new("incremental-verify", label(n)), |b| {
            b.iter(|| verifier.verify(black_box(now)))
        });
        assert_eq!(verifier.verify(now).state, ChecksumState::Match);
    }
    group.finish();
}

fn store_oracle(store: &AhashDispatcherStore) -> Fingerprint {
    oracle(store.iter().map(|d| (&d.id, d.state)))
}

/// Checks `target` against the oracle after two intervals, then times intervals.
fn bench_churn(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    changes: usize,
    long_lived: &[DispatcherId],
    target: &mut dyn ChurnTarget,
) {
    let mut churn = Churn::new(changes, long_lived.to_vec(), target);
    for _ in 0..2 {
        let got = churn.interval(target);
        assert_eq!(
            got,
            store_oracle(target.store()),
            "{name}, {changes} changes"
        );
    }
    group.bench_function(BenchmarkId::new(name, changes), |b| {
        b.iter(|| churn.interval(target))
    });
    let got = churn.interval(target);
    assert_eq!(
        got,
        store_oracle(target.store()),
        "{name}, {changes} changes"
    );
}

fn churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("heartbeat-churn");
    group.sample_size(10);
    group.throughput(throughput(CHURN_DISPATCHERS));
    let store: AhashDispatcherStore = synthetic_dispatchers(CHURN_DISPATCHERS, 2).collect();
    let long_lived: Vec<DispatcherId> = store
        .iter()
        .filter(|d| INCLUDED.contains(d.state))
        .map(|d| d.id)
        .take(1 << 16)
        .collect();
    for &changes in CHURN_CHANGES {
        bench_churn(
            &mut group,
            "recompute-map",
            changes,
            &long_lived,
            &mut MapRecompute(store.clone()),
        );
        let columnar: ColumnarStore = store.iter().map(|d| (d.id, d.state)).collect();
        bench_churn(
            &mut group,
            "recompute-columnar",
            changes,
            &long_lived,
            &mut ColumnarRecompute(store.clone(), columnar),
        );
        let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
        for d in store.iter() {
            verifier.actual_set_mut().on_dispatcher_added(d.id, d.state);
        }
        bench_churn(
            &mut group,
            "incremental",
            changes,
            &long_lived,
            &mut Incremental {
                store: store.clone(),
                verifier,
                now: Duration::ZERO,
            },
        );
    }
    group.finish();
}

criterion_group!(name = benches; config = common::criterion(); targets = heartbeat, churn);
criterion_main!(benches);
